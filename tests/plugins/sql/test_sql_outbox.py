"""The SQL store's notification outbox on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from complaintkit.errors import NotFoundError
from complaintkit.outbox import MessageStatus, Outbox, OutboxMessage, outbox_of
from complaintkit_sql.store import SQLStore, open_sql

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))
LEASE = timedelta(minutes=5)


def message(n: int, **changes: object) -> OutboxMessage:
    fields: dict[str, object] = {
        "key": f"CK-{n}:received:ack:email:c{n}@example.cn",
        "channel": "email",
        "recipient": f"c{n}@example.cn",
        "body": f"您的投诉 CK-{n} 已受理 / complaint received",
        "created_at": T0 + timedelta(seconds=n),
        "subject": "投诉受理",
        "event": "received",
        "reference": f"CK-{n}",
        "lang": "zh",
        "payload": {"reference": f"CK-{n}", "nested": {"列表": [1, 2.5, None]}},
    }
    fields.update(changes)
    return OutboxMessage(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(sql_url: str) -> Iterator[SQLStore]:
    with open_sql(sql_url) as opened:
        yield opened


@pytest.fixture
def outbox(store: SQLStore) -> Outbox:
    found = outbox_of(store)
    assert isinstance(found, Outbox)
    return found


def test_enqueue_is_idempotent_and_round_trips(outbox: Outbox) -> None:
    assert outbox.enqueue([message(1), message(2), message(1)]) == 2
    assert outbox.enqueue([message(2, body="changed"), message(3)]) == 1
    got = outbox.get(message(2).key)
    assert got == message(2)
    assert got.created_at.utcoffset() == timedelta(hours=8)
    assert got.payload["nested"]["列表"] == [1, 2.5, None]
    assert [m.key for m in outbox.messages()] == [message(n).key for n in (1, 2, 3)]
    assert outbox.counts() == {
        MessageStatus.PENDING: 3,
        MessageStatus.SENT: 0,
        MessageStatus.DEAD: 0,
    }
    with pytest.raises(NotFoundError):
        outbox.get("nope")


def test_claim_leases_oldest_due_first_and_not_twice(outbox: Outbox) -> None:
    outbox.enqueue([message(n) for n in range(5)])
    outbox.enqueue([message(9, next_attempt_at=T0 + timedelta(hours=1))])  # not due yet
    first = outbox.claim(T0 + timedelta(minutes=1), worker="a", limit=3, lease=LEASE)
    assert [m.key for m in first] == [message(n).key for n in range(3)]
    assert all(m.claimed_by == "a" and m.attempts == 1 for m in first)
    assert first[0].lease_until == T0 + timedelta(minutes=1) + LEASE
    second = outbox.claim(T0 + timedelta(minutes=2), worker="b", limit=10, lease=LEASE)
    assert [m.key for m in second] == [message(n).key for n in (3, 4)]
    # After a's lease runs out, its messages are due again for b; b's own leases still run,
    # so b does not get 3 and 4 a second time while it may still be sending them.
    later = T0 + timedelta(minutes=1) + LEASE + timedelta(seconds=1)
    again = outbox.claim(later, worker="b", limit=10, lease=LEASE)
    assert {m.key for m in again} == {message(n).key for n in range(3)}
    assert all(m.attempts == 2 for m in again)
    assert not outbox.mark_sent(message(0).key, at=later, worker="a")  # lease lost
    assert outbox.mark_sent(message(0).key, at=later, worker="b")
    sent = outbox.get(message(0).key)
    assert sent.status is MessageStatus.SENT and sent.sent_at == later
    # A sent message is never claimed again, however late.
    never = outbox.claim(later + timedelta(days=1), worker="c", limit=100, lease=LEASE)
    assert message(0).key not in {m.key for m in never}


def test_failed_messages_retry_or_die(outbox: Outbox) -> None:
    outbox.enqueue([message(1), message(2)])
    outbox.claim(T0, worker="w", lease=LEASE)
    retry_at = T0 + timedelta(minutes=10)
    assert outbox.mark_failed(
        message(1).key, at=T0, worker="w", error="SMTP 451", retry_at=retry_at
    )
    assert outbox.mark_failed(message(2).key, at=T0, worker="w", error="bad address", retry_at=None)
    assert not outbox.mark_failed(message(2).key, at=T0, worker="w", error="x", retry_at=None)
    one, two = outbox.get(message(1).key), outbox.get(message(2).key)
    assert (one.status, one.last_error, one.next_attempt_at) == (
        MessageStatus.PENDING,
        "SMTP 451",
        retry_at,
    )
    assert two.status is MessageStatus.DEAD
    assert outbox.claim(T0 + timedelta(minutes=9), worker="w", lease=LEASE) == []
    assert [m.key for m in outbox.claim(retry_at, worker="w", lease=LEASE)] == [message(1).key]
    assert [m.key for m in outbox.messages(MessageStatus.DEAD)] == [message(2).key]
    assert not outbox.retry(message(1).key, at=retry_at)  # not dead
    assert outbox.retry(message(2).key, at=retry_at)
    assert outbox.get(message(2).key).status is MessageStatus.PENDING
    assert outbox.counts()[MessageStatus.DEAD] == 0
    assert list(outbox.messages(limit=1)) == [outbox.get(message(1).key)]


def test_concurrent_workers_never_get_the_same_message(sql_url: str) -> None:
    with open_sql(sql_url) as setup:
        setup.outbox().enqueue([message(n) for n in range(300)])
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            with open_sql(sql_url) as store:
                outbox = store.outbox()
                mine = got.setdefault(worker, [])
                while batch := outbox.claim(
                    datetime.now(UTC), worker=worker, limit=7, lease=timedelta(hours=1)
                ):
                    for m in batch:
                        assert outbox.mark_sent(m.key, at=datetime.now(UTC), worker=worker)
                        mine.append(m.key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    every = [key for keys in got.values() for key in keys]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for keys in got.values() if keys) >= 2, "the workers did not overlap"
