"""The embedded default store: complaints in one TinyDB JSON file.

URL: ``tinydb:///absolute/path.json`` or ``tinydb://relative/path.json`` (relative to the working
directory), complaintkit's convention for every file store
(:func:`complaintkit.storage.store_path`).
Options, from the ``[storage]`` table of ``complaintkit.toml``:

``lock_timeout`` (seconds, default 30)
    how long a write waits for another process's write before raising
    :class:`~complaintkit.errors.StoreLockedError`;
``warn_above`` (complaints, default 20000)
    when an addition takes the store above this size it warns, once per process
    (:class:`LargeStoreWarning`), that a single JSON file is no longer interactive;
``fsync`` (default true)
    make every write durable before returning; turn off only for throw-away stores.

The file is TinyDB's own format, so any TinyDB or JSON tool can read it::

    {"complaints": {"1": {...complaint...}, "2": {...}}, "_meta": {"1": {"format": 1}}}

How it stays safe and fast (see :mod:`complaintkit_tinydb.storage` for the file handling):

* every change runs in a storage transaction: the write lock is held, the file is re-read if
  another process changed it, the optimistic version check is made against that fresh data,
  and the whole file is written once, atomically;
* every write also writes an index beside the file (:mod:`complaintkit_tinydb.index`): a
  page of ``list``, ``get``, counts and group-bys read it and parse only the complaints they
  return, and a small change (``add``, ``update``, ``update_many`` of up to 1,000) puts the
  changed documents' bytes into the file without parsing it. The index also keeps what the
  reports' facts and the review queue read of each complaint (its history's pass, its labels'
  confidences), so ``facts``, ``fact_columns`` and ``label_summaries`` read it too. Whatever
  needs every whole document (text search, listings of everything) parses the file; the
  parsed file is cached and only re-parsed when it changed on disk;
* queries filter and group the raw JSON documents and only turn the selected ones into
  :class:`~complaintkit.model.Complaint` objects; ``facts`` (what reports read) is computed from
  the raw documents without building any.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
import cattrs
import orjson
from tinydb import TinyDB
from tinydb.table import Document

from complaintkit.errors import (
    ConfigError,
    ConflictError,
    DuplicateComplaintError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from complaintkit.facts import (
    FACT_FIELDS,
    LABEL_FIELD,
    ComplaintFacts,
    ComplaintLabels,
    LabelSummary,
)
from complaintkit.model import (
    OPEN_STATUSES,
    Channel,
    Complaint,
    EscalationLevel,
    Remedy,
    Status,
)
from complaintkit.serialization import complaint_to_data, make_converter
from complaintkit.storage import (
    GROUP_KEYS,
    AddResult,
    ComplaintFilter,
    SortOrder,
    UpdateResult,
    check_page,
    custom_text,
    gc_paused,
    parse_url,
    store_path,
)

from .attachments import FolderAttachments, attachments_path
from .outbox import SQLiteOutbox, outbox_path

if TYPE_CHECKING:
    from .plugindata import TinyDBPluginData
from .index import (
    CONFIDENCES_KEY,
    HISTORY_KEY,
    Catalogue,
    DocumentIndex,
    IndexMismatch,
    Unindexable,
    history_of,
    label_confidences,
    received_micros,
    scan_values,
)
from .storage import (
    BINARY,
    SafeJSONStorage,
    Signature,
    fd_signature,
    path_signature,
)

__all__ = [
    "FORMAT",
    "LargeStoreWarning",
    "TinyDBOptions",
    "TinyDBStore",
    "document_facts",
    "document_group_value",
    "document_grouper",
    "document_matcher",
    "open_tinydb",
    "path_from_url",
]

#: The version of the document layout this module reads and writes (stored in ``_meta``).
FORMAT = 1
COMPLAINTS_TABLE = "complaints"
META_TABLE = "_meta"

Doc = dict[str, Any]
S = TypeVar("S")
T = TypeVar("T")

# Paths we already warned about: the warning is for the person at the keyboard, once is enough.
_warned: set[str] = set()


class LargeStoreWarning(UserWarning):
    """The store holds more complaints than a single JSON file handles interactively."""


@cache
def _converter() -> cattrs.Converter:
    # The trusted converter: the store wrote these documents itself, so skip detailed checks.
    return make_converter(checking=False)


@attrs.frozen
class TinyDBOptions:
    """The TinyDB store's options (the ``[storage]`` table of the configuration)."""

    lock_timeout: float = 30.0
    warn_above: int = 20_000
    fsync: bool = True

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> TinyDBOptions:
        """Read the options this backend knows; other keys belong to other backends.

        A key one typo away from one of ours (``lock_timout``) is refused rather than ignored.
        """
        import difflib

        known = [field.name for field in attrs.fields(cls)]
        for key in options:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.8)
            if key not in known and close:
                raise ConfigError(f"[storage] unknown option {key!r}; did you mean {close[0]!r}?")
        defaults = cls()
        lock_timeout = options.get("lock_timeout", defaults.lock_timeout)
        warn_above = options.get("warn_above", defaults.warn_above)
        fsync = options.get("fsync", defaults.fsync)
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int | float):
            raise ConfigError(
                f"[storage] lock_timeout must be a number of seconds, got {lock_timeout!r}"
            )
        if lock_timeout < 0:
            raise ConfigError(f"[storage] lock_timeout must not be negative, got {lock_timeout!r}")
        if isinstance(warn_above, bool) or not isinstance(warn_above, int) or warn_above < 0:
            raise ConfigError(
                f"[storage] warn_above must be a whole number of complaints, got {warn_above!r}"
            )
        if not isinstance(fsync, bool):
            raise ConfigError(f"[storage] fsync must be true or false, got {fsync!r}")
        return cls(lock_timeout=float(lock_timeout), warn_above=warn_above, fsync=fsync)


def path_from_url(url: str) -> Path:
    """The file a ``tinydb://`` URL names, made absolute against the working directory."""
    scheme, _ = parse_url(url)
    if scheme != "tinydb":
        raise ConfigError(f"{url!r} is not a tinydb:// URL")
    return store_path(url)


def open_tinydb(url: str, options: Mapping[str, Any] | None = None) -> TinyDBStore:
    """Open the store a ``tinydb://`` URL names (the backend's ``open`` function)."""
    opts = TinyDBOptions.from_mapping(options or {})
    return TinyDBStore(path_from_url(url), options=opts)


class TinyDBStore:
    """A :class:`~complaintkit.storage.Store` in one JSON file, safe between processes.

    Opening parses the file (a corrupt file raises :class:`StorageError` at once) and creates
    nothing. A missing file is a store that does not exist yet (:meth:`exists` is False): it
    reads as empty, and :meth:`initialize` or the first write creates it with its folder.
    ``url`` is ``tinydb://`` and the absolute path. Not thread-safe: open one store per thread
    (they coordinate through the file lock like separate processes).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        options: TinyDBOptions | None = None,
        url: str | None = None,
    ) -> None:
        self.options = options or TinyDBOptions()
        self.path = Path(os.path.abspath(path))
        self.url = url or f"tinydb://{self.path}"
        self._db = TinyDB(
            self.path,
            storage=SafeJSONStorage,
            create_dirs=True,  # initialize() and the first write create the folder too
            fsync=self.options.fsync,
            lock_timeout=self.options.lock_timeout,
        )
        self.storage = cast(SafeJSONStorage, self._db.storage)
        # No query cache: another process may change the file between two of our queries.
        self._table = self._db.table(COMPLAINTS_TABLE, cache_size=0)
        self._meta = self._db.table(META_TABLE, cache_size=0)
        self._index: dict[str, int] = {}
        self._next_id = 1
        self._generation = -1
        self._closed = False
        self._outbox: SQLiteOutbox | None = None
        self._attachments: FolderAttachments | None = None
        self.storage.index = DocumentIndex(self.path, COMPLAINTS_TABLE, binary=BINARY)
        self._catalogue_: Catalogue | None = None
        self._no_index: Signature | None = None  # the file version whose index failed
        self._selection: tuple[tuple[object, ...], list[Doc]] | None = None
        try:
            if self._catalogue(columns=False) is None:
                self._docs()
        except BaseException:
            self._drop_catalogue()
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"TinyDBStore({str(self.path)!r})"

    # --- the raw view -------------------------------------------------------------------

    def _docs(self) -> dict[str, Doc]:
        """The complaints table as stored (doc_id string → document), current with the disk."""
        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        data = self.storage.read()
        if self.storage.generation != self._generation:
            self._rebuild(data)
        return (data or {}).get(COMPLAINTS_TABLE, {})

    def _catalogue(self, *, columns: bool = True) -> Catalogue | None:
        """The file's index (:mod:`complaintkit_tinydb.index`) when it describes the file as it
        is now and saves parsing it: None inside a write, when this store already holds the
        parsed file, or when there is no matching index (then the caller parses the file).
        Without ``columns``, only what says the index is current (and the other tables) is
        read: opening the store and plugin data need no more."""
        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        if self.storage.in_transaction:
            return None
        try:
            current = path_signature(self.path)
        except OSError:
            return None  # no file yet (or unreadable): the parsing path says which
        if self.storage.holds(current):
            return None
        catalogue = self._opened_catalogue(current)
        if catalogue is None or not columns:
            return catalogue
        try:
            catalogue.check()
        except IndexMismatch:
            self._set_aside(catalogue)
            return None
        return catalogue

    def _opened_catalogue(self, current: Signature) -> Catalogue | None:
        """The index of the file version ``current``, loaded but not yet checked (opening the
        store stops here: a command that will parse the whole file pays nothing more)."""
        catalogue = self._catalogue_
        if catalogue is not None and catalogue.signature == current:
            return catalogue
        self._drop_catalogue()
        if current == self._no_index or self.storage.index is None:
            return None
        with gc_paused():
            catalogue = self.storage.index.load(fd_signature)
        if catalogue is None or not _readable_meta(catalogue.tables.get(META_TABLE)):
            if catalogue is not None:
                catalogue.close()
            self._no_index = current
            return None
        self._catalogue_ = catalogue
        return catalogue

    def _drop_catalogue(self) -> None:
        self._selection = None
        if self._catalogue_ is not None:
            self._catalogue_.close()
            self._catalogue_ = None

    def _documents_of(self, catalogue: Catalogue, doc_ids: list[str]) -> list[Doc] | None:
        """The whole documents through the index, or None (and the index set aside for this
        version of the file) if one is not where the index says."""
        try:
            return [catalogue.document(doc_id) for doc_id in doc_ids]
        except IndexMismatch:
            self._set_aside(catalogue)
            return None

    def _set_aside(self, catalogue: Catalogue) -> None:
        """Stop using an index that proved wrong for this version of the file."""
        self._no_index = catalogue.signature
        self._drop_catalogue()

    def _rebuild(self, data: dict[str, dict[str, Any]] | None) -> None:
        """Re-derive the reference index after the file changed under us."""
        data = data or {}
        for name, table in data.items():
            if not isinstance(table, dict):
                raise self.storage.corrupt(f"table {name!r} is not a JSON object")
        for meta in data.get(META_TABLE, {}).values():
            found = meta.get("format") if isinstance(meta, dict) else None
            if not isinstance(found, int):
                raise self.storage.corrupt(f"its _meta table has no format number ({meta!r})")
            if found > FORMAT:
                raise self.storage.corrupt(
                    f"it was written by a newer complaintkit (format {found}; this one reads "
                    f"format {FORMAT}); upgrade complaintkit"
                )
        index: dict[str, int] = {}
        with gc_paused():
            self._index_documents(data.get(COMPLAINTS_TABLE, {}), index)
        self._index = index
        self._next_id = max(index.values(), default=0) + 1
        self._generation = self.storage.generation

    def _index_documents(self, docs: dict[str, Any], index: dict[str, int]) -> None:
        """Fill ``index`` (reference → doc_id), refusing documents that are not complaints."""
        for key, doc in docs.items():
            reference = doc.get("reference") if isinstance(doc, dict) else None
            if not isinstance(reference, str) or not (key.isascii() and key.isdigit()):
                raise self.storage.corrupt(f"document {key!r} is not a complaint with a reference")
            doc_id = int(key)
            if reference in index:
                raise self.storage.corrupt(
                    f"reference {reference!r} is stored twice (documents {index[reference]} "
                    f"and {doc_id})"
                )
            index[reference] = doc_id

    def _check_size(self, count: int) -> None:
        key = str(self.path)
        if count <= self.options.warn_above or key in _warned:
            return
        _warned.add(key)
        warnings.warn(
            LargeStoreWarning(
                f"{self.path} holds {count:,} complaints; past {self.options.warn_above:,} a "
                "single JSON file stops being interactive (every change rewrites the whole "
                "file). A SQL storage backend (sqlite://, postgresql://) is the way to grow"
            ),
            stacklevel=3,
        )

    def _structure(self, doc: Doc, *, fresh: bool = False) -> Complaint:
        try:
            # The orjson round trip detaches the result from the cache: cattrs copies
            # dict[str, Any] fields (custom, event data) only one level deep. A document
            # read through the index (``fresh``) is nobody else's.
            if not fresh:
                doc = orjson.loads(orjson.dumps(doc))
            return _converter().structure(doc, Complaint)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            raise StorageError(
                f"{self.path}: complaint {doc.get('reference')!r} cannot be read ({exc}); "
                "the file was not modified"
            ) from exc

    def _structure_all(self, docs: list[Doc], *, fresh: bool = False) -> Iterator[Complaint]:
        # In chunks with the collector paused (see gc_paused), but never paused while the
        # caller's code runs between two complaints for longer than one chunk.
        for start in range(0, len(docs), _CHUNK):
            with gc_paused():
                chunk = [self._structure(doc, fresh=fresh) for doc in docs[start : start + _CHUNK]]
            yield from chunk

    @staticmethod
    def _document(complaint: Complaint) -> Doc:
        # complaint_to_data builds fresh containers all the way down, so the cache never shares
        # objects with the caller's complaint, and refuses what JSON cannot hold — here, where
        # the complaint can be named, rather than when the whole file is written.
        try:
            return complaint_to_data(complaint)
        except TypeError as exc:
            raise ValidationError(
                f"complaint {complaint.reference}", [f"cannot be stored as JSON: {exc}"]
            ) from exc

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[dict[str, Doc]]:
        """Lock, current data, and one file write at the end (none if nothing changed)."""
        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        with self.storage.transaction():
            docs = self._docs()
            catalogue, index = self._catalogue_, self.storage.index
            if (
                catalogue is not None
                and index is not None
                and index.projected != catalogue.signature
                and self.storage.holds(catalogue.signature)
            ):
                # The file read for this write is the one the index describes: its projections
                # serve the index written at the end (parsing them is cheaper than projecting).
                with suppress(IndexMismatch):
                    index.adopt(catalogue)
            yield docs

    def _change(self, change: Callable[[], object]) -> None:
        """Run a TinyDB write; if it fails half-way, drop the (possibly mutated) cache.

        The collector is paused: TinyDB rebuilds the table's dict, and a batch insert copies
        every document, which would set off full collections over the whole cached file.
        """
        try:
            with gc_paused():
                if META_TABLE not in (self.storage.read() or {}):
                    self._meta.insert(Document({"format": FORMAT}, doc_id=1))
                change()
        except BaseException:
            self.storage.invalidate()
            raise

    def exists(self) -> bool:
        """Whether the file exists (a store nobody created reads as empty)."""
        return self.path.exists()

    def initialize(self) -> None:
        """Create the file (and its folder) holding an empty store, unless it exists already."""
        with self._writing():
            if COMPLAINTS_TABLE not in (self.storage.read() or {}):
                # A no-op update still makes TinyDB write the (empty) table.
                self._change(lambda: self._table.update({}, doc_ids=[]))

    def add(self, complaint: Complaint) -> Complaint:
        """Store a new complaint at version 1 (DuplicateComplaintError if the reference exists)."""
        stored = attrs.evolve(complaint, version=1)
        doc = self._document(stored)

        def append(catalogue: Catalogue) -> _Splice:
            if complaint.reference in catalogue.references:
                raise DuplicateComplaintError(complaint.reference)
            doc_id = max(map(int, catalogue.ids), default=0) + 1
            return {}, [(str(doc_id), doc)]

        count = self._spliced(append)
        if count is None:
            with self._writing():
                if complaint.reference in self._index:
                    raise DuplicateComplaintError(complaint.reference)
                doc_id = self._next_id
                self._change(lambda: self._table.insert(Document(doc, doc_id=doc_id)))
                self._index[complaint.reference] = doc_id
                self._next_id = doc_id + 1
            count = len(self._index)
        self._check_size(count)
        return stored

    def add_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store new complaints with one file write; known and repeated references are skipped.

        The iterable is consumed as a stream before the lock is taken, so a slow producer
        (parsing, classifying) never blocks other writers. The garbage collector is paused
        while it is consumed: every complaint kept adds dozens of long-lived objects, and the
        collector would otherwise walk all of them again and again (it makes a 100,000-complaint
        import about 1.5 times slower).
        """
        return self._insert_many(complaints, keep_version=False)

    def restore_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store complaints exactly as given, versions kept, with one file write.

        Known and repeated references are skipped and reported, never overwritten (see
        :class:`~complaintkit.storage.RestorableStore`); ``complaintkit migrate`` writes
        through it.
        """
        return self._insert_many(complaints, keep_version=True)

    def _insert_many(self, complaints: Iterable[Complaint], *, keep_version: bool) -> AddResult:
        known = self._references()  # so known references are skipped without conversion
        pending: dict[str, Doc] = {}
        skipped: list[str] = []
        with gc_paused():
            for complaint in complaints:
                reference = complaint.reference
                if reference in pending or reference in known:
                    skipped.append(reference)
                    continue
                doc = self._document(complaint)
                if not keep_version:
                    doc["version"] = 1  # cheaper than attrs.evolve, which shows at this scale
                pending[reference] = doc
        return self._write_new(pending, skipped)

    def restore_data_many(self, documents: Iterable[Doc]) -> AddResult:
        """Store complaints given as plain data (what
        :func:`~complaintkit.serialization.complaint_to_data` gives, e.g. a SQL store's
        ``find_data``) as they are, with one file write: ``restore_many`` without building or
        serialising any model object (see :class:`~complaintkit.storage.DataRestorableStore`).

        Each document must be a complaint's data; it is kept as given (not copied: the caller
        hands it over). Known and repeated references are skipped and reported.
        """
        self._docs()
        pending: dict[str, Doc] = {}
        skipped: list[str] = []
        with gc_paused():
            for doc in documents:
                reference = doc["reference"]
                if reference in pending or reference in self._index:
                    skipped.append(reference)
                else:
                    pending[reference] = doc
        return self._write_new(pending, skipped)

    def _write_new(self, pending: dict[str, Doc], skipped: list[str]) -> AddResult:
        """Add the ``pending`` documents (reference → document) in one file write, skipping
        those another process added meanwhile (``skipped`` gets them)."""
        if not pending:
            return AddResult(0, tuple(skipped))
        with self._writing():
            # Another process may have added some of them while we were reading the stream.
            late = [reference for reference in pending if reference in self._index]
            for reference in late:
                del pending[reference]
            skipped.extend(late)
            if pending:
                first = self._next_id
                documents = (
                    Document(doc, doc_id=first + offset)
                    for offset, doc in enumerate(pending.values())
                )
                # insert_multiple adds everything in one table update (per-record insert()
                # would rewrite the table once per record).
                self._change(lambda: self._table.insert_multiple(documents))
                for offset, reference in enumerate(pending):
                    self._index[reference] = first + offset
                self._next_id = first + len(pending)
        self._check_size(len(self._index))
        return AddResult(len(pending), tuple(skipped))

    def update(self, complaint: Complaint) -> Complaint:
        """Replace a complaint if its version is the stored one; return it at version + 1."""
        stored = attrs.evolve(complaint, version=complaint.version + 1)
        doc = self._document(stored)

        def replace(catalogue: Catalogue) -> _Splice:
            doc_id = catalogue.references.get(complaint.reference)
            if doc_id is None:
                raise NotFoundError(complaint.reference)
            found = catalogue.document(str(doc_id)).get("version", 0)
            if found != complaint.version:
                raise ConflictError(complaint.reference, complaint.version, found)
            return {str(doc_id): doc}, []

        if self._spliced(replace) is not None:
            return stored
        with self._writing() as docs:
            doc_id = self._index.get(complaint.reference)
            if doc_id is None:
                raise NotFoundError(complaint.reference)
            found = docs[str(doc_id)].get("version", 0)
            if found != complaint.version:
                raise ConflictError(complaint.reference, complaint.version, found)
            self._change(
                lambda: self._table.update(_replace_with({doc["reference"]: doc}), doc_ids=[doc_id])
            )
        return stored

    def update_many(self, complaints: Iterable[Complaint]) -> UpdateResult:
        """Write every complaint whose version is current in one file write; report the rest.

        A reference given twice is applied in order, so the second copy conflicts unless it was
        based on the first. An unknown reference raises NotFoundError and nothing is written.
        """
        wanted = [
            (complaint, stored, self._document(stored))
            for complaint in complaints
            for stored in (attrs.evolve(complaint, version=complaint.version + 1),)
        ]
        updated: list[Complaint] = []
        conflicts: list[str] = []

        def choose(index: Mapping[str, int], version: Callable[[int], int]) -> dict[int, Doc]:
            updated.clear()
            conflicts.clear()
            versions: dict[str, int] = {}
            chosen: dict[int, Doc] = {}
            for complaint, stored, doc in wanted:
                reference = complaint.reference
                doc_id = index.get(reference)
                if doc_id is None:
                    raise NotFoundError(reference)
                found = versions.get(reference)
                if found is None:
                    found = version(doc_id)
                if found != complaint.version:
                    conflicts.append(reference)
                    continue
                versions[reference] = stored.version
                chosen[doc_id] = doc
                updated.append(stored)
            return chosen

        def replace(catalogue: Catalogue) -> _Splice:
            chosen = choose(
                catalogue.references,
                lambda doc_id: catalogue.document(str(doc_id)).get("version", 0),
            )
            return {str(doc_id): doc for doc_id, doc in chosen.items()}, []

        if len(wanted) > _SPLICE_AT_MOST or self._spliced(replace) is None:
            with self._writing() as docs:
                chosen = choose(self._index, lambda doc_id: docs[str(doc_id)].get("version", 0))
                if chosen:
                    replace_docs = _replace_with({doc["reference"]: doc for doc in chosen.values()})
                    self._change(lambda: self._table.update(replace_docs, doc_ids=list(chosen)))
        return UpdateResult(tuple(updated), tuple(conflicts))

    def _spliced(self, prepare: Callable[[Catalogue], _Splice]) -> int | None:
        """Make a small change without parsing the file: under the lock, with the index of the
        file as it is now, ``prepare`` checks the change against it (raising as the write would)
        and names the documents to replace and to append; the new file is the old one's bytes
        with those documents' bytes put in (:meth:`DocumentIndex.splice`), written as every
        write is (a temporary file, fsync, rename), and its index after it.

        Returns how many complaints the store then holds, or None when this way is not open
        (no index matching the file, or this store already holds the parsed file, which makes
        the usual write as cheap): the caller then writes the usual way.
        """
        index = self.storage.index
        if self._closed or index is None or self.storage.in_transaction:
            return None
        with self.storage.lock:
            catalogue = self._catalogue()
            if catalogue is None or META_TABLE not in catalogue.tables:
                return None
            try:
                changed, added = prepare(catalogue)
                if not changed and not added:
                    return len(catalogue.ids)
                with gc_paused():
                    spliced = index.splice(catalogue, changed, added)
            except (IndexMismatch, Unindexable):
                spliced = None
            if spliced is None:
                self._set_aside(catalogue)
                return None
            payload, write_index = spliced
            count = len(catalogue.ids) + len(added)
            self._drop_catalogue()
            signature = self.storage.replace_bytes(payload)
            with gc_paused():
                write_index(signature)
        return count

    # --- reading ------------------------------------------------------------------------

    def _references(self) -> Mapping[str, int]:
        """Reference → document id of every stored complaint, current with the disk."""
        catalogue = self._catalogue()
        if catalogue is not None:
            return catalogue.references
        self._docs()
        return self._index

    def get(self, reference: str) -> Complaint:
        """The complaint with ``reference`` as currently stored (NotFoundError if none)."""
        catalogue = self._catalogue()
        if catalogue is not None:
            doc_id = catalogue.references.get(reference)
            if doc_id is None:
                raise NotFoundError(reference)
            found = self._documents_of(catalogue, [str(doc_id)])
            if found is not None:
                return self._structure(found[0], fresh=True)
        docs = self._docs()
        doc_id = self._index.get(reference)
        if doc_id is None:
            raise NotFoundError(reference)
        return self._structure(docs[str(doc_id)])

    def _rows(
        self, flt: ComplaintFilter | None, *, whole: bool = False
    ) -> tuple[Catalogue | None, list[Doc]]:
        """The documents matching ``flt``: the index's projections (with that index) when the
        filter can be judged on them and ``whole`` documents are not asked for, else the parsed
        file's documents (and None)."""
        catalogue = None if whole or _needs_documents(flt) else self._catalogue()
        if catalogue is None:
            rows: Iterable[Doc] = self._docs().values()
        else:
            try:
                rows = catalogue.rows.values()
            except IndexMismatch:
                self._set_aside(catalogue)
                return self._rows(flt, whole=whole)
        if flt is None or flt == _EVERYTHING:
            return catalogue, list(rows)
        # Reports count the same selection by one key after another: judge it once. The key
        # names the data judged (the index, or the parsed file as of this store's last write).
        key = (flt, catalogue, self.storage.generation, self.storage.writes)
        if (
            self._selection is not None
            and self._selection[0] == key
            and not self.storage.in_transaction
        ):
            return catalogue, list(self._selection[1])
        matches = document_matcher(flt)
        with gc_paused():
            selected = [row for row in rows if matches(row)]
        self._selection = (key, selected)
        return catalogue, list(selected)

    def _page(
        self,
        flt: ComplaintFilter | None,
        order: SortOrder | None,
        *,
        limit: int | None,
        offset: int,
    ) -> Iterator[Complaint]:
        """The complaints of one page of the matches of ``flt`` in ``order`` (None: ``find``'s
        order). A bounded page is selected on the index and only its documents are parsed; a
        whole listing parses the file (once, kept for the next query)."""
        end = None if limit is None else offset + limit
        by_received = order is None or order.key == "received_at"
        descending = order is not None and order.descending
        everything = flt is None or flt == _EVERYTHING
        catalogue = self._catalogue() if limit is not None else None
        if catalogue is not None and by_received and everything:
            # The first page of everything, newest or oldest first: from the index's columns.
            ids = catalogue.in_received_order(descending=descending)[offset:end]
        else:
            # Without a limit, a filter may still select few (the sweep's due complaints, one
            # person's complaints): judged on the index, they are read one by one; many, or
            # everything, and the file is parsed once instead.
            catalogue, rows = self._rows(flt, whole=limit is None and everything)
            if catalogue is not None and limit is None and len(rows) > _SPLICE_AT_MOST:
                catalogue, rows = self._rows(flt, whole=True)
            key = _order_key if order is None else _sort_key(order)
            with gc_paused():  # 100,000 sort keys would set off full collections of the cache
                rows.sort(key=key, reverse=descending)
            page = rows[offset:end]
            if catalogue is None:
                return self._structure_all(page)
            references = catalogue.references
            ids = [str(references[row["reference"]]) for row in page]
        docs = self._documents_of(catalogue, ids)
        if docs is None:  # the index was set aside: the same from the parsed file
            return self._page(flt, order, limit=limit, offset=offset)
        return self._structure_all(docs, fresh=True)

    def find(
        self,
        flt: ComplaintFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt``, oldest received first (ties by reference).

        Selection and ordering happen now, on the raw documents; complaints are built as the
        iterator is consumed.
        """
        check_page(limit, offset)
        return self._page(flt, None, limit=limit, offset=offset)

    def find_data(self, flt: ComplaintFilter | None = None) -> Iterator[Doc]:
        """The complaints matching ``flt`` in ``find`` order as plain data: what
        :func:`~complaintkit.serialization.complaint_to_data` gives for each complaint ``find``
        yields (see :class:`~complaintkit.storage.DataReadableStore`), each document
        structured as ``find`` structures it and turned back into fresh data at once."""
        return self._data_all(self._ordered(flt))

    def find_stored_data(self, flt: ComplaintFilter | None = None) -> Iterator[Doc]:
        """The documents of the complaints matching ``flt`` as the file holds them, in
        ``find`` order, none structured or copied: the parsed file's own, so read-only (see
        :class:`~complaintkit.storage.StoredDataReadableStore`)."""
        return iter(self._ordered(flt))

    def _data_all(self, docs: list[Doc]) -> Iterator[Doc]:
        converter = _converter()
        for start in range(0, len(docs), _CHUNK):
            with gc_paused():
                chunk = []
                for doc in docs[start : start + _CHUNK]:
                    try:
                        # No detaching round trip as in _structure: the complaint lives only
                        # until complaint_to_data, which builds every container afresh.
                        complaint = converter.structure(doc, Complaint)
                    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
                        raise StorageError(
                            f"{self.path}: complaint {doc.get('reference')!r} cannot be read "
                            f"({exc}); the file was not modified"
                        ) from exc
                    chunk.append(complaint_to_data(complaint))
            yield from chunk

    def find_sorted(
        self,
        flt: ComplaintFilter | None,
        order: SortOrder,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt`` in ``order`` (see :class:`~complaintkit.SortOrder`),
        sorted on the raw documents; complaints are built as the iterator is consumed."""
        check_page(limit, offset)
        return self._page(flt, order, limit=limit, offset=offset)

    def _ordered(self, flt: ComplaintFilter | None) -> list[Doc]:
        """The documents matching ``flt`` in ``find`` order."""
        selected = self._rows(flt, whole=True)[1]
        with gc_paused():  # 100,000 sort keys would set off full collections of the cache
            selected.sort(key=_order_key)
        return selected

    def facts(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
        """The facts of the complaints matching ``flt``, in ``find`` order, read from the raw
        documents: no :class:`~complaintkit.model.Complaint` is built and the history is never
        structured (only the few instants chosen are parsed). The same
        :func:`~complaintkit.facts.scan_history` as :func:`~complaintkit.facts.facts_of`.

        Selection and ordering happen now; facts are computed as the iterator is consumed.
        With an index matching the file, the facts are read from it (each complaint's
        projection and record, :func:`~complaintkit_tinydb.index.fact_record`: the pass over
        its history made when it was written) and the file is not parsed.
        """
        indexed = self._indexed(flt)
        if indexed is None:
            return self._facts_all(self._ordered(flt))
        rows, records = indexed
        try:
            scans = [_checked_scan(record[HISTORY_KEY]) for record in records]
        except (ValueError, TypeError, KeyError):
            # A record not as written (the file itself may be fine): read it instead.
            self._set_aside_current()
            return self.facts(flt)
        return self._read_all(
            list(zip(rows, records, scans, strict=True)), lambda found: _facts(*found)
        )

    def _indexed(self, flt: ComplaintFilter | None) -> tuple[list[Doc], list[Doc]] | None:
        """The projections of the complaints matching ``flt`` in ``find`` order and their
        records, from the index; None when there is no index to read them from (or ``flt``
        needs the whole documents)."""
        catalogue, rows = (None, []) if _needs_documents(flt) else self._rows(flt)
        if catalogue is None:
            return None
        try:
            by_reference = catalogue.records
            with gc_paused():
                if flt is None or flt == _EVERYTHING:  # in the order the columns give
                    by_id = catalogue.rows
                    rows = [
                        by_id[doc_id] for doc_id in catalogue.in_received_order(descending=False)
                    ]
                else:
                    rows.sort(key=_order_key)
                records = [by_reference[row["reference"]] for row in rows]
        except (IndexMismatch, KeyError, ValueError, TypeError):
            self._set_aside(catalogue)
            return self._indexed(flt)
        return rows, records

    def _set_aside_current(self) -> None:
        if self._catalogue_ is not None:
            self._set_aside(self._catalogue_)

    def label_summaries(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintLabels]:
        """Each complaint's labels (key, confidence, classifier) of the complaints matching
        ``flt``, in ``find`` order (see :class:`~complaintkit.facts.LabelSummariesStore`):
        from the index's projections and records when it matches the file, else from the
        parsed file. Everything is read now."""
        indexed = self._indexed(flt)
        try:
            with gc_paused():
                if indexed is None:
                    return iter([_label_summaries(doc, None) for doc in self._ordered(flt)])
                rows, records = indexed
                try:
                    found = [
                        _label_summaries(row, record.get(CONFIDENCES_KEY) or {})
                        for row, record in zip(rows, records, strict=True)
                    ]
                except (KeyError, TypeError, ValueError):
                    self._set_aside_current()
                    return self.label_summaries(flt)
                return iter(found)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StorageError(
                f"{self.path}: a complaint cannot be read ({exc}); the file was not modified"
            ) from exc

    def _facts_all(self, docs: list[Doc]) -> Iterator[ComplaintFacts]:
        return self._read_all(docs, document_facts)

    def _read_all(self, items: list[S], read: Callable[[S], T]) -> Iterator[T]:
        """What ``read`` makes of each item (a document, or what the index holds of one), in
        chunks as the iterator is consumed."""
        for start in range(0, len(items), _CHUNK):
            with gc_paused():
                try:
                    chunk = [read(item) for item in items[start : start + _CHUNK]]
                except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
                    raise StorageError(
                        f"{self.path}: a complaint cannot be read ({exc}); "
                        "the file was not modified"
                    ) from exc
            yield from chunk

    def fact_columns(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> Iterator[tuple[Any, ...]]:
        """Some facts of the complaints matching ``flt`` (see
        :class:`~complaintkit.facts.FactColumnsStore`), one tuple per complaint in ``find``
        order, each field read as :meth:`facts` reads it and only those: from the index when
        it matches the file (the history's pass only when a field needs it), else from the
        parsed file (each history scanned only when a field needs it)."""
        readers = [_fact_reader(name) for name in fields]
        scanned = not _SCANNED.isdisjoint(fields)
        indexed = self._indexed(flt)
        if indexed is None:

            def read(doc: Doc) -> tuple[Any, ...]:
                scan = scan_values(history_of(doc)) if scanned else None
                return tuple([reader(doc, doc, scan) for reader in readers])

            return self._read_all(self._ordered(flt), read)
        rows, records = indexed
        try:
            scans = [_checked_scan(record[HISTORY_KEY]) if scanned else None for record in records]
        except (ValueError, TypeError, KeyError):
            # A record not as written (the file itself may be fine): read it instead.
            self._set_aside_current()
            return self.fact_columns(flt, fields)

        def read_indexed(found: tuple[Doc, Doc, list[Any] | None]) -> tuple[Any, ...]:
            row, record, scan = found
            return tuple([reader(row, record, scan) for reader in readers])

        return self._read_all(list(zip(rows, records, scans, strict=True)), read_indexed)

    def count(self, flt: ComplaintFilter | None = None) -> int:
        """How many complaints match ``flt``."""
        if flt is None or flt == _EVERYTHING:
            return len(self)
        return len(self._rows(flt)[1])

    def count_by(self, key: str, flt: ComplaintFilter | None = None) -> dict[str | None, int]:
        """Counts of matching complaints by ``key`` (one of ``storage.GROUP_KEYS``)."""
        value = document_grouper(key)
        selected = self._rows(flt)[1]
        with gc_paused():
            return dict(Counter(value(doc) for doc in selected))

    def existing(self, references: Iterable[str]) -> set[str]:
        """Which of ``references`` are stored."""
        known = self._references()
        return {reference for reference in references if reference in known}

    def __len__(self) -> int:
        catalogue = self._catalogue()
        return len(self._docs() if catalogue is None else catalogue.ids)

    def _table_data(self, name: str) -> dict[str, Any]:
        """Another table of the file (plugin data), current with the disk: from the index when
        it saves parsing the file."""
        catalogue = self._catalogue(columns=False)
        data = (self.storage.read() or {}) if catalogue is None else catalogue.tables
        table = data.get(name, {})
        return table if isinstance(table, dict) else {}

    # --- notifications ------------------------------------------------------------------

    def outbox(self) -> SQLiteOutbox:
        """The notification outbox: ``<name>.outbox.sqlite`` beside the JSON file.

        Opened on first use and kept (one connection for the life of the store), so queuing a
        message per imported complaint stays cheap; closed with the store.
        """
        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        if self._outbox is None:
            self._outbox = SQLiteOutbox(
                outbox_path(self.path), busy_timeout=self.options.lock_timeout
            )
        return self._outbox

    # --- plugin data --------------------------------------------------------------------

    def plugin_data(self) -> TinyDBPluginData:
        """Plugins' JSON documents: table ``plugin_data`` in the same file."""
        from .plugindata import TinyDBPluginData

        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        return TinyDBPluginData(self)

    # --- attachments --------------------------------------------------------------------

    def attachments(self) -> FolderAttachments:
        """The complaints' attachments: ``<name>.attachments/`` beside the JSON file
        (see :mod:`complaintkit_tinydb.attachments`), created by the first one stored."""
        if self._closed:
            raise StorageError(f"the store {self.path} is closed")
        if self._attachments is None:
            self._attachments = FolderAttachments(
                attachments_path(self.path), busy_timeout=self.options.lock_timeout
            )
        return self._attachments

    # --- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Release the lock file, the open data file and the cache. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None
        if self._attachments is not None:
            self._attachments.close()
            self._attachments = None
        self._drop_catalogue()
        self._db.close()
        self._index = {}

    def __enter__(self) -> TinyDBStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_EVERYTHING = ComplaintFilter()
_CHUNK = 1000
#: Documents to replace and (document id, document) pairs to append, for ``_spliced``.
_Splice = tuple[dict[str, Doc], list[tuple[str, Doc]]]
#: Above this many complaints, ``update_many`` and a listing without a limit parse the file:
#: reading each complaint at its offset then costs more than parsing everything once.
_SPLICE_AT_MOST = 1000


def _needs_documents(flt: ComplaintFilter | None) -> bool:
    """Whether judging ``flt`` reads more than the index's projections hold (texts, custom
    fields)."""
    return flt is not None and bool(flt.text or flt.custom)


def _readable_meta(meta: object) -> bool:
    """Whether a ``_meta`` table names formats this module reads (else the parsing path
    reports the problem)."""
    if not isinstance(meta, dict):
        return meta is None
    return all(
        isinstance(entry, dict)
        and isinstance(entry.get("format"), int)
        and entry["format"] <= FORMAT
        for entry in meta.values()
    )


def _replace_with(docs: Mapping[str, Doc]) -> Callable[[Any], None]:
    """A TinyDB update function that swaps in the new document for the same reference."""

    def replace(target: Any) -> None:
        new = docs[target["reference"]]
        target.clear()
        target.update(new)

    return replace


def _order_key(doc: Doc) -> tuple[int, str]:
    return received_micros(doc["received_at"]), doc["reference"]


_STATUS_ORDER = {status.value: number for number, status in enumerate(Status)}


def _sort_key(order: SortOrder) -> Callable[[Doc], tuple[Any, ...]]:
    """:func:`complaintkit.storage.sort_key` on stored documents (use with ``reverse``)."""
    missing_last = not order.descending
    name = order.key

    def key(doc: Doc) -> tuple[Any, ...]:
        value: Any
        if name == "received_at":
            value = _order_key(doc)[0]
        elif name == "due_at":
            due = doc.get("due_at")
            value = None if due is None else received_micros(due)
        elif name == "status":
            value = _STATUS_ORDER[doc.get("status", "received")]
        elif name == "escalation_level":
            value = doc.get("escalation_level", 0)
        else:
            value = doc["reference"]
        if value is None:
            return (missing_last, 0, *_order_key(doc))
        return (not missing_last, value, *_order_key(doc))

    return key


def _custom_is(key: str, wanted: str) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        custom = doc.get("custom") or {}
        return key in custom and custom_text(custom[key]) == wanted

    return check


# --- filtering and grouping raw documents ------------------------------------------------
#
# These mirror ComplaintFilter.matches and storage.group_value on the unstructured form of a
# complaint, with the model's defaults for keys a hand-edited document may lack. The test
# suite checks that they agree on generated complaints.

_OPEN_VALUES = frozenset(status.value for status in OPEN_STATUSES)
_SLUGS = {int(level): level.slug for level in EscalationLevel}


def _label(doc: Doc, scheme: str) -> str | None:
    found = doc.get("labels", {}).get(scheme)
    return None if found is None else cast(str, found["label"])


def _label_is(scheme: str, label: str) -> Callable[[Doc], bool]:
    return lambda d: _label(d, scheme) == label


def _field_is(name: str, wanted: object) -> Callable[[Doc], bool]:
    return lambda d: d.get(name) == wanted


def _at_or_before(name: str, bound: datetime) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        value = doc.get(name)
        return value is not None and datetime.fromisoformat(value) <= bound

    return check


def _complainant_is(wanted: str) -> Callable[[Doc], bool]:
    def check(doc: Doc) -> bool:
        who = doc.get("complainant") or {}
        return wanted in (who.get("customer_id"), who.get("phone"), who.get("email"))

    return check


def document_matcher(flt: ComplaintFilter) -> Callable[[Doc], bool]:
    """A predicate on stored documents equivalent to ``flt.matches`` on the complaints."""
    checks: list[Callable[[Doc], bool]] = []
    if flt.references:
        references = flt.references
        checks.append(lambda d: d["reference"] in references)
    if flt.statuses:
        statuses = frozenset(status.value for status in flt.statuses)
        checks.append(lambda d: d.get("status", "received") in statuses)
    if flt.open_only:
        checks.append(lambda d: d.get("status", "received") in _OPEN_VALUES)
    if flt.channels:
        channels = frozenset(channel.value for channel in flt.channels)
        checks.append(lambda d: d.get("channel", "other") in channels)
    for scheme, label in flt.labels:
        checks.append(_label_is(scheme, label))
    if flt.unclassified is not None:
        unclassified = flt.unclassified
        checks.append(lambda d: unclassified not in d.get("labels", {}))
    for name in ("department", "assignee", "product"):
        wanted = getattr(flt, name)
        if wanted is not None:
            checks.append(_field_is(name, wanted))
    if flt.received_from is not None:
        since = flt.received_from
        checks.append(lambda d: datetime.fromisoformat(d["received_at"]) >= since)
    if flt.received_until is not None:
        until = flt.received_until
        checks.append(lambda d: datetime.fromisoformat(d["received_at"]) < until)
    if flt.min_escalation is not None:
        level = flt.min_escalation
        checks.append(lambda d: d.get("escalation_level", 0) >= level)
    for name, bound in (("due_at", flt.due_by), ("alert_at", flt.alert_by)):
        if bound is not None:
            checks.append(_at_or_before(name, bound))
    if flt.complainant is not None:
        checks.append(_complainant_is(flt.complainant))
    if flt.tags:
        tags = flt.tags
        checks.append(lambda d: tags <= set(d.get("tags") or ()))
    for key, wanted in flt.custom:
        checks.append(_custom_is(key, wanted))
    if flt.text:
        needle = flt.text.lower()
        checks.append(
            lambda d: needle in d["text"].lower() or needle in (d.get("title") or "").lower()
        )

    def matches(doc: Doc) -> bool:
        return all(check(doc) for check in checks)

    return matches


_STATUSES = {status.value: status for status in Status}
_CHANNELS = {channel.value: channel for channel in Channel}
_LEVELS = {int(level): level for level in EscalationLevel}
_REMEDIES = tuple[Remedy, ...]


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def document_facts(doc: Doc) -> ComplaintFacts:
    """:func:`~complaintkit.facts.facts_of` of the complaint a stored document holds, with the
    model's defaults for keys a hand-edited document may lack."""
    return _facts(doc, doc, scan_values(history_of(doc)))


#: Reads one fact from a stored document (or its projection), the keys of
#: :data:`~complaintkit_tinydb.index.RECORDED` (``extra``: the document itself, or its record
#: in the index) and the pass over its history (:func:`~complaintkit_tinydb.index.scan_values`;
#: None when no field read needs it).
_Reader = Callable[[Doc, Doc, Any], Any]


def _labels(doc: Doc, _extra: Doc, _scan: Any) -> dict[str, str]:
    labels = doc.get("labels")
    return {scheme: label["label"] for scheme, label in labels.items()} if labels else {}


def _customer(doc: Doc, _extra: Doc, _scan: Any) -> str | None:
    who = doc.get("complainant") or {}
    return cast(str | None, who.get("customer_id") or who.get("phone") or who.get("email"))


def _resolved(doc: Doc, _extra: Doc, scan: Any) -> datetime | None:
    status = _STATUSES[doc.get("status", "received")]
    return None if status in OPEN_STATUSES else _instant(scan[2])


def _remedies(_doc: Doc, extra: Doc, _scan: Any) -> tuple[Remedy, ...]:
    remedies = extra.get("remedies")
    # Structured only when there are any (most complaints have none).
    return _converter().structure(remedies, _REMEDIES) if remedies else ()


def _pauses(_doc: Doc, _extra: Doc, scan: Any) -> tuple[tuple[datetime, datetime | None], ...]:
    return tuple((datetime.fromisoformat(begin), _instant(end)) for begin, end in scan[7])


#: How each field of :class:`~complaintkit.facts.ComplaintFacts` is read (see :data:`_Reader`).
_FACT_READERS: dict[str, _Reader] = {
    "reference": lambda d, e, s: d["reference"],
    "received_at": lambda d, e, s: datetime.fromisoformat(d["received_at"]),
    "status": lambda d, e, s: _STATUSES[d.get("status", "received")],
    "channel": lambda d, e, s: _CHANNELS[d.get("channel", "other")],
    "department": lambda d, e, s: d.get("department"),
    "assignee": lambda d, e, s: d.get("assignee"),
    "product": lambda d, e, s: d.get("product"),
    "escalation_level": lambda d, e, s: _LEVELS[d.get("escalation_level", 0)],
    "labels": _labels,
    "sla_policy": lambda d, e, s: e.get("sla_policy"),
    "due_at": lambda d, e, s: _instant(d.get("due_at")),
    "satisfaction": lambda d, e, s: e.get("satisfaction"),
    "parent": lambda d, e, s: e.get("parent"),
    "recomplaint_count": lambda d, e, s: e.get("recomplaint_count", 0),
    "customer": _customer,
    "acknowledged_at": lambda d, e, s: _instant(s[0]),
    "responded_at": lambda d, e, s: _instant(s[1]),
    "resolved_at": _resolved,
    "reopened": lambda d, e, s: s[3],
    "reopened_at": lambda d, e, s: _instant(s[4]),
    "breached": lambda d, e, s: frozenset(s[5]),
    "escalations": lambda d, e, s: s[6],
    "pauses": _pauses,
    "remedies": _remedies,
    "untimed": lambda d, e, s: frozenset(s[8]),
}
#: The fields read from the pass over the history.
_SCANNED = frozenset(
    ("acknowledged_at", "responded_at", "resolved_at", "reopened", "reopened_at", "breached")
    + ("escalations", "pauses", "untimed")
)
#: The readers in the order of the fields (a field without one is a KeyError at import).
_IN_ORDER = tuple(_FACT_READERS[name] for name in FACT_FIELDS)
_SCAN_LENGTH = 9


def _fact_reader(name: str) -> _Reader:
    """The reader of a field :func:`~complaintkit.facts.iter_fact_columns` takes."""
    if name.startswith(LABEL_FIELD):
        scheme = name[len(LABEL_FIELD) :]
        return lambda d, e, s: _label(d, scheme)
    try:
        return _FACT_READERS[name]
    except KeyError:
        raise ValueError(f"unknown fact field {name!r}") from None


def _checked_scan(scan: Any) -> list[Any]:
    """A record's pass over the history, refused (``ValueError``) if not laid out as written."""
    if not isinstance(scan, list) or len(scan) != _SCAN_LENGTH:
        raise ValueError("a record's pass over the history is not laid out as written")
    return scan


def _facts(doc: Doc, extra: Doc, scan: list[Any]) -> ComplaintFacts:
    """The facts of a complaint (see :data:`_Reader` for the arguments)."""
    return ComplaintFacts(*[read(doc, extra, scan) for read in _IN_ORDER])


def _label_summaries(doc: Doc, confidences: Mapping[str, Any] | None) -> ComplaintLabels:
    """A stored document's :func:`~complaintkit.facts.label_summaries_of`: its labels'
    confidences and classifiers from ``confidences`` (an index record's, scheme →
    ``[confidence, classifier]``; raising ``KeyError`` or ``ValueError`` when they do not
    match the labels) or, when None, from the document itself."""
    labels: dict[str, Doc] = doc.get("labels") or {}
    if confidences is None:
        confidences = label_confidences(labels)
    elif len(confidences) != len(labels):
        raise ValueError("the record's labels are not the projection's")
    summaries: dict[str, LabelSummary] = {}
    for scheme, label in labels.items():
        confidence, classifier = confidences[scheme]
        summaries[scheme] = (label["label"], float(confidence), classifier)
    return doc["reference"], datetime.fromisoformat(doc["received_at"]), summaries


def _month(doc: Doc) -> str:
    value: str = doc["received_at"]
    # What the store writes (YYYY-MM-DD...) starts with the month; anything else, including
    # years before 1000 (which strftime does not pad), takes the exact route.
    if len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[0] != "0":
        return value[:7]
    return datetime.fromisoformat(value).strftime("%Y-%m")


def _text_or_none(name: str) -> Callable[[Doc], str | None]:
    def value(doc: Doc) -> str | None:
        found = doc.get(name)
        return found if found is None else str(found)

    return value


def document_grouper(key: str) -> Callable[[Doc], str | None]:
    """A function giving a stored document's group value for ``key``, as ``group_value`` does."""
    if key.startswith("label:"):
        scheme = key[6:]
        return lambda d: _label(d, scheme)
    if key == "month":
        return _month
    if key == "status":
        return lambda d: cast(str, d.get("status", "received"))
    if key == "channel":
        return lambda d: cast(str, d.get("channel", "other"))
    if key == "escalation_level":
        return lambda d: _SLUGS[d.get("escalation_level", 0)]
    if key in ("department", "assignee", "product"):
        return _text_or_none(key)
    raise ValueError(f"cannot group by {key!r}; use one of {', '.join(GROUP_KEYS)}")


def document_group_value(doc: Doc, key: str) -> str | None:
    """The group value of one stored document (see :func:`document_grouper`)."""
    return document_grouper(key)(doc)
