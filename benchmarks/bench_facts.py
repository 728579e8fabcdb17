"""Facts pushed down to the store versus built from whole complaints, on the real data sets.

The complaints are those of ``bench_storage.py`` (the five real data sets with an import preset,
interleaved, the first N, classified by every scheme before any timing). Each is then given a
deterministic handling history on top of its intake events, as a desk would have recorded it
(acknowledge; respond or propose; resolve and close for most; a reopen and a second resolution,
an ``sla_breach`` with its escalation, a pause and resume for some; a remedy on one in ten), so
that the facts have something to aggregate. Untimed, they are stored in a fresh database of
each available backend (PostgreSQL then gets ``ANALYZE``, as autovacuum would soon after an
import). Then, timed, each run opening the store afresh as a command does:

* **facts_of over find**: ``[facts_of(c) for c in store.find(flt)]``, what a report cost before
  backends implemented ``facts``;
* **facts()**: ``list(iter_facts(store, flt))``, which uses the backend's ``facts``;

for ``flt`` none (every complaint) and the web channel since the median web complaint (the
filter of ``bench_storage.py``). Floors, measured in the same run: for TinyDB an ``orjson``
parse of the store file (any reader of that file pays it); for SQL one raw DBAPI ``SELECT`` of
the complaint columns ``facts`` reads, in ``find`` order, all rows fetched (no events, no
labels: a floor, not an equivalent).

    python benchmarks/bench_facts.py --n 130000
    python benchmarks/bench_facts.py --n 20000 --backend tinydb --backend sqlite
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import attrs
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import BACKENDS, Database, available, load, opened
from bench_storage import best_with_result as best


def handled(complaints: list[Any]) -> list[Any]:
    """The complaints with a deterministic handling history appended (not timed)."""
    from complaintkit.model import Event, Remedy, RemedyKind, Status

    out = []
    for i, c in enumerate(complaints):
        start = c.received_at
        steps: list[tuple[float, str, dict[str, Any]]] = [(1, "acknowledge", {})]
        status = Status.ACKNOWLEDGED
        if i % 7 == 3:
            steps += [(2, "pause", {}), (20, "resume", {})]
        if i % 11 == 5:
            steps += [(30, "sla_breach", {"target": "respond"}), (30, "escalate", {"to": 1})]
        if i % 4:
            steps.append((24 if i % 3 else 26, "respond" if i % 2 else "propose", {}))
            status = Status.INVESTIGATING
        if i % 4 and i % 5:
            steps.append((48, "resolve", {}))
            status = Status.RESOLVED
            if i % 13 == 1:
                steps += [(60, "reopen", {}), (80, "resolve", {"again": True})]
            if i % 3:
                steps.append((90, "close", {}))
                status = Status.CLOSED
        history = c.history + tuple(
            Event(start + timedelta(hours=hours), "agent", action, None, data)
            for hours, action, data in steps
        )
        remedies = (
            (Remedy(RemedyKind.REFUND, float(i % 500), "CNY", accepted=bool(i % 3)),)
            if i % 10 == 0
            else ()
        )
        out.append(
            attrs.evolve(
                c,
                history=history,
                status=status,
                remedies=remedies,
                satisfaction=(i % 5) + 1 if status is Status.CLOSED else None,
            )
        )
    return out


def sql_floor(db: Database, flt: Any) -> Callable[[], object]:
    """A raw SELECT of the complaint columns ``facts`` reads (web filter when ``flt``)."""
    placeholder = "?" if db.backend == "sqlite" else "%s"
    columns = (
        "reference, received_utc, received_offset, status, channel, department, assignee, "
        "product, escalation_level, sla_policy, due_utc, due_offset, satisfaction, parent, "
        "recomplaint_count, customer_id, phone, email, remedies"
    )
    where = ""
    params: tuple[Any, ...] = ()
    if flt is not None:
        where = f" WHERE channel = {placeholder} AND received_utc >= {placeholder}"
        stamp = flt.received_from.astimezone(UTC).replace(tzinfo=None)
        params = (
            "web",
            stamp.strftime("%Y-%m-%d %H:%M:%S.%f") if db.backend == "sqlite" else stamp,
        )
    sql = f"SELECT {columns} FROM ck_complaints{where} ORDER BY received_utc, reference"

    def run() -> int:
        conn = db.connect()
        try:
            cursor = conn.cursor()
            cursor.execute(sql, params)
            return len(cursor.fetchall())
        finally:
            conn.close()

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="Backend to run (repeat)."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Runs per step; the best counts.")
    args = parser.parse_args()
    chosen = args.backend or ["tinydb", "sqlite", "postgresql"]
    warnings.simplefilter("ignore")  # the large-store warning is expected

    from complaintkit import Channel, ComplaintFilter
    from complaintkit.facts import facts_of, iter_facts

    start = time.perf_counter()
    complaints = handled(load(args.n))
    print(
        f"{len(complaints):,} real complaints read, classified and handled in "
        f"{time.perf_counter() - start:.1f} s"
    )
    web = sorted(c.received_at for c in complaints if c.channel is Channel.WEB)
    filters = {
        "all": None,
        "web-since": ComplaintFilter(
            channels=frozenset({Channel.WEB}), received_from=web[len(web) // 2]
        ),
    }
    print(
        f"{'backend':<11} {'filter':<10} {'rows':>7} {'floor s':>8} {'find+facts_of s':>16} "
        f"{'facts() s':>10} {'speed-up':>9} {'facts()/floor':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in chosen:
            why = available(backend)
            if why:
                print(f"{backend:<11} skipped: {why}")
                continue
            db = Database(backend, Path(tmp), f"ck_facts_{uuid.uuid4().hex[:8]}")
            try:
                with opened(db.url) as (_host, store):
                    store.add_many(complaints)
                if backend == "postgresql":
                    # What autovacuum does within a minute of a large import: current statistics.
                    conn = db.connect()
                    conn.autocommit = True
                    conn.execute("ANALYZE")
                    conn.close()

                def via_find(flt: Any, url: str = db.url) -> list[Any]:
                    with opened(url) as (_host, store):
                        return [facts_of(c) for c in store.find(flt)]

                def pushed(flt: Any, url: str = db.url) -> list[Any]:
                    with opened(url) as (_host, store):
                        return list(iter_facts(store, flt))

                for name, flt in filters.items():
                    if backend == "tinydb":
                        path = Path(db.url.removeprefix("tinydb://"))

                        def floor_run(path: Path = path) -> object:
                            gc.disable()
                            try:
                                return orjson.loads(path.read_bytes())
                            finally:
                                gc.enable()

                        floor, _ = best(args.repeat, floor_run)
                    else:
                        floor, _ = best(args.repeat, sql_floor(db, flt))
                    slow, expected = best(args.repeat, lambda flt=flt: via_find(flt))
                    fast, got = best(args.repeat, lambda flt=flt: pushed(flt))
                    if got != expected:
                        sys.exit(f"{backend} {name}: facts() disagrees with facts_of over find")
                    print(
                        f"{backend:<11} {name:<10} {len(got):>7} {floor:8.3f} {slow:16.3f} "
                        f"{fast:10.3f} {slow / fast:8.1f}x {fast / floor:14.1f}",
                        flush=True,
                    )
            finally:
                db.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
