"""Output for people and for programs: aligned terminal tables (CJK-aware), JSON, CSV.

Complaint texts, names and departments are untrusted: what is printed for people goes through
:func:`echo` (no control sequence reaches the terminal), JSON escapes the characters a terminal
could act on, and CSV neutralises texts a spreadsheet would run as formulas.

Command modules import :func:`echo` at their top, and ``--help`` imports every command module:
so complaintkit itself is imported here only inside the functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import click

__all__ = [
    "display_width",
    "echo",
    "echo_complaint",
    "text_table",
    "to_json",
    "to_json_line",
    "truncate",
    "write_csv",
]


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` for people (standard output, or standard error with ``err``), without
    any control sequence: complaint texts, names and references pass through here."""
    from complaintkit.display import terminal_safe

    click.echo(terminal_safe(text), err=err, nl=nl)


def echo_complaint(app: Any, fmt: str, complaint: Any, line: str) -> None:
    """What a command that changed one complaint prints: ``line`` for people (``table``), or
    the complaint as stored, as JSON (``json``, ``jsonl``: the shape ``show --format json``
    prints), for scripts that go on with it."""
    from complaintkit.display import json_text

    if fmt in ("json", "jsonl"):
        data = app.host.converter().unstructure(complaint)
        click.echo(json_text(data, lines=fmt == "jsonl"))
    else:
        echo(line)


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK) characters count two."""
    from complaintkit.display import display_width as width

    return width(text)


def truncate(text: str, width: int) -> str:
    """Cut ``text`` to at most ``width`` terminal columns, marking the cut with an ellipsis."""
    from complaintkit.display import terminal_safe

    text = " ".join(terminal_safe(text).split())
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
    """An aligned plain-text table; numbers are right-aligned, texts are made inert."""
    from complaintkit.display import plain_table

    raw = [list(row) for row in rows]
    cells = [[_cell(v) for v in row] for row in raw]
    numeric = [
        bool(raw)
        and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in raw)
        for i in range(len(headers))
    ]
    return plain_table(headers, cells, numeric)


def to_json(data: Any) -> str:
    """Pretty JSON keeping Chinese characters readable (control characters escaped)."""
    from complaintkit.display import escape_json_controls

    return escape_json_controls(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def to_json_line(data: Any) -> str:
    """One line of JSON (for JSON Lines), Chinese readable, control characters escaped."""
    from complaintkit.display import escape_json_controls

    return escape_json_controls(json.dumps(data, ensure_ascii=False, default=str))


def write_csv(
    out: TextIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    raw: bool = False,
) -> None:
    """Write a header row and ``rows`` as CSV to ``out``, row by row.

    A text that a spreadsheet would read as a formula (``=…``, ``+…``, ``-…``, ``@…``) gets a
    leading apostrophe unless ``raw``; numbers stay numbers. On a terminal, texts also lose
    their control sequences.
    """
    from complaintkit.display import csv_cell, csv_lines, terminal_safe

    on_terminal = out.isatty()

    def cells() -> Iterable[list[Any]]:
        yield list(headers)
        for row in rows:
            values = [csv_cell(v, raw=raw) for v in row]
            if on_terminal:
                values = [terminal_safe(c) if isinstance(c, str) else c for c in values]
            yield values

    for line in csv_lines(cells()):
        out.write(line)
