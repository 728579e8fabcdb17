"""What a plugin's CLI command gets: the invocation's context object.

A plugin adds commands through the ``register_commands`` hook. complaintkit's command line
passes each command the same object its own commands use, with the global options already
applied (``--store``, ``--config``, ``--lang``, ``--actor``, ``--create``); take it with
``@click.pass_obj`` and annotate it with :class:`CommandContext`::

    import click
    from complaintkit import CommandContext, hookimpl

    @click.command("archive")
    @click.pass_obj
    def archive(app: CommandContext) -> None:
        for complaint in app.store.find():
            ...

    @hookimpl
    def register_commands(cli):
        cli.add_command(archive)

Everything is opened on first use and closed when the command ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .config import Config
    from .desk import Desk
    from .host import PluginHost
    from .storage import Store

__all__ = ["CommandContext"]


class CommandContext(Protocol):
    """The object ``@click.pass_obj`` hands a command (complaintkit's and plugins' alike)."""

    @property
    def config(self) -> Config:
        """The configuration in force (options > environment > ``complaintkit.toml``)."""
        ...

    @property
    def lang(self) -> str:
        """The display language, ``en`` or ``zh``."""
        ...

    @property
    def host(self) -> PluginHost:
        """The plugin host (plugin failures already reported on standard error)."""
        ...

    @property
    def store(self) -> Store:
        """The configured store; one that does not exist is refused with the ``init`` command
        that creates it, unless ``--create`` was given."""
        ...

    @property
    def desk(self) -> Desk:
        """A desk on :attr:`store`, acting for ``--actor``."""
        ...

    def open_store(self, url: str | None = None, *, create: bool | None) -> Store:
        """Open ``url`` (default: the configured store): created with ``create``, refused when
        missing with ``create=False``, opened as it is with ``create=None``."""
        ...

    def use_store(self, store: Store) -> None:
        """Make ``store`` the command's store (closed when the command ends)."""
        ...
