"""Binding a mapping to a header and turning each record into a :class:`Complaint`.

Header clean-up and column resolution, the choice of mapping for a header
(:func:`detect_preset`), the per-record builder (the hot path) and the content
fingerprint that stands in for a missing reference.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Final, TypeVar

from complaintkit.errors import ConfigError
from complaintkit.intake import contact_value, party_problems
from complaintkit.model import Channel, Complaint, Event, Party, RemedyKind, Status

from .cells import (
    _Compiled,
    _CompiledSpec,
    _custom_value,
    _pick,
    _pick_any,
    _pick_custom,
    _scalar_text,
    _WrongType,
)
from .history import HISTORY_FIELDS, _HistoryBuilder, bind_filters
from .mapping import (
    _CUSTOM_PREFIX,
    FIELDS,
    PRESETS,
    ColumnMapping,
    Spec,
    _load_preset,
    custom_name,
)
from .values import (
    _CHANNELS,
    _DATE_EXAMPLE,
    _REMEDIES,
    _BadTime,
    _BadValue,
    _DateParser,
    _enum_member,
    _translate_enum,
    _value_key,
)

_REQUIRED: Final = ("received_at", "text")

T = TypeVar("T")


def _norm(name: str) -> str:
    # "Complaint ID", "complaint_id" and "Complaint-ID" are the same column to a person.
    return re.sub(r"\W+", "_", name.strip().casefold()).strip("_")


_TAG_SPLIT: Final = re.compile(r"\s*[,;，；、]\s*")


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
    # surrogatepass: a lone surrogate (from an API) is removed at intake, but must not crash here.
    digest = hashlib.sha1(
        "\x1f".join(parts).encode("utf-8", "surrogatepass"), usedforsecurity=False
    )
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
                    custom.append((custom_name(column[len(_CUSTOM_PREFIX) :].strip()), (index,)))
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
                custom.append((custom_name(column), (index,)))

        # Filters name columns that must exist whatever ``strict`` says: a misspelt one would
        # otherwise leave out every row.
        self.filters, missing_filtered = bind_filters(mapping.filters, resolver.find)
        if missing_filtered:
            raise ConfigError(_misfit_message(where, mapping, self.header, [], missing_filtered))

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
        self.history_specs = {field: fields.get(field, ()) for field in HISTORY_FIELDS}
        self.history = (
            _HistoryBuilder(
                self._history_text,
                self._history_value,
                mapping.values,
                self.dates,
                now,
                f"the {mapping.name} export",
            )
            if mapping.history
            or any(self.history_specs.values())
            or any(f in mapping.defaults for f in HISTORY_FIELDS)
            else None
        )

    def _history_text(self, row: Sequence[Any], field: str, translate: bool = True) -> str:
        """A history field's text: translated and defaulted, or (``translate`` False) as read."""
        spec = self.history_specs[field]
        if not translate:
            return _pick(row, spec) if spec else ""
        return self._str(row, spec, field)

    def _history_value(self, row: Sequence[Any], field: str) -> Any:
        """A step time as read (an Excel date stays a datetime), its default, or None."""
        spec = self.history_specs[field]
        value = _pick_any(row, spec) if spec else None
        return value if value is not None else self.defaults.get(field) or None

    # The hot path -------------------------------------------------------------------------

    def _str(self, row: Sequence[Any], spec: _CompiledSpec, field: str) -> str:
        try:
            value = _pick(row, spec) if spec else ""
        except _WrongType as exc:
            exc.field = field
            raise
        table = self.values.get(field)
        if table is not None and value:
            value = table.get(_value_key(value), table.get("*", value))
        return value or self.defaults.get(field, "")

    def _raw(self, row: Sequence[Any], spec: _CompiledSpec, field: str) -> str:
        """The text of ``field`` as the file has it, before [values] and [defaults]."""
        try:
            return _pick(row, spec)
        except _WrongType as exc:
            exc.field = field
            raise

    def _opt(self, row: Sequence[Any], spec: _CompiledSpec | None, field: str) -> str | None:
        if spec is None:
            return None
        return self._str(row, spec, field) or None

    def build(self, row: Sequence[Any]) -> Complaint | list[tuple[str | None, str]]:
        """A complaint from ``row``, or the problems that prevent one as (field, reason)."""
        try:
            return self._build(row)
        except _WrongType as exc:
            # A list, object or boolean where text belongs: never stored as its Python repr.
            return [(getattr(exc, "field", None), str(exc))]

    def _build(self, row: Sequence[Any]) -> Complaint | list[tuple[str | None, str]]:
        problems: list[tuple[str | None, str]] = []

        text = self._str(row, self.text, "text")
        if not text:
            problems.append(
                ("text", f"empty, but the complaint text is required (from {self.text_columns})")
            )

        when = self._when(row, problems)
        channel = self.default_channel
        if self.channel:
            raw = self._raw(row, self.channel, "channel")
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
            raw = self._raw(row, self.remedy, "remedy_sought")
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
            listed = _pick_any(row, self.tags) if self.tags else None
            if isinstance(listed, list):
                tags = _tag_list(listed, problems)
            else:
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

        status: Status | None = None
        history: tuple[Event, ...] = ()
        if self.history is not None and when is not None:
            status, history = self.history.build(row, when, channel, problems)

        if problems or when is None:
            return problems

        title = self._opt(row, self.title, "title")
        order = self._opt(row, self.order, "order")
        reference = self._raw(row, self.reference, "reference") if self.reference else ""
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
                status=status or Status.RECEIVED,
                history=history,
            )
        except (ValueError, TypeError) as exc:  # the model's own validators, as a last resort
            return [(None, str(exc))]

    def _when(self, row: Sequence[Any], problems: list[tuple[str | None, str]]) -> datetime | None:
        raw = _pick_any(row, self.received_at) if self.received_at else None
        if raw is None:
            if self.default_when is None:
                problems.append(("received_at", f"empty, but a date is required ({_DATE_EXAMPLE})"))
            return self.default_when
        clock = self._raw(row, self.received_time, "received_time") if self.received_time else ""
        try:
            return self.dates.parse(raw, clock)
        except _BadTime as exc:
            problems.append(("received_time", str(exc)))
        except _BadValue as exc:
            problems.append(("received_at", str(exc)))
        return None

    def _party(self, row: Sequence[Any], problems: list[tuple[str | None, str]]) -> Party:
        found = {field: self._str(row, spec, field) for field, spec in self.party_fields}
        name = found.get("complainant_name") or None
        phone = contact_value(found.get("complainant_phone"))
        email = contact_value(found.get("complainant_email"))
        customer = found.get("customer_id") or None
        if not (name or phone or email or customer):
            return _NO_PARTY
        party = Party(name, phone, email, customer)
        problems.extend(party_problems(party))  # the same checks as `add` and every other door
        return party

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


def _tag_list(items: list[Any], problems: list[tuple[str | None, str]]) -> tuple[str, ...]:
    """A JSON list of tags: each a text (or a number); anything else is a problem."""
    tags: list[str] = []
    for number, item in enumerate(items, 1):
        try:
            text = item.strip() if isinstance(item, str) else _scalar_text(item)
        except _WrongType as exc:
            problems.append(("tags", f"item {number}: {exc}"))
            return ()
        if text:
            tags.append(text)
    return tuple(dict.fromkeys(tags))


def _resolve_default(mapping: ColumnMapping, field: str, vocabulary: Mapping[str, T]) -> T | None:
    value = mapping.defaults.get(field)
    return _enum_member(value, vocabulary) if value else None


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


def _choose_mapping(header: Sequence[str], source: str) -> ColumnMapping:
    native = ColumnMapping.native()
    if not _bind_header_fits(native, header):
        return native
    preset = detect_preset(header)
    if preset is not None:
        return ColumnMapping.preset(preset)
    not_filled = _bind_header_fits(native, header)
    raise ConfigError(_misfit_message(source, None, header, not_filled))
