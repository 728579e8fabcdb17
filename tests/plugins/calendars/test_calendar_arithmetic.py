"""Working-time arithmetic of WorkingCalendar, with properties checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaintkit import Names
from complaintkit.calendars import BusinessCalendar, add_duration, parse_duration
from complaintkit.errors import CalendarRangeError
from complaintkit_calendars.working import (
    WorkingCalendar,
    always_open,
    parse_hours,
    parse_weekend,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = WorkingCalendar(
    name="office",
    timezone="Asia/Shanghai",
    hours=parse_hours(["09:00-12:00", "13:30-18:00"]),
    closed={date(2026, 10, 1): Names("National Day", "国庆节")},
    open={date(2026, 10, 10): Names("make-up", "调休")},
)
# Working hours across the night of a DST change (New York: 2026-03-08 02:00 → 03:00 and
# 2026-11-01 02:00 → 01:00), on every day of the week.
NIGHT_SHIFT = WorkingCalendar(
    name="night",
    timezone="America/New_York",
    hours=parse_hours(["00:00-04:00", "09:00-17:00", "22:00-24:00"]),
    weekend=frozenset(),
)
EUROPE = WorkingCalendar(
    name="berlin",
    timezone="Europe/Berlin",
    hours=parse_hours(["08:00-12:00", "13:00-17:00"]),
    closed={date(2026, 12, 25): Names("Christmas", "圣诞节")},
)
CALENDARS = [
    OFFICE,
    NIGHT_SHIFT,
    EUROPE,
    always_open("Asia/Shanghai"),
    always_open("Europe/London"),
]


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz)


# --- examples --------------------------------------------------------------------------------


def test_working_calendar_implements_the_protocol() -> None:
    assert isinstance(OFFICE, BusinessCalendar)
    assert isinstance(always_open(), BusinessCalendar)


def test_hours_count_only_inside_working_intervals() -> None:
    # 17:00 + 1h is the close of the day, not the next opening
    assert OFFICE.add(at(2026, 11, 24, 17), timedelta(hours=1)) == at(2026, 11, 24, 18)
    assert OFFICE.add(at(2026, 11, 24, 17), timedelta(hours=2)) == at(2026, 11, 25, 10)
    # the lunch break does not count
    assert OFFICE.add(at(2026, 11, 24, 11), timedelta(hours=2)) == at(2026, 11, 24, 14, 30)
    # a Friday evening complaint: the clock runs from Monday 09:00
    assert OFFICE.add(at(2026, 11, 27, 20), timedelta(hours=4)) == at(2026, 11, 30, 14, 30)
    assert OFFICE.between(at(2026, 11, 24, 17), at(2026, 11, 25, 10)) == timedelta(hours=2)


def test_days_keep_the_wall_clock_time() -> None:
    # Tuesday 10:15 + 3 working days = Friday 10:15
    assert OFFICE.add(at(2026, 11, 24, 10, 15), timedelta(days=3), unit="days") == at(
        2026, 11, 27, 10, 15
    )
    # after hours: the clock starts at the next opening, and a deadline at an opening is said
    # as the close of the day before (same working time): Tuesday 20:00 + 3 → Friday 18:00
    assert OFFICE.add(at(2026, 11, 24, 20), timedelta(days=3), unit="days") == at(2026, 11, 27, 18)
    # in the lunch break: counted from 13:30
    assert OFFICE.add(at(2026, 11, 24, 12, 30), timedelta(days=1), unit="days") == at(
        2026, 11, 25, 13, 30
    )
    # over a closed day and onto a make-up Saturday
    assert OFFICE.add(at(2026, 9, 30, 17), timedelta(days=1), unit="days") == at(2026, 10, 2, 17)
    assert OFFICE.add(at(2026, 10, 9, 11), timedelta(days=1), unit="days") == at(2026, 10, 10, 11)
    assert OFFICE.add(at(2026, 11, 24, 20), timedelta(0), unit="days") == at(2026, 11, 25, 9)


def test_thirty_working_days() -> None:
    result = OFFICE.add(at(2026, 11, 2, 10), timedelta(days=30), unit="days")
    assert result == at(2026, 12, 14, 10)
    assert OFFICE.between(at(2026, 11, 2, 10), result) == timedelta(hours=30 * 7.5)


def test_24x7_is_elapsed_time() -> None:
    cal = always_open("America/New_York")
    start = at(2026, 3, 7, 12, tz=NEW_YORK)
    # across the spring-forward night 24 working hours are 24 real hours: 13:00 local next day
    assert cal.add(start, timedelta(hours=24)) == at(2026, 3, 8, 13, tz=NEW_YORK)
    assert cal.add(start, timedelta(days=1), unit="days") == at(2026, 3, 8, 12, tz=NEW_YORK)
    assert cal.between(start, at(2026, 3, 8, 12, tz=NEW_YORK)) == timedelta(hours=23)


def test_dst_night_interval_is_an_hour_shorter_and_longer() -> None:
    spring = date(2026, 3, 8)
    autumn = date(2026, 11, 1)
    night = NIGHT_SHIFT.working_periods(spring)[0]
    assert night[1] - night[0] == timedelta(hours=3)
    night = NIGHT_SHIFT.working_periods(autumn)[0]
    assert night[1] - night[0] == timedelta(hours=5)


def test_elapsed_unit_ignores_the_calendar() -> None:
    start = at(2026, 11, 27, 20)
    assert OFFICE.add(start, timedelta(hours=24), unit="elapsed") == at(2026, 11, 28, 20)
    assert add_duration(OFFICE, start, timedelta(hours=24), "elapsed") == at(2026, 11, 28, 20)
    assert add_duration(OFFICE, start, timedelta(hours=1), "hours") == at(2026, 11, 30, 10)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.add(datetime(2026, 1, 5, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add(at(2026, 1, 5, 9), timedelta(hours=-1))
    with pytest.raises(ValueError, match="whole days"):
        OFFICE.add(at(2026, 1, 5, 9), timedelta(hours=36), unit="days")
    with pytest.raises(ValueError, match="unknown unit"):
        OFFICE.add(at(2026, 1, 5, 9), timedelta(hours=1), unit="weeks")
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar(name="x", timezone="Mars/Olympus")


def test_covered_range_fails_loudly() -> None:
    cal = WorkingCalendar(name="short", covered=(date(2026, 1, 1), date(2026, 12, 31)))
    assert cal.covers(date(2026, 6, 1)) and not cal.covers(date(2027, 1, 1))
    with pytest.raises(CalendarRangeError) as info:
        cal.is_working_day(date(2027, 1, 4))
    message = str(info.value)
    assert "'short'" in message and "2027-01-04" in message and "2026" in message
    # arithmetic that runs past the end of the range fails too
    with pytest.raises(CalendarRangeError):
        cal.add(datetime(2026, 12, 30, 10, tzinfo=UTC), timedelta(days=5), unit="days")
    with pytest.raises(CalendarRangeError):
        cal.between(datetime(2025, 12, 30, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC))


def test_a_sum_asked_again_is_the_same_and_a_failure_fails_again() -> None:
    # The calendar keeps the sums it computed (many complaints share a receipt instant): the
    # same instant named in another zone gets the same answer, in the calendar's zone, and an
    # amount that runs past the covered range raises every time it is asked.
    cal = WorkingCalendar(
        name="short", timezone="Asia/Shanghai", covered=(date(2026, 1, 1), date(2026, 12, 31))
    )
    start = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)  # a Friday, an hour before closing
    first = cal.add(start, timedelta(hours=3))
    assert first == datetime(2026, 3, 9, 11, 0, tzinfo=SHANGHAI) and first.tzinfo == SHANGHAI
    assert cal.add(start.astimezone(NEW_YORK), timedelta(hours=3)) == first
    assert cal.add(start, timedelta(hours=3), unit="elapsed") == start + timedelta(hours=3)
    assert cal.add(start, timedelta(days=1), unit="days") == datetime(
        2026, 3, 9, 17, 0, tzinfo=SHANGHAI
    )
    late = datetime(2026, 12, 30, 10, tzinfo=UTC)
    for _ in range(2):
        with pytest.raises(CalendarRangeError):
            cal.add(late, timedelta(days=5), unit="days")
        with pytest.raises(CalendarRangeError):
            cal.is_working_day(date(2027, 1, 4))


def test_a_calendar_without_working_days_says_so() -> None:
    never = WorkingCalendar(name="never", weekend=frozenset(range(7)))
    with pytest.raises(Exception, match="no working time"):
        never.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3 working days", timedelta(days=3), "days"),
        ("1 business day", timedelta(days=1), "days"),
        ("3wd", timedelta(days=3), "days"),
        ("4 working hours", timedelta(hours=4), "hours"),
        ("1.5 working hours", timedelta(minutes=90), "hours"),
        ("30 working minutes", timedelta(minutes=30), "hours"),
        ("24 hours", timedelta(hours=24), "elapsed"),
        ("24h", timedelta(hours=24), "elapsed"),
        ("2d", timedelta(days=2), "elapsed"),
        ("90m", timedelta(minutes=90), "elapsed"),
        ("  90  Minutes ", timedelta(minutes=90), "elapsed"),
        ("3个工作日", timedelta(days=3), "days"),
        ("3 工作日", timedelta(days=3), "days"),
        ("4个工作小时", timedelta(hours=4), "hours"),
        ("4工作小时", timedelta(hours=4), "hours"),
        ("24小时", timedelta(hours=24), "elapsed"),
        ("2天", timedelta(days=2), "elapsed"),
        ("30分钟", timedelta(minutes=30), "elapsed"),
    ],
)
def test_parse_duration(text: str, amount: timedelta, unit: str) -> None:
    assert parse_duration(text) == (amount, unit)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "not a duration"),
        ("3 weeks", "not a duration"),
        ("1.5 working days", "whole"),
        ("0 hours", "more than zero"),
        ("-3 days", "not a duration"),
    ],
)
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_parse_hours_and_weekend() -> None:
    assert parse_hours(["09:00-12:00", "13:30-18:00"]) == ((32400, 43200), (48600, 64800))
    assert parse_hours(["00:00-24:00"]) == ((0, 86400),)
    for bad, message in [
        (["9-12"], "HH:MM"),
        (["12:00-09:00"], "ends before"),
        (["09:00-13:00", "12:00-18:00"], "overlaps"),
        (["09:00-25:00"], "impossible"),
        ([], "at least one"),
        ("09:00-18:00", "list"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_hours(bad)
    assert parse_weekend(["Fri", "saturday"]) == frozenset({4, 5})
    assert parse_weekend(["周六", "星期日"]) == frozenset({5, 6})
    with pytest.raises(ValueError, match="not a day of the week"):
        parse_weekend(["sabbath"])


# --- properties ------------------------------------------------------------------------------

calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20), timezones=st.just(UTC)
)
amounts = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))
day_counts = st.integers(min_value=0, max_value=30)


def inside_working_time(cal: WorkingCalendar, moment: datetime) -> bool:
    return cal.is_working_time(moment)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts)
def test_add_then_between_gives_the_amount(
    cal: WorkingCalendar, start: datetime, amount: timedelta
) -> None:
    end = cal.add(start, amount)
    assert end.tzinfo is not None and end.utcoffset() == cal.zone.utcoffset(
        end.replace(tzinfo=None)
    )
    assert end >= start
    assert cal.between(start, end) == amount
    assert inside_working_time(cal, end)


@settings(max_examples=300, deadline=None)
@given(calendars, instants, amounts, amounts)
def test_add_is_additive_and_monotonic(
    cal: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)
    small, large = sorted((a, b))
    assert cal.add(start, small) <= cal.add(start, large)


@settings(max_examples=200, deadline=None)
@given(calendars, instants, instants)
def test_between_is_monotonic_and_bounded(
    cal: WorkingCalendar, first: datetime, second: datetime
) -> None:
    start, end = sorted((first, second))
    worked = cal.between(start, end)
    assert timedelta(0) <= worked <= end - start
    assert cal.between(end, start) == timedelta(0)
    # the instant that much working time after start is not after end (with no working time
    # in between, add(start, 0) is the next working time, which may well be after end)
    if worked:
        assert cal.add(start, worked) <= end


@settings(max_examples=200, deadline=None)
@given(calendars, instants, day_counts, day_counts)
def test_working_days_land_in_working_time_and_grow(
    cal: WorkingCalendar, start: datetime, n: int, m: int
) -> None:
    end = cal.add(start, timedelta(days=n), unit="days")
    assert inside_working_time(cal, end)
    assert end >= start
    if n:
        # the deadline is on a working day and some working time has passed
        assert cal.is_working_day(end.date())
        assert cal.between(cal.next_working_time(start), end) > timedelta(0)
    small, large = sorted((n, m))
    assert cal.add(start, timedelta(days=small), unit="days") <= cal.add(
        start, timedelta(days=large), unit="days"
    )


@settings(max_examples=200, deadline=None)
@given(instants, day_counts)
def test_working_days_count_whole_days_on_office_calendar(start: datetime, n: int) -> None:
    # With the same hours every day, n working days are n days' worth of working time.
    end = OFFICE.add(start, timedelta(days=n), unit="days")
    assert OFFICE.between(OFFICE.next_working_time(start), end) == timedelta(hours=7.5 * n)
