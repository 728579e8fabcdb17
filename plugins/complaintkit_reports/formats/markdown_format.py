"""The Markdown format: headings, figures, pipe tables (numbers right-aligned), sections as
headings, paragraphs and lists. Every piece of text is escaped, so a complaint title such as
``<script>`` or ``A | B`` is shown as written and never becomes markup."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from complaintkit.i18n import Names

from .text_format import is_list
from .values import NUMERIC_KINDS, format_value

if TYPE_CHECKING:
    from complaintkit.reporting import Report, Table

__all__ = ["MarkdownFormat", "escape_markdown"]

_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#!~])")


def escape_markdown(text: str) -> str:
    """``text`` on one line with every Markdown-special character backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _table(table: Table, lang: str) -> list[str]:
    head = [escape_markdown(c.names.get(lang)) for c in table.columns]
    rule = ["---:" if c.kind in NUMERIC_KINDS else "---" for c in table.columns]
    lines = [f"| {' | '.join(head)} |", f"| {' | '.join(rule)} |"]
    for row in table.rows:
        cells = [
            escape_markdown(format_value(v, c.kind, lang))
            for v, c in zip(row, table.columns, strict=True)
        ]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def _tables(tables: tuple[Table, ...], lang: str, level: str) -> list[str]:
    out: list[str] = []
    for t in tables:
        out += ["", f"{level} {escape_markdown(t.names.get(lang))}", ""]
        out += _table(t, lang) if t.rows else [_EMPTY.get(lang)]
    return out


_EMPTY = Names("*(no rows)*", "*（无数据）*")


class MarkdownFormat:
    """Markdown (CommonMark with pipe tables)."""

    name = "markdown"
    names = Names("Markdown", "Markdown")
    extensions: tuple[str, ...] = (".md", ".markdown")
    binary = False
    description = "a Markdown document: figures, pipe tables and the sections"

    def render(self, report: Report, lang: str) -> str:
        """The report as Markdown text."""
        out = [f"# {escape_markdown(report.names.get(lang))}"]
        if report.figures:
            out.append("")
            for names, value, kind in report.figures:
                shown = escape_markdown(format_value(value, kind, lang, empty="—"))
                out.append(f"- **{escape_markdown(names.get(lang))}:** {shown}")
        out += _tables(report.tables, lang, "##")
        for section in report.sections:
            out += ["", f"## {escape_markdown(section.names.get(lang))}"]
            for paragraph in section.paragraphs:
                out.append("")
                if is_list(paragraph):
                    out += [f"- {escape_markdown(line[2:])}" for line in paragraph.splitlines()]
                else:
                    out.append(escape_markdown(paragraph))
            out += _tables(section.tables, lang, "###")
        if report.notes:
            out.append("")
            out.append("\n>\n".join(f"> {escape_markdown(note)}" for note in report.notes))
        return "\n".join(out)
