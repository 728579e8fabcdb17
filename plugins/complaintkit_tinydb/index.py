"""The index beside a TinyDB store file: ``<file>.index``, so that a command need not parse it.

Parsing the whole JSON file is most of what a command costs on a large store (about 0.25 s of
CPU for 20,000 complaints, before building anything from it), yet ``list`` shows one page and
``show`` one complaint. Every write of the store's file also writes this index: for each
complaint, where its document lies in the file (byte offset and length) and a *projection*
of it, the fields queries filter, sort and group on (:func:`project`); and the file's other
tables (``_meta``, plugin data) whole. A reader loads the index (a few MB at 20,000), selects,
sorts and counts on the projections, and parses only the documents it returns, read at their
offsets from the data file. Beside each projection it keeps the complaint's *record*
(:func:`fact_record`): what the reports' facts need beyond the projection (the one pass over
its history, remedies, satisfaction, …) and each label's confidence and classifier, so that
the reports that read histories and the review queue need not parse the file either.

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
import gc
import os
import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import orjson

from complaintkit.facts import HISTORY_ACTIONS, HistoryFacts, scan_history
from complaintkit.model import Label
from complaintkit.storage import gc_paused

__all__ = [
    "INDEX_FORMAT",
    "PROJECTED",
    "RECORDED",
    "Catalogue",
    "DocumentIndex",
    "IndexMismatch",
    "fact_record",
    "history_of",
    "index_path",
    "label_confidences",
    "project",
    "received_micros",
    "scan_values",
]

#: The layout of the index file; an index of another format is ignored (and rewritten).
INDEX_FORMAT = 2

#: Reading through the index holds the data file open and reads at offsets (``os.pread``).
#: Windows has no ``pread`` and cannot replace a file another process holds open, so there
#: the index is written but not read: every command parses the file, as before.
_READS_AT_OFFSETS = hasattr(os, "pread") and os.name != "nt"

Doc = dict[str, Any]
Signature = tuple[int, int, int, int]
#: What the index records of one document: reference, version, instant received (see
#: :func:`received_micros`), the projection's JSON and the record's (:func:`fact_record`).
Described = tuple[str, Any, int, bytes, bytes]

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
#: The document keys a record (:func:`fact_record`) copies as they are (when present and not
#: null): what the facts read beyond the projection.
RECORDED = ("sla_policy", "satisfaction", "parent", "recomplaint_count", "remedies")
#: The record's keys for the pass over the history and for the labels' confidences.
HISTORY_KEY = "scan"
CONFIDENCES_KEY = "confidences"
_LABEL_DEFAULTS = attrs.fields(Label)
#: What a record leaves out of the keys of :data:`RECORDED` when the document holds it: the
#: values the facts take for them when missing.
_RECORD_DEFAULTS: dict[str, Any] = {"recomplaint_count": 0, "remedies": []}


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


def history_of(doc: Doc) -> HistoryFacts[str]:
    """:func:`~complaintkit.facts.scan_history` over a stored document's history, its instants
    left as the stored strings (only the events it looks at are passed)."""
    return scan_history(
        (action, e["at"], e.get("data"))
        for e in doc.get("history", ())
        if (action := e["action"]) in HISTORY_ACTIONS  # the others change nothing
    )


def scan_values(found: HistoryFacts[str]) -> list[Any]:
    """A pass over a history as the list a record holds: the fields of
    :class:`~complaintkit.facts.HistoryFacts` in their order, sets as sorted lists."""
    return [
        found.acknowledged,
        found.responded,
        found.resolved,
        found.reopened,
        found.reopened_at,
        sorted(found.breached),
        found.escalations,
        [list(pause) for pause in found.pauses],
        sorted(found.untimed),
    ]


def fact_record(doc: Doc) -> Doc:
    """What the reports' facts and the review queue read of a stored complaint beyond its
    projection: the keys of :data:`RECORDED`, the pass over its history (:func:`history_of`,
    as a list) and, per scheme, the label's ``[confidence, classifier]``."""
    record = {
        key: value
        for key in RECORDED
        if (value := doc.get(key)) is not None and value != _RECORD_DEFAULTS.get(key)
    }
    record[HISTORY_KEY] = scan_values(history_of(doc))
    labels = doc.get("labels")
    if labels:
        record[CONFIDENCES_KEY] = label_confidences(labels)
    return record


def label_confidences(labels: dict[str, Doc]) -> dict[str, list[Any]]:
    """Scheme → ``[confidence, classifier]`` of a stored document's labels (the model's
    defaults for what a hand-edited document lacks)."""
    return {
        scheme: [
            label.get("confidence", _LABEL_DEFAULTS.confidence.default),
            label.get("classifier", _LABEL_DEFAULTS.classifier.default),
        ]
        for scheme, label in labels.items()
    }


class IndexMismatch(Exception):
    """A document read through the index is not the one the index promised."""


class Catalogue:
    """One loaded index, with the data file it describes held open.

    ``tables`` holds the file's other tables. After :meth:`check`: ``ids`` are the document
    ids (as stored, strings) in file order, ``references`` maps each reference to its document
    id; :attr:`rows` (each document id's projection) and :attr:`records` (each reference's
    :func:`fact_record`) are parsed on first use: counting, showing one complaint and the
    first page in received order never need them.
    """

    _columns_raw: bytes | None

    def __init__(
        self,
        signature: Signature,
        fd: int,
        tables: dict[str, Any],
        columns: bytes,
        projections: bytes,
        records: bytes,
    ) -> None:
        self.signature = signature
        self.tables = tables
        self._fd: int | None = fd
        self._columns_raw = columns
        self._projections = projections
        self._records_raw = records
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
            self._record_lengths: list[int] = columns["record_lengths"]
            self._spans: list[int] = columns["spans"]
            count = len(self.ids)
            separators = max(count - 1, 0)
            consistent = (
                count == len(self._received) == len(self._spans) // 2 == len(self._references)
                and count == len(self._versions) == len(self._lengths)
                and count == len(self._record_lengths)
                and len(self._projections) == 2 + sum(self._lengths) + separators
                and len(self._records_raw) == 2 + sum(self._record_lengths) + separators
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
            with gc_paused():
                projections = orjson.loads(self._projections)
                gc.freeze()  # long-lived and acyclic, as the parsed file
            if not isinstance(projections, list) or len(projections) != len(self.ids):
                raise IndexMismatch("the index's projections do not match its documents")
            self._rows = dict(zip(self.ids, projections, strict=True))
        return self._rows

    @functools.cached_property
    def records(self) -> dict[str, Doc]:
        """Reference → the complaint's record (:func:`fact_record`)."""
        with gc_paused():
            records = orjson.loads(self._records_raw)
            gc.freeze()  # long-lived and acyclic, as the parsed file (see SafeJSONStorage.read)
        if (
            not isinstance(records, list)
            or len(records) != len(self.ids)
            or not all(isinstance(record, dict) for record in records)
        ):
            raise IndexMismatch("the index's records do not match its documents")
        return dict(zip(self._references, records, strict=True))

    def described(self) -> list[Described]:
        """What the index records of each document, in file order (nothing parsed)."""
        raw = self._projections
        records = self._records_raw
        found: list[Described] = []
        position = record_position = 1
        for reference, version, micros, length, record_length in zip(
            self._references,
            self._versions,
            self._received,
            self._lengths,
            self._record_lengths,
            strict=True,
        ):
            found.append(
                (
                    reference,
                    version,
                    micros,
                    raw[position : position + length],
                    records[record_position : record_position + record_length],
                )
            )
            position += length + 1
            record_position += record_length + 1
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

    The index file is one line of JSON saying which file version it describes (and the other
    tables), a line of the columns (document ids, references, instants received, spans), a
    line with the JSON array of the projections in the same order and one with that of the
    records (:func:`fact_record`), each parsed only when a query needs it.

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
                orjson.dumps(fact_record(doc)),
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
            "record_lengths": [len(entry[4]) for entry in described],
        }
        # Four lines: what says whether the index is current, the columns, and the
        # projections and the records one after another (so that a splice can reuse their
        # bytes).
        payload = b"".join(
            (
                orjson.dumps(head),
                b"\n",
                orjson.dumps(columns),
                b"\n[",
                b",".join(entry[3] for entry in described),
                b"]\n[",
                b",".join(entry[4] for entry in described),
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
            third = raw.find(b"\n", second + 1)
            head = orjson.loads(memoryview(raw)[:first] if 0 <= first < second < third else b"")
            if (
                not isinstance(head, dict)
                or head.get("format") != INDEX_FORMAT
                or tuple(head.get("file") or ()) != signature
                or not isinstance(head.get("tables"), dict)
            ):
                os.close(fd)
                return None
            catalogue = Catalogue(
                signature,
                fd,
                head["tables"],
                raw[first + 1 : second],
                raw[second + 1 : third],
                raw[third + 1 :],
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
