"""How one value of a report looks, decided by its column kind (:data:`~complaintkit.reporting.
COLUMN_KINDS`): every renderer that shows text goes through :func:`format_value`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from complaintkit.i18n import Names

__all__ = ["NUMERIC_KINDS", "format_duration", "format_value", "is_number"]

#: Kinds shown right-aligned and written as numbers where the format has numbers.
NUMERIC_KINDS = frozenset({"count", "number", "share", "duration", "money"})

_YES = Names("yes", "是")
_NO = Names("no", "否")
_HOURS = Names("h", "小时")
_DAYS = Names("d", "天")
_MINUTES = Names("min", "分钟")


def is_number(value: Any) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_duration(seconds: float, lang: str = "en") -> str:
    """Seconds as minutes, hours or days: ``1800`` → ``30 min``, ``5400`` → ``1.5 h``,
    ``93600`` → ``1.1 d`` (``1.1 天`` in Chinese)."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{sign}{seconds / 60:.0f} {_MINUTES.get(lang)}"
    if seconds < 86400:
        return f"{sign}{seconds / 3600:.1f} {_HOURS.get(lang)}"
    return f"{sign}{seconds / 86400:.1f} {_DAYS.get(lang)}"


def format_value(value: Any, kind: str, lang: str = "en", *, empty: str = "") -> str:
    """``value`` shown for people, according to the column ``kind``.

    ``None`` is ``empty``; a share is a percentage with one decimal; a duration in seconds is
    minutes, hours or days; money and other numbers have two decimals and thousands
    separators; counts have thousands separators; a datetime is ISO 8601 with its UTC offset;
    a boolean is yes / no in the report's language. A value of an unexpected type is shown as
    ``str(value)``.
    """
    if value is None:
        return empty
    if isinstance(value, bool):
        return (_YES if value else _NO).get(lang)
    if is_number(value):
        if kind == "count":
            return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"
        if kind == "share":
            return f"{value:.1%}"
        if kind == "duration":
            return format_duration(float(value), lang)
        if kind in ("money", "number"):
            return f"{value:,.2f}"
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
