"""The terminal format: aligned plain-text tables (CJK-aware), numbers right-aligned, every
text made inert for a terminal (:func:`~complaintkit.rendering.terminal.terminal_safe`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..i18n import Names
from .terminal import terminal_safe
from .values import NUMERIC_KINDS, format_value

if TYPE_CHECKING:
    from ..reporting import Report, Table

__all__ = ["TableFormat", "display_width", "is_list", "plain_table"]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK) characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def is_list(paragraph: str) -> bool:
    """True when every line of ``paragraph`` starts with ``- `` (a list, see ``Section``)."""
    lines = paragraph.splitlines()
    return bool(lines) and all(line.startswith("- ") for line in lines)


def plain_table(
    headers: Sequence[str], cells: Sequence[Sequence[str]], right: Sequence[bool]
) -> str:
    """An aligned plain-text table of already formatted cells, each on one line and without
    control sequences (a table is for a terminal)."""
    headers = [terminal_safe(h, multiline=False) for h in headers]
    cells = [[terminal_safe(v, multiline=False) for v in row] for row in cells]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    lines = ["  ".join(_pad(h, widths[i], right[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(_pad(v, widths[i], right[i]) for i, v in enumerate(row)).rstrip())
    return "\n".join(lines)


def _table(table: Table, lang: str) -> str:
    cells = [
        [
            " ".join(format_value(v, c.kind, lang, empty="—").split())
            for v, c in zip(row, table.columns, strict=True)
        ]
        for row in table.rows
    ]
    return plain_table(
        [c.names.get(lang) for c in table.columns],
        cells,
        [c.kind in NUMERIC_KINDS for c in table.columns],
    )


def _heading(text: str, rule: str) -> list[str]:
    return [text, rule * display_width(text)]


class TableFormat:
    """Aligned text for a terminal: the title, the figures, each table, then each section."""

    name = "table"
    names = Names("terminal table", "终端表格")
    extensions: tuple[str, ...] = (".txt",)
    binary = False
    description = "aligned plain-text tables for a terminal (the default)"

    def render(self, report: Report, lang: str) -> str:
        """The report as aligned text, without control sequences."""
        parts = _heading(report.names.get(lang), "=")
        for names, value, kind in report.figures:
            parts.append(f"{names.get(lang)}: {format_value(value, kind, lang, empty='—')}")
        for t in report.tables:
            if not t.rows:
                continue
            parts += ["", t.names.get(lang), _table(t, lang)]
        for section in report.sections:
            parts += ["", *_heading(section.names.get(lang), "-")]
            for paragraph in section.paragraphs:
                parts += ["", paragraph]
            for t in section.tables:
                if t.rows:
                    parts += ["", t.names.get(lang), _table(t, lang)]
        if report.notes:
            parts.append("")
            parts += list(report.notes)
        return terminal_safe("\n".join(parts))
