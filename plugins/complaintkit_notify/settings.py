"""The ``[notifications]`` configuration, checked completely when it is loaded.

Every mistake is a :class:`~complaintkit.errors.ConfigError` naming the configuration file and
the key, e.g. ``complaintkit.toml: [notifications.rules][2] recipients: unknown recipient
'complainent'; use complainant, assignee, department, level, ...``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from complaintkit import Config, ConfigError, EscalationLevel

__all__ = [
    "EVENTS",
    "RECIPIENT_KINDS",
    "Directory",
    "Rule",
    "Settings",
    "load_settings",
]

#: The events rules can name, in lifecycle order.
EVENTS = (
    "received",
    "acknowledged",
    "classified",
    "escalated",
    "sla_warning",
    "sla_breach",
    "resolved",
    "closed",
    "recomplaint",
    "spike",
)
#: Events about no single complaint (the early warning's ``spike``): their rules name their
#: recipients (``department:NAME``, ``level:NAME``, ``person:NAME``) and have no complaint filters.
GROUP_EVENTS = ("spike",)
#: Who a rule can notify; ``department:NAME``, ``level:NAME`` and ``person:NAME`` name a
#: directory entry directly.
RECIPIENT_KINDS = ("complainant", "assignee", "department", "level")
_NAMED = ("department", "level", "person")
LEVELS = tuple(level.slug for level in EscalationLevel)
SLA_TARGETS = ("acknowledge", "respond", "resolve")
CHANNEL_TYPES = ("console", "log", "email", "webhook", "sms", "dingtalk", "plugin")


def _unknown_keys(where: str, table: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")


@attrs.frozen
class Rule:
    """One ``[[notifications.rules]]`` entry."""

    name: str
    event: str
    channels: tuple[str, ...]
    recipients: tuple[str, ...]
    template: str
    lang: str
    labels: tuple[tuple[str, str], ...] = ()
    min_level: EscalationLevel | None = None
    complaint_channels: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()


@attrs.frozen
class Directory:
    """``[notifications.recipients]``: addresses of departments, levels and people.

    Each entry maps an address kind (``email``, ``phone``) or a channel name to one address or
    a list; ``name`` is how name-addressed channels (webhook, chat, console) call the entry.
    """

    departments: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(factory=dict)
    levels: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(factory=dict)
    people: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(factory=dict)

    def group(self, kind: str) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
        """The entries of one kind (department, level or person)."""
        return {"department": self.departments, "level": self.levels, "person": self.people}[kind]


@attrs.frozen
class Settings:
    """Everything ``[notifications]`` says, checked."""

    where: str
    channels: Mapping[str, Mapping[str, Any]]
    rules: tuple[Rule, ...]
    directory: Directory
    lang: str
    templates_dir: Path | None
    max_attempts: int = 8
    backoff: float = 30.0
    backoff_max: float = 3600.0
    lease: float = 600.0
    batch: int = 20

    @property
    def channel_types(self) -> dict[str, str]:
        """Channel name → type."""
        return {name: str(table["type"]) for name, table in self.channels.items()}


def _str_list(where: str, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a string or a list of strings, got {value!r}")
    if not value and not allow_empty:
        raise ConfigError(f"{where} must not be empty")
    return tuple(value)


def _number(where: str, value: Any, *, minimum: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"{where} must be a number of at least {minimum}, got {value!r}")
    return float(value)


def _directory(where: str, table: Any) -> Directory:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table")
    _unknown_keys(where, table, ("departments", "levels", "people"))
    groups: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    for group in ("departments", "levels", "people"):
        entries = table.get(group, {})
        if not isinstance(entries, Mapping):
            raise ConfigError(f"{where}.{group} must be a table of entries")
        parsed: dict[str, dict[str, tuple[str, ...]]] = {}
        for name, entry in entries.items():
            at = f"{where}.{group}.{name}"
            if group == "levels" and name not in LEVELS:
                raise ConfigError(f"{at}: unknown level {name!r}; levels: {', '.join(LEVELS)}")
            if not isinstance(entry, Mapping):
                raise ConfigError(f'{at} must be a table such as {{ email = "a@example.cn" }}')
            parsed[name] = {key: _str_list(f"{at}.{key}", value) for key, value in entry.items()}
        groups[group] = parsed
    return Directory(groups["departments"], groups["levels"], groups["people"])


def _rule(where: str, index: int, table: Any, channels: Mapping[str, Any], lang: str) -> Rule:
    at = f"{where}: [[notifications.rules]] #{index + 1}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{at} must be a table")
    _unknown_keys(
        at,
        table,
        (
            "name",
            "event",
            "channel",
            "channels",
            "recipients",
            "template",
            "lang",
            "labels",
            "min_level",
            "complaint_channels",
            "targets",
        ),
    )
    event = table.get("event")
    if event not in EVENTS:
        close = difflib.get_close_matches(str(event), EVENTS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{at} event: {event!r} is not an event ({', '.join(EVENTS)}){hint}")
    name = table.get("name", f"{event}-{index + 1}")
    if not isinstance(name, str) or not name or ":" in name:
        raise ConfigError(f"{at} name must be a non-empty string without ':', got {name!r}")
    at = f"{where}: [[notifications.rules]] {name!r}"
    if "channel" in table and "channels" in table:
        raise ConfigError(f"{at}: give channel or channels, not both")
    if "channel" not in table and "channels" not in table:
        raise ConfigError(f"{at}: channels is missing (names from [notifications.channels])")
    chosen = _str_list(f"{at} channels", table.get("channels", table.get("channel")))
    for channel in chosen:
        if channel not in channels:
            known = ", ".join(sorted(channels)) or "none configured"
            raise ConfigError(
                f"{at} channels: no channel {channel!r} in [notifications.channels] ({known})"
            )
    if "recipients" not in table:
        raise ConfigError(f'{at}: recipients is missing (e.g. ["complainant"])')
    recipients = _str_list(f"{at} recipients", table["recipients"])
    for recipient in recipients:
        kind, sep, value = recipient.partition(":")
        if (sep and kind in _NAMED and value) or (not sep and kind in RECIPIENT_KINDS):
            if kind == "level" and sep and value not in LEVELS:
                raise ConfigError(
                    f"{at} recipients: unknown level {value!r}; levels: {', '.join(LEVELS)}"
                )
            continue
        options = [*RECIPIENT_KINDS, "department:NAME", "level:NAME", "person:NAME"]
        close = difflib.get_close_matches(recipient, RECIPIENT_KINDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{at} recipients: unknown recipient {recipient!r}; use {', '.join(options)}{hint}"
        )
    if event in GROUP_EVENTS:
        for recipient in recipients:
            if ":" not in recipient:
                raise ConfigError(
                    f"{at} recipients: a {event} is about many complaints, so {recipient!r} means "
                    "nobody; name them: department:NAME, level:NAME or person:NAME"
                )
        for key in ("labels", "min_level", "complaint_channels", "targets"):
            if key in table:
                raise ConfigError(f"{at} {key}: a {event} rule has no complaint to filter on")
    template = table.get("template", event)
    if not isinstance(template, str) or not template or "/" in template or "." in template:
        raise ConfigError(f"{at} template must be a template name such as 'received'")
    rule_lang = table.get("lang", lang)
    if rule_lang not in ("en", "zh"):
        raise ConfigError(f"{at} lang must be en or zh, got {rule_lang!r}")
    labels = []
    for item in _str_list(f"{at} labels", table.get("labels", []), allow_empty=True):
        scheme, sep, label = item.partition("=")
        if not sep or not scheme.strip() or not label.strip():
            raise ConfigError(f"{at} labels: {item!r} is not SCHEME=LABEL (e.g. severity=serious)")
        labels.append((scheme.strip(), label.strip()))
    min_level = table.get("min_level")
    if min_level is not None and min_level not in LEVELS:
        raise ConfigError(f"{at} min_level: {min_level!r} is not a level ({', '.join(LEVELS)})")
    from complaintkit import Channel

    intake = _str_list(
        f"{at} complaint_channels", table.get("complaint_channels", []), allow_empty=True
    )
    for value in intake:
        if value not in {c.value for c in Channel}:
            known = ", ".join(c.value for c in Channel)
            raise ConfigError(f"{at} complaint_channels: {value!r} is not a channel ({known})")
    targets = _str_list(f"{at} targets", table.get("targets", []), allow_empty=True)
    if targets and event not in ("sla_warning", "sla_breach"):
        raise ConfigError(f"{at} targets: only sla_warning and sla_breach rules have targets")
    for target in targets:
        if target not in SLA_TARGETS:
            raise ConfigError(f"{at} targets: {target!r} is not one of {', '.join(SLA_TARGETS)}")
    return Rule(
        name=name,
        event=event,
        channels=chosen,
        recipients=recipients,
        template=template,
        lang=rule_lang,
        labels=tuple(labels),
        min_level=EscalationLevel[min_level.upper()] if min_level else None,
        complaint_channels=frozenset(intake),
        targets=frozenset(targets),
    )


def load_settings(config: Config) -> Settings:
    """Read and check ``[notifications]`` (channel options are checked by the channels)."""
    where = config.where
    section = config.section("notifications")
    _unknown_keys(
        f"{where}: [notifications]",
        section,
        (
            "lang",
            "templates",
            "channels",
            "rules",
            "recipients",
            "max_attempts",
            "backoff",
            "backoff_max",
            "lease",
            "batch",
        ),
    )
    lang = section.get("lang", config.lang)
    if lang not in ("en", "zh"):
        raise ConfigError(f"{where}: [notifications] lang must be en or zh, got {lang!r}")
    templates_dir: Path | None = None
    if "templates" in section:
        value = section["templates"]
        if not isinstance(value, str):
            raise ConfigError(f"{where}: [notifications] templates must be a folder path")
        templates_dir = config.resolve_path(value)
        if not templates_dir.is_dir():
            raise ConfigError(
                f"{where}: [notifications] templates: {templates_dir} is not a folder"
            )
    channels = section.get("channels", {})
    if not isinstance(channels, Mapping):
        raise ConfigError(f"{where}: [notifications.channels] must be a table of channels")
    for name, table in channels.items():
        at = f"{where}: [notifications.channels.{name}]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{at} must be a table with a type")
        if table.get("type") not in CHANNEL_TYPES:
            raise ConfigError(
                f"{at} type: {table.get('type')!r} is not a channel type "
                f"({', '.join(CHANNEL_TYPES)})"
            )
        if ":" in name:
            raise ConfigError(f"{at}: a channel name must not contain ':'")
    rules = section.get("rules", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{where}: notifications.rules must be an array of tables")
    parsed = tuple(_rule(where, i, table, channels, lang) for i, table in enumerate(rules))
    names = [rule.name for rule in parsed]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: two [[notifications.rules]] are named {name!r}")
    directory = _directory(f"{where}: [notifications.recipients]", section.get("recipients", {}))
    numbers = {
        key: _number(f"{where}: [notifications] {key}", section[key], minimum=minimum)
        for key, minimum in (
            ("max_attempts", 1),
            ("backoff", 0),
            ("backoff_max", 0),
            ("lease", 1),
            ("batch", 1),
        )
        if key in section
    }
    return Settings(
        where=where,
        channels=channels,
        rules=parsed,
        directory=directory,
        lang=lang,
        templates_dir=templates_dir,
        max_attempts=int(numbers.get("max_attempts", 8)),
        backoff=numbers.get("backoff", 30.0),
        backoff_max=numbers.get("backoff_max", 3600.0),
        lease=numbers.get("lease", 600.0),
        batch=int(numbers.get("batch", 20)),
    )


def secret(where: str, table: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    """A secret given inline (``key``) or through an environment variable (``key_env``)."""
    env_key = f"{key}_env"
    if key in table and env_key in table:
        raise ConfigError(f"{where}: give {key} or {env_key}, not both")
    if env_key in table:
        name = table[env_key]
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where} {env_key} must name an environment variable")
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(f"{where} {env_key}: environment variable {name} is not set")
        return value
    if key in table:
        value = table[key]
        if not isinstance(value, str):
            raise ConfigError(f"{where} {key} must be a string")
        return value
    if required:
        raise ConfigError(f"{where}: {key} (or {env_key}) is missing")
    return None
