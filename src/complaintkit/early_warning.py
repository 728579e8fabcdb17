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

Everything here is pure: :func:`detect` takes :class:`~complaintkit.facts.ComplaintFacts` and an
instant; the desk (:meth:`complaintkit.desk.Desk.detect_spikes`) and the ``early-warning`` report
read them from the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import attrs

from .config import check_settings
from .errors import ConfigError
from .facts import ComplaintFacts
from .i18n import Names
from .storage import ComplaintFilter

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
    "count_series",
    "cusum_chart",
    "detect",
    "dimension_names",
    "dimension_value",
    "ewma_chart",
    "load_settings",
    "period_start",
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
#: The keys of ``[early_warning]``.
SETTINGS = (
    "dimensions",
    "period",
    "window",
    "baseline",
    "method",
    "lambda",
    "L",
    "k",
    "h",
    "min_count",
)

_DIMENSION_NAMES = {
    "channel": Names("channel", "渠道"),
    "product": Names("product", "产品"),
    "department": Names("department", "部门"),
    "assignee": Names("handler", "处理人"),
}
METHOD_NAMES = {"ewma": Names("EWMA", "EWMA 控制图"), "cusum": Names("CUSUM", "CUSUM 累积和")}


def _default_baseline(period: str, window: int) -> int:
    return max(3, window - (7 if period == "day" else 3))


@attrs.frozen
class EarlyWarningSettings:
    """``[early_warning]``, checked.

    ``window`` periods are looked at, the first ``baseline`` of them estimate the expected
    count (default: all but the last 7 days, or all but the last 3 weeks).
    """

    dimensions: tuple[str, ...] = DEFAULT_DIMENSIONS
    period: str = "day"
    window: int = 28
    baseline: int = 21
    method: str = "ewma"
    lam: float = 0.3
    L: float = 3.0
    k: float = 0.5
    h: float = 4.0
    min_count: int = 5

    @property
    def monitored(self) -> int:
        """How many of the window's last periods are checked."""
        return self.window - self.baseline


def _number(where: str, key: str, value: Any, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{where} {key} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ConfigError(f"{where} {key} must be {span}, got {value!r}")
    return float(value)


def _integer(where: str, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} {key} must be a whole number, got {value!r}")
    if value < low:
        raise ConfigError(f"{where} {key} must be at least {low}, got {value!r}")
    return value


def check_dimension(where: str, dimension: str, schemes: Iterable[str] | None = None) -> None:
    """Refuse a dimension that is not one of :data:`DIMENSIONS` (or names an unknown scheme)."""
    if dimension.startswith("label:"):
        scheme = dimension[len("label:") :]
        if not scheme:
            raise ConfigError(f"{where} dimensions: {dimension!r} names no scheme (label:cause)")
        if schemes is not None and scheme not in set(schemes):
            known = ", ".join(sorted(schemes)) or "none"
            raise ConfigError(
                f"{where} dimensions: {dimension!r}: no classification scheme {scheme!r} "
                f"(schemes: {known})"
            )
        return
    if dimension not in _DIMENSION_NAMES:
        raise ConfigError(
            f"{where} dimensions: {dimension!r} is not a dimension; use {', '.join(DIMENSIONS)}"
        )


def load_settings(table: Mapping[str, Any], where: str = "[early_warning]") -> EarlyWarningSettings:
    """Check an ``[early_warning]`` table (or a report's options) and return the settings.

    Every mistake is a :class:`~complaintkit.errors.ConfigError` naming ``where`` and the key.
    Values given as strings (``--option window=14``) are read as numbers.
    """
    check_settings(table, SETTINGS, where)
    values = {key: _parsed(value) for key, value in table.items()}
    dimensions = values.get("dimensions", list(DEFAULT_DIMENSIONS))
    if isinstance(dimensions, str):
        dimensions = [d.strip() for d in dimensions.split(",") if d.strip()]
    if not isinstance(dimensions, list | tuple) or not dimensions:
        raise ConfigError(f"{where} dimensions must be a non-empty list such as ['label:cause']")
    for dimension in dimensions:
        if not isinstance(dimension, str):
            raise ConfigError(f"{where} dimensions: {dimension!r} is not a string")
        check_dimension(where, dimension)
    period = values.get("period", "day")
    if period not in PERIODS:
        raise ConfigError(f"{where} period must be one of {', '.join(PERIODS)}, got {period!r}")
    method = values.get("method", "ewma")
    if method not in METHODS:
        raise ConfigError(f"{where} method must be one of {', '.join(METHODS)}, got {method!r}")
    window = _integer(where, "window", values.get("window", 28 if period == "day" else 12), 4)
    baseline = _integer(
        where, "baseline", values.get("baseline", _default_baseline(period, window)), 3
    )
    if baseline >= window:
        raise ConfigError(
            f"{where} baseline ({baseline}) must be smaller than window ({window}): the periods "
            "after the baseline are the ones checked"
        )
    lam = _number(where, "lambda", values.get("lambda", 0.3), 0.01, 1.0)
    return EarlyWarningSettings(
        dimensions=tuple(dict.fromkeys(dimensions)),
        period=period,
        window=window,
        baseline=baseline,
        method=method,
        lam=lam,
        L=_number(where, "L", values.get("L", 3.0), 0.5, 10.0),
        k=_number(where, "k", values.get("k", 0.5), 0.0, 5.0),
        h=_number(where, "h", values.get("h", 4.0), 0.5, 50.0),
        min_count=_integer(where, "min_count", values.get("min_count", 5), 1),
    )


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
    from .model import Channel

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
class SpikeWarning:
    """A flagged period of one series.

    ``id`` is stable: the same spike found by a later run (another sweep) has the same id, so
    it is announced once; it is built from the method, the period and the series.
    """

    dimension: str
    dimension_names: Names
    value: str
    value_names: Names
    period: str
    period_start: date
    observed: int
    expected: float
    upper: float
    method: str

    @property
    def id(self) -> str:
        """``METHOD:PERIOD:START:DIMENSION=VALUE``, e.g. ``ewma:day:2015-02-20:product=United``."""
        return f"{self.method}:{self.period}:{self.period_start.isoformat()}:" + (
            f"{self.dimension}={self.value}"
        )

    def as_data(self, lang: str = "en") -> dict[str, Any]:
        """JSON-compatible data (template variables, webhook payloads)."""
        return {
            "id": self.id,
            "dimension": self.dimension,
            "dimension_name": self.dimension_names.get(lang),
            "value": self.value,
            "value_name": self.value_names.get(lang),
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "observed": self.observed,
            "expected": round(self.expected, 2),
            "upper": round(self.upper, 2),
            "method": self.method,
            "method_name": METHOD_NAMES[self.method].get(lang),
        }


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
                        )
                    )
    warnings.sort(key=lambda w: (w.period_start, w.observed), reverse=True)
    return EarlyWarningResult(settings, tuple(periods), tuple(series), tuple(warnings))


def value_names(schemes: Mapping[str, Any]) -> Callable[[str, str], Names]:
    """``names(dimension, value)`` for :func:`detect`: label names from the schemes, channel
    names from the model, anything else as it is."""
    from .model import Channel
    from .reporting import label_names

    def names(dimension: str, value: str) -> Names:
        if dimension.startswith("label:"):
            return label_names(schemes.get(dimension[len("label:") :]), value)
        if dimension == "channel":
            from .i18n import name_of

            try:
                member = Channel(value)
            except ValueError:
                return Names(value, value)
            return Names(name_of(member, "en"), name_of(member, "zh"))
        return Names(value, value)

    return names
