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

import hashlib
import shlex
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from .config import Config
    from .desk import Desk
    from .host import PluginHost
    from .storage import Store

__all__ = [
    "INTERRUPTED",
    "OUTPUT_FORMATS",
    "SPLITS",
    "CommandContext",
    "ProgressBar",
    "in_split",
    "key_value",
    "label_mapping",
    "labelled_file_options",
    "output_option",
    "quietly",
    "same_command",
    "split_option",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

#: The output formats commands share, with the same names everywhere (see
#: :func:`complaintkit.display.write_records`): ``table`` for people, ``json``, ``jsonl``,
#: ``csv`` (formula-like texts neutralised) and ``csv-raw``.
OUTPUT_FORMATS = ("table", "json", "jsonl", "csv", "csv-raw")

_HELP = {
    "table": "aligned columns for people",
    "json": "JSON",
    "jsonl": "one JSON object a line",
    "csv": "CSV, a text a spreadsheet would run as a formula written with a leading apostrophe",
    "csv-raw": "CSV with every text exactly as stored",
}


def output_option(*formats: str, default: str = "table") -> Callable[[F], F]:
    """The ``--format`` option of a command that prints records or results, passed to the
    command as ``fmt``: ``formats`` (default: all of :data:`OUTPUT_FORMATS`) under the names
    every command uses. Shell completion offers them."""
    import click

    chosen = formats or OUTPUT_FORMATS
    unknown = [f for f in chosen if f not in OUTPUT_FORMATS]
    if unknown:
        raise ValueError(f"unknown output formats {unknown}; known: {OUTPUT_FORMATS}")
    help_text = "; ".join(f"{f}: {_HELP[f]}" for f in chosen) + "."
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(chosen),
        default=default,
        show_default=True,
        help=help_text,
    )


def labelled_file_options(func: F) -> F:
    """The options that say how to read a labelled file, the same for every command that reads
    one (``evaluate``, ``train``): ``--preset`` (a layout a plugin registered with
    ``register_labelled_datasets``), ``--text-column`` (repeatable, passed as
    ``text_columns``), ``--label-column`` and ``--map GOLD=LABEL`` (repeatable, passed as
    ``maps``; turn them into a mapping with :func:`label_mapping`)."""
    import click

    options = [
        click.option(
            "--preset", help="A known labelled data-set layout (airline, asap, chezhiwang, cfpb)."
        ),
        click.option(
            "--text-column",
            "text_columns",
            multiple=True,
            help="Column holding the text (repeatable: joined by a newline).",
        ),
        click.option("--label-column", help="Column holding the gold label."),
        click.option(
            "--map",
            "maps",
            multiple=True,
            metavar="GOLD=LABEL",
            help="Translate a gold value to one of the scheme's labels (repeatable); "
            "values not listed are skipped when any --map is given.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


#: The parts of a labelled file ``--split`` chooses between (see :func:`in_split`).
SPLITS = ("train", "test")


def in_split(text: str, split: str) -> bool:
    """Whether ``text`` falls in ``split`` of the stated train/test split of a labelled file:
    ``test`` is the fifth of texts whose ``int(sha1(text stripped, lower-cased)[:8], 16) % 5
    == 0``, ``train`` the other four fifths. The part depends on the text alone, so a file
    split for ``train`` and again for ``evaluate`` gives two parts that never share a text."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    digest = hashlib.sha1(text.strip().lower().encode("utf-8")).hexdigest()
    return (int(digest[:8], 16) % 5 == 0) == (split == "test")


def split_option(func: F) -> F:
    """The ``--split train|test`` option of the commands that read a labelled file (passed as
    ``split``, None when not given): keep only that part of the rows (:func:`in_split`), so
    ``train --split train`` and ``evaluate --split test`` score a model on texts it never
    saw."""
    import click

    return click.option(
        "--split",
        type=click.Choice(SPLITS),
        help="Use only one part of the file's rows, by a hash of each text: test = the fifth "
        "whose int(sha1(text stripped, lower-cased)[:8], 16) % 5 == 0, train = the rest. "
        "Train on train, evaluate on test.",
    )(func)


def key_value(item: str, option: str, shape: str = "KEY=VALUE") -> tuple[str, str]:
    """A ``KEY=VALUE`` value given to ``option``: the key stripped and the value as given; a
    value without ``=`` or without a key is a usage error naming it (spelt as ``shape``)."""
    import click

    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"{item!r} is not {shape}", param_hint=option)
    return key.strip(), value


def label_mapping(maps: tuple[str, ...]) -> dict[str, str] | None:
    """The ``--map GOLD=LABEL`` values as a mapping (None when there are none); a value
    without ``=`` or without a gold side is a usage error naming it."""
    mapping: dict[str, str] = {}
    for item in maps:
        gold, label = key_value(item, "--map", "GOLD=LABEL")
        mapping[gold] = label.strip()
    return mapping or None


def same_command() -> str:
    """The command line that was run, quoted for a shell: what a command stopped half-way
    (Ctrl-C, a full disk) tells people to run again."""
    return shlex.join(["complaintkit", *sys.argv[1:]])


def quietly(read: Callable[[], T]) -> T | None:
    """``read()`` with Ctrl-C ignored meanwhile (a second Ctrl-C would only lose the message
    being prepared); None if it fails (the message matters more than why counting failed)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return read()
    except Exception:  # noqa: BLE001 - see the docstring
        return None
    finally:
        signal.signal(signal.SIGINT, previous)


class ProgressBar(Protocol):
    """A progress line being drawn (see :meth:`CommandContext.progress`)."""

    def update(self, n: int) -> None:
        """``n`` more items done."""
        ...


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

    def progress(self, label: str, length: int | None) -> AbstractContextManager[ProgressBar]:
        """A progress line for ``length`` items (None: not known), on standard error when it
        is a terminal and silent otherwise: ``with app.progress("importing", n) as bar:``
        then ``bar.update(1)`` per item. It shows the time left from the recent rate."""
        ...
