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

from complaintkit import ConfigError, Names
from complaintkit.config import Config

from .working import YearArrangement

__all__ = ["ENTRY_KEYS", "YEAR_KEYS", "load_arrangements", "parse_arrangement"]

#: The keys of one year's arrangement (a ``years.YEAR`` table or an arrangement file).
YEAR_KEYS: tuple[str, ...] = ("year", "source", "holidays", "workdays")
#: The keys of one entry of ``holidays`` or ``workdays``.
ENTRY_KEYS: tuple[str, ...] = ("name", "name_zh", "dates", "from", "to")
_MAX_SPAN = 366


def _date(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        language = "English" if key == "name" else "Chinese"
        raise ConfigError(f"{where} {key}: every entry needs its {language} name, got {value!r}")
    return value.strip()


def _entries(value: object, kind: str, where: str, year: int) -> dict[date, Names]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} {kind}: must be a list of tables such as {{ name = … }}")
    found: dict[date, Names] = {}
    for number, entry in enumerate(value, 1):
        at = f"{where} {kind}[{number}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{at}: must be a table with name, name_zh and dates or from/to")
        unknown = sorted(set(entry) - set(ENTRY_KEYS))
        if unknown:
            raise ConfigError(
                f"{at}: unknown key(s) {', '.join(unknown)}; known: {', '.join(ENTRY_KEYS)}"
            )
        names = Names(_text(entry, "name", at), _text(entry, "name_zh", at))
        days: list[date] = []
        if "dates" in entry:
            if not isinstance(entry["dates"], list) or not entry["dates"]:
                raise ConfigError(f'{at} dates: a non-empty list such as ["{year}-10-01"]')
            days += [_date(d, f"{at} dates") for d in entry["dates"]]
        if "from" in entry or "to" in entry:
            if "from" not in entry or "to" not in entry:
                raise ConfigError(f"{at}: give both from and to")
            first, last = _date(entry["from"], f"{at} from"), _date(entry["to"], f"{at} to")
            if last < first or (last - first).days > _MAX_SPAN:
                raise ConfigError(f"{at}: to ({last}) must be on or after from ({first})")
            days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if not days:
            raise ConfigError(f"{at}: give dates = [...] or from and to")
        for day in days:
            if day.year != year:
                raise ConfigError(f"{at}: {day.isoformat()} is not in {year}")
            if day in found and found[day] != names:
                raise ConfigError(
                    f"{at}: {day.isoformat()} is already {kind} {found[day].en} in this year"
                )
            found[day] = names
    return found


def parse_arrangement(data: Mapping[str, Any], year: int | None, where: str) -> YearArrangement:
    """One year's arrangement from a table (``year`` None: the table's own ``year`` key)."""
    unknown = sorted(set(data) - set(YEAR_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(YEAR_KEYS)}"
        )
    given = data.get("year")
    if year is None:
        if isinstance(given, bool) or not isinstance(given, int):
            raise ConfigError(f"{where} year: the year the arrangement is for, e.g. 2027")
        year = given
    elif given is not None and given != year:
        raise ConfigError(f"{where} year: {given!r} differs from the table's year {year}")
    if not 1900 <= year <= 2200:
        raise ConfigError(f"{where}: {year} is not a plausible year")
    closed = _entries(data.get("holidays", []), "holidays", where, year)
    opened = _entries(data.get("workdays", []), "workdays", where, year)
    if not closed:
        raise ConfigError(f"{where} holidays: list the year's holidays (none given)")
    both = sorted(set(closed) & set(opened))
    if both:
        raise ConfigError(
            f"{where}: {both[0].isoformat()} is both a holiday ({closed[both[0]].en}) and a "
            f"working day ({opened[both[0]].en})"
        )
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ConfigError(f"{where} source: a non-empty string naming the notice")
    label = f"{where} ({source.strip()})" if isinstance(source, str) else where
    return YearArrangement(year=year, closed=closed, open=opened, source=label)


def load_arrangements(
    name: str, table: Mapping[str, Any], config: Config
) -> dict[int, YearArrangement]:
    """The arrangements ``[calendars.NAME]`` gives: its ``years.YEAR`` tables and the files
    listed in ``arrangements`` (paths relative to the configuration file)."""
    where = f"{config.where} [calendars.{name}]"
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
        raise ConfigError(f"{where} years: tables such as [calendars.{name}.years.2027]")
    for key, data in years.items():
        at = f"{config.where} [calendars.{name}.years.{key}]"
        if not str(key).isdigit() or not isinstance(data, Mapping):
            raise ConfigError(f"{at}: must be a table named by its year, e.g. years.2027")
        add(parse_arrangement(data, int(str(key)), at))
    files = table.get("arrangements", [])
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError(f'{where} arrangements: a list of files such as ["cn-2027.toml"]')
    for value in files:
        path = config.resolve_path(value)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where} arrangements: {path} does not exist") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        add(parse_arrangement(data, None, str(path)))
    return found
