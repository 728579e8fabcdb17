"""The summary report: how many complaints, where they stand, what they are about.

Everything is computed with ``Store.count`` and ``Store.count_by``, so a backend that pushes
counting down to its database never loads the complaints themselves — except the table by week
(option ``period=week``), which reads each complaint's receipt time alone with
:func:`complaintkit.facts.iter_fact_columns`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from complaintkit import (
    Channel,
    Chart,
    Column,
    ComplaintFilter,
    EscalationLevel,
    Names,
    Report,
    ReportContext,
    Status,
    Store,
    Table,
    label_names,
    name_of,
)
from complaintkit.facts import iter_fact_columns
from complaintkit.model import OPEN_STATUSES

from .common import choice, in_window, period_of, tz_of

_COUNT = Column("count", Names("complaints", "投诉数"), "count")
_SHARE = Column("share", Names("share", "占比"), "share")


def _table(
    key: str,
    names: Names,
    first: Column,
    counts: dict[str | None, int],
    total: int,
    display: Callable[[str | None], str],
    order: list[str | None] | None = None,
) -> Table:
    keys = order if order is not None else sorted(counts, key=lambda k: (-counts[k], k or ""))
    rows = tuple(
        (display(k), counts[k], round(counts[k] / total, 4) if total else 0.0)
        for k in keys
        if counts.get(k)
    )
    return Table(key, names, (first, _COUNT, _SHARE), rows, Chart("bar", first.key, ("count",)))


class SummaryReporter:
    """Counts by status, channel, escalation level, label scheme, department, product and
    month (or week)."""

    name = "summary"
    names = Names("Complaint summary", "投诉汇总")
    description = (
        "totals, open and escalated complaints, and counts by status, channel, level, "
        "each classification scheme, department, product and month (or week)"
    )
    options: ClassVar[dict[str, str]] = {
        "period": "month or week: the table of complaints received per period"
    }

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Compute the summary over the complaints matching ``flt``."""
        flt = in_window(flt, context)
        lang = context.lang
        period = choice(context, self.name, "period", ("month", "week")) or "month"
        total = store.count(flt)
        by_status = store.count_by("status", flt)
        open_count = sum(n for k, n in by_status.items() if k and Status(k) in OPEN_STATUSES)
        by_level = store.count_by("escalation_level", flt)
        high = sum(
            n
            for k, n in by_level.items()
            if k and EscalationLevel[k.upper()] >= EscalationLevel.COMPLAINT_MANAGEMENT
        )

        def enum_display(enum_cls: Any) -> Callable[[str | None], str]:
            def show(value: str | None) -> str:
                if value is None:
                    return Names("(none)", "（无）").get(lang)
                member = enum_cls[value.upper()] if enum_cls is EscalationLevel else enum_cls(value)
                return name_of(member, lang)

            return show

        def plain(value: str | None) -> str:
            return value if value is not None else Names("(none)", "（无）").get(lang)

        tables = [
            _table(
                "status",
                Names("By status", "按状态"),
                Column("status", Names("status", "状态")),
                by_status,
                total,
                enum_display(Status),
                order=[s.value for s in Status],
            ),
            _table(
                "channel",
                Names("By channel", "按渠道"),
                Column("channel", Names("channel", "渠道")),
                store.count_by("channel", flt),
                total,
                enum_display(Channel),
            ),
            _table(
                "escalation_level",
                Names("By escalation level", "按处理层级"),
                Column("level", Names("level", "层级")),
                by_level,
                total,
                enum_display(EscalationLevel),
                order=[lv.slug for lv in EscalationLevel],
            ),
        ]
        for scheme_name, scheme in context.schemes.items():
            counts = store.count_by(f"label:{scheme_name}", flt)
            order = (
                [label.name for label in scheme.labels]
                + [None]
                + sorted(
                    k
                    for k in counts
                    if k is not None and k not in {lb.name for lb in scheme.labels}
                )
            )
            tables.append(
                _table(
                    f"label:{scheme_name}",
                    Names(f"By {scheme.names.en.lower()}", f"按{scheme.names.zh}"),
                    Column(scheme_name, scheme.names),
                    counts,
                    total,
                    lambda value, s=scheme: label_names(s, value).get(lang),  # type: ignore[misc]
                    order=order,
                )
            )
        if period == "month":
            periods: dict[str | None, int] = dict(store.count_by("month", flt))
        else:
            tz = tz_of(context)
            periods = dict(
                Counter(
                    period_of(received, "week", tz)
                    for (received,) in iter_fact_columns(store, flt, ("received_at",))
                )
            )
        tables += [
            _table(
                "department",
                Names("By department", "按部门"),
                Column("department", Names("department", "部门")),
                store.count_by("department", flt),
                total,
                plain,
            ),
            _table(
                "product",
                Names("By product", "按产品"),
                Column("product", Names("product", "产品")),
                store.count_by("product", flt),
                total,
                plain,
            ),
            _table(
                period,
                Names("By month received", "按受理月份")
                if period == "month"
                else Names("By week received (from Monday)", "按受理周（自周一起）"),
                Column(period, Names(period, "月份" if period == "month" else "周"), "date"),
                periods,
                total,
                plain,
                order=sorted(periods, key=lambda k: k or ""),
            ),
        ]
        figures = (
            (Names("complaints", "投诉总数"), total, "count"),
            (Names("open", "处理中"), open_count, "count"),
            (
                Names("at complaint management or above", "已升级至投诉管理部门及以上"),
                high,
                "count",
            ),
        )
        return Report(self.name, self.names, figures, tuple(tables))
