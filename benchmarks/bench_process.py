"""Process-engine benchmark: what SLA, routing and the fast channel add to a batch intake, and
what a sweep costs, with examples/process.toml on the embedded TinyDB store.

* **intake**: ``Desk.intake_many`` of N complaints with no process configuration, then with
  the example configuration (routing, fast channel, SLA deadlines on the ``cn`` calendar,
  re-complaint linking);
* **sweep**: the first sweep after National Day 2025 over N overdue complaints (three breaches
  and two escalations each), then a second sweep, which should find nothing to do.

    python benchmarks/bench_process.py --n 5000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaintkit import Complaint, Config, Desk, Party, make_host
from complaintkit.testing import make_complaint

REPO = Path(__file__).resolve().parents[1]
SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXTS = [
    "发票开错了",
    "冰箱质量太差，用了两天就坏了",
    "The courier was rude",
    "电池爆炸，手被烧伤了",
]


def complaints(n: int) -> Iterator[Complaint]:
    start = datetime(2025, 9, 1, 9, tzinfo=SHANGHAI)
    for i in range(n):
        yield make_complaint(
            f"B-{i}",
            received_at=start + timedelta(minutes=7 * i % 40000),
            text=TEXTS[i % 4],
            order=f"O-{i}" if i % 2 else None,
            complainant=Party(phone=f"138{i % 3000:08d}"),
        )


def desk(data: dict[str, Any]) -> Desk:
    folder = tempfile.mkdtemp()
    host = make_host(Config(store=f"tinydb://{folder}/c.json", data=data), env={})
    return Desk(host, host.open_store())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    example = tomllib.loads((REPO / "examples" / "process.toml").read_text(encoding="utf-8"))
    for label, data in (("intake, no process config", {}), ("intake, example config", example)):
        d = desk(data)
        t = time.perf_counter()
        d.intake_many(complaints(n))
        took = time.perf_counter() - t
        d.store.close()
        print(f"{label:32} {n:>7} complaints {took:7.2f} s {n / took:9.0f}/s")
    d = desk(example)
    received = datetime(2025, 9, 30, 9, tzinfo=SHANGHAI)
    d.intake_many(
        make_complaint(f"S-{i}", received_at=received + timedelta(seconds=i), text="发票开错了")
        for i in range(n)
    )
    after = datetime(2025, 10, 20, 12, tzinfo=SHANGHAI)
    for label in ("first sweep after the holiday", "second sweep"):
        t = time.perf_counter()
        result = d.sweep(now=after)
        took = time.perf_counter() - t
        print(
            f"{label:32} {result.examined:>7} examined   {took:7.3f} s "
            f"({result.breaches} breaches, {result.escalations} escalations)"
        )
    d.store.close()


if __name__ == "__main__":
    main()
