"""Working-time calendars: the implementation behind every calendar this plugin registers.

Semantics (the same for every :class:`WorkingCalendar`):

* **Working time** is the union of the day's working intervals on working days, as real
  (elapsed) time: on a day when the clocks change, an interval that spans the change is an hour
  shorter or longer. Interval boundaries are wall-clock times in the calendar's zone; a boundary
  that does not exist (spring forward) is read with the offset before the change, as
  :mod:`zoneinfo` does.
* ``add(t, amount, unit="hours")`` is the earliest instant at which ``amount`` of working time
  has passed since ``t``. Time outside working intervals does not count, so the result is
  always inside working time (the end of an interval included: 1 working hour from 17:00 is
  18:00 the same day, not 09:00 the next). ``add(t, 0)`` is ``t`` when ``t`` is inside working
  time, else the next working time. ``between(t, add(t, a)) == a`` and
  ``add(add(t, a), b) == add(t, a + b)``.
* ``add(t, timedelta(days=n), unit="days")`` is "n working days": the clock starts at the next
  working time at or after ``t`` (``t`` itself when inside working time; the opening of the
  next working period when ``t`` is in a break, at night, on a weekend or a holiday); the result
  is the same wall-clock time on the n-th following working day, or the end of that day's working
  hours if that time is not inside them. A result that would fall at the very opening of a
  working day is given as the close of the previous working day, which is the same amount of
  working time and the deadline people expect: received Tuesday 20:00, 3 working days → Friday
  18:00 (with 09:00–18:00 hours). Only whole days are allowed.
* ``unit="elapsed"`` (an addition of :class:`WorkingCalendar`; use :func:`add_duration` for any
  calendar) is plain elapsed time, ignoring the calendar.
* Results are timezone-aware, in the calendar's zone. Naive datetimes and negative amounts
  raise :class:`ValueError`.
* A calendar with a covered range (:attr:`WorkingCalendar.covered`) raises
  :class:`~complaintkit.errors.CalendarRangeError` for any question about a day outside it,
  including the days an ``add`` or ``between`` passes through, unless a year's official
  arrangement (:class:`YearArrangement`) or a stated :class:`Fallback` answers for that day.

**Exact and provisional days.** Every day a calendar answers for is *exact* (from its data, or
from a year's arrangement given in the configuration, which is preferred over the data) or
*provisional* (from the calendar's :class:`Fallback`, e.g. weekends plus the statutory holidays
the ``holidays`` package computes, for a year whose official arrangement is not published yet).
:meth:`WorkingCalendar.exactness` says which; :func:`provisional_years` tells a deadline's
computation which of the years it passed through were provisional.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from complaintkit.calendars import UNITS, DayInfo
from complaintkit.errors import CalendarRangeError, ConfigError
from complaintkit.i18n import Names

__all__ = [
    "WEEKDAYS",
    "Fallback",
    "WorkingCalendar",
    "YearArrangement",
    "always_open",
    "parse_hours",
    "parse_weekend",
]

#: Weekday numbers (Monday 0 … Sunday 6) by the names :func:`parse_weekend` accepts.
WEEKDAYS: dict[str, int] = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    **{f"星期{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
}


_DAY = 86_400
_MAX_IDLE_DAYS = 3 * 366
_CLOSED_BY_CONFIG = Names("closed by configuration", "配置的休息日")
_OPEN_BY_CONFIG = Names("working day by configuration", "配置的工作日")


def _in_year(year: int, days: Iterable[date], what: str) -> None:
    for day in days:
        if day.year != year:
            raise ValueError(f"{what} {day.isoformat()} is not in {year}")


@attrs.frozen
class YearArrangement:
    """A year's official arrangement: its holidays and make-up working days (调休).

    Given for a calendar (``[calendars.NAME.years.YEAR]`` or an ``arrangements`` file), it makes
    that year exact and is preferred over the calendar's own data for the year. ``source`` says
    where it came from (the file or configuration key, and the notice it copies).
    Raises :class:`ValueError` for a date outside ``year`` or a day both closed and worked.
    """

    year: int
    closed: Mapping[date, Names]
    open: Mapping[date, Names]
    source: str

    def __attrs_post_init__(self) -> None:
        _in_year(self.year, self.closed, "holiday")
        _in_year(self.year, self.open, "working day")
        both = sorted(set(self.closed) & set(self.open))
        if both:
            raise ValueError(f"{both[0].isoformat()} is both a holiday and a working day")


@attrs.frozen
class Fallback:
    """How a calendar answers, provisionally, for days its exact data does not cover.

    ``holidays`` names the holidays of a day (None: not a holiday); the calendar's weekend
    applies as usual; there are no make-up working days. ``basis`` states the rule in both
    languages (shown by ``complaintkit calendars check`` and recorded on complaints whose
    deadlines it gave). ``first`` and ``last`` bound the dates it can answer for (None: open).
    """

    holidays: Callable[[date], Names | None]
    basis: Names
    first: date | None = None
    last: date | None = None

    def covers(self, day: date) -> bool:
        """True if the fallback can answer for ``day``."""
        return (self.first is None or self.first <= day) and (self.last is None or day <= self.last)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use e.g. Asia/Shanghai or UTC)") from None


def _check_hours(value: tuple[tuple[int, int], ...]) -> None:
    previous_end = -1
    for start, end in value:
        if not 0 <= start < end <= _DAY:
            raise ValueError(
                f"working hours must be within a day and end after they start: {value}"
            )
        if start < previous_end:
            raise ValueError("working-hour intervals must be in order and must not overlap")
        previous_end = end


@attrs.frozen(eq=False)
class WorkingCalendar:
    """A :class:`BusinessCalendar` defined by data (see the module docstring for the arithmetic).

    :param name: the calendar's unique name, e.g. ``cn`` or ``24x7``.
    :param description: one line for ``complaintkit calendars``; ``description_zh`` in Chinese.
    :param timezone: an IANA zone name; working hours are wall-clock times there.
    :param hours: working intervals of every working day as seconds after midnight, in order,
        not overlapping (``(32400, 43200)`` is 09:00–12:00; 86400 is midnight at the end of the
        day); build them with :func:`parse_hours`.
    :param weekend: weekday numbers (Monday 0 … Sunday 6) that are not worked.
    :param closed: dates not worked (holidays), with their names.
    :param open: dates worked although they are weekend days (make-up workdays), with names;
        they win over ``closed``, the holiday table and the weekend.
    :param holidays: an optional further holiday table, asked after ``open`` and ``closed``
        (e.g. a country table from the ``holidays`` package, which computes any year).
    :param covered: the first and last date the calendar knows; a question about any other date
        raises :class:`~complaintkit.errors.CalendarRangeError` (unless ``years`` or
        ``fallback`` answers for it). None: every date.
    :param years: official arrangements by year (:class:`YearArrangement`): those years are
        exact and the arrangement is preferred over ``holidays`` and the built-in data (``open``
        and ``closed`` still apply on top, as configured extras).
    :param fallback: how to answer provisionally for days neither ``covered`` nor ``years``
        covers (:class:`Fallback`); None: such days raise ``CalendarRangeError``.
    """

    name: str
    description: str = ""
    timezone: str = "UTC"
    hours: tuple[tuple[int, int], ...] = ((9 * 3600, 18 * 3600),)
    weekend: frozenset[int] = frozenset({5, 6})
    closed: Mapping[date, Names] = attrs.field(factory=dict)
    open: Mapping[date, Names] = attrs.field(factory=dict)
    holidays: Callable[[date], Names | None] | None = None
    covered: tuple[date, date] | None = None
    description_zh: str = ""
    years: Mapping[int, YearArrangement] = attrs.field(factory=dict)
    fallback: Fallback | None = None
    _tz: ZoneInfo = attrs.field(init=False, repr=False)
    _spans: dict[date, tuple[tuple[datetime, datetime], ...]] = attrs.field(
        init=False, repr=False, factory=dict
    )
    # Whether each day asked about is worked: SLA clocks over many complaints ask about the
    # same few hundred days again and again (day_info builds its answer each time).
    _worked: dict[date, bool] = attrs.field(init=False, repr=False, factory=dict)
    # The instants :meth:`add` computed: complaints received at the same instant (data that
    # give only the date) have the same deadlines, so judging many complaints' SLA targets
    # asks for the same sums again and again.
    _sums: dict[tuple[datetime, timedelta, str], datetime] = attrs.field(
        init=False, repr=False, factory=dict
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_tz", _zone(self.timezone))
        _check_hours(self.hours)
        if not self.hours:
            raise ValueError(f"calendar {self.name!r} has no working hours")
        if not set(self.weekend) <= set(range(7)):
            raise ValueError(
                f"weekend days are 0 (Monday) to 6 (Sunday), got {sorted(self.weekend)}"
            )
        if self.covered is not None and self.covered[0] > self.covered[1]:
            raise ValueError(f"covered range ends before it starts: {self.covered}")

    # --- days -----------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._tz

    @property
    def covered_years(self) -> str:
        """The years known exactly: ``2004–2026``, ``2004–2027`` with a 2027 arrangement,
        ``2004–2026, 2028``; ``all`` for a calendar that knows every date."""
        if self.covered is None:
            return "all"
        years = set(range(self.covered[0].year, self.covered[1].year + 1)) | set(self.years)
        runs: list[list[int]] = []
        for year in sorted(years):
            if runs and runs[-1][1] == year - 1:
                runs[-1][1] = year
            else:
                runs.append([year, year])
        return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)

    def covers(self, day: date) -> bool:
        """True if the calendar knows ``day`` exactly (always, without a covered range)."""
        return (
            self.covered is None
            or self.covered[0] <= day <= self.covered[1]
            or day.year in self.years
        )

    def exactness(self, day: date) -> str:
        """How the calendar knows ``day``: one of :data:`EXACTNESS`."""
        if self.covers(day):
            return "exact"
        if self.fallback is not None and self.fallback.covers(day):
            return "provisional"
        return "unknown"

    def basis(self, day: date) -> Names:
        """Where the calendar's answer for ``day`` comes from, in both languages."""
        arrangement = self.years.get(day.year)
        if arrangement is not None:
            return Names(
                f"official arrangement for {day.year} from {arrangement.source}",
                f"{day.year} 年官方安排，来自 {arrangement.source}",
            )
        if self.covers(day):
            return Names(self.description or self.name, self.description_zh or self.description)
        if self.fallback is not None and self.fallback.covers(day):
            return self.fallback.basis
        return Names("no data for this date", "没有这一天的数据")

    def provisional_years(self, first: date, last: date) -> tuple[int, ...]:
        """The years with a provisional day between ``first`` and ``last`` (inclusive)."""
        if self.covered is None or self.fallback is None:
            return ()
        found: list[int] = []
        for year in range(first.year, last.year + 1):
            if year in self.years:
                continue
            lo, hi = max(first, date(year, 1, 1)), min(last, date(year, 12, 31))
            if lo <= hi and not (self.covered[0] <= lo and hi <= self.covered[1]):
                found.append(year)
        return tuple(found)

    def _check(self, day: date) -> None:
        if self.exactness(day) == "unknown":
            assert self.covered is not None
            raise CalendarRangeError(
                self.name, day.isoformat(), self.covered[0].year, self.covered[1].year
            )

    def day_info(self, day: date) -> DayInfo:
        """Whether ``day`` is worked and why (make-up day, holiday, weekend or working day);
        ``provisional`` when the answer comes from the :class:`Fallback`."""
        self._check(day)
        provisional = not self.covers(day)
        if day in self.open:
            return DayInfo(day, True, "makeup", self.open[day], provisional)
        if day in self.closed:
            return DayInfo(day, False, "holiday", self.closed[day], provisional)
        arrangement = self.years.get(day.year)
        if arrangement is not None:
            if day in arrangement.open:
                return DayInfo(day, True, "makeup", arrangement.open[day])
            if day in arrangement.closed:
                return DayInfo(day, False, "holiday", arrangement.closed[day])
        else:
            lookup = self.holidays
            if provisional:
                assert self.fallback is not None
                lookup = self.fallback.holidays
            name = lookup(day) if lookup is not None else None
            if name is not None:
                return DayInfo(day, False, "holiday", name, provisional)
        if day.weekday() in self.weekend:
            return DayInfo(day, False, "weekend", None, provisional)
        return DayInfo(day, True, "workday", None, provisional)

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is worked; raises CalendarRangeError outside :attr:`covered`."""
        worked = self._worked.get(day)
        if worked is None:
            worked = self.day_info(day).working
            if len(self._worked) > 50_000:
                self._worked.clear()
            self._worked[day] = worked
        return worked

    def days(self, first: date, last: date) -> list[DayInfo]:
        """:meth:`day_info` for every day from ``first`` to ``last`` inclusive."""
        return [self.day_info(first + timedelta(days=i)) for i in range((last - first).days + 1)]

    def working_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of ``day`` as aware (start, end) pairs in UTC; () if not worked."""
        cached = self._spans.get(day)
        if cached is not None:
            return cached
        spans: tuple[tuple[datetime, datetime], ...] = ()
        if self.is_working_day(day):
            midnight = datetime.combine(day, time())
            spans = tuple(
                (s, e)
                for s, e in (
                    (
                        self._utc(midnight + timedelta(seconds=a)),
                        self._utc(midnight + timedelta(seconds=b)),
                    )
                    for a, b in self.hours
                )
                if s < e
            )
        if len(self._spans) > 50_000:
            self._spans.clear()
        self._spans[day] = spans
        return spans

    def _utc(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=self._tz).astimezone(UTC)

    # --- instants ----------------------------------------------------------------------------

    def _aware(self, value: datetime, what: str) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
        return value.astimezone(UTC)

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self._tz).date()

    def is_working_time(self, moment: datetime) -> bool:
        """True if ``moment`` is inside a working interval (its end included)."""
        t = self._aware(moment, "moment")
        return any(s <= t <= e for s, e in self.working_periods(self._local_day(t)))

    def next_working_time(self, moment: datetime) -> datetime:
        """``moment`` if it is inside working time, else the start of the next working interval."""
        return self.add(moment, timedelta(0))

    def add(self, start: datetime, amount: timedelta, *, unit: str = "hours") -> datetime:
        """The instant ``amount`` of working time after ``start`` (see the module docstring)."""
        t = self._aware(start, "start")
        key = (t, amount, unit)
        found = self._sums.get(key)
        if found is not None:
            return found
        if amount < timedelta(0):
            raise ValueError(f"cannot add a negative amount of time ({amount})")
        if unit == "hours":
            found = self._add_hours(t, amount).astimezone(self._tz)
        elif unit == "days":
            if amount % timedelta(days=1):
                raise ValueError(f"working days must be whole days, got {amount}")
            found = self._add_days(t, amount.days).astimezone(self._tz)
        elif unit == "elapsed":
            found = (t + amount).astimezone(self._tz)
        else:
            raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
        if len(self._sums) > 50_000:
            self._sums.clear()
        self._sums[key] = found
        return found

    def _next_day(self, day: date, idle: int, since: date) -> tuple[date, int]:
        if idle > _MAX_IDLE_DAYS:
            raise ConfigError(
                f"calendar {self.name!r} has no working time in the {_MAX_IDLE_DAYS} days "
                f"after {since.isoformat()}; check its weekend, hours and closed dates"
            )
        return day + timedelta(days=1), idle + 1

    def _add_hours(self, t: datetime, amount: timedelta) -> datetime:
        remaining = amount
        zero = timedelta(0)
        day = since = self._local_day(t)
        idle = 0
        while True:
            spans = self.working_periods(day)
            if spans:
                idle = 0
            for s, e in spans:
                if e < t or (e == t and remaining > zero):
                    continue
                begin = max(s, t)
                available = e - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day, idle = self._next_day(day, idle, since)

    def _add_days(self, t: datetime, n: int) -> datetime:
        anchor = self._add_hours(t, timedelta(0))
        if n == 0:
            return anchor
        local = anchor.astimezone(self._tz)
        clock = local.hour * 3600 + local.minute * 60 + local.second
        day = since = local.date()
        previous = day
        counted = idle = 0
        while True:
            day, idle = self._next_day(day, idle, since)
            if self.is_working_day(day):
                idle = 0
                counted += 1
                if counted == n:
                    break
                previous = day
        if clock == self.hours[0][0] and local.microsecond == 0:
            # The opening of day n is the close of day n-1 in working time: say the close.
            return self.working_periods(previous)[-1][1]
        if any(a <= clock <= b for a, b in self.hours):
            wall = datetime.combine(day, time()) + timedelta(
                seconds=clock, microseconds=local.microsecond
            )
            candidate = self._utc(wall)
            if any(s <= candidate <= e for s, e in self.working_periods(day)):
                return candidate
        return self.working_periods(day)[-1][1]

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
        t0 = self._aware(start, "start")
        t1 = self._aware(end, "end")
        total = timedelta(0)
        if t1 <= t0:
            return total
        day = self._local_day(t0)
        last = self._local_day(t1)
        while day <= last:
            for s, e in self.working_periods(day):
                lo, hi = max(s, t0), min(e, t1)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total


def always_open(timezone: str = "UTC", name: str = "24x7") -> WorkingCalendar:
    """The 24×7 calendar: every hour of every day is working time (elapsed time)."""
    return WorkingCalendar(
        name=name,
        description="every hour of every day (24×7)",
        description_zh="全天候（7×24小时）",
        timezone=timezone,
        hours=((0, _DAY),),
        weekend=frozenset(),
    )


_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def _seconds(text: str, whole: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"{whole!r} is not HH:MM-HH:MM (e.g. 09:00-12:00)")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{whole!r} has an impossible time {text.strip()!r}")
    return hours * 3600 + minutes * 60


def parse_hours(values: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """``["09:00-12:00", "13:30-18:00"]`` → working intervals in seconds after midnight.

    ``24:00`` is midnight at the end of the day (``"00:00-24:00"`` is the whole day). Intervals
    must be in order and must not overlap. Raises :class:`ValueError` with the bad value.
    """
    if isinstance(values, str):
        raise ValueError(f'give a list such as ["09:00-12:00", "13:30-18:00"], not {values!r}')
    result: list[tuple[int, int]] = []
    for value in values:
        if not isinstance(value, str) or value.count("-") != 1:
            raise ValueError(f"{value!r} is not HH:MM-HH:MM (e.g. 09:00-12:00)")
        left, right = value.split("-")
        start, end = _seconds(left, value), _seconds(right, value)
        if end <= start:
            raise ValueError(f"{value!r} ends before it starts")
        if result and start < result[-1][1]:
            raise ValueError(f"{value!r} overlaps or comes before the interval before it")
        result.append((start, end))
    if not result:
        raise ValueError("at least one interval of working hours is needed")
    return tuple(result)


def parse_weekend(values: Iterable[str]) -> frozenset[int]:
    """``["sat", "sun"]`` (or ``saturday``, ``周六``, ``星期日`` …) → weekday numbers (Monday 0)."""
    if isinstance(values, str):
        raise ValueError(f'give a list such as ["sat", "sun"], not {values!r}')
    days: set[int] = set()
    for value in values:
        key = value.strip().lower() if isinstance(value, str) else None
        if key not in WEEKDAYS:
            raise ValueError(f"{value!r} is not a day of the week (mon … sun, 周一 … 周日)")
        days.add(WEEKDAYS[key])
    return frozenset(days)
