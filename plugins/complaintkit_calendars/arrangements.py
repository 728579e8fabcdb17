"""A year's official holiday arrangement, from the configuration or a data file.

China's State Council publishes each year's holidays and make-up working days (调休) in a
notice, usually in November or December; the ``chinese-calendar`` package follows some weeks
later. Until then a calendar can be given the year here, and the year is then exact (and
preferred over the package's data for it).

The same keys in both places::

    # complaintkit.toml
    [calendars.cn.years.2027]
    source = "国务院办公厅关于2027年部分节假日安排的通知"
    holidays = [
      { name = "New Year's Day", name_zh = "元旦", from = 2027-01-01, to = 2027-01-03 },
      { name = "Spring Festival", name_zh = "春节", dates = ["2027-02-05", "2027-02-06"] },
    ]
    workdays = [{ name = "Spring Festival", name_zh = "春节", dates = ["2027-02-14"] }]

    # or: [calendars.cn] arrangements = ["holidays/cn-2027.toml"] and in that file
    year = 2027
    source = "…"
    [[holidays]]
    name = "New Year's Day"
    name_zh = "元旦"
    from = 2027-01-01
    to = 2027-01-03
    [[workdays]]
    …

Checked: every date inside the year, no day both a holiday and a working day, every entry named
in English and Chinese, known keys only, a year given once. Mistakes raise
:class:`~complaintkit.ConfigError` naming the file, the entry and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import attrs

from complaintkit import ConfigError, InvalidSetting, Names, setting_key, structure_settings
from complaintkit.config import Config

from .working import YearArrangement

__all__ = ["ENTRY_KEYS", "YEAR_KEYS", "load_arrangements", "parse_arrangement"]

_MAX_SPAN = 366


def _named(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        language = "English" if attribute.name == "name" else "Chinese"
        raise InvalidSetting(f"every entry needs its {language} name", attribute.name)


def _span(entry: _Entry, _: object, last: date | None) -> None:
    if (entry.first is None) != (last is None):
        raise InvalidSetting("give both from and to")
    if entry.first is not None and last is not None:
        if last < entry.first or (last - entry.first).days > _MAX_SPAN:
            raise InvalidSetting(f"to ({last}) must be on or after from ({entry.first})", "to")
    elif not entry.dates:
        raise InvalidSetting("give dates = [...] or from and to")


@attrs.frozen
class _Entry:
    """One entry of ``holidays`` or ``workdays``: its names and its days."""

    name: str = attrs.field(validator=_named)
    name_zh: str = attrs.field(validator=_named)
    dates: tuple[date, ...] = ()
    first: date | None = attrs.field(default=None, metadata={"key": "from"})
    last: date | None = attrs.field(default=None, validator=_span, metadata={"key": "to"})

    def days(self) -> list[date]:
        """Every day the entry gives."""
        days = list(self.dates)
        if self.first is not None and self.last is not None:
            days += [
                self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)
            ]
        return days


def _non_empty(_: object, __: object, value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidSetting("a non-empty string naming the notice", "source")


def _plausible(_: object, __: object, value: int | None) -> None:
    if value is not None and not 1900 <= value <= 2200:
        raise InvalidSetting(f"{value} is not a plausible year", "year")


@attrs.frozen
class _Arrangement:
    """One year's arrangement: a ``years.YEAR`` table or an arrangement file."""

    year: int | None = attrs.field(default=None, validator=_plausible)
    source: str | None = attrs.field(default=None, validator=_non_empty)
    holidays: tuple[_Entry, ...] = ()
    workdays: tuple[_Entry, ...] = ()


#: The keys of one year's arrangement (a ``years.YEAR`` table or an arrangement file).
YEAR_KEYS: tuple[str, ...] = tuple(setting_key(a) for a in attrs.fields(_Arrangement))
#: The keys of one entry of ``holidays`` or ``workdays``.
ENTRY_KEYS: tuple[str, ...] = tuple(setting_key(a) for a in attrs.fields(_Entry))


def _days(entries: tuple[_Entry, ...], kind: str, at: str, year: int) -> dict[date, Names]:
    found: dict[date, Names] = {}
    for number, entry in enumerate(entries, 1):
        names = Names(entry.name.strip(), entry.name_zh.strip())
        for day in entry.days():
            if day.year != year:
                raise ConfigError(f"{at}{kind}[{number}]: {day.isoformat()} is not in {year}")
            if day in found and found[day] != names:
                raise ConfigError(
                    f"{at}{kind}[{number}]: {day.isoformat()} is already {kind} "
                    f"{found[day].en} in this year"
                )
            found[day] = names
    return found


def parse_arrangement(
    data: Mapping[str, Any], year: int | None, where: str, path: str = ""
) -> YearArrangement:
    """One year's arrangement from a table read from ``where`` (a file), found at ``path`` in
    it (``""``: the whole file); ``year`` None: the table's own ``year`` key."""
    table = structure_settings(data, _Arrangement, where=where, path=path)
    at = f"{where}: {path}." if path else f"{where}: "
    if year is None:
        if table.year is None:
            raise ConfigError(f"{at}year: the year the arrangement is for, e.g. 2027")
        year = table.year
    elif table.year is not None and table.year != year:
        raise ConfigError(f"{at}year: {table.year!r} differs from the table's year {year}")
    closed = _days(table.holidays, "holidays", at, year)
    opened = _days(table.workdays, "workdays", at, year)
    if not closed:
        raise ConfigError(f"{at}holidays: list the year's holidays (none given)")
    both = sorted(set(closed) & set(opened))
    if both:
        raise ConfigError(
            f"{at.rstrip('. ')}: {both[0].isoformat()} is both a holiday ({closed[both[0]].en}) "
            f"and a working day ({opened[both[0]].en})"
        )
    label = f"{where}: {path}" if path else where
    if table.source is not None:
        label = f"{label} ({table.source.strip()})"
    return YearArrangement(year=year, closed=closed, open=opened, source=label)


def load_arrangements(
    name: str, table: Mapping[str, Any], config: Config
) -> dict[int, YearArrangement]:
    """The arrangements ``[calendars.NAME]`` gives: its ``years.YEAR`` tables and the files
    listed in ``arrangements`` (paths relative to the configuration file)."""
    where = f"{config.where}: calendars.{name}"
    found: dict[int, YearArrangement] = {}

    def add(arrangement: YearArrangement) -> None:
        earlier = found.get(arrangement.year)
        if earlier is not None:
            raise ConfigError(
                f"{where}: {arrangement.year} is given twice, by {earlier.source} and by "
                f"{arrangement.source}"
            )
        found[arrangement.year] = arrangement

    years = table.get("years", {})
    if not isinstance(years, Mapping):
        raise ConfigError(f"{where}.years: tables such as [calendars.{name}.years.2027]")
    for key, data in years.items():
        at = f"calendars.{name}.years.{key}"
        if not str(key).isdigit() or not isinstance(data, Mapping):
            raise ConfigError(
                f"{config.where}: {at}: must be a table named by its year, e.g. years.2027"
            )
        add(parse_arrangement(data, int(str(key)), config.where, at))
    files = table.get("arrangements", [])
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f'{where}.arrangements: a list of files such as ["cn-2027.toml"]')
    for value in files:
        path = config.resolve_path(value)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}.arrangements: {path} does not exist") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        add(parse_arrangement(data, None, str(path)))
    return found
