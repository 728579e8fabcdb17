"""Helpers the first-party reporters share: percentiles, periods, options and SLA judging."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit import ComplaintFacts, ComplaintFilter, ConfigError, Names, ReportContext, Store
from complaintkit.facts import CLOCK_FIELDS, ClockFacts, iter_fact_columns
from complaintkit.sla import TARGETS, SlaConfig, clocks_of, load_sla_config

if TYPE_CHECKING:
    from complaintkit.calendars import BusinessCalendar

NONE = Names("(none)", "（无）")
PERIODS = ("day", "week", "month")
#: Names of the time measures (from receipt to the first event that met each target).
TIME_NAMES = {
    "acknowledge": Names("time to acknowledge", "确认受理用时"),
    "respond": Names("time to first response", "首次响应用时"),
    "resolve": Names("time to resolve", "解决用时"),
}


def quantile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile of ``values`` with linear interpolation between the closest ranks
    (pandas' and numpy's default); None for no values. Sorts ``values`` in place."""
    if not values:
        return None
    values.sort()
    position = q * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    value = values[low] + (values[high] - values[low]) * (position - low)
    return round(value, 1)


def mean(values: list[float]) -> float | None:
    """The arithmetic mean rounded to 2 decimals; None for no values."""
    return round(sum(values) / len(values), 2) if values else None


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 decimals; None when ``whole`` is 0."""
    return round(part / whole, 4) if whole else None


def tz_of(context: ReportContext) -> tzinfo:
    """The configured time zone (UTC without a configuration)."""
    return context.config.tzinfo if context.config is not None else UTC


def now_of(context: ReportContext) -> datetime:
    """The instant the report is made at: ``context.now``, else now in UTC."""
    return context.now or datetime.now(UTC)


#: The smallest step of time: ``until - TICK`` is the last instant before ``until``.
TICK = timedelta(microseconds=1)


def in_window(flt: ComplaintFilter, context: ReportContext) -> ComplaintFilter:
    """The complaints a report made as of :func:`now_of` counts: those matching ``flt`` (whose
    ``--since`` / ``--until`` bound the time received) that were received by then. A complaint
    received after ``--now`` did not exist yet at the instant the report is made at."""
    end = now_of(context) + TICK
    until = flt.received_until
    return attrs.evolve(flt, received_until=end if until is None else min(until, end))


def choice(context: ReportContext, reporter: str, key: str, allowed: Iterable[str]) -> str | None:
    """The option ``key`` (from ``[reports.NAME]`` or ``--option``), checked against
    ``allowed``; None when not given."""
    value = context.settings(reporter).get(key)
    if value is None or value == "":
        return None
    allowed = tuple(allowed)
    if str(value) not in allowed:
        raise ConfigError(
            f"report {reporter!r}: option {key}={value!r}; use one of {', '.join(allowed)}"
        )
    return str(value)


def scheme_option(context: ReportContext, reporter: str, key: str, default: str) -> str:
    """A scheme name from option ``key`` (default ``default``), which must be registered."""
    value = str(context.settings(reporter).get(key) or default)
    if value not in context.schemes:
        known = ", ".join(context.schemes) or "none"
        raise ConfigError(
            f"report {reporter!r}: unknown scheme {value!r} (option {key}); known: {known}"
        )
    return value


def period_of(at: datetime, period: str, tz: tzinfo) -> str:
    """The period ``at`` falls in, in ``tz``: ``2025-10-07`` (day), the Monday starting its
    ISO week (week) or ``2025-10`` (month)."""
    day = at.astimezone(tz).date()
    if period == "day":
        return day.isoformat()
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return f"{day.year:04d}-{day.month:02d}"


def default_period(first: datetime | None, last: datetime | None) -> str:
    """``day`` for up to 62 days of data, ``week`` for up to 2 years, else ``month``."""
    if first is None or last is None:
        return "month"
    span = last - first
    if span <= timedelta(days=62):
        return "day"
    if span <= timedelta(days=731):
        return "week"
    return "month"


def periods_between(first: str, last: str, period: str) -> list[str]:
    """Every period from ``first`` to ``last`` (as :func:`period_of` names them), gaps filled."""
    found = [first]
    if period == "month":
        year, month = int(first[:4]), int(first[5:7])
        while found[-1] < last:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            found.append(f"{year:04d}-{month:02d}")
        return found
    step = timedelta(days=1 if period == "day" else 7)
    day = date.fromisoformat(first)
    while found[-1] < last:
        day += step
        found.append(day.isoformat())
    return found


@attrs.frozen
class SlaJudge:
    """Judges each SLA target of a complaint from its facts, with
    :func:`complaintkit.sla.clocks_of`: the verdict ``complaintkit clocks`` shows (one of
    :data:`complaintkit.sla.OUTCOMES`), under the complaint's stored policy
    (``sla_policy``) on that policy's calendar, as of ``now``.
    """

    config: SlaConfig | None
    calendar: Mapping[str | None, BusinessCalendar | None]
    now: datetime

    @classmethod
    def of(cls, context: ReportContext) -> SlaJudge:
        """The judge for a report: the configured policies and their calendars."""
        config = load_sla_config(context.config) if context.config is not None else None
        calendars: dict[str | None, BusinessCalendar | None] = {}
        if config is not None:
            for policy in config.policies.values():
                if policy.calendar not in calendars:
                    calendars[policy.calendar] = (
                        context.calendar(policy.calendar) if context.calendar else None
                    )
        return cls(config, calendars, now_of(context))

    def notes(self, lang: str) -> list[str]:
        """What the reader must know about how targets were judged: no policies at all, or
        policies whose calendars were not given (a context built without ``calendar``), in
        which case no deadline is known and only recorded breaches decide."""
        zh = lang == "zh"
        if self.config is None:
            return [
                "未配置 SLA 策略：仅显示用时。"
                if zh
                else "No SLA policies are configured: only the times are shown."
            ]
        if self.config.policies and all(c is None for c in self.calendar.values()):
            return [
                "未提供工作日历，无法计算期限：仅以记录的超时判定未达成。"
                if zh
                else "No business calendars were given, so no deadline could be computed: only "
                "the recorded breaches count as missed."
            ]
        return []

    @property
    def judging(self) -> bool:
        """Whether any target can be judged: some SLA policy is configured."""
        return self.config is not None and bool(self.config.policies)

    def targets(self, f: ComplaintFacts) -> list[tuple[str, str]]:
        """``(target, outcome)`` for each target the complaint's policy sets."""
        return self.outcomes(f.sla_policy, f)

    def outcomes(
        self, policy_name: str | None, f: ComplaintFacts | ClockFacts
    ) -> list[tuple[str, str]]:
        """``(target, outcome)`` for each target policy ``policy_name`` sets (none for no
        policy, or one not configured), judged from the complaint's (clock) facts ``f``."""
        if self.config is None or policy_name is None:
            return []
        policy = self.config.policies.get(policy_name)
        if policy is None:
            return []
        clocks = clocks_of(f, policy, self.calendar.get(policy.calendar), self.now, with_left=False)
        return [(clock.target, clock.outcome) for clock in clocks.targets]


def reached_seconds(
    received: datetime, reached: Iterable[datetime | None], untimed: frozenset[str]
) -> dict[str, float]:
    """Seconds from receipt to the first acknowledgement, response and resolution reached
    (``reached``: their instants, in the order of :data:`~complaintkit.sla.TARGETS`), as
    :meth:`~complaintkit.facts.ComplaintFacts.reached` counts them: a target met at an
    unknown time (``untimed``) has none."""
    return {
        target: (at - received).total_seconds()
        for target, at in zip(TARGETS, reached, strict=True)
        if at is not None and target not in untimed
    }


def judged_rows(
    store: Store, flt: ComplaintFilter, fields: tuple[str, ...], judge: SlaJudge
) -> Iterator[tuple[tuple[Any, ...], list[tuple[str, str]]]]:
    """Per complaint matching ``flt``: its facts ``fields`` (as
    :func:`~complaintkit.facts.iter_fact_columns` gives them) and ``judge``'s outcomes of its
    targets. One read of fact columns (computed in the database where the store can): with
    SLA policies to judge by, ``fields`` and the complaint's policy and
    :data:`~complaintkit.facts.CLOCK_FIELDS`, from which its clocks are computed."""
    if not judge.judging:
        for values in iter_fact_columns(store, flt, fields):
            yield values, []
        return
    # Each field read once (the sla report's own fields are mostly clock fields).
    wanted = tuple(dict.fromkeys((*fields, "sla_policy", *CLOCK_FIELDS)))
    at = {name: i for i, name in enumerate(wanted)}
    policy = at["sla_policy"]
    clock = [at[name] for name in CLOCK_FIELDS]
    for row in iter_fact_columns(store, flt, wanted):
        yield (
            tuple([row[at[name]] for name in fields]),
            judge.outcomes(row[policy], ClockFacts._make([row[i] for i in clock])),
        )
