"""The real data sets from TinyDB to PostgreSQL and back with ``complaintkit migrate``, verified.

Issue 4's "Done means": a migration of the real data sets from TinyDB to PostgreSQL and back
verifies equal. The complaints are those of ``bench_storage.py`` (the five real data sets in
../shared/datasets that have an import preset, about 130,000 rows, read as ``complaintkit
import`` reads them, interleaved and classified by every scheme before any timing). Then:

1. **import**: ``Store.add_many`` of all of them into a new TinyDB store A. Floor: one
   ``orjson`` write of the same documents with fsync.
2. **tinydb → postgresql**: ``complaintkit migrate A PG`` as a real process, into a database
   created for the run (and dropped at the end): the streaming copy, then the command's own
   verification (both sides read again: counts, a checksum of every record). Floor: an
   ``orjson`` parse of A plus one raw DBAPI ``executemany`` of the same rows (reference, time,
   channel, status, product, month, the complaint as JSON) into a plain table of that database.
3. **postgresql → tinydb**: ``complaintkit migrate PG B`` into a new TinyDB file B, verified
   the same way. Floor: ``SELECT`` of the plain table's JSON, parsed, plus the ``orjson``
   write of B's documents with fsync.
4. **A = B**: ``complaintkit_migrate.verify_stores(A, B)``: the two TinyDB stores compared
   record by record; their checksums must equal each other and the one both migrations
   printed for PostgreSQL.

Every step runs once (the whole run takes about 20 minutes at full size on the 2-core
development machine); timings are wall clock, the ratios are what to compare across machines.

    python benchmarks/bench_migrate.py              # every row of the data sets
    python benchmarks/bench_migrate.py --n 20000
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import (  # a sibling script, not a package
    FLOOR_COLUMNS,
    PG,
    Database,
    durable_write,
    floor_rows,
    floor_table,
    load,
    reachable,
)

CLI = Path(sys.executable).parent / "complaintkit"
VERIFIED = re.compile(r"verified: ([\d,]+) complaints on both sides, checksum (sha256:\w+) on both")


def migrate_cli(source: str, destination: str) -> tuple[float, int, str, str]:
    """Run ``complaintkit migrate SOURCE DEST``: (seconds, complaints, checksum, output)."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(CLI), "migrate", source, destination],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),  # no complaintkit.toml of the working directory applies
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"complaintkit migrate {source} {destination} failed ({done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    found = VERIFIED.search(done.stdout)
    if not found:
        sys.exit(f"complaintkit migrate printed no verification:\n{done.stdout}{done.stderr}")
    return took, int(found.group(1).replace(",", "")), found.group(2), done.stdout.strip()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def line(step: str, floor: float, ck: float, n: int) -> None:
    print(f"{step:<22} {floor:9.2f} {ck:9.2f} {n / ck:10.0f} {ck / floor:7.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--n", type=int, default=None, help="Complaints (default: every row of the data sets)."
    )
    args = parser.parse_args()
    if not reachable(PG):
        print(f"skipped: no PostgreSQL server at {PG[0]}:{PG[1]}")
        return 0
    warnings.simplefilter("ignore")  # the large-store warning is expected
    from complaintkit import Config, make_host
    from complaintkit_migrate import verify_stores

    start = time.perf_counter()
    complaints = load(args.n if args.n is not None else 10**9)
    n = len(complaints)
    rows = floor_rows(complaints)
    docs = [orjson.loads(row[-1]) for row in rows]
    print(f"{n:,} real complaints read and classified in {time.perf_counter() - start:.1f} s")
    print(f"{'step':<22} {'floor s':>9} {'ck s':>9} {'ck rec/s':>10} {'ratio':>7}")
    total = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        host = make_host(Config(store="tinydb://unused.json"), env={})
        a_url = f"tinydb://{work / 'a.json'}"
        b_url = f"tinydb://{work / 'b.json'}"

        store = host.open_store(a_url)
        try:
            ck = timed(lambda: store.add_many(iter(complaints)))
            assert store.count() == n
        finally:
            store.close()
        floor = timed(lambda: durable_write(work / "floor.json", orjson.dumps(docs)))
        line("import into tinydb", floor, ck, n)
        complaints.clear()  # only the documents are needed from here on

        pg = Database("postgresql", work, f"ck_bench_migrate_{uuid.uuid4().hex[:10]}")
        try:
            ck, there, to_pg, out = migrate_cli(a_url, pg.url)
            assert there == n, out
            conn = pg.connect()
            try:
                floor_table(pg, conn, "floor_migrate")
                conn.commit()
                marks = ", ".join(["%s"] * 7)
                sql = f"INSERT INTO floor_migrate ({FLOOR_COLUMNS}) VALUES ({marks})"

                def floor_there() -> None:
                    gc.disable()
                    try:
                        orjson.loads((work / "a.json").read_bytes())
                    finally:
                        gc.enable()
                    conn.cursor().executemany(sql, rows)
                    conn.commit()

                floor = timed(floor_there)
                line("tinydb → postgresql", floor, ck, n)

                ck, back, from_pg, out = migrate_cli(pg.url, b_url)
                assert back == n, out

                def floor_back() -> None:
                    cursor = conn.cursor()
                    cursor.execute("SELECT data FROM floor_migrate ORDER BY received_at, reference")
                    read = [orjson.loads(data) for (data,) in cursor]
                    durable_write(work / "floor_back.json", orjson.dumps(read))

                floor = timed(floor_back)
                line("postgresql → tinydb", floor, ck, n)
            finally:
                conn.close()
        finally:
            pg.drop()

        a = host.open_store(a_url)
        b = host.open_store(b_url)
        try:
            start = time.perf_counter()
            result = verify_stores(a, b)
            ck = time.perf_counter() - start
        finally:
            a.close()
            b.close()
        floor = timed(
            lambda: (
                orjson.loads((work / "a.json").read_bytes()),
                orjson.loads((work / "b.json").read_bytes()),
            )
        )
        line("verify tinydb A = B", floor, ck, n)
    print(f"A → PostgreSQL: {to_pg}; PostgreSQL → B: {from_pg}; A vs B: {result.describe()}")
    equal = result.ok and result.source_checksum == to_pg == from_pg
    print(
        f"{'EQUAL' if equal else 'DIFFERENT'}: {n:,} complaints, TinyDB → PostgreSQL → TinyDB "
        f"in {time.perf_counter() - total:.0f} s (after reading the data sets)"
    )
    return 0 if equal else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
