"""Copy every complaint from one store to another: streaming, resumable, verified.

:func:`copy_store` streams the source (one ``find()`` consumed a batch at a time, so only one
batch is held here whatever the store's size) and writes each batch to the destination with
``restore_many`` (see :class:`~complaintkit.storage.RestorableStore`), which keeps every field
as it is, ``version`` and the whole history included. A re-run after a crash continues where
the last one stopped: references already at the destination are not written again, but they
are compared with the source first, and a destination holding a *different* record for a
reference is refused (:class:`~complaintkit.errors.MigrationError`), never overwritten.

:func:`verify_stores` then reads both sides in the stores' common order (instant received,
then reference) and compares them record by record: counts, a SHA-256 checksum over the
canonical JSON of every complaint (:func:`canonical_bytes`), and the first references that
differ. :func:`migrate` does both.

Where the source can read its complaints as data (``find_data``: the SQL and TinyDB stores)
and the destination can store data (``restore_data_many``: the TinyDB store), the copy goes data to
data, building no model object; a verification reads such a side as data too and encodes it
once (see :class:`~complaintkit.storage.DataReadableStore`). A side that can show its complaints
as stored (``find_stored_data``: the TinyDB store) is verified by its documents as they are, and a
complaint of it is read again only where its document does not match the other side (see
:class:`~complaintkit.storage.StoredDataReadableStore`). The outcome is the same either way.

Pending notifications (the outbox) are not part of a store's complaints and stay behind in the
source.

Characters no store can hold (NUL, which PostgreSQL refuses, and lone surrogates) are
removed on the way, as every new complaint has them removed at intake
(:mod:`complaintkit.intake`): a TinyDB or SQLite store written before that rule may hold them.
The copy names those complaints
(:attr:`CopyResult.cleaned`), and the verification compares both sides as stores hold them.
A complaint the destination refuses all the same is named with the database's reason
(:attr:`CopyResult.refused`); the rest are copied, and the verification then reports it as
only in the source.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import attrs
import orjson

from complaintkit.errors import ConfigError, MigrationError, StorageError
from complaintkit.intake import clean_complaint
from complaintkit.model import Complaint
from complaintkit.redact import redact_url
from complaintkit.serialization import complaint_to_data
from complaintkit.storage import (
    ComplaintFilter,
    DataReadableStore,
    DataRestorableStore,
    RestorableStore,
    Store,
    StoredDataReadableStore,
    gc_paused,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "CopyResult",
    "Difference",
    "MigrationResult",
    "Verification",
    "VerificationFailed",
    "canonical_bytes",
    "copy_store",
    "migrate",
    "pages",
    "verify_stores",
]

#: Complaints read and written per batch. Each batch is one write at the destination; a TinyDB
#: destination rewrites its whole file per batch, so larger batches suit it better.
DEFAULT_BATCH_SIZE = 5000
#: How many differing references a verification keeps to report (the counts are always exact).
SHOWN_DIFFERENCES = 10
_KEPT = 1000
#: How orjson writes NUL; a literal backslash-u0000 typed in a text also contains it (and only
#: takes the slower path).
_NUL_IN_JSON = b"\\u0000"

Progress = Callable[[int], None]


def _no_progress(n: int) -> None:
    """Nothing to show."""


def canonical_bytes(complaint: Complaint) -> bytes:
    """The canonical JSON of a complaint as a store holds it: :func:`complaint_to_data` of
    :func:`~complaintkit.intake.clean_complaint`, keys sorted.

    Two complaints have the same canonical bytes when every field is equal, including the
    version, the history and the UTC offsets of their times (which ``==`` on datetimes ignores).
    """
    try:
        encoded = orjson.dumps(complaint_to_data(complaint), option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a lone surrogate (orjson refuses them), or a value JSON cannot hold
        encoded = None
    # Every text of a complaint is in its JSON, where orjson writes NUL as an escape: an
    # encoding without one holds nothing clean_complaint would remove, and is its canonical
    # form already (cleaning first, as below, costs a third of a verification).
    if encoded is None or _NUL_IN_JSON in encoded:
        stored, _ = clean_complaint(complaint)
        encoded = orjson.dumps(complaint_to_data(stored), option=orjson.OPT_SORT_KEYS)
    return encoded


def pages(store: Store, size: int) -> Iterator[list[Complaint]]:
    """Every complaint of ``store`` in its order (received, then reference), ``size`` at a time.

    One ``find()`` consumed as a stream: the first-party backends build complaints as the
    iterator is consumed (the SQL store reads by key, one page per query), so only the current
    batch is held here, and no page costs more than the one before it, as ``OFFSET`` paging
    would on a large table.
    """
    if size < 1:
        raise ConfigError(f"the batch size must be at least 1, got {size}")
    stream = store.find()
    while page := list(itertools.islice(stream, size)):
        yield page


@attrs.frozen
class CopyResult:
    """What a copy did: complaints written now, and those found already at the destination.

    ``cleaned_count`` complaints had characters no store can hold removed (``cleaned``: the
    first references); ``refused`` names the first complaints the destination refused, with
    its reason (``refused_count`` in all); every other complaint was copied.
    """

    copied: int
    already_there: int
    cleaned_count: int = 0
    cleaned: tuple[str, ...] = ()
    refused_count: int = 0
    refused: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Difference:
    """One reference that does not match: ``kind`` is one of ``only in source``,
    ``only in destination`` and ``different``."""

    reference: str
    kind: str

    def __str__(self) -> str:
        return f"{self.reference} ({self.kind})"


@attrs.frozen
class Verification:
    """The outcome of comparing two stores."""

    source_count: int
    destination_count: int
    source_checksum: str
    destination_checksum: str
    only_in_source: int
    only_in_destination: int
    different: int
    #: the first differing references (at most :data:`SHOWN_DIFFERENCES`), in store order
    examples: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        """Both sides hold exactly the same complaints."""
        return (
            self.difference_count == 0
            and self.source_count == self.destination_count
            and self.source_checksum == self.destination_checksum
        )

    @property
    def difference_count(self) -> int:
        """How many references differ in any way."""
        return self.only_in_source + self.only_in_destination + self.different

    def describe(self) -> str:
        """One line for people: counts, checksums and the first differences."""
        if self.ok:
            return (
                f"verified: {self.source_count:,} complaints on both sides, checksum "
                f"{self.source_checksum} on both"
            )
        parts = [
            f"verification failed: the source holds {self.source_count:,} complaints, the "
            f"destination {self.destination_count:,}",
            f"checksums {self.source_checksum} (source) and {self.destination_checksum} "
            "(destination)",
        ]
        counts = [
            (self.different, "differs" if self.different == 1 else "differ"),
            (self.only_in_source, "only in the source"),
            (self.only_in_destination, "only in the destination"),
        ]
        found = [f"{n:,} {what}" for n, what in counts if n]
        if found:
            parts.append(", ".join(found))
        if self.examples:
            parts.append("first: " + ", ".join(str(d) for d in self.examples))
        return "; ".join(parts)


@attrs.frozen
class MigrationResult:
    """A copy followed by a verification."""

    copy: CopyResult
    verification: Verification


def _restorable(store: Store) -> RestorableStore:
    if not isinstance(store, RestorableStore):
        raise StorageError(
            f"the destination {redact_url(store.url)} cannot take complaints as they are: its "
            "backend has no restore_many (the optional Store method that keeps versions and "
            "history), so complaintkit cannot migrate into it"
        )
    return store


def _check_distinct(source: Store, destination: Store) -> None:
    if source.url == destination.url:
        raise ConfigError(
            f"the source and the destination are the same store ({redact_url(source.url)})"
        )


def copy_store(
    source: Store,
    destination: Store,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    resume: bool = True,
    progress: Progress = _no_progress,
) -> CopyResult:
    """Copy every complaint of ``source`` into ``destination`` as it is, batch by batch.

    ``progress(n)`` is called after each batch with the number of source complaints it
    covered. With ``resume`` (the default) a destination may already hold some of the
    complaints, e.g. from an interrupted run: those equal to the source's are left alone, and
    a different one raises :class:`MigrationError` naming it before anything of its batch is
    written. Without ``resume`` a destination that holds any complaint is refused.
    """
    _check_distinct(source, destination)
    target = _restorable(destination)
    target.initialize()
    held = target.count()
    if held and not resume:
        raise MigrationError(
            f"the destination {redact_url(target.url)} already holds {held:,} complaints; "
            "migrate into an empty store, or resume an interrupted migration (--resume)"
        )
    copied = already = cleaned_count = refused_count = 0
    cleaned: list[str] = []
    refused: list[tuple[str, str]] = []
    # Data to data when both sides can: no model object is built for a complaint.
    as_data = isinstance(source, DataReadableStore) and isinstance(target, DataRestorableStore)
    with gc_paused():  # the whole run: re-enabled after every page, it walked each page again
        for batch in (
            _data_records(source, batch_size)  # type: ignore[arg-type]  # (as_data)
            if as_data
            else _complaint_records(source, batch_size)
        ):
            for record in batch:
                if record.cleaned:
                    cleaned_count += 1
                    if len(cleaned) < SHOWN_DIFFERENCES:
                        cleaned.append(record.reference)
            # An empty destination needs no look-up: a reference someone else writes meanwhile
            # comes back in restore_many's skipped list and is compared then.
            there = target.existing(r.reference for r in batch) if held else set()
            if there:
                _check_same(batch, there, target)
            new = [r for r in batch if r.reference not in there]
            if isinstance(target, DataRestorableStore) and as_data:
                result = target.restore_data_many(r.data for r in new if r.data is not None)
            else:
                result = target.restore_many(r.complaint for r in new if r.complaint is not None)
            if result.skipped:
                # Written by someone else between existing() and restore_many(): compare them too.
                _check_same(batch, set(result.skipped), target)
            copied += result.added
            already += len(there) + len(result.skipped)
            refused_count += len(result.refused)
            refused.extend(result.refused[: SHOWN_DIFFERENCES - len(refused)])
            progress(len(batch))
    return CopyResult(
        copied=copied,
        already_there=already,
        cleaned_count=cleaned_count,
        cleaned=tuple(cleaned),
        refused_count=refused_count,
        refused=tuple(refused),
    )


@attrs.frozen
class _Record:
    """One complaint of a batch as it is to be stored: a complaint, or (copying data to data)
    its data; ``cleaned`` when characters no store can hold were removed from it."""

    reference: str
    complaint: Complaint | None
    data: dict[str, Any] | None
    cleaned: bool

    def canonical(self) -> bytes:
        """Its :func:`canonical_bytes` (the data is stored as it is, cleaned already)."""
        if self.data is not None:
            return orjson.dumps(self.data, option=orjson.OPT_SORT_KEYS)
        assert self.complaint is not None
        return canonical_bytes(self.complaint)


def _data_pages(store: DataReadableStore, size: int) -> Iterator[list[dict[str, Any]]]:
    """:func:`pages` of ``find_data``."""
    if size < 1:
        raise ConfigError(f"the batch size must be at least 1, got {size}")
    stream = store.find_data()
    while page := list(itertools.islice(stream, size)):
        yield page


def _complaint_records(source: Store, size: int) -> Iterator[list[_Record]]:
    """The source's complaints, cleaned, a batch at a time (see :func:`pages`)."""
    for page in pages(source, size):
        batch = []
        for complaint in page:
            stored, removed = clean_complaint(complaint)
            batch.append(_Record(stored.reference, stored, None, bool(removed)))
        yield batch


def _data_records(source: DataReadableStore, size: int) -> Iterator[list[_Record]]:
    """The source's complaints as data, cleaned, a batch at a time (``find_data`` read as
    :func:`pages` reads ``find``). Data whose encoding shows nothing to clean (see
    :func:`canonical_bytes`) is kept as it is; the rest (rare: stores written before intake
    cleaned) is read again as a complaint, cleaned and turned back into data."""
    for page in _data_pages(source, size):
        batch = []
        for data in page:
            reference = data["reference"]
            try:
                clean = _NUL_IN_JSON not in orjson.dumps(data)
            except TypeError:  # a lone surrogate
                clean = False
            if clean:
                batch.append(_Record(reference, None, data, False))
                continue
            stored, removed = clean_complaint(source.get(reference))
            batch.append(_Record(reference, None, complaint_to_data(stored), bool(removed)))
        yield batch


def _check_same(batch: list[_Record], references: set[str], destination: Store) -> None:
    stored = {
        c.reference: canonical_bytes(c)
        for c in destination.find(ComplaintFilter(references=frozenset(references)))
    }
    differing = [
        r.reference
        for r in batch
        if r.reference in references and stored.get(r.reference) != r.canonical()
    ]
    if differing:
        shown = ", ".join(differing[:SHOWN_DIFFERENCES])
        more = len(differing) - SHOWN_DIFFERENCES
        raise MigrationError(
            f"the destination {redact_url(destination.url)} already holds different records for "
            f"{len(differing):,} of these references: {shown}"
            + (f" and {more:,} more" if more > 0 else "")
            + "; nothing was overwritten. Migrate into an empty store, or remove those records "
            "from the destination first (compare both sides with --verify-only)"
        )


# --- verification ------------------------------------------------------------------------

#: One instant received of a side: (instant, reference → digest, the references whose digest
#: is of their stored form, not yet known to be canonical: see :class:`_Side`).
_Group = tuple[datetime, dict[str, bytes], set[str]]
#: One complaint read for the comparison: (instant received, reference, encoding, whether
#: the encoding is of its stored form rather than :func:`canonical_bytes`).
_Read = tuple[datetime, str, bytes, bool]


def _groups(pages: Iterator[list[_Read]], progress: Progress) -> Iterator[_Group]:
    """A side's complaints grouped by instant received.

    Within one instant the stores may order references by their own collation; grouping makes
    the comparison independent of it. Only digests are kept, so a large group stays small.
    """
    at: datetime | None = None
    group: dict[str, bytes] = {}
    stored: set[str] = set()
    for page in pages:
        for received, reference, encoded, as_stored in page:
            if at is not None and received != at:
                yield at, group, stored
                group, stored = {}, set()
            at = received
            group[reference] = hashlib.sha256(encoded).digest()
            if as_stored:
                stored.add(reference)
        progress(len(page))
    if at is not None:
        yield at, group, stored


def _canonical_pages(store: Store, size: int) -> Iterator[list[_Read]]:
    """The store's complaints with their :func:`canonical_bytes`, a page at a time: from
    ``find_data`` where the store has it (no model object built, the data encoded once),
    else from ``find``."""
    if not isinstance(store, DataReadableStore):
        for complaints in pages(store, size):
            yield [(c.received_at, c.reference, canonical_bytes(c), False) for c in complaints]
        return
    parse = datetime.fromisoformat
    for data_page in _data_pages(store, size):
        yield [
            (parse(data["received_at"]), data["reference"], _canonical_data(data, store), False)
            for data in data_page
        ]


def _stored_pages(store: StoredDataReadableStore, size: int) -> Iterator[list[_Read]]:
    """The store's complaints encoded as they are stored (``find_stored_data``: nothing
    built), a page at a time; one whose encoding shows something to clean gets its
    :func:`canonical_bytes` at once (see :func:`_canonical_data`)."""
    if size < 1:
        raise ConfigError(f"the batch size must be at least 1, got {size}")
    parse = datetime.fromisoformat
    stream = store.find_stored_data()
    while page := list(itertools.islice(stream, size)):
        read = []
        for data in page:
            encoded = _clean_encoding(data)
            reference = data["reference"]
            if encoded is None:
                read.append(
                    (parse(data["received_at"]), reference, _canonical_data(data, store), False)
                )
            else:
                read.append((parse(data["received_at"]), reference, encoded, True))
        yield read


def _clean_encoding(data: dict[str, Any]) -> bytes | None:
    """``data`` encoded with its keys sorted, or None when the encoding fails (a lone
    surrogate) or holds a NUL: what cleaning would change."""
    try:
        encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a lone surrogate
        return None
    return None if _NUL_IN_JSON in encoded else encoded


def _canonical_data(data: dict[str, Any], store: Store) -> bytes:
    """:func:`canonical_bytes` of the complaint whose data ``data`` is (as ``find_data``
    gives it): the data encoded, or, when the encoding shows something to clean, the
    complaint read again and cleaned."""
    encoded = _clean_encoding(data)
    if encoded is None:
        return canonical_bytes(store.get(data["reference"]))
    return encoded


class _Side:
    """One side of the comparison: its running checksum and count.

    A side read through ``find_stored_data`` has digests of its complaints' stored forms
    (``stored`` of a group), which equal their canonical digests for complaints stored in the
    current layout. Where such a digest does not match the other side, :meth:`settle` reads
    the complaint again and puts its canonical digest in its place, so a difference is never
    one of layout and the checksum is always over canonical digests.
    """

    def __init__(self, store: Store, size: int, progress: Progress, *, as_stored: bool) -> None:
        self.store = store
        read = (
            _stored_pages(store, size)  # type: ignore[arg-type]  # (as_stored)
            if as_stored
            else _canonical_pages(store, size)
        )
        self.groups = _groups(read, progress)
        self.hash = hashlib.sha256()
        self.count = 0
        self.current: _Group | None = next(self.groups, None)

    def take(self) -> tuple[dict[str, bytes], set[str]]:
        """The current group (reference → digest, the references of stored-form digests);
        the next becomes current. :meth:`add` it to the checksum once settled."""
        assert self.current is not None
        _, group, stored = self.current
        self.current = next(self.groups, None)
        return group, stored

    def settle(self, group: dict[str, bytes], stored: set[str], reference: str) -> bytes:
        """The canonical digest of ``reference`` (read again if its digest is of its stored
        form), put into ``group``."""
        if reference in stored:
            stored.discard(reference)
            group[reference] = hashlib.sha256(canonical_bytes(self.store.get(reference))).digest()
        return group[reference]

    def add(self, group: dict[str, bytes]) -> None:
        """Add a settled group to the checksum and the count."""
        for reference in sorted(group):
            self.hash.update(reference.encode("utf-8") + b"\0" + group[reference])
        self.count += len(group)

    @property
    def checksum(self) -> str:
        return f"sha256:{self.hash.hexdigest()[:16]}"


def _as_stored(source: Store, destination: Store) -> tuple[bool, bool]:
    """Which sides the verification reads through ``find_stored_data``: the destination if it
    has it, else the source if it has it; never both, so every digest that matches is known to
    be canonical by the other side's."""
    if isinstance(destination, StoredDataReadableStore):
        return False, True
    return isinstance(source, StoredDataReadableStore), False


def _only(side: _Side, kept: list[str]) -> int:
    """Take the current group of ``side`` as references found on that side only: settled,
    added to the checksum, the first kept in ``kept``; how many they are."""
    group, stored = side.take()
    for reference in list(stored):
        side.settle(group, stored, reference)
    side.add(group)
    references = sorted(group)
    kept.extend(references[: _KEPT - len(kept)])
    return len(references)


def verify_stores(
    source: Store,
    destination: Store,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress = _no_progress,
) -> Verification:
    """Compare two stores record by record, reading each once, a batch at a time.

    The checksum of a side is SHA-256 over its complaints in (instant received, reference)
    order, each as its reference and the SHA-256 of its :func:`canonical_bytes`; equal stores
    have equal checksums whatever their backends. A side that can show its complaints as
    stored (:class:`~complaintkit.storage.StoredDataReadableStore`: the TinyDB store) is read
    that way, building nothing, and a complaint of it is read again only where its stored
    form does not match the other side. ``progress(n)`` is called per page read on either side.
    """
    _check_distinct(source, destination)
    stored_a, stored_b = _as_stored(source, destination)
    with gc_paused():  # the whole run: re-enabled after every page, it walked each page again
        a = _Side(source, batch_size, progress, as_stored=stored_a)
        b = _Side(destination, batch_size, progress, as_stored=stored_b)
        only_a: list[str] = []
        only_b: list[str] = []
        different: list[str] = []
        n_only_a = n_only_b = n_different = 0
        while a.current is not None or b.current is not None:
            if b.current is None or (a.current is not None and a.current[0] < b.current[0]):
                n_only_a += _only(a, only_a)
            elif a.current is None or b.current[0] < a.current[0]:
                n_only_b += _only(b, only_b)
            else:
                (left, left_stored), (right, right_stored) = a.take(), b.take()
                for reference in sorted(left.keys() | right.keys()):
                    mine, theirs = left.get(reference), right.get(reference)
                    if mine == theirs:
                        continue
                    if mine is not None:
                        mine = a.settle(left, left_stored, reference)
                    if theirs is not None:
                        theirs = b.settle(right, right_stored, reference)
                    if mine == theirs:
                        continue
                    if theirs is None:
                        n_only_a += 1
                        if len(only_a) < _KEPT:
                            only_a.append(reference)
                    elif mine is None:
                        n_only_b += 1
                        if len(only_b) < _KEPT:
                            only_b.append(reference)
                    else:
                        n_different += 1
                        if len(different) < _KEPT:
                            different.append(reference)
                a.add(left)
                b.add(right)
    # A reference on both sides under different instants received looks like one missing on
    # each side: it is one record that differs.
    moved = set(only_a) & set(only_b)
    n_only_a -= len(moved)
    n_only_b -= len(moved)
    n_different += len(moved)
    examples = [Difference(r, "different") for r in itertools.chain(different, sorted(moved))]
    examples += [Difference(r, "only in source") for r in only_a if r not in moved]
    examples += [Difference(r, "only in destination") for r in only_b if r not in moved]
    return Verification(
        source_count=a.count,
        destination_count=b.count,
        source_checksum=a.checksum,
        destination_checksum=b.checksum,
        only_in_source=n_only_a,
        only_in_destination=n_only_b,
        different=n_different,
        examples=tuple(examples[:SHOWN_DIFFERENCES]),
    )


def migrate(
    source: Store,
    destination: Store,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    resume: bool = True,
    progress: Progress = _no_progress,
) -> MigrationResult:
    """Copy ``source`` into ``destination`` (:func:`copy_store`), then verify both sides.

    Raises :class:`MigrationError` when the copy is refused or the verification finds any
    difference (the error carries the :class:`Verification` as ``verification``).
    """
    copied = copy_store(
        source, destination, batch_size=batch_size, resume=resume, progress=progress
    )
    verification = verify_stores(source, destination, batch_size=batch_size, progress=progress)
    if not verification.ok:
        raise VerificationFailed(verification)
    return MigrationResult(copy=copied, verification=verification)


class VerificationFailed(MigrationError):
    """The two stores do not hold the same complaints; ``verification`` says how."""

    def __init__(self, verification: Verification) -> None:
        super().__init__(verification.describe())
        self.verification = verification
