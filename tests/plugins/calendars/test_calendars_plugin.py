"""The calendars plugin: cn with 调休 (checked day by day), countries, and configured calendars."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from calendar_support import at, host_with

from complaintkit import ConfigError, PluginHost, load_config, make_host
from complaintkit.errors import CalendarRangeError, UnknownSchemeError
from complaintkit_calendars.plugin import build_calendars, chinese_years
from complaintkit_calendars.working import WorkingCalendar


@pytest.fixture
def cn(ck_host: PluginHost) -> WorkingCalendar:
    calendar = ck_host.calendar("cn")
    assert isinstance(calendar, WorkingCalendar)
    return calendar


# National Day 2025 (国庆节 + 中秋节): Oct 1–8 off; Sun Sep 28 and Sat Oct 11 are worked.
NATIONAL_DAY_2025 = {
    date(2025, 9, 26): (True, "workday"),
    date(2025, 9, 27): (False, "weekend"),
    date(2025, 9, 28): (True, "makeup"),
    date(2025, 9, 29): (True, "workday"),
    date(2025, 9, 30): (True, "workday"),
    **{date(2025, 10, d): (False, "holiday") for d in range(1, 9)},
    date(2025, 10, 9): (True, "workday"),
    date(2025, 10, 10): (True, "workday"),
    date(2025, 10, 11): (True, "makeup"),
    date(2025, 10, 12): (False, "weekend"),
    date(2025, 10, 13): (True, "workday"),
}


def test_national_day_2025_day_by_day(cn: WorkingCalendar) -> None:
    for day, (working, kind) in NATIONAL_DAY_2025.items():
        info = cn.day_info(day)
        assert (info.working, info.kind) == (working, kind), day
        assert cn.is_working_day(day) is working
        # and the package itself agrees, day by day
        assert chinese_calendar.is_workday(day) is working, day
    assert cn.day_info(date(2025, 10, 1)).describe("zh") == "节假日：国庆节"
    assert cn.day_info(date(2025, 10, 6)).describe() == "holiday: Mid-autumn Festival"
    assert cn.day_info(date(2025, 9, 28)).describe("zh") == "调休上班：国庆节"


def test_cn_matches_the_package_on_every_covered_day(cn: WorkingCalendar) -> None:
    first, last = chinese_years()
    day = date(first, 1, 1)
    mismatches = []
    while day <= date(last, 12, 31):
        if cn.is_working_day(day) is not chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        # the eve of National Day, in office hours: Oct 9, Oct 10, make-up Sat Oct 11
        (at(2025, 9, 30, 17), at(2025, 10, 11, 17)),
        (at(2025, 9, 30, 10, 30), at(2025, 10, 11, 10, 30)),
        # the eve, after hours: the clock starts Oct 9 09:00; three full days end Oct 11 18:00
        (at(2025, 9, 30, 19), at(2025, 10, 11, 18)),
        # received during the holiday: the same
        (at(2025, 10, 3, 11), at(2025, 10, 11, 18)),
        # the make-up Sunday before: Sep 29, Sep 30, Oct 9
        (at(2025, 9, 28, 15), at(2025, 10, 9, 15)),
    ],
)
def test_three_working_days_around_national_day(
    cn: WorkingCalendar, start: datetime, deadline: datetime
) -> None:
    result = cn.add(start, timedelta(days=3), unit="days")
    assert result == deadline
    assert str(result.tzinfo) == "Asia/Shanghai"


def test_working_hours_over_national_day(cn: WorkingCalendar) -> None:
    # 17:00 on the eve: 1 hour that day, then 3 + 4.5 on Oct 9, so 8 hours end Oct 10 09:30
    assert cn.add(at(2025, 9, 30, 17), timedelta(hours=8)) == at(2025, 10, 9, 17, 30)
    assert cn.add(at(2025, 9, 30, 17), timedelta(hours=9)) == at(2025, 10, 10, 9, 30)
    assert cn.between(at(2025, 9, 30, 17), at(2025, 10, 9, 17, 30)) == timedelta(hours=8)
    # the holiday week itself holds no working time
    assert cn.between(at(2025, 10, 1), at(2025, 10, 9)) == timedelta(0)


def test_cn_is_exact_for_its_years_and_provisional_after(cn: WorkingCalendar) -> None:
    first, last = chinese_years()
    assert first == 2004 and last >= 2026
    assert f"{first}–{last}" in cn.description
    assert cn.covered_years == f"{first}–{last}"
    assert cn.exactness(date(last, 12, 31)) == "exact"
    assert cn.exactness(date(last + 1, 3, 2)) == "provisional"
    # beyond what the holidays package computes, and before it, nothing is guessed
    with pytest.raises(CalendarRangeError, match=rf"'cn' covers only {first}–{last}") as info:
        cn.is_working_day(date(2101, 3, 2))
    assert "2101-03-02" in str(info.value)
    with pytest.raises(CalendarRangeError):
        cn.is_working_day(date(1949, 12, 31))


def test_fallback_false_refuses_years_without_exact_data(tmp_path: Path) -> None:
    _, last = chinese_years()
    strict = host_with(tmp_path, "[calendars.cn]\nfallback = false\n").calendar("cn")
    assert strict.exactness(date(last + 1, 1, 4)) == "unknown"
    with pytest.raises(CalendarRangeError):
        strict.add(at(last, 12, 30, 10), timedelta(days=5), unit="days")


def test_country_calendar_from_the_holidays_package(ck_host: PluginHost) -> None:
    us = ck_host.calendar("us")
    assert us.timezone == "America/New_York"
    assert not us.is_working_day(date(2026, 7, 3))  # Independence Day observed (a Friday)
    assert not us.is_working_day(date(2026, 11, 26))  # Thanksgiving
    assert us.is_working_day(date(2026, 11, 25))
    ny = ZoneInfo("America/New_York")
    # Wednesday before Thanksgiving, 17:00 + 2 working hours → Friday 10:00
    assert us.add(datetime(2026, 11, 25, 17, tzinfo=ny), timedelta(hours=2)) == datetime(
        2026, 11, 27, 10, tzinfo=ny
    )
    hk = ck_host.calendar("hk")
    assert isinstance(hk, WorkingCalendar)
    info = hk.day_info(date(2025, 10, 1))
    assert info.kind == "holiday" and info.name is not None
    assert info.name.en == "National Day" and info.name.zh != ""


def test_default_calendar(tmp_path: Path, ck_host: PluginHost) -> None:
    assert ck_host.default_calendar().name == "24x7"
    host = host_with(tmp_path, '[calendars]\ndefault = "cn"\n')
    assert host.default_calendar().name == "cn"
    host = host_with(tmp_path, '[calendars]\ndefault = "mars"\n')
    with pytest.raises(UnknownSchemeError, match="unknown calendar 'mars'; known: 24x7, cn"):
        host.default_calendar()


def test_24x7_uses_the_configured_time_zone(tmp_path: Path) -> None:
    host = host_with(tmp_path, 'timezone = "Asia/Shanghai"\n')
    assert host.calendar("24x7").timezone == "Asia/Shanghai"


CUSTOM = """
timezone = "Asia/Shanghai"

[calendars.cn]
hours = ["08:30-12:00", "13:00-17:30"]

[calendars.store]
base = "cn"
hours = ["10:00-22:00"]
weekend = []
closed = ["2025-10-09"]
open = ["2025-10-05"]
description = "Shanghai flagship store"

[calendars.us-office]
country = "US"
subdivision = "CA"
timezone = "America/Los_Angeles"
hours = ["09:00-17:00"]

[calendars.plain]
weekend = ["fri", "sat"]
closed = [2026-12-03]
"""


def test_custom_calendars_from_configuration(tmp_path: Path) -> None:
    host = host_with(tmp_path, CUSTOM)
    cn = host.calendar("cn")
    # hours 08:30-17:30: half an hour on the eve, half an hour after the holiday
    assert cn.add(at(2025, 9, 30, 17), timedelta(hours=1)) == at(2025, 10, 9, 9)
    store = host.calendar("store")
    assert isinstance(store, WorkingCalendar)
    assert store.description == "Shanghai flagship store"
    assert store.is_working_day(date(2025, 9, 27))  # a Saturday: the store opens at weekends
    assert not store.is_working_day(date(2025, 10, 3))  # the holiday is inherited from cn
    assert store.is_working_day(date(2025, 10, 5))  # open by configuration
    assert store.day_info(date(2025, 10, 5)).kind == "makeup"
    assert not store.is_working_day(date(2025, 10, 9))  # closed by configuration
    assert store.add(at(2025, 10, 5, 21), timedelta(hours=2)) == at(2025, 10, 10, 11)
    with pytest.raises(CalendarRangeError):
        store.is_working_day(date(1949, 5, 1))
    office = host.calendar("us-office")
    assert office.timezone == "America/Los_Angeles"
    assert not office.is_working_day(date(2026, 3, 31))  # César Chávez Day in California
    assert host.calendar("us").is_working_day(date(2026, 3, 31))
    plain = host.calendar("plain")
    assert plain.timezone == "Asia/Shanghai"
    assert [plain.is_working_day(date(2026, 12, d)) for d in range(1, 8)] == [
        True,  # Tue
        True,
        False,  # Thu, closed
        False,  # Fri, weekend
        False,
        True,  # Sun
        True,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[calendars.x]\nhourz = []\n",
            r"calendars.x: unknown setting\(s\) hourz \(did you mean hours\?\)",
        ),
        ('[calendars.x]\nhours = ["9-17"]\n', r"calendars.x.hours: '9-17' is not HH:MM"),
        ('[calendars.x]\nhours = "09:00-17:00"\n', r"calendars.x.hours: give a list"),
        ('[calendars.x]\nweekend = ["caturday"]\n', r"calendars.x.weekend: 'caturday'"),
        (
            '[calendars.x]\nclosed = ["2026-13-01"]\n',
            r"calendars.x.closed\[1\]: expected a date such as 2026-10-09, got '2026-13-01'",
        ),
        ("[calendars.x]\nclosed = 3\n", r"calendars.x.closed: expected an array \[...\], got 3"),
        ('[calendars.x]\nbase = "mars"\n', r"calendars.x.base: unknown calendar 'mars'"),
        ('[calendars.x]\nbase = "y"\n[calendars.y]\nbase = "x"\n', "cycle: x → y → x"),
        ('[calendars.x]\ncountry = "XX"\n', r"calendars.x: the holidays package"),
        ('[calendars.x]\ncountry = "US"\nsubdivision = "ZZ"\n', "subdivision ZZ"),
        (
            '[calendars.x]\nbase = "cn"\ncountry = "US"\n',
            "calendars.x.country: give base or country, not both",
        ),
        (
            '[calendars.x]\nsubdivision = "CA"\n',
            "calendars.x.subdivision: subdivision needs country",
        ),
        ('[calendars.x]\ntimezone = "Mars/Base"\n', "unknown time zone 'Mars/Base'"),
        ('[calendars.cn]\nbase = "24x7"\n', "'cn' is a built-in calendar"),
        (
            '[calendars.x]\nbase = "cn"\nclosed = ["2101-01-02"]\n',
            r"2101-01-02 is outside the years this calendar covers \(2004",
        ),
        (
            '[calendars.x]\nclosed = ["2026-10-01"]\nopen = ["2026-10-01"]\n',
            "calendars.x.open: 2026-10-01 is both in closed and in open",
        ),
        (
            "[calendars]\ndefalt = 1\n",
            r"calendars: unknown setting\(s\) defalt; \[calendars\] takes default",
        ),
    ],
)
def test_configuration_errors_name_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "complaintkit.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        build_calendars(load_config(path, env={}))
    assert str(path) in str(info.value)
    # through the host, the error stops the command rather than being skipped
    with pytest.raises(ConfigError):
        make_host(load_config(path, env={}), env={}).calendars()
