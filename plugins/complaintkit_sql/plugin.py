"""Registers the SQL store for ``sqlite://``, ``postgresql://`` and ``mysql://`` URLs.

Importing this module stays cheap and never fails: SQLAlchemy and the drivers are imported only
when a store is opened. Without SQLAlchemy the backend still registers, and opening a store
says which extra to install (``pip install 'complaintkit[postgres]'``), instead of the host
reporting that nobody serves the scheme.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from complaintkit import hookimpl
from complaintkit.errors import ConfigError
from complaintkit.storage import StorageBackend, Store, parse_url

if TYPE_CHECKING:
    import click

__all__ = ["SCHEMES", "open_store", "register_commands", "register_storage_backends"]

#: URL schemes served (``postgres`` is an alias of ``postgresql``; ``mariadb`` of ``mysql``).
SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")

_EXTRA = {"sqlite": "sql", "postgresql": "postgres", "postgres": "postgres"}


def open_store(url: str, options: Mapping[str, Any]) -> Store:
    """Open a SQL store; ``options`` is the ``[storage]`` table of the configuration.

    The store reads ``list`` and ``show`` without importing SQLAlchemy
    (:class:`~complaintkit_sql.light.LightSQLStore`); SQLAlchemy is still required, for
    everything else."""
    import importlib.util

    if importlib.util.find_spec("sqlalchemy") is None:
        scheme, _ = parse_url(url)
        extra = _EXTRA.get(scheme, "mysql")
        raise ConfigError(
            f"{scheme}:// stores need SQLAlchemy, which is not installed; "
            f"install it with: pip install 'complaintkit[{extra}]'"
        )
    from .light import LightSQLStore
    from .options import SQLOptions

    return LightSQLStore(url, options=SQLOptions.from_mapping(options))


@hookimpl
def register_storage_backends(register: Callable[[StorageBackend], None]) -> None:
    """Serve SQL URLs with :class:`complaintkit_sql.store.SQLStore`."""
    register(
        StorageBackend(
            name="sql",
            schemes=SCHEMES,
            open=open_store,
            description=(
                "SQLite, PostgreSQL or MySQL/MariaDB through SQLAlchemy: a versioned schema, "
                "queries and reports in the database, safe for many processes and machines"
            ),
        )
    )


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit db status|upgrade``: the schema of a SQL store."""
    from .cli import db_group

    cli.add_command(db_group)
