"""The storage protocol every backend implements, and the filter that queries it.

A backend registers a :class:`StorageBackend` (URL schemes plus an ``open`` function) through
the ``register_storage_backends`` hook; the host picks one by the URL's scheme, e.g.
``tinydb:///var/lib/complaints.json``. Every backend must pass the conformance suite in
:mod:`complaintkit.testing.conformance`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from .model import Channel, Complaint, EscalationLevel, Status

__all__ = [
    "GROUP_KEYS",
    "AddResult",
    "ComplaintFilter",
    "RestorableStore",
    "StorageBackend",
    "Store",
    "UpdateResult",
    "group_value",
    "parse_url",
]

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
    person).
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
        if self.text:
            needle = self.text.lower()
            if needle not in c.text.lower() and needle not in (c.title or "").lower():
                return False
        return True


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
    """What a batch write did: references added, and references skipped as already stored."""

    added: int
    skipped: tuple[str, ...] = ()


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
    backends (:mod:`complaintkit.migrate`) writes to the destination through it, so a migrated
    complaint compares equal to the original and its next update still needs the same version.
    The conformance suite checks it when a store has it.
    """

    def restore_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store complaints as given (versions kept), skipping references already stored."""
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
