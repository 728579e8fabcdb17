"""The trends report: complaints received and resolved per day, week or month, the open backlog
at the end of each period, and the complaints received per period for each value of one
dimension (a classification scheme, the channel, the product or the department).

One pass over the few facts it needs (:func:`complaintkit.facts.iter_fact_columns`: computed in
the database on SQL). Periods are in the configured time zone;
weeks start on Monday and are named by that Monday's date. The periods shown are those of the
window: from ``--since`` (else the first complaint received) to ``--until`` (else the last
receipt or resolution), never past ``--now``; resolutions after the window are not counted, so
the backlog of the last period is what was open at the window's end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import ClassVar

from complaintkit import (
    Channel,
    Chart,
    Column,
    ComplaintFilter,
    ConfigError,
    Names,
    Report,
    ReportContext,
    Store,
    Table,
    label_names,
    name_of,
)
from complaintkit.facts import iter_fact_columns
from complaintkit.model import OPEN_STATUSES

from .common import (
    NONE,
    PERIODS,
    TICK,
    choice,
    default_period,
    in_window,
    now_of,
    period_of,
    periods_between,
    tz_of,
)

#: Dimensions ``by`` may name besides a classification scheme.
FIELDS = ("channel", "product", "department")
#: How many values of ``by`` get their own line (the rest are added up as "other").
TOP = 8
_OTHER = Names("(other)", "（其他）")


class TrendsReporter:
    """Received, resolved and backlog per period, and received per value of a dimension."""

    name = "trends"
    names = Names("Complaint trends", "投诉趋势")
    description = (
        "complaints received and resolved per day, week or month with the open backlog at "
        "the end of each period, and received per cause (or another dimension)"
    )
    options: ClassVar[dict[str, str]] = {
        "period": "day, week or month (default: day up to 62 days of data, week up to 2 "
        "years, else month)",
        "by": "a classification scheme, channel, product or department (default: cause)",
    }

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Count per period over the complaints matching ``flt``."""
        lang = context.lang
        tz = tz_of(context)
        period = choice(context, self.name, "period", PERIODS)
        by = str(context.settings(self.name).get("by") or "cause")
        if by not in FIELDS and by not in context.schemes:
            known = ", ".join([*FIELDS, *context.schemes])
            raise ConfigError(f"report 'trends': cannot break down by {by!r}; use {known}")
        since, until = flt.received_from, flt.received_until
        now = now_of(context)
        # The last instant the report sees: before --until, and not after --now.
        limit = now if until is None else min(until - TICK, now)
        facts: list[tuple[datetime, datetime | None, bool, str | None]] = []
        first: datetime | None = since
        last: datetime | None = limit if until is not None else None
        dimension = by if by in ("channel", "product", "department") else f"label:{by}"
        fields = ("received_at", "resolved_at", "status", dimension)
        for received_at, resolved_at, status, found in iter_fact_columns(
            store, in_window(flt, context), fields
        ):
            # Closed without a recorded resolution (imported closed): never in the backlog.
            gone = resolved_at is None and status not in OPEN_STATUSES
            value = found.value if by == "channel" else found
            # A resolution after the window is not in it (the complaint is in the backlog at
            # the end); one recorded before the complaint was received counts at receipt.
            done = resolved_at
            if done is not None:
                done = None if done > limit else max(done, received_at)
            facts.append((received_at, done, gone, value))
            if since is None:
                first = received_at if first is None or received_at < first else first
            if until is None:
                latest = done or received_at
                last = latest if last is None or latest > last else last
        period = period or default_period(first, last)
        received: Counter[str] = Counter()
        resolved: Counter[str] = Counter()
        left: Counter[str] = Counter()
        per_value: dict[str | None, Counter[str]] = defaultdict(Counter)
        for at, done, gone, value in facts:
            key = period_of(at, period, tz)
            received[key] += 1
            per_value[value][key] += 1
            if done is not None:
                resolved[period_of(done, period, tz)] += 1
            elif gone:
                left[key] += 1
        names = (
            periods_between(period_of(first, period, tz), period_of(last, period, tz), period)
            if first is not None and last is not None and first <= last
            else []
        )
        rows = []
        backlog = 0
        for key in names:
            backlog += received[key] - resolved[key] - left[key]
            rows.append((key, received[key], resolved[key], backlog))
        period_names = {
            "day": Names("day", "日"),
            "week": Names("week", "周"),
            "month": Names("month", "月"),
        }
        x = Column("period", period_names[period], "date")
        overall = Table(
            "periods",
            Names("Received, resolved and backlog", "受理、解决与积压"),
            (
                x,
                Column("received", Names("received", "受理"), "count"),
                Column("resolved", Names("resolved", "解决"), "count"),
                Column("backlog", Names("open at period end", "期末积压"), "count"),
            ),
            tuple(rows),
            Chart("line", "period", ("received", "resolved", "backlog")),
        )
        scheme = context.schemes.get(by)
        by_names = (
            scheme.names
            if scheme is not None
            else {
                "channel": Names("channel", "渠道"),
                "product": Names("product", "产品"),
                "department": Names("department", "部门"),
            }[by]
        )

        def shown(value: str | None) -> str:
            if scheme is not None:
                return label_names(scheme, value).get(lang)
            if value is None:
                return NONE.get(lang)
            return name_of(Channel(value), lang) if by == "channel" else value

        ranked = sorted(per_value, key=lambda v: (-per_value[v].total(), v is None, v or ""))
        top, rest = ranked[:TOP], ranked[TOP:]
        columns = [x]
        for i, value in enumerate(top):
            text = shown(value)
            columns.append(Column(f"v{i}", Names(text, text), "count"))
        if rest:
            columns.append(Column("other", _OTHER, "count"))
        series_rows = tuple(
            (
                key,
                *(per_value[v][key] for v in top),
                *((sum(per_value[v][key] for v in rest),) if rest else ()),
            )
            for key in names
        )
        series = Table(
            "by",
            Names(f"Received by {by_names.en.lower()}", f"按{by_names.zh}受理"),
            tuple(columns),
            series_rows,
            Chart("line", "period", tuple(c.key for c in columns[1:])) if top else None,
        )
        figures = (
            (Names("complaints", "投诉总数"), len(facts), "count"),
            (Names("periods", "期数"), len(names), "count"),
            (Names("open at the end", "期末积压"), backlog, "count"),
        )
        return Report(
            self.name,
            self.names,
            figures,
            (overall, series),
            parameters={"period": period, "by": by},
        )
