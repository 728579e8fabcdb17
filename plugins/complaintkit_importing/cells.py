"""Cells: a value as read (text, a JSON number or list, an Excel date) as the text a field
takes, and picking a field's value from a row by its compiled source columns."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, Final, TypeAlias

from .values import _BadValue

# A compiled source: a column index, or (indices, separator) for a join.
_Compiled: TypeAlias = int | tuple[tuple[int, ...], str]
_CompiledSpec: TypeAlias = tuple[_Compiled, ...]


def _text(value: Any) -> str:
    """A non-string cell (JSON number, Excel date, …) as the text a person would type."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores ids as floats: 130785.0 is "130785"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


class _WrongType(_BadValue):
    """A value of a type no text field takes (a JSON list, object or boolean, a huge number)."""

    field: str | None = None


# Integers beyond this are not exact as floats: a JSON 1e300 is no id or text anybody typed.
_EXACT: Final = 2**53


def _scalar_text(value: Any) -> str:
    """A non-string cell as text for a text field; :class:`_WrongType` for a value that is not
    one (a list, an object, a boolean, a number too large to be exact)."""
    if isinstance(value, bool | list | tuple | dict):
        raise _WrongType(f"expected text, got {_json_kind_of(value)}")
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) >= _EXACT):
        raise _WrongType(
            f"expected text, got a number too large to be exact ({value!r}); "
            "write it as text (in quotes) if it is an id"
        )
    return _text(value)


def _json_kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, dict):
        return "an object"
    return "a list"


def _pick(row: Sequence[Any], spec: _CompiledSpec) -> str:
    for item in spec:
        if isinstance(item, int):
            value = row[item]
            if value.__class__ is str:
                if value:
                    value = value.strip()
                    if value:
                        return str(value)
            elif value is not None:
                text = _scalar_text(value)
                if text:
                    return text
        else:
            indices, sep = item
            parts = [part for part in (_scalar_text(row[i]) for i in indices) if part]
            if parts:
                return sep.join(parts)
    return ""


def _pick_any(row: Sequence[Any], spec: _CompiledSpec) -> Any:
    """Like :func:`_pick`, but a non-string value (an Excel date) is returned as it is."""
    for item in spec:
        if isinstance(item, int):
            value = row[item]
            if isinstance(value, str):
                value = value.strip()
                if value:
                    return value
            elif value is not None:
                return value
        else:
            joined = _pick(row, (item,))
            if joined:
                return joined
    return None


def _pick_custom(row: Sequence[Any], spec: _CompiledSpec) -> Any:
    """A custom value keeps its JSON type (number, list, …); empty strings are no value."""
    value = _pick_any(row, spec)
    return value if value is None or isinstance(value, str) else _custom_value(value)


def _custom_value(value: Any) -> Any:
    # Custom fields are stored as JSON: dates from Excel cells become ISO strings.
    return value.isoformat() if isinstance(value, datetime | date | time) else value
