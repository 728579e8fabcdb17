"""Early warning and the 8D report over the real data sets, against a floor from the same run.

The complaints are those of ``bench_storage.py`` (the five real data sets with an import preset,
interleaved, the first N, classified by every scheme before any timing), stored once in a TinyDB
store (and, with ``--sqlite``, in a SQLite store). Then:

* **early warning**: ``Desk.early_warning`` as ``complaintkit sweep`` runs it: open the store,
  read the facts of the 28-day window ending at the newest CFPB complaint, count per day for the
  dimensions cause, product and channel, and check every series with the EWMA chart. Floor for
  TinyDB: an ``orjson`` parse of the store file and one pass over the raw documents counting
  (day, value) pairs of the window in a dict — what any early warning over that file must do.
* **8D report**: the ``8d`` reporter over all complaints with the most frequent cause label.

    python benchmarks/bench_early_warning.py --n 130000
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import load


def best(repeat: int, run: Any) -> tuple[float, Any]:
    """The best wall-clock time of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per step; the best counts.")
    parser.add_argument("--sqlite", action="store_true", help="Also time a SQLite store.")
    args = parser.parse_args()

    from complaintkit import ComplaintFilter, Config, Desk, make_host
    from complaintkit.reporting import ReportContext
    from complaintkit_reports.spike_detection import load_settings, window_periods

    complaints = load(args.n)
    # The newest CFPB complaint: the Chinese reviews carry no date (they are received at import).
    now = max(c.received_at for c in complaints if c.reference.startswith("CFPB-"))
    settings = load_settings({"dimensions": ["label:cause", "product", "channel"]})
    rows: list[tuple[str, str, float, float | None, str]] = []
    with tempfile.TemporaryDirectory() as work:
        urls = {"tinydb": f"tinydb://{work}/complaints.json"}
        if args.sqlite:
            urls["sqlite"] = f"sqlite:///{work}/complaints.sqlite"
        for backend, url in urls.items():
            host = make_host(Config(store=url, timezone="UTC"), env={})
            store = host.open_store()
            store.add_many(complaints)
            store.close()

            def warn(url: str = url) -> Any:
                host = make_host(Config(store=url, timezone="UTC"), env={})
                store = host.open_store()
                try:
                    return Desk(host, store).early_warning(now=now, settings=settings)
                finally:
                    store.close()

            gc.collect()
            took, result = best(args.repeat, warn)
            floor = None
            if backend == "tinydb":
                path = Path(work) / "complaints.json"
                first = window_periods(now, settings, UTC)[0]
                start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)

                def raw(path: Path = path, start: datetime = start) -> int:
                    data = orjson.loads(path.read_bytes())
                    counts: Counter[tuple[str, str, str]] = Counter()
                    for doc in data["complaints"].values():
                        at = datetime.fromisoformat(doc["received_at"]).astimezone(UTC)
                        if not start <= at <= now:
                            continue
                        day = at.date().isoformat()
                        cause = (doc.get("labels") or {}).get("cause")
                        if cause:
                            counts[("cause", cause["label"], day)] += 1
                        if doc.get("product"):
                            counts[("product", doc["product"], day)] += 1
                        counts[("channel", doc["channel"], day)] += 1
                    return len(counts)

                floor, _ = best(args.repeat, raw)
            in_window = sum(
                p.count for s in result.series if s.dimension == "channel" for p in s.points
            )
            rows.append(
                (
                    backend,
                    "early warning",
                    took,
                    floor,
                    f"{len(result.series)} series, {in_window} complaints in the window, "
                    f"{len(result.warnings)} warnings",
                )
            )

            def eight_d(url: str = url) -> Any:
                host = make_host(Config(store=url, timezone="UTC"), env={})
                store = host.open_store()
                try:
                    cause = max(
                        (k for k in store.count_by("label:cause") if k),
                        key=lambda k: store.count_by("label:cause")[k],
                    )
                    flt = ComplaintFilter(labels=(("cause", cause),))
                    context = ReportContext(host.schemes(), "en", now + timedelta(days=1))
                    return host.reporter("8d").run(store, flt, context)
                finally:
                    store.close()

            took, report = best(args.repeat, eight_d)
            rows.append(
                (backend, "8d report", took, None, f"{report.figure('complaints')} complaints")
            )
    print(f"N = {args.n:,}, window ending {now.isoformat()}")
    print("| backend | step | floor s | complaintkit s | ratio | what |")
    print("|---|---|---:|---:|---:|---|")
    for backend, step, took, floor, what in rows:
        ratio = f"{took / floor:.1f}" if floor else ""
        floor_text = f"{floor:.2f}" if floor else ""
        print(f"| {backend} | {step} | {floor_text} | {took:.2f} | {ratio} | {what} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
