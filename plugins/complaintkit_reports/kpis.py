"""The KPI report: per department and per handler (assignee), how many complaints, how many
still open and resolved, how long resolution took, how satisfied customers were, how often they
complained again, how often complaints were escalated, and the share of SLA targets met.

One pass over the few facts it needs (:func:`~complaintkit_reports.common.judged_rows`: the
columns below, computed in the database on SQL; with SLA policies configured, also the policy
and the clock fields each complaint's targets are judged from). Definitions:

* **resolved** — the complaint has a final resolution (``resolved_at``: resolve, close,
  withdraw or reject not undone by a reopening); **open** — its status is an open one;
* **resolution time** — from receipt to that resolution (median and 90th percentile);
* **satisfaction** — the mean of the scores given (1-5) and how many complaints were rated;
* **repeat rate** — repeat complaints / complaints, where a repeat complaint is linked to an
  earlier one (``parent``) or was reopened after closure (``recomplaint_count`` > 0);
* **escalated** — complaints escalated at least once (automatically or by hand);
* **SLA met** — targets met / targets decided (met or missed), as in the ``sla`` report.
"""

from __future__ import annotations

from collections import defaultdict
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
from complaintkit.model import OPEN_STATUSES

from .common import NONE, SlaJudge, in_window, judged_rows, mean, quantile, share

#: The facts the KPIs are computed from, in the order :meth:`_Kpi.add` unpacks them.
_FIELDS = (
    "department",
    "assignee",
    "status",
    "received_at",
    "resolved_at",
    "satisfaction",
    "parent",
    "recomplaint_count",
    "escalations",
)

_COLUMNS = (
    Column("volume", Names("complaints", "投诉数"), "count"),
    Column("open", Names("open", "处理中"), "count"),
    Column("resolved", Names("resolved", "已解决"), "count"),
    Column("median_resolution", Names("median resolution time", "解决用时中位数"), "duration"),
    Column(
        "p90_resolution", Names("90th percentile resolution time", "解决用时 90 分位"), "duration"
    ),
    Column("satisfaction", Names("mean satisfaction", "平均满意度"), "number"),
    Column("rated", Names("rated", "已评分"), "count"),
    Column("repeats", Names("repeat complaints", "重复投诉"), "count"),
    Column("repeat_rate", Names("repeat rate", "重复投诉率"), "share"),
    Column("escalated", Names("escalated", "已升级"), "count"),
    Column("sla_met", Names("SLA met", "SLA 达成率"), "share"),
)


class _Kpi:
    """Running totals for one department or handler."""

    def __init__(self) -> None:
        self.volume = self.open = self.repeats = self.escalated = 0
        self.met = self.missed = 0
        self.times: list[float] = []
        self.scores: list[float] = []

    def add(self, values: tuple[Any, ...], outcomes: list[tuple[str, str]]) -> None:
        """Count one complaint: its :data:`_FIELDS` and its targets' outcomes."""
        (
            _department,
            _assignee,
            status,
            received_at,
            resolved_at,
            satisfaction,
            parent,
            recomplaint_count,
            escalations,
        ) = values
        self.volume += 1
        if status in OPEN_STATUSES:
            self.open += 1
        if resolved_at is not None:
            self.times.append((resolved_at - received_at).total_seconds())
        if satisfaction is not None:
            self.scores.append(satisfaction)
        if parent is not None or recomplaint_count > 0:
            self.repeats += 1
        if escalations:
            self.escalated += 1
        for _target, outcome in outcomes:
            if outcome == "met":
                self.met += 1
            elif outcome == "missed":
                self.missed += 1

    def row(self) -> tuple[object, ...]:
        return (
            self.volume,
            self.open,
            len(self.times),
            quantile(self.times, 0.5),
            quantile(self.times, 0.9),
            mean(self.scores),
            len(self.scores),
            self.repeats,
            share(self.repeats, self.volume),
            self.escalated,
            share(self.met, self.met + self.missed),
        )


class KpiReporter:
    """Volume, resolution, satisfaction, repeats, escalations and SLA per department and handler."""

    name = "kpis"
    names = Names("Handling KPIs", "处理绩效指标")
    description = (
        "per department and per handler: volume, open, resolved, median and p90 resolution "
        "time, satisfaction, repeat-complaint rate, escalations and SLA share met"
    )
    options: ClassVar[dict[str, str]] = {}

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Compute the KPIs over the complaints matching ``flt`` as of ``context.now``."""
        flt = in_window(flt, context)
        lang = context.lang
        judge = SlaJudge.of(context)
        overall = _Kpi()
        departments: dict[str | None, _Kpi] = defaultdict(_Kpi)
        handlers: dict[str | None, _Kpi] = defaultdict(_Kpi)
        for values, outcomes in judged_rows(store, flt, _FIELDS, judge):
            overall.add(values, outcomes)
            departments[values[0]].add(values, outcomes)
            handlers[values[1]].add(values, outcomes)

        def table(key: str, names: Names, first: Column, groups: dict[str | None, _Kpi]) -> Table:
            order = sorted(groups, key=lambda k: (-groups[k].volume, k is None, k or ""))
            rows = tuple((k if k is not None else NONE.get(lang), *groups[k].row()) for k in order)
            return Table(key, names, (first, *_COLUMNS), rows, Chart("bar", first.key, ("volume",)))

        whole = overall.row()
        figures = tuple(
            (column.names, value, column.kind)
            for column, value in zip(_COLUMNS, whole, strict=True)
        )
        return Report(
            self.name,
            self.names,
            figures,
            (
                table(
                    "department",
                    Names("By department", "按部门"),
                    Column("department", Names("department", "部门")),
                    departments,
                ),
                table(
                    "handler",
                    Names("By handler", "按处理人"),
                    Column("handler", Names("handler", "处理人")),
                    handlers,
                ),
            ),
            notes=tuple(judge.notes(lang)),
            parameters={"now": judge.now.isoformat()},
        )
