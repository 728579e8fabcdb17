"""``list`` and ``show`` as processes against ``complaintkit --help``, CPU and wall, optionally
beside another checkout of complaintkit (``--base``, e.g. a worktree of ``main``) in the same
minute.

Usage::

    python benchmarks/bench_list_show.py --store sqlite:///tmp/c.db --reference REF \\
        [--store postgresql://…] [--base /path/to/other/checkout] [--runs 7]

Each store must hold complaints already (``bench_issue16.py`` or an import makes them) and
``REF`` one of them in every store. A checkout given with ``--base`` runs in this same Python
with its ``src``, ``plugins`` and ``cli`` first on ``PYTHONPATH``, so both are measured with the
same interpreter and libraries. The runs alternate (``--help``, ``list``, ``show`` of each
checkout in turn) and the medians are printed: seconds of wall time and of CPU (user + system of
the process), and the *work*, the command's time less ``--help``'s (issue 16's target: under
0.3 s). Both checkouts' modules are byte-compiled first, as after ``pip install``. The CPU
time of a child process comes from ``resource`` (POSIX: Linux, macOS).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_storage import timed  # sibling script

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", action="append", required=True, help="A store URL (repeat).")
    parser.add_argument("--reference", required=True, help="A complaint in every store.")
    parser.add_argument("--base", type=Path, help="Another checkout to measure beside this one.")
    parser.add_argument("--runs", type=int, default=7, help="Runs of each command (median).")
    args = parser.parse_args()
    trees = {"this": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    envs = {}
    for name, tree in trees.items():
        for folder in ("src", "plugins", "cli"):
            compileall.compile_dir(tree / folder, quiet=2)
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTKIT_")}
        if name != "this":
            env["PYTHONPATH"] = os.pathsep.join(str(tree / f) for f in ("src", "plugins", "cli"))
        envs[name] = env
    runner = [sys.executable, "-c", "from complaintkit_cli.main import main; main()"]
    started = time.perf_counter()
    load = os.getloadavg()
    print("| store | checkout | command | wall s | CPU s | work wall s | work CPU s |")
    print("|---|---|---|---:|---:|---:|---:|")
    for url in args.store:
        commands = {
            "--help": ["--help"],
            "list": ["--store", url, "list"],
            "show": ["--store", url, "show", args.reference],
        }
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            for tree in trees:
                for command, argv in commands.items():
                    runs.setdefault((tree, command), []).append(
                        timed([*runner, *argv], envs[tree], tempfile.gettempdir())
                    )
        scheme = url.partition(":")[0]
        for tree in trees:
            help_wall = statistics.median(w for w, _ in runs[tree, "--help"])
            help_cpu = statistics.median(c for _, c in runs[tree, "--help"])
            for command in commands:
                wall = statistics.median(w for w, _ in runs[tree, command])
                cpu = statistics.median(c for _, c in runs[tree, command])
                work = (
                    ("", "")
                    if command == "--help"
                    else (f"{wall - help_wall:.3f}", f"{cpu - help_cpu:.3f}")
                )
                print(
                    f"| {scheme} | {tree} | {command} | {wall:.3f} | {cpu:.3f} | "
                    f"{work[0]} | {work[1]} |",
                    flush=True,
                )
    load1, load5, load15 = os.getloadavg()
    print()
    print(
        f"median of {args.runs}; {time.perf_counter() - started:.0f} s in all; load average "
        f"at the start {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, at the end {load1:.1f} "
        f"{load5:.1f} {load15:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
