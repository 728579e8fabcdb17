"""The outbox conformance suite: what every :class:`~complaintkit.outbox.Outbox` must do.

A backend reuses it by subclassing :class:`OutboxConformance` and providing an
``outbox_factory`` fixture: a callable returning an outbox on the *same* database each time it
is called (empty at the start of each test). The suite calls it again in forked worker
processes to check that two processes claiming at once never receive the same message, so the
factory must open a fresh connection on every call::

    import pytest
    from complaintkit.testing.outbox_conformance import OutboxConformance

    class TestMyOutbox(OutboxConformance):
        @pytest.fixture
        def outbox_factory(self, tmp_path):
            url = f"mydb://{tmp_path / 'complaints.db'}"
            return lambda: open_my_store(url, {}).outbox()

The suite uses only the public API (:mod:`complaintkit.outbox`, the errors), so third-party
backends can run it as is. Timestamps given to the outbox are timezone-aware and may carry any
offset; an outbox must compare them as instants.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from complaintkit.errors import NotFoundError, StorageError
from complaintkit.outbox import MessageStatus, Outbox, OutboxMessage

__all__ = ["OutboxConformance", "OutboxFactory", "sample_message"]

#: Opens an outbox on the test's database (see the module docstring).
OutboxFactory = Callable[[], Outbox]

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHINA = timezone(timedelta(hours=8), "CST")
LEASE = timedelta(minutes=5)


def sample_message(
    key: str = "CK-1:received:ack:email:wang@example.cn", **changes: Any
) -> OutboxMessage:
    """A message using every field a rule fills in, with Chinese text and a nested payload."""
    message = OutboxMessage(
        key=key,
        channel="email",
        recipient="wang@example.cn",
        subject="您的投诉已受理 CK-1",
        body="王先生您好：\n我们已收到您的投诉（编号 CK-1），将在 24 小时内回复。",
        created_at=T0,
        event="received",
        reference="CK-1",
        lang="zh",
        payload={
            "version": 1,
            "event": "received",
            "complaint": {"reference": "CK-1", "labels": {"cause": "delivery"}},
        },
    )
    return attrs.evolve(message, **changes)


def _messages(n: int, prefix: str = "M") -> list[OutboxMessage]:
    return [
        sample_message(f"{prefix}-{i:04d}", created_at=T0 + timedelta(seconds=i)) for i in range(n)
    ]


def _claim_worker(factory: OutboxFactory, worker: str, start: Any, queue: Any) -> None:
    """A worker process: claim in small batches until nothing is due, mark each sent."""
    try:
        outbox = factory()
        start.wait(30)
        got: list[str] = []
        while True:
            claimed = outbox.claim(T0 + timedelta(hours=1), worker=worker, limit=7, lease=LEASE)
            if not claimed:
                break
            for message in claimed:
                got.append(message.key)
                if not outbox.mark_sent(message.key, at=T0 + timedelta(hours=1), worker=worker):
                    raise AssertionError(f"{worker} lost the lease on {message.key}")
        queue.put((worker, got, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent test
        queue.put((worker, [], f"{type(exc).__name__}: {exc}"))


class OutboxConformance:
    """Subclass and provide an ``outbox_factory`` fixture (see the module docstring)."""

    @pytest.fixture
    def outbox(self, outbox_factory: OutboxFactory) -> Outbox:
        return outbox_factory()

    # --- enqueue ---------------------------------------------------------------------------

    def test_implements_the_protocol(self, outbox: Outbox) -> None:
        assert isinstance(outbox, Outbox)

    def test_empty_outbox(self, outbox: Outbox) -> None:
        assert outbox.counts() == {status: 0 for status in MessageStatus}
        assert list(outbox.messages()) == []
        assert outbox.claim(T0, worker="w", lease=LEASE) == []

    def test_enqueue_round_trips_every_field(self, outbox: Outbox) -> None:
        message = sample_message()
        assert outbox.enqueue([message]) == 1
        assert outbox.get(message.key) == message

    def test_enqueue_is_idempotent_on_key(self, outbox: Outbox) -> None:
        assert outbox.enqueue(_messages(3)) == 3
        changed = sample_message("M-0001", body="a different body")
        assert outbox.enqueue([changed, *_messages(4)]) == 1
        assert outbox.get("M-0001").body == sample_message().body
        assert outbox.counts()[MessageStatus.PENDING] == 4

    def test_enqueue_nothing(self, outbox: Outbox) -> None:
        assert outbox.enqueue([]) == 0

    def test_persists_across_connections(self, outbox_factory: OutboxFactory) -> None:
        outbox_factory().enqueue(_messages(2))
        assert [m.key for m in outbox_factory().messages()] == ["M-0000", "M-0001"]

    def test_get_unknown_key(self, outbox: Outbox) -> None:
        with pytest.raises(NotFoundError, match="nope"):
            outbox.get("nope")

    def test_timestamps_with_other_offsets_compare_as_instants(self, outbox: Outbox) -> None:
        # due at 17:00+08:00 == 09:00 UTC
        outbox.enqueue([sample_message("A", next_attempt_at=T0.astimezone(CHINA))])
        assert outbox.claim(T0 - timedelta(microseconds=1), worker="w", lease=LEASE) == []
        (claimed,) = outbox.claim(T0, worker="w", lease=LEASE)
        assert claimed.next_attempt_at == T0

    # --- claim -----------------------------------------------------------------------------

    def test_claim_oldest_first_with_limit_and_lease(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(5))
        claimed = outbox.claim(T0, worker="w1", limit=3, lease=LEASE)
        assert [m.key for m in claimed] == ["M-0000", "M-0001", "M-0002"]
        for message in claimed:
            assert message.claimed_by == "w1"
            assert message.lease_until == T0 + LEASE
            assert message.attempts == 1
            assert message.status is MessageStatus.PENDING
        assert outbox.get("M-0000").claimed_by == "w1"

    def test_leased_messages_are_not_claimed_again_until_the_lease_ends(
        self, outbox: Outbox
    ) -> None:
        outbox.enqueue(_messages(3))
        first = outbox.claim(T0, worker="w1", limit=2, lease=LEASE)
        second = outbox.claim(T0 + timedelta(minutes=1), worker="w2", lease=LEASE)
        assert [m.key for m in second] == ["M-0002"]
        assert not {m.key for m in first} & {m.key for m in second}
        # w1 crashed: after its lease, its messages are due again, attempts counted
        later = outbox.claim(T0 + LEASE, worker="w3", lease=LEASE)
        assert [(m.key, m.attempts, m.claimed_by) for m in later] == [
            ("M-0000", 2, "w3"),
            ("M-0001", 2, "w3"),
        ]
        # and the crashed worker can no longer confirm them
        assert not outbox.mark_sent("M-0000", at=T0 + LEASE, worker="w1")
        assert outbox.mark_sent("M-0000", at=T0 + LEASE, worker="w3")

    def test_future_messages_are_not_due(self, outbox: Outbox) -> None:
        outbox.enqueue([sample_message("later", next_attempt_at=T0 + timedelta(hours=1))])
        assert outbox.claim(T0, worker="w", lease=LEASE) == []
        assert [m.key for m in outbox.claim(T0 + timedelta(hours=1), worker="w", lease=LEASE)] == [
            "later"
        ]

    # --- outcomes --------------------------------------------------------------------------

    def test_mark_sent_is_final(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(1))
        outbox.claim(T0, worker="w", lease=LEASE)
        assert outbox.mark_sent("M-0000", at=T0 + timedelta(seconds=2), worker="w")
        sent = outbox.get("M-0000")
        assert sent.status is MessageStatus.SENT
        assert sent.sent_at == T0 + timedelta(seconds=2)
        assert sent.claimed_by is None
        assert outbox.claim(T0 + timedelta(days=1), worker="w", lease=LEASE) == []
        # confirming twice, or failing after success, changes nothing
        assert not outbox.mark_sent("M-0000", at=T0, worker="w")
        assert not outbox.mark_failed("M-0000", at=T0, worker="w", error="x", retry_at=None)
        assert outbox.get("M-0000").status is MessageStatus.SENT

    def test_mark_sent_needs_the_lease(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(1))
        assert not outbox.mark_sent("M-0000", at=T0, worker="w")  # never claimed
        outbox.claim(T0, worker="w1", lease=LEASE)
        assert not outbox.mark_sent("M-0000", at=T0, worker="w2")
        assert outbox.get("M-0000").status is MessageStatus.PENDING

    def test_mark_failed_schedules_a_retry(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(1))
        outbox.claim(T0, worker="w", lease=LEASE)
        retry_at = T0 + timedelta(minutes=2)
        assert outbox.mark_failed(
            "M-0000", at=T0, worker="w", error="connection refused", retry_at=retry_at
        )
        failed = outbox.get("M-0000")
        assert failed.status is MessageStatus.PENDING
        assert failed.last_error == "connection refused"
        assert failed.next_attempt_at == retry_at
        assert failed.claimed_by is None
        assert outbox.claim(retry_at - timedelta(seconds=1), worker="w", lease=LEASE) == []
        (again,) = outbox.claim(retry_at, worker="w", lease=LEASE)
        assert again.attempts == 2

    def test_mark_failed_without_retry_is_dead_and_can_be_retried_by_hand(
        self, outbox: Outbox
    ) -> None:
        outbox.enqueue(_messages(2))
        outbox.claim(T0, worker="w", limit=1, lease=LEASE)
        assert not outbox.mark_failed("M-0000", at=T0, worker="x", error="e", retry_at=None)
        assert outbox.mark_failed(
            "M-0000", at=T0, worker="w", error="550 no such user", retry_at=None
        )
        dead = outbox.get("M-0000")
        assert dead.status is MessageStatus.DEAD
        assert dead.last_error == "550 no such user"
        assert outbox.counts() == {
            MessageStatus.PENDING: 1,
            MessageStatus.SENT: 0,
            MessageStatus.DEAD: 1,
        }
        assert [m.key for m in outbox.messages(MessageStatus.DEAD)] == ["M-0000"]
        assert [m.key for m in outbox.claim(T0 + timedelta(days=1), worker="w", lease=LEASE)] == [
            "M-0001"
        ]
        assert not outbox.retry("M-0001", at=T0)  # not dead
        assert outbox.retry("M-0000", at=T0 + timedelta(hours=2))
        revived = outbox.get("M-0000")
        assert (revived.status, revived.attempts) == (MessageStatus.PENDING, 0)
        assert outbox.claim(T0 + timedelta(hours=1), worker="w", lease=LEASE) == []
        (claimed,) = outbox.claim(T0 + timedelta(hours=2), worker="w", lease=LEASE)
        assert (claimed.key, claimed.attempts) == ("M-0000", 1)
        with pytest.raises(NotFoundError):
            outbox.retry("nope", at=T0)

    def test_messages_filter_and_limit(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(4))
        outbox.claim(T0, worker="w", limit=1, lease=LEASE)
        outbox.mark_sent("M-0000", at=T0, worker="w")
        assert [m.key for m in outbox.messages(MessageStatus.PENDING)] == [
            "M-0001",
            "M-0002",
            "M-0003",
        ]
        assert [m.key for m in outbox.messages(limit=2)] == ["M-0000", "M-0001"]
        assert [m.key for m in outbox.messages(MessageStatus.SENT)] == ["M-0000"]

    # --- rewrite (erasure) -----------------------------------------------------------------

    def test_rewrite_replaces_whole_messages_keys_included(self, outbox: Outbox) -> None:
        outbox.enqueue([sample_message(), *_messages(2)])
        (claimed,) = outbox.claim(T0, worker="w", limit=1, lease=LEASE)
        outbox.mark_sent(claimed.key, at=T0 + timedelta(minutes=1), worker="w")
        sent = outbox.get(claimed.key)
        erased = attrs.evolve(
            sent,
            key="CK-1:received:ack:email:[erased]",
            recipient="[erased]",
            body="[erased]您好",
            payload={"version": 1, "complaint": {"complainant": {"email": None}}},
        )
        assert outbox.rewrite({sent.key: erased, "not-stored": erased}) == 1
        with pytest.raises(NotFoundError):
            outbox.get(sent.key)
        assert outbox.get(erased.key) == erased  # status, sent_at, attempts as given
        assert [m.key for m in outbox.messages()] == [erased.key, "M-0000", "M-0001"]
        assert outbox.counts()[MessageStatus.SENT] == 1
        assert outbox.rewrite({}) == 0

    def test_rewrite_to_a_key_already_stored_changes_nothing(self, outbox: Outbox) -> None:
        outbox.enqueue(_messages(3))
        first = attrs.evolve(outbox.get("M-0000"), body="changed")
        clash = attrs.evolve(outbox.get("M-0001"), key="M-0002", body="changed")
        with pytest.raises(StorageError):
            outbox.rewrite({"M-0000": first, "M-0001": clash})
        assert [m.body for m in outbox.messages()] == [sample_message().body] * 3
        assert [m.key for m in outbox.messages()] == ["M-0000", "M-0001", "M-0002"]

    # --- concurrency -----------------------------------------------------------------------

    @pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
    def test_two_processes_never_claim_the_same_message(
        self, outbox_factory: OutboxFactory
    ) -> None:
        outbox_factory().enqueue(_messages(300))
        ctx = multiprocessing.get_context("fork")
        start = ctx.Event()
        queue = ctx.Queue()
        workers = [
            ctx.Process(target=_claim_worker, args=(outbox_factory, name, start, queue))
            for name in ("proc-a", "proc-b")
        ]
        for process in workers:
            process.start()
        start.set()
        results = [queue.get(timeout=120) for _ in workers]
        for process in workers:
            process.join(30)
        errors = [error for _, _, error in results if error]
        assert not errors, errors
        claimed = [key for _, keys, _ in results for key in keys]
        assert len(claimed) == len(set(claimed)) == 300
        outbox = outbox_factory()
        assert outbox.counts()[MessageStatus.SENT] == 300
        assert all(m.attempts == 1 for m in outbox.messages())
