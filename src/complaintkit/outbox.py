"""The notification outbox: every message is stored before it is sent.

A notification rule turns a lifecycle event into :class:`OutboxMessage` records; the store's
:class:`Outbox` keeps them until a worker (``complaintkit outbox drain``) delivers them. The
contract that makes delivery safe:

* ``enqueue`` is idempotent on :attr:`OutboxMessage.key`: enqueueing the same message twice
  (a re-run import, a retried transition) stores it once.
* ``claim`` hands each due message to exactly one worker for a lease; two workers draining the
  same outbox at once never both receive the same message while its lease runs.
* ``mark_sent`` records the confirmation; a sent message is never claimed again, so a retry
  never sends twice what a channel confirmed. ``mark_failed`` records the reason and either
  schedules the next attempt or, with ``retry_at=None``, gives up (status ``dead``).
* ``rewrite`` replaces stored messages as a whole, in one transaction: erasing a person's
  data (``complaintkit person erase``) rewrites the messages addressed to them or mentioning
  them, their keys included when a key holds their address.

A backend offers an outbox by giving its store an ``outbox()`` method returning an
:class:`Outbox` over the same database or file set; :func:`outbox_of` finds it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import attrs

from .errors import NotFoundError

__all__ = ["MessageNotFound", "MessageStatus", "Outbox", "OutboxMessage", "outbox_of"]


class MessageStatus(enum.StrEnum):
    """Where a message stands: waiting, sent, or given up on after its last attempt."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class MessageNotFound(NotFoundError):
    """No outbox message has the given key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.args = (f"no outbox message with key {key!r}",)

    def __str__(self) -> str:
        return str(self.args[0])


@attrs.frozen
class OutboxMessage:
    """One message to one recipient through one channel.

    ``key`` is the idempotency key (e.g. ``"CK-1:received:ack:email:wang@example.cn"``) and
    is also sent to receivers that can deduplicate (webhook header, e-mail Message-ID).
    ``payload`` is JSON-compatible data the channel may use (the versioned webhook body).
    ``attempts`` counts delivery attempts so far; ``next_attempt_at`` is when a pending
    message is due; ``lease_until``/``claimed_by`` are set while a worker holds it.
    """

    key: str
    channel: str
    recipient: str
    body: str
    created_at: datetime
    subject: str | None = None
    event: str = ""
    reference: str | None = None
    lang: str = "en"
    payload: dict[str, Any] = attrs.field(factory=dict)
    status: MessageStatus = MessageStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    lease_until: datetime | None = None
    claimed_by: str | None = None


@runtime_checkable
class Outbox(Protocol):
    """Durable storage of outgoing messages, shared safely by several processes."""

    def enqueue(self, messages: Iterable[OutboxMessage]) -> int:
        """Store new messages; keys already present are left alone. Returns how many were new."""
        ...

    def claim(
        self, now: datetime, *, worker: str, limit: int = 100, lease: timedelta
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` pending messages due at ``now`` (oldest first) to ``worker``.

        A message is due when ``next_attempt_at`` is None or not after ``now`` and no lease on
        it runs past ``now``, not even the claiming worker's own. Returned messages have
        ``claimed_by``, ``lease_until`` set and ``attempts`` already increased by one.
        """
        ...

    def mark_sent(self, key: str, *, at: datetime, worker: str) -> bool:
        """Record delivery; False (and nothing changed) if ``worker`` no longer holds the lease."""
        ...

    def mark_failed(
        self, key: str, *, at: datetime, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Record a failed attempt; retry at ``retry_at`` or, if None, mark the message dead."""
        ...

    def get(self, key: str) -> OutboxMessage:
        """The message with this key (:class:`MessageNotFound`, a NotFoundError, if none)."""
        ...

    def messages(
        self, status: MessageStatus | None = None, *, limit: int | None = None
    ) -> Iterator[OutboxMessage]:
        """Stored messages, oldest first, optionally only those with ``status``."""
        ...

    def counts(self) -> dict[MessageStatus, int]:
        """How many messages are in each status (every status present, zero included)."""
        ...

    def retry(self, key: str, *, at: datetime) -> bool:
        """Make a dead message pending again, due at ``at`` with its attempts reset to 0 (an
        admin's manual retry). False if the message is not dead; MessageNotFound if no such key."""
        ...

    def rewrite(self, messages: Mapping[str, OutboxMessage]) -> int:
        """Replace stored messages, all in one transaction: each key of ``messages`` names a
        stored message and its value is stored instead, every field as given, the key too
        (erasing a person rewrites a key holding their address). Keys not stored are passed
        over; returns how many messages were replaced. A new key that another stored message
        already has raises :class:`~complaintkit.errors.StorageError` and changes nothing."""
        ...


def outbox_of(store: object) -> Outbox:
    """The outbox of ``store``; a backend without one gets a clear configuration error."""
    from .errors import ConfigError

    factory = getattr(store, "outbox", None)
    if factory is None:
        url = getattr(store, "url", type(store).__name__)
        raise ConfigError(
            f"the store {url} has no outbox, so notifications cannot be queued; "
            "use a backend that provides one (tinydb, sqlite, postgresql, mysql)"
        )
    outbox = factory()
    if not isinstance(outbox, Outbox):
        raise ConfigError(f"the outbox of {type(store).__name__} does not implement Outbox")
    return outbox
