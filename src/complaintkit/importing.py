"""Streaming batch import of complaints from CSV, TSV, JSON, JSON Lines and Excel files.

:func:`read_complaints` turns a file into a lazy stream of :class:`~complaintkit.model.Complaint`
objects, ready for :meth:`Desk.intake_many <complaintkit.desk.Desk.intake_many>`. Every record
that cannot become a complaint is handed to ``on_reject`` as a :class:`RejectedRow` (file, line,
field, reason and the record as read); the good records keep flowing, and nothing is dropped
without a report. Only a problem with the file as a whole (wrong encoding, a header that fits no
mapping, JSON that does not parse) raises :class:`~complaintkit.errors.ConfigError`.

Formats
    ``csv`` (``,``; ``;`` or a tab when the header holds no comma), ``tsv`` (tab-separated, with
    CSV-style quoting as Excel and pandas write it), ``jsonl`` (one JSON object per line), ``json``
    (an array of objects; it is **loaded whole**, with orjson, since a JSON array cannot be
    streamed cheaply: use JSON Lines for very large files) and ``xlsx`` (first worksheet, header in
    the first non-empty row, read with openpyxl in read-only mode).
    CSV, TSV and JSON Lines are read record by record and never held in memory. The default
    encoding ``utf-8-sig`` reads UTF-8 with or without a byte-order mark.

Where a reject points
    ``line`` is the physical line on which the record starts (CSV, TSV, JSON Lines; a quoted field
    spanning several lines moves later records down accordingly), the worksheet row for XLSX
    (header = row 1 when it is the first row) and the 1-based item number for a JSON array.
    Blank lines and rows whose every cell is empty are not records and are skipped.

The native layout
    Our own field names as columns (matched case-insensitively; spaces and punctuation count as
    ``_``, so ``Received at`` is ``received_at``): ``reference``, ``received_at``, ``channel``,
    ``title``, ``text``, ``product``, ``order``, ``remedy_sought``, ``complainant_name``,
    ``complainant_phone``, ``complainant_email``, ``customer_id``, ``department``, ``assignee``,
    ``satisfaction``, ``tags`` (separated by ``,`` ``;`` ``，`` ``；`` or ``、``) and
    ``received_time`` (a separate time of day joined to a date-only ``received_at``).
    ``received_at`` and ``text`` are required. **Every other column becomes a custom field**:
    ``custom.<name>`` explicitly (``custom.place`` → ``custom["place"]``) or any other column
    under its own name, so that nothing in the file is lost. A column whose name is one typo away
    from a field name (``complainant_emial``) is refused rather than silently filed as custom;
    rename it, or call it ``custom.<name>`` if it really is a custom field.

Column mappings
    Other layouts are described by a :class:`ColumnMapping`, loaded from a TOML file::

        name = "cfpb"
        description = "US CFPB Consumer Complaint Database export"

        [columns]                 # our field = source column
        reference = "complaint_id"
        received_at = "date_received"
        title = "issue"
        # A list gives alternatives: the first one that is not empty wins. An inline table
        # joins several columns (empty ones left out) with a separator.
        text = ["consumer_complaint_narrative", { join = ["issue", "sub_issue"], sep = ": " }]
        channel = "submitted_via"

        [values.channel]          # translate values (keys are case-insensitive)
        "Postal mail" = "letter"
        "*" = "other"             # any other non-empty value; without it, unknown ones are rejected

        [defaults]                # used when the source value is empty (or the column absent)
        channel = "other"
        # received_at = "now" stamps rows without a date with the time the import started

        [custom]                  # custom field name = source column (same forms as [columns])
        state = "state"

        [options]
        reference_prefix = "CFPB-"            # put before every source id
        date_format = "%d-%m-%y"              # or a list; in addition to the built-in formats
        time_format = "%I:%M:%S %p"           # for received_time; or a list
        detect = ["complaint_id", "date_received"]  # header columns that identify the layout
        strict = true             # every column named must exist in the file (default true;
                                  # the shipped presets say false: exports vary between years)
        keep_unmapped = false     # true: columns not named anywhere become custom fields

    Column names are matched exactly first, then case-insensitively with spaces and punctuation
    as ``_``, so the ``cfpb`` preset reads both ``complaint_id`` and CFPB's original
    ``Complaint ID`` header. Values are stripped of surrounding white space; an empty value is
    missing. ``[values.<field>]`` also works for custom fields.

Presets shipped in :mod:`complaintkit` (``PRESETS``)
    ``cfpb`` (CFPB Consumer Complaint Database), ``comcast-fcc`` (Comcast complaints filed with
    the FCC), ``airline-tweets`` (Twitter US Airline Sentiment), ``chezhiwang`` (车质网 car
    complaints), ``chinese-reviews`` (ChineseNlpCorpus review sets). They describe the layout of
    those exports, not their data.

Channels and remedies
    Besides our own values (``phone``, ``wechat``, …) common names in English and Chinese are
    understood without a mapping (``hotline``, ``e-mail``, ``website``, ``电话``, ``微信``,
    ``来信``; ``退款``, ``换货``, ``赔偿`` …). Anything else is rejected with the list of known
    values and how to map it, unless the mapping translates it (``[values.channel]``, possibly with
    ``"*"``).

Dates
    ISO 8601 (``2026-11-23``, ``2026-11-23T10:00:00+08:00``, ``2026-11-23 10:00``,
    ``2015-02-24 11:35:52 -0800``) and the usual Chinese forms (``2026年11月23日``,
    ``2026年11月23日 14时30分``, ``2026/11/23``, ``2026.1.5 9:05``) are understood; other forms
    need ``date_format``. A date or time without a time zone is taken in ``tz``; a date without a
    time means 00:00 in ``tz``.

References
    From the mapping's ``reference`` column (plus ``reference_prefix``). When the source has no
    id, a fingerprint of the content is used (:func:`fingerprint`): ``IMP-`` and 16 hex digits
    of the SHA-1 of received_at (in UTC), channel, complainant, order, title and text with white
    space collapsed. Importing the same file twice therefore adds nothing the second time (the
    store skips references it already holds). Two records with the same reference in one file
    are a mistake in the file: the later one is rejected, naming the line of the first (this
    check keeps every reference seen, about 100 bytes per record, the only memory an import
    holds that grows with the file).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeAlias, TypeVar

import attrs
import orjson

from .errors import ConfigError, ValidationError
from .model import Channel, Complaint, Party, RemedyKind

__all__ = [
    "FIELDS",
    "FORMATS",
    "PRESETS",
    "ColumnMapping",
    "ComplaintReader",
    "RejectedRow",
    "Source",
    "count_records",
    "detect_format",
    "detect_preset",
    "fingerprint",
    "read_complaints",
]

PRESETS: Final[tuple[str, ...]] = (
    "cfpb",
    "comcast-fcc",
    "airline-tweets",
    "chezhiwang",
    "chinese-reviews",
)
"""The column-mapping presets shipped with complaintkit (``complaintkit/mappings/*.toml``)."""

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
)
"""The complaint fields a column can feed (``received_time``: a time of day for ``received_at``)."""

FORMATS: Final[tuple[str, ...]] = ("csv", "tsv", "json", "jsonl", "xlsx")
"""The file formats :func:`read_complaints` reads."""

_REQUIRED: Final = ("received_at", "text")
_CUSTOM_PREFIX: Final = "custom."
_EXTENSIONS: Final = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}
_SNIFF_BYTES: Final = 1 << 16
_DATE_EXAMPLE: Final = "e.g. 2026-11-23 or 2026-11-23T10:00:00+08:00"

T = TypeVar("T")


# --- rejected rows ---------------------------------------------------------------------------


@attrs.frozen
class RejectedRow:
    """A record that could not become a complaint, with everything needed to fix it.

    ``line`` is the 1-based physical line where the record starts (CSV, TSV, JSON Lines), the
    worksheet row (XLSX) or the item number (JSON array); ``unit`` says which of the three.
    ``field`` is our field name (or the source column) that was wrong, None when the record as a
    whole is bad. ``raw`` is the record as read, so nothing is lost.
    """

    source: str
    line: int
    field: str | None
    reason: str
    raw: dict[str, Any]
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.source}, {self.unit} {self.line}"
        if self.field is None:
            return f"{where}: {self.reason}"
        return f"{where}, field {self.field}: {self.reason}"


# --- column mappings -------------------------------------------------------------------------


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


def _norm(name: str) -> str:
    # "Complaint ID", "complaint_id" and "Complaint-ID" are the same column to a person.
    return re.sub(r"\W+", "_", name.strip().casefold()).strip("_")


def _value_key(value: str) -> str:
    return value.strip().casefold()


@attrs.frozen
class ColumnMapping:
    """Which source column(s) feed which complaint field, value translations and defaults.

    Build one with :meth:`preset`, :meth:`from_file`, :meth:`native` or :meth:`load`; adjust it
    with :meth:`with_overrides`. The TOML format is described in the module documentation:
    ``columns`` and ``custom`` come from ``[columns]`` and ``[custom]``, ``values`` from
    ``[values.<field>]`` (keys case-folded, ``"*"`` for any other value), ``defaults`` from
    ``[defaults]``, the rest from ``[options]``. ``required`` holds the fields named by
    :meth:`with_overrides`, whose columns must exist; ``origin`` says where the mapping came
    from, for messages.
    """

    name: str
    columns: Mapping[str, Spec] = attrs.field(factory=dict)
    custom: Mapping[str, Spec] = attrs.field(factory=dict)
    values: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    defaults: Mapping[str, str] = attrs.field(factory=dict)
    reference_prefix: str = ""
    date_formats: tuple[str, ...] = ()
    time_formats: tuple[str, ...] = ()
    detect: tuple[str, ...] = ()
    strict: bool = True
    keep_unmapped: bool = False
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
        """Our own column names (see the module documentation); other columns become custom."""
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
        }

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

_TOP_KEYS: Final = {"name", "description", "columns", "values", "defaults", "custom", "options"}
_OPTION_KEYS: Final = {
    "reference_prefix",
    "date_format",
    "time_format",
    "detect",
    "strict",
    "keep_unmapped",
}


@cache
def _load_preset(name: str) -> ColumnMapping:
    resource = resources.files("complaintkit") / "mappings" / f"{name}.toml"
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
    if not isinstance(prefix, str):
        raise ConfigError(f"{where}: [options] reference_prefix must be a string")
    if not isinstance(strict, bool) or not isinstance(keep, bool):
        raise ConfigError(f"{where}: [options] strict and keep_unmapped must be true or false")
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
        reference_prefix=prefix,
        date_formats=date_formats,
        time_formats=time_formats,
        detect=detect,
        strict=strict,
        keep_unmapped=keep,
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


# --- value vocabularies ----------------------------------------------------------------------


def _vocabulary(members: Iterable[T], aliases: Mapping[str, T]) -> dict[str, T]:
    table: dict[str, T] = {}
    for member in members:
        value = str(getattr(member, "value", member))
        table[_alias_key(value)] = member
    for alias, member in aliases.items():
        table[_alias_key(alias)] = member
    return table


def _alias_key(value: str) -> str:
    return re.sub(r"[\s\-_]+", "_", value.strip().casefold())


_CHANNELS: Final = _vocabulary(
    Channel,
    {
        "telephone": Channel.PHONE, "hotline": Channel.PHONE, "call": Channel.PHONE,
        "phone call": Channel.PHONE, "电话": Channel.PHONE, "热线": Channel.PHONE,
        "来电": Channel.PHONE, "客服电话": Channel.PHONE,
        "text message": Channel.SMS, "短信": Channel.SMS,
        "e-mail": Channel.EMAIL, "mail": Channel.EMAIL, "邮件": Channel.EMAIL,
        "电子邮件": Channel.EMAIL, "邮箱": Channel.EMAIL,
        "website": Channel.WEB, "web form": Channel.WEB, "online": Channel.WEB,
        "internet": Channel.WEB, "app": Channel.WEB, "网站": Channel.WEB, "网页": Channel.WEB,
        "官网": Channel.WEB, "在线": Channel.WEB, "网上": Channel.WEB, "网络": Channel.WEB,
        "in person": Channel.IN_PERSON, "walk-in": Channel.IN_PERSON, "store": Channel.IN_PERSON,
        "counter": Channel.IN_PERSON, "现场": Channel.IN_PERSON, "到店": Channel.IN_PERSON,
        "门店": Channel.IN_PERSON, "当面": Channel.IN_PERSON, "柜台": Channel.IN_PERSON,
        "weixin": Channel.WECHAT, "微信": Channel.WECHAT, "公众号": Channel.WECHAT,
        "post": Channel.LETTER, "postal mail": Channel.LETTER, "信件": Channel.LETTER,
        "来信": Channel.LETTER, "信函": Channel.LETTER,
        "social": Channel.SOCIAL_MEDIA, "twitter": Channel.SOCIAL_MEDIA,
        "weibo": Channel.SOCIAL_MEDIA, "社交媒体": Channel.SOCIAL_MEDIA,
        "微博": Channel.SOCIAL_MEDIA, "抖音": Channel.SOCIAL_MEDIA,
        "转介": Channel.REFERRAL, "转办": Channel.REFERRAL,
        "其他": Channel.OTHER, "其它": Channel.OTHER,
    },
)  # fmt: skip

_REMEDIES: Final = _vocabulary(
    RemedyKind,
    {
        "refund": RemedyKind.REFUND, "money back": RemedyKind.REFUND, "退款": RemedyKind.REFUND,
        "退货退款": RemedyKind.REFUND, "退钱": RemedyKind.REFUND,
        "exchange": RemedyKind.REPLACEMENT, "换货": RemedyKind.REPLACEMENT,
        "更换": RemedyKind.REPLACEMENT, "换新": RemedyKind.REPLACEMENT,
        "fix": RemedyKind.REPAIR, "维修": RemedyKind.REPAIR, "修理": RemedyKind.REPAIR,
        "voucher": RemedyKind.COUPON, "优惠券": RemedyKind.COUPON, "代金券": RemedyKind.COUPON,
        "sorry": RemedyKind.APOLOGY, "道歉": RemedyKind.APOLOGY, "致歉": RemedyKind.APOLOGY,
        "compensate": RemedyKind.COMPENSATION, "赔偿": RemedyKind.COMPENSATION,
        "补偿": RemedyKind.COMPENSATION, "赔付": RemedyKind.COMPENSATION,
        "解释": RemedyKind.EXPLANATION, "说明": RemedyKind.EXPLANATION,
        "答复": RemedyKind.EXPLANATION,
        "其他": RemedyKind.OTHER, "其它": RemedyKind.OTHER,
    },
)  # fmt: skip


def _enum_member(value: str, vocabulary: Mapping[str, T]) -> T | None:
    return vocabulary.get(_alias_key(value))


def _known(enum_cls: Iterable[Any]) -> str:
    return ", ".join(member.value for member in enum_cls)


# Placeholders for "nothing" in contact columns of real exports; not worth a reject.
_NOTHING: Final = frozenset(
    {"n/a", "na", "none", "null", "nil", "-", "--", "—", "无", "暂无", "没有"}
)
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TAG_SPLIT: Final = re.compile(r"\s*[,;，；、]\s*")


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


# --- fingerprints ----------------------------------------------------------------------------


def _fingerprint(
    received_at: datetime,
    channel: Channel,
    party: Party,
    order: str | None,
    title: str | None,
    text: str,
) -> str:
    parts = (
        received_at.astimezone(UTC).isoformat(),
        channel.value,
        party.name or "",
        party.phone or "",
        party.email or "",
        party.customer_id or "",
        order or "",
        " ".join((title or "").split()),
        " ".join(text.split()),
    )
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8"), usedforsecurity=False)
    return "IMP-" + digest.hexdigest()[:16].upper()


def fingerprint(complaint: Complaint) -> str:
    """The reference an import gives ``complaint`` when its source has no id.

    ``IMP-`` and 16 hex digits of the SHA-1 of received_at (UTC), channel, complainant, order,
    title and text with white space collapsed: stable across runs and machines, so a file
    imported twice yields the same references and the store adds nothing the second time.
    """
    return _fingerprint(
        complaint.received_at,
        complaint.channel,
        complaint.complainant,
        complaint.order,
        complaint.title,
        complaint.text,
    )


# --- binding a mapping to a header -----------------------------------------------------------

# A compiled source: a column index, or (indices, separator) for a join.
_Compiled: TypeAlias = int | tuple[tuple[int, ...], str]
_CompiledSpec: TypeAlias = tuple[_Compiled, ...]
_NO_PARTY: Final = Party()


def _clean_header(raw: Sequence[Any]) -> list[str]:
    """Header cells as unique names: stripped, BOM-free, blanks named, repeats numbered."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(raw):
        name = "" if cell is None else str(cell).strip().lstrip("\ufeff").strip()
        name = name or f"column_{index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 1)
        names.append(name)
    return names


class _Resolver:
    """Finds a mapping's column names in a header: exactly, then by normalised name."""

    def __init__(self, header: Sequence[str]) -> None:
        self.exact = {name: i for i, name in reversed(list(enumerate(header)))}
        self.loose: dict[str, int] = {}
        for i, name in enumerate(header):
            self.loose.setdefault(_norm(name), i)

    def find(self, column: str) -> int | None:
        found = self.exact.get(column)
        return found if found is not None else self.loose.get(_norm(column))


def _bind_header_fits(mapping: ColumnMapping, header: Sequence[str]) -> list[str]:
    """The required fields ``mapping`` cannot fill from ``header`` (empty when it fits)."""
    resolver = _Resolver(header)
    missing = []
    for field in _REQUIRED:
        spec = mapping.columns.get(field, ())
        found = any(all(resolver.find(c) is not None for c in source.columns) for source in spec)
        if not found and field not in mapping.defaults:
            missing.append(field)
    return missing


def detect_preset(columns: Sequence[str]) -> str | None:
    """The preset whose identifying columns are all in ``columns`` (a header), or None.

    When several presets fit, the one that recognises the most columns wins.
    """
    resolver = _Resolver(_clean_header(columns))
    best: tuple[int, str] | None = None
    for name in PRESETS:
        mapping = _load_preset(name)
        groups = mapping.signature()
        if not groups or not all(
            any(resolver.find(c) is not None for c in group) for group in groups
        ):
            continue
        score = sum(1 for c in mapping.referenced_columns() if resolver.find(c) is not None)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


class _Builder:
    """Turns one record (a row of values in header order) into a Complaint or a list of problems.

    Built once per header; the per-record work is index look-ups, cached date and enum parsing,
    and one Complaint construction, without a validation framework on the hot path.
    """

    def __init__(
        self,
        mapping: ColumnMapping,
        header: Sequence[str],
        *,
        tz: tzinfo,
        now: datetime,
        strict: bool,
        where: str,
    ) -> None:
        self.mapping = mapping
        self.header = list(header)
        resolver = _Resolver(self.header)
        used: set[int] = set()
        missing: list[str] = []

        def compile_spec(name: str, spec: Spec, must_exist: bool) -> _CompiledSpec:
            compiled: list[_Compiled] = []
            for source in spec:
                indices = []
                for column in source.columns:
                    index = resolver.find(column)
                    if index is None:
                        if must_exist:
                            missing.append(f"{column!r} (for {name})")
                        continue
                    indices.append(index)
                    used.add(index)
                if len(source.columns) == 1 and indices:
                    compiled.append(indices[0])
                elif indices:
                    compiled.append((tuple(indices), source.sep))
            return tuple(compiled)

        fields: dict[str, _CompiledSpec] = {}
        for field, spec in mapping.columns.items():
            must = strict and (mapping.strict or field in mapping.required)
            fields[field] = compile_spec(field, spec, must)
        custom: list[tuple[str, _CompiledSpec]] = []
        for name, spec in mapping.custom.items():
            must = strict and (mapping.strict or f"{_CUSTOM_PREFIX}{name}" in mapping.required)
            custom.append((name, compile_spec(f"custom.{name}", spec, must)))

        if mapping.keep_unmapped:
            field_names = set(FIELDS)
            for index, column in enumerate(self.header):
                if index in used:
                    continue
                if column.casefold().startswith(_CUSTOM_PREFIX):
                    custom.append((column[len(_CUSTOM_PREFIX) :].strip(), (index,)))
                    continue
                normalised = _norm(column)
                # A field's own column left unused (--map took the field from elsewhere) is
                # kept as custom; only a near miss of a field name is suspicious.
                close = (
                    difflib.get_close_matches(normalised, field_names, n=1, cutoff=0.85)
                    if normalised not in field_names
                    else []
                )
                if close and strict and mapping.is_native:
                    raise ConfigError(
                        f"{where}: column {column!r} looks like a misspelt {close[0]!r}; rename "
                        f"it to {close[0]}, or to custom.{column} if it is a custom field"
                    )
                custom.append((column, (index,)))

        not_filled = [
            field for field in _REQUIRED if not fields.get(field) and field not in mapping.defaults
        ]
        if strict and (not_filled or missing):
            raise ConfigError(_misfit_message(where, mapping, self.header, not_filled, missing))

        def optional(field: str) -> _CompiledSpec | None:
            # None: neither a column nor a default, so the hot path can skip the field.
            spec = fields.get(field, ())
            return spec if spec or field in mapping.defaults else None

        self.reference = fields.get("reference", ())
        self.received_at = fields.get("received_at", ())
        self.received_time = fields.get("received_time", ())
        self.text = fields.get("text", ())
        self.channel = fields.get("channel", ())
        self.remedy = fields.get("remedy_sought", ())
        self.title = optional("title")
        self.product = optional("product")
        self.order = optional("order")
        self.department = optional("department")
        self.assignee = optional("assignee")
        self.satisfaction = optional("satisfaction")
        self.tags = optional("tags")
        self.party_fields = tuple(
            (field, compiled)
            for field in ("complainant_name", "complainant_phone", "complainant_email",
                          "customer_id")
            if (compiled := optional(field)) is not None
        )  # fmt: skip
        # Most custom fields copy one column untouched: they get a loop of their own.
        self.custom_plain = tuple(
            (name, spec[0])
            for name, spec in custom
            if len(spec) == 1 and isinstance(spec[0], int) and name not in mapping.values
        )
        plain = {name for name, _ in self.custom_plain}
        self.custom = tuple((name, spec) for name, spec in custom if spec and name not in plain)
        self.custom_defaults = {
            name: mapping.defaults[name] for name, _ in custom if name in mapping.defaults
        }

        self.prefix = mapping.reference_prefix
        self.values = mapping.values
        self.defaults = mapping.defaults
        self.dates = _DateParser(tz, mapping.date_formats, mapping.time_formats)
        default_when = mapping.defaults.get("received_at")
        self.default_when: datetime | None = None
        if default_when == "now":
            self.default_when = now
        elif default_when:
            self.default_when = self.dates.parse(default_when, "")
        self.default_channel = _resolve_default(mapping, "channel", _CHANNELS) or Channel.OTHER
        self.default_remedy = _resolve_default(mapping, "remedy_sought", _REMEDIES)
        self.channel_cache: dict[str, Channel | str] = {}
        self.remedy_cache: dict[str, RemedyKind | str] = {}
        text_spec = mapping.columns.get("text", ())
        self.text_columns = ", ".join(s.describe() for s in text_spec) or "none mapped"

    # The hot path -------------------------------------------------------------------------

    def _str(self, row: Sequence[Any], spec: _CompiledSpec, field: str) -> str:
        value = _pick(row, spec) if spec else ""
        table = self.values.get(field)
        if table is not None and value:
            value = table.get(_value_key(value), table.get("*", value))
        return value or self.defaults.get(field, "")

    def _opt(self, row: Sequence[Any], spec: _CompiledSpec | None, field: str) -> str | None:
        if spec is None:
            return None
        return self._str(row, spec, field) or None

    def build(self, row: Sequence[Any]) -> Complaint | list[tuple[str | None, str]]:
        """A complaint from ``row``, or the problems that prevent one as (field, reason)."""
        problems: list[tuple[str | None, str]] = []

        text = self._str(row, self.text, "text")
        if not text:
            problems.append(
                ("text", f"empty, but the complaint text is required (from {self.text_columns})")
            )

        when = self._when(row, problems)
        channel = self.default_channel
        if self.channel:
            raw = _pick(row, self.channel)
            if raw:
                found = self.channel_cache.get(raw)
                if found is None:
                    table = self.values.get("channel")
                    found = _translate_enum(raw, table, _CHANNELS, "channel", Channel)
                    self.channel_cache[raw] = found
                if isinstance(found, Channel):
                    channel = found
                else:
                    problems.append(("channel", found))

        remedy = self.default_remedy
        if self.remedy:
            raw = _pick(row, self.remedy)
            if raw:
                found_remedy = self.remedy_cache.get(raw)
                if found_remedy is None:
                    table = self.values.get("remedy_sought")
                    found_remedy = _translate_enum(
                        raw, table, _REMEDIES, "remedy_sought", RemedyKind
                    )
                    self.remedy_cache[raw] = found_remedy
                if isinstance(found_remedy, RemedyKind):
                    remedy = found_remedy
                else:
                    problems.append(("remedy_sought", found_remedy))

        party = self._party(row, problems) if self.party_fields else _NO_PARTY
        satisfaction = self._satisfaction(row, problems)

        tags: tuple[str, ...] = ()
        if self.tags is not None:
            raw_tags = self._str(row, self.tags, "tags")
            if raw_tags:
                tags = tuple(dict.fromkeys(t for t in _TAG_SPLIT.split(raw_tags) if t))

        custom: dict[str, Any] = {}
        for name, index in self.custom_plain:
            value = row[index]
            if value.__class__ is str:
                if value:
                    value = value.strip()
                    if value:
                        custom[name] = value
            elif value is not None:
                custom[name] = _custom_value(value)
        for name, spec in self.custom:
            value = _pick_custom(row, spec)
            if value is not None:
                table = self.values.get(name)
                if table is not None and isinstance(value, str):
                    value = table.get(_value_key(value), table.get("*", value))
                custom[name] = value
        for name, default in self.custom_defaults.items():
            custom.setdefault(name, default)

        if problems or when is None:
            return problems

        title = self._opt(row, self.title, "title")
        order = self._opt(row, self.order, "order")
        reference = _pick(row, self.reference) if self.reference else ""
        if reference:
            reference = self.prefix + reference
        else:
            reference = _fingerprint(when, channel, party, order, title, text)
        try:
            return Complaint(
                reference=reference,
                received_at=when,
                text=text,
                title=title,
                channel=channel,
                complainant=party,
                product=self._opt(row, self.product, "product"),
                order=order,
                remedy_sought=remedy,
                department=self._opt(row, self.department, "department"),
                assignee=self._opt(row, self.assignee, "assignee"),
                satisfaction=satisfaction,
                tags=tags,
                custom=custom,
            )
        except (ValueError, TypeError) as exc:  # the model's own validators, as a last resort
            return [(None, str(exc))]

    def _when(self, row: Sequence[Any], problems: list[tuple[str | None, str]]) -> datetime | None:
        raw = _pick_any(row, self.received_at) if self.received_at else None
        if raw is None:
            if self.default_when is None:
                problems.append(("received_at", f"empty, but a date is required ({_DATE_EXAMPLE})"))
            return self.default_when
        clock = _pick(row, self.received_time) if self.received_time else ""
        try:
            return self.dates.parse(raw, clock)
        except _BadTime as exc:
            problems.append(("received_time", str(exc)))
        except _BadValue as exc:
            problems.append(("received_at", str(exc)))
        return None

    def _party(self, row: Sequence[Any], problems: list[tuple[str | None, str]]) -> Party:
        found = {field: self._str(row, spec, field) for field, spec in self.party_fields}
        phone = found.get("complainant_phone", "")
        if phone:
            if phone.casefold() in _NOTHING:
                phone = ""
            elif sum(c.isdigit() for c in phone) < 5:
                problems.append(
                    (
                        "complainant_phone",
                        f"{phone!r} is not a phone number (expected digits, e.g. 138 0013 8000)",
                    )
                )
        email = found.get("complainant_email", "")
        if email:
            if email.casefold() in _NOTHING:
                email = ""
            elif not _EMAIL.fullmatch(email):
                problems.append(
                    (
                        "complainant_email",
                        f"{email!r} is not an e-mail address (expected e.g. li.lei@example.com)",
                    )
                )
        name = found.get("complainant_name", "")
        customer = found.get("customer_id", "")
        if not (name or phone or email or customer):
            return _NO_PARTY
        return Party(name or None, phone or None, email or None, customer or None)

    def _satisfaction(
        self, row: Sequence[Any], problems: list[tuple[str | None, str]]
    ) -> int | None:
        if self.satisfaction is None:
            return None
        raw = self._str(row, self.satisfaction, "satisfaction")
        if not raw:
            return None
        try:
            number = float(raw)
        except ValueError:
            number = 0.5  # not a number at all: reported as "not a whole number" below
        if not number.is_integer():
            problems.append(("satisfaction", f"{raw!r} is not a whole number (expected 1 to 5)"))
            return None
        if not 1 <= number <= 5:
            problems.append(("satisfaction", f"{raw} is out of range (expected 1 to 5)"))
            return None
        return int(number)


def _resolve_default(mapping: ColumnMapping, field: str, vocabulary: Mapping[str, T]) -> T | None:
    value = mapping.defaults.get(field)
    return _enum_member(value, vocabulary) if value else None


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
                text = _text(value)
                if text:
                    return text
        else:
            indices, sep = item
            parts = [part for part in (_text(row[i]) for i in indices) if part]
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


def _misfit_message(
    where: str,
    mapping: ColumnMapping | None,
    header: Sequence[str],
    not_filled: Sequence[str],
    missing: Sequence[str] = (),
) -> str:
    """Why the header does not fit, and the three ways out, for a ConfigError."""
    if mapping is None:
        first = (
            f"{where}: cannot tell which columns hold the complaint fields "
            "(not our native layout, and no preset recognises the header)"
        )
    else:
        first = (
            f"{where}: the {mapping.name} mapping ({mapping.origin or mapping.name}) does not fit"
        )
    lines = [first, f"  columns found: {', '.join(header) or '(none)'}"]
    if not_filled:
        lines.append(f"  fields that could not be filled: {', '.join(not_filled)}")
    if missing:
        lines.append(f"  columns named by the mapping but not in the file: {', '.join(missing)}")
    lines.append(
        f"  use --mapping PRESET (one of {', '.join(PRESETS)}) or --mapping FILE.toml, or name "
        "the columns with --map field=column (e.g. --map text=<column> "
        "--map received_at=<column>)"
    )
    if "received_at" in not_filled:
        lines.append(
            '  a file without dates needs a mapping file with [defaults] received_at = "now"'
        )
    return "\n".join(lines)


# --- formats ---------------------------------------------------------------------------------


def detect_format(path: str | Path) -> str:
    """The format of ``path`` from its extension (``.txt`` is sniffed): one of :data:`FORMATS`.

    An unknown extension raises ConfigError suggesting ``--format``.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix == ".xls":
        raise ConfigError(
            f"{file}: the old Excel .xls format is not supported; save it as .xlsx or CSV"
        )
    if suffix == ".txt":
        try:
            with file.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError as exc:
            raise ConfigError(f"{file} cannot be read: {exc}") from None
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if text.startswith("["):
            return "json"
        if text.startswith("{"):
            return "jsonl"
        first_line = text.split("\n", 1)[0]
        return "tsv" if "\t" in first_line else "csv"
    raise ConfigError(
        f"{file}: cannot tell the format from the extension {suffix or '(none)'!r}; "
        f"use --format {'|'.join(FORMATS)}"
    )


def _check_encoding(path: Path, encoding: str) -> str:
    """Decode the start of the file now, so a wrong encoding fails before anything is imported."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc}") from None
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r} (use e.g. utf-8, gbk, gb18030)") from None
    try:
        # final=False: the 64 KiB cut may fall inside a multi-byte character.
        return str(decoder.decode(head, final=False))
    except UnicodeDecodeError as exc:
        raise ConfigError(_encoding_message(path, encoding, exc)) from None


def _encoding_message(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    hint = (
        "; a file saved by Excel on Chinese Windows is usually GBK: try --encoding gb18030"
        if encoding.lower().replace("_", "-") in {"utf-8", "utf-8-sig", "utf8"}
        else ""
    )
    return f"{path} is not valid {encoding} ({exc.reason} near byte {exc.start}){hint}"


_Record: TypeAlias = tuple[int, "_Builder", Sequence[Any], dict[str, Any] | None]
_Reject: TypeAlias = Callable[[int, str | None, str, dict[str, Any]], None]


class _Opened:
    """An open source: its header, the builder for it, and its records as (line, builder, row)."""

    def __init__(
        self,
        header: list[str],
        records: Iterator[_Record],
        close: Callable[[], None],
    ) -> None:
        self.header = header
        self.records = records
        self._close: Callable[[], None] | None = close

    def close(self) -> None:
        """Release the file once; later calls do nothing."""
        close, self._close = self._close, None
        if close is not None:
            close()


def _csv_delimiter(fmt: str, head: str) -> str:
    if fmt == "tsv":
        return "\t"
    first_line = head.split("\n", 1)[0]
    # Excel in many European locales writes ";"; a header holding no comma tells us so.
    if "," not in first_line:
        if ";" in first_line:
            return ";"
        if "\t" in first_line:
            return "\t"
    return ","


def _csv_problem(exc: csv.Error, delimiter: str) -> str:
    """A reader error as a reason a person can act on."""
    message = str(exc)
    if "unexpected end of data" in message:
        return (
            "a quoted value that starts in this record is never closed (the file ends inside "
            'it); close the quote, and double any quote inside a value ("")'
        )
    if "expected after" in message:
        return (
            f"a quote closes in the middle of a value (expected {delimiter!r} after it); "
            'quote the whole value and double the quotes inside it ("")'
        )
    return f"unreadable CSV: {message}"


def _raise_field_limit() -> None:
    # Long complaint narratives can exceed csv's default 128 KiB per field; a limit still
    # stands so that an unclosed quote fails instead of swallowing the whole file.
    if csv.field_size_limit() < 1 << 24:
        csv.field_size_limit(1 << 24)


class _Context:
    """What every format reader needs: the mapping choice, where we are, how to reject."""

    def __init__(
        self,
        path: Path,
        source: str,
        mapping: ColumnMapping | None,
        tz: tzinfo,
        reject: _Reject,
    ) -> None:
        self.path = path
        self.source = source
        self.mapping = mapping
        self.tz = tz
        self.reject = reject
        self.now = datetime.now(tz)
        self.chosen: ColumnMapping | None = mapping

    def builder(self, header: Sequence[str], *, strict: bool = True) -> _Builder:
        """The builder for ``header``; the first call also settles which mapping is used."""
        if self.chosen is None:
            self.chosen = _choose_mapping(header, self.source)
        return _Builder(
            self.chosen, header, tz=self.tz, now=self.now, strict=strict, where=self.source
        )


def _choose_mapping(header: Sequence[str], source: str) -> ColumnMapping:
    native = ColumnMapping.native()
    if not _bind_header_fits(native, header):
        return native
    preset = detect_preset(header)
    if preset is not None:
        return ColumnMapping.preset(preset)
    not_filled = _bind_header_fits(native, header)
    raise ConfigError(_misfit_message(source, None, header, not_filled))


def _open_csv(ctx: _Context, fmt: str, encoding: str) -> _Opened:
    head = _check_encoding(ctx.path, encoding)
    _raise_field_limit()
    handle = ctx.path.open("r", encoding=encoding, newline="")
    try:
        delimiter = _csv_delimiter(fmt, head.lstrip("\ufeff"))
        # strict: a quote left open or a stray quote is reported for its record, where the
        # lenient reader would silently glue the rest of the file into one value.
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        header_row: list[str] | None = None
        for candidate in reader:
            if any(cell.strip() for cell in candidate):
                header_row = candidate
                break
        if header_row is None:
            raise ConfigError(f"{ctx.source}: the file is empty (no header row)")
        header = _clean_header(header_row)
        builder = ctx.builder(header)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None
    except BaseException:
        handle.close()
        raise
    width = len(header)

    def records() -> Iterator[_Record]:
        previous = reader.line_num
        failed_at = -1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None
            except csv.Error as exc:
                start = previous + 1
                if reader.line_num == failed_at:  # the reader cannot get past this point
                    raise ConfigError(f"{ctx.source}, line {start}: {exc}") from None
                failed_at = reader.line_num
                previous = reader.line_num
                ctx.reject(start, None, _csv_problem(exc, delimiter), {})
                continue
            start = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line (or a row of empty cells) is not a record
            if len(row) != width:
                raw: dict[str, Any] = dict(zip(header, row, strict=False))
                if len(row) > width:
                    raw["_extra"] = row[width:]
                span = previous - start + 1
                hint = (
                    f"; it runs over {span} lines: probably a misplaced quote"
                    if span > 3
                    else "; a stray delimiter or an unquoted value containing one?"
                    if len(row) > width
                    else ""
                )
                ctx.reject(
                    start,
                    None,
                    f"the record has {len(row)} values but the header has {width} columns{hint}",
                    raw,
                )
                continue
            yield start, builder, row, None

    return _Opened(header, records(), handle.close)


def _open_jsonl(ctx: _Context, encoding: str) -> _Opened:
    _check_encoding(ctx.path, encoding)
    handle = ctx.path.open("r", encoding=encoding, newline="")
    lines = enumerate(handle, 1)
    first: tuple[int, dict[str, Any]] | None = None
    pending: list[tuple[int, str]] = []
    try:
        for number, line in lines:
            if not line.strip():
                continue
            pending.append((number, line))
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                first = (number, value)
                break
        keys = list(first[1]) if first else []
        header = _clean_header(keys)
        builder = _first_builder(ctx, header, found=first is not None)
    except UnicodeDecodeError as exc:
        handle.close()
        raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None
    except BaseException:
        handle.close()
        raise
    builders = _BuilderCache(ctx, tuple(keys), builder)

    def records() -> Iterator[_Record]:
        def parsed(number: int, line: str) -> Iterator[_Record]:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                # orjson counts lines within the one line it was given: keep only the column.
                detail = re.sub(r"line \d+ column (\d+) \(char \d+\)", r"column \1", str(exc))
                raw_line = {"_line": line.rstrip("\r\n")}
                ctx.reject(number, None, f"not valid JSON: {detail}", raw_line)
                return
            if not isinstance(value, dict):
                ctx.reject(
                    number,
                    None,
                    f"expected a JSON object, got {_json_kind(value)}",
                    {"_value": value},
                )
                return
            if not value:
                return  # {} carries nothing: like a blank line
            yield number, builders.get(value), list(value.values()), value

        for number, line in pending:
            yield from parsed(number, line)
        try:
            for number, line in lines:
                if line.strip():
                    yield from parsed(number, line)
        except UnicodeDecodeError as exc:
            raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None

    return _Opened(header, records(), handle.close)


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _first_builder(ctx: _Context, header: list[str], *, found: bool) -> _Builder:
    """The builder for the first JSON record; without any record there is nothing to check."""
    if found:
        return ctx.builder(header)
    # No object at all (an empty file, or only bad lines that will each be rejected): the
    # header cannot fit or misfit anything, so use the given mapping or the native one.
    ctx.chosen = ctx.chosen or ColumnMapping.native()
    return ctx.builder(header, strict=False)


class _BuilderCache:
    """One builder per distinct set of keys (JSON records need not all have the same keys)."""

    def __init__(self, ctx: _Context, keys: tuple[str, ...], first: _Builder) -> None:
        self.ctx = ctx
        self.builders: dict[tuple[str, ...], _Builder] = {keys: first}

    def get(self, record: Mapping[str, Any]) -> _Builder:
        keys = tuple(record)
        found = self.builders.get(keys)
        if found is None:
            # Later key sets bind leniently: a record lacking the text key is a rejected
            # record, not a reason to stop the whole import.
            found = self.ctx.builder(_clean_header(keys), strict=False)
            if len(self.builders) < 1000:
                self.builders[keys] = found
        return found


def _open_json(ctx: _Context, encoding: str) -> _Opened:
    try:
        data = ctx.path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{ctx.path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{ctx.path} cannot be read: {exc}") from None
    try:
        if encoding.lower().replace("_", "-") in {"utf-8", "utf-8-sig", "utf8"}:
            document = orjson.loads(data.removeprefix(codecs.BOM_UTF8))
        else:
            document = orjson.loads(data.decode(encoding))
    except UnicodeDecodeError as exc:
        raise ConfigError(_encoding_message(ctx.path, encoding, exc)) from None
    except orjson.JSONDecodeError as exc:
        hint = (
            "; it looks like JSON Lines (one object per line): use --format jsonl"
            if "trailing" in str(exc).lower() or data.lstrip().startswith(b"{")
            else ""
        )
        raise ConfigError(f"{ctx.source}: not valid JSON: {exc}{hint}") from None
    if not isinstance(document, list):
        raise ConfigError(
            f"{ctx.source}: expected a JSON array of objects, got {_json_kind(document)}"
            + ("; for one object per line use --format jsonl" if isinstance(document, dict) else "")
        )
    first = next((item for item in document if isinstance(item, dict) and item), None)
    keys = list(first) if first else []
    header = _clean_header(keys)
    builders = _BuilderCache(ctx, tuple(keys), _first_builder(ctx, header, found=first is not None))

    def records() -> Iterator[_Record]:
        for number, item in enumerate(document, 1):
            if not isinstance(item, dict):
                ctx.reject(
                    number,
                    None,
                    f"expected a JSON object, got {_json_kind(item)}",
                    {"_value": item},
                )
                continue
            if item:
                yield number, builders.get(item), list(item.values()), item

    return _Opened(header, records(), lambda: None)


def _open_xlsx(ctx: _Context) -> _Opened:
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise ConfigError(
            "reading .xlsx files needs openpyxl, a dependency of complaintkit: pip install openpyxl"
        ) from None
    try:
        workbook = load_workbook(ctx.path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ConfigError(f"{ctx.path} does not exist") from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises zipfile, KeyError, ValueError …
        raise ConfigError(f"{ctx.source} is not a readable .xlsx file: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = enumerate(sheet.iter_rows(values_only=True), 1)
        header_row: tuple[Any, ...] | None = None
        for _number, candidate in rows:
            if any(_text(cell) for cell in candidate):
                header_row = candidate
                break
        if header_row is None:
            raise ConfigError(f"{ctx.source}: the first worksheet is empty (no header row)")
        # Trailing empty header cells are formatting, not columns.
        cells = list(header_row)
        while cells and not _text(cells[-1]):
            cells.pop()
        header = _clean_header(cells)
        builder = ctx.builder(header)
    except BaseException:
        workbook.close()
        raise
    width = len(header)

    def records() -> Iterator[_Record]:
        for number, row in rows:
            values = list(row)
            if len(values) < width:
                values.extend([None] * (width - len(values)))  # read-only mode trims rows
            extra = values[width:]
            if not any(_text(cell) for cell in values):
                continue
            if any(_text(cell) for cell in extra):
                raw = dict(zip(header, values, strict=False))
                raw["_extra"] = extra
                ctx.reject(
                    number, None, f"the row has values beyond the {width} header columns", raw
                )
                continue
            yield number, builder, values[:width], None

    return _Opened(header, records(), workbook.close)


# --- the reader ------------------------------------------------------------------------------


class ComplaintReader(Iterator[Complaint]):
    """The lazy stream :func:`read_complaints` returns; also a context manager.

    ``mapping`` is the mapping in use (the detected one when none was given), ``fmt`` the
    format and ``columns`` the header as read. Iterating to the end closes the file; call
    :meth:`close` (or use ``with``) when stopping early.
    """

    def __init__(
        self, opened: _Opened, records: Iterator[Complaint], mapping: ColumnMapping, fmt: str
    ) -> None:
        self._opened = opened
        self._records = records
        self.mapping = mapping
        self.fmt = fmt
        self.columns: tuple[str, ...] = tuple(opened.header)

    def __iter__(self) -> ComplaintReader:
        return self

    def __next__(self) -> Complaint:
        try:
            return next(self._records)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the file (safe to call more than once)."""
        close = getattr(self._records, "close", None)
        if close is not None:
            close()
        self._opened.close()
        self._records = iter(())

    def __enter__(self) -> ComplaintReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_complaints(
    path: str | Path,
    *,
    mapping: ColumnMapping | None = None,
    fmt: str | None = None,
    tz: tzinfo,
    on_reject: Callable[[RejectedRow], None],
    encoding: str = "utf-8-sig",
) -> ComplaintReader:
    """Stream the complaints in ``path``; every bad record goes to ``on_reject``.

    ``mapping`` None means: our native layout if the header fits, else the preset
    :func:`detect_preset` recognises, else ConfigError listing the columns found and the fields
    that could not be filled. ``fmt`` None means :func:`detect_format`. Dates without a time
    zone are taken in ``tz``. The file is opened and its header checked now (so a misfit fails
    before anything is imported); records are read as the result is iterated.
    """
    file = Path(path)
    source = str(path)
    chosen_format = fmt or detect_format(file)
    if chosen_format not in FORMATS:
        raise ConfigError(f"unknown format {chosen_format!r}; formats: {', '.join(FORMATS)}")
    unit = {"json": "item", "xlsx": "row"}.get(chosen_format, "line")

    def reject(line: int, field: str | None, reason: str, raw: dict[str, Any]) -> None:
        on_reject(RejectedRow(source, line, field, reason, raw, unit))

    ctx = _Context(file, source, mapping, tz, reject)
    if not file.exists():
        raise ConfigError(f"{file} does not exist")
    if chosen_format in ("csv", "tsv"):
        opened = _open_csv(ctx, chosen_format, encoding)
    elif chosen_format == "jsonl":
        opened = _open_jsonl(ctx, encoding)
    elif chosen_format == "json":
        opened = _open_json(ctx, encoding)
    else:
        opened = _open_xlsx(ctx)
    assert ctx.chosen is not None  # set by the first builder
    return ComplaintReader(opened, _complaints(opened, reject), ctx.chosen, chosen_format)


def _is_document(record: Mapping[str, Any] | None) -> bool:
    """True for a JSON record in complaintkit's own document form (``list --format json``)."""
    return record is not None and (
        isinstance(record.get("complainant"), Mapping)
        or isinstance(record.get("labels"), Mapping)
        or isinstance(record.get("history"), list)
    )


@cache
def _document_converter() -> Any:
    from .serialization import make_converter

    return make_converter(checking=True)


def _from_document(record: Mapping[str, Any]) -> Complaint | list[tuple[str | None, str]]:
    """A complaint document structured by the checking converter, or its problems by field.

    Our own JSON export re-imports with its labels, status and history intact; an unknown or
    malformed field is reported by name instead of being filed as a custom field.
    """
    from .serialization import structure_checked

    try:
        return structure_checked(_document_converter(), record, Complaint, "record")
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = []
        for problem in exc.problems:
            if problem.startswith("field ") and ": " in problem:
                field, _, reason = problem[6:].partition(": ")
                problems.append((None if field == "(record)" else field, reason))
            else:
                problems.append((None, problem))
        return problems


def _complaints(opened: _Opened, reject: _Reject) -> Iterator[Complaint]:
    seen: dict[str, int] = {}
    try:
        for line, builder, row, record in opened.records:
            built = (
                _from_document(record)
                if record is not None and _is_document(record)
                else builder.build(row)
            )
            if isinstance(built, Complaint):
                first = seen.setdefault(built.reference, line)
                if first == line:
                    yield built
                    continue
                has_id = bool(builder.reference and _pick(row, builder.reference))
                what = "reference" if has_id else "the same content, fingerprint"
                problems: list[tuple[str | None, str]] = [
                    ("reference", f"duplicate of line {first} (both have {what} {built.reference})")
                ]
            else:
                problems = built
            raw = record if record is not None else dict(zip(builder.header, row, strict=False))
            field, reason = problems[0]
            if len(problems) > 1:
                reason += "".join(
                    f"; also {'field ' + f if f else 'the record'}: {r}" for f, r in problems[1:]
                )
            reject(line, field, reason, raw)
    finally:
        opened.close()


def count_records(path: str | Path, fmt: str | None = None) -> int | None:
    """A cheap estimate of the number of records, for a progress bar; None when not cheap.

    CSV/TSV count lines (minus the header; a quoted field spanning lines makes it an
    overestimate), JSON Lines count lines, XLSX reads the sheet's declared size; a JSON array
    would have to be parsed, so it gives None.
    """
    file = Path(path)
    chosen = fmt or detect_format(file)
    if chosen in ("csv", "tsv", "jsonl"):
        lines = 0
        last = b"\n"
        try:
            with file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
        except OSError:
            return None
        if last != b"\n":
            lines += 1
        return max(0, lines - 1) if chosen != "jsonl" else lines
    if chosen == "xlsx":
        try:
            from openpyxl import load_workbook

            workbook = load_workbook(file, read_only=True)
            try:
                rows = workbook.worksheets[0].max_row
            finally:
                workbook.close()
        except Exception:  # noqa: BLE001 - a progress bar is not worth an error
            return None
        return max(0, rows - 1) if isinstance(rows, int) else None
    return None
