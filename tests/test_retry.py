"""The retry schedule for a write that lost a race, on a clock that only moves when told."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from complaintkit import ConflictError, Desk, PluginHost, RetryPolicy, hookimpl
from complaintkit.model import Complaint, EscalationLevel
from complaintkit.storage import Store
from complaintkit.testing import make_complaint


class FakeTime:
    """A monotonic clock and a sleep that advances it, recording every pause."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.pauses.append(seconds)
        self.now += seconds


def policy(time: FakeTime, jitter: Callable[[], float], **options: float | None) -> RetryPolicy:
    return RetryPolicy(monotonic=time.monotonic, sleep=time.sleep, random=jitter, **options)


def conflicting(time: FakeTime, times: int, cost: float = 0.0) -> Callable[[], str]:
    """An attempt that conflicts ``times`` times (each taking ``cost`` seconds), then works."""
    calls = [0]

    def attempt() -> str:
        calls[0] += 1
        time.now += cost
        if calls[0] <= times:
            raise ConflictError("R-1", calls[0], calls[0] + 1)
        return f"stored after {calls[0]} tries"

    return attempt


def test_the_pause_ceiling_doubles_from_first_delay_up_to_max_delay() -> None:
    p = RetryPolicy(first_delay=0.01, max_delay=0.1)
    assert [p.ceiling(n) for n in range(1, 7)] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.1, 0.1])
    assert p.ceiling(10**6) == 0.1  # no overflow after very many conflicts


def test_pauses_are_full_jitter_within_the_ceiling() -> None:
    time = FakeTime()
    rng = random.Random(13)
    p = policy(time, rng.random, first_delay=0.002, max_delay=0.25, budget=1e9)
    assert p.run(conflicting(time, 200)) == "stored after 201 tries"
    assert len(time.pauses) == 200
    for n, pause in enumerate(time.pauses, start=1):
        assert 0 <= pause < p.ceiling(n)
    # Spread over the whole range, not a fixed fraction of it.
    late = [pause / 0.25 for pause in time.pauses[20:]]
    assert min(late) < 0.1 and max(late) > 0.9


def test_the_jitter_scales_the_ceiling() -> None:
    for jitter, expected in ((0.0, [0.0, 0.0, 0.0]), (0.5, [0.001, 0.002, 0.004])):
        time = FakeTime()
        p = policy(time, lambda j=jitter: j, first_delay=0.002, max_delay=1.0)
        p.run(conflicting(time, 3))
        assert time.pauses == pytest.approx(expected)


def test_the_budget_is_respected_and_the_error_says_how_many_tries_and_how_long() -> None:
    time = FakeTime()
    p = policy(time, lambda: 0.999, budget=2.0, first_delay=0.01, max_delay=0.3)
    with pytest.raises(ConflictError) as info:
        p.run(conflicting(time, 10**6, cost=0.05))
    error = info.value
    tries = error.tries
    assert tries is not None and tries == len(time.pauses) + 1
    assert error.seconds is not None and 2.0 <= error.seconds <= 2.0 + 0.05
    # No pause reaches past the budget: the last try starts at or before it.
    assert 1000.0 + sum(time.pauses) + 0.05 * (tries - 1) <= 1000.0 + 2.0
    assert str(error) == (
        f"complaint R-1 was changed by someone else first, on all {tries} tries over "
        f"{error.seconds:.1f} s (the store has version {tries + 1} now); gave up. Many processes "
        "are changing it at once: try again when they have finished"
    )
    assert isinstance(error.__cause__, ConflictError) and error.__cause__.tries is None


def test_max_tries_bounds_the_tries_within_the_budget() -> None:
    time = FakeTime()
    p = policy(time, lambda: 0.5, budget=1e9, max_tries=4)
    with pytest.raises(ConflictError) as info:
        p.run(conflicting(time, 10))
    assert info.value.tries == 4 and len(time.pauses) == 3


def test_a_zero_budget_tries_once() -> None:
    time = FakeTime()
    with pytest.raises(ConflictError) as info:
        policy(time, lambda: 0.5, budget=0).run(conflicting(time, 1))
    assert info.value.tries == 1 and time.pauses == []
    assert "first, on the one try over 0.0 s (the store has version 2 now)" in str(info.value)


def test_other_errors_are_not_retried() -> None:
    time = FakeTime()
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise KeyError("nope")

    with pytest.raises(KeyError):
        policy(time, lambda: 0.5).run(attempt)
    assert calls == [1] and time.pauses == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"budget": -1}, "budget must not be negative"),
        ({"first_delay": 0}, "first_delay must be positive"),
        ({"max_delay": -0.5}, "max_delay must be positive"),
        ({"max_tries": 0}, "max_tries must be at least 1"),
    ],
)
def test_nonsense_settings_are_refused(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**options)  # type: ignore[arg-type]


class RacedStore:
    """A real store where another handler writes the complaint after every read of this one."""

    def __init__(self, store: Store, other: Store) -> None:
        self._store = store
        self._other = other
        self.raced = 0

    def get(self, reference: str) -> object:
        found = self._store.get(reference)
        theirs = self._other.get(reference)
        self._other.update(theirs)  # someone else saves it (version + 1) in between
        self.raced += 1
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


class Recorder:
    """A plugin that records the escalations it is told about."""

    def __init__(self) -> None:
        self.escalated: list[str] = []

    @hookimpl
    def complaint_escalated(self, complaint: Complaint) -> None:
        self.escalated.append(complaint.reference)


def test_the_desk_gives_up_after_its_budget_and_changes_nothing(
    ck_host: PluginHost, ck_register: Callable[..., str], ck_store_url: str, ck_store: Store
) -> None:
    ck_store.add(make_complaint("R-1"))
    recorder = Recorder()
    ck_register(recorder)
    time = FakeTime()
    other = ck_host.open_store(ck_store_url)
    raced = RacedStore(ck_store, other)
    try:
        desk = Desk(
            ck_host,
            raced,  # type: ignore[arg-type]
            retry=policy(time, lambda: 0.999, budget=3.0, first_delay=0.1, max_delay=1.0),
        )
        with pytest.raises(ConflictError, match=r"first, on all \d+ tries over 3\.\d s"):
            desk.escalate("R-1", reason="VIP customer")
    finally:
        other.close()
    assert raced.raced >= 4 and sum(time.pauses) <= 3.0
    final = ck_store.get("R-1")
    assert final.escalation_level is EscalationLevel.FRONT_LINE and final.version == 1 + raced.raced
    assert recorder.escalated == []  # no hook fired for a change that was never stored
    # Without the race the same desk gets its change, and the hook fires once.
    Desk(ck_host, ck_store, retry=desk.retry).escalate("R-1", reason="VIP customer")
    assert recorder.escalated == ["R-1"]


def test_retries_bounds_the_tries_of_the_default_policy(
    ck_host: PluginHost, ck_store: Store
) -> None:
    assert Desk(ck_host, ck_store, retries=3).retry == RetryPolicy(max_tries=4)
    assert Desk(ck_host, ck_store).retry == RetryPolicy()
