"""Rendering cost: a large report in every registered format, against ``json.dumps`` of the
same rows.

The report is synthetic so that only rendering is timed: a table of N rows with a column of
every numeric kind (text, count, share, duration, money, number, date, datetime) and a bar
chart, a daily control chart of 365 periods with flagged points, a Pareto table of 40 causes,
and 9 sections of text with a table each. The floor is ``json.dumps`` (standard library) of
every table's rows as plain lists: serialising the same values with no formatting at all.

    python benchmarks/bench_render.py --n 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from complaintkit import Chart, Column, Names, Report, Section, Table, make_host

KINDS = ("count", "share", "duration", "money", "number", "date", "datetime")


def big_report(n: int) -> Report:
    """A report whose largest table has ``n`` rows."""
    columns = (
        Column("reference", Names("reference", "编号")),
        *(Column(kind, Names(kind, kind), kind) for kind in KINDS),
    )
    start = datetime(2025, 1, 1, 9, tzinfo=UTC)
    rows = tuple(
        (
            f"CK-{i:08d} <&>",
            i * 7 % 1000,
            (i % 97) / 97,
            3600.0 * (i % 300),
            (i % 5000) * 1.25,
            (i % 13) / 7,
            (date(2025, 1, 1) + timedelta(days=i % 365)).isoformat(),
            start + timedelta(minutes=i),
        )
        for i in range(n)
    )
    big = Table("rows", Names("Rows", "明细"), columns, rows, Chart("bar", "reference", ("count",)))
    control = Table(
        "control",
        Names("Control chart", "控制图"),
        (
            Column("period", Names("period", "周期"), "date"),
            Column("count", Names("complaints", "投诉数"), "count"),
            Column("expected", Names("expected", "预期"), "number"),
            Column("upper", Names("alarm above", "报警上限"), "number"),
            Column("flagged", Names("flagged", "报警")),
        ),
        tuple(
            (
                (date(2025, 1, 1) + timedelta(days=d)).isoformat(),
                40 + d % 17,
                45.0,
                60.0,
                d % 17 > 15,
            )
            for d in range(365)
        ),
        Chart("control", "period", ("count", "expected", "upper"), flag="flagged"),
    )
    pareto = Table(
        "causes",
        Names("Causes", "原因"),
        (
            Column("cause", Names("cause", "原因")),
            Column("count", Names("complaints", "投诉数"), "count"),
            Column("share", Names("share", "占比"), "share"),
        ),
        tuple((f"cause {i}", 1000 // (i + 1), 1 / (i + 2)) for i in range(40)),
        Chart("pareto", "cause", ("count",)),
    )
    sections = tuple(
        Section(
            f"D{i}",
            Names(f"D{i} Section", f"D{i} 部分"),
            ("A paragraph of text & <markup>. " * 8, "- one\n- two\n- three"),
            (pareto,),
        )
        for i in range(9)
    )
    figures = tuple((Names(f"figure {i}", f"指标 {i}"), i * 1000, "count") for i in range(5))
    return Report("bench", Names("Benchmark", "基准"), figures, (big, control, pareto), sections)


def floor(report: Report) -> str:
    """The same rows serialised with no formatting: ``json.dumps`` of plain lists."""
    return json.dumps([[list(row) for row in t.rows] for t in report.all_tables()], default=str)


def best(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="rows of the big table")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    host = make_host(env={})
    formats = host.report_formats()
    print("| rows | format | floor s | format s | ratio | output MB |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.n or [20000]:
        report = big_report(n)
        base, _ = best(lambda r=report: floor(r), args.repeat)
        for name, fmt in formats.items():
            seconds, out = best(lambda f=fmt, r=report: f.render(r, args.lang), args.repeat)
            size = len(out if isinstance(out, bytes) else out.encode("utf-8")) / 1e6
            print(
                f"| {n:,} | {name} | {base:.3f} | {seconds:.3f} | {seconds / base:.1f} | "
                f"{size:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
