"""Storage backends side by side on the real data sets, each against a floor from the same run.

The complaints are the five real data sets in ../shared/datasets that have an import preset
(CFPB, Chinese reviews, airline tweets, Chezhiwang car complaints, Comcast FCC; about 130,000
rows together), read with ``read_complaints`` as ``complaintkit import`` reads them,
interleaved, the first N taken, and classified by every scheme once, before any timing. Then,
for each backend that is available (tinydb, sqlite, postgresql, mariadb), in a fresh database:

* **import**: ``Store.add_many`` of the N classified complaints. Floor: the same N rows
  (reference, UTC time, channel, status, product, month and the complaint as JSON, serialized
  beforehand) written with one raw DBAPI ``executemany`` into a plain table of the same
  database; for TinyDB one ``orjson`` write of the same documents with fsync.
* **filtered list**: what ``complaintkit list --channel web --since …`` costs: open the store,
  the first 50 matches and their count. Floor: the same ``SELECT … ORDER BY … LIMIT 50`` and
  ``count(*)`` on the plain table (indexed on channel, time); for TinyDB an ``orjson`` parse of
  the store file and the same selection in Python.
* **summary report**: open the store and run ``desk.report("summary")`` (its counts are
  ``count_by`` group-bys). Floor: as many ``GROUP BY`` queries on the plain table; for TinyDB
  a parse plus as many ``Counter`` passes over the raw documents.
* **migrate from tinydb**: ``complaintkit_migrate.migrate`` (copy in batches of 5,000, then a
  full verification reading both sides) from the TinyDB store of the import step into a fresh
  database. Floor: an ``orjson`` parse of the TinyDB file plus the import floor.

Each timed step runs ``--repeat`` times (default 3), each import and migration into a fresh
database, and the best time is kept. Timings are wall clock; the ratios are what to compare
across machines.

    python benchmarks/bench_storage.py --n 20000
    python benchmarks/bench_storage.py --n 130000 --backend postgresql --backend sqlite
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import socket
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("COMPLAINTKIT_DATASETS", REPO.parent / "shared" / "datasets"))
FILES = (
    "cfpb_complaints/cfpb_complaints.csv",
    "chinese_reviews/chinese_reviews.csv",
    "twitter_airline_sentiment/tweets.csv",
    "chezhiwang_car_complaints/car_complaints.csv",
    "comcast_fcc_complaints_2015/comcast_fcc_complaints_2015.csv",
)
BACKENDS = ("tinydb", "sqlite", "postgresql", "mariadb")
PG = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)
LIST_LIMIT = 50


# --- the data ------------------------------------------------------------------------------


def timed(
    command: Sequence[str], env: dict[str, str], cwd: str | None = None
) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one process of ``command`` (POSIX: the CPU of
    children comes from ``resource``); fails loudly if it fails."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        list(command),
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def run_summary(n: int, repeat: int, started: float) -> str:
    """The line under a run's results: its size, repeats, duration and the load it ran at."""
    load1, load5, load15 = os.getloadavg()
    return (
        f"N = {n:,}; median of {repeat}; {time.perf_counter() - started:.0f} s "
        f"in all; load average at the end {load1:.1f} {load5:.1f} {load15:.1f}"
    )


def load(n: int) -> list[Any]:
    """N real complaints, classified by every scheme, ready to store (not timed)."""
    from complaintkit import Config, Desk, make_host
    from complaintkit_importing import read_complaints

    host = make_host(Config(store="tinydb://unused.json"), env={})
    readers = []
    for relative in FILES:
        path = DATASETS / relative
        if not path.exists():
            sys.exit(f"data set {path} is missing")
        readers.append(read_complaints(path, tz=host.config.tzinfo, on_reject=lambda row: None))
    desk = Desk(host, None, actor="bench")  # type: ignore[arg-type]  # prepare needs no store
    schemes = list(host.schemes().values())
    interleaved = (c for group in itertools.zip_longest(*readers) for c in group if c is not None)
    gc.disable()
    try:
        complaints = [desk.prepare(c, schemes)[0] for c in itertools.islice(interleaved, n)]
    finally:
        gc.enable()
        for reader in readers:
            reader.close()
    return complaints


def floor_rows(complaints: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The plain-table rows of the floor (serialized once, outside the timing)."""
    from complaintkit.serialization import complaint_to_data

    rows = []
    for c in complaints:
        at = c.received_at.astimezone(UTC)
        rows.append(
            (
                c.reference,
                at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                c.channel.value,
                c.status.value,
                (c.product or "")[:200],
                c.received_at.strftime("%Y-%m"),
                orjson.dumps(complaint_to_data(c)).decode(),
            )
        )
    return rows


# --- databases -----------------------------------------------------------------------------


def reachable(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError:
        return False
    return True


class Database:
    """A fresh database (or file) for one backend: the store URL and a raw DBAPI connection."""

    def __init__(self, backend: str, work: Path, name: str) -> None:
        self.backend = backend
        self.name = name
        self.path = work / name
        if backend == "tinydb":
            self.url = f"tinydb://{self.path}.json"
        elif backend == "sqlite":
            self.url = f"sqlite:///{self.path}.db"
        elif backend == "postgresql":
            self._admin(f'CREATE DATABASE "{name}"')
            self.url = f"postgresql://postgres@{PG[0]}:{PG[1]}/{name}"
        elif backend == "mariadb":
            self._admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            self.url = f"mysql://root@{MARIADB[0]}:{MARIADB[1]}/{name}"
        else:
            raise ValueError(backend)

    def _admin(self, statement: str) -> None:
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(
                f"host={PG[0]} port={PG[1]} user=postgres dbname=test", autocommit=True
            ) as conn:
                conn.execute(statement)  # type: ignore[arg-type]
        else:
            import pymysql

            conn = pymysql.connect(host=MARIADB[0], port=MARIADB[1], user="root", autocommit=True)
            try:
                with conn.cursor() as cursor:
                    cursor.execute(statement)
            finally:
                conn.close()

    def connect(self) -> Any:
        """A raw DBAPI connection to this database (not for TinyDB)."""
        if self.backend == "sqlite":
            import sqlite3

            return sqlite3.connect(f"{self.path}.db")
        if self.backend == "postgresql":
            import psycopg

            return psycopg.connect(f"host={PG[0]} port={PG[1]} user=postgres dbname={self.name}")
        import pymysql

        return pymysql.connect(
            host=MARIADB[0], port=MARIADB[1], user="root", database=self.name, charset="utf8mb4"
        )

    def drop(self) -> None:
        if self.backend == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.backend == "mariadb":
            self._admin(f"DROP DATABASE IF EXISTS `{self.name}`")


def placeholder(backend: str) -> str:
    return "?" if backend == "sqlite" else "%s"


FLOOR_COLUMNS = "reference, received_at, channel, status, product, month, data"


def floor_table(db: Database, conn: Any, table: str) -> None:
    data = "LONGTEXT" if db.backend == "mariadb" else "TEXT"
    cursor = conn.cursor()
    cursor.execute(
        f"CREATE TABLE {table} (reference VARCHAR(64) PRIMARY KEY, received_at VARCHAR(32) "
        "NOT NULL, channel VARCHAR(32) NOT NULL, status VARCHAR(32) NOT NULL, product "
        f"VARCHAR(255) NOT NULL, month CHAR(7) NOT NULL, data {data} NOT NULL)"
    )
    cursor.execute(f"CREATE INDEX {table}_recv ON {table} (channel, received_at, reference)")
    conn.commit()


# --- timing --------------------------------------------------------------------------------


def best(repeat: int, run: Callable[[], object], before: Callable[[], None] | None = None) -> float:
    """The best wall-clock time of ``repeat`` runs (``before`` runs untimed each time)."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def best_with_result(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The best wall-clock time of ``repeat`` runs (collector emptied before each), and the
    last run's result, for benchmarks that also check what was computed."""
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def durable_write(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def opened(url: str) -> Iterator[tuple[Any, Any]]:
    from complaintkit import Config, make_host

    host = make_host(Config(store=url), env={})
    store = host.open_store()
    try:
        yield host, store
    finally:
        store.close()


class Bench:
    def __init__(self, complaints: list[Any], work: Path, repeat: int) -> None:
        from complaintkit import Channel, ComplaintFilter

        self.complaints = complaints
        self.rows = floor_rows(complaints)
        self.docs = [orjson.loads(row[-1]) for row in self.rows]
        self.work = work
        self.repeat = repeat
        times = sorted(c.received_at for c in complaints if c.channel is Channel.WEB)
        self.since = times[len(times) // 2] if times else datetime(2000, 1, 1, tzinfo=UTC)
        self.filter = ComplaintFilter(channels=frozenset({Channel.WEB}), received_from=self.since)
        self.tinydb_source: str | None = None
        self.tinydb_file: Path | None = None
        self.summary_queries = 0
        self.results: list[tuple[str, str, float, float, int | None]] = []

    def record(self, backend: str, step: str, floor: float, ck: float, n: int | None) -> None:
        self.results.append((backend, step, floor, ck, n))
        rate = f"{n / ck:10.0f}" if n else f"{'':>10}"
        print(
            f"{backend:<11} {step:<15} {floor:8.3f} {ck:8.3f} {rate} {ck / floor:7.1f}",
            flush=True,
        )

    # --- the steps

    def run(self, backend: str) -> None:
        n = len(self.complaints)
        with ExitStack() as cleanup:
            tag = uuid.uuid4().hex[:10]
            made = itertools.count()

            def database(kind: str) -> Database:
                # A fresh database (or file) for every timed run, dropped at the end.
                db = Database(backend, self.work, f"ck_bench_{tag}_{kind}{next(made)}")
                cleanup.callback(db.drop)
                return db

            # import
            dbs: list[Database] = []

            def fresh() -> None:
                dbs.append(database("i"))
                with opened(dbs[-1].url) as (_host, store):
                    store.initialize()

            def ck_import() -> None:
                with opened(dbs[-1].url) as (_host, store):
                    result = store.add_many(iter(self.complaints))
                    assert result.added == n, result

            ck = best(self.repeat, ck_import, fresh)
            db = dbs[-1]
            self.record(backend, "import", self.floor_import(db), ck, n)
            if backend == "tinydb":
                self.tinydb_source = db.url
                self.tinydb_file = Path(db.url.removeprefix("tinydb://"))

            # filtered list
            def ck_list() -> None:
                with opened(db.url) as (_host, store):
                    found = list(store.find(self.filter, limit=LIST_LIMIT))
                    total = store.count(self.filter)
                    assert len(found) == min(LIST_LIMIT, total)

            ck = best(self.repeat, ck_list)
            self.record(backend, "filtered list", self.floor_list(db), ck, None)

            # summary report
            def ck_summary() -> None:
                from complaintkit import Desk

                with opened(db.url) as (host, store):
                    calls = _CountingStore(store)
                    Desk(host, calls, actor="bench").report("summary")  # type: ignore[arg-type]
                    self.summary_queries = calls.calls

            ck = best(self.repeat, ck_summary)
            self.record(backend, "summary report", self.floor_summary(db), ck, None)

            # migrate from tinydb
            if self.tinydb_source is None:
                return
            from complaintkit import RestorableStore

            with opened(database("probe").url) as (_host, probe):
                if not isinstance(probe, RestorableStore):
                    print(f"{backend:<11} {'migrate tinydb→':<15} skipped: no restore_many")
                    return
            targets: list[Database] = []

            def ck_migrate() -> None:
                from complaintkit_migrate import migrate

                assert self.tinydb_source is not None
                with (
                    opened(self.tinydb_source) as (_h, source),
                    opened(targets[-1].url) as (_h2, dest),
                ):
                    result = migrate(source, dest)
                    assert result.copy.copied == n and result.verification.ok

            ck = best(self.repeat, ck_migrate, lambda: targets.append(database("m")))
            self.record(backend, "migrate tinydb→", self.floor_migrate(targets[-1]), ck, n)

    # --- the floors

    def floor_import(self, db: Database, table: str = "floor_import") -> float:
        if db.backend == "tinydb":
            target = db.path.with_suffix(".floor.json")
            return best(self.repeat, lambda: durable_write(target, orjson.dumps(self.docs)))
        conn = db.connect()
        try:
            marks = ", ".join([placeholder(db.backend)] * 7)
            sql = f"INSERT INTO {table} ({FLOOR_COLUMNS}) VALUES ({marks})"

            def setup() -> None:
                cursor = conn.cursor()
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                conn.commit()
                floor_table(db, conn, table)

            def insert() -> None:
                conn.cursor().executemany(sql, self.rows)
                conn.commit()

            return best(self.repeat, insert, setup)
        finally:
            conn.close()

    def floor_list(self, db: Database) -> float:
        since = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        if db.backend == "tinydb":
            assert self.tinydb_file is not None
            path = self.tinydb_file

            def scan() -> None:
                gc.disable()
                try:
                    docs = orjson.loads(path.read_bytes())["complaints"].values()
                    hits = [
                        d
                        for d in docs
                        if d["channel"] == "web"
                        and datetime.fromisoformat(d["received_at"]) >= self.since
                    ]
                    hits.sort(
                        key=lambda d: (datetime.fromisoformat(d["received_at"]), d["reference"])
                    )
                    _ = hits[:LIST_LIMIT], len(hits)
                finally:
                    gc.enable()

            return best(self.repeat, scan)
        mark = placeholder(db.backend)

        def query() -> None:
            conn = db.connect()  # like the store, a new connection per command
            try:
                cursor = conn.cursor()
                where = f"WHERE channel = {mark} AND received_at >= {mark}"
                cursor.execute(
                    f"SELECT data FROM floor_import {where} ORDER BY received_at, reference "
                    f"LIMIT {LIST_LIMIT}",
                    ("web", since),
                )
                _ = [orjson.loads(row[0]) for row in cursor.fetchall()]
                cursor.execute(f"SELECT count(*) FROM floor_import {where}", ("web", since))
                cursor.fetchone()
            finally:
                conn.close()

        return best(self.repeat, query)

    def floor_summary(self, db: Database) -> float:
        columns = ("status", "channel", "product", "month")
        queries = max(self.summary_queries, 1)
        if db.backend == "tinydb":
            assert self.tinydb_file is not None
            path = self.tinydb_file

            def scan() -> None:
                gc.disable()
                try:
                    docs = list(orjson.loads(path.read_bytes())["complaints"].values())
                    for i in range(queries):
                        key = columns[i % len(columns)]
                        if key == "month":
                            Counter(d["received_at"][:7] for d in docs)
                        else:
                            Counter(d[key] for d in docs)
                finally:
                    gc.enable()

            return best(self.repeat, scan)

        def query() -> None:
            conn = db.connect()
            try:
                cursor = conn.cursor()
                for i in range(queries):
                    key = columns[i % len(columns)]
                    cursor.execute(f"SELECT {key}, count(*) FROM floor_import GROUP BY {key}")
                    cursor.fetchall()
            finally:
                conn.close()

        return best(self.repeat, query)

    def floor_migrate(self, target: Database) -> float:
        assert self.tinydb_file is not None
        path = self.tinydb_file
        start = time.perf_counter()
        gc.disable()
        try:
            orjson.loads(path.read_bytes())
        finally:
            gc.enable()
        parse = time.perf_counter() - start
        if target.backend == "tinydb":
            return parse + best(
                self.repeat,
                lambda: durable_write(
                    target.path.with_suffix(".floor.json"), orjson.dumps(self.docs)
                ),
            )
        return parse + self.floor_import(target, "floor_migrate")


class _CountingStore:
    """Passes every call to the store, counting the queries a report makes."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name in ("count", "count_by", "find"):
            self.calls += 1
        return attr


def available(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None if it can."""
    if backend == "tinydb":
        return None
    from complaintkit import Config, make_host

    scheme = {"mariadb": "mysql"}.get(backend, backend)
    if scheme not in make_host(Config(store="tinydb://unused.json"), env={}).storage_backends():
        return "the SQL storage plugin is not installed"
    if backend == "postgresql" and not reachable(PG):
        return f"no PostgreSQL server at {PG[0]}:{PG[1]}"
    if backend == "mariadb" and not reachable(MARIADB):
        return f"no MariaDB server at {MARIADB[0]}:{MARIADB[1]}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="Backend to run (repeat)."
    )
    parser.add_argument("--repeat", type=int, default=3, help="Runs per step; the best counts.")
    args = parser.parse_args()
    chosen = args.backend or list(BACKENDS)
    if "tinydb" not in chosen:
        chosen.insert(0, "tinydb")  # the migration source and the list/summary floors need it
    warnings.simplefilter("ignore")  # the large-store warning is expected
    start = time.perf_counter()
    complaints = load(args.n)
    took = time.perf_counter() - start
    print(f"{len(complaints):,} real complaints read and classified in {took:.1f} s")
    print(f"{'backend':<11} {'step':<15} {'floor s':>8} {'ck s':>8} {'ck rec/s':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(complaints, Path(tmp), args.repeat)
        for backend in chosen:
            why = available(backend)
            if why:
                print(f"{backend:<11} skipped: {why}")
                continue
            bench.run(backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
