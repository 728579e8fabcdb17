"""How light ``complaintkit --help`` is: its wall time against ``python -c "import click"``,
both measured here in the same run (median of --repeat alternating runs each).

The target (the developers' brief): under 2x. ``--help`` lists the plugins' commands, so it
loads every plugin's entry point; what those import at module level is what this measures.

    python benchmarks/bench_help.py --repeat 21
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    complaintkit = shutil.which("complaintkit") or str(
        __import__("pathlib").Path(sys.executable).with_name("complaintkit")
    )
    baseline_cmd = [sys.executable, "-c", "import click"]
    help_cmd = [complaintkit, "--help"]
    timed(baseline_cmd), timed(help_cmd)  # warm the file cache
    base: list[float] = []
    help_: list[float] = []
    for _ in range(args.repeat):
        base.append(timed(baseline_cmd))
        help_.append(timed(help_cmd))
    b, h = statistics.median(base), statistics.median(help_)
    print(f"python -c 'import click'   median {b * 1000:7.1f} ms")
    print(f"complaintkit --help        median {h * 1000:7.1f} ms")
    print(f"ratio {h / b:.2f}x (target: under 2x)")
    return 0 if h / b < 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
