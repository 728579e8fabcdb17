"""Calendars past their data: a year's official arrangement, the provisional fallback, and
``calendars check`` that warns before a year runs out."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from calendar_support import at, host_with
from click.testing import CliRunner

from complaintkit import ConfigError, PluginHost, load_config, make_host
from complaintkit.calendars import exactness_of, provisional_years
from complaintkit_calendars.plugin import chinese_years
from complaintkit_calendars.working import WorkingCalendar
from complaintkit_cli.main import cli

LAST = chinese_years()[1]
NEXT = LAST + 1

# An arrangement in the shape of the State Council's notice (the dates are an example).
ARRANGEMENT = f"""\
year = {NEXT}
source = "example notice"

[[holidays]]
name = "New Year's Day"
name_zh = "元旦"
from = {NEXT}-01-01
to = {NEXT}-01-03

[[holidays]]
name = "Spring Festival"
name_zh = "春节"
from = {NEXT}-02-05
to = {NEXT}-02-12

[[workdays]]
name = "Spring Festival"
name_zh = "春节"
dates = [{NEXT}-02-14, {NEXT}-02-20]
"""


def cn_of(host: PluginHost) -> WorkingCalendar:
    calendar = host.calendar("cn")
    assert isinstance(calendar, WorkingCalendar)
    return calendar


def test_a_year_without_data_is_provisional_with_lunar_holidays(ck_host: PluginHost) -> None:
    cn = cn_of(ck_host)
    assert cn.exactness(date(LAST, 12, 31)) == "exact"
    assert cn.exactness(date(NEXT, 1, 4)) == "provisional"
    if NEXT == 2027:
        # Spring Festival 2027 falls on 6 February (computed from the lunar calendar by the
        # holidays package, never by us); Mid-autumn on 15 September
        for day in (date(2027, 2, 6), date(2027, 9, 15), date(2027, 10, 1)):
            info = cn.day_info(day)
            assert (info.working, info.kind, info.provisional) == (False, "holiday", True), day
        assert cn.day_info(date(2027, 2, 6)).describe("zh") == "节假日：春节（暂定）"
    info = cn.day_info(date(NEXT, 1, 4) + timedelta(days=(7 - date(NEXT, 1, 4).weekday()) % 7))
    assert info.working and info.provisional and info.describe().endswith("(provisional)")
    assert "holidays" in cn.basis(date(NEXT, 6, 1)).en
    assert "周末" in cn.basis(date(NEXT, 6, 1)).zh


def test_provisional_years_of_a_computation_across_new_year(ck_host: PluginHost) -> None:
    cn = cn_of(ck_host)
    start = at(LAST, 12, 30, 16)
    end = cn.add(start, timedelta(days=3), unit="days")
    assert end.year == NEXT
    assert provisional_years(cn, start, end) == (NEXT,)
    assert provisional_years(cn, at(LAST, 12, 1, 10), at(LAST, 12, 4, 10)) == ()
    assert exactness_of(cn, date(2101, 1, 1)) == "unknown"


def test_an_arrangement_file_makes_the_year_exact(tmp_path: Path) -> None:
    (tmp_path / "cn-next.toml").write_text(ARRANGEMENT, encoding="utf-8")
    host = host_with(tmp_path, '[calendars.cn]\narrangements = ["cn-next.toml"]\n')
    cn = cn_of(host)
    assert cn.exactness(date(NEXT, 7, 1)) == "exact"
    assert cn.covered_years == f"2004–{NEXT}"
    assert cn.day_info(date(NEXT, 1, 3)).kind == "holiday"
    assert cn.day_info(date(NEXT, 2, 12)).describe("zh") == "节假日：春节"
    makeup = cn.day_info(date(NEXT, 2, 14))
    assert (makeup.working, makeup.kind, makeup.provisional) == (True, "makeup", False)
    # the arrangement replaces the fallback: an "observed" day it does not list is worked
    assert cn.provisional_years(date(NEXT, 1, 1), date(NEXT, 12, 31)) == ()
    assert "example notice" in cn.basis(date(NEXT, 3, 1)).en
    # and the year after stays provisional
    assert cn.exactness(date(NEXT + 1, 1, 4)) == "provisional"


def test_an_arrangement_in_the_configuration_is_preferred_over_the_package(
    tmp_path: Path,
) -> None:
    # 2025: the package has National Day Oct 1-8 with Sep 28 and Oct 11 worked. A (made-up)
    # arrangement given for 2025 wins for the whole year.
    host = host_with(
        tmp_path,
        "[calendars.cn.years.2025]\n"
        'source = "test"\n'
        'holidays = [{ name = "National Day", name_zh = "国庆节", from = 2025-10-01, '
        "to = 2025-10-03 }]\n",
    )
    cn = cn_of(host)
    assert not cn.is_working_day(date(2025, 10, 2))
    assert cn.is_working_day(date(2025, 10, 8))  # the package says holiday
    assert not cn.is_working_day(date(2025, 9, 28))  # the package says make-up day
    # the arrangement replaces the package's whole year: a day it does not list is ordinary
    assert cn.day_info(date(2025, 1, 1)).kind == "workday"
    assert cn.day_info(date(2024, 10, 1)).kind == "holiday"  # other years keep the package


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            f'holidays = [{{ name = "X", name_zh = "X", dates = ["{NEXT + 1}-01-01"] }}]',
            rf"holidays\[1\]: {NEXT + 1}-01-01 is not in {NEXT}",
        ),
        (
            f'holidays = [{{ name = "X", name_zh = "甲", dates = ["{NEXT}-01-01"] }}]\n'
            f'workdays = [{{ name = "Y", name_zh = "乙", dates = ["{NEXT}-01-01"] }}]',
            rf"{NEXT}-01-01 is both a holiday \(X\) and a working day \(Y\)",
        ),
        (
            f'holidays = [{{ name = "New Year", dates = ["{NEXT}-01-01"] }}]',
            r"holidays\[1\].name_zh: missing \(this setting is required\)",
        ),
        (
            f'holidays = [{{ name = "New Year", name_zh = "元旦", date = "{NEXT}-01-01" }}]',
            r"holidays\[1\]: unknown setting\(s\) date \(did you mean dates\?\); known: name, "
            "name_zh, dates, from, to",
        ),
        (
            f'holidays = [{{ name = "New Year", name_zh = " ", dates = ["{NEXT}-01-01"] }}]',
            r"holidays\[1\].name_zh: every entry needs its Chinese name",
        ),
        (
            f'holidays = [{{ name = "A", name_zh = "甲", from = "{NEXT}-01-03", '
            f'to = "{NEXT}-01-01" }}]',
            r"must be on or after from",
        ),
        (
            f'holidays = [{{ name = "A", name_zh = "甲", dates = ["{NEXT}-02-30"] }}]',
            rf"holidays\[1\].dates\[1\]: expected a date such as 2026-10-09, got '{NEXT}-02-30'",
        ),
        ("workdays = []", "list the year's holidays"),
        (
            "holydays = []\n" + f'holidays = [{{ name = "A", name_zh = "甲", from = {NEXT}-01-01, '
            f"to = {NEXT}-01-02 }}]",
            rf"{NEXT}: unknown setting\(s\) holydays \(did you mean holidays\?\)",
        ),
    ],
)
def test_arrangement_mistakes_name_the_table_and_entry(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "complaintkit.toml"
    path.write_text(f"[calendars.cn.years.{NEXT}]\n{body}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        make_host(load_config(path, env={}), env={}).calendars()
    assert f"{path}: calendars.cn.years.{NEXT}" in str(info.value)


def test_arrangement_file_mistakes(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(ARRANGEMENT, encoding="utf-8")
    (tmp_path / "b.toml").write_text(ARRANGEMENT.replace("example", "another"), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{NEXT} is given twice, by .*a.toml"):
        host_with(tmp_path, '[calendars.cn]\narrangements = ["a.toml", "b.toml"]\n').calendars()
    with pytest.raises(ConfigError, match=r"missing.toml does not exist"):
        host_with(tmp_path, '[calendars.cn]\narrangements = ["missing.toml"]\n').calendars()
    (tmp_path / "c.toml").write_text(ARRANGEMENT.replace(f"year = {NEXT}", ""), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.toml: year: the year the arrangement is for"):
        host_with(tmp_path, '[calendars.cn]\narrangements = ["c.toml"]\n').calendars()
    with pytest.raises(
        ConfigError, match=r"calendars\.cn\.fallback: expected true or false, got 'no'"
    ):
        host_with(tmp_path, '[calendars.cn]\nfallback = "no"\n').calendars()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "complaintkit.toml"
    path.write_text(
        'timezone = "Asia/Shanghai"\n[sla]\ncalendar = "cn"\ndefault = "standard"\n'
        '[sla.policies.standard]\nresolve = "3 working days"\n' + extra,
        encoding="utf-8",
    )
    return path


def test_check_fails_when_a_calendar_in_use_runs_out_within_30_days(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    code, out, err = run(
        "--config", config, "calendars", "check", "--now", f"{LAST}-12-07",
        "--until", f"{NEXT}-02-28",
    )  # fmt: skip
    assert code == 1, out + err
    rows = [line.split() for line in out.splitlines() if line.startswith("cn ")]
    assert [r[4:8] for r in rows] == [
        [f"{LAST}-12-07", f"{LAST}-12-31", "exact", "mainland"],
        [f"{NEXT}-01-01", f"{NEXT}-02-28", "provisional", "weekends"],
    ]
    assert "sla policy standard" in out
    assert f"calendar cn (in use) is not exact from {NEXT}-01-01, within 30 days" in err
    # two months earlier, the end of the year is further than 30 days away: a warning later
    code, out, _ = run(
        "--config", config, "calendars", "check", "--now", f"{LAST}-10-01",
        "--until", f"{NEXT}-02-28",
    )  # fmt: skip
    assert code == 0 and "provisional" in out
    # checking another calendar only: cn is not looked at
    code, out, _ = run(
        "--config", config, "calendars", "check", "--now", f"{LAST}-12-07",
        "--until", f"{NEXT}-02-28", "--calendar", "hk",
    )  # fmt: skip
    assert code == 0 and "cn " not in out


def test_check_is_exact_once_the_year_is_given(tmp_path: Path) -> None:
    (tmp_path / "cn-next.toml").write_text(ARRANGEMENT, encoding="utf-8")
    config = write_config(tmp_path, '[calendars.cn]\narrangements = ["cn-next.toml"]\n')
    code, out, err = run(
        "--config", str(config), "calendars", "check", "--now", f"{LAST}-12-07",
        "--until", f"{NEXT}-02-28", "--calendar", "cn", "--format", "json",
    )  # fmt: skip
    assert code == 0, out + err
    found = json.loads(out)
    assert [r["state"] for r in found["rows"]] == ["exact", "exact"]
    assert "example notice" in found["rows"][1]["basis"]
    assert found["not_exact"] == []
    code, out, _ = run(
        "--lang", "zh", "--config", str(config), "calendars", "check",
        "--now", f"{LAST}-12-07", "--until", f"{NEXT + 1}-01-10", "--calendar", "cn",
    )  # fmt: skip
    assert "暂定" in out and "准确" in out


def test_check_refuses_bad_dates(tmp_path: Path) -> None:
    code, _, err = run("calendars", "check", "--until", "soon")
    assert code == 2 and "'soon' is not a date" in err
    code, _, err = run("calendars", "check", "--now", "2026-12-07", "--until", "2026-12-01")
    assert code == 2 and "is before" in err
