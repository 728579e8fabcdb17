"""Import-and-classify benchmark on the embedded TinyDB store, with a floor from the same run.

For each N it builds an input CSV of N real complaints (from ../shared/datasets: CFPB, Chinese
reviews, airline tweets, cycled), then times

* **floor**: the stdlib ``csv`` reader over the same file, every row written to one JSON file
  with ``orjson`` and fsync — no model, no classification, no store;
* **import**: ``read_complaints`` streaming the file → ``Desk.intake_many`` classifying by
  every scheme into a fresh TinyDB store (what ``complaintkit import`` does);
* **bound**: the least any classifying import can do in one process: the same ``csv``
  reader, the four schemes' real shared automaton over each row, every row written with its
  labels by ``orjson`` + fsync — no model objects, no validation, no history, no store. Its
  ratio to the floor shows how much of the target the classification work alone consumes;
* **update one**: open the N-complaint store, change one complaint, close (what a single
  CLI command such as ``transition`` costs), against a floor of one orjson parse plus one
  orjson write with fsync of the same file.

Targets (from the issue): import within 5× of its floor at N = 100k. Timings are wall-clock
on whatever machine runs this; ratios are what to compare across machines.

    python benchmarks/bench_import.py --n 10000 --n 100000
"""

from __future__ import annotations

import argparse
import csv
import gc
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("COMPLAINTKIT_DATASETS", REPO.parent / "shared" / "datasets"))
NATIVE = ["reference", "received_at", "channel", "title", "text", "product"]


def real_rows() -> Iterator[dict[str, str]]:
    """Real complaint texts from three data sets, interleaved, in our native layout."""

    def cfpb() -> Iterator[dict[str, str]]:
        with (DATASETS / "cfpb_complaints" / "cfpb_complaints.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                text = row["consumer_complaint_narrative"] or " - ".join(
                    v for v in (row["issue"], row["sub_issue"]) if v
                )
                yield {
                    "received_at": row["date_received"],
                    "channel": "web",
                    "title": row["issue"],
                    "text": text,
                    "product": row["product"],
                }

    def reviews() -> Iterator[dict[str, str]]:
        path = DATASETS / "chinese_reviews" / "chinese_reviews.csv"
        with path.open(encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                yield {
                    "received_at": "2026-10-08",
                    "channel": "web",
                    "title": "",
                    "text": row["review"],
                    "product": row["cat"],
                }

    def tweets() -> Iterator[dict[str, str]]:
        path = DATASETS / "twitter_airline_sentiment" / "tweets.csv"
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield {
                    "received_at": row["tweet_created"][:10],
                    "channel": "social_media",
                    "title": "",
                    "text": row["text"],
                    "product": row["airline"],
                }

    sources = [cfpb(), reviews(), tweets()]
    for group in itertools.zip_longest(*sources):
        for row in group:
            if row is not None and row["text"].strip():
                yield row


def build_input(path: Path, n: int) -> None:
    """Write N rows (the real rows, cycled with fresh references when N exceeds them)."""
    rows = list(itertools.islice(real_rows(), n))
    if not rows:
        sys.exit(f"no data sets found under {DATASETS}")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, NATIVE)
        writer.writeheader()
        for i, row in enumerate(itertools.islice(itertools.cycle(rows), n)):
            writer.writerow({"reference": f"BENCH-{i:07d}", **row})


def durable_write(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def floor_import(source: Path, target: Path) -> float:
    start = time.perf_counter()
    with source.open(encoding="utf-8", newline="") as f:
        records = list(csv.DictReader(f))
    durable_write(target, orjson.dumps(records))
    return time.perf_counter() - start


def bound_import(source: Path, target: Path) -> float:
    from complaintkit import Config, make_host
    from complaintkit.classification import SchemeSet

    host = make_host(Config(store=f"tinydb://{target}"), env={})
    schemes = SchemeSet(list(host.schemes().values()))  # built before the clock starts
    start = time.perf_counter()
    gc.disable()
    try:
        docs = []
        with source.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                found = schemes.classify(f"{row['title']}\n{row['text']}")
                labels = [(c.label, c.confidence, c.evidence) for c in found if c is not None]
                docs.append({"row": row, "labels": labels})
        durable_write(target, orjson.dumps(docs))
    finally:
        gc.enable()
    return time.perf_counter() - start


def ck_import(source: Path, store_path: Path) -> tuple[float, int]:
    from complaintkit import Config, Desk, make_host
    from complaintkit_importing import read_complaints

    start = time.perf_counter()
    host = make_host(Config(store=f"tinydb://{store_path}"), env={})
    store = host.open_store()
    try:
        desk = Desk(host, store, actor="bench")
        rejected: list[object] = []
        stream = read_complaints(source, tz=host.config.tzinfo, on_reject=rejected.append)
        result = desk.intake_many(stream)
    finally:
        store.close()
    elapsed = time.perf_counter() - start
    if rejected:
        print(f"  ({len(rejected)} rows rejected, e.g. {rejected[0]})")
    return elapsed, result.added


def floor_update(store_path: Path) -> float:
    start = time.perf_counter()
    gc.disable()
    try:
        data = orjson.loads(store_path.read_bytes())
    finally:
        gc.enable()
    durable_write(store_path.with_suffix(".floor"), orjson.dumps(data))
    return time.perf_counter() - start


def ck_update(store_path: Path, reference: str) -> float:
    from complaintkit import Config, Desk, make_host

    start = time.perf_counter()
    host = make_host(Config(store=f"tinydb://{store_path}"), env={})
    store = host.open_store()
    try:
        Desk(host, store, actor="bench").assign(reference, department="after-sales")
    finally:
        store.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="Number of complaints (repeat).")
    parser.add_argument("--target", type=float, default=5.0, help="Allowed ratio to the floor.")
    args = parser.parse_args()
    sizes = args.n or [10_000, 100_000]
    import warnings

    warnings.simplefilter("ignore")  # the large-store warning is expected at 100k
    print(f"{'N':>8} {'step':<11} {'floor s':>8} {'ck s':>8} {'ck rec/s':>10} {'ratio':>6}")
    worst = 0.0
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            source = work / "input.csv"
            build_input(source, n)
            floor = floor_import(source, work / "floor.json")
            bound = bound_import(source, work / "bound.json")
            print(
                f"{n:>8} {'bound':<11} {floor:8.2f} {bound:8.2f} {n / bound:10.0f}"
                f" {bound / floor:6.1f}"
            )
            ck, added = ck_import(source, work / "store.json")
            ratio = ck / floor
            worst = max(worst, ratio)
            print(f"{n:>8} {'import':<11} {floor:8.2f} {ck:8.2f} {added / ck:10.0f} {ratio:6.1f}")
            ufloor = floor_update(work / "store.json")
            uck = ck_update(work / "store.json", f"BENCH-{n // 2:07d}")
            print(
                f"{n:>8} {'update one':<11} {ufloor:8.2f} {uck:8.2f} {'':>10} {uck / ufloor:6.1f}"
            )
            size_mb = (work / "store.json").stat().st_size / 1e6
            print(f"{'':>8} store file {size_mb:.0f} MB, {added} complaints")
    verdict = "within" if worst <= args.target else "OVER"
    print(f"import: worst ratio {worst:.1f}x floor, {verdict} the {args.target:g}x target")
    return 0 if worst <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
