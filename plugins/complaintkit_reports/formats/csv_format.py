"""The CSV format: every table of the report in one long CSV, values raw, texts that a
spreadsheet would read as a formula neutralised (``csv``) or left as they are (``csv-raw``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from complaintkit.display import csv_cell, csv_lines
from complaintkit.i18n import Names

if TYPE_CHECKING:
    from complaintkit.reporting import Report, Table

__all__ = ["CsvFormat"]


def _raw(value: Any, raw: bool) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return csv_cell(value, raw=raw)


class CsvFormat:
    """One CSV for all tables: ``table`` (its key; ``SECTION/key`` inside a section), ``item``
    (the table's first column) and one column per other column key met, in order of
    appearance. Values are raw: a share is ``0.25``, a duration is seconds. A text that
    starts like a formula (``=``, ``+``, ``-``, ``@``…) gets a leading apostrophe so that a
    spreadsheet shows it instead of running it; ``CsvFormat(raw=True)``, registered as
    ``csv-raw``, writes texts exactly as they are, for programs that read the file."""

    name = "csv"
    names = Names("CSV", "CSV")
    extensions: tuple[str, ...] = (".csv",)
    binary = False
    description = "every table in one CSV (table, item, then one column per value key)"

    def __init__(self, *, raw: bool = False) -> None:
        self.raw = raw
        if raw:
            # Never chosen by a file ending: a .csv file gets the safe format.
            self.name = "csv-raw"
            self.names = Names("CSV (raw text)", "CSV（原始文本）")
            self.extensions = ()
            self.description = (
                "as csv, but texts starting with = + - @ are written as they are "
                "(for programs, not spreadsheets)"
            )

    def render(self, report: Report, lang: str) -> str:
        """The report's tables as CSV text."""
        tables: list[tuple[str, Table]] = [(t.key, t) for t in report.tables]
        tables += [(f"{s.key}/{t.key}", t) for s in report.sections for t in s.tables]
        extra: list[str] = []
        for _, t in tables:
            for c in t.columns[1:]:
                if c.key not in extra:
                    extra.append(c.key)

        def rows() -> Iterator[list[Any]]:
            yield ["table", "item", *extra]
            for key, t in tables:
                keys = [c.key for c in t.columns]
                for row in t.rows:
                    values = dict(zip(keys[1:], row[1:], strict=True))
                    yield [
                        key,
                        _raw(row[0], self.raw),
                        *[_raw(values.get(k), self.raw) for k in extra],
                    ]

        return "".join(csv_lines(rows()))
