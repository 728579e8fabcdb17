"""Value vocabularies (channels, remedies and their aliases) and the date and time parser.

What a cell's text means, independent of any mapping or file format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Final, TypeVar

from complaintkit.intake import CHANNEL_WORDS, REMEDY_WORDS

_DATE_EXAMPLE: Final = "e.g. 2026-11-23 or 2026-11-23T10:00:00+08:00"

T = TypeVar("T")


def _value_key(value: str) -> str:
    return value.strip().casefold()


# --- value vocabularies ----------------------------------------------------------------------


def _alias_key(value: str) -> str:
    return re.sub(r"[\s\-_]+", "_", value.strip().casefold())


# The vocabularies are the core's (:mod:`complaintkit.intake`): `add`, filters and any API
# accept exactly the words an import accepts.
_CHANNELS: Final = CHANNEL_WORDS
_REMEDIES: Final = REMEDY_WORDS


def _enum_member(value: str, vocabulary: Mapping[str, T]) -> T | None:
    return vocabulary.get(_alias_key(value))


def _known(enum_cls: Iterable[Any]) -> str:
    return ", ".join(member.value for member in enum_cls)


def _translate_enum(
    raw: str,
    table: Mapping[str, str] | None,
    vocabulary: Mapping[str, T],
    field: str,
    enum_cls: Iterable[Any],
) -> T | str:
    """The member for ``raw`` (after the mapping's translation), or the reason it is refused."""
    if table is not None:
        translated = table.get(_value_key(raw))
        if translated is not None:
            raw = translated
        else:
            member = _enum_member(raw, vocabulary)
            if member is not None:
                return member
            raw = table.get("*", raw)
    member = _enum_member(raw, vocabulary)
    if member is not None:
        return member
    return (
        f"unknown value {raw!r} (known: {_known(enum_cls)}); translate it in a mapping file "
        f'under [values.{field}], e.g. "{raw}" = "other", or add "*" = "other" there to accept '
        "any value"
    )


# --- dates -----------------------------------------------------------------------------------

_LOOSE_DATE: Final = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:[\sT]*(\d{1,2})\s*[:：时点]\s*(\d{1,2})"
    r"(?:\s*[:：分]\s*(\d{1,2})(?:\.(\d{1,6}))?\s*秒?)?\s*分?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_TIME_FORMATS: Final = ("%I:%M:%S %p", "%I:%M %p", "%H时%M分%S秒", "%H时%M分", "%H点%M分")


class _BadValue(Exception):
    """A field value that cannot be used; the message is the reason shown to the user."""


class _BadTime(_BadValue):
    """The separate time-of-day value (received_time) cannot be used."""


class _DateParser:
    """Turns the values of received_at (and received_time) into aware datetimes, with a cache.

    Real exports repeat the same few thousand dates over and over, so parsing each distinct
    string once makes dates almost free on the hot path.
    """

    def __init__(self, tz: tzinfo, date_formats: Sequence[str], time_formats: Sequence[str]):
        self.tz = tz
        self.date_formats = tuple(date_formats)
        self.user_time_formats = tuple(time_formats)
        self.cache: dict[Any, datetime] = {}

    def parse(self, value: Any, time_value: str) -> datetime:
        key = (value, time_value) if time_value else value
        try:
            return self.cache[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value from JSON (a list, an object)
            raise _BadValue(f"{value!r} is not a date ({_DATE_EXAMPLE})") from None
        parsed = self._parse_date(value)
        if time_value:
            parsed = datetime.combine(parsed.date(), self._parse_time(time_value), parsed.tzinfo)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.tz)
        if len(self.cache) >= 200_000:  # bound the memory an import of unique timestamps takes
            self.cache.clear()
        self.cache[key] = parsed
        return parsed

    def _parse_date(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time())
        if not isinstance(value, str):
            raise _BadValue(f"{value!r} is not a date ({_DATE_EXAMPLE})")
        # ISO first: it is what most files hold and fromisoformat is ~30 times faster than
        # strptime. No value of a day-first or month-first format is also a valid ISO date.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
        for fmt in self.date_formats:
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
        match = _LOOSE_DATE.fullmatch(value)
        if match:
            year, month, day, hour, minute, second, fraction, offset = match.groups()
            try:
                micro = int((fraction or "0").ljust(6, "0"))
                parsed = datetime(
                    int(year), int(month), int(day),
                    int(hour or 0), int(minute or 0), int(second or 0), micro,
                )  # fmt: skip
            except ValueError as exc:
                raise _BadValue(f"{value!r} is not a valid date: {exc}") from None
            if offset:
                parsed = parsed.replace(tzinfo=_offset(offset))
            return parsed
        if self.date_formats:
            expected = f"format {' or '.join(self.date_formats)}, or ISO 8601 like 2026-11-23"
        else:
            expected = _DATE_EXAMPLE
        raise _BadValue(f"{value!r} is not a date (expected {expected})")

    def _parse_time(self, value: str) -> time:
        # The mapping's own formats first: ISO reads "14.30" as 14:00:00.3, not 14:30.
        for fmt in self.user_time_formats:
            try:
                return datetime.strptime(value, fmt).time()
            except ValueError:
                continue
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value, fmt).time()
            except ValueError:
                continue
        raise _BadTime(f"{value!r} is not a time of day (expected e.g. 14:30, 14:30:05, 2:30 PM)")


def _offset(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
