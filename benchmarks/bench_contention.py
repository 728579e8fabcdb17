"""Many processes changing complaints through ``Desk`` at once: errors, lost updates, throughput.

For each backend that is available (tinydb, sqlite, postgresql, mariadb), in a fresh database,
N real processes (``--processes``, default 2, 4 and 8) are started, import complaintkit and
open the store, then are released together; each makes M changes (``--changes``) with
``Desk.assign`` (a new assignee every time, so every call is a real write with a history event):

* **one**: every process changes the same complaint (the contended case);
* **distinct**: each process changes a complaint of its own (only the store's write lock is
  shared).

Per run it reports the calls made, how many raised ``ConflictError`` to the caller (the desk gave
up) and any other error, how many store writes were refused as conflicts underneath (each one a
retry by the desk), the 95th percentile and the slowest call's time, lost updates (successful
calls whose ``assign`` event is not in the final history, or a final version that does not count
every successful call: must be 0), and the throughput in successful changes per second.

The baseline of each run is measured just before it, in the same database: **one** process
making the same N × M changes to the same number of complaints, one after the other (so the
complaints' histories grow as long: each write of a SQL store rewrites the complaint's history
rows). The ratio column is the run's throughput over its baseline's. Every process has imported
complaintkit and read its complaints before the clock starts. ``--budget``, ``--first-delay``
and ``--max-delay`` try other :class:`~complaintkit.retry.RetryPolicy` settings.

    python benchmarks/bench_contention.py
    python benchmarks/bench_contention.py --backend sqlite --processes 8 --changes 100
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench_storage import BACKENDS, Database, available

MODES = ("one", "distinct")


def worker(
    url: str, name: str, references: list[str], changes: int, policy: dict[str, float]
) -> None:
    """One process: M assignments of each of ``references`` (in turn) through a desk with the
    default retry policy, or ``policy``'s settings for :class:`~complaintkit.retry.RetryPolicy`."""
    from complaintkit import Config, Desk, make_host
    from complaintkit.errors import ConflictError

    host = make_host(Config(store=url), env={})
    store = host.open_store()
    refused = 0
    update = store.update

    def counting_update(complaint: Any) -> Any:
        nonlocal refused
        try:
            return update(complaint)
        except ConflictError:
            refused += 1
            raise

    store.update = counting_update  # type: ignore[method-assign]
    if policy:
        from complaintkit.retry import RetryPolicy

        desk = Desk(host, store, actor=name, retry=RetryPolicy(**policy))  # type: ignore[arg-type]
    else:
        desk = Desk(host, store, actor=name)
    ok: list[tuple[str, str]] = []
    gave_up = 0
    errors: Counter[str] = Counter()
    took: list[float] = []
    for reference in references:
        store.get(reference)  # connected and warm before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other processes
    for i in range(changes):
        for reference in references:
            assignee = f"{name}-{i}"
            began = time.perf_counter()
            try:
                desk.assign(reference, assignee=assignee)
            except ConflictError:
                gave_up += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                errors[f"{type(exc).__name__}: {str(exc)[:120]}"] += 1
            else:
                ok.append((reference, assignee))
            took.append(time.perf_counter() - began)
    store.close()
    report = {"ok": ok, "gave_up": gave_up, "errors": errors, "refused": refused}
    print(json.dumps(report | {"took": took}))


def run(
    url: str, work: list[tuple[list[str], int]], tag: str, policy: dict[str, float]
) -> dict[str, Any]:
    """One process per ``(references, changes)`` of ``work``, released together; what they
    did, checked against the store."""
    from complaintkit import Config, make_host
    from complaintkit.testing import make_complaint

    host = make_host(Config(store=url), env={})
    with host.open_store() as store:
        store.add_many([make_complaint(r) for r in sorted({r for refs, _ in work for r in refs})])
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, f"{tag}w{n}", ",".join(refs)]
            + [str(changes), json.dumps(policy)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, (refs, changes) in enumerate(work)
    ]
    for process in workers:  # every process has imported complaintkit and opened the store
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"a worker failed to start:\n{line}{process.communicate()[1]}")
    began = time.perf_counter()
    for process in workers:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    reports = []
    for process in workers:
        out, err = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise SystemExit(f"a worker failed ({process.returncode}):\n{err}")
        reports.append(json.loads(out))
    took = time.perf_counter() - began
    done: dict[str, set[str]] = {}
    for report in reports:
        for reference, assignee in report["ok"]:
            done.setdefault(reference, set()).add(assignee)
    lost = 0
    with host.open_store() as store:
        for reference, assignees in done.items():
            final = store.get(reference)
            stored = {e.data["assignee"]["to"] for e in final.history if e.action == "assign"}
            lost += len(assignees - stored) + max(0, len(assignees) - (final.version - 1))
    errors: Counter[str] = Counter()
    for report in reports:
        errors.update(report["errors"])
    return {
        "calls": sum(len(refs) * changes for refs, changes in work),
        "ok": sum(len(a) for a in done.values()),
        "gave_up": sum(r["gave_up"] for r in reports),
        "errors": errors,
        "refused": sum(r["refused"] for r in reports),
        "took": sorted(t for r in reports for t in r["took"]),
        "lost": lost,
        "rate": sum(len(a) for a in done.values()) / took,
    }


def contended(mode: str, processes: int, changes: int, tag: str) -> list[tuple[list[str], int]]:
    """The work of a run: each process on the one complaint, or on a complaint of its own."""
    if mode == "one":
        return [([f"{tag}-0"], changes)] * processes
    return [([f"{tag}-{n}"], changes) for n in range(processes)]


def sequential(mode: str, processes: int, changes: int, tag: str) -> list[tuple[list[str], int]]:
    """The same changes as :func:`contended`, made by one process."""
    if mode == "one":
        return [([f"{tag}-0"], processes * changes)]
    return [([f"{tag}-{n}" for n in range(processes)], changes)]


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, name, references, changes, policy = sys.argv[2:7]
        worker(url, name, references.split(","), int(changes), json.loads(policy))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="Backend to run (repeat)."
    )
    parser.add_argument(
        "--processes", action="append", type=int, help="Processes at once (repeat; 2, 4, 8)."
    )
    parser.add_argument("--changes", type=int, default=50, help="Changes per process (50).")
    parser.add_argument(
        "--mode", action="append", choices=MODES, help="one complaint, or distinct ones (both)."
    )
    for option in ("budget", "first-delay", "max-delay"):
        parser.add_argument(
            f"--{option}", type=float, help=f"RetryPolicy {option} in seconds (its default)."
        )
    args = parser.parse_args()
    policy = {
        key: getattr(args, key)
        for key in ("budget", "first_delay", "max_delay")
        if getattr(args, key) is not None
    }
    print(
        f"{'backend':<11} {'mode':<9} {'procs':>5} {'calls':>6} {'gave up':>8} {'rate':>6} "
        f"{'other':>6} {'retries':>8} {'lost':>5} {'p95 s':>6} {'max s':>6} {'base/s':>7} "
        f"{'ch/s':>7} {'ratio':>6}"
    )
    problems = 0
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or BACKENDS:
            why = available(backend)
            if why:
                print(f"{backend:<11} skipped: {why}")
                continue
            db = Database(backend, Path(tmp), f"ck_contention_{uuid.uuid4().hex[:8]}")
            try:
                for mode in args.mode or MODES:
                    for n in args.processes or [2, 4, 8]:
                        tag = f"{mode}{n}"
                        base = run(
                            db.url, sequential(mode, n, args.changes, f"b{tag}"), "b", policy
                        )
                        r = run(db.url, contended(mode, n, args.changes, tag), tag, policy)
                        other = sum(r["errors"].values())
                        p95 = r["took"][int(0.95 * (len(r["took"]) - 1))]
                        print(
                            f"{backend:<11} {mode:<9} {n:>5} {r['calls']:>6} {r['gave_up']:>8} "
                            f"{r['gave_up'] / r['calls']:>6.1%} {other:>6} {r['refused']:>8} "
                            f"{r['lost']:>5} {p95:>6.2f} {r['took'][-1]:>6.2f} "
                            f"{base['rate']:>7.1f} {r['rate']:>7.1f} "
                            f"{r['rate'] / base['rate']:>6.2f}",
                            flush=True,
                        )
                        for message, times in r["errors"].items():
                            print(f"{'':<11} {times} × {message}")
                        problems += r["lost"] + base["lost"]
            finally:
                db.drop()
    if problems:
        print(f"LOST UPDATES: {problems}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
