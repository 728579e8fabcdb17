"""Every everyday command on the embedded TinyDB store, against ``complaintkit --help``.

Issue 16 item 5: at 20,000 complaints on the TinyDB store (the default) every command under
1 s. This builds a store of N complaints (the complaints of ``bench_storage.py``: the five
real data sets of ../shared/datasets with an import preset, interleaved, the first N,
classified by every scheme; one ``add_many``, so the store has its index), then runs each
command below as a fresh process, ``--repeat`` times (default 3), each run next to a run of
``complaintkit --help`` (the start-up every command pays, measured in the same minute), and
prints per command the median wall time, the median CPU time of the process (user + sys:
on a shared machine the wall time mostly measures the others), the work after start-up
(wall − ``--help``) and whether the wall time is under the target (1 s).

The commands run with ``--config examples/process.toml`` (SLA policies, routing, escalation),
in this order: the reads, ``recompute`` (gives every complaint its SLA policy and deadlines:
a bulk rewrite, listed with the bulk commands), ``clocks``, ``sweep`` (the first run catches
up on every deadline missed since the complaints were received, a bulk write; the later runs
are the steady state of a cron job), then the single-complaint writes.

Commands are timed with the modules' bytecode compiled (as after ``pip install``) and
``PYTHONDONTWRITEBYTECODE`` unset.

    python benchmarks/bench_tinydb_commands.py --n 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import load, run_summary, timed  # sibling script

REPO = Path(__file__).resolve().parents[1]
CK = str(Path(sys.executable).parent / "complaintkit")
CONFIG = str(REPO / "examples" / "process.toml")
TARGET = 1.0

#: (name, arguments for run number i, bulk): a bulk command rewrites every complaint.
Command = tuple[str, Callable[[int], list[str]], bool]


def commands(received: list[str], sample: str) -> list[Command]:
    """The commands, from ``complaintkit --help``: the reads, then the writes."""

    def fixed(*args: str) -> Callable[[int], list[str]]:
        return lambda _: list(args)

    def one(action: Callable[[str], list[str]]) -> Callable[[int], list[str]]:
        return lambda run: action(received[run])

    return [
        ("list", fixed("list"), False),
        ("list --open", fixed("list", "--open"), False),
        ("list --label cause=price", fixed("list", "--label", "cause=price"), False),
        (
            "list --channel web --since …",
            fixed("list", "--channel", "web", "--since", "2015-01-01"),
            False,
        ),
        ("list --search refund", fixed("list", "--search", "refund"), False),
        ("list --sort due_at", fixed("list", "--sort", "due_at"), False),
        ("list --format jsonl (export all)", fixed("list", "--format", "jsonl"), True),
        ("show REF", fixed("show", sample), False),
        ("report summary", fixed("report", "summary"), False),
        ("report pareto", fixed("report", "pareto"), False),
        ("report sla", fixed("report", "sla"), False),
        ("report kpis", fixed("report", "kpis"), False),
        ("report trends", fixed("report", "trends"), False),
        ("report remedies", fixed("report", "remedies"), False),
        ("review", fixed("review"), False),
        ("recompute (all)", fixed("recompute"), True),
        ("clocks REF", fixed("clocks", sample), False),
        ("sweep", fixed("sweep"), False),
        ("add", lambda run: ["add", "--text", f"bench {run}: the parcel arrived broken"], False),
        ("transition REF acknowledge", one(lambda ref: ["transition", ref, "acknowledge"]), False),
        ("assign REF", one(lambda ref: ["assign", ref, "--department", "quality"]), False),
        ("note REF", one(lambda ref: ["note", ref, "called the customer back"]), False),
        ("label REF", one(lambda ref: ["label", ref, "severity", "serious"]), False),
        ("classify REF", one(lambda ref: ["classify", ref, "--force"]), False),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="Complaints (default 20,000).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per command; the median.")
    parser.add_argument("--only", action="append", help="Only commands whose name starts so.")
    parser.add_argument(
        "--checkout",
        type=Path,
        help="Run the commands with another checkout's code (e.g. a worktree of main, for a "
        "before/after); the store is built by this one.",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the large-store warning is expected
    import compileall

    code = (args.checkout or REPO).resolve()
    for folder in ("src", "plugins", "cli"):
        compileall.compile_dir(code / folder, quiet=2)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if args.checkout:  # ahead of this checkout's editable install
        env["PYTHONPATH"] = os.pathsep.join(str(code / f) for f in ("src", "plugins", "cli"))
    started = time.perf_counter()
    complaints = load(args.n)
    from complaintkit import Status
    from complaintkit_tinydb.store import TinyDBStore

    received = [c.reference for c in complaints if c.status is Status.RECEIVED]
    if len(received) < args.repeat:
        sys.exit("not enough complaints in status received for the writes")
    sample = complaints[len(complaints) // 2].reference
    rows: list[tuple[str, float, float, float, float, bool]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "complaints.json"
        with TinyDBStore(path) as store:
            store.add_many(complaints)
        size = path.stat().st_size / 1e6
        print(
            f"{len(complaints):,} complaints stored ({size:.0f} MB) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        base = [CK, "--store", f"tinydb://{path}", "--config", CONFIG]
        for name, arguments, bulk in commands(received, sample):
            if args.only and not any(name.startswith(prefix) for prefix in args.only):
                continue
            helps: list[tuple[float, float]] = []
            runs: list[tuple[float, float]] = []
            for run in range(args.repeat):
                helps.append(timed([CK, "--help"], env))
                runs.append(timed([*base, *arguments(run)], env))
            if name == "sweep":  # the first run catches up on years of deadlines
                rows.append(("sweep (first: catch-up)", *runs[0], *helps[0], True))
                runs, helps = runs[1:] or runs, helps[1:] or helps
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            help_wall = statistics.median(w for w, _ in helps)
            help_cpu = statistics.median(c for _, c in helps)
            rows.append((name, wall, cpu, help_wall, help_cpu, bulk))
            print(f"  {name}: {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
    print()
    print(run_summary(len(complaints), args.repeat, started))
    print()
    print("| command | wall s | CPU s | --help wall s | --help CPU s | work s | under 1 s |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, wall, cpu, help_wall, help_cpu, bulk in rows:
        verdict = "yes" if wall < TARGET else "**no**"
        if bulk:
            verdict += " (bulk)"
        print(
            f"| {name} | {wall:.2f} | {cpu:.2f} | {help_wall:.2f} | {help_cpu:.2f} | "
            f"{wall - help_wall:.2f} | {verdict} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
