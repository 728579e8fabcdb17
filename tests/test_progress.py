"""Progress lines: the time left from the recent rate, a few redraws a second, reports too.

A fake clock drives them: no test sleeps.
"""

from __future__ import annotations

import io
from typing import Any

from complaintkit.desk import Desk
from complaintkit.host import PluginHost
from complaintkit.storage import ComplaintFilter, Store
from complaintkit.testing import make_complaint
from complaintkit_cli.progress import Progress, counting_store


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_is_redrawn_a_few_times_a_second_not_once_per_item() -> None:
    clock, out = FakeClock(), io.StringIO()
    with Progress("importing", 100_000, file=out, clock=clock) as bar:
        for _ in range(100_000):  # 100,000 items in one second
            clock.now += 0.00001
            bar.update(1)
    # at the start, about five times in the second (every 0.2 s), and the final count
    assert 5 <= bar.draws <= 7
    assert out.getvalue().count("\r") == bar.draws


def test_the_time_left_comes_from_the_recent_rate_not_from_a_slow_start() -> None:
    """20 seconds to open the file and run a first query, then 1,000 items a second: the
    average since the start would say 30 s left after 10 s of work, and days at first."""
    clock, out = FakeClock(), io.StringIO()
    bar = Progress("importing", 20_000, file=out, clock=clock)
    with bar:
        clock.now += 20
        bar.update(1)
        assert bar.eta(clock.now) is None  # no second of data yet: no estimate at all
        for _ in range(100):  # 10 s at 1,000 a second
            clock.now += 0.1
            bar.update(100)
        left = bar.eta(clock.now)
        assert left is not None and 9.5 < left < 10.5
        assert out.getvalue().rsplit("\r", 1)[1].endswith("50%  10,001/20,000  10 s left")


def test_after_a_stall_the_estimate_waits_for_fresh_data() -> None:
    clock = FakeClock()
    with Progress("sweeping", 1000, file=io.StringIO(), clock=clock) as bar:
        for _ in range(20):
            clock.now += 0.1
            bar.update(10)
        assert bar.eta(clock.now) is not None
        clock.now += 60  # a lock held by someone else
        bar.update(10)
        assert bar.eta(clock.now) is None
        clock.now += 1.2
        bar.update(100)
        left = bar.eta(clock.now)
        assert left is not None and left < 10  # ~100 a second again, not 210 in 63 s


def test_a_job_shorter_than_the_delay_draws_nothing() -> None:
    clock, out = FakeClock(), io.StringIO()
    with Progress("report summary", None, file=out, clock=clock, delay=1.0) as bar:
        for _ in range(5000):
            clock.now += 0.0001
            bar.update(1)
    assert out.getvalue() == "" and bar.draws == 0


def test_an_unknown_length_shows_the_count_the_rate_and_the_time() -> None:
    clock, out = FakeClock(), io.StringIO()
    with Progress("report sla", None, file=out, clock=clock, delay=1.0) as bar:
        for _ in range(30):
            clock.now += 0.1
            bar.update(1000)
    assert out.getvalue().rsplit("\r", 1)[1] == "report sla  30,000  10,000/s  3 s\n"


def test_the_last_line_is_the_final_count_then_a_new_line() -> None:
    clock, out = FakeClock(), io.StringIO()
    with Progress("copying", 50, file=out, clock=clock) as bar:
        clock.now += 3
        bar.update(50)
    last = out.getvalue().rsplit("\r", 1)[1]
    # (blanks clear what a longer line before left on the terminal)
    assert last.rstrip(" \n") == "copying  [########################]  100%  50/50"
    assert last.endswith("\n")


def test_a_report_read_through_the_counting_store_is_the_same_report(
    ck_host: PluginHost, ck_store: Store, ck_desk: Desk
) -> None:
    for n in range(25):
        ck_desk.intake(make_complaint(f"P-{n:02d}", text="The parcel is late"), classify=False)
    reporter = ck_host.reporter("kpis")
    context = ck_desk.report_context(lang="en", options={}, now=None)
    clock = FakeClock()
    bar = Progress("report kpis", None, file=io.StringIO(), clock=clock)
    counted: Any = counting_store(ck_store, bar)
    everything = ComplaintFilter()
    assert reporter.run(counted, everything, context) == reporter.run(ck_store, everything, context)
    assert bar.pos == 25  # every complaint the report read was counted
