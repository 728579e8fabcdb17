"""SQL backends at real scale (issue 16): reports and full reads against raw reads, same run.

The yardstick of issue 16: a SQL store holding the CFPB file (``cfpb_complaints.csv`` of
``../shared/datasets``, about 51,000 complaints, imported with ``complaintkit import`` and its
``cfpb`` mapping: every complaint with its intake, classification and imported-status events),
then, alternating, ``--repeat`` times:

* **floor: raw read** — a fresh Python process that only reads the complaint, event and label
  tables raw (``SELECT *`` of each, every row fetched, with the database's own driver: no
  SQLAlchemy, no complaintkit);
* ``complaintkit --store URL report NAME`` for ``sla``, ``kpis``, ``trends``, ``remedies`` and
  ``summary``, each as a fresh process (output discarded), process start-up included; target:
  at most 1.5x the raw read;
* ``complaintkit --help``, for reference: what start-up alone costs;

and, inside one process, a full ``find()`` (every complaint rebuilt with its labels and
history, what ``migrate``, exports and ``list --format jsonl`` read) and a full ``facts()``
against the same raw fetch of the three tables in that process (target for ``find``: 5x), with
the peak of memory Python allocated during each (``tracemalloc``, in a separate untimed pass).
The median of the runs counts; the machine is shared, so only ratios from the same run mean
anything.

    python benchmarks/bench_sql.py                      # SQLite, the whole CFPB file
    python benchmarks/bench_sql.py --n 20000 --repeat 3
    python benchmarks/bench_sql.py --store postgresql://postgres@127.0.0.1/cfpb  # existing store
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("COMPLAINTKIT_DATASETS", ROOT.parent / "shared" / "datasets"))
CFPB = DATASETS / "cfpb_complaints" / "cfpb_complaints.csv"
BIN = Path(sys.executable).parent
REPORTS = ("sla", "kpis", "trends", "remedies", "summary")
TABLES = ("ck_complaints", "ck_events", "ck_labels")
#: Each step's target, as a multiple of its floor.
TARGETS = {"report": 1.5, "find()": 5.0}

#: The raw read, run as its own process: ``python -c RAW_READ DIALECT CONNECT-JSON``.
RAW_READ = """
import json, sys
dialect, connect = sys.argv[1], json.loads(sys.argv[2])
if dialect == "sqlite":
    import sqlite3
    conn = sqlite3.connect(connect["database"])
elif dialect == "postgresql":
    import psycopg
    conn = psycopg.connect(**connect)
else:
    import pymysql
    conn = pymysql.connect(**connect)
rows = 0
for table in ("ck_complaints", "ck_events", "ck_labels"):
    cursor = conn.cursor()
    cursor.execute("SELECT * FROM " + table)
    while batch := cursor.fetchmany(5000):
        rows += len(batch)
print(rows)
"""


def connect_args(url: str) -> tuple[str, dict[str, Any]]:
    """The dialect and the DBAPI ``connect`` arguments of a store URL."""
    from complaintkit_sql.store import engine_url

    parsed = engine_url(url)
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        return dialect, {"database": parsed.database}
    args: dict[str, Any] = {"host": parsed.host or "127.0.0.1", "user": parsed.username}
    if parsed.port:
        args["port"] = parsed.port
    if parsed.password:
        args["password"] = parsed.password
    if dialect == "postgresql":
        args["dbname"] = parsed.database
    else:
        args["database"] = parsed.database
        args["charset"] = "utf8mb4"
    return dialect, args


def run(command: list[str]) -> float:
    """Seconds a command takes, its output discarded; fails loudly if the command does."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def build(url: str, n: int | None, work: Path) -> None:
    """A new store at ``url`` holding the first ``n`` complaints of the CFPB file (all: None)."""
    source = CFPB
    if n is not None:
        source = work / "cfpb.csv"
        with CFPB.open(encoding="utf-8") as whole, source.open("w", encoding="utf-8") as part:
            header = whole.readline()
            part.write(header)
            import csv

            reader = csv.reader(whole)
            writer = csv.writer(part, lineterminator="\n")
            for i, record in enumerate(reader):
                if i >= n:
                    break
                writer.writerow(record)
    ck = str(BIN / "complaintkit")
    subprocess.run([ck, "--store", url, "init"], check=True, stdout=subprocess.DEVNULL)
    took = run(
        [ck, "--store", url, "import", "--rejects", str(work / "rejects.jsonl"), str(source)]
    )
    print(f"(store built in {took:.0f} s: {url})", file=sys.stderr)


def raw_fetch(dialect: str, connect: dict[str, Any]) -> int:
    """The raw fetch, in this process: every row of the three tables, ``SELECT *`` by the
    database's own driver (no SQLAlchemy, no complaintkit); the number of rows."""
    if dialect == "sqlite":
        import sqlite3

        conn: Any = sqlite3.connect(connect["database"])
    elif dialect == "postgresql":
        import psycopg

        conn = psycopg.connect(**connect)
    else:
        import pymysql  # type: ignore[import-untyped]

        conn = pymysql.connect(**connect)
    rows = 0
    try:
        for table in TABLES:
            cursor = conn.cursor()
            cursor.execute(f"SELECT * FROM {table}")
            while batch := cursor.fetchmany(5000):
                rows += len(batch)
    finally:
        conn.close()
    return rows


def in_process(url: str, dialect: str, connect: dict[str, Any]) -> dict[str, float]:
    """Seconds for a raw fetch of the three tables, a full ``find()`` and a full ``facts()``,
    each in this process on a fresh store."""
    from complaintkit_sql.store import SQLStore

    def through(read: Callable[[SQLStore], Any]) -> Callable[[], int]:
        def go() -> int:
            with SQLStore(url) as store:
                return sum(1 for _ in read(store))

        return go

    steps: dict[str, Callable[[], int]] = {
        "raw fetch (in process)": lambda: raw_fetch(dialect, connect),
        "find()": through(lambda s: s.find()),
        "facts()": through(lambda s: s.facts()),
    }
    took = {}
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        took[name] = time.perf_counter() - started
    return took


def peaks(url: str, count: int) -> dict[str, tuple[float, float]]:
    """Peak MB Python allocated while reading the first half of the complaints and all of them,
    by ``find()`` and by ``facts()`` (tracemalloc; a separate, untimed pass): equal peaks mean
    memory stays flat however many complaints are read."""
    import itertools
    import tracemalloc

    from complaintkit_sql.store import SQLStore

    found = {}
    for name in ("find()", "facts()"):
        sizes = []
        for n in (count // 2, count):
            with SQLStore(url) as store:
                read = store.find if name == "find()" else store.facts
                tracemalloc.start()
                for _ in itertools.islice(read(), n):
                    pass
                sizes.append(tracemalloc.get_traced_memory()[1] / 1e6)
                tracemalloc.stop()
        found[name] = (sizes[0], sizes[1])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="An existing SQL store to measure (default: build one).")
    parser.add_argument("--n", type=int, help="Complaints of the CFPB file (default: all).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per step; the median counts.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.store or f"sqlite:///{work}/cfpb.sqlite"
        if args.store is None:
            build(url, args.n, work)
        dialect, connect = connect_args(url)
        ck = str(BIN / "complaintkit")
        commands = {
            "floor: raw read": [sys.executable, "-c", RAW_READ, dialect, json.dumps(connect)],
            "complaintkit --help": [ck, "--help"],
            **{f"report {name}": [ck, "--store", url, "report", name] for name in REPORTS},
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        inside: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(run(command))
            for name, took in in_process(url, dialect, connect).items():
                inside.setdefault(name, []).append(took)
        from complaintkit_sql.store import SQLStore

        with SQLStore(url) as store:
            count = store.count()
        memory = peaks(url, count)

    load = os.getloadavg()
    print(
        f"{dialect}, {count:,} complaints, median of {args.repeat}; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print("| step | seconds | floor | × floor | target | met |")
    print("|---|---:|---|---:|---:|---|")
    floor = statistics.median(times["floor: raw read"])
    for name, runs in times.items():
        took = statistics.median(runs)
        target = TARGETS["report"] if name.startswith("report") else None
        ratio = took / floor
        met = "" if target is None else ("yes" if ratio <= target else "**no**")
        print(
            f"| {name} | {took:.2f} | raw read | {ratio:.2f} | "
            f"{'' if target is None else f'{target:g}'} | {met} |"
        )
    fetch = statistics.median(inside["raw fetch (in process)"])
    for name, runs in inside.items():
        took = statistics.median(runs)
        target = TARGETS.get(name)
        ratio = took / fetch
        met = "" if target is None else ("yes" if ratio <= target else "**no**")
        peak = (
            f" (peak {memory[name][0]:.0f} MB at half, {memory[name][1]:.0f} MB at all)"
            if name in memory
            else ""
        )
        print(
            f"| {name}{peak} | {took:.2f} | raw fetch | {ratio:.2f} | "
            f"{'' if target is None else f'{target:g}'} | {met} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
