"""Text that a spreadsheet must not read as a formula.

Products, departments, assignees and complaint texts arrive from imported files. Excel,
LibreOffice and Google Sheets read a CSV cell (or a typed-in cell) that starts with ``=``,
``+``, ``-`` or ``@`` as a formula: ``=HYPERLINK(...)`` sends a click somewhere,
``=cmd|' /C calc'!A0`` asks to run a program (DDE). Following OWASP's guidance on CSV
injection, such a text is written with a leading apostrophe, which spreadsheets take as "this
is text". The XLSX format writes every text as a string cell instead (see
:mod:`~complaintkit.rendering.xlsx_format`), so nothing there is ever a formula.

Only text is neutralised: numbers complaintkit writes itself (a negative difference, a count)
stay numbers, and a text that is a plain number (``-12.5``, ``+3``) is left alone, because a
spreadsheet reads it as that number, not as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_cell", "csv_lines", "formula_like"]

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
