"""Encodings: a wrong encoding refused before anything is imported, and a byte that does not
decode rejecting only the record that holds it.

CSV, TSV and JSON Lines are decoded with an error handler that keeps an undecodable byte as a
lone surrogate (as "surrogateescape" does) and counts it. A record holding one is rejected
with its line, naming the byte; the records around it are imported. Only a file whose first
64 KiB hold many such bytes is refused whole: it is in another encoding.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from complaintkit.errors import ConfigError

#: How much of a file is read to tell its format or check its encoding.
_SNIFF_BYTES: Final = 1 << 16

_ERRORS: Final = "complaintkit-undecodable"
#: Undecodable bytes met so far by any reader: a record is searched for them only when this
#: grew since the last record was checked, so clean files cost nothing.
_undecodable = [0]
_ESCAPED: Final = re.compile("[\udc80-\udcff]")
_DECODED_NON_ASCII: Final = re.compile("[^\x00-\x7f\udc80-\udcff]")
#: More undecodable sequences than this in the first 64 KiB: the file is in another encoding.
_WRONG_ENCODING_ERRORS: Final = 8


def _keep_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _undecodable[0] += exc.end - exc.start
    replacement, end = codecs.lookup_error("surrogateescape")(exc)
    return str(replacement), end


codecs.register_error(_ERRORS, _keep_undecodable)


#: Workbooks a user may give a text format to (a renamed file, a wrong --format): their first
#: bytes, what they are, and what to do.
_WORKBOOKS: Final = (
    (
        b"PK\x03\x04",
        "a zip archive (an Excel .xlsx workbook?)",
        "import it with --format xlsx, or under a name ending in .xlsx",
    ),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Excel .xls workbook (or another OLE file)",
        "the .xls format is not supported; save it as .xlsx or CSV",
    ),
)


def _refuse_workbook(path: Path, head: bytes, encoding: str) -> None:
    """Refuse a workbook given to a text format: its bytes would be blamed on the encoding
    ("try --encoding gb18030")."""
    for magic, what, advice in _WORKBOOKS:
        if head.startswith(magic):
            raise ConfigError(f"{path} is {what}, not {encoding} text: {advice}")


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in {"utf-8", "utf-8-sig", "utf8"}


def _encoding_hint(encoding: str) -> str:
    return (
        "; a file saved by Excel on Chinese Windows is usually GBK: try --encoding gb18030"
        if _is_utf8(encoding)
        else ""
    )


def _undecodable_reason(cells: Mapping[str, Any], encoding: str) -> tuple[str | None, str] | None:
    """(column, reason) when a cell holds an undecodable byte, else None."""
    for column, cell in cells.items():
        if isinstance(cell, str) and (found := _ESCAPED.search(cell)):
            byte = ord(found.group()) - 0xDC00
            count = len(_ESCAPED.findall(cell))
            more = f" and {count - 1} more" if count > 1 else ""
            name = "UTF-8" if _is_utf8(encoding) else encoding
            return column, (
                f"byte 0x{byte:02X}{more} is not valid {name}, so this record is not "
                f"imported (the others are): correct it, or re-save the file as UTF-8"
                f"{_encoding_hint(encoding)}"
            )
    return None


def _check_encoding(path: Path, encoding: str) -> str:
    """Decode the start of the file now, so a wrong encoding fails before anything is imported.

    A few undecodable bytes are left to the records that hold them (each is rejected with its
    line); many of them mean the file is in another encoding, and it is refused whole.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from None
    _refuse_workbook(path, head, encoding)
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r} (use e.g. utf-8, gbk, gb18030)") from None
    try:
        # final=False: the 64 KiB cut may fall inside a multi-byte character.
        return str(decoder.decode(head, final=False))
    except UnicodeDecodeError as exc:
        first = exc
    text = str(codecs.getincrementaldecoder(encoding)("surrogateescape").decode(head, final=False))
    errors = len(_ESCAPED.findall(text))
    # A stray byte in a good file, or a file in another encoding? Many undecodable bytes, or
    # several and no more characters beyond ASCII that decode, mean the latter.
    decoded = len(_DECODED_NON_ASCII.findall(text))
    if errors > _WRONG_ENCODING_ERRORS or (errors > 1 and errors >= decoded):
        raise ConfigError(_encoding_message(path, encoding, first, head))
    return text


def _encoding_message(
    path: Path, encoding: str, exc: UnicodeDecodeError, data: bytes | None = None
) -> str:
    where = f"near byte {exc.start}"
    if data is not None:
        line = data.count(b"\n", 0, exc.start) + 1
        where = f"line {line}, near byte {exc.start}"
    return f"{path} is not valid {encoding} ({exc.reason}, {where}){_encoding_hint(encoding)}"


@contextmanager
def _closing_on_error(close: Callable[[], None], path: Path, encoding: str) -> Iterator[None]:
    """Run ``close`` when reading the header fails; a decoding error becomes a ConfigError."""
    try:
        yield
    except UnicodeDecodeError as exc:
        close()
        raise ConfigError(_encoding_message(path, encoding, exc)) from None
    except BaseException:
        close()
        raise
