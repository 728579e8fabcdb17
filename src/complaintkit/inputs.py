"""Input formats: what a plugin registers so that ``complaintkit import`` reads another kind of
file (another CRM's export, a spreadsheet dialect), through the ``register_input_formats`` hook.

The core only defines the contract. The readers for CSV, TSV, JSON, JSON Lines and Excel, the
column mappings and the ``import`` command are the ``complaintkit_importing`` plugin's; it turns
the records a format yields into complaints (mapping, values, history, fingerprints), so a
format only has to say what is in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .i18n import Names

__all__ = ["InputFormat", "RejectRecord"]

#: What a format calls for a record it cannot read: ``reject(number, reason, raw)``, where
#: ``number`` counts in the format's :attr:`~InputFormat.unit` and ``raw`` is what was read of
#: the record (kept in the rejects file, so nothing is lost). Reading goes on after it.
RejectRecord = Callable[[int, str, Mapping[str, Any]], None]


@runtime_checkable
class InputFormat(Protocol):
    """A kind of file complaints can be imported from.

    ``name`` is what ``import --format`` takes (unique across plugins); ``names`` labels it in
    both languages; ``suffixes`` are the file name endings it is recognised by (with the dot,
    lower case; the first format registered wins an ending two claim); ``unit`` is what a
    record's number counts (``line``, ``row`` or ``item``), as messages and the rejects file
    say it.
    """

    @property
    def name(self) -> str:
        """What ``import --format`` takes, e.g. ``crm-x``."""
        ...

    @property
    def names(self) -> Names:
        """The format's name for people, in English and Chinese."""
        ...

    @property
    def suffixes(self) -> tuple[str, ...]:
        """File name endings, with the dot and in lower case, e.g. ``(".crmx",)``."""
        ...

    @property
    def unit(self) -> str:
        """What a record's number counts: ``line``, ``row`` or ``item``."""
        ...

    def read(
        self, path: Path, encoding: str, reject: RejectRecord
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """The records of the file at ``path``, in order, as ``(number, record)``: ``record``
        maps a column name to its value (text, a number, a list of texts for tags, or None).

        ``encoding`` is the one ``--encoding`` gave, for a text format. A record that cannot
        be read goes to ``reject`` and reading goes on; a file that cannot be read at all
        raises :class:`~complaintkit.errors.ConfigError` naming it. The records are read as
        they are iterated, so a large file is never held in memory.
        """
        ...
