"""The SLA compliance report: how often each target (acknowledge, respond, resolve) was met,
missed or is still open, and how long each took, overall, by policy and by department.

One pass over the few facts it needs (:func:`~complaintkit_reports.common.judged_rows`:
computed in the database on SQL; with SLA policies configured, also the clock fields, from
which each complaint's clocks are computed); each target is judged by
:class:`~complaintkit_reports.common.SlaJudge`, which calls :func:`complaintkit.sla.clocks_of`:
the verdict ``complaintkit clocks`` shows (met, missed, open within or past due, no deadline).
Times run from receipt to the first event that met each target (median and 90th percentile,
in seconds).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, ClassVar

from complaintkit import (
    Chart,
    Column,
    ComplaintFilter,
    Names,
    Report,
    ReportContext,
    Store,
    Table,
)
from complaintkit.sla import OUTCOME_NAMES, OUTCOMES, TARGET_NAMES, TARGETS

from .common import (
    NONE,
    TIME_NAMES,
    SlaJudge,
    in_window,
    judged_rows,
    quantile,
    reached_seconds,
    share,
)

#: The facts the report reads, in the order :meth:`SlaReporter.run` unpacks them.
_FIELDS = (
    "sla_policy",
    "department",
    "received_at",
    "acknowledged_at",
    "responded_at",
    "resolved_at",
    "untimed",
)

_OUTCOME_COLUMNS = (
    Column("with_target", Names("with target", "设有目标"), "count"),
    *(Column(outcome, OUTCOME_NAMES[outcome], "count") for outcome in OUTCOMES),
    Column("share_met", Names("share met", "达成率"), "share"),
)
_TIME_COLUMNS = (
    Column("measured", Names("measured", "已计时"), "count"),
    Column("median", Names("median", "中位数"), "duration"),
    Column("p90", Names("90th percentile", "90 分位"), "duration"),
)
_TARGET = Column("target", Names("target", "目标"))


class _Group:
    """Outcome counts and reached times per target for one group of complaints."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Counter[str]] = {t: Counter() for t in TARGETS}
        self.times: dict[str, list[float]] = {t: [] for t in TARGETS}

    def add(self, outcomes: list[tuple[str, str]], times: dict[str, float]) -> None:
        for target, outcome in outcomes:
            self.outcomes[target][outcome] += 1
        for target, seconds in times.items():
            self.times[target].append(seconds)

    def row(self, target: str) -> tuple[object, ...]:
        o = self.outcomes[target]
        times = self.times[target]
        return (
            o.total(),
            *(o[outcome] for outcome in OUTCOMES),
            share(o["met"], o["met"] + o["missed"]),
            len(times),
            quantile(times, 0.5),
            quantile(times, 0.9),
        )


class SlaReporter:
    """SLA targets met and missed, and times to acknowledge, respond and resolve."""

    name = "sla"
    names = Names("SLA compliance", "SLA 达成情况")
    description = (
        "per SLA target (acknowledge, respond, resolve): met, missed, open within and past "
        "due, no deadline, share met, and median / 90th-percentile times, overall, by policy "
        "and department"
    )
    options: ClassVar[dict[str, str]] = {}

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Judge every target of every complaint matching ``flt`` as of ``context.now``."""
        flt = in_window(flt, context)
        lang = context.lang
        judge = SlaJudge.of(context)
        overall = _Group()
        by_policy: dict[str | None, _Group] = defaultdict(_Group)
        by_department: dict[str | None, _Group] = defaultdict(_Group)
        total = 0
        for values, outcomes in judged_rows(store, flt, _FIELDS, judge):
            policy, department, received, *reached, untimed = values
            total += 1
            times = reached_seconds(received, reached, untimed)
            overall.add(outcomes, times)
            by_policy[policy].add(outcomes, times)
            by_department[department].add(outcomes, times)

        def target_name(target: str) -> str:
            return TARGET_NAMES[target].get(lang)

        def grouped(
            key: str, names: Names, first: Column, groups: dict[str | None, _Group]
        ) -> Table:
            order = sorted(groups, key=lambda k: (k is None, k or ""))
            rows = tuple(
                (k if k is not None else NONE.get(lang), target_name(t), *groups[k].row(t))
                for k in order
                for t in TARGETS
            )
            return Table(key, names, (first, _TARGET, *_OUTCOME_COLUMNS, *_TIME_COLUMNS), rows)

        targets = Table(
            "targets",
            Names("Targets met and missed", "各目标达成情况"),
            (_TARGET, *_OUTCOME_COLUMNS),
            tuple((target_name(t), *overall.row(t)[: len(_OUTCOME_COLUMNS)]) for t in TARGETS),
            Chart("bar", "target", OUTCOMES),
        )
        time_table = Table(
            "times",
            Names("Time to acknowledge, respond and resolve", "确认、响应与解决用时"),
            (Column("measure", Names("measure", "指标")), *_TIME_COLUMNS),
            tuple(
                (TIME_NAMES[t].get(lang), *overall.row(t)[len(_OUTCOME_COLUMNS) :]) for t in TARGETS
            ),
            Chart("bar", "measure", ("median", "p90")),
        )
        tables = (
            targets,
            time_table,
            grouped(
                "by_policy",
                Names("By SLA policy", "按 SLA 策略"),
                Column("policy", Names("policy", "策略")),
                by_policy,
            ),
            grouped(
                "by_department",
                Names("By department", "按部门"),
                Column("department", Names("department", "部门")),
                by_department,
            ),
        )
        figures: list[tuple[Names, Any, str]] = [(Names("complaints", "投诉总数"), total, "count")]
        for t in TARGETS:
            o = overall.outcomes[t]
            figures.append(
                (
                    Names(f"share met: {TARGET_NAMES[t].en}", f"达成率：{TARGET_NAMES[t].zh}"),
                    share(o["met"], o["met"] + o["missed"]),
                    "share",
                )
            )
        notes = judge.notes(lang)
        return Report(
            self.name,
            self.names,
            tuple(figures),
            tables,
            notes=tuple(notes),
            parameters={"now": judge.now.isoformat()},
        )
