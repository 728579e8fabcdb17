"""A store for trying the reports: the 60 example complaints, handled on a controlled clock.

    python examples/reports_demo.py demo-reports
    complaintkit --store tinydb://demo-reports/complaints.json --config examples/process.toml \\
        report sla --now 2026-11-06T18:00

Every complaint of examples/complaints.csv is imported with examples/process.toml (SLA
policies on the mainland-China calendar, routing, escalation, remedies), then handled as a desk
would over the following days: acknowledged, answered, resolved and closed with a satisfaction
score, some reopened after closure (re-complaints), some paused waiting on the customer, some
given remedies, some left open; finally the SLA sweep runs as of 2026-11-06 18:00 (Shanghai),
recording breaches and escalating. The times are fixed, so every run gives the same reports.
"""

from __future__ import annotations

import random
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from complaintkit import Config, Desk, RemedyKind, make_host
from complaintkit_importing import read_complaints

HERE = Path(__file__).parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The instant the sweep runs and the reports are made.
NOW = datetime(2026, 11, 6, 18, 0, tzinfo=SHANGHAI)
HANDLERS = ("li.lei", "han.meimei", "wang.fang", "zhang.wei")


class Clock:
    """A clock the script sets before each step."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build(folder: Path) -> int:
    """Create ``folder/complaints.json`` with the handled example complaints; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "complaints.json"
    if target.exists():
        target.unlink()
    path = HERE / "process.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    config = Config(path=path, store=f"tinydb://{target}", data=data, timezone="Asia/Shanghai")
    host = make_host(config, env={})
    clock = Clock(NOW)
    with host.open_store() as store:
        desk = Desk(host, store, actor="han.meimei", clock=clock)
        with read_complaints(HERE / "complaints.csv", tz=SHANGHAI, on_reject=print) as reader:
            desk.intake_many(list(reader))
        complaints = sorted(store.find(), key=lambda c: c.received_at)
        for i, c in enumerate(complaints):
            ref, rng = c.reference, random.Random(i)
            if c.received_at > NOW - timedelta(days=2):
                continue  # the newest are still waiting

            def at(hours: float, received: datetime = c.received_at) -> None:
                clock.now = received + timedelta(hours=hours)

            t = rng.uniform(0.2, 6.0)
            at(t)
            desk.transition(ref, "acknowledge")
            desk.assign(ref, assignee=HANDLERS[i % len(HANDLERS)])
            if i % 9 == 4:
                continue  # acknowledged, then forgotten
            if i % 8 == 0:
                desk.pause(ref, reason="waiting for photos of the damage")
                t += 20
                at(t)
                desk.resume(ref)
            t += rng.uniform(1.0, 30.0)
            at(t)
            for action in ("assess", "investigate"):
                desk.transition(ref, action)
            desk.transition(ref, "propose", solution="Replacement and a written apology")
            if i % 3 == 0:
                desk.offer_remedy(
                    ref, RemedyKind.REFUND, amount=float(50 + 10 * (i % 7)), customer_loss=60.0
                )
                if i % 2 == 0:
                    desk.accept_remedy(ref)
            if i % 5 == 0:
                desk.offer_remedy(ref, RemedyKind.COUPON, amount=30.0)
                desk.accept_remedy(ref)
            if i % 7 == 0:
                desk.offer_remedy(ref, RemedyKind.APOLOGY)
            if i % 11 == 10:
                continue  # waiting for the customer's answer
            t += rng.uniform(2.0, 60.0)
            at(t)
            for action in ("accept", "implement", "resolve"):
                desk.transition(ref, action)
            at(t + 2)
            desk.transition(ref, "close", satisfaction=1 + rng.randrange(5))
            if i % 6 == 5:
                at(t + 30)
                desk.transition(ref, "reopen", reason="the replacement is faulty too")
        clock.now = NOW
        desk.sweep(now=NOW)
        return store.count()


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-reports")
    print(f"{build(folder)} complaints in {folder / 'complaints.json'}")
