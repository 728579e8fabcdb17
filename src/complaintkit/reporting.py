"""Reports as data: a reporter produces tables; renderers (table, JSON, CSV) present them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from .classification import ClassificationScheme
from .i18n import Names
from .storage import ComplaintFilter, Store

__all__ = ["Column", "Report", "ReportContext", "Reporter", "Table", "label_names"]


@attrs.frozen
class Column:
    """A column of a report table: a stable key and its names in both languages."""

    key: str
    names: Names


@attrs.frozen
class Table:
    """A titled table of rows; each row has one value per column."""

    key: str
    names: Names
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def as_dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column key."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@attrs.frozen
class Report:
    """The result of running a reporter: a title, a few headline figures, tables."""

    name: str
    names: Names
    figures: tuple[tuple[Names, Any], ...] = ()
    tables: tuple[Table, ...] = ()


@attrs.frozen
class ReportContext:
    """What a reporter may need besides the store: the schemes (for label names) and language."""

    schemes: Mapping[str, ClassificationScheme]
    lang: str = "en"


@runtime_checkable
class Reporter(Protocol):
    """What a reporting plugin registers. ``run`` must not change the store."""

    name: str
    names: Names
    description: str

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Compute the report over the complaints matching ``flt``."""
        ...


def label_names(scheme: ClassificationScheme | None, label: str | None) -> Names:
    """Bilingual names for a label value (the raw value when the scheme does not know it)."""
    if label is None:
        return Names("(none)", "（无）")
    if scheme is not None:
        for item in scheme.labels:
            if item.name == label:
                return item.names
    return Names(label, label)
