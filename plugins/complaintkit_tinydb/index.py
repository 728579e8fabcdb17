"""The index beside a TinyDB store file: ``<file>.index``, so that a command need not parse it.

Parsing the whole JSON file is most of what a command costs on a large store (about 0.25 s of
CPU for 20,000 complaints, before building anything from it), yet ``list`` shows one page and
``show`` one complaint. Every write of the store's file also writes this index: for each
complaint, where its document lies in the file (byte offset and length) and a *projection*
of it, the fields queries filter, sort and group on (:func:`project`); and the file's other
tables (``_meta``, plugin data) whole. A reader loads the index (a few MB at 20,000), selects,
sorts and counts on the projections, and parses only the documents it returns, read at their
offsets from the data file.

Why it is safe:

* The index names the version of the data file it describes by the file's signature
  ``(st_mtime_ns, st_size, st_ino, st_dev)``, taken from the written file itself. A reader
  opens the data file first and compares the signature of *that open file* with the index's;
  any difference (another process wrote since, a crash between the two replacements, a
  hand edit, a store written by an older complaintkit) means the index is not used and the
  file is parsed as before. The open file is kept for the reads at offsets: the data file is
  only ever replaced, never rewritten in place, so those bytes are the ones indexed.
* Every document read at an offset must parse to an object with the expected reference;
  otherwise :class:`IndexMismatch` is raised and the store parses the file instead.
* Only the writer holding the store's lock writes the index, after the data file is safely
  in place, by the same write-a-temporary-then-rename as the data file. It is a cache: it
  is not fsynced, and losing it (or a torn one after a crash, which fails to parse or to
  match) costs only speed until the next write.
* The offsets are exact because the data file is written from the same pieces: the file is
  the concatenation of each document's own ``orjson`` encoding, byte for byte what encoding
  the whole data at once gives (tested), so the file stays plain TinyDB JSON.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

__all__ = [
    "INDEX_FORMAT",
    "PROJECTED",
    "Catalogue",
    "DocumentIndex",
    "IndexMismatch",
    "index_path",
    "project",
    "received_micros",
]

#: The layout of the index file; an index of another format is ignored (and rewritten).
INDEX_FORMAT = 1

#: Reading through the index holds the data file open and reads at offsets (``os.pread``).
#: Windows has no ``pread`` and cannot replace a file another process holds open, so there
#: the index is written but not read: every command parses the file, as before.
_READS_AT_OFFSETS = hasattr(os, "pread") and os.name != "nt"

Doc = dict[str, Any]
Signature = tuple[int, int, int, int]
#: What the index records of one document: reference, version, instant received (see
#: :func:`received_micros`) and the projection's JSON.
Described = tuple[str, Any, int, bytes]

#: The document keys a projection copies as they are (when present and not null); the labels
#: and the complainant are copied in part (see :func:`project`).
PROJECTED = (
    "reference",
    "received_at",
    "status",
    "channel",
    "department",
    "assignee",
    "product",
    "escalation_level",
    "due_at",
    "alert_at",
    "tags",
    "version",
)
_PARTY_IDS = ("customer_id", "phone", "email")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def received_micros(value: str) -> int:
    """A stored instant as whole microseconds since the epoch: exact, and sorting 100,000 of
    them is ten times faster than comparing aware datetimes whose tzinfo objects all differ.
    Parsed, not compared as strings: the same instant may be written with different offsets."""
    return (datetime.fromisoformat(value) - _EPOCH) // _MICROSECOND


def index_path(path: Path) -> Path:
    """``complaints.json`` → ``complaints.json.index`` in the same folder."""
    return path.with_name(path.name + ".index")


def project(doc: Doc) -> Doc:
    """The part of a stored complaint that queries read without its texts and history.

    It is itself a (partial) stored document: the store's ``document_matcher``,
    ``document_grouper`` and sort keys read it exactly as they read the whole document, with
    the same defaults for what is missing, for every filter but text search and custom fields
    (which need the whole document).
    """
    projection = {key: value for key in PROJECTED if (value := doc.get(key)) is not None}
    labels = doc.get("labels")
    if labels:
        projection["labels"] = {
            scheme: {"label": label["label"]} for scheme, label in labels.items()
        }
    who = doc.get("complainant")
    if who:
        ids = {key: value for key in _PARTY_IDS if (value := who.get(key)) is not None}
        if ids:
            projection["complainant"] = ids
    return projection


class IndexMismatch(Exception):
    """A document read through the index is not the one the index promised."""


class Catalogue:
    """One loaded index, with the data file it describes held open.

    ``tables`` holds the file's other tables. After :meth:`check`: ``ids`` are the document
    ids (as stored, strings) in file order, ``references`` maps each reference to its document
    id; :attr:`rows` (each document id's projection) is parsed on first use: counting, showing
    one complaint and the first page in received order never need it.
    """

    _columns_raw: bytes | None

    def __init__(
        self, signature: Signature, fd: int, tables: dict[str, Any], columns: bytes, rest: bytes
    ) -> None:
        self.signature = signature
        self.tables = tables
        self._fd: int | None = fd
        self._columns_raw = columns
        self._projections = rest
        self._rows: dict[str, Doc] | None = None

    def check(self) -> None:
        """Parse the columns (on first use: a command that parses the whole file anyway, as
        the reports reading histories do, never needs them); :class:`IndexMismatch` if they
        do not hold together."""
        if self._columns_raw is None:
            return
        try:
            columns = orjson.loads(self._columns_raw)
            self.ids: list[str] = columns["ids"]
            self._references: list[str] = columns["references"]
            self._received: list[int] = columns["received"]
            self._versions: list[Any] = columns["versions"]
            self._lengths: list[int] = columns["lengths"]
            self._spans: list[int] = columns["spans"]
            count = len(self.ids)
            consistent = (
                count == len(self._received) == len(self._spans) // 2 == len(self._references)
                and count == len(self._versions) == len(self._lengths)
                and len(self._projections) == 2 + sum(self._lengths) + max(count - 1, 0)
                and all(doc_id.isascii() and doc_id.isdigit() for doc_id in self.ids)
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            consistent = False
        if not consistent:
            raise IndexMismatch("the index's columns do not hold together")
        self._columns_raw = None

    @functools.cached_property
    def references(self) -> dict[str, int]:
        """Reference → document id (built on first use: a report that parses the whole file
        never needs it)."""
        return {
            reference: int(doc_id)
            for doc_id, reference in zip(self.ids, self._references, strict=True)
        }

    @functools.cached_property
    def position(self) -> dict[str, int]:
        """Document id → its place in the columns."""
        return {doc_id: number for number, doc_id in enumerate(self.ids)}

    @property
    def rows(self) -> dict[str, Doc]:
        """Document id → projection, in file order."""
        if self._rows is None:
            projections = orjson.loads(self._projections)
            if not isinstance(projections, list) or len(projections) != len(self.ids):
                raise IndexMismatch("the index's projections do not match its documents")
            self._rows = dict(zip(self.ids, projections, strict=True))
        return self._rows

    def described(self) -> list[Described]:
        """What the index records of each document, in file order (nothing parsed)."""
        raw = self._projections
        found: list[Described] = []
        position = 1
        for reference, version, micros, length in zip(
            self._references, self._versions, self._received, self._lengths, strict=True
        ):
            found.append((reference, version, micros, raw[position : position + length]))
            position += length + 1
        return found

    def in_received_order(self, *, descending: bool) -> list[str]:
        """Every document id by (instant received, reference), as the store's order key."""
        received = self._received
        references = self._references
        ordered = sorted(
            range(len(self.ids)), key=lambda n: (received[n], references[n]), reverse=descending
        )
        ids = self.ids
        return [ids[n] for n in ordered]

    def document(self, doc_id: str) -> Doc:
        """The whole stored document ``doc_id``, parsed from its bytes in the data file."""
        if self._fd is None:
            raise IndexMismatch("the catalogue is closed")
        number = self.position[doc_id]
        offset, length = self._spans[2 * number], self._spans[2 * number + 1]
        raw = os.pread(self._fd, length, offset)
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise IndexMismatch(f"document {doc_id} is not at the indexed place") from None
        if not isinstance(doc, dict) or doc.get("reference") != self._references[number]:
            raise IndexMismatch(f"document {doc_id} is not the indexed complaint")
        return doc

    def read_all(self) -> bytes:
        """The whole data file, as indexed."""
        if self._fd is None:
            raise IndexMismatch("the catalogue is closed")
        size = self.signature[1]
        raw = os.pread(self._fd, size, 0)
        if len(raw) != size:
            raise IndexMismatch("the data file is shorter than indexed")
        return raw

    def close(self) -> None:
        """Let go of the data file."""
        if self._fd is not None:
            with suppress(OSError):
                os.close(self._fd)
            self._fd = None


class Unindexable(Exception):
    """A document the index cannot describe (a hand-edited ``received_at``): the file is then
    written without an index."""


class DocumentIndex:
    """Encodes a store's data with the positions of one table's documents, writes the index
    file beside it and loads it back (see the module docstring).

    The index file is one line of JSON (the columns: document ids, references, instants
    received, spans; the other tables), a newline, and a JSON array of the projections in the
    same order, parsed only when a query needs them.

    Projections are kept between writes for documents whose reference and version did not
    change, so a write of one complaint does not project every other again; :meth:`reset`
    forgets them whenever the data may have changed some other way.
    """

    def __init__(self, path: Path, table: str, *, binary: int = 0) -> None:
        self.path = index_path(path)
        self.data_path = path
        self.table = table
        self._binary = binary
        self._kept: dict[str, Described] = {}
        #: The version of the data file the kept projections describe.
        self.projected: Signature | None = None

    def reset(self) -> None:
        """Forget the kept projections."""
        self._kept = {}
        self.projected = None

    def _describe(self, key: str, doc: Any) -> Described:
        kept = self._kept.get(key)
        if (
            kept is not None
            and isinstance(doc, dict)
            and kept[0] == doc.get("reference")
            and kept[1] == doc.get("version")
        ):
            return kept
        try:
            projection = project(doc)
            return (
                projection["reference"],
                doc.get("version"),
                received_micros(doc["received_at"]),
                orjson.dumps(projection),
            )
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise Unindexable(f"document {key}: {exc}") from exc

    def encode(self, data: dict[str, Any]) -> tuple[bytes, list[Any]]:
        """The file's bytes (exactly ``orjson.dumps(data)``) and what :meth:`save` needs to
        index them. ``orjson`` errors (``TypeError``) propagate; :class:`Unindexable` if a
        document cannot be indexed."""
        parts: list[bytes] = [b"{"]
        position = 1
        ids: list[str] = []
        spans: list[int] = []
        described: dict[str, Described] = {}
        for number, (name, table) in enumerate(data.items()):
            head = (b"," if number else b"") + orjson.dumps(name) + b":"
            parts.append(head)
            position += len(head)
            if name != self.table or not isinstance(table, dict):
                body = orjson.dumps(table)
                parts.append(body)
                position += len(body)
                continue
            parts.append(b"{")
            position += 1
            for count, (key, doc) in enumerate(table.items()):
                head = (b"," if count else b"") + orjson.dumps(key) + b":"
                body = orjson.dumps(doc)
                parts.append(head)
                parts.append(body)
                position += len(head)
                described[key] = self._describe(key, doc)
                ids.append(key)
                spans.append(position)
                spans.append(len(body))
                position += len(body)
            parts.append(b"}")
            position += 1
        parts.append(b"}")
        self._kept = described
        return b"".join(parts), [ids, spans]

    def save(self, signature: Signature, data: dict[str, Any], encoded: list[Any]) -> None:
        """Write the index of the file just written (``signature``); failures only cost speed."""
        ids, spans = encoded
        kept = self._kept
        tables = {name: table for name, table in data.items() if name != self.table}
        self._write(signature, ids, spans, [kept[key] for key in ids], tables)

    def _write(
        self,
        signature: Signature,
        ids: list[str],
        spans: list[int],
        described: list[Described],
        tables: dict[str, Any],
    ) -> None:
        self.projected = signature
        head = {"format": INDEX_FORMAT, "file": list(signature), "tables": tables}
        columns = {
            "ids": ids,
            "references": [entry[0] for entry in described],
            "versions": [entry[1] for entry in described],
            "received": [entry[2] for entry in described],
            "spans": spans,
            "lengths": [len(entry[3]) for entry in described],
        }
        # Three lines: what says whether the index is current, the columns, and the
        # projections one after another (so that a splice can reuse their bytes).
        payload = b"".join(
            (
                orjson.dumps(head),
                b"\n",
                orjson.dumps(columns),
                b"\n[",
                b",".join(entry[3] for entry in described),
                b"]",
            )
        )
        temp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | self._binary, 0o666)
            try:
                if hasattr(os, "fchmod"):  # the data file's mode: the index shows its fields
                    with suppress(OSError):
                        os.fchmod(fd, os.stat(self.data_path).st_mode & 0o7777)
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except OSError:
            # The older index names the previous file, so readers already refuse it.
            with suppress(OSError):
                os.unlink(temp)

    def splice(
        self, catalogue: Catalogue, changed: dict[str, Doc], added: list[tuple[str, Doc]]
    ) -> tuple[bytes, Callable[[Signature], None]] | None:
        """The file ``catalogue`` describes with the documents ``changed`` (document id → new
        document) replaced and ``added`` (document id, document) appended to the table, built
        from the file's bytes without parsing it; and the function that writes the index of the
        result once it is written (given its signature). None when the file's bytes are not
        laid out as the index says (the caller then parses the file).

        Raises :class:`IndexMismatch` from reading the projections, ``TypeError`` for a
        document JSON cannot hold, :class:`Unindexable` for one the index cannot describe.
        """
        old = catalogue.read_all()
        ids = list(catalogue.ids)
        if not ids:
            return None
        spans = list(catalogue._spans)
        described = catalogue.described()
        parts: list[bytes] = []
        done = 0  # bytes of the old file already copied
        shift = 0
        for number, doc_id in enumerate(ids):
            offset, length = spans[2 * number], spans[2 * number + 1]
            spans[2 * number] = offset + shift
            doc = changed.get(doc_id)
            if doc is None:
                continue
            body = orjson.dumps(doc)
            parts.append(old[done:offset])
            parts.append(body)
            done = offset + length
            spans[2 * number + 1] = len(body)
            shift += len(body) - length
            described[number] = self._describe(doc_id, doc)
        end = catalogue._spans[-2] + catalogue._spans[-1]  # the table's closing brace
        if old[end : end + 1] != b"}":
            return None
        parts.append(old[done:end])
        position = end + shift
        for doc_id, doc in added:
            head = b"," + orjson.dumps(doc_id) + b":"
            body = orjson.dumps(doc)
            parts.append(head)
            parts.append(body)
            position += len(head)
            ids.append(doc_id)
            spans.append(position)
            spans.append(len(body))
            position += len(body)
            described.append(self._describe(doc_id, doc))
        parts.append(old[end:])
        tables = catalogue.tables

        def write_index(signature: Signature) -> None:
            self._kept = dict(zip(ids, described, strict=True))
            self._write(signature, ids, spans, described, tables)

        return b"".join(parts), write_index

    def load(self, signature_of: Callable[[int], Signature]) -> Catalogue | None:
        """The index of the data file as it is now, or None when there is none that matches.

        ``signature_of`` gives the signature of an open file descriptor.
        """
        if not _READS_AT_OFFSETS:
            return None
        try:
            fd = os.open(self.data_path, os.O_RDONLY | self._binary)
        except OSError:
            return None
        try:
            signature = signature_of(fd)
            with open(self.path, "rb") as handle:
                raw = handle.read()
            first = raw.find(b"\n")
            second = raw.find(b"\n", first + 1)
            head = orjson.loads(memoryview(raw)[:first] if 0 <= first < second else b"")
            if (
                not isinstance(head, dict)
                or head.get("format") != INDEX_FORMAT
                or tuple(head.get("file") or ()) != signature
                or not isinstance(head.get("tables"), dict)
            ):
                os.close(fd)
                return None
            catalogue = Catalogue(
                signature, fd, head["tables"], raw[first + 1 : second], raw[second + 1 :]
            )
        except (OSError, ValueError, TypeError, KeyError):
            # Missing, torn or foreign: parse the data file instead.
            with suppress(OSError):
                os.close(fd)
            return None
        return catalogue

    def adopt(self, catalogue: Catalogue) -> None:
        """Keep what a loaded index records for the next write (of the same file version)."""
        catalogue.check()
        self._kept = dict(zip(catalogue.ids, catalogue.described(), strict=True))
        self.projected = catalogue.signature
