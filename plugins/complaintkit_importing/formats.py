"""The file formats: detection, and the CSV/TSV, JSON Lines, JSON and XLSX openers.

Each opener reads the header and yields records as (line, row, record): ``row`` the values in
header order, ``record`` the JSON object as read (None for CSV, TSV and XLSX). Which mapping
they are read with, and what they become, is up to :mod:`.reader`. The built-in formats are
registered as :class:`~complaintkit.inputs.InputFormat` objects (:data:`BUILTIN_FORMATS`).
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeAlias

import attrs
import orjson

from complaintkit.errors import ConfigError
from complaintkit.i18n import Names
from complaintkit.inputs import InputFormat, RejectRecord

from .builder import _clean_header
from .cells import _text
from .encodings import (
    _ERRORS,
    _ESCAPED,
    _SNIFF_BYTES,
    _check_encoding,
    _closing_on_error,
    _encoding_message,
    _refuse_workbook,
    _undecodable,
    _undecodable_reason,
)

FORMATS: Final[tuple[str, ...]] = ("csv", "tsv", "json", "jsonl", "xlsx")
"""The file formats :func:`read_complaints` reads."""

_EXTENSIONS: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


# --- formats ---------------------------------------------------------------------------------


def detect_format(path: str | Path) -> str:
    """The format of ``path`` from its extension (``.txt`` is sniffed): one of :data:`FORMATS`.

    An unknown extension raises ConfigError suggesting ``--format``.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix == ".xls":
        raise ConfigError(
            f"{file}: the old Excel .xls format is not supported; save it as .xlsx or CSV"
        )
    if suffix == ".txt":
        try:
            with file.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError as exc:
            raise ConfigError(f"{file} cannot be read: {exc}") from None
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            return "json"
        if text.startswith("{"):
            return "jsonl"
        first_line = text.split("\n", 1)[0]
        return "tsv" if "\t" in first_line else "csv"
    raise ConfigError(
        f"{file}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        f"use --format {'|'.join(FORMATS)}"
    )


_Record: TypeAlias = tuple[int, Sequence[Any], dict[str, Any] | None]
_Reject: TypeAlias = Callable[[int, str | None, str, dict[str, Any]], None]


class _Opened:
    """An open source: its header and its records as (line, row, record).

    ``found`` is False when a JSON source holds no object at all: its header (empty) can then
    fit or misfit no mapping. ``keys`` are the first object's keys as read (JSON; records with
    other keys get a builder of their own).
    """

    def __init__(
        self,
        header: list[str],
        records: Iterator[_Record],
        close: Callable[[], None],
        *,
        found: bool = True,
        keys: Sequence[str] = (),
    ) -> None:
        self.header = header
        self.records = records
        self.found = found
        self.keys = tuple(keys)
        self._close: Callable[[], None] | None = close

    def close(self) -> None:
        """Release the file once; later calls do nothing."""
        close, self._close = self._close, None
        if close is not None:
            close()


def _csv_delimiter(fmt: str, head: str) -> str:
    if fmt == "tsv":
        return "\t"
    first_line = head.split("\n", 1)[0]
    # Excel in many European locales writes ";"; a header holding no comma tells us so.
    if "," not in first_line:
        if ";" in first_line:
            return ";"
        if "\t" in first_line:
            return "\t"
    return ","


def _csv_problem(exc: csv.Error, delimiter: str) -> str:
    """A reader error as a reason a person can act on."""
    message = str(exc)
    if "unexpected end of data" in message:
        return (
            "a quoted value that starts in this record is never closed (the file ends inside "
            'it); close the quote, and double any quote inside a value ("")'
        )
    if "expected after" in message:
        return (
            f"a quote closes in the middle of a value (expected {delimiter!r} after it); "
            'quote the whole value and double the quotes inside it ("")'
        )
    return f"unreadable CSV: {message}"


def _raise_field_limit() -> None:
    # Long complaint narratives can exceed csv's default 128 KiB per field; a limit still
    # stands so that an unclosed quote fails instead of swallowing the whole file.
    if csv.field_size_limit() < 1 << 24:
        csv.field_size_limit(1 << 24)


class _Source:
    """What every opener needs: the file, its name in messages, and how to reject a record."""

    def __init__(self, path: Path, source: str, reject: _Reject) -> None:
        self.path = path
        self.source = source
        self.reject = reject


def _open_csv(ctx: _Source, fmt: str, encoding: str) -> _Opened:
    head = _check_encoding(ctx.path, encoding)
    _raise_field_limit()
    # Read before the header: the first chunk the file object decodes holds the first rows.
    checked = _undecodable[0]
    handle = ctx.path.open("r", encoding=encoding, errors=_ERRORS, newline="")
    with _closing_on_error(handle.close, ctx.path, encoding):
        delimiter = _csv_delimiter(fmt, head.lstrip("\ufeff"))
        # strict: a quote left open or a stray quote is reported for its record, where the
        # lenient reader would silently glue the rest of the file into one value.
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        header_row: list[str] | None = None
        for candidate in reader:
            if any(cell.strip() for cell in candidate):
                header_row = candidate
                break
        if header_row is None:
            raise ConfigError(f"{ctx.source}: the file is empty (no header row)")
        header = _clean_header(header_row)
    width = len(header)

    def records() -> Iterator[_Record]:
        nonlocal checked
        previous = reader.line_num
        failed_at = -1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None
            except csv.Error as exc:
                start = previous + 1
                if reader.line_num == failed_at:  # the reader cannot get past this point
                    raise ConfigError(f"{ctx.source}, line {start}: {exc}") from None
                failed_at = reader.line_num
                previous = reader.line_num
                ctx.reject(start, None, _csv_problem(exc, delimiter), {})
                continue
            start = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line (or a row of empty cells) is not a record
            if checked != _undecodable[0]:
                cells = dict(zip(header, row, strict=False))
                if len(row) > width:
                    cells["_extra"] = ",".join(row[width:])
                bad = _undecodable_reason(cells, encoding)
                if bad is not None:
                    checked += sum(len(_ESCAPED.findall(cell)) for cell in row)
                    ctx.reject(start, bad[0], bad[1], cells)
                    continue
            if len(row) != width:
                raw: dict[str, Any] = dict(zip(header, row, strict=False))
                if len(row) > width:
                    raw["_extra"] = row[width:]
                span = previous - start + 1
                hint = (
                    f"; it runs over {span} lines: probably a misplaced quote"
                    if span > 3
                    else "; a stray delimiter or an unquoted value containing one?"
                    if len(row) > width
                    else ""
                )
                ctx.reject(
                    start,
                    None,
                    f"the record has {len(row)} values but the header has {width} columns{hint}",
                    raw,
                )
                continue
            yield start, row, None

    return _Opened(header, records(), handle.close)


def _open_jsonl(ctx: _Source, encoding: str) -> _Opened:
    _check_encoding(ctx.path, encoding)
    handle = ctx.path.open("r", encoding=encoding, errors=_ERRORS, newline="")
    lines = enumerate(handle, 1)
    first: tuple[int, dict[str, Any]] | None = None
    pending: list[tuple[int, str]] = []
    with _closing_on_error(handle.close, ctx.path, encoding):
        for number, line in lines:
            if not line.strip():
                continue
            pending.append((number, line))
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                first = (number, value)
                break
        header = _clean_header(list(first[1]) if first else [])

    def records() -> Iterator[_Record]:
        def parsed(number: int, line: str) -> Iterator[_Record]:
            if _ESCAPED.search(line):
                raw_line = {"_line": line.rstrip("\r\n")}
                bad = _undecodable_reason(raw_line, encoding)
                assert bad is not None
                ctx.reject(number, None, bad[1], raw_line)
                return
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                # orjson counts lines within the one line it was given: keep only the column.
                detail = re.sub(r"line \d+ column (\d+) \(char \d+\)", r"column \1", str(exc))
                raw_line = {"_line": line.rstrip("\r\n")}
                ctx.reject(number, None, f"not valid JSON: {detail}", raw_line)
                return
            if not isinstance(value, dict):
                ctx.reject(
                    number,
                    None,
                    f"expected a JSON object, got {_json_kind(value)}",
                    {"_value": value},
                )
                return
            if not value:
                return  # {} carries nothing: like a blank line
            yield number, list(value.values()), value

        for number, line in pending:
            yield from parsed(number, line)
        try:
            for number, line in lines:
                if line.strip():
                    yield from parsed(number, line)
        except UnicodeDecodeError as exc:
            raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None

    keys = list(first[1]) if first else []
    return _Opened(header, records(), handle.close, found=first is not None, keys=keys)


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _open_json(ctx: _Source, encoding: str) -> _Opened:
    try:
        data = ctx.path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{ctx.path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{ctx.path} cannot be read: {exc}") from None
    _refuse_workbook(ctx.path, data, encoding)
    try:
        if encoding.lower().replace("_", "-") in {"utf-8", "utf-8-sig", "utf8"}:
            document = orjson.loads(data.removeprefix(codecs.BOM_UTF8))
        else:
            document = orjson.loads(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise ConfigError(_whole_json_message(ctx.path, encoding, exc, data)) from None
    except orjson.JSONDecodeError as exc:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise ConfigError(_whole_json_message(ctx.path, encoding, bad, data)) from None
        hint = (
            "; it looks like JSON Lines (one object per line): use --format jsonl"
            if "trailing" in str(exc).lower() or data.lstrip().startswith(b"{")
            else ""
        )
        raise ConfigError(f"{ctx.source}: not valid JSON: {exc}{hint}") from None
    if not isinstance(document, list):
        raise ConfigError(
            f"{ctx.source}: expected a JSON array of objects, got {_json_kind(document)}"
            + ("; for one object per line use --format jsonl" if isinstance(document, dict) else "")
        )
    first = next((item for item in document if isinstance(item, dict) and item), None)
    header = _clean_header(list(first) if first else [])

    def records() -> Iterator[_Record]:
        for number, item in enumerate(document, 1):
            if not isinstance(item, dict):
                ctx.reject(
                    number,
                    None,
                    f"expected a JSON object, got {_json_kind(item)}",
                    {"_value": item},
                )
                continue
            if item:
                yield number, list(item.values()), item

    keys = list(first) if first else []
    return _Opened(header, records(), lambda: None, found=first is not None, keys=keys)


def _whole_json_message(path: Path, encoding: str, exc: UnicodeDecodeError, data: bytes) -> str:
    return (
        f"{_encoding_message(path, encoding, exc, data)}; a JSON array is read whole, so "
        "nothing was imported: correct that line, or use JSON Lines (one record per line), "
        "where only the record holding the byte is rejected"
    )


def _xlsx_damage(exc: Exception) -> str:
    """What a failure while reading a worksheet means: openpyxl parses the sheet's XML as it
    goes, so damage shows up as an XML ParseError, a zip CRC or zlib error, an EOFError (a
    truncated member) or a ValueError from a malformed cell."""
    return f"the worksheet is damaged ({type(exc).__name__}: {exc})"


def _open_xlsx(ctx: _Source) -> _Opened:
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise ConfigError(
            "reading .xlsx files needs openpyxl, a dependency of complaintkit: pip install openpyxl"
        ) from None
    try:
        # A file object, not the path: openpyxl refuses a path by its ending, so a workbook
        # saved under another name (export.csv, stdin.tmp) would not open even with --format.
        handle = ctx.path.open("rb")
    except FileNotFoundError:
        raise ConfigError(f"{ctx.path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{ctx.path} cannot be read: {exc}") from None
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile, KeyError, ValueError …
        handle.close()
        raise ConfigError(f"{ctx.source} is not a readable .xlsx file: {exc}") from None

    def close() -> None:
        try:
            workbook.close()
        finally:
            handle.close()

    try:
        if not workbook.worksheets:
            raise ConfigError(f"{ctx.source} is not a readable .xlsx file: it has no worksheet")
        sheet = workbook.worksheets[0]
        rows = enumerate(sheet.iter_rows(values_only=True), 1)
        header_row: tuple[Any, ...] | None = None
        header_number = 0
        try:
            for number, candidate in rows:
                if any(_text(cell) for cell in candidate):
                    header_row, header_number = candidate, number
                    break
        except Exception as exc:  # noqa: BLE001 - see _xlsx_damage
            raise ConfigError(
                f"{ctx.source} is not a readable .xlsx file: {_xlsx_damage(exc)} "
                f"(before the header row)"
            ) from None
        if header_row is None:
            raise ConfigError(f"{ctx.source}: the first worksheet is empty (no header row)")
        # Trailing empty header cells are formatting, not columns.
        cells = list(header_row)
        while cells and not _text(cells[-1]):
            cells.pop()
        header = _clean_header(cells)
    except BaseException:
        close()
        raise
    width = len(header)

    def records() -> Iterator[_Record]:
        last = header_number
        while True:
            # The sheet is parsed while it is read: a damaged part ends the reading there.
            # The rows before it are kept, the rest is reported as one rejected row.
            try:
                number, row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - see _xlsx_damage
                ctx.reject(
                    last + 1,
                    None,
                    f"{_xlsx_damage(exc)}: reading stopped here; this row and the rows after "
                    "it are not imported (the rows before it are)",
                    {},
                )
                return
            last = number
            values = list(row)
            if len(values) < width:
                values.extend([None] * (width - len(values)))  # read-only mode trims rows
            extra = values[width:]
            if not any(_text(cell) for cell in values):
                continue
            if any(_text(cell) for cell in extra):
                raw = dict(zip(header, values, strict=False))
                raw["_extra"] = extra
                ctx.reject(
                    number, None, f"the row has values beyond the {width} header columns", raw
                )
                continue
            yield number, values[:width], None

    return _Opened(header, records(), close)


# --- the built-in formats as input formats ---------------------------------------------------


@attrs.frozen
class FileFormat:
    """A built-in input format (see :class:`complaintkit.inputs.InputFormat`): ``name``,
    ``names``, ``suffixes``, ``unit``, and its opener, which reads the header first (so that a
    header fitting no mapping is refused before any record is read) and gives the records as
    rows in header order, cheaper than a mapping per record."""

    name: str
    names: Names
    suffixes: tuple[str, ...]
    unit: str
    opener: Callable[[_Source, str], _Opened] = attrs.field(repr=False)

    def open(self, path: Path, source: str, encoding: str, reject: _Reject) -> _Opened:
        """The file opened: its header read, its records ready to be read."""
        return self.opener(_Source(path, source, reject), encoding)

    def read(
        self, path: Path, encoding: str, reject: RejectRecord
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """The records as column → value (the :class:`~complaintkit.inputs.InputFormat`
        contract), for a program that wants our readers without our mappings."""
        opened = self.open(
            path, str(path), encoding, lambda line, field, reason, raw: reject(line, reason, raw)
        )
        try:
            for line, row, record in opened.records:
                yield (
                    line,
                    record if record is not None else dict(zip(opened.header, row, strict=False)),
                )
        finally:
            opened.close()


def _suffixes(name: str) -> tuple[str, ...]:
    return tuple(suffix for suffix, fmt in _EXTENSIONS.items() if fmt == name)


BUILTIN_FORMATS: Final[tuple[FileFormat, ...]] = (
    FileFormat(
        "csv",
        Names("CSV (comma-separated values)", "CSV（逗号分隔）"),
        _suffixes("csv"),
        "line",
        lambda ctx, encoding: _open_csv(ctx, "csv", encoding),
    ),
    FileFormat(
        "tsv",
        Names("TSV (tab-separated values)", "TSV（制表符分隔）"),
        _suffixes("tsv"),
        "line",
        lambda ctx, encoding: _open_csv(ctx, "tsv", encoding),
    ),
    FileFormat(
        "json",
        Names("JSON array of objects", "JSON 对象数组"),
        _suffixes("json"),
        "item",
        _open_json,
    ),
    FileFormat(
        "jsonl",
        Names("JSON Lines (one object a line)", "JSON Lines（每行一个对象）"),
        _suffixes("jsonl"),
        "line",
        _open_jsonl,
    ),
    FileFormat(
        "xlsx",
        Names("Excel workbook (first worksheet)", "Excel 工作簿（第一个工作表）"),
        _suffixes("xlsx"),
        "row",
        lambda ctx, encoding: _open_xlsx(ctx),
    ),
)
"""The formats this plugin registers, in the order of :data:`FORMATS`."""


def open_records(
    fmt: InputFormat, path: Path, source: str, encoding: str, reject: _Reject
) -> _Opened:
    """``path`` opened in ``fmt``. A format of another plugin gives records as column → value:
    its first record is read now and its keys are the header (the way a JSON file is read)."""
    if isinstance(fmt, FileFormat):
        return fmt.open(path, source, encoding, reject)
    records = iter(
        fmt.read(path, encoding, lambda line, reason, raw: reject(line, None, reason, dict(raw)))
    )
    close = getattr(records, "close", None)
    try:
        first = next((item for item in records if item[1]), None)
    except BaseException:
        if close is not None:
            close()
        raise

    def rows() -> Iterator[_Record]:
        pending = [first] if first is not None else []
        for line, record in itertools.chain(pending, records):
            if record:  # an empty record carries nothing, like a blank line
                data = dict(record)
                yield line, list(data.values()), data

    keys = list(first[1]) if first is not None else []
    return _Opened(
        _clean_header(keys), rows(), close or (lambda: None), found=first is not None, keys=keys
    )
