"""Output for people and for programs: aligned terminal tables (CJK-aware), JSON, CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from complaintkit.rendering.text_format import display_width, plain_table

__all__ = ["display_width", "text_table", "to_csv", "to_json", "truncate"]


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
    return plain_table(headers, cells, numeric)


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
