"""The notification outbox of a SQL store: table ``ck_outbox`` in the same database.

* ``enqueue`` inserts with the database's own "ignore duplicates" (``ON CONFLICT DO
  NOTHING RETURNING`` on PostgreSQL and SQLite, ``INSERT IGNORE`` on MariaDB/MySQL), so two
  processes enqueueing the same key store it once;
* ``claim`` selects due messages with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and MariaDB (a
  row another worker is claiming right now is passed over, not waited for) and leases them in
  the same transaction; SQLite serialises the whole claim under ``BEGIN IMMEDIATE``;
* ``mark_sent``/``mark_failed`` are single ``UPDATE``\\ s guarded by ``claimed_by = worker``, so
  a worker whose lease was taken over changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from complaintkit.errors import NotFoundError, StorageError
from complaintkit.outbox import MessageNotFound, MessageStatus, OutboxMessage

from .store import _join, _utc

if TYPE_CHECKING:
    from .store import SQLStore

__all__ = ["SQLOutbox"]


def _pair(at: datetime | None) -> tuple[datetime | None, int | None]:
    if at is None:
        return None, None
    offset = at.utcoffset()
    assert offset is not None, "outbox times must be timezone-aware"
    return _utc(at), int(offset.total_seconds())


class SQLOutbox:
    """An :class:`~complaintkit.outbox.Outbox` in the store's database."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self.table = store.tables.outbox

    # --- conversion ---------------------------------------------------------------------

    def _row(self, message: OutboxMessage) -> dict[str, Any]:
        created = _pair(message.created_at)
        due = _pair(message.next_attempt_at)
        sent = _pair(message.sent_at)
        lease = _pair(message.lease_until)
        return {
            "msg_key": message.key,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "event": message.event,
            "reference": message.reference,
            "lang": message.lang,
            "payload": dict(message.payload),
            "status": MessageStatus(message.status).value,
            "attempts": message.attempts,
            "created_utc": created[0],
            "created_offset": created[1],
            "next_attempt_utc": due[0],
            "next_attempt_offset": due[1],
            "last_error": message.last_error,
            "sent_utc": sent[0],
            "sent_offset": sent[1],
            "lease_utc": lease[0],
            "lease_offset": lease[1],
            "claimed_by": message.claimed_by,
        }

    @staticmethod
    def _message(row: Any) -> OutboxMessage:
        created = _join(row.created_utc, row.created_offset)
        assert created is not None
        return OutboxMessage(
            key=row.msg_key,
            channel=row.channel,
            recipient=row.recipient,
            body=row.body,
            created_at=created,
            subject=row.subject,
            event=row.event,
            reference=row.reference,
            lang=row.lang,
            payload=row.payload,
            status=MessageStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=_join(row.next_attempt_utc, row.next_attempt_offset),
            last_error=row.last_error,
            sent_at=_join(row.sent_utc, row.sent_offset),
            lease_until=_join(row.lease_utc, row.lease_offset),
            claimed_by=row.claimed_by,
        )

    # --- the protocol -------------------------------------------------------------------

    def enqueue(self, messages: Iterable[OutboxMessage]) -> int:
        """Store new messages; keys already present are left alone. Returns how many were new."""
        rows = [self._row(message) for message in messages]
        if not rows:
            return 0
        dialect = self.store.dialect
        statement: Any
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = (
                pg_insert(self.table)
                .on_conflict_do_nothing(index_elements=["msg_key"])
                .returning(self.table.c.id)
            )
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = (
                sqlite_insert(self.table)
                .on_conflict_do_nothing(index_elements=["msg_key"])
                .returning(self.table.c.id)
            )
        else:
            statement = sa.insert(self.table).prefix_with("IGNORE")
        new = 0
        with self.store._writing() as conn:
            # One statement per row: rowcount tells us, per row, whether it was new.
            for row in rows:
                result = conn.execute(statement, row)
                if dialect in ("postgresql", "sqlite"):
                    new += len(result.all())  # RETURNING gives a row only when inserted
                else:
                    new += max(result.rowcount, 0)
        return new

    def claim(
        self, now: datetime, *, worker: str, limit: int = 100, lease: timedelta
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due pending messages (oldest first) to ``worker``."""
        if limit <= 0:
            return []
        t = self.table
        at = _utc(now)
        until, until_offset = _pair(now + lease)
        due = (
            sa.select(t.c.id)
            .where(
                t.c.status == MessageStatus.PENDING.value,
                sa.or_(t.c.next_attempt_utc.is_(None), t.c.next_attempt_utc <= at),
                sa.or_(t.c.lease_utc.is_(None), t.c.lease_utc <= at),
            )
            .order_by(t.c.created_utc, t.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.store._writing() as conn:
            ids = list(conn.execute(due).scalars())
            if not ids:
                return []
            conn.execute(
                sa.update(t)
                .where(t.c.id.in_(ids))
                .values(
                    claimed_by=worker,
                    lease_utc=until,
                    lease_offset=until_offset,
                    attempts=t.c.attempts + 1,
                )
            )
            rows = conn.execute(
                sa.select(t).where(t.c.id.in_(ids)).order_by(t.c.created_utc, t.c.id)
            ).all()
        return [self._message(row) for row in rows]

    def _guarded(self, key: str, worker: str, values: dict[str, Any]) -> bool:
        t = self.table
        with self.store._writing() as conn:
            result = conn.execute(
                sa.update(t)
                .where(
                    t.c.msg_key == key,
                    t.c.claimed_by == worker,
                    t.c.status == MessageStatus.PENDING.value,
                )
                .values(values)
            )
            return result.rowcount == 1

    def mark_sent(self, key: str, *, at: datetime, worker: str) -> bool:
        """Record delivery; False (and nothing changed) if ``worker`` no longer holds it."""
        sent, sent_offset = _pair(at)
        return self._guarded(
            key,
            worker,
            {
                "status": MessageStatus.SENT.value,
                "sent_utc": sent,
                "sent_offset": sent_offset,
                "lease_utc": None,
                "lease_offset": None,
                "claimed_by": None,
            },
        )

    def mark_failed(
        self, key: str, *, at: datetime, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Record a failed attempt; retry at ``retry_at`` or, if None, mark the message dead."""
        retry, retry_offset = _pair(retry_at)
        values: dict[str, Any] = {
            "last_error": error,
            "lease_utc": None,
            "lease_offset": None,
            "claimed_by": None,
        }
        if retry_at is None:
            values["status"] = MessageStatus.DEAD.value
        else:
            values.update(next_attempt_utc=retry, next_attempt_offset=retry_offset)
        return self._guarded(key, worker, values)

    def get(self, key: str) -> OutboxMessage:
        """The message with this key (NotFoundError if none)."""
        t = self.table
        with self.store._connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.msg_key == key)).first()
        if row is None:
            raise NotFoundError(key)
        return self._message(row)

    def messages(
        self, status: MessageStatus | None = None, *, limit: int | None = None
    ) -> Iterator[OutboxMessage]:
        """Stored messages, oldest first, optionally only those with ``status``; read in pages."""
        t = self.table
        remaining = limit
        last_id: int | None = None
        while remaining is None or remaining > 0:
            size = 500 if remaining is None else min(500, remaining)
            query = sa.select(t).order_by(t.c.created_utc, t.c.id).limit(size)
            if status is not None:
                query = query.where(t.c.status == MessageStatus(status).value)
            if last_id is not None:
                last = sa.select(t.c.created_utc).where(t.c.id == last_id).scalar_subquery()
                query = query.where(
                    sa.or_(
                        t.c.created_utc > last, sa.and_(t.c.created_utc == last, t.c.id > last_id)
                    )
                )
            with self.store._connect() as conn:
                rows = conn.execute(query).all()
            yield from (self._message(row) for row in rows)
            if len(rows) < size:
                return
            last_id = rows[-1].id
            if remaining is not None:
                remaining -= len(rows)

    def counts(self) -> dict[MessageStatus, int]:
        """How many messages are in each status (every status present, zero included)."""
        t = self.table
        with self.store._connect() as conn:
            rows = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all()
        found = {MessageStatus(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in MessageStatus}

    def retry(self, key: str, *, at: datetime) -> bool:
        """Make a dead message pending again, due at ``at``; False if it is not dead."""
        t = self.table
        due, due_offset = _pair(at)
        with self.store._writing() as conn:
            result = conn.execute(
                sa.update(t)
                .where(t.c.msg_key == key, t.c.status == MessageStatus.DEAD.value)
                .values(
                    status=MessageStatus.PENDING.value,
                    attempts=0,
                    next_attempt_utc=due,
                    next_attempt_offset=due_offset,
                    lease_utc=None,
                    lease_offset=None,
                    claimed_by=None,
                )
            )
            if result.rowcount == 1:
                return True
            exists = conn.execute(sa.select(t.c.id).where(t.c.msg_key == key)).first()
        if exists is None:
            raise MessageNotFound(key)
        return False

    def rewrite(self, messages: Mapping[str, OutboxMessage]) -> int:
        """Replace each stored message named by a key of ``messages`` (key included), in one
        transaction; a new key already stored elsewhere raises and changes nothing."""
        if not messages:
            return 0
        t = self.table
        replaced = 0
        try:
            with self.store._writing() as conn:
                for old, new in messages.items():
                    result = conn.execute(
                        sa.update(t).where(t.c.msg_key == old).values(self._row(new))
                    )
                    replaced += max(result.rowcount, 0)
        except StorageError as exc:
            raise StorageError(f"{exc}; nothing was changed") from exc
        return replaced
