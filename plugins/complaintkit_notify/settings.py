"""The ``[notifications]`` configuration, checked completely when it is loaded.

Every mistake is a :class:`~complaintkit.errors.ConfigError` naming the configuration file and
the key, e.g. ``complaintkit.toml: notifications.rules[2].recipients: unknown recipient
'complainent'; use complainant, assignee, department, level, ...`` (see
:func:`complaintkit.structure_section`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from complaintkit import (
    Channel,
    Config,
    ConfigError,
    EscalationLevel,
    InvalidSetting,
    structure_section,
)

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


def _addresses(_: object, attribute: attrs.Attribute[Any], value: Mapping[str, Any]) -> None:
    for name, entry in value.items():
        if attribute.name == "levels" and name not in LEVELS:
            raise InvalidSetting(f"unknown level {name!r}; levels: {', '.join(LEVELS)}", "levels")
        for key, addresses in entry.items():
            if not addresses or not all(addresses):
                raise InvalidSetting("must not be empty", (attribute.name, name, key))


@attrs.frozen
class Directory:
    """``[notifications.recipients]``: addresses of departments, levels and people.

    Each entry maps an address kind (``email``, ``phone``) or a channel name to one address or
    a list; ``name`` is how name-addressed channels (webhook, chat, console) call the entry.
    """

    departments: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(
        factory=dict, validator=_addresses
    )
    levels: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(
        factory=dict, validator=_addresses
    )
    people: Mapping[str, Mapping[str, tuple[str, ...]]] = attrs.field(
        factory=dict, validator=_addresses
    )

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


def _hint(value: str, words: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, words, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _event(_: object, __: object, value: str) -> None:
    if value not in EVENTS:
        shown = ", ".join(EVENTS)
        raise InvalidSetting(f"{value!r} is not an event ({shown}){_hint(value, EVENTS)}", "event")


def _recipients(rule: _RuleTable, _: object, value: tuple[str, ...]) -> None:
    if not value:
        raise InvalidSetting('must not be empty (e.g. ["complainant"])', "recipients")
    for recipient in value:
        kind, sep, name = recipient.partition(":")
        if not ((sep and kind in _NAMED and name) or (not sep and kind in RECIPIENT_KINDS)):
            options = ", ".join([*RECIPIENT_KINDS, "department:NAME", "level:NAME", "person:NAME"])
            raise InvalidSetting(
                f"unknown recipient {recipient!r}; use {options}"
                f"{_hint(recipient, RECIPIENT_KINDS)}",
                "recipients",
            )
        if kind == "level" and sep and name not in LEVELS:
            raise InvalidSetting(
                f"unknown level {name!r}; levels: {', '.join(LEVELS)}", "recipients"
            )
        if rule.event in GROUP_EVENTS and not sep:
            raise InvalidSetting(
                f"a {rule.event} is about many complaints, so {recipient!r} means nobody; name "
                "them: department:NAME, level:NAME or person:NAME",
                "recipients",
            )


def _name(_: object, __: object, value: str | None) -> None:
    if value is not None and (not value or ":" in value):
        raise InvalidSetting(f"must be a non-empty name without ':', got {value!r}", "name")


def _template(_: object, __: object, value: str | None) -> None:
    if value is not None and (not value or "/" in value or "." in value):
        raise InvalidSetting("must be a template name such as 'received'", "template")


def _one_channel_key(rule: _RuleTable, _: object, value: tuple[str, ...]) -> None:
    if rule.channel and value:
        raise InvalidSetting("give channel or channels, not both")
    if not rule.channel and not value:
        raise InvalidSetting("channels is missing (names from [notifications.channels])")


def _filters(rule: _RuleTable, _: object, value: frozenset[str]) -> None:
    if value and rule.event not in ("sla_warning", "sla_breach"):
        raise InvalidSetting("only sla_warning and sla_breach rules have targets", "targets")
    if rule.event in GROUP_EVENTS:
        for key in ("labels", "min_level", "complaint_channels", "targets"):
            if getattr(rule, key):
                raise InvalidSetting(f"a {rule.event} rule has no complaint to filter on", key)


@attrs.frozen
class _RuleTable:
    event: str = attrs.field(validator=_event)
    recipients: tuple[str, ...] = attrs.field(validator=_recipients)
    name: str | None = attrs.field(default=None, validator=_name)
    channel: tuple[str, ...] = ()
    channels: tuple[str, ...] = attrs.field(default=(), validator=_one_channel_key)
    template: str | None = attrs.field(default=None, validator=_template)
    lang: Literal["en", "zh"] | None = None
    labels: tuple[tuple[str, str], ...] = ()
    min_level: EscalationLevel | None = None
    complaint_channels: frozenset[Channel] = frozenset()
    targets: frozenset[Literal["acknowledge", "respond", "resolve"]] = attrs.field(
        default=frozenset(), validator=_filters
    )


def _channel_tables(_: object, __: object, value: Mapping[str, Mapping[str, Any]]) -> None:
    for name, table in value.items():
        if table.get("type") not in CHANNEL_TYPES:
            raise InvalidSetting(
                f"{table.get('type')!r} is not a channel type ({', '.join(CHANNEL_TYPES)})",
                ("channels", name, "type"),
            )
        if ":" in name:
            raise InvalidSetting("a channel name must not contain ':'", ("channels", name))


def _at_least(minimum: float) -> Callable[[object, attrs.Attribute[Any], float], None]:
    def check(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if value < minimum:
            raise InvalidSetting(f"must be at least {minimum:g}, got {value!r}", attribute.name)

    return check


@attrs.frozen
class _NotificationsTable:
    lang: Literal["en", "zh"] | None = None
    templates: str | None = None
    channels: dict[str, dict[str, Any]] = attrs.field(factory=dict, validator=_channel_tables)
    rules: tuple[_RuleTable, ...] = ()
    recipients: Directory = attrs.field(factory=Directory)
    max_attempts: int = attrs.field(default=8, validator=_at_least(1))
    backoff: float = attrs.field(default=30.0, validator=_at_least(0))
    backoff_max: float = attrs.field(default=3600.0, validator=_at_least(0))
    lease: float = attrs.field(default=600.0, validator=_at_least(1))
    batch: int = attrs.field(default=20, validator=_at_least(1))


def load_settings(config: Config) -> Settings:
    """Read and check ``[notifications]`` (channel options are checked by the channels)."""
    where = config.where
    section = structure_section(config, "notifications", _NotificationsTable)
    lang = section.lang or config.lang
    templates_dir: Path | None = None
    if section.templates is not None:
        templates_dir = config.resolve_path(section.templates)
        if not templates_dir.is_dir():
            raise ConfigError(f"{where}: notifications.templates: {templates_dir} is not a folder")
    rules: list[Rule] = []
    for number, table in enumerate(section.rules, 1):
        at = f"{where}: notifications.rules[{number}]"
        name = table.name or f"{table.event}-{number}"
        if name in (rule.name for rule in rules):
            raise ConfigError(f"{at}.name: two [[notifications.rules]] are named {name!r}")
        chosen = table.channels or table.channel
        for channel in chosen:
            if channel not in section.channels:
                known = ", ".join(sorted(section.channels)) or "none configured"
                raise ConfigError(
                    f"{at}.channels: no channel {channel!r} in [notifications.channels] ({known})"
                )
        rules.append(
            Rule(
                name=name,
                event=table.event,
                channels=chosen,
                recipients=table.recipients,
                template=table.template or table.event,
                lang=table.lang or lang,
                labels=table.labels,
                min_level=table.min_level,
                complaint_channels=frozenset(c.value for c in table.complaint_channels),
                targets=frozenset(table.targets),
            )
        )
    return Settings(
        where=where,
        channels=section.channels,
        rules=tuple(rules),
        directory=section.recipients,
        lang=lang,
        templates_dir=templates_dir,
        max_attempts=section.max_attempts,
        backoff=section.backoff,
        backoff_max=section.backoff_max,
        lease=section.lease,
        batch=section.batch,
    )
