"""Early warning (预警): spikes in the number of complaints per cause, product or channel.

For each configured *dimension* (``label:<scheme>``, ``product``, ``channel``, ``department``,
``assignee``) the complaints of a *window* of ``window`` periods (days or ISO weeks, the last one
being the period that contains ``now``) are counted per value of the dimension. Each value's
series is checked with a control chart:

* the first ``baseline`` periods of the window estimate the expected count ``mu`` (their mean)
  and its spread ``sigma`` (their sample standard deviation, at least ``sqrt(mu)`` as for
  Poisson counts, and at least 1);
* the remaining periods are monitored, with either

  - **EWMA**: ``z_0 = mu``, ``z_t = lambda * x_t + (1 - lambda) * z_(t-1)``, alarm when
    ``z_t > mu + L * sigma * sqrt(lambda / (2 - lambda) * (1 - (1 - lambda) ** (2 t)))``;
  - **CUSUM** (one-sided, upper, tabular, in standard deviations):
    ``C_0 = 0``, ``C_t = max(0, C_(t-1) + (x_t - mu) / sigma - k)``, alarm when ``C_t > h``;

* a period alarms only if it also has at least ``min_count`` complaints, so a series of ones and
  twos never alarms; after an alarm the statistic restarts (``z = mu``, ``C = 0``), so one spike
  gives one warning rather than a tail of them.

Both statistics are turned into the *count* that would make a period alarm (``upper``):
for EWMA ``(UCL_t - (1 - lambda) z_(t-1)) / lambda``, for CUSUM ``mu + sigma (h + k - C_(t-1))``.
So a period is flagged exactly when its count exceeds ``upper`` (and reaches ``min_count``), and a
chart of counts against ``expected`` and ``upper`` shows what was decided.

:func:`detect` is pure: it takes :class:`~complaintkit.facts.ComplaintFacts` and an instant.
:func:`check` reads them from a desk's store, :func:`announce_spikes` announces what it finds
(each warning once, through :meth:`complaintkit.desk.Desk.announce_spike`), and the plugin runs
that at the end of every sweep (the ``sweep_finished`` hook) when ``[early_warning]`` is
configured; the ``early-warning`` report shows the same charts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

import attrs

from complaintkit import ConfigError, InvalidSetting, setting_key, structure_settings
from complaintkit.facts import ComplaintFacts
from complaintkit.i18n import Names
from complaintkit.spikes import SpikeWarning
from complaintkit.storage import ComplaintFilter

if TYPE_CHECKING:
    from complaintkit.desk import Desk

__all__ = [
    "DIMENSIONS",
    "METHODS",
    "PERIODS",
    "SETTINGS",
    "ChartPoint",
    "EarlyWarningResult",
    "EarlyWarningSettings",
    "Series",
    "SpikeWarning",
    "announce_spikes",
    "check",
    "check_dimensions",
    "count_series",
    "cusum_chart",
    "detect",
    "dimension_names",
    "dimension_problem",
    "dimension_value",
    "ewma_chart",
    "load_settings",
    "period_start",
    "settings_of",
    "sweep_lines",
    "series_filter",
    "value_names",
    "window_filter",
    "window_periods",
]

PERIODS = ("day", "week")
METHODS = ("ewma", "cusum")
#: Dimensions a series can be counted by; ``label:<scheme>`` for any classification scheme.
DIMENSIONS = ("channel", "product", "department", "assignee", "label:<scheme>")
#: What is watched when ``dimensions`` is not given.
DEFAULT_DIMENSIONS = ("label:cause", "product", "channel")
_DIMENSION_NAMES = {
    "channel": Names("channel", "渠道"),
    "product": Names("product", "产品"),
    "department": Names("department", "部门"),
    "assignee": Names("handler", "处理人"),
}
METHOD_NAMES = {"ewma": Names("EWMA", "EWMA 控制图"), "cusum": Names("CUSUM", "CUSUM 累积和")}


def _between(low: float, high: float | None = None) -> Callable[[object, Any, Any], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if not (low <= value <= high if high is not None else low <= value):
            span = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise InvalidSetting(f"must be {span}, got {value!r}", setting_key(attribute))

    return check


def _smaller_than_window(settings: EarlyWarningSettings, _: object, value: int) -> None:
    _between(3)(settings, attrs.fields(EarlyWarningSettings).baseline, value)
    if value >= settings.window:
        raise InvalidSetting(
            f"must be smaller than window ({settings.window}), got {value}: the periods after "
            "the baseline are the ones checked",
            "baseline",
        )


def _dimensions(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # --option dimensions=product,channel
        value = [d.strip() for d in value.split(",") if d.strip()]
    if not isinstance(value, list | tuple) or not value:
        raise InvalidSetting("must be a non-empty list such as ['label:cause']", "dimensions")
    for dimension in value:
        problem = dimension_problem(dimension)
        if problem:
            raise InvalidSetting(problem, "dimensions")
    return tuple(dict.fromkeys(value))


@attrs.frozen
class EarlyWarningSettings:
    """``[early_warning]``, checked (structured by :func:`complaintkit.structure_settings`).

    ``window`` periods are looked at (default 28 days or 12 weeks), the first ``baseline`` of
    them estimate the expected count (default: all but the last 7 days, or all but the last 3
    weeks). ``lam`` is the key ``lambda``.
    """

    dimensions: tuple[str, ...] = attrs.field(default=DEFAULT_DIMENSIONS, converter=_dimensions)
    period: Literal["day", "week"] = "day"
    window: int = attrs.field(validator=_between(4))
    baseline: int = attrs.field(validator=_smaller_than_window)
    method: Literal["ewma", "cusum"] = "ewma"
    lam: float = attrs.field(default=0.3, validator=_between(0.01, 1), metadata={"key": "lambda"})
    L: float = attrs.field(default=3.0, validator=_between(0.5, 10))
    k: float = attrs.field(default=0.5, validator=_between(0, 5))
    h: float = attrs.field(default=4.0, validator=_between(0.5, 50))
    min_count: int = attrs.field(default=5, validator=_between(1))

    @window.default
    def _window(self) -> int:
        return 28 if self.period == "day" else 12

    @baseline.default
    def _baseline(self) -> int:
        return max(3, self.window - (7 if self.period == "day" else 3))

    @property
    def monitored(self) -> int:
        """How many of the window's last periods are checked."""
        return self.window - self.baseline


#: The keys of ``[early_warning]``.
SETTINGS = tuple(setting_key(a) for a in attrs.fields(EarlyWarningSettings))


def dimension_problem(dimension: object, schemes: Iterable[str] | None = None) -> str | None:
    """Why ``dimension`` is not one of :data:`DIMENSIONS` (or names a scheme not in
    ``schemes``), or None when it is one."""
    if not isinstance(dimension, str):
        return f"{dimension!r} is not a string"
    if dimension.startswith("label:"):
        scheme = dimension[len("label:") :]
        if not scheme:
            return f"{dimension!r} names no scheme (label:cause)"
        if schemes is not None and scheme not in set(schemes):
            known = ", ".join(sorted(schemes)) or "none"
            return f"{dimension!r}: no classification scheme {scheme!r} (schemes: {known})"
        return None
    if dimension not in _DIMENSION_NAMES:
        return f"{dimension!r} is not a dimension; use {', '.join(DIMENSIONS)}"
    return None


def check_dimensions(where: str, settings: EarlyWarningSettings, schemes: Iterable[str]) -> None:
    """Refuse a dimension naming a classification scheme not in ``schemes``."""
    for dimension in settings.dimensions:
        problem = dimension_problem(dimension, schemes)
        if problem:
            raise ConfigError(f"{where}: early_warning.dimensions: {problem}")


def load_settings(
    table: Mapping[str, Any], where: str = "the configuration"
) -> EarlyWarningSettings:
    """Check an ``[early_warning]`` table (or a report's options) read from ``where`` (the
    configuration file) and return the settings.

    Every mistake is a :class:`~complaintkit.errors.ConfigError` naming ``where`` and the key.
    Values given as strings (``--option window=14``) are read as numbers.
    """
    values = {key: _parsed(value) for key, value in table.items()}
    return structure_settings(values, EarlyWarningSettings, where=where, path="early_warning")


def _parsed(value: Any) -> Any:
    """Strings from the command line read as the TOML value they spell, when they are one."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# --- periods -------------------------------------------------------------------------------


def period_start(at: datetime, period: str, tz: tzinfo) -> date:
    """The first day of the period (``day`` or ISO ``week``, Monday) containing ``at`` in ``tz``."""
    day = at.astimezone(tz).date()
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day


def window_periods(now: datetime, settings: EarlyWarningSettings, tz: tzinfo) -> list[date]:
    """The first days of the window's periods, oldest first; the last contains ``now``."""
    step = timedelta(days=7 if settings.period == "week" else 1)
    last = period_start(now, settings.period, tz)
    return [last - step * (settings.window - 1 - i) for i in range(settings.window)]


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def window_filter(
    now: datetime, settings: EarlyWarningSettings, tz: tzinfo, flt: ComplaintFilter | None = None
) -> ComplaintFilter:
    """``flt`` narrowed to the complaints received in the window (up to ``now``)."""
    flt = flt or ComplaintFilter()
    start = _midnight(window_periods(now, settings, tz)[0], tz)
    lower = start if flt.received_from is None else max(start, flt.received_from)
    upper = now if flt.received_until is None else min(now, flt.received_until)
    return attrs.evolve(flt, received_from=lower, received_until=upper)


def period_end(start: date, period: str) -> date:
    """The first day after the period that starts on ``start``."""
    return start + timedelta(days=7 if period == "week" else 1)


def dimension_value(facts: ComplaintFacts, dimension: str) -> str | None:
    """The value of ``dimension`` for one complaint (None: not counted)."""
    if dimension.startswith("label:"):
        return facts.labels.get(dimension[len("label:") :])
    if dimension == "channel":
        return facts.channel.value
    value: str | None = getattr(facts, dimension)
    return value


def series_filter(
    dimension: str, value: str, start: date, period: str, tz: tzinfo
) -> ComplaintFilter:
    """The complaints of one series in one period (to read them back, e.g. as examples)."""
    from complaintkit.model import Channel

    base = ComplaintFilter(
        received_from=_midnight(start, tz),
        received_until=_midnight(period_end(start, period), tz) - timedelta(microseconds=1),
    )
    if dimension.startswith("label:"):
        return attrs.evolve(base, labels=((dimension[len("label:") :], value),))
    if dimension == "channel":
        return attrs.evolve(base, channels=frozenset({Channel(value)}))
    if dimension == "product":
        return attrs.evolve(base, product=value)
    if dimension == "department":
        return attrs.evolve(base, department=value)
    return attrs.evolve(base, assignee=value)


def count_series(
    facts: Iterable[ComplaintFacts],
    dimensions: Sequence[str],
    periods: Sequence[date],
    period: str,
    tz: tzinfo,
) -> dict[str, dict[str, list[int]]]:
    """Complaints per period for each value of each dimension: ``{dim: {value: counts}}``.

    Complaints received outside ``periods`` and values that are None are not counted.
    """
    index = {start: i for i, start in enumerate(periods)}
    width = len(periods)
    counts: dict[str, dict[str, list[int]]] = {d: {} for d in dimensions}
    cache: dict[tuple[int, int, int], int | None] = {}
    for f in facts:
        local = f.received_at.astimezone(tz)
        day_key = (local.year, local.month, local.day)
        slot = cache.get(day_key, -1)
        if slot == -1:
            slot = index.get(period_start(local, period, tz))
            cache[day_key] = slot
        if slot is None:
            continue
        for dimension in dimensions:
            value = dimension_value(f, dimension)
            if value is None:
                continue
            series = counts[dimension].get(value)
            if series is None:
                series = counts[dimension][value] = [0] * width
            series[slot] += 1
    return counts


# --- control charts ------------------------------------------------------------------------


@attrs.frozen
class ChartPoint:
    """One period of a series: its count and, for monitored periods, the chart's verdict.

    ``statistic`` is the EWMA ``z_t`` or the CUSUM ``C_t`` (None in the baseline); ``upper`` is
    the count above which the period alarms (None in the baseline).
    """

    count: int
    expected: float
    upper: float | None = None
    statistic: float | None = None
    flagged: bool = False


def baseline_stats(counts: Sequence[int], baseline: int) -> tuple[float, float]:
    """``(mu, sigma)`` of the first ``baseline`` counts (sigma ≥ sqrt(mu) and ≥ 1)."""
    head = [float(c) for c in counts[:baseline]]
    mu = sum(head) / len(head)
    var = sum((c - mu) ** 2 for c in head) / (len(head) - 1) if len(head) > 1 else 0.0
    return mu, max(math.sqrt(var), math.sqrt(mu), 1.0)


def ewma_chart(
    counts: Sequence[int],
    baseline: int,
    *,
    lam: float,
    L: float,
    min_count: int,
) -> list[ChartPoint]:
    """The EWMA chart of ``counts`` (see the module's documentation)."""
    mu, sigma = baseline_stats(counts, baseline)
    points = [ChartPoint(c, mu) for c in counts[:baseline]]
    z = mu
    t = 0
    for x in counts[baseline:]:
        t += 1
        ucl = mu + L * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        upper = (ucl - (1 - lam) * z) / lam
        z = lam * x + (1 - lam) * z
        flagged = z > ucl and x >= min_count
        points.append(ChartPoint(x, mu, upper, z, flagged))
        if flagged:
            z, t = mu, 0
    return points


def cusum_chart(
    counts: Sequence[int], baseline: int, *, k: float, h: float, min_count: int
) -> list[ChartPoint]:
    """The one-sided upper CUSUM chart of ``counts`` (see the module's documentation)."""
    mu, sigma = baseline_stats(counts, baseline)
    points = [ChartPoint(c, mu) for c in counts[:baseline]]
    s = 0.0
    for x in counts[baseline:]:
        upper = mu + sigma * (h + k - s)
        s = max(0.0, s + (x - mu) / sigma - k)
        flagged = s > h and x >= min_count
        points.append(ChartPoint(x, mu, upper, s, flagged))
        if flagged:
            s = 0.0
    return points


def chart(counts: Sequence[int], settings: EarlyWarningSettings) -> list[ChartPoint]:
    """The configured method's chart of ``counts``."""
    if settings.method == "cusum":
        return cusum_chart(
            counts, settings.baseline, k=settings.k, h=settings.h, min_count=settings.min_count
        )
    return ewma_chart(
        counts, settings.baseline, lam=settings.lam, L=settings.L, min_count=settings.min_count
    )


# --- results -------------------------------------------------------------------------------


@attrs.frozen
class Series:
    """One value's counts over the window and its chart."""

    dimension: str
    value: str
    value_names: Names
    periods: tuple[date, ...]
    points: tuple[ChartPoint, ...]

    @property
    def flagged(self) -> bool:
        """Whether any period alarms."""
        return any(p.flagged for p in self.points)


@attrs.frozen
class EarlyWarningResult:
    """Every series checked and the warnings found, newest period first."""

    settings: EarlyWarningSettings
    periods: tuple[date, ...]
    series: tuple[Series, ...]
    warnings: tuple[SpikeWarning, ...]


def dimension_names(dimension: str, scheme_names: Mapping[str, Names] | None = None) -> Names:
    """Bilingual names of a dimension (a scheme's own names for ``label:<scheme>``)."""
    if dimension.startswith("label:"):
        scheme = dimension[len("label:") :]
        return (scheme_names or {}).get(scheme, Names(scheme, scheme))
    return _DIMENSION_NAMES[dimension]


def detect(
    facts: Iterable[ComplaintFacts],
    settings: EarlyWarningSettings,
    now: datetime,
    tz: tzinfo,
    *,
    names: Callable[[str, str], Names] | None = None,
    scheme_names: Mapping[str, Names] | None = None,
) -> EarlyWarningResult:
    """Count ``facts`` over the window ending at ``now`` and check every series.

    ``facts`` may hold complaints outside the window (they are ignored); pass the store's facts
    narrowed with :func:`window_filter` to read less. ``names(dimension, value)`` gives a value's
    bilingual names (default: the value itself).
    """
    periods = window_periods(now, settings, tz)
    counts = count_series(facts, settings.dimensions, periods, settings.period, tz)
    series: list[Series] = []
    warnings: list[SpikeWarning] = []
    for dimension in settings.dimensions:
        dim_names = dimension_names(dimension, scheme_names)
        for value in sorted(counts[dimension]):
            values = counts[dimension][value]
            value_names = names(dimension, value) if names else Names(value, value)
            points = chart(values, settings)
            series.append(Series(dimension, value, value_names, tuple(periods), tuple(points)))
            for start, point in zip(periods, points, strict=True):
                if point.flagged and point.upper is not None:
                    warnings.append(
                        SpikeWarning(
                            dimension=dimension,
                            dimension_names=dim_names,
                            value=value,
                            value_names=value_names,
                            period=settings.period,
                            period_start=start,
                            observed=point.count,
                            expected=point.expected,
                            upper=point.upper,
                            method=settings.method,
                            method_names=METHOD_NAMES[settings.method],
                        )
                    )
    warnings.sort(key=lambda w: (w.period_start, w.observed), reverse=True)
    return EarlyWarningResult(settings, tuple(periods), tuple(series), tuple(warnings))


def value_names(schemes: Mapping[str, Any]) -> Callable[[str, str], Names]:
    """``names(dimension, value)`` for :func:`detect`: label names from the schemes, channel
    names from the model, anything else as it is."""
    from complaintkit.model import Channel
    from complaintkit.reporting import label_names

    def names(dimension: str, value: str) -> Names:
        if dimension.startswith("label:"):
            return label_names(schemes.get(dimension[len("label:") :]), value)
        if dimension == "channel":
            from complaintkit.i18n import name_of

            try:
                member = Channel(value)
            except ValueError:
                return Names(value, value)
            return Names(name_of(member, "en"), name_of(member, "zh"))
        return Names(value, value)

    return names


# --- on a desk ------------------------------------------------------------------------------


def settings_of(desk: Desk) -> EarlyWarningSettings:
    """``[early_warning]`` of the desk's configuration, checked (schemes named must exist)."""
    config = desk.host.config
    settings = load_settings(config.section("early_warning"), config.where)
    check_dimensions(config.where, settings, desk.host.schemes())
    return settings


def check(
    desk: Desk,
    *,
    now: datetime | None = None,
    flt: ComplaintFilter | None = None,
    settings: EarlyWarningSettings | None = None,
) -> EarlyWarningResult:
    """Check every series of the window ending at ``now`` for spikes (nothing is stored).

    Reads only the facts of the complaints received in the window (and matching ``flt``),
    through :func:`~complaintkit.facts.iter_facts`.
    """
    from complaintkit.facts import iter_facts

    settings = settings or settings_of(desk)
    now = now or desk.clock()
    tz = desk.host.config.tzinfo
    schemes = desk.host.schemes()
    facts = iter_facts(desk.store, window_filter(now, settings, tz, flt))
    return detect(
        facts,
        settings,
        now,
        tz,
        names=value_names(schemes),
        scheme_names={name: scheme.names for name, scheme in schemes.items()},
    )


def announce_spikes(desk: Desk, *, now: datetime | None = None) -> list[SpikeWarning]:
    """Find spikes as of ``now`` and announce each new one (``spike_detected``).

    A spike is announced once, however often this runs and from how many processes: see
    :meth:`complaintkit.desk.Desk.announce_spike`. Returns the warnings announced by this call.
    """
    now = now or desk.clock()
    tz = desk.host.config.tzinfo
    announced: list[SpikeWarning] = []
    for warning in check(desk, now=now).warnings:
        members = series_filter(
            warning.dimension, warning.value, warning.period_start, warning.period, tz
        )
        if desk.announce_spike(warning, members, now=now):
            announced.append(warning)
    return announced


def sweep_lines(desk: Desk, now: datetime, dry_run: bool) -> list[Names]:
    """What the sweep does for early warning, as lines for its output in both languages."""
    if dry_run:
        found = check(desk, now=now).warnings
        return [
            Names(
                f"early warning: {len(found)} spikes in the window (dry run, none announced)",
                f"突增预警：当前窗口内有 {len(found)} 个突增（试运行，不通知）",
            )
        ]
    announced = announce_spikes(desk, now=now)
    lines = [
        Names(
            f"early warning: {len(announced)} new spike warnings",
            f"突增预警：新发现 {len(announced)} 个投诉突增",
        )
    ]
    for w in announced:
        start = w.period_start.isoformat()
        en = f"{w.dimension_names.get('en')}={w.value_names.get('en')}"
        zh = f"{w.dimension_names.get('zh')}={w.value_names.get('zh')}"
        lines.append(
            Names(
                f"  {start} {en}: {w.observed} (expected {w.expected:.1f}, "
                f"limit {w.upper:.1f}, {w.method})",
                f"  {start} {zh}：{w.observed} 件（预期 {w.expected:.1f}，"
                f"上限 {w.upper:.1f}，{w.method}）",
            )
        )
    return lines
