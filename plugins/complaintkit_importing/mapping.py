"""Column mappings: :class:`ColumnMapping`, its TOML and dict forms, and the shipped presets.

The mapping file format is described in the :mod:`complaintkit_importing` documentation;
the preset files live in ``complaintkit_importing/mappings/*.toml``.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeAlias

import attrs

from complaintkit.errors import ConfigError
from complaintkit.model import Channel, Complaint, RemedyKind

from .history import HISTORY_FIELDS, RowFilter, check_history_value
from .values import _CHANNELS, _DATE_EXAMPLE, _REMEDIES, _enum_member, _known, _value_key

PRESETS: Final[tuple[str, ...]] = (
    "cfpb",
    "comcast-fcc",
    "airline-tweets",
    "chezhiwang",
    "chinese-reviews",
)
"""The column-mapping presets shipped with this plugin (``complaintkit_importing/mappings``)."""

FIELDS: Final[tuple[str, ...]] = (
    "reference",
    "received_at",
    "received_time",
    "channel",
    "title",
    "text",
    "product",
    "order",
    "remedy_sought",
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "customer_id",
    "department",
    "assignee",
    "satisfaction",
    "tags",
    *HISTORY_FIELDS,
)
"""The complaint fields a column can feed (``received_time``: a time of day for ``received_at``;
``status`` and the step times bring the row in as history, see :mod:`.history`)."""

_CUSTOM_PREFIX: Final = "custom."

#: Names a custom field may not have: our own fields, so that a re-import or an export of the
#: complaint never mistakes one for the other. A source column left unmapped that has one of
#: these names is kept as ``source_<name>``.
RESERVED_NAMES: Final = frozenset(FIELDS) | frozenset(attrs.fields_dict(Complaint))


def custom_name(column: str) -> str:
    """The custom field name for an unmapped source column: ``source_<name>`` when the name is
    one of ours (:data:`RESERVED_NAMES`), else the column's own name."""
    return f"source_{column}" if column in RESERVED_NAMES else column


@attrs.frozen
class Source:
    """Where one value comes from: a column, or several columns joined with ``sep``."""

    columns: tuple[str, ...]
    sep: str = " "

    def describe(self) -> str:
        """How to name this source in a message."""
        if len(self.columns) == 1:
            return repr(self.columns[0])
        return "+".join(repr(c) for c in self.columns)


Spec: TypeAlias = tuple[Source, ...]
"""Alternatives for one field: the first that gives a non-empty value wins."""


@attrs.frozen
class ColumnMapping:
    """Which source column(s) feed which complaint field, value translations and defaults.

    Build one with :meth:`preset`, :meth:`from_file`, :meth:`native` or :meth:`load`; adjust it
    with :meth:`with_overrides`. The TOML format is described in the documentation of
    :mod:`complaintkit_importing`: ``columns`` and ``custom`` come from ``[columns]`` and
    ``[custom]``, ``values`` from ``[values.<field>]`` (keys case-folded, ``"*"`` for any other
    value), ``defaults`` from ``[defaults]``, ``filters`` from ``[filter]``, the rest from
    ``[options]`` (``history``: every row is another system's history, even without a status
    or step times). ``required`` holds the
    fields named by :meth:`with_overrides`, whose columns must exist; ``origin`` says where the
    mapping came from, for messages.
    """

    name: str
    columns: Mapping[str, Spec] = attrs.field(factory=dict)
    custom: Mapping[str, Spec] = attrs.field(factory=dict)
    values: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    defaults: Mapping[str, str] = attrs.field(factory=dict)
    filters: tuple[RowFilter, ...] = ()
    reference_prefix: str = ""
    date_formats: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ()
    detect: tuple[str, ...] = ()
    strict: bool = True
    keep_unmapped: bool = False
    history: bool = False
    is_native: bool = False
    required: frozenset[str] = frozenset()
    description: str = ""
    origin: str = ""

    @classmethod
    def preset(cls, name: str) -> ColumnMapping:
        """A mapping shipped with complaintkit; an unknown name raises ConfigError listing them."""
        if name not in PRESETS:
            close = difflib.get_close_matches(name, PRESETS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(
                f"unknown mapping preset {name!r}{hint}; presets: {', '.join(PRESETS)}; "
                "or give the path of a mapping .toml file"
            )
        return _load_preset(name)

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """A mapping from a TOML file; errors name the file (and the line for syntax errors)."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ConfigError(f"mapping file {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"mapping file {file} cannot be read: {exc}") from None
        return _mapping_from_toml(text, str(file), default_name=file.stem)

    @classmethod
    def load(cls, preset_or_path: str | Path) -> ColumnMapping:
        """A preset by name, or a mapping file when the argument is a path to a ``.toml`` file."""
        candidate = Path(preset_or_path)
        if candidate.suffix.lower() == ".toml" or candidate.exists():
            return cls.from_file(candidate)
        return cls.preset(str(preset_or_path))

    @classmethod
    def native(cls) -> ColumnMapping:
        """Our own column names (see :mod:`complaintkit_importing`); other columns become custom."""
        return _NATIVE

    def with_overrides(self, pairs: Mapping[str, str]) -> ColumnMapping:
        """This mapping with ``field=column`` pairs (the CLI's ``--map``) taking precedence.

        ``field`` is one of :data:`FIELDS` or ``custom.<name>``; ``column`` may list alternatives
        separated by ``|``. An empty column removes the field from the mapping. Columns named
        here must exist in the file, whatever ``strict`` says: a typo should not pass unnoticed.
        """
        columns = dict(self.columns)
        custom = dict(self.custom)
        required = set(self.required)
        where = f"--map for mapping {self.name!r}"
        for field, column in pairs.items():
            field = field.strip()
            alternatives = tuple(c.strip() for c in column.split("|") if c.strip())
            spec = tuple(Source((c,)) for c in alternatives)
            if field.startswith(_CUSTOM_PREFIX) and len(field) > len(_CUSTOM_PREFIX):
                target: dict[str, Spec] = custom
                key = field[len(_CUSTOM_PREFIX) :]
            elif field in FIELDS:
                target, key = columns, field
            else:
                raise ConfigError(_unknown_field_message(field, where))
            if spec:
                target[key] = spec
                required.add(field)
            else:
                target.pop(key, None)
                required.discard(field)
        return attrs.evolve(
            self,
            columns=columns,
            custom=custom,
            required=frozenset(required),
            origin=f"{self.origin} with --map overrides" if self.origin else "--map overrides",
        )

    def referenced_columns(self) -> set[str]:
        """Every source column this mapping names (for detection and for ``keep_unmapped``)."""
        return {
            column
            for spec in (*self.columns.values(), *self.custom.values())
            for source in spec
            for column in source.columns
        } | {f.column for f in self.filters}

    def signature(self) -> tuple[tuple[str, ...], ...]:
        """Groups of columns a header must hold for :func:`detect_preset` to choose this mapping.

        Each group is satisfied by any one of its columns: ``detect`` columns form groups of
        one; without ``detect``, each mapped field contributes the columns it may come from.
        """
        if self.detect:
            return tuple((column,) for column in self.detect)
        groups = []
        for spec in self.columns.values():
            groups.append(tuple(c for source in spec for c in source.columns))
        return tuple(groups)


def _unknown_field_message(field: str, where: str) -> str:
    close = difflib.get_close_matches(field, FIELDS, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"{where}: unknown field {field!r}{hint}; fields: {', '.join(FIELDS)}, "
        "or custom.<name> for a custom field"
    )


_NATIVE = ColumnMapping(
    name="native",
    columns={field: (Source((field,)),) for field in FIELDS},
    keep_unmapped=True,
    strict=False,
    is_native=True,
    description="complaintkit's own column names",
    origin="the native layout",
)

_TOP_KEYS: Final = {
    "name",
    "description",
    "columns",
    "values",
    "defaults",
    "custom",
    "filter",
    "options",
}
_OPTION_KEYS: Final = {
    "reference_prefix",
    "date_format",
    "time_format",
    "detect",
    "strict",
    "keep_unmapped",
    "history",
}


@cache
def _load_preset(name: str) -> ColumnMapping:
    resource = resources.files("complaintkit_importing") / "mappings" / f"{name}.toml"
    text = resource.read_text(encoding="utf-8")
    mapping = _mapping_from_toml(text, f"preset {name}", default_name=name)
    return attrs.evolve(mapping, origin=f"preset {name}")


def _mapping_from_toml(text: str, where: str, *, default_name: str) -> ColumnMapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends with "(at line N, column M)".
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return _mapping_from_dict(data, where, default_name=default_name)


def _mapping_from_dict(data: Mapping[str, Any], where: str, *, default_name: str) -> ColumnMapping:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_TOP_KEYS))}"
        )
    name = data.get("name", default_name)
    description = data.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ConfigError(f"{where}: name and description must be strings")

    columns: dict[str, Spec] = {}
    for field, value in _table(data, "columns", where).items():
        if field not in FIELDS:
            raise ConfigError(_unknown_field_message(field, f"{where}, [columns]"))
        columns[field] = _spec(value, f"{where}, [columns] {field}")
    custom = {
        str(key): _spec(value, f"{where}, [custom] {key}")
        for key, value in _table(data, "custom", where).items()
    }
    for key in custom:
        if key in RESERVED_NAMES:
            raise ConfigError(
                f"{where}, [custom] {key}: {key!r} is one of our own fields; give the custom "
                f"field another name (e.g. source_{key}), or map the column under [columns]"
            )
    filters = []
    for column, accepted in _table(data, "filter", where).items():
        listed = [accepted] if isinstance(accepted, str | int) else accepted
        if (
            not isinstance(listed, list)
            or not listed
            or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in listed)
        ):
            raise ConfigError(
                f"{where}, [filter] {column}: expected a value or a list of values, e.g. "
                f'{column} = ["negative"]'
            )
        filters.append(RowFilter(str(column), tuple(str(v).strip() for v in listed)))

    values: dict[str, dict[str, str]] = {}
    for field, table in _table(data, "values", where).items():
        if field not in FIELDS and field not in custom:
            raise ConfigError(
                f"{where}: [values.{field}] translates neither a field nor a custom field of "
                f"this mapping; fields: {', '.join(FIELDS)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [values.{field}] must be a table of source = ours")
        translated: dict[str, str] = {}
        for source_value, ours in table.items():
            if not isinstance(ours, str | int | bool):
                raise ConfigError(f"{where}: [values.{field}] {source_value!r} must be a string")
            text = str(ours).strip()
            _check_value(field, text, f"{where}, [values.{field}] {source_value!r}")
            key = "*" if source_value == "*" else _value_key(source_value)
            translated[key] = text
        values[field] = translated

    defaults: dict[str, str] = {}
    for field, value in _table(data, "defaults", where).items():
        if field not in FIELDS and field not in custom:
            raise ConfigError(_unknown_field_message(field, f"{where}, [defaults]"))
        if not isinstance(value, str | int):
            raise ConfigError(f"{where}: [defaults] {field} must be a string")
        text = str(value).strip()
        _check_value(field, text, f"{where}, [defaults] {field}")
        defaults[field] = text

    options = _table(data, "options", where)
    unknown = sorted(set(options) - _OPTION_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_OPTION_KEYS))}"
        )
    prefix = options.get("reference_prefix", "")
    strict = options.get("strict", True)
    keep = options.get("keep_unmapped", False)
    history = options.get("history", False)
    if not isinstance(prefix, str):
        raise ConfigError(f"{where}: [options] reference_prefix must be a string")
    if not all(isinstance(flag, bool) for flag in (strict, keep, history)):
        raise ConfigError(
            f"{where}: [options] strict, keep_unmapped and history must be true or false"
        )
    date_formats = _strings(options.get("date_format", []), f"{where}, [options] date_format")
    time_formats = _strings(options.get("time_format", []), f"{where}, [options] time_format")
    detect = _strings(options.get("detect", []), f"{where}, [options] detect")
    for fmt in (*date_formats, *time_formats):
        _check_strptime_format(fmt, where)
    if "received_at" not in columns and "received_at" not in defaults:
        raise ConfigError(
            f"{where}: no column for received_at and no default; add received_at under "
            '[columns], or [defaults] received_at = "now" to stamp the import time'
        )
    if "text" not in columns and "text" not in defaults:
        raise ConfigError(f"{where}: no column for text under [columns]")
    return ColumnMapping(
        name=name,
        columns=columns,
        custom=custom,
        values=values,
        defaults=defaults,
        filters=tuple(filters),
        reference_prefix=prefix,
        date_formats=date_formats,
        time_formats=time_formats,
        detect=detect,
        strict=strict,
        keep_unmapped=keep,
        history=history,
        description=description,
        origin=where,
    )


def _table(data: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where}: must be a string or a list of strings")


def _spec(value: Any, where: str) -> Spec:
    items = value if isinstance(value, list) else [value]
    sources: list[Source] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            sources.append(Source((item.strip(),)))
        elif isinstance(item, dict):
            extra = sorted(set(item) - {"join", "sep"})
            join = item.get("join")
            sep = item.get("sep", " ")
            if (
                extra
                or not isinstance(join, list)
                or not join
                or not all(isinstance(c, str) and c.strip() for c in join)
                or not isinstance(sep, str)
            ):
                raise ConfigError(
                    f'{where}: a joined source is written {{ join = ["col1", "col2"], sep = " " }}'
                )
            sources.append(Source(tuple(c.strip() for c in join), sep))
        else:
            raise ConfigError(
                f"{where}: expected a column name, a list of column names, or "
                '{ join = ["col1", "col2"], sep = " " }'
            )
    if not sources:
        raise ConfigError(f"{where}: names no column")
    return tuple(sources)


def _check_strptime_format(fmt: str, where: str) -> None:
    if "%" not in fmt:
        raise ConfigError(f"{where}: {fmt!r} is not a strptime format (e.g. %d-%m-%y)")


def _check_value(field: str, value: str, where: str) -> None:
    """Refuse a translation or default that would itself be invalid, at load time."""
    if field == "channel" and _enum_member(value, _CHANNELS) is None:
        raise ConfigError(f"{where}: {value!r} is not a channel; channels: {_known(Channel)}")
    if field == "remedy_sought" and _enum_member(value, _REMEDIES) is None:
        raise ConfigError(f"{where}: {value!r} is not a remedy; remedies: {_known(RemedyKind)}")
    if field == "received_at" and value != "now":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f'{where}: {value!r} is not an ISO 8601 date ({_DATE_EXAMPLE}) or "now"'
            ) from None
    if field == "satisfaction" and value not in {"1", "2", "3", "4", "5"}:
        raise ConfigError(f"{where}: satisfaction must be 1 to 5, got {value!r}")
    if field in HISTORY_FIELDS:
        problem = check_history_value(field, value, where)
        if problem:
            raise ConfigError(problem)
