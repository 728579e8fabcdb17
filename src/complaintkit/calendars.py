"""Business calendars: the protocol calendar plugins implement, and arithmetic over any of them.

A calendar plugin registers :class:`BusinessCalendar` objects through the
``register_business_calendars`` hook. SLA deadlines ("reply within 3 working days") are
computed with :meth:`BusinessCalendar.add` and time used with :meth:`BusinessCalendar.between`,
so that pausing, re-classification and calendar changes replay deterministically from a
complaint's history. :func:`parse_duration` reads SLA amounts such as ``"3 working days"`` or
``"4个工作小时"``; :func:`add_duration` adds one on any calendar.

The working-time implementation (hours, weekends, holidays, 调休, years' official arrangements
and provisional fallbacks) is the calendars plugin's :class:`complaintkit_calendars.working.
WorkingCalendar`, whose docstring gives the semantics every calendar should follow. The core
keeps :func:`always_open`, the 24×7 calendar the host falls back on when no plugin registers
one.

**Exact and provisional days.** A calendar may say how well it knows a day
(``exactness(day)``: one of :data:`EXACTNESS`) and which years a computation passed through
only provisionally (``provisional_years(first, last)``); :func:`exactness_of` and
:func:`provisional_years` ask any calendar, with or without those methods.

**What else a calendar may offer.** The desk and the command line look for a few more
members and do without them: ``basis(day)`` (where the answer for a day comes from, as
:class:`~complaintkit.i18n.Names`; shown beside provisional deadlines and by ``calendars
check``), ``day_info(day)`` (a :class:`DayInfo`: ``calendars days`` says why a day is worked or
not), ``covered_years`` (the years known exactly, as text) and ``description_zh``. That is why
:class:`DayInfo` lives here and not in the plugin that builds it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import attrs

from .errors import CalendarRangeError
from .i18n import Names

__all__ = [
    "DAY_KIND_NAMES",
    "EXACTNESS",
    "EXACTNESS_NAMES",
    "UNITS",
    "AlwaysOpen",
    "BusinessCalendar",
    "DayInfo",
    "add_duration",
    "always_open",
    "exactness_of",
    "parse_duration",
    "provisional_years",
]


@runtime_checkable
class BusinessCalendar(Protocol):
    """Working time in one place: days that are worked, and hours on those days.

    Every method takes and returns timezone-aware datetimes; results are in the calendar's own
    time zone. A calendar that does not know a date (e.g. a holiday table that ends) raises
    :class:`~complaintkit.errors.CalendarRangeError` instead of guessing.
    """

    @property
    def name(self) -> str:
        """The calendar's unique name, e.g. ``cn`` or ``24x7``."""
        ...

    @property
    def description(self) -> str:
        """One line for listings: what the calendar is and which years it covers."""
        ...

    @property
    def timezone(self) -> str:
        """The IANA time zone of its working hours and of the datetimes it returns."""
        ...

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is worked (a weekday that is not a holiday, or a make-up workday)."""
        ...

    def add(self, start: datetime, amount: timedelta, *, unit: str = "hours") -> datetime:
        """The instant ``amount`` of working time after ``start``.

        ``unit="days"`` counts whole working days (``timedelta(days=3)`` is "3 working
        days": the same wall-clock time on the third working day after ``start``, or the
        end of that day's working hours if the time falls outside them); ``unit="hours"``
        counts working time within working hours.
        """
        ...

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero if ``end`` is not after ``start``)."""
        ...


#: The units :meth:`WorkingCalendar.add` and :func:`add_duration` accept.
UNITS: tuple[str, ...] = ("hours", "days", "elapsed")

#: What kind of day a :class:`DayInfo` describes, with its names in both languages.
DAY_KIND_NAMES: dict[str, Names] = {
    "workday": Names("working day", "工作日"),
    "weekend": Names("weekend", "周末"),
    "holiday": Names("holiday", "节假日"),
    "makeup": Names("make-up working day", "调休上班"),
}

#: How well a calendar knows a day: from its data or a given arrangement, from its stated
#: fallback, or not at all.
EXACTNESS: tuple[str, ...] = ("exact", "provisional", "unknown")
#: Display names of :data:`EXACTNESS`.
EXACTNESS_NAMES: dict[str, Names] = {
    "exact": Names("exact", "准确"),
    "provisional": Names("provisional", "暂定"),
    "unknown": Names("unknown", "未知"),
}

_DAY = 86_400


@attrs.frozen
class DayInfo:
    """Whether a day is worked, and why.

    ``kind`` is ``workday``, ``weekend``, ``holiday`` (a closed date: a public holiday or a
    configured closing) or ``makeup`` (an extra working date, e.g. a weekend day worked in
    exchange for a holiday, 调休). ``name`` names the holiday or make-up day when known.
    """

    day: date
    working: bool
    kind: str
    name: Names | None = None
    #: True when the day comes from the calendar's :class:`Fallback`, not from exact data.
    provisional: bool = False

    def describe(self, lang: str = "en") -> str:
        """E.g. ``holiday: National Day`` or ``节假日：国庆节``; a provisional day says so."""
        kind = DAY_KIND_NAMES[self.kind].get(lang)
        if self.name is not None:
            kind = f"{kind}：{self.name.get(lang)}" if lang == "zh" else f"{kind}: {self.name.en}"
        if self.provisional:
            kind += "（暂定）" if lang == "zh" else " (provisional)"
        return kind


@attrs.frozen
class AlwaysOpen:
    """The 24×7 calendar: every hour of every day is working time, so working time is elapsed
    time. It knows every date."""

    name: str = "24x7"
    timezone: str = "UTC"
    description: str = "every hour of every day (24×7)"

    def is_working_day(self, day: date) -> bool:
        """Every day is worked."""
        return True

    def add(self, start: datetime, amount: timedelta, *, unit: str = "hours") -> datetime:
        """``start + amount``, in the calendar's zone (whole days for ``unit="days"``)."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, got {start.isoformat()}")
        if amount < timedelta(0):
            raise ValueError(f"cannot add a negative amount of time ({amount})")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        if unit == "days" and amount % timedelta(days=1):
            raise ValueError(f"working days must be whole days, got {amount}")
        return (start + amount).astimezone(ZoneInfo(self.timezone))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The elapsed time from ``start`` to ``end`` (zero if ``end`` is not after it)."""
        return max(end - start, timedelta(0))


def always_open(timezone: str = "UTC", name: str = "24x7") -> AlwaysOpen:
    """The 24×7 calendar: every hour of every day is working time (elapsed time)."""
    return AlwaysOpen(name=name, timezone=timezone)


def exactness_of(calendar: BusinessCalendar, day: date) -> str:
    """How ``calendar`` knows ``day`` (one of :data:`EXACTNESS`), for any calendar: one without
    :meth:`WorkingCalendar.exactness` is exact where it answers and unknown where it raises
    :class:`~complaintkit.errors.CalendarRangeError`."""
    method = getattr(calendar, "exactness", None)
    if method is not None:
        return str(method(day))
    try:
        calendar.is_working_day(day)
    except CalendarRangeError:
        return "unknown"
    return "exact"


def provisional_years(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> tuple[int, ...]:
    """The years whose provisional days a computation from ``start`` to ``end`` passed through
    (dates in the calendar's zone); () for an exact stretch or a calendar without a fallback."""
    method = getattr(calendar, "provisional_years", None)
    if method is None:
        return ()
    zone = ZoneInfo(calendar.timezone)
    first, last = sorted((start.astimezone(zone).date(), end.astimezone(zone).date()))
    return tuple(method(first, last))


def add_duration(
    calendar: BusinessCalendar, start: datetime, amount: timedelta, unit: str
) -> datetime:
    """``calendar.add(start, amount, unit=unit)``, with ``unit="elapsed"`` for any calendar."""
    if unit == "elapsed":
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, got {start.isoformat()}")
        if amount < timedelta(0):
            raise ValueError(f"cannot add a negative amount of time ({amount})")
        return (start + amount).astimezone(ZoneInfo(calendar.timezone))
    return calendar.add(start, amount, unit=unit)


# --- parsing configuration values ---------------------------------------------------------

_EN_DURATION = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<work>working|business|work)?\s*"
    r"(?P<unit>days?|d|hours?|hrs?|h|minutes?|mins?|m|wd|wh)$"
)
_ZH_DURATION = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*个?\s*(?P<work>工作)?\s*(?P<unit>日|天|小时|钟头|时|分钟)$"
)
_UNIT_SECONDS = {"d": _DAY, "h": 3600, "m": 60}
_UNIT_KEYS = {
    **dict.fromkeys(("day", "days", "d", "wd", "日", "天"), "d"),
    **dict.fromkeys(("hour", "hours", "hr", "hrs", "h", "wh", "小时", "钟头", "时"), "h"),
    **dict.fromkeys(("minute", "minutes", "min", "mins", "m", "分钟"), "m"),
}


def parse_duration(text: str) -> tuple[timedelta, str]:
    """Read an SLA amount: ``(amount, unit)`` for :meth:`WorkingCalendar.add`.

    * working days → unit ``"days"``: ``3 working days``, ``3 business days``, ``3wd``,
      ``3个工作日``, ``3工作日`` (whole days only);
    * working hours or minutes → unit ``"hours"``: ``4 working hours``, ``4 business hours``,
      ``4wh``, ``30 working minutes``, ``4个工作小时``, ``4工作小时``, ``1.5 working hours``;
    * anything else is elapsed time → unit ``"elapsed"`` (the calendar is ignored): ``24 hours``,
      ``24h``, ``2d``, ``2 days``, ``90m``, ``90 minutes``, ``24小时``, ``2天``, ``30分钟``.

    Raises :class:`ValueError` naming the text and the accepted forms.
    """
    if not isinstance(text, str):
        raise ValueError(f"a duration must be text such as '3 working days', got {text!r}")
    cleaned = " ".join(text.strip().lower().split())
    match = _EN_DURATION.match(cleaned) or _ZH_DURATION.match(cleaned.replace(" ", ""))
    if not match:
        raise ValueError(
            f"{text!r} is not a duration; write e.g. '3 working days', '4 working hours', "
            "'24 hours', '2d', '90m', '3个工作日', '4个工作小时' or '24小时'"
        )
    number = float(match["n"])
    unit_word = match["unit"]
    key = _UNIT_KEYS[unit_word]
    working = bool(match["work"]) or unit_word in ("wd", "wh")
    amount = timedelta(seconds=number * _UNIT_SECONDS[key])
    if number <= 0:
        raise ValueError(f"{text!r}: a duration must be more than zero")
    if not working:
        return amount, "elapsed"
    if key == "d":
        if number != int(number):
            raise ValueError(f"{text!r}: working days must be whole (use working hours for parts)")
        return amount, "days"
    return amount, "hours"
