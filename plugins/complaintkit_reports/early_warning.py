"""The early-warning report: spikes found by the EWMA or CUSUM control chart, with a control
chart per flagged series (see :mod:`complaintkit_reports.spike_detection` and
docs/early-warning.md).

Settings come from ``[early_warning]`` with ``[reports.early-warning]`` and ``--option
key=value`` laid over them, so a report can try other parameters than the sweep uses.
"""

from __future__ import annotations

from typing import Any

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
from complaintkit.facts import iter_facts

from .common import TICK, now_of, tz_of
from .spike_detection import (
    METHOD_NAMES,
    Series,
    check_dimensions,
    detect,
    dimension_names,
    load_settings,
    value_names,
    window_filter,
)

_PERIOD = Column("period", Names("period", "周期"), "date")
_COUNT = Column("count", Names("complaints", "投诉数"), "count")
_EXPECTED = Column("expected", Names("expected", "预期"), "number")
_UPPER = Column("upper", Names("alarm above", "报警上限"), "number")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class EarlyWarningReporter:
    """Spikes per cause, product, channel, ... over the configured window."""

    name = "early-warning"
    names = Names("Early warning", "投诉预警")
    description = (
        "spikes in complaints per cause, product or channel found by an EWMA or CUSUM control "
        "chart, with the chart of each flagged series"
    )

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Check every series of the window ending at ``context.now`` (default: now), or just
        before ``--until`` when that is earlier; ``--since`` leaves out earlier complaints."""
        lang = context.lang
        config = context.config
        table: dict[str, Any] = dict(config.section("early_warning")) if config else {}
        table.update(context.settings(self.name))
        where = config.where if config else "the configuration"
        settings = load_settings(table, where)
        check_dimensions(where, settings, context.schemes)
        # The window ends at --now, or before --until when that comes first.
        now = now_of(context)
        end = now if flt.received_until is None else min(now, flt.received_until - TICK)
        tz = tz_of(context)
        scheme_names = {name: scheme.names for name, scheme in context.schemes.items()}
        result = detect(
            iter_facts(store, window_filter(end, settings, tz, flt)),
            settings,
            end,
            tz,
            names=value_names(context.schemes),
            scheme_names=scheme_names,
        )
        dimension_column = Column("dimension", Names("dimension", "维度"))
        value_column = Column("value", Names("value", "取值"))
        warnings = Table(
            "warnings",
            Names("Spike warnings", "突增预警"),
            (
                _PERIOD,
                dimension_column,
                value_column,
                _COUNT,
                _EXPECTED,
                _UPPER,
                Column("method", Names("method", "方法")),
                Column("id", Names("warning id", "预警编号")),
            ),
            tuple(
                (
                    w.period_start.isoformat(),
                    w.dimension_names.get(lang),
                    w.value_names.get(lang),
                    w.observed,
                    round(w.expected, 2),
                    round(w.upper, 2),
                    METHOD_NAMES[w.method].get(lang),
                    w.id,
                )
                for w in result.warnings
            ),
        )
        last = len(result.periods) - 1
        overview = Table(
            "series",
            Names("Series checked", "已检查的序列"),
            (
                dimension_column,
                value_column,
                Column("total", Names("complaints in window", "窗口内投诉数"), "count"),
                Column("latest", Names("latest period", "最近一期"), "count"),
                _EXPECTED,
                Column("upper", Names("latest alarm limit", "最近一期报警上限"), "number"),
                Column("flagged", Names("warnings", "预警数"), "count"),
            ),
            tuple(
                (
                    dimension_names(s.dimension, scheme_names).get(lang),
                    s.value_names.get(lang),
                    sum(p.count for p in s.points),
                    s.points[last].count,
                    round(s.points[last].expected, 2),
                    _round(s.points[last].upper),
                    sum(1 for p in s.points if p.flagged),
                )
                for s in sorted(
                    result.series,
                    key=lambda s: (
                        settings.dimensions.index(s.dimension),
                        -sum(p.count for p in s.points),
                        s.value,
                    ),
                )
            ),
        )
        tables = [
            warnings,
            *(self._series_table(s, scheme_names, lang) for s in result.series if s.flagged),
            overview,
        ]
        start = result.periods[0].isoformat()
        method = METHOD_NAMES[settings.method]
        notes = []
        since = flt.received_from
        if since is not None and since.astimezone(tz).date() > result.periods[0]:
            day = since.astimezone(tz).date().isoformat()
            notes.append(
                f"--since {day} 晚于窗口起始 {start}：此前的周期不计任何投诉，基线因而偏低。"
                if lang == "zh"
                else f"--since {day} is after the window's start ({start}): the periods before "
                "it count no complaints, which lowers the baseline."
            )
        if not result.warnings:
            notes.append("没有发现突增。" if lang == "zh" else "No spike was found in the window.")
        notes.append(
            (
                f"窗口：自 {start} 起 {settings.window} "
                f"{'天' if settings.period == 'day' else '周'}"
                f"，前 {settings.baseline} 期为基线；方法 {method.zh}；"
                f"投诉数少于 {settings.min_count} 的周期不报警。"
            )
            if lang == "zh"
            else (
                f"Window: {settings.window} {settings.period}s from {start}, the first "
                f"{settings.baseline} as the baseline; method {method.en}; periods with fewer "
                f"than {settings.min_count} complaints never alarm."
            )
        )
        figures = (
            (Names("series checked", "检查序列数"), len(result.series), "count"),
            (Names("warnings", "预警数"), len(result.warnings), "count"),
            (Names("window start", "窗口起始"), start, "date"),
        )
        parameters = {
            "now": now.isoformat(),
            "until": flt.received_until.isoformat() if flt.received_until else None,
            "dimensions": list(settings.dimensions),
            "period": settings.period,
            "window": settings.window,
            "baseline": settings.baseline,
            "method": settings.method,
            "lambda": settings.lam,
            "L": settings.L,
            "k": settings.k,
            "h": settings.h,
            "min_count": settings.min_count,
        }
        return Report(
            self.name,
            self.names,
            figures,
            tuple(tables),
            notes=tuple(notes),
            parameters=parameters,
        )

    @staticmethod
    def _series_table(series: Series, scheme_names: dict[str, Names], lang: str) -> Table:
        dim = dimension_names(series.dimension, scheme_names)
        value = series.value_names
        return Table(
            f"series:{series.dimension}={series.value}",
            Names(f"{dim.en}: {value.en}", f"{dim.zh}：{value.zh}"),
            (
                _PERIOD,
                _COUNT,
                _EXPECTED,
                _UPPER,
                Column("statistic", Names("statistic", "统计量"), "number"),
                Column("flagged", Names("flagged", "报警")),
            ),
            tuple(
                (
                    start.isoformat(),
                    p.count,
                    round(p.expected, 2),
                    _round(p.upper),
                    _round(p.statistic),
                    p.flagged,
                )
                for start, p in zip(series.periods, series.points, strict=True)
            ),
            Chart("control", "period", ("count", "expected", "upper"), flag="flagged"),
        )
