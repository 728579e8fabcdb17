"""Output for people and for programs: aligned terminal tables (CJK-aware), JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from complaintkit import Report

__all__ = ["display_width", "render_report", "text_table", "to_csv", "to_json", "truncate"]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal columns, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:g}"
    return str(value)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned plain-text table; numbers are right-aligned."""
    raw = [list(row) for row in rows]
    cells = [[_cell(v) for v in row] for row in raw]
    numeric = [
        bool(raw)
        and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in raw)
        for i in range(len(headers))
    ]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], display_width(value))
    lines = ["  ".join(_pad(h, widths[i], numeric[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(_pad(v, widths[i], numeric[i]) for i, v in enumerate(row)).rstrip())
    return "\n".join(lines)


def to_json(data: Any) -> str:
    """Pretty JSON keeping Chinese characters readable."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def render_report(report: Report, fmt: str, lang: str) -> str:
    """A report as ``table``, ``json`` or ``csv`` text (the first-party text formats of
    :mod:`complaintkit.rendering`; the CLI itself goes through the registered formats)."""
    from complaintkit.rendering import first_party_formats

    for candidate in first_party_formats():
        if candidate.name == fmt and not candidate.binary:
            rendered = candidate.render(report, lang)
            assert isinstance(rendered, str)
            return rendered
    raise ValueError(f"unknown text format {fmt!r}")
