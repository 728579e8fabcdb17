"""The TinyDB store's notification outbox: a SQLite file beside the JSON file.

``complaints.json`` gets ``complaints.outbox.sqlite``. Rewriting the whole JSON file for every
queued message would make a batch import quadratic; SQLite (standard library) appends one row
per message, and several processes share it safely:

* WAL journal, so readers (``outbox list``) never block the worker, and a busy timeout so two
  writers wait for each other instead of failing;
* ``claim`` is one ``UPDATE … RETURNING`` inside ``BEGIN IMMEDIATE``: the write lock is taken
  before the due rows are chosen, so two workers can never lease the same row;
* ``mark_sent``/``mark_failed`` only change a row still leased to the calling worker.

Timestamps are stored as UTC ISO-8601 strings of fixed width, so they compare as text.
``synchronous=NORMAL`` with WAL survives a crash of the process (the usual risk); a power cut
may lose the last few queued messages.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaintkit.errors import StorageError
from complaintkit.outbox import MessageNotFound, MessageStatus, OutboxMessage

__all__ = ["SQLiteOutbox", "outbox_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    subject TEXT,
    event TEXT NOT NULL,
    reference TEXT,
    lang TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT,
    last_error TEXT,
    sent_at TEXT,
    lease_until TEXT,
    claimed_by TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
"""
_COLUMNS = (
    "key, channel, recipient, body, created_at, subject, event, reference, lang, payload, "
    "status, attempts, next_attempt_at, last_error, sent_at, lease_until, claimed_by"
)
#: The UPDATE of :meth:`SQLiteOutbox.rewrite`: every column of ``_COLUMNS``, by the old key.
_REWRITE = (
    "UPDATE outbox SET "
    + ", ".join(f"{column.strip()} = ?" for column in _COLUMNS.split(","))
    + " WHERE key = ?"
)


def outbox_path(store_path: Path) -> Path:
    """``complaints.json`` → ``complaints.outbox.sqlite`` in the same folder."""
    return store_path.with_name(store_path.stem + ".outbox.sqlite")


def _ts(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"outbox timestamps must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class SQLiteOutbox:
    """An :class:`~complaintkit.outbox.Outbox` in one SQLite file, shared by processes.

    One connection per instance; the store keeps one instance, so queuing thousands of
    messages during an import costs one small transaction each and no reconnects.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the outbox {self.path}: {exc}") from None

    def __repr__(self) -> str:
        return f"SQLiteOutbox({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection (the store does this when it is closed)."""
        self._db.close()

    def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).rowcount
            except sqlite3.Error as exc:
                raise StorageError(f"outbox {self.path}: {exc}") from None

    # --- the Outbox protocol ---------------------------------------------------------------

    def enqueue(self, messages: Iterable[OutboxMessage]) -> int:
        """Store new messages in one transaction; keys already present are left alone."""
        rows = [_values(m) for m in messages]
        if not rows:
            return 0
        with self._lock:
            try:
                before = self._db.total_changes
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany(
                        f"INSERT OR IGNORE INTO outbox ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                        rows,
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                return self._db.total_changes - before
            except sqlite3.Error as exc:
                raise StorageError(f"outbox {self.path}: {exc}") from None

    def claim(
        self, now: datetime, *, worker: str, limit: int = 100, lease: timedelta
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due messages to ``worker`` in one locked UPDATE … RETURNING."""
        at = _ts(now)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    rows = self._db.execute(
                        "UPDATE outbox SET claimed_by = ?, lease_until = ?, "
                        "attempts = attempts + 1 WHERE seq IN ("
                        "  SELECT seq FROM outbox WHERE status = 'pending'"
                        "  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
                        "  AND (lease_until IS NULL OR lease_until <= ?)"
                        "  ORDER BY seq LIMIT ?)"
                        f" RETURNING seq, {_COLUMNS}",
                        (worker, _ts(now + lease), at, at, limit),
                    ).fetchall()
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise StorageError(f"outbox {self.path}: {exc}") from None
        return [_message(row[1:]) for row in sorted(rows)]

    def mark_sent(self, key: str, *, at: datetime, worker: str) -> bool:
        """Record delivery if ``worker`` still holds the message."""
        return (
            self._write(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL, "
                "lease_until = NULL, claimed_by = NULL "
                "WHERE key = ? AND claimed_by = ? AND status = 'pending'",
                (_ts(at), key, worker),
            )
            == 1
        )

    def mark_failed(
        self, key: str, *, at: datetime, worker: str, error: str, retry_at: datetime | None
    ) -> bool:
        """Record a failure: pending again at ``retry_at``, or dead when it is None."""
        status = MessageStatus.PENDING if retry_at is not None else MessageStatus.DEAD
        return (
            self._write(
                "UPDATE outbox SET status = ?, next_attempt_at = ?, last_error = ?, "
                "lease_until = NULL, claimed_by = NULL "
                "WHERE key = ? AND claimed_by = ? AND status = 'pending'",
                (status.value, _ts(retry_at), error, key, worker),
            )
            == 1
        )

    def get(self, key: str) -> OutboxMessage:
        """The message with ``key``."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise MessageNotFound(key)
        return _message(row)

    def messages(
        self, status: MessageStatus | None = None, *, limit: int | None = None
    ) -> Iterator[OutboxMessage]:
        """Stored messages, oldest first."""
        sql = f"SELECT {_COLUMNS} FROM outbox"
        params: list[Any] = []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(MessageStatus(status).value)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._db.execute(sql, params).fetchall()
        return (_message(row) for row in rows)

    def counts(self) -> dict[MessageStatus, int]:
        """Messages per status, every status present."""
        found = dict(self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        return {status: int(found.get(status.value, 0)) for status in MessageStatus}

    def retry(self, key: str, *, at: datetime) -> bool:
        """Make a dead message pending again with its attempts reset."""
        self.get(key)
        return (
            self._write(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, "
                "lease_until = NULL, claimed_by = NULL WHERE key = ? AND status = 'dead'",
                (_ts(at), key),
            )
            == 1
        )

    def rewrite(self, messages: Mapping[str, OutboxMessage]) -> int:
        """Replace each stored message named by a key of ``messages`` (key included), in one
        transaction; a new key already stored elsewhere raises and changes nothing."""
        rows = [(*_values(new), old) for old, new in messages.items()]
        if not rows:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    replaced = 0
                    for row in rows:
                        replaced += self._db.execute(_REWRITE, row).rowcount
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                return replaced
            except sqlite3.Error as exc:
                raise StorageError(f"outbox {self.path}: {exc}; nothing was changed") from None


def _values(m: OutboxMessage) -> tuple[Any, ...]:
    """A message as the row's values, in the order of ``_COLUMNS``."""
    return (
        m.key,
        m.channel,
        m.recipient,
        m.body,
        _ts(m.created_at),
        m.subject,
        m.event,
        m.reference,
        m.lang,
        json.dumps(m.payload, ensure_ascii=False),
        m.status.value,
        m.attempts,
        _ts(m.next_attempt_at),
        m.last_error,
        _ts(m.sent_at),
        _ts(m.lease_until),
        m.claimed_by,
    )


def _message(row: tuple[Any, ...]) -> OutboxMessage:
    (
        key,
        channel,
        recipient,
        body,
        created_at,
        subject,
        event,
        reference,
        lang,
        payload,
        status,
        attempts,
        next_attempt_at,
        last_error,
        sent_at,
        lease_until,
        claimed_by,
    ) = row
    created = _dt(created_at)
    assert created is not None
    return OutboxMessage(
        key=key,
        channel=channel,
        recipient=recipient,
        body=body,
        created_at=created,
        subject=subject,
        event=event,
        reference=reference,
        lang=lang,
        payload=json.loads(payload),
        status=MessageStatus(status),
        attempts=attempts,
        next_attempt_at=_dt(next_attempt_at),
        last_error=last_error,
        sent_at=_dt(sent_at),
        lease_until=_dt(lease_until),
        claimed_by=claimed_by,
    )
