"""Business calendars: 24×7, mainland China with 调休, other countries, and custom ones.

Registered calendars:

* ``24x7`` — every hour of every day, in the configured ``timezone`` (elapsed time).
* ``cn`` — mainland China: statutory holidays *and* make-up working days (调休) from the
  ``chinese-calendar`` package, Asia/Shanghai, 09:00–12:00 and 13:30–18:00. The package knows
  only the years the State Council has published (see :func:`chinese_years`): those years are
  exact. A year's official arrangement can be given in the configuration (``years.YEAR`` or an
  ``arrangements`` file, see :mod:`complaintkit_calendars.arrangements`), which makes it exact.
  Any other year is answered *provisionally* by :func:`china_fallback` (weekends plus the
  statutory holidays the ``holidays`` package computes, lunar dates included; no make-up days),
  and ``complaintkit calendars check`` says so; ``fallback = false`` refuses such dates instead
  (:class:`~complaintkit.errors.CalendarRangeError`).
* ``hk``, ``jp``, ``sg``, ``us``, ``gb``, ``de`` — public holidays from the ``holidays`` package
  (Hong Kong, Japan, Singapore, the United States federal, the United Kingdom, Germany), in the
  capital's time zone, Monday–Friday 09:00–18:00. The ``holidays`` package computes holidays by
  rule, so these cover the years it supports (e.g. 1777–2100 for the US) but know no make-up days.
* every ``[calendars.NAME]`` table of the configuration.

Configuration, in ``complaintkit.toml``::

    [calendars]
    default = "cn"                    # the calendar SLA policies use unless they name one

    [calendars.cn]                    # a built-in name: adjusts that calendar
    hours = ["08:30-12:00", "13:00-17:30"]

    [calendars.us-office]             # a country calendar from the holidays package
    country = "US"
    subdivision = "CA"
    timezone = "America/Los_Angeles"
    hours = ["09:00-17:00"]

    [calendars.shanghai-store]        # derived from another calendar
    base = "cn"
    hours = ["10:00-22:00"]
    weekend = []                      # the store opens at weekends too (holidays still closed)
    closed = ["2026-10-09"]           # extra closed dates
    open = ["2026-10-10"]             # extra working dates

Keys of a ``[calendars.NAME]`` table: ``base`` (another calendar of this plugin: ``24x7``,
``cn``, a ready-made country or another configured one), ``country`` and ``subdivision`` (a
``holidays`` country code, e.g. ``US`` and ``CA``; not together with ``base``), ``timezone``,
``hours``, ``weekend`` (day names such as ``sat``/``sun`` or ``周六``/``周日``), ``closed`` and
``open`` (ISO dates), ``description`` and ``description_zh``. A calendar with neither ``base`` nor
``country`` starts from Monday–Friday 09:00–18:00 in the configured ``timezone`` with no
holidays. Values not given are inherited from the base. An unknown key, a bad value, an unknown
base or a cycle of bases raises :class:`~complaintkit.errors.ConfigError` naming the file and key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from complaintkit import ConfigError, InvalidSetting, Names, hookimpl, structure_settings
from complaintkit.calendars import BusinessCalendar
from complaintkit.config import Config

from .working import Fallback, WorkingCalendar, always_open, parse_hours, parse_weekend

__all__ = [
    "CHINA_HOURS",
    "CHINESE_HOLIDAY_NAMES",
    "COUNTRY_CALENDARS",
    "TABLE_KEYS",
    "build_calendars",
    "china_calendar",
    "china_fallback",
    "chinese_years",
    "country_calendar",
    "register_business_calendars",
]

#: Default working hours of ``cn``: 09:00–12:00 and 13:30–18:00.
CHINA_HOURS = parse_hours(["09:00-12:00", "13:30-18:00"])
#: The Chinese names of the holidays ``chinese-calendar`` names in English.
CHINESE_HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
#: Ready-made country calendars: name → (country code, time zone, English and Chinese name).
COUNTRY_CALENDARS: dict[str, tuple[str, str, Names]] = {
    "hk": ("HK", "Asia/Hong_Kong", Names("Hong Kong", "香港")),
    "jp": ("JP", "Asia/Tokyo", Names("Japan", "日本")),
    "sg": ("SG", "Asia/Singapore", Names("Singapore", "新加坡")),
    "us": ("US", "America/New_York", Names("United States (federal)", "美国（联邦）")),
    "gb": ("GB", "Europe/London", Names("United Kingdom", "英国")),
    "de": ("DE", "Europe/Berlin", Names("Germany", "德国")),
}
_OFFICE_HOURS = parse_hours(["09:00-18:00"])


def _distribution_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _holiday_name(english: str) -> Names:
    return Names(english, CHINESE_HOLIDAY_NAMES.get(english, english))


@functools.cache
def chinese_years() -> tuple[int, int]:
    """The first and last year the installed ``chinese-calendar`` has data for."""
    import chinese_calendar

    years = sorted({day.year for day in chinese_calendar.holidays})
    return years[0], years[-1]


def china_fallback() -> Fallback:
    """The stated rule ``cn`` uses for a year without exact data: weekends plus mainland China's
    statutory holidays as the ``holidays`` package computes them (Spring Festival, Dragon Boat
    and Mid-autumn from the lunar calendar, Qingming from the solar term), no make-up days."""
    table, lookup = _holiday_table("CN", None)
    version = _distribution_version("holidays")
    return Fallback(
        holidays=lookup,
        basis=Names(
            f"weekends and the statutory holidays computed by holidays {version} (lunar dates "
            "included), without make-up working days (调休) until the year's official "
            "arrangement is given",
            f"周末及 holidays {version} 计算的法定节假日（含农历节日），"
            "在给出当年官方安排前不含调休上班日",
        ),
        first=date(int(table.start_year), 1, 1),
        last=date(int(table.end_year), 12, 31),
    )


def china_calendar(hours: tuple[tuple[int, int], ...] = CHINA_HOURS) -> WorkingCalendar:
    """``cn``: mainland China's statutory holidays and make-up working days (调休), exact for
    the years of ``chinese-calendar`` and provisional (:func:`china_fallback`) for others."""
    import chinese_calendar

    first, last = chinese_years()
    version = _distribution_version("chinese-calendar")
    closed = {day: _holiday_name(name) for day, name in chinese_calendar.holidays.items()}
    opened = {day: _holiday_name(name) for day, name in chinese_calendar.workdays.items()}
    return WorkingCalendar(
        name="cn",
        description=(
            f"mainland China: statutory holidays and make-up working days (调休) from "
            f"chinese-calendar {version}, exact for {first}–{last}; other years provisional"
        ),
        description_zh=(
            f"中国大陆：法定节假日及调休上班（chinese-calendar {version}，"
            f"{first}–{last} 年准确，其他年份暂定）"
        ),
        timezone="Asia/Shanghai",
        hours=hours,
        closed=closed,
        open=opened,
        covered=(date(first, 1, 1), date(last, 12, 31)),
        fallback=china_fallback(),
    )


def _holiday_table(
    country: str, subdivision: str | None
) -> tuple[Any, Callable[[date], Names | None]]:
    import holidays

    english = holidays.country_holidays(country, subdiv=subdivision)
    languages = set(getattr(english, "supported_languages", ()) or ())
    if "en_US" in languages:
        english = holidays.country_holidays(country, subdiv=subdivision, language="en_US")
    chinese = None
    for language in ("zh_CN", "zh_TW", "zh_HK"):
        if language in languages:
            chinese = holidays.country_holidays(country, subdiv=subdivision, language=language)
            break

    def lookup(day: date) -> Names | None:
        name = english.get(day)
        if name is None:
            return None
        zh = chinese.get(day) if chinese is not None else None
        return Names(str(name), str(zh or name))

    return english, lookup


def country_calendar(
    name: str,
    country: str,
    *,
    subdivision: str | None = None,
    timezone: str = "UTC",
    hours: tuple[tuple[int, int], ...] = _OFFICE_HOURS,
    title: Names | None = None,
) -> WorkingCalendar:
    """A calendar with the public holidays of ``country`` from the ``holidays`` package.

    The weekend is the country's own (e.g. Friday–Saturday where that applies); the covered
    range is the years the package supports for the country. Raises :class:`ValueError` for an
    unknown country or subdivision.
    """
    try:
        table, lookup = _holiday_table(country, subdivision)
    except NotImplementedError as exc:
        raise ValueError(f"the holidays package does not know {exc}".rstrip(".")) from None
    region = f"{country}-{subdivision}" if subdivision else country
    version = _distribution_version("holidays")
    label = title or Names(region, region)
    first, last = int(table.start_year), int(table.end_year)
    return WorkingCalendar(
        name=name,
        description=(
            f"{label.en} public holidays (holidays {version}, {first}–{last}); no make-up days"
        ),
        description_zh=f"{label.zh}公共假期（holidays {version}，{first}–{last} 年）",
        timezone=timezone,
        hours=hours,
        weekend=frozenset(int(d) for d in table.weekend),
        holidays=lookup,
        covered=(date(first, 1, 1), date(last, 12, 31)),
    )


def _builtins(config: Config) -> dict[str, Callable[[], WorkingCalendar]]:
    makers: dict[str, Callable[[], WorkingCalendar]] = {
        "24x7": lambda: always_open(config.timezone),
        "cn": china_calendar,
    }
    for name, (country, zone, title) in COUNTRY_CALENDARS.items():
        makers[name] = functools.partial(
            country_calendar, name, country, timezone=zone, title=title
        )
    return makers


def _hours(value: Any) -> tuple[tuple[int, int], ...] | None:
    try:
        return None if value is None else parse_hours(value)
    except ValueError as exc:
        raise InvalidSetting(str(exc), "hours") from None


def _weekend(value: Any) -> frozenset[int] | None:
    try:
        return None if value is None else parse_weekend(value)
    except ValueError as exc:
        raise InvalidSetting(str(exc), "weekend") from None


def _non_empty(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidSetting(f"must not be empty, got {value!r}", attribute.name)


def _not_with_base(table: _CalendarTable, _: object, value: str | None) -> None:
    _non_empty(table, attrs.fields(_CalendarTable).country, value)
    if value is not None and table.base is not None:
        raise InvalidSetting("give base or country, not both", "country")


def _needs_country(table: _CalendarTable, _: object, value: str | None) -> None:
    _non_empty(table, attrs.fields(_CalendarTable).subdivision, value)
    if value is not None and table.country is None:
        raise InvalidSetting("subdivision needs country", "subdivision")


def _not_closed(table: _CalendarTable, _: object, value: tuple[date, ...]) -> None:
    both = sorted(set(table.closed) & set(value))
    if both:
        raise InvalidSetting(f"{both[0].isoformat()} is both in closed and in open", "open")


@attrs.frozen
class _CalendarTable:
    """A ``[calendars.NAME]`` table (``years`` and ``arrangements`` are read by
    :func:`~complaintkit_calendars.arrangements.load_arrangements`)."""

    base: str | None = attrs.field(default=None, validator=_non_empty)
    country: str | None = attrs.field(default=None, validator=_not_with_base)
    subdivision: str | None = attrs.field(default=None, validator=_needs_country)
    timezone: str | None = attrs.field(default=None, validator=_non_empty)
    hours: tuple[tuple[int, int], ...] | None = attrs.field(default=None, converter=_hours)
    weekend: frozenset[int] | None = attrs.field(default=None, converter=_weekend)
    closed: tuple[date, ...] = ()
    open: tuple[date, ...] = attrs.field(default=(), validator=_not_closed)
    description: str | None = attrs.field(default=None, validator=_non_empty)
    description_zh: str | None = attrs.field(default=None, validator=_non_empty)
    years: Any = None
    arrangements: Any = None
    fallback: bool = True


#: The keys a ``[calendars.NAME]`` table may have.
TABLE_KEYS: tuple[str, ...] = tuple(a.name for a in attrs.fields(_CalendarTable))


def build_calendars(config: Config) -> list[WorkingCalendar]:
    """Every calendar this plugin registers under ``config`` (built-ins first, then the rest).

    Raises :class:`ConfigError` naming the configuration file and the key for every mistake in
    ``[calendars]``; nothing is registered then.
    """
    section = config.section("calendars")
    where = f"{config.where}: calendars"
    tables: dict[str, _CalendarTable] = {}
    for key, value in section.items():
        if isinstance(value, Mapping):
            tables[str(key)] = structure_settings(
                value, _CalendarTable, where=config.where, path=f"calendars.{key}"
            )
        elif key != "default":
            raise ConfigError(
                f'{where}: unknown setting(s) {key}; [calendars] takes default = "NAME" and '
                "[calendars.NAME] tables"
            )
        elif not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}.default: expected a calendar name, got {value!r}")
    makers = _builtins(config)
    built: dict[str, WorkingCalendar] = {}
    resolving: list[str] = []

    def get(name: str, asked_by: str) -> WorkingCalendar:
        if name in built:
            return built[name]
        if name in resolving:
            cycle = " → ".join([*resolving[resolving.index(name) :], name])
            raise ConfigError(f"{where}: the bases of these calendars form a cycle: {cycle}")
        if name in tables:
            resolving.append(name)
            try:
                calendar = _configured(
                    name, tables[name], section[name], makers.get(name), get, config
                )
            finally:
                resolving.pop()
        elif name in makers:
            calendar = makers[name]()
        else:
            known = ", ".join(sorted(set(makers) | set(tables)))
            raise ConfigError(f"{asked_by}: unknown calendar {name!r}; known: {known}")
        built[name] = calendar
        return calendar

    for name in [*makers, *tables]:
        get(name, where)
    return list(built.values())


def _configured(
    name: str,
    table: _CalendarTable,
    raw: Mapping[str, Any],
    builtin: Callable[[], WorkingCalendar] | None,
    get: Callable[[str, str], WorkingCalendar],
    config: Config,
) -> WorkingCalendar:
    where = f"{config.where}: calendars.{name}"
    if builtin is not None and (table.base or table.country):
        raise ConfigError(
            f"{where}: {name!r} is a built-in calendar; its table may adjust it but not set "
            "base or country (choose another name for a new calendar)"
        )
    timezone = table.timezone.strip() if table.timezone else None
    try:
        if builtin is not None:
            calendar = builtin()
        elif table.base:
            calendar = attrs.evolve(get(table.base.strip(), f"{where}.base"), name=name)
        elif table.country:
            calendar = country_calendar(
                name,
                table.country.strip().upper(),
                subdivision=table.subdivision.strip() if table.subdivision else None,
                timezone=timezone or config.timezone,
            )
        else:
            calendar = WorkingCalendar(
                name=name,
                description="custom calendar",
                description_zh="自定义日历",
                timezone=config.timezone,
                hours=_OFFICE_HOURS,
            )
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    changes: dict[str, Any] = {"name": name}
    if timezone is not None:
        changes["timezone"] = timezone
    if table.hours is not None:
        changes["hours"] = table.hours
    if table.weekend is not None:
        changes["weekend"] = table.weekend
    # imported here: only a configured calendar reads arrangements (not every command)
    from .arrangements import load_arrangements

    arrangements = load_arrangements(name, raw, config)
    if arrangements:
        # A given year is preferred over the data the calendar came with: drop that data.
        changes["years"] = {**calendar.years, **arrangements}
        calendar = attrs.evolve(
            calendar,
            closed={d: n for d, n in calendar.closed.items() if d.year not in arrangements},
            open={d: n for d, n in calendar.open.items() if d.year not in arrangements},
            years=changes["years"],
        )
        changes["closed"], changes["open"] = calendar.closed, calendar.open
    if not table.fallback:
        calendar = attrs.evolve(calendar, fallback=None)
        changes["fallback"] = None
    for day in [*table.closed, *table.open]:
        if calendar.exactness(day) == "unknown":
            raise ConfigError(
                f"{where}: {day.isoformat()} is outside the years this calendar covers "
                f"({calendar.covered_years})"
            )
    if table.closed or table.open:
        changes["closed"] = {
            **{d: n for d, n in calendar.closed.items() if d not in table.open},
            **{d: _CLOSED for d in table.closed},
        }
        changes["open"] = {
            **{d: n for d, n in calendar.open.items() if d not in table.closed},
            **{d: _OPEN for d in table.open},
        }
    if table.description is not None:
        changes["description"] = table.description.strip()
    elif builtin is None:
        changes["description"] = _derived_description(calendar, table)
    if table.description_zh is not None:
        changes["description_zh"] = table.description_zh.strip()
    try:
        return attrs.evolve(calendar, **changes)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


_CLOSED = Names("closed by configuration", "配置的休息日")
_OPEN = Names("working day by configuration", "配置的工作日")


def _derived_description(calendar: WorkingCalendar, table: _CalendarTable) -> str:
    if table.base:
        return f"based on {table.base}: {calendar.description}"
    return calendar.description


@hookimpl
def register_business_calendars(
    register: Callable[[BusinessCalendar], None], config: Config
) -> None:
    """Register 24x7, cn, the ready-made countries and every ``[calendars.NAME]`` table."""
    for calendar in build_calendars(config):
        register(calendar)
