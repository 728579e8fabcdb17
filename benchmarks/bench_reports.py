"""Every reporter over the real data sets, against floors from the same run.

The complaints are those of ``bench_storage.py`` (the five real data sets with an import preset,
interleaved, the first N, classified by every scheme before any timing). So that the SLA, KPI,
trends and remedies reports have handling to count, each complaint is given (outside the
timing, deterministically) an SLA policy, a department and a handler, and two in three a
handling history — acknowledged, proposed, resolved and closed with a satisfaction score at
fixed offsets after receipt — with a remedy for one in five and an ``sla_breach`` record for one
in seven. They are stored once in a TinyDB store and once in a SQLite store. Then, per backend:

* **floor: iter_facts** — one pass over :func:`complaintkit.facts.iter_facts`, doing nothing
  with the facts: what every single-pass reporter must at least do;
* **floor: JSON parse** (TinyDB) — an ``orjson`` parse of the store file, touching each raw
  document once: what any report over that file must at least do;
* each registered reporter (``summary``, ``sla``, ``pareto``, ``trends``, ``kpis``,
  ``remedies``) run as ``complaintkit report`` runs it, over all complaints.

    python benchmarks/bench_reports.py --n 130000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import best_with_result as best
from bench_storage import load

REPORTERS = ("summary", "sla", "pareto", "trends", "kpis", "remedies")
CONFIG: dict[str, Any] = {
    "sla": {
        "default": "standard",
        "calendar": "24x7",
        "policies": {"standard": {"acknowledge": "4h", "respond": "24h", "resolve": "72h"}},
    }
}
DEPARTMENTS = ("customer_service", "quality", "product", "complaint_management")
HANDLERS = ("li.lei", "han.meimei", "wang.fang", "zhang.wei", "liu.yang", "sun.li")


def handled(complaints: list[Any]) -> list[Any]:
    """The complaints with a policy, an owner and (two in three) a handling history."""
    import attrs

    from complaintkit import Event, Remedy, RemedyKind, Status

    out = []
    for i, c in enumerate(complaints):
        changes: dict[str, Any] = {
            "sla_policy": "standard",
            "department": DEPARTMENTS[i % len(DEPARTMENTS)],
            "assignee": HANDLERS[i % len(HANDLERS)],
        }
        if i % 3:
            r = c.received_at
            hours = (1 + i % 7, 5 + i % 29, 30 + i % 61, 31 + i % 61)
            actions = ("acknowledge", "propose", "resolve", "close")
            history = [
                Event(at=r + timedelta(hours=h), actor="bench", action=a)
                for h, a in zip(hours, actions, strict=True)
            ]
            if i % 7 == 0:
                history.insert(
                    1,
                    Event(
                        at=r + timedelta(hours=24),
                        actor="system",
                        action="sla_breach",
                        data={
                            "target": "respond",
                            "deadline": (r + timedelta(hours=24)).isoformat(),
                        },
                    ),
                )
            changes.update(
                status=Status.CLOSED, satisfaction=1 + i % 5, history=c.history + tuple(history)
            )
            if i % 5 == 0:
                changes["remedies"] = (
                    Remedy(
                        RemedyKind.REFUND,
                        amount=float(10 + i % 90),
                        currency="CNY",
                        accepted=i % 2 == 0,
                    ),
                )
        out.append(attrs.evolve(c, **changes))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per step; the best counts.")
    args = parser.parse_args()

    from complaintkit import ComplaintFilter, Config, Desk, make_host
    from complaintkit.facts import iter_facts

    complaints = handled(load(args.n))
    now = max(c.received_at for c in complaints) + timedelta(days=1)
    rows: list[tuple[str, str, float, str]] = []
    with tempfile.TemporaryDirectory() as work:
        urls = {
            "tinydb": f"tinydb://{work}/complaints.json",
            "sqlite": f"sqlite:///{work}/complaints.sqlite",
        }
        for backend, url in urls.items():
            config = Config(store=url, data=CONFIG, timezone="UTC")
            host = make_host(config, env={})
            store = host.open_store()
            store.add_many(complaints)
            store.close()

            def session(work: Callable[[Any, Any], Any], config: Config = config) -> Any:
                host = make_host(config, env={})
                store = host.open_store()
                try:
                    return work(host, store)
                finally:
                    store.close()

            took, n = best(args.repeat, lambda: session(lambda h, s: sum(1 for _ in iter_facts(s))))
            rows.append((backend, "floor: iter_facts", took, f"{n:,} facts"))
            if backend == "tinydb":
                path = Path(work) / "complaints.json"

                def parse(path: Path = path) -> int:
                    docs = orjson.loads(path.read_bytes())["complaints"]
                    return sum(1 for doc in docs.values() if doc["received_at"])

                took, n = best(args.repeat, parse)
                rows.append((backend, "floor: JSON parse", took, f"{n:,} documents"))
            for name in REPORTERS:

                def run(host: Any, store: Any, name: str = name) -> Any:
                    desk = Desk(host, store, clock=lambda: now)
                    return desk.report(name, ComplaintFilter(), now=now)

                took, report = best(args.repeat, lambda run=run: session(run))
                rows.append((backend, name, took, f"{len(report.all_tables())} tables"))
    print(f"N = {args.n:,}, reports as of {now.astimezone(UTC).isoformat()}")
    print("| backend | step | seconds | × iter_facts | what |")
    print("|---|---|---:|---:|---|")
    floors = {b: t for b, step, t, _ in rows if step == "floor: iter_facts"}
    for backend, step, took, what in rows:
        ratio = f"{took / floors[backend]:.2f}"
        print(f"| {backend} | {step} | {took:.2f} | {ratio} | {what} |")
    return 0


if __name__ == "__main__":
    started = datetime.now(UTC)
    code = main()
    print(f"(took {(datetime.now(UTC) - started).total_seconds():.0f} s in all)")
    sys.exit(code)
