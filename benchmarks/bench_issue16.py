"""Every figure of issue 16 on the SQL backends, at one size, in one table against its floors.

``make bench`` (``SIZE=N``, default 20,000) runs this. The complaints are those of
``bench_storage.py``: the five real data sets of ../shared/datasets with an import preset
(CFPB, Chinese reviews, airline tweets, Chezhiwang, Comcast FCC; 132,232 rows together), read
as ``complaintkit import`` reads them, interleaved, the first N, classified by every scheme
before any timing. For each SQL backend that is available (SQLite; PostgreSQL and MariaDB when
they answer on 127.0.0.1), each figure in a fresh database:

==================  ======================================  ====================================
figure              complaintkit                            floor (same run, same database)
==================  ======================================  ====================================
import              ``Store.add_many`` of the N complaints  **raw write**: the same rows (the
                    into a new store                        complaints, labels and events
                                                            tables, values prepared beforehand)
                                                            written by the driver alone into a
                                                            new store's tables: ``executemany``
                                                            (SQLite, MariaDB), ``COPY``
                                                            (PostgreSQL), one transaction
migrate tinydb→     ``complaintkit_migrate.migrate`` from   ``orjson`` parse of the TinyDB file
                    a TinyDB store of the N complaints:     + the raw write
                    copy, then the full verification
migrate →tinydb     ``migrate`` from the imported SQL       raw fetch of the three tables +
                    store into a new TinyDB store           one ``orjson`` write of the
                                                            documents with fsync
find()              every complaint read back, in process   **raw fetch**: ``SELECT *`` of the
                                                            three tables by the driver
facts()             what facts-reading reports read         raw fetch
report NAME         ``complaintkit report NAME`` process    **raw read**: a fresh Python
                    (sla, kpis, trends, remedies, summary)  process fetching the three tables
list, show          ``complaintkit list`` / ``show REF``    ``complaintkit --help`` (start-up)
                    processes                               in the same run; the target is on
                                                            the difference (the command's work)
transition          ``Desk.transition`` of one complaint    (absolute: 50 ms)
                    in an open process (median of 20)
==================  ======================================  ====================================

The targets are issue 16's: import and migrations within 3x, ``find()`` 5x, reports 1.5x,
``list``/``show`` under 0.3 s of work after start-up, one ``transition`` under 50 ms. The
machine is shared, so only ratios of the same run mean anything; each figure runs
``--repeat`` times (default 1) and the median counts. The table ends with the load average.

    python benchmarks/bench_issue16.py --n 20000
    python benchmarks/bench_issue16.py --n 50000 --backend sqlite --backend postgresql
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sql import RAW_READ, REPORTS, connect_args, raw_fetch  # sibling scripts
from bench_storage import (
    Database,
    available,
    durable_write,
    load,
    opened,
    placeholder,
    run_summary,
)

BIN = Path(sys.executable).parent
CK = str(BIN / "complaintkit")
SQL_BACKENDS = ("sqlite", "postgresql", "mariadb")
#: target per figure kind: a ratio to the floor, or seconds ("s")
TARGETS: dict[str, tuple[float, str]] = {
    "import": (3.0, "x"),
    "migrate": (3.0, "x"),
    "verification": (1.0, "x"),  # at most one (extra) read of each side
    "find()": (5.0, "x"),
    "report": (1.5, "x"),
    "list": (0.3, "s"),
    "show": (0.3, "s"),
    "transition": (0.05, "s"),
}

Row = tuple[str, str, float, str, float | None, str]


def median_of(repeat: int, run: Callable[[], object], before: Callable[[], None] | None) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def process(command: Sequence[str]) -> float:
    """Seconds a command takes (output discarded); fails loudly if the command does."""
    started = time.perf_counter()
    subprocess.run(list(command), check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def driver_rows(complaints: Sequence[Any], dialect: str) -> dict[str, list[list[Any]]]:
    """The rows the store writes, per table, as the driver takes them (prepared untimed)."""
    import sqlalchemy as sa

    from complaintkit_sql.schema import make_tables
    from complaintkit_sql.store import _rows  # the bench reuses the store's row mapping

    tables = make_tables()
    out: dict[str, list[list[Any]]] = {"ck_complaints": [], "ck_labels": [], "ck_events": []}
    kinds = {}
    for name in out:
        cols = list(tables.metadata.tables[name].columns)
        kinds[name] = (
            [c.name for c in cols],
            [i for i, c in enumerate(cols) if isinstance(c.type, sa.JSON)],
            [i for i, c in enumerate(cols) if isinstance(c.type, sa.DateTime)],
        )

    def add(name: str, row: dict[str, Any]) -> None:
        names, json_at, instant_at = kinds[name]
        value = [row[n] for n in names]
        for i in json_at:
            v = value[i]
            value[i] = v.decode() if isinstance(v, bytes) else orjson.dumps(v).decode()
        if dialect == "sqlite":
            for i in instant_at:
                if value[i] is not None:
                    value[i] = value[i].isoformat(" ", "microseconds")
        out[name].append(value)

    for c in complaints:
        row, labels, events = _rows(c, c.version)
        add("ck_complaints", row)
        for lb in labels:
            add("ck_labels", lb)
        for ev in events:
            add("ck_events", ev)
    return out


def raw_write(db: Database, rows: dict[str, list[list[Any]]]) -> float:
    """The raw write floor into ``db`` (which holds a new, empty store): seconds."""
    conn = db.connect()
    try:
        if db.backend == "sqlite":
            conn.isolation_level = None
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                conn.execute(f"PRAGMA {pragma}")
        started = time.perf_counter()
        if db.backend == "sqlite":
            conn.execute("BEGIN IMMEDIATE")
        cursor = conn.cursor()
        for table, values in rows.items():
            width = len(values[0])
            if db.backend == "postgresql":
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                mark = placeholder(db.backend)
                cursor.executemany(
                    f"INSERT INTO {table} VALUES ({', '.join([mark] * width)})", values
                )
        if db.backend == "sqlite":
            conn.execute("COMMIT")
        else:
            conn.commit()
        return time.perf_counter() - started
    finally:
        conn.close()


def raw_fetch_seconds(db_url: str) -> float:
    """Seconds of bench_sql's raw fetch of the three tables of ``db_url``."""
    dialect, connect = connect_args(db_url)
    started = time.perf_counter()
    raw_fetch(dialect, connect)
    return time.perf_counter() - started


class Run:
    def __init__(
        self, complaints: list[Any], work: Path, repeat: int, skip: Sequence[str] = ()
    ) -> None:
        self.complaints = complaints
        self.skip = set(skip)
        self.work = work
        self.repeat = repeat
        self.rows: list[Row] = []
        self.docs = self._docs()
        self.tinydb_url = f"tinydb://{work}/source.json"
        with opened(self.tinydb_url) as (_host, store):
            store.add_many(iter(complaints))

    def _docs(self) -> bytes:
        from complaintkit.serialization import complaint_to_data

        return orjson.dumps(
            {"complaints": {c.reference: complaint_to_data(c) for c in self.complaints}}
        )

    def record(
        self,
        backend: str,
        figure: str,
        took: float,
        floor: str,
        floor_s: float | None,
        kind: str | None = None,
    ) -> None:
        kind = kind or figure.split()[0]
        target = TARGETS.get(kind)
        shown = ""
        if target is not None:
            limit, unit = target
            if unit == "x" and floor_s:
                shown = f"{limit:g}x" + (" yes" if took / floor_s <= limit else " **no**")
            elif unit == "s":
                work = took - floor_s if floor_s is not None else took
                shown = f"<{limit:g} s" + (" yes" if work <= limit else " **no**")
        self.rows.append((backend, figure, took, floor, floor_s, shown))
        ratio = f"{took / floor_s:6.2f}" if floor_s else ""
        print(
            f"  {backend:<10} {figure:<22} {took:8.3f} s  {floor:<16} {ratio}  {shown}", flush=True
        )

    def backend(self, backend: str) -> None:
        n = len(self.complaints)
        with ExitStack() as cleanup:
            tag = uuid.uuid4().hex[:8]
            made = itertools.count()

            def database() -> Database:
                db = Database(backend, self.work, f"ck_b16_{tag}_{next(made)}")
                cleanup.callback(db.drop)
                with opened(db.url) as (_host, store):
                    store.initialize()
                return db

            prepared = driver_rows(self.complaints, backend)
            floors = [raw_write(database(), prepared) for _ in range(self.repeat)]
            write_floor = statistics.median(floors)

            # import
            dbs: list[Database] = []

            def ck_import() -> None:
                with opened(dbs[-1].url) as (_host, store):
                    assert store.add_many(iter(self.complaints)).added == n

            took = median_of(self.repeat, ck_import, lambda: dbs.append(database()))
            self.record(backend, "import (add_many)", took, "raw write", write_floor)
            url = dbs[-1].url
            if backend == "postgresql":
                with opened(url) as (_host, store), store.engine.connect() as conn:  # type: ignore[attr-defined]
                    conn.exec_driver_sql("ANALYZE")
                    conn.commit()

            # migrations: the copy and the verification timed apart
            from complaintkit_migrate import copy_store, verify_stores

            def migration(source: str, batch: int) -> Callable[[str], tuple[float, float, float]]:
                def go(destination: str) -> tuple[float, float, float]:
                    with opened(source) as (_h, a), opened(destination) as (_h2, b):
                        gc.collect()
                        started = time.perf_counter()
                        assert copy_store(a, b, batch_size=batch).copied == n
                        copied = time.perf_counter()
                        assert verify_stores(a, b, batch_size=batch).ok
                        verified = time.perf_counter()
                        # one plain read of each side, for the verification's yardstick
                        assert sum(1 for _ in a.find()) == n and sum(1 for _ in b.find()) == n
                        read = time.perf_counter() - verified
                    return copied - started, verified - copied, read

                return go

            def medians(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
                return (
                    statistics.median(r[0] for r in runs),
                    statistics.median(r[1] for r in runs),
                    statistics.median(r[2] for r in runs),
                )

            path = Path(self.tinydb_url.removeprefix("tinydb://"))
            started = time.perf_counter()
            gc.disable()
            try:
                orjson.loads(path.read_bytes())
            finally:
                gc.enable()
            parse = time.perf_counter() - started
            forth = migration(self.tinydb_url, 5000)
            copy_s, verify_s, read_s = medians([forth(database().url) for _ in range(self.repeat)])
            floor = parse + write_floor
            self.record(backend, "migrate tinydb→", copy_s + verify_s, "parse + raw write", floor)
            self.record(backend, "  of it the copy", copy_s, "parse + raw write", floor, "copy")
            self.record(
                backend, "  the verification", verify_s, "find() both sides", read_s, "verification"
            )

            fetch = statistics.median(raw_fetch_seconds(url) for _ in range(self.repeat))
            started = time.perf_counter()
            durable_write(self.work / "floor.json", self.docs)
            write = time.perf_counter() - started
            back = migration(url, 50_000)
            copy_s, verify_s, read_s = medians(
                [
                    back(f"tinydb://{self.work}/back_{backend}_{next(made)}.json")
                    for _ in range(self.repeat)
                ]
            )
            floor = fetch + write
            self.record(backend, "migrate →tinydb", copy_s + verify_s, "fetch + write", floor)
            self.record(backend, "  of it the copy", copy_s, "fetch + write", floor, "copy")
            self.record(
                backend, "  the verification", verify_s, "find() both sides", read_s, "verification"
            )

            # full reads
            from complaintkit_sql.store import SQLStore

            def read(which: str) -> Callable[[], None]:
                def go() -> None:
                    with SQLStore(url) as store:
                        assert sum(1 for _ in getattr(store, which)()) == n

                return go

            self.record(
                backend, "find()", median_of(self.repeat, read("find"), None), "raw fetch", fetch
            )

            # commands: list and show against --help in the same minute, one transition
            if "commands" not in self.skip:
                reference = self.complaints[n // 2].reference
                commands = {
                    "list": [CK, "--store", url, "list"],
                    "show": [CK, "--store", url, "show", reference],
                }
                helps: list[float] = []
                times: dict[str, list[float]] = {name: [] for name in commands}
                for _ in range(max(self.repeat, 3)):  # alternating with --help
                    helps.append(process([CK, "--help"]))
                    for name, command in commands.items():
                        times[name].append(process(command))
                help_s = statistics.median(helps)
                self.record(backend, "complaintkit --help", help_s, "", None)
                for name, runs in times.items():
                    took = statistics.median(runs)
                    self.record(backend, f"{name} (process)", took, "--help", help_s)
                self.record(backend, "transition (in process)", self.transition(url), "", None)

            # what reports read: facts() in process, each report as a process
            if "facts" not in self.skip:
                took = median_of(self.repeat, read("facts"), None)
                self.record(backend, "facts()", took, "raw fetch", fetch)
            if "reports" not in self.skip:
                dialect, connect = connect_args(url)
                raw = [sys.executable, "-c", RAW_READ, dialect, json.dumps(connect)]
                raw_s = statistics.median(process(raw) for _ in range(self.repeat))
                for name in REPORTS:
                    took = statistics.median(
                        process([CK, "--store", url, "report", name]) for _ in range(self.repeat)
                    )
                    self.record(backend, f"report {name}", took, "raw read", raw_s)

    def transition(self, url: str) -> float:
        """Median seconds of one ``Desk.transition`` (acknowledge) in an open process."""
        from complaintkit import Desk, Status

        with opened(url) as (host, store):
            desk = Desk(host, store, actor="bench")
            chosen = [c.reference for c in self.complaints if c.status is Status.RECEIVED][:21]
            times = []
            for reference in chosen:
                started = time.perf_counter()
                desk.transition(reference, "acknowledge")
                times.append(time.perf_counter() - started)
        return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument("--backend", action="append", choices=SQL_BACKENDS)
    parser.add_argument("--repeat", type=int, default=1, help="Runs per figure; the median.")
    parser.add_argument(
        "--skip",
        action="append",
        choices=("commands", "facts", "reports"),
        help="Leave these figures out (repeat); e.g. reports on MariaDB, whose facts "
        "statement takes minutes at 20,000 complaints.",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the large-store warning is expected
    # Commands are timed as installed: pip compiles the modules' bytecode at install, but with
    # PYTHONDONTWRITEBYTECODE set (as on the development machines) an editable checkout would
    # compile every module from source in every command (about 0.1 s).
    import compileall

    root = Path(__file__).resolve().parents[1]
    for folder in ("src", "plugins", "cli"):
        compileall.compile_dir(root / folder, quiet=2)
    started = time.perf_counter()
    complaints = load(args.n)
    print(
        f"{len(complaints):,} real complaints read and classified in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(complaints, Path(tmp), args.repeat, args.skip or ())
        for backend in args.backend or SQL_BACKENDS:
            why = available(backend)
            if why:
                print(f"  {backend}: skipped ({why})")
                continue
            run.backend(backend)
    print()
    print(run_summary(len(complaints), args.repeat, started))
    print()
    print("| backend | figure | seconds | floor | floor s | × floor | target |")
    print("|---|---|---:|---|---:|---:|---|")
    for backend, figure, took, floor, floor_s, target in run.rows:
        ratio = f"{took / floor_s:.2f}" if floor_s else ""
        floor_shown = f"{floor_s:.3f}" if floor_s is not None else ""
        print(
            f"| {backend} | {figure} | {took:.3f} | {floor} | {floor_shown} | {ratio} | {target} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
