"""Speed of working-time arithmetic on the cn calendar (run: python benchmarks/bench_calendars.py).

Prints microseconds per call for: 3 working days, 30 working days, 8 working hours, 200 working
hours, and between() over one year, each from many start times; a first pass starting with an
empty day cache, then a second pass.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from complaintkit import Config, make_host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="start times per measurement")
    args = parser.parse_args()
    host = make_host(Config(), env={})
    zone = ZoneInfo("Asia/Shanghai")
    starts = [datetime(2025, 1, 2, tzinfo=zone) + timedelta(minutes=37 * i) for i in range(args.n)]
    cases = [
        ("3 working days", lambda c, t: c.add(t, timedelta(days=3), unit="days")),
        ("30 working days", lambda c, t: c.add(t, timedelta(days=30), unit="days")),
        ("8 working hours", lambda c, t: c.add(t, timedelta(hours=8))),
        ("200 working hours", lambda c, t: c.add(t, timedelta(hours=200))),
        ("between over 1 year", lambda c, t: c.between(t, t + timedelta(days=365))),
    ]
    for label in ("cold", "warm"):
        calendar = host.calendar("cn")
        if label == "cold":
            calendar._spans.clear()
        for name, call in cases:
            began = time.perf_counter()
            for start in starts:
                call(calendar, start)
            elapsed = time.perf_counter() - began
            print(f"{label:4}  {name:22} {elapsed / len(starts) * 1e6:9.1f} µs per call")


if __name__ == "__main__":
    main()
