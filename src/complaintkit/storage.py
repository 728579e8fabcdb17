"""The storage protocol every backend implements, and the filter that queries it.

A backend registers a :class:`StorageBackend` (URL schemes plus an ``open`` function) through
the ``register_storage_backends`` hook; the host picks one by the URL's scheme, e.g.
``tinydb:///var/lib/complaints.json``. Every backend must pass the conformance suite in
:mod:`complaintkit.testing.conformance`.

Store URLs that name a file (``tinydb://``, ``sqlite://``: :data:`FILE_SCHEMES`) follow one
convention, :func:`store_path`: what follows ``scheme://`` is a path, absolute when it starts
with ``/`` (``tinydb:///var/lib/c.json``, ``sqlite:///var/lib/c.db``), otherwise relative
(``tinydb://c.json``, ``sqlite://data/c.db``). :func:`resolve_url` makes the path absolute and
refuses the one spelling whose meaning differs from SQLAlchemy's when it looks meant that way.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from .model import Channel, Complaint, EscalationLevel, Status

__all__ = [
    "GROUP_KEYS",
    "FILE_SCHEMES",
    "SORT_KEYS",
    "AddResult",
    "ComplaintFilter",
    "DataReadableStore",
    "DataRestorableStore",
    "ExistsStore",
    "RestorableStore",
    "SortOrder",
    "SortingStore",
    "StorageBackend",
    "Store",
    "StoredDataReadableStore",
    "UpdateResult",
    "check_page",
    "custom_text",
    "find_sorted",
    "gc_paused",
    "group_value",
    "parse_url",
    "resolve_url",
    "sort_key",
    "store_path",
]

#: URL schemes whose stores are one file: the rest of their URL is a path (see store_path).
FILE_SCHEMES = ("tinydb", "sqlite")

GROUP_KEYS = (
    "status",
    "channel",
    "department",
    "assignee",
    "product",
    "escalation_level",
    "month",
    "label:<scheme>",
)


@attrs.frozen
class ComplaintFilter:
    """Which complaints a query selects; every field left empty selects everything.

    ``labels`` holds ``(scheme, label)`` pairs that must all match; ``unclassified`` names a
    scheme in which the complaint must have no label yet; ``text`` is a case-insensitive
    substring of the title or text. ``due_by`` selects complaints with a ``due_at`` at or
    before that instant, ``alert_by`` those with an ``alert_at`` at or before it (the SLA
    sweep's work list); complaints without one never match. ``complainant`` matches the
    complainant's customer id, phone or e-mail exactly (finding earlier complaints of the same
    person). ``tags`` are tags the complaint must all carry (exactly, case included);
    ``custom`` holds ``(key, value)`` pairs its custom fields must all match: a field matches
    when its value, as :func:`custom_text` writes it, equals ``value`` (a text as it is, a
    whole or decimal number as JSON writes it, ``true``/``false``; a list, an object or a
    null never matches).
    """

    statuses: frozenset[Status] = frozenset()
    channels: frozenset[Channel] = frozenset()
    labels: tuple[tuple[str, str], ...] = ()
    unclassified: str | None = None
    department: str | None = None
    assignee: str | None = None
    product: str | None = None
    received_from: datetime | None = None
    received_until: datetime | None = None
    text: str | None = None
    min_escalation: EscalationLevel | None = None
    open_only: bool = False
    references: frozenset[str] = frozenset()
    due_by: datetime | None = None
    alert_by: datetime | None = None
    complainant: str | None = None
    tags: frozenset[str] = frozenset()
    custom: tuple[tuple[str, str], ...] = ()

    def matches(self, c: Complaint) -> bool:
        """The reference semantics of the filter, for backends that filter in Python."""
        if self.references and c.reference not in self.references:
            return False
        if self.statuses and c.status not in self.statuses:
            return False
        if self.open_only and not c.is_open:
            return False
        if self.channels and c.channel not in self.channels:
            return False
        for scheme, label in self.labels:
            if c.label(scheme) != label:
                return False
        if self.unclassified is not None and self.unclassified in c.labels:
            return False
        if self.department is not None and c.department != self.department:
            return False
        if self.assignee is not None and c.assignee != self.assignee:
            return False
        if self.product is not None and c.product != self.product:
            return False
        if self.received_from is not None and c.received_at < self.received_from:
            return False
        if self.received_until is not None and c.received_at >= self.received_until:
            return False
        if self.min_escalation is not None and c.escalation_level < self.min_escalation:
            return False
        if self.due_by is not None and (c.due_at is None or c.due_at > self.due_by):
            return False
        if self.alert_by is not None and (c.alert_at is None or c.alert_at > self.alert_by):
            return False
        if self.complainant is not None:
            who = c.complainant
            if self.complainant not in (who.customer_id, who.phone, who.email):
                return False
        if self.tags and not self.tags <= set(c.tags):
            return False
        for key, wanted in self.custom:
            if key not in c.custom or custom_text(c.custom[key]) != wanted:
                return False
        if self.text:
            needle = self.text.lower()
            if needle not in c.text.lower() and needle not in (c.title or "").lower():
                return False
        return True


def custom_text(value: Any) -> str | None:
    """A custom field's value as a ``custom`` filter compares it: a text as it is, a number as
    JSON writes it (``5``, ``2.5``), a boolean as ``true``/``false``; None for a null, a list
    or an object, which no filter value matches."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


#: What ``find_sorted`` (``complaintkit list --sort``) may sort on; ``-`` before one sorts
#: descending. ``status`` sorts in the order of the handling process, not by name.
SORT_KEYS = ("received_at", "due_at", "reference", "status", "escalation_level")

_STATUS_ORDER = {status: number for number, status in enumerate(Status)}


@attrs.frozen
class SortOrder:
    """An order of complaints: by ``key`` (one of :data:`SORT_KEYS`), descending or not.

    Ties are broken by the instant received and then the reference, in the same direction;
    complaints without a value (no ``due_at``) come last either way. ``parse`` reads the
    command line's spelling: ``-received_at`` (newest first, the default), ``due_at``.
    """

    key: str = "received_at"
    descending: bool = True

    def __attrs_post_init__(self) -> None:
        if self.key not in SORT_KEYS:
            from .errors import ValidationError

            raise ValidationError(
                "sort",
                [
                    f"cannot sort by {self.key!r}; use one of {', '.join(SORT_KEYS)} (- before "
                    "one for descending, e.g. -received_at)"
                ],
            )

    @classmethod
    def parse(cls, text: str) -> SortOrder:
        """``received_at`` ascending, ``-received_at`` descending."""
        text = text.strip()
        if text.startswith("-"):
            return cls(text[1:].strip(), descending=True)
        return cls(text.lstrip("+").strip(), descending=False)

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.key}"


def sort_key(order: SortOrder) -> Callable[[Complaint], tuple[Any, ...]]:
    """The key that sorts complaints in ``order`` with :func:`sorted`; use it with
    ``reverse=order.descending`` (complaints without a value still come last)."""
    missing_last = not order.descending

    def key(c: Complaint) -> tuple[Any, ...]:
        value: Any
        if order.key == "status":
            value = _STATUS_ORDER[c.status]
        elif order.key == "escalation_level":
            value = int(c.escalation_level)
        else:
            value = getattr(c, order.key)
        if value is None:
            return (missing_last, 0, c.received_at, c.reference)
        return (not missing_last, value, c.received_at, c.reference)

    return key


@runtime_checkable
class SortingStore(Protocol):
    """A store that sorts in its own query: ``find_sorted`` is ``find`` in another order.

    It returns what :func:`find_sorted`'s fallback returns (the matching complaints sorted
    by :func:`sort_key`, then ``offset`` and ``limit`` applied), without reading every match
    into memory. TinyDB and SQL stores implement it; the conformance suite checks it.
    """

    def find_sorted(
        self,
        flt: ComplaintFilter | None,
        order: SortOrder,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt`` in ``order``."""
        ...


def check_page(limit: int | None, offset: int) -> None:
    """Refuse a negative ``limit`` or ``offset`` (ValueError): what every ``find`` and
    ``find_sorted`` checks before it reads."""
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")


def find_sorted(
    store: Store,
    flt: ComplaintFilter | None,
    order: SortOrder,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[Complaint]:
    """Complaints of ``store`` matching ``flt`` in ``order``: the store's own ``find_sorted``
    when it has one, else every match read and sorted here."""
    if isinstance(store, SortingStore):
        return store.find_sorted(flt, order, limit=limit, offset=offset)
    check_page(limit, offset)
    found = sorted(store.find(flt), key=sort_key(order), reverse=order.descending)
    end = None if limit is None else offset + limit
    return iter(found[offset:end])


def group_value(c: Complaint, key: str) -> str | None:
    """The value of a group-by ``key`` (one of :data:`GROUP_KEYS`) for a complaint."""
    if key.startswith("label:"):
        return c.label(key[6:])
    if key == "month":
        return c.received_at.strftime("%Y-%m")
    if key == "status":
        return c.status.value
    if key == "channel":
        return c.channel.value
    if key == "escalation_level":
        return c.escalation_level.slug
    if key in ("department", "assignee", "product"):
        value = getattr(c, key)
        return value if value is None else str(value)
    raise ValueError(f"cannot group by {key!r}; use one of {', '.join(GROUP_KEYS)}")


@attrs.frozen
class AddResult:
    """What a batch write did: references added, references skipped as already stored, and
    complaints the database refused as (reference, reason), the rest of the batch kept (a SQL
    store whose database rejects a value of one row stores every other row)."""

    added: int
    skipped: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class UpdateResult:
    """What a batch update did: complaints written (new versions), references that conflicted."""

    updated: tuple[Complaint, ...]
    conflicts: tuple[str, ...] = ()


@runtime_checkable
class Store(Protocol):
    """A place complaints live. Implementations must be safe against lost updates.

    * ``add`` and ``add_many`` store new complaints at version 1; a reference already stored
      raises :class:`~complaintkit.errors.DuplicateComplaintError` in ``add`` and is skipped
      (and reported) by ``add_many``. ``add_many`` consumes its iterable as a stream and writes
      in batches, never once per record rewriting everything.
    * ``update`` writes a complaint whose ``version`` equals the stored one and returns it with
      the version increased by one; otherwise it raises
      :class:`~complaintkit.errors.ConflictError` and writes nothing.
    * ``get`` raises :class:`~complaintkit.errors.NotFoundError` for an unknown reference.

    Optional: a store that can also take complaints *exactly as given* (version and history
    kept) implements ``restore_many`` (see :class:`RestorableStore`); ``complaintkit migrate``
    needs it on the destination. Backends should implement it: TinyDB and SQL do.

    Opening a store never creates anything: ``initialize`` does. A store that can tell whether
    it has been created implements ``exists`` (see :class:`ExistsStore`), so that a mistyped
    URL is refused instead of silently becoming a new, empty store.
    """

    url: str

    def initialize(self) -> None:
        """Create the empty store (file, tables, schema) if it does not exist yet; idempotent."""
        ...

    def add(self, complaint: Complaint) -> Complaint:
        """Store a new complaint; return it as stored (version 1)."""
        ...

    def add_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store many new complaints in batches, skipping references already stored."""
        ...

    def get(self, reference: str) -> Complaint:
        """The complaint with this reference."""
        ...

    def update(self, complaint: Complaint) -> Complaint:
        """Replace a complaint if nobody changed it since it was read (optimistic check)."""
        ...

    def update_many(self, complaints: Iterable[Complaint]) -> UpdateResult:
        """Write many changed complaints at once; stale ones are skipped and reported."""
        ...

    def find(
        self,
        flt: ComplaintFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt``, oldest received first (ties by reference)."""
        ...

    def count(self, flt: ComplaintFilter | None = None) -> int:
        """How many complaints match ``flt``."""
        ...

    def count_by(self, key: str, flt: ComplaintFilter | None = None) -> dict[str | None, int]:
        """Counts of matching complaints grouped by ``key`` (see :data:`GROUP_KEYS`)."""
        ...

    def existing(self, references: Iterable[str]) -> set[str]:
        """Which of ``references`` are already stored."""
        ...

    def close(self) -> None:
        """Release files, connections and locks."""
        ...


@runtime_checkable
class RestorableStore(Store, Protocol):
    """A :class:`Store` that can also restore complaints as they were stored elsewhere.

    ``restore_many`` is ``add_many`` without the reset to version 1: each complaint is stored
    exactly as given, ``version`` included (history, labels, times with their offsets and every
    other field are stored as they are anyway). References already stored, or repeated in the
    iterable, are skipped and reported in ``AddResult.skipped``, never overwritten. Like
    ``add_many`` it consumes the iterable as a stream and writes in batches. Migration between
    backends (:mod:`complaintkit_migrate`) writes to the destination through it, so a migrated
    complaint compares equal to the original and its next update still needs the same version.
    The conformance suite checks it when a store has it.
    """

    def restore_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store complaints as given (versions kept), skipping references already stored."""
        ...


@runtime_checkable
class DataReadableStore(Store, Protocol):
    """A :class:`Store` that can read its complaints as plain data, more cheaply than
    ``find`` followed by :func:`~complaintkit.serialization.complaint_to_data`.

    ``find_data(flt)`` yields, in ``find`` order and as a stream, exactly what
    :func:`~complaintkit.serialization.complaint_to_data` gives for each complaint ``find(flt)``
    yields (fresh objects the caller may keep or change). Migration
    (:mod:`complaintkit_migrate`) reads through it where a store has it: copying into a
    :class:`DataRestorableStore` and verifying need the data, not the model objects. The SQL
    store builds it from its rows without model objects, the TinyDB store from its documents
    without copying them first; the conformance suite checks it equals ``find`` when a store
    has it.
    """

    def find_data(self, flt: ComplaintFilter | None = None) -> Iterator[dict[str, Any]]:
        """The complaints matching ``flt`` (all when None) as plain data, in ``find`` order."""
        ...


@runtime_checkable
class StoredDataReadableStore(Store, Protocol):
    """A :class:`Store` that can show its complaints as it holds them, building nothing.

    ``find_stored_data(flt)`` yields, in ``find`` order, each complaint's stored form as plain
    data. For a complaint stored in the current layout it equals what ``find_data`` (see
    :class:`DataReadableStore`) gives; one written in another form (an older layout, a time
    written another way) may differ from it and still be the same complaint. The mappings may
    be the store's own: read them, never change them, and write nothing to the store while
    reading them. A migration's verification (:mod:`complaintkit_migrate`) encodes them as
    they are and reads a complaint again through ``get`` only where the encoding does not
    match the other side's. The TinyDB store has it.
    """

    def find_stored_data(self, flt: ComplaintFilter | None = None) -> Iterator[dict[str, Any]]:
        """The complaints matching ``flt`` (all when None) as stored, in ``find`` order."""
        ...


@runtime_checkable
class DataRestorableStore(RestorableStore, Protocol):
    """A :class:`RestorableStore` that can also restore complaints given as plain data.

    ``restore_data_many(documents)`` is ``restore_many`` of the complaints whose
    :func:`~complaintkit.serialization.complaint_to_data` the documents are (as a
    :class:`DataReadableStore` gives them), stored without building the model objects; the
    documents are handed over, not copied. References already stored, or repeated, are
    skipped and reported. The TinyDB store implements it; the conformance suite checks a
    round trip when a store has it.
    """

    def restore_data_many(self, documents: Iterable[dict[str, Any]]) -> AddResult:
        """Store complaints given as data (versions kept), skipping references already stored."""
        ...


@runtime_checkable
class ExistsStore(Store, Protocol):
    """A :class:`Store` that can tell whether it has been created, without creating it.

    ``exists`` is False for a store nobody created yet (no file; a database without the
    backend's tables) and True once ``initialize`` (or a first write) created it. The plugin
    host refuses to open a store that does not exist unless asked to create it
    (:meth:`~complaintkit.host.PluginHost.open_store`), which is how every command but
    ``complaintkit init`` refuses a mistyped store. TinyDB and SQL stores implement it.
    """

    def exists(self) -> bool:
        """Whether the store has been created (reads only; creates nothing)."""
        ...


@attrs.frozen
class StorageBackend:
    """A storage plugin's registration: the URL schemes it serves and how to open a store.

    ``open(url, options)`` returns a :class:`Store`; ``options`` is the ``[storage]`` table of
    the configuration (may be empty).
    """

    name: str
    schemes: tuple[str, ...]
    open: Callable[[str, Mapping[str, Any]], Store]
    description: str = ""


def parse_url(url: str) -> tuple[str, str]:
    """Split ``scheme://rest`` into its scheme and the rest; a bare path is not a URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        from .errors import ConfigError
        from .redact import redact_url

        raise ConfigError(
            f"store {redact_url(url)!r} is not a URL; write e.g. tinydb:///path/to/complaints.json "
            "(three slashes for an absolute path, two for a relative one)"
        )
    return scheme.split("+", 1)[0].lower(), rest


def store_path(url: str, base: str | os.PathLike[str] | None = None) -> Path:
    """The file a file store's URL names (``tinydb://``, ``sqlite://``), as an absolute path.

    complaintkit's one convention for every backend that keeps a file: what follows
    ``scheme://`` (up to a ``?``, which starts options) is a path. It is absolute when it
    starts with a slash, so three slashes in all (``tinydb:///var/lib/c.json``,
    ``sqlite:///var/lib/c.db``); more slashes are the same absolute path (SQLAlchemy's
    ``sqlite:////var/lib/c.db`` keeps working). Otherwise it is relative to ``base`` (default:
    the current folder): ``tinydb://c.json``, ``sqlite://data/c.db``. ``~`` is the home folder.
    """
    scheme, rest = parse_url(url)
    text = rest.partition("?")[0]
    if not text.strip("/"):
        from .errors import ConfigError

        raise ConfigError(
            f"store URL {url!r} names no file; write e.g. {scheme}:///path/to/complaints"
            f"{'.db' if scheme == 'sqlite' else '.json'} (three slashes for an absolute path, "
            "two for a relative one)"
        )
    if text.startswith("/"):
        text = "/" + text.lstrip("/")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(base if base is not None else os.getcwd()) / path
    return Path(os.path.normpath(path))


def resolve_url(url: str, base: str | os.PathLike[str] | None = None) -> str:
    """A store URL as it will be opened: a file store's path made absolute, against ``base``.

    ``tinydb://data/c.json`` becomes ``tinydb:///project/data/c.json``; other URLs (servers,
    schemes of other plugins) and text that is no URL at all are returned unchanged (opening
    says what is wrong with them). This is where a URL the user typed enters: the command
    line, ``COMPLAINTKIT_STORE``, ``complaintkit.toml``, the arguments of ``migrate``.

    One spelling is refused: ``sqlite:///name.db`` means ``/name.db`` here but ``name.db``
    relative to the current folder for SQLAlchemy. When ``/name.db`` does not exist and the
    URL looks meant the SQLAlchemy way (``name.db`` exists here, or ``/name.db`` would sit in
    the root folder or in a top-level folder that does not exist), it raises
    :class:`~complaintkit.errors.ConfigError` naming both spellings.
    """
    scheme, sep, rest = url.partition("://")
    base_scheme = scheme.split("+", 1)[0].lower()
    if not sep or base_scheme not in FILE_SCHEMES:
        return url
    text, question, query = rest.partition("?")
    if base_scheme == "sqlite":
        _refuse_sqlalchemy_relative(url, scheme, text, base)
    return f"{scheme}://{store_path(url, base)}{question}{query}"


def _refuse_sqlalchemy_relative(
    url: str, scheme: str, text: str, base: str | os.PathLike[str] | None
) -> None:
    if not text.startswith("/") or text.startswith("//") or len(text) < 2:
        return
    absolute = Path(os.path.normpath(text))
    relative = Path(os.path.normpath(Path(base if base is not None else os.getcwd()) / text[1:]))
    if absolute.exists() or relative == absolute:
        return
    top = Path("/", absolute.parts[1])
    if relative.exists():
        why = f"{relative} does"
    elif absolute.parent == Path("/"):
        why = "it would be a file in the root folder"
    elif not top.exists():
        why = f"neither does {top}"
    else:
        return
    from .errors import ConfigError

    raise ConfigError(
        f"store URL {url} names {absolute}, which does not exist ({why}). In complaintkit "
        "three slashes start an absolute path, for every backend; SQLAlchemy reads the same "
        f"URL as {text[1:]} relative to the current folder. For that file write "
        f"{scheme}://{text[1:]}; for {absolute} write {scheme}:////{text[1:]}"
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a backend builds many objects at once (a page
    of results, a parsed file, a migration's stream): thousands of acyclic objects would set
    it off every few hundred allocations, each pass walking every young object again.
    Reference counting frees them as usual; the collector runs again afterwards (if it ran
    before: nested pauses leave it off until the outermost ends)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
