"""The reader: :func:`read_complaints`, the :class:`ComplaintReader` stream, rejected rows
and :func:`count_records`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from complaintkit.errors import ConfigError
from complaintkit.inputs import InputFormat
from complaintkit.intake import clean_complaint, complaint_problems, describe_removed
from complaintkit.model import Complaint

from .builder import _Builder, _choose_mapping, _clean_header
from .cells import _pick
from .documents import _from_document, _is_document
from .formats import (
    BUILTIN_FORMATS,
    FORMATS,
    FileFormat,
    _Opened,
    _Reject,
    detect_format,
    open_records,
)
from .mapping import ColumnMapping

# --- rejected rows ---------------------------------------------------------------------------


@attrs.frozen
class RejectedRow:
    """A record that could not become a complaint, with everything needed to fix it.

    ``line`` is the 1-based physical line where the record starts (CSV, TSV, JSON Lines), the
    worksheet row (XLSX) or the item number (JSON array); ``unit`` says which of the three.
    ``field`` is our field name (or the source column) that was wrong, None when the record as a
    whole is bad. ``raw`` is the record as read, so nothing is lost.
    """

    source: str
    line: int
    field: str | None
    reason: str
    raw: dict[str, Any]
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.source}, {self.unit} {self.line}"
        if self.field is None:
            return f"{where}: {self.reason}"
        return f"{where}, field {self.field}: {self.reason}"


@attrs.frozen
class CleanedRow:
    """A record imported after removing characters no store can hold (see
    :func:`complaintkit.intake.clean_complaint`): where it is, and what was removed from
    which field (``{"text": "U+0000"}``)."""

    source: str
    line: int
    removed: dict[str, str]
    unit: str = "line"

    def __str__(self) -> str:
        what = "; ".join(f"{field}: {codes}" for field, codes in self.removed.items())
        return (
            f"{self.source}, {self.unit} {self.line}: removed characters no store can hold "
            f"({what}); the rest of the record is imported"
        )


# --- binding records to a mapping --------------------------------------------------------------


class _Context:
    """Which mapping the records are read with, settled by the first header bound."""

    def __init__(self, source: str, mapping: ColumnMapping | None, tz: tzinfo) -> None:
        self.source = source
        self.tz = tz
        self.now = datetime.now(tz)
        self.chosen: ColumnMapping | None = mapping

    def builder(self, header: Sequence[str], *, strict: bool = True) -> _Builder:
        """The builder for ``header``; the first call also settles which mapping is used."""
        if self.chosen is None:
            self.chosen = _choose_mapping(header, self.source)
        return _Builder(
            self.chosen, header, tz=self.tz, now=self.now, strict=strict, where=self.source
        )

    def first_builder(self, opened: _Opened) -> _Builder:
        """The builder for the header; a JSON source without any object has nothing to check,
        so it gets the given mapping or the native one."""
        if opened.found:
            return self.builder(opened.header)
        self.chosen = self.chosen or ColumnMapping.native()
        return self.builder(opened.header, strict=False)


class _BuilderCache:
    """One builder per distinct set of keys (JSON records need not all have the same keys)."""

    def __init__(self, ctx: _Context, keys: tuple[str, ...], first: _Builder) -> None:
        self.ctx = ctx
        self.builders: dict[tuple[str, ...], _Builder] = {keys: first}

    def get(self, record: Mapping[str, Any]) -> _Builder:
        keys = tuple(record)
        found = self.builders.get(keys)
        if found is None:
            # Later key sets bind leniently: a record lacking the text key is a rejected
            # record, not a reason to stop the whole import.
            found = self.ctx.builder(_clean_header(keys), strict=False)
            if len(self.builders) < 1000:
                self.builders[keys] = found
        return found


# --- the reader ------------------------------------------------------------------------------


class _LeftOut:
    """The count of records a mapping's filter left out, shared by the reader and its stream."""

    def __init__(self) -> None:
        self.count = 0


class ComplaintReader(Iterator[Complaint]):
    """The lazy stream :func:`read_complaints` returns; also a context manager.

    ``mapping`` is the mapping in use (the detected one when none was given), ``fmt`` the
    format and ``columns`` the header as read. Iterating to the end closes the file; call
    :meth:`close` (or use ``with``) when stopping early.
    """

    def __init__(
        self,
        opened: _Opened,
        records: Iterator[Complaint],
        mapping: ColumnMapping,
        fmt: str,
        lines: Mapping[str, tuple[int, int]] | None = None,
        left_out: _LeftOut | None = None,
        unit: str = "line",
    ) -> None:
        self._opened = opened
        self._records = records
        self._lines = lines if lines is not None else {}
        self.mapping = mapping
        self.fmt = fmt
        #: what a record's number counts: "line", "item" (JSON array) or "row" (XLSX)
        self.unit = unit
        self.columns: tuple[str, ...] = tuple(opened.header)
        self._left_out = left_out or _LeftOut()

    @property
    def left_out(self) -> int:
        """How many records the mapping's ``[filter]`` left out so far (none without one)."""
        return self._left_out.count

    def line_of(self, reference: str) -> int | None:
        """The line (item, row) of the record that became the complaint ``reference``, once
        it has been read; None for a reference this reader did not yield."""
        found = self._lines.get(reference)
        return found[0] if found else None

    def __iter__(self) -> ComplaintReader:
        return self

    def __next__(self) -> Complaint:
        try:
            return next(self._records)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the file (safe to call more than once)."""
        close = getattr(self._records, "close", None)
        if close is not None:
            close()
        self._opened.close()
        self._records = iter(())

    def __enter__(self) -> ComplaintReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_complaints(
    path: str | Path,
    *,
    mapping: ColumnMapping | None = None,
    fmt: str | InputFormat | None = None,
    tz: tzinfo,
    on_reject: Callable[[RejectedRow], None],
    on_duplicate: Callable[[int, int], None] | None = None,
    encoding: str = "utf-8-sig",
    on_clean: Callable[[CleanedRow], None] | None = None,
) -> ComplaintReader:
    """Stream the complaints in ``path``; every bad record goes to ``on_reject``.

    A record the mapping's ``[filter]`` does not keep is left out and counted
    (:attr:`ComplaintReader.left_out`). A record that repeats an earlier one of the file
    exactly (every column equal) is the same complaint twice: it is skipped, and
    ``on_duplicate(line, first_line)`` is told, if given.
    A record that repeats an earlier one's reference with different content is rejected,
    naming the line of the first.

    Every complaint is checked as every door checks it (:mod:`complaintkit.intake`), so what a
    dry run accepts a store accepts. Characters no store can hold (NUL and other control
    characters) are not a reason to reject: ``on_clean`` is told the record's line and what
    :meth:`Desk.intake_many <complaintkit.desk.Desk.intake_many>` will remove (and record in
    the complaint's history) when it is stored.

    ``mapping`` None means: our native layout if the header fits, else the preset
    :func:`detect_preset` recognises, else ConfigError listing the columns found and the fields
    that could not be filled. ``fmt`` is a built-in format's name, or an input format another
    plugin registered (:meth:`PluginHost.input_formats
    <complaintkit.host.PluginHost.input_formats>`); None means :func:`detect_format`. Dates
    without a time zone are taken in ``tz``. The file is opened and its header checked now (so
    a misfit fails before anything is imported); records are read as the result is iterated.
    """
    file = Path(path)
    source = str(path)
    chosen = _input_format(fmt if fmt is not None else detect_format(file))
    unit = chosen.unit

    def reject(line: int, field: str | None, reason: str, raw: dict[str, Any]) -> None:
        on_reject(RejectedRow(source, line, field, reason, raw, unit))

    def cleaned(line: int, removed: dict[str, str]) -> None:
        if on_clean is not None:
            on_clean(CleanedRow(source, line, removed, unit))

    ctx = _Context(source, mapping, tz)
    if not file.exists():
        raise ConfigError(f"{file} does not exist")
    opened = open_records(chosen, file, source, encoding, reject)
    try:
        # The header is bound now, so that a header fitting no mapping fails before anything
        # is imported.
        first = ctx.first_builder(opened)
    except BaseException:
        opened.close()
        raise
    assert ctx.chosen is not None  # set by the first builder
    seen: dict[str, tuple[int, int]] = {}
    left_out = _LeftOut()
    return ComplaintReader(
        opened,
        _complaints(
            opened,
            first,
            _BuilderCache(ctx, opened.keys, first),
            reject,
            on_duplicate or (lambda line, first: None),
            cleaned,
            seen,
            left_out,
        ),
        ctx.chosen,
        chosen.name,
        seen,
        left_out,
        unit,
    )


def _input_format(fmt: str | InputFormat) -> InputFormat:
    """A format given by name (a built-in one) or as a registered input format."""
    if not isinstance(fmt, str):
        return fmt
    for builtin in BUILTIN_FORMATS:
        if builtin.name == fmt:
            return builtin
    raise ConfigError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")


def _digest(row: Sequence[Any], record: dict[str, Any] | None) -> int:
    """A hash of a record as read, to tell an exact repeat from a clash of references."""
    if record is not None:
        return hash(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str))
    try:
        return hash(tuple(row))
    except TypeError:
        return hash(repr(row))


def _complaints(
    opened: _Opened,
    header_builder: _Builder,
    builders: _BuilderCache,
    reject: _Reject,
    repeated: Callable[[int, int], None],
    cleaned: Callable[[int, dict[str, str]], None],
    seen: dict[str, tuple[int, int]],
    left_out: _LeftOut,
) -> Iterator[Complaint]:
    # seen: reference -> (line, digest of the record) of its first record
    try:
        for line, row, record in opened.records:
            builder = header_builder if record is None else builders.get(record)
            if record is not None and _is_document(record):
                built = _from_document(record)
            elif builder.filters is not None and not builder.filters.keep(row):
                left_out.count += 1
                continue
            else:
                built = builder.build(row)
            if isinstance(built, Complaint):
                clean, removed = clean_complaint(built)
                problems = complaint_problems(clean)
            else:
                problems = built
            if not problems:
                assert isinstance(built, Complaint)
                digest = _digest(row, record)
                first, first_digest = seen.setdefault(built.reference, (line, digest))
                if first == line:
                    if removed:
                        cleaned(line, _removed_codes(built, removed))
                    yield built
                    continue
                if first_digest == digest:
                    repeated(line, first)
                    continue
                has_id = bool(builder.reference and _pick(row, builder.reference))
                what = "reference" if has_id else "the same content, fingerprint"
                problems = [
                    (
                        "reference",
                        f"duplicate of line {first} (both have {what} {built.reference}; "
                        "other columns differ)",
                    )
                ]
            raw = record if record is not None else dict(zip(builder.header, row, strict=False))
            field, reason = problems[0]
            if len(problems) > 1:
                reason += "".join(
                    f"; also {'field ' + f if f else 'the record'}: {r}" for f, r in problems[1:]
                )
            reject(line, field, reason, raw)
    finally:
        opened.close()


def _removed_codes(complaint: Complaint, removed: dict[str, int]) -> dict[str, str]:
    """What :func:`clean_complaint` removed, by field, as code points (``U+0000 ×2``)."""
    described: dict[str, str] = {}
    for field, count in removed.items():
        owner: Any = complaint
        name = field
        if field.startswith("complainant."):
            owner, name = complaint.complainant, field.split(".", 1)[1]
        value = getattr(owner, name, None) if "." not in name else None
        text = value if isinstance(value, str) else None
        if text is None and isinstance(value, tuple):
            text = "".join(v for v in value if isinstance(v, str))
        described[field] = describe_removed(text) if text else f"{count} character(s)"
    return described


def count_records(path: str | Path, fmt: str | InputFormat | None = None) -> int | None:
    """A cheap estimate of the number of records, for a progress bar; None when not cheap.

    CSV/TSV count lines (minus the header; a quoted field spanning lines makes it an
    overestimate), JSON Lines count lines, XLSX reads the sheet's declared size; a JSON array
    would have to be parsed, so it gives None, as does another plugin's format.
    """
    file = Path(path)
    if fmt is None:
        chosen = detect_format(file)
    elif isinstance(fmt, str):
        chosen = fmt
    else:
        chosen = fmt.name if isinstance(fmt, FileFormat) else ""
    if chosen in ("csv", "tsv", "jsonl"):
        lines = 0
        last = b"\n"
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
        except OSError:
            return None
        if last != b"\n":
            lines += 1
        return max(0, lines - 1) if chosen != "jsonl" else lines
    if chosen == "xlsx":
        try:
            from openpyxl import load_workbook

            with open(file, "rb") as handle:  # a file object: any name (see _open_xlsx)
                workbook = load_workbook(handle, read_only=True)
                try:
                    rows = workbook.worksheets[0].max_row
                finally:
                    workbook.close()
        except Exception:  # noqa: BLE001 - a progress bar is not worth an error
            return None
        return max(0, rows - 1) if isinstance(rows, int) else None
    return None
