"""Putting untrusted text in front of people: inert on a terminal, inert in a spreadsheet,
aligned in columns.

Complaint texts, names and departments arrive from imported files, web forms and e-mails. A
terminal acts on control sequences inside them: an OSC sets the window title, writes the
clipboard (OSC 52) or hides a link (OSC 8); a DCS talks to the terminal itself; a CSI moves the
cursor or repaints lines; a carriage return overwrites what was printed. Every place that
prints such text for people goes through :func:`terminal_safe`, which removes them all and
leaves the text itself (Chinese included) untouched. :func:`escape_json_controls` does the
lossless equivalent for JSON, whose own escaping already covers the C0 controls.

Excel, LibreOffice and Google Sheets read a CSV cell (or a typed-in cell) that starts with
``=``, ``+``, ``-`` or ``@`` as a formula: ``=HYPERLINK(...)`` sends a click somewhere,
``=cmd|' /C calc'!A0`` asks to run a program (DDE). Following OWASP's guidance on CSV
injection, such a text is written with a leading apostrophe (:func:`csv_cell`), which
spreadsheets take as "this is text". The reports plugin's XLSX format writes every text as a
string cell instead, so nothing there is ever a formula. Only text is neutralised: numbers
complaintkit writes itself stay numbers, and a text that is a plain number (``-12.5``, ``+3``)
is left alone, because a spreadsheet reads it as that number, not as a formula.

Plugins that print (a command, a channel that logs) use these too; they are part of the
contract.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

__all__ = [
    "FORMULA_STARTS",
    "csv_cell",
    "csv_lines",
    "display_width",
    "escape_json_controls",
    "formula_like",
    "json_text",
    "plain_table",
    "table_text",
    "terminal_safe",
    "write_csv",
    "write_record",
    "write_records",
]


# Strings that carry a payload up to a terminator: OSC (ESC ] or U+009D), ended by BEL or ST
# (ESC \ or U+009C); DCS, SOS, PM and APC (ESC P/X/^/_ or U+0090/0098/009E/009F), ended by ST
# (xterm accepts BEL too). They are removed with their payload: a terminal never shows it.
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# CSI (ESC [ or U+009B): parameters, intermediates, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# Any other escape sequence: ESC, intermediates, a final byte (ESC c resets the terminal).
_ESCAPE = r"\x1b[ -/]*[0-~]"
# What is left: lone C0 controls but tab and newline, DEL, C1 controls, and the bidi embedding,
# override and isolate controls, which reorder what a line shows ("Trojan Source") - a
# reference or an amount could read differently from what is stored. Right-to-left text keeps
# its implicit direction; only the explicit overrides go.
_LONE = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
_SEQUENCES = re.compile(f"{_STRING}|{_CSI}|{_ESCAPE}|{_LONE}")
_LINE_BREAK = re.compile(r"\r\n?")
_WHITESPACE = re.compile(r"[\t\n]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    """``text`` without any control sequence or control character a terminal would act on.

    Removed: CSI, OSC (ended by BEL or ST), DCS, SOS, PM and APC strings with their payload,
    other escape sequences, C0 and C1 controls, DEL, and the bidi embedding, override and
    isolate characters. A carriage return becomes a line break (so it cannot overwrite the
    line). With ``multiline`` tabs and line breaks stay; without, each becomes a space.
    An unterminated OSC or DCS loses only its introducer: the rest stays visible, as text.

    >>> terminal_safe("退款\\x1b]0;pwned\\x07 please\\x1b[2J")
    '退款 please'
    """
    if text.isascii() and text.isprintable():
        return text
    text = _SEQUENCES.sub("", _LINE_BREAK.sub("\n", text))
    return text if multiline else _WHITESPACE.sub(" ", text)


def escape_json_controls(text: str) -> str:
    """JSON text with DEL, the C1 controls, the bidi controls and the Unicode line separators
    written as ``\\uXXXX`` escapes: the same data, inert on a terminal. (``json.dumps``
    escapes the C0 controls itself; these characters can only occur inside JSON strings.)"""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: First characters that make a spreadsheet read a cell as a formula: OWASP's ``= + - @``, tab
#: and carriage return; line feed too; and the full-width ``＝ ＋ － ＠``, which Excel with a
#: Chinese or Japanese input method turns into their ASCII forms when a cell is typed or
#: edited. Guarding one of these where it was not needed costs an apostrophe; missing one runs
#: a formula.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula: it starts with one of
    :data:`FORMULA_STARTS` (after any spaces, which an import may trim) and is not simply a
    number."""
    head = text.lstrip(" \u3000")
    return bool(head) and head[0] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(head)


def csv_cell(value: Any, *, raw: bool = False) -> Any:
    """``value`` as a CSV writer should get it: None as an empty cell, a formula-like text
    with a leading apostrophe (unless ``raw``), anything else as it is."""
    if value is None:
        return ""
    if not raw and isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def csv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Each row as one CSV record ending in ``\n``, values as given (see :func:`csv_cell`).

    A value holding a carriage return is quoted like one holding a line feed: the csv module
    quotes only the characters of its line terminator, so with ``\n`` alone a complaint text
    with a bare ``\r`` would come out unquoted and split the record for every reader."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()[:-2] + "\n"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK) characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


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


# --- records in the output formats every command shares -------------------------------------


def json_text(data: Any, *, lines: bool = False) -> str:
    """``data`` as JSON for people and programs: Chinese readable, control characters escaped;
    one line with ``lines`` (JSON Lines), indented otherwise."""
    text = json.dumps(data, ensure_ascii=False, indent=None if lines else 2, default=_jsonable)
    return escape_json_controls(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def write_records(
    out: TextIO,
    fmt: str,
    columns: Sequence[tuple[str, str]],
    records: Iterable[Mapping[str, Any]],
    *,
    table: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None,
) -> int:
    """Write ``records`` to ``out`` in one of the formats every command shares; the count.

    * ``table``: aligned columns titled by ``columns`` (key, title), for people; ``table`` (a
      function of a record) gives a row's cells in the display language when they differ from
      the data (names instead of keys);
    * ``json``: one JSON array of the records; ``jsonl``: one record a line;
    * ``csv``: a header of the column keys, then a row per record, a formula-like text with a
      leading apostrophe (:func:`csv_cell`); ``csv-raw``: texts exactly as they are.

    Text for people (``table``, and CSV on a terminal) is made inert with :func:`terminal_safe`.
    """
    count = 0
    if fmt == "json":
        items = list(records)
        out.write(json_text(items) + "\n")
        return len(items)
    if fmt == "jsonl":
        for record in records:
            out.write(json_text(record, lines=True) + "\n")
            count += 1
        return count
    keys = [key for key, _ in columns]
    if fmt in ("csv", "csv-raw"):
        rows = ([_csv_value(record.get(k)) for k in keys] for record in records)
        return write_csv(out, keys, rows, raw=fmt == "csv-raw")
    if fmt != "table":
        raise ValueError(f"unknown output format {fmt!r}")
    raw_rows = [list(table(r)) if table else [r.get(k) for k in keys] for r in records]
    if raw_rows:
        out.write(table_text([title for _, title in columns], raw_rows, cell=_shown) + "\n")
    return len(raw_rows)


def table_text(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    cell: Callable[[Any], str] = str,
) -> str:
    """An aligned plain-text table of values, each shown by ``cell``: a column whose values
    are all numbers is right-aligned, and every text is made inert (:func:`plain_table`)."""
    raw = [list(row) for row in rows]
    numeric = [
        bool(raw)
        and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in raw)
        for i in range(len(headers))
    ]
    return plain_table(headers, [[cell(v) for v in row] for row in raw], numeric)


def write_csv(
    out: TextIO, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False
) -> int:
    """Write a header row and ``rows`` as CSV to ``out``, row by row; the number of rows.

    A text that a spreadsheet would read as a formula gets a leading apostrophe unless ``raw``
    (:func:`csv_cell`); numbers stay numbers. On a terminal, texts also lose their control
    sequences.
    """
    on_terminal = out.isatty()
    written = 0

    def cells() -> Iterator[list[Any]]:
        nonlocal written
        yield list(headers)
        for row in rows:
            values = [csv_cell(v, raw=raw) for v in row]
            if on_terminal:
                values = [terminal_safe(c) if isinstance(c, str) else c for c in values]
            written += 1
            yield values

    for line in csv_lines(cells()):
        out.write(line)
    return written


def _csv_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def write_record(out: TextIO, fmt: str, record: Mapping[str, Any], text: str) -> None:
    """One result: ``text`` for people (``table``, made inert), or ``record`` as JSON
    (``json`` indented, ``jsonl`` on one line)."""
    if fmt in ("json", "jsonl"):
        out.write(json_text(record, lines=fmt == "jsonl") + "\n")
    else:
        out.write(terminal_safe(text) + "\n")
