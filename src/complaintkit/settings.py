"""Configuration sections structured into attrs classes, every mistake named by file and path.

A section of ``complaintkit.toml`` is described by an attrs class whose fields are its keys;
:func:`structure_section` turns the table into an instance or raises one
:class:`~complaintkit.errors.ConfigError` with a line per problem::

    process.toml: sla.policies.urgent.acknowledge: 'soon' is not a duration; write e.g. …
    process.toml: routing.rules[2]: unknown setting(s) dept (did you mean department?); known: …

Paths are dotted; items of an array are counted from 1 (``routing.rules[1]`` is the first
``[[routing.rules]]``). Unknown keys are refused everywhere. The simple types read from text:

* :class:`Duration` — an SLA-style amount (``"4h"``, ``"2d"``, ``"3 working days"``,
  ``"4个工作小时"``; see :func:`~complaintkit.calendars.parse_duration`);
* :class:`~datetime.time` — a time of day, ``"09:00"``; :class:`~datetime.date` — ``"2026-10-09"``
  (or a TOML date);
* :class:`~complaintkit.model.Channel`, :class:`~complaintkit.model.EscalationLevel`,
  :class:`~complaintkit.model.Status`, :class:`~complaintkit.model.RemedyKind` — their words in
  English or Chinese (``wechat``, ``微信``; ``leadership``, ``领导层``);
* ``tuple[str, str]`` — a ``"SCHEME=LABEL"`` pair;
* a ``Literal`` — one of its words;
* lists (``list``, ``tuple[X, ...]``, ``frozenset``) — a TOML array, or one value alone;
* ``str``, ``int``, ``float``, ``bool`` — strictly that TOML type (an integer is a float too).

A key that is not a Python name (``lambda``) is given as field metadata,
``attrs.field(metadata={"key": "lambda"})``. A rule a type cannot express (one value below
another) is a field validator raising :class:`InvalidSetting`, which names the key; a field
with an attrs ``converter`` receives the value as written and converts it itself (raising
:class:`InvalidSetting` for a value it cannot take).
"""

from __future__ import annotations

import difflib
import functools
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .errors import ConfigError
from .model import Channel, EscalationLevel, RemedyKind, Status

if TYPE_CHECKING:
    import cattrs
    from cattrs.errors import ForbiddenExtraKeysError

    from .config import Config

__all__ = [
    "Duration",
    "InvalidSetting",
    "positive",
    "setting_key",
    "structure_section",
    "structure_settings",
]

T = TypeVar("T")


class InvalidSetting(ValueError):
    """A value that does not fit, raised by a structure hook or a field validator; ``key``
    (when given) is the setting it concerns, inside the table being structured (a tuple for a
    deeper one: ``("policies", name)``)."""

    def __init__(self, message: str, key: str | tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = (key,) if isinstance(key, str) else key


def positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """A field validator: the setting must be above 0 (``max_body = 0`` names ``max_body``)."""
    if value <= 0:
        raise InvalidSetting(f"must be above 0, got {value:g}", attribute.name)


@attrs.frozen
class Duration:
    """An amount of time as written (``text``): ``unit`` is ``"days"`` or ``"hours"`` of working
    time, or ``"elapsed"`` (see :func:`~complaintkit.calendars.parse_duration`)."""

    amount: timedelta
    unit: str
    text: str


def setting_key(attribute: attrs.Attribute[Any]) -> str:
    """The configuration key of a field: its ``metadata["key"]``, else its name."""
    return str(attribute.metadata.get("key", attribute.name))


def _shown(value: object) -> str:
    return repr(value) if not isinstance(value, Mapping) else "a table"


# --- hooks for the simple types ---------------------------------------------------------------


def configure_scalars(converter: cattrs.Converter) -> None:
    """TOML's types, strictly: no number read from text, no boolean taken for a number."""

    def strict(kind: type, wanted: str) -> Callable[[Any, Any], Any]:
        def hook(value: Any, _: Any) -> Any:
            if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
                if kind is float and isinstance(value, int) and not isinstance(value, bool):
                    return float(value)
                raise InvalidSetting(f"expected {wanted}, got {_shown(value)}")
            return value

        return hook

    converter.register_structure_hook(str, strict(str, "text"))
    converter.register_structure_hook(int, strict(int, "a whole number"))
    converter.register_structure_hook(float, strict(float, "a number"))
    converter.register_structure_hook(bool, strict(bool, "true or false"))


def _duration(value: Any, _: Any) -> Duration:
    from .calendars import parse_duration

    if not isinstance(value, str):
        raise InvalidSetting(
            f'expected a duration such as "3 working days" or "4h", got {_shown(value)}'
        )
    amount, unit = parse_duration(value)
    return Duration(amount, unit, value)


def _iso(kind: type[date] | type[time], example: str) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _: Any) -> Any:
        if isinstance(value, kind):
            return value
        try:
            return kind.fromisoformat(value)
        except (TypeError, ValueError):
            what = "a date" if kind is date else "a time of day"
            raise InvalidSetting(
                f"expected {what} such as {example}, got {_shown(value)}"
            ) from None

    return hook


def _label_pair(value: Any, _: Any) -> tuple[str, str]:
    scheme, sep, label = value.partition("=") if isinstance(value, str) else ("", "", "")
    if not sep or not scheme.strip() or not label.strip():
        raise InvalidSetting(f"{_shown(value)} is not SCHEME=LABEL (e.g. severity=serious)")
    return scheme.strip(), label.strip()


def configure_words(converter: cattrs.Converter) -> None:
    """Durations, times, dates, label pairs, and the vocabularies in English or Chinese."""
    from .intake import parse_channel, parse_level, parse_remedy, parse_status

    converter.register_structure_hook(Duration, _duration)
    converter.register_structure_hook(time, _iso(time, "09:00"))
    converter.register_structure_hook(date, _iso(date, "2026-10-09"))
    converter.register_structure_hook_func(lambda t: t == tuple[str, str], _label_pair)
    for kind, parse in (
        (Channel, parse_channel),
        (EscalationLevel, parse_level),
        (Status, parse_status),
        (RemedyKind, parse_remedy),
    ):
        converter.register_structure_hook(kind, _from_words(parse))

    def literal_hook(kind: Any) -> Callable[[Any, Any], Any]:
        words = typing.get_args(kind)

        def hook(value: Any, _: Any) -> Any:
            if value not in words or isinstance(value, bool):
                shown = ", ".join(str(w) for w in words)
                raise InvalidSetting(f"expected one of {shown}, got {_shown(value)}")
            return value

        return hook

    converter.register_structure_hook_factory(_is_literal, literal_hook)


def _is_literal(t: Any) -> bool:
    return typing.get_origin(t) is typing.Literal


def _from_words(parse: Callable[[str], Any]) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _: Any) -> Any:
        if not isinstance(value, str):
            raise InvalidSetting(f"expected a name, got {_shown(value)}")
        try:
            return parse(value)
        except ValueError as exc:
            raise InvalidSetting(str(exc)) from None

    return hook


# --- tables and arrays ---------------------------------------------------------------------------

_MANY = (list, tuple, frozenset, set)


def configure_collections(converter: cattrs.Converter) -> None:
    """Arrays (one value alone counts as an array of one) and tables (which must be tables)."""
    from cattrs.errors import IterableValidationError, IterableValidationNote
    from cattrs.gen import make_dict_structure_fn, override

    def is_many(t: Any) -> bool:
        args = typing.get_args(t)
        if typing.get_origin(t) is tuple:
            return len(args) == 2 and args[1] is Ellipsis
        return typing.get_origin(t) in _MANY and len(args) == 1

    def many_hook(t: Any) -> Callable[[Any, Any], Any]:
        origin, item = typing.get_origin(t), typing.get_args(t)[0]

        def hook(value: Any, _: Any) -> Any:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list | tuple):
                wanted = "an array of tables ([[...]])" if attrs.has(item) else "an array [...]"
                raise InvalidSetting(f"expected {wanted}, got {_shown(value)}")
            items, errors = [], []
            for index, element in enumerate(value):
                try:
                    items.append(converter.structure(element, item))
                except Exception as exc:  # noqa: BLE001 - collected and reported by path
                    note = IterableValidationNote(f"item {index}", index, item)
                    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                    errors.append(exc)
            if errors:
                raise IterableValidationError("while structuring an array", errors, t)
            return origin(items)

        return hook

    def is_table(t: Any) -> bool:
        return typing.get_origin(t) in (dict, Mapping) or t in (dict, Mapping)

    def table_hook(t: Any) -> Callable[[Any, Any], Any]:
        inner = converter.gen_structure_mapping(dict[typing.get_args(t) or (Any, Any)])  # type: ignore[misc]
        return _tables_only(inner)

    def class_hook(cl: type) -> Callable[[Any, Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(rename=a.metadata["key"])
            for a in attrs.fields(cl)
            if "key" in a.metadata
        }
        inner: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cl, converter, _cattrs_forbid_extra_keys=True, **renames
        )
        return _tables_only(inner)

    converter.register_structure_hook_factory(is_many, many_hook)
    converter.register_structure_hook_factory(is_table, table_hook)
    converter.register_structure_hook_factory(attrs.has, class_hook)


def _tables_only(inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            raise InvalidSetting(f"expected a table, got {_shown(value)}")
        return inner(value, t)

    return hook


@functools.cache
def _converter() -> cattrs.Converter:
    """The converter of configuration sections, built on first use (``--help`` imports no
    cattrs)."""
    import cattrs

    converter = cattrs.Converter(
        detailed_validation=True, forbid_extra_keys=True, prefer_attrib_converters=True
    )
    configure_collections(converter)
    configure_scalars(converter)
    configure_words(converter)
    return converter


# --- errors by path ----------------------------------------------------------------------------


def _step(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key + 1}]"
    text = str(key)
    bare = text.replace("_", "").replace("-", "").isalnum() and text.isascii()
    step = text if bare else f'"{text}"'
    return f"{path}.{step}" if path else step


def _field_key(cl: type | None, name: str) -> str:
    if cl is not None and attrs.has(cl):
        found = getattr(attrs.fields(cl), name, None)
        if found is not None:
            return setting_key(found)
    return name


def _unknown(exc: ForbiddenExtraKeysError) -> str:
    known = [setting_key(a) for a in attrs.fields(exc.cl)]
    extra = sorted(exc.extra_fields)
    hint = ""
    if len(extra) == 1 and (close := difflib.get_close_matches(extra[0], known, n=1)):
        hint = f" (did you mean {close[0]}?)"
    return f"unknown setting(s) {', '.join(extra)}{hint}; known: {', '.join(known)}"


def _problems(exc: BaseException, path: str) -> Iterator[tuple[str, str]]:
    """``(path, what is wrong)`` for each problem a structuring error holds (the walk of
    :func:`cattrs.transform_error`, with dotted paths and our own wording)."""
    from cattrs.errors import (
        AttributeValidationNote,
        ClassValidationError,
        ForbiddenExtraKeysError,
        IterableValidationError,
    )

    if isinstance(exc, ClassValidationError | IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            if isinstance(note, AttributeValidationNote):
                sub_path = _step(path, _field_key(exc.cl, note.name))
                if isinstance(sub, KeyError):
                    yield sub_path, "missing (this setting is required)"
                    continue
            else:
                sub_path = _step(path, note.index)
            yield from _problems(sub, sub_path)
        for sub in without:
            yield from _problems(sub, path)
    elif isinstance(exc, ForbiddenExtraKeysError):
        yield path, _unknown(exc)
    elif isinstance(exc, InvalidSetting):
        for key in exc.key:
            path = _step(path, key)
        yield path, str(exc)
    elif isinstance(exc, ConfigError | ValueError):
        yield path, str(exc)
    else:
        yield path, f"{type(exc).__name__}: {exc}"


def structure_settings(value: Any, cls: type[T], *, where: str, path: str) -> T:
    """``value`` (a table read from ``where``, found at ``path`` in it) as a ``cls``; raises
    :class:`~complaintkit.errors.ConfigError` with a line ``WHERE: PATH.KEY: problem`` for
    each problem (every one found, not just the first)."""
    attrs_class = attrs.has(cls)  # not in the condition: mypy would narrow cls to attrs's type
    if isinstance(value, Mapping) and not value and attrs_class:
        # An absent or empty table is the class's defaults, as structuring it would give:
        # most sections of most configurations, read by most commands without building the
        # converter (importing cattrs costs a command tens of milliseconds). A default that
        # fails its validator takes the converter's way below, which words the error.
        try:
            return cls()
        except Exception:  # noqa: BLE001 - reported by the converter below
            pass
    try:
        return _converter().structure(value, cls)
    except Exception as exc:  # noqa: BLE001 - every structuring error becomes a ConfigError
        lines = [": ".join(filter(None, (where, *problem))) for problem in _problems(exc, path)]
        raise ConfigError("\n".join(lines)) from None


def structure_section(config: Config, name: str, cls: type[T]) -> T:
    """The ``[name]`` section of ``config`` (an empty table when absent) as a ``cls``: see
    the module's documentation for the types and the messages."""
    return structure_settings(config.section(name), cls, where=config.where, path=name)
