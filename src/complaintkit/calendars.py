"""Business calendars: which hours count as working time, and arithmetic over them.

A calendar plugin registers :class:`BusinessCalendar` objects through the
``register_business_calendars`` hook. SLA deadlines ("reply within 3 working days") are
computed with :meth:`BusinessCalendar.add` and time used with :meth:`BusinessCalendar.between`,
so that pausing, re-classification and calendar changes replay deterministically from a
complaint's history.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["BusinessCalendar"]


@runtime_checkable
class BusinessCalendar(Protocol):
    """Working time in one place: days that are worked, and hours on those days.

    Every method takes and returns timezone-aware datetimes; results are in the calendar's own
    time zone. A calendar that does not know a date (e.g. a holiday table that ends) raises
    :class:`~complaintkit.errors.CalendarRangeError` instead of guessing.
    """

    name: str
    description: str
    timezone: str

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
