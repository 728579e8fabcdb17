"""The terminal format: aligned plain-text tables (CJK-aware), numbers right-aligned, every
text made inert for a terminal (:func:`~complaintkit.display.terminal_safe`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from complaintkit.display import display_width, plain_table, terminal_safe
from complaintkit.i18n import Names

from .values import NUMERIC_KINDS, format_value

if TYPE_CHECKING:
    from complaintkit.reporting import Report, Table

__all__ = ["TableFormat", "is_list"]


def is_list(paragraph: str) -> bool:
    """True when every line of ``paragraph`` starts with ``- `` (a list, see ``Section``)."""
    lines = paragraph.splitlines()
    return bool(lines) and all(line.startswith("- ") for line in lines)


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
