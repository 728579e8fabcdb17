"""Output for people and for programs: aligned terminal tables (CJK-aware), JSON, CSV.

Complaint texts, names and departments are untrusted: what is printed for people goes through
:func:`echo` (no control sequence reaches the terminal), JSON escapes the characters a terminal
could act on, and CSV neutralises texts a spreadsheet would run as formulas.

Command modules import :func:`echo` at their top, and ``--help`` imports every command module:
so complaintkit itself is imported here only inside the functions.
"""

from __future__ import annotations

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
    prints, personal data masked), for scripts that go on with it."""
    from complaintkit.display import json_text

    if fmt in ("json", "jsonl"):
        data = app.host.converter().unstructure(app.host.mask(complaint))
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
    if text.isascii():
        return text if len(text) <= width else text[: width - 1] + "…"
    from unicodedata import east_asian_width

    # One pass that stops past ``width`` columns: a complaint's text may be thousands long.
    used, cut = 0, None
    for i, ch in enumerate(text):
        used += 2 if east_asian_width(ch) in ("W", "F") else 1
        if cut is None and used > width - 1:
            cut = i
        if used > width:
            return text[:cut] + "…"
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:g}"
    return str(value)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned plain-text table; numbers are right-aligned, texts are made inert."""
    from complaintkit.display import table_text

    return table_text(headers, rows, cell=_cell)


def to_json(data: Any) -> str:
    """Pretty JSON keeping Chinese characters readable (control characters escaped)."""
    from complaintkit.display import json_text

    return json_text(data)


def to_json_line(data: Any) -> str:
    """One line of JSON (for JSON Lines), Chinese readable, control characters escaped."""
    from complaintkit.display import json_text

    return json_text(data, lines=True)


def write_csv(
    out: TextIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    raw: bool = False,
) -> None:
    """Write a header row and ``rows`` as CSV to ``out`` (see
    :func:`complaintkit.display.write_csv`)."""
    from complaintkit.display import write_csv as write

    write(out, headers, rows, raw=raw)
