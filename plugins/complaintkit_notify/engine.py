"""From lifecycle events to queued messages, and from the outbox to the channels.

:class:`Notifier` is built once per plugin host. On each event it picks the matching rules,
resolves every recipient to an address for each of the rule's channels, renders the template,
and queues one :class:`~complaintkit.outbox.OutboxMessage` per (rule, channel, address) in the
store's outbox. Nothing is sent here: :func:`drain` (``complaintkit outbox drain``) does that,
so a slow or failing channel never delays a lifecycle change.

A message that cannot be produced (the complainant has no e-mail address, a template fails
while rendering) is still queued, as ``dead`` with the reason, so ``outbox list --status dead``
shows it instead of it silently never existing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from complaintkit import (
    Complaint,
    ComplaintkitError,
    ConfigError,
    DeliveryError,
    EscalationLevel,
    Label,
    NotificationChannel,
    PluginHost,
    name_of,
)
from complaintkit.early_warning import SpikeWarning
from complaintkit.outbox import MessageStatus, Outbox, OutboxMessage

from .settings import Rule, Settings, load_settings
from .templates import TemplateSet

__all__ = ["DrainResult", "Notifier", "drain", "occurrence", "spike_variables"]

PAYLOAD_VERSION = 1
#: Channel types whose messages carry the complaint as data (the versioned webhook payload).
STRUCTURED = frozenset({"webhook", "plugin"})
EVENT_NAMES = {
    "received": ("Complaint received", "投诉已受理"),
    "acknowledged": ("Complaint acknowledged", "投诉已确认"),
    "classified": ("Complaint classified", "投诉已分类"),
    "escalated": ("Complaint escalated", "投诉已升级"),
    "sla_warning": ("Deadline approaching", "即将超时"),
    "sla_breach": ("Deadline missed", "已超时"),
    "resolved": ("Complaint resolved", "投诉已解决"),
    "closed": ("Complaint closed", "投诉已关闭"),
    "recomplaint": ("Repeat complaint", "重复投诉"),
    "spike": ("Complaint spike", "投诉突增预警"),
}
TARGET_NAMES = {
    "acknowledge": ("acknowledgement", "受理确认"),
    "respond": ("first response", "首次答复"),
    "resolve": ("resolution", "解决"),
}


def _pick(names: tuple[str, str], lang: str) -> str:
    return names[1] if lang == "zh" else names[0]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def complaint_data(host: PluginHost, complaint: Complaint, lang: str) -> dict[str, Any]:
    """The complaint as template variables and webhook payload (JSON-compatible)."""
    labels: dict[str, Any] = {}
    for scheme_name, label in complaint.labels.items():
        labels[scheme_name] = label_data(host, label, lang)
    text = complaint.text
    return {
        "reference": complaint.reference,
        "title": complaint.title,
        "text": text,
        "summary": complaint.title or (text[:60] + ("…" if len(text) > 60 else "")),
        "status": complaint.status.value,
        "status_name": name_of(complaint.status, lang),
        "channel": complaint.channel.value,
        "channel_name": name_of(complaint.channel, lang),
        "complainant": {
            "name": complaint.complainant.name,
            "phone": complaint.complainant.phone,
            "email": complaint.complainant.email,
            "customer_id": complaint.complainant.customer_id,
        },
        "product": complaint.product,
        "order": complaint.order,
        "department": complaint.department,
        "assignee": complaint.assignee,
        "level": complaint.escalation_level.slug,
        "level_name": name_of(complaint.escalation_level, lang),
        "labels": labels,
        "received_at": _iso(complaint.received_at),
        "due_at": _iso(complaint.due_at),
        "solution": complaint.solution,
        "satisfaction": complaint.satisfaction,
        "parent": complaint.parent,
        "recomplaint_count": complaint.recomplaint_count,
    }


def label_data(host: PluginHost, label: Label, lang: str) -> dict[str, Any]:
    """A label with its display name in ``lang``."""
    from complaintkit import label_names

    try:
        scheme = host.scheme(label.scheme)
    except ComplaintkitError:
        scheme = None
    return {
        "scheme": label.scheme,
        "label": label.label,
        "name": label_names(scheme, label.label).get(lang),
        "confidence": label.confidence,
    }


def level_data(slug: str, lang: str) -> dict[str, str]:
    """An escalation level as ``{"slug", "name"}``."""
    return {"slug": slug, "name": name_of(EscalationLevel[slug.upper()], lang)}


def occurrence(event: str, details: Mapping[str, Any]) -> str:
    """What makes one occurrence of an event unique for a complaint (part of the outbox key)."""
    if event == "classified":
        return f"classified.{details['label']['scheme']}.{details['label']['label']}"
    if event in ("sla_warning", "sla_breach"):
        return f"{event}.{details['target']}.{details['deadline']}"
    if event in ("received", "recomplaint"):
        return event
    return f"{event}.{details.get('at')}"


@attrs.frozen
class Recipient:
    """Who a message goes to: the kind of recipient, a display name and the address."""

    kind: str
    name: str | None
    address: str | None
    problem: str | None = None


def localised(details: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """Event details as template variables: names of targets and levels in ``lang``."""
    extra = dict(details)
    if "target" in extra:
        names = TARGET_NAMES.get(extra["target"], (extra["target"], extra["target"]))
        extra["target_name"] = _pick(names, lang)
    for key in ("from_level", "to_level"):
        if isinstance(extra.get(key), str):
            extra[key] = level_data(extra[key], lang)
    return extra


def template_variables(
    event: str,
    complaint: Mapping[str, Any],
    extra: Mapping[str, Any],
    recipient: Recipient,
    lang: str,
) -> dict[str, Any]:
    """Everything a template for ``event`` can use (see :func:`templates.event_schema`)."""
    return {
        **extra,
        "complaint": complaint,
        "event": event,
        "event_name": _pick(EVENT_NAMES[event], lang),
        "recipient": {
            "kind": recipient.kind,
            "name": recipient.name,
            "address": recipient.address,
        },
        "lang": lang,
    }


def spike_variables(warning: Mapping[str, Any], recipient: Recipient, lang: str) -> dict[str, Any]:
    """Everything a ``spike`` template can use: the warning, no complaint."""
    return {
        "warning": warning,
        "event": "spike",
        "event_name": _pick(EVENT_NAMES["spike"], lang),
        "recipient": {
            "kind": recipient.kind,
            "name": recipient.name,
            "address": recipient.address,
        },
        "lang": lang,
    }


class Notifier:
    """The rules of one configuration, ready to turn events into queued messages."""

    def __init__(
        self,
        host: PluginHost,
        settings: Settings,
        channels: Mapping[str, NotificationChannel],
    ) -> None:
        self.host = host
        self.settings = settings
        self.channels = channels
        self.templates = TemplateSet(settings.templates_dir)
        self.by_event: dict[str, list[Rule]] = {}
        for rule in settings.rules:
            self.by_event.setdefault(rule.event, []).append(rule)
        self.check()

    @classmethod
    def for_host(cls, host: PluginHost) -> Notifier:
        """Build from the host's configuration and channels."""
        settings = load_settings(host.config)
        channels = host.channels()
        for rule in settings.rules:
            for name in rule.channels:
                if name not in channels:
                    raise ConfigError(
                        f"{settings.where}: [notifications.channels.{name}] has type 'plugin' "
                        f"but no plugin registers a channel named {name!r}"
                    )
        return cls(host, settings, channels)

    def channel_type(self, name: str) -> str:
        """The configured type of a channel (``plugin`` for channels from other plugins)."""
        return str(self.settings.channels[name]["type"])

    def check(self) -> None:
        """Load and check every template every rule can use (errors name file and line)."""
        for rule in self.settings.rules:
            for channel in rule.channels:
                self.templates.get(rule.template, rule.event, self.channel_type(channel), rule.lang)

    # --- turning an event into messages ----------------------------------------------------

    def _matches(self, rule: Rule, complaint: Complaint, details: Mapping[str, Any]) -> bool:
        if rule.min_level is not None and complaint.escalation_level < rule.min_level:
            return False
        if rule.complaint_channels and complaint.channel.value not in rule.complaint_channels:
            return False
        if rule.targets and details.get("target") not in rule.targets:
            return False
        return all(complaint.label(scheme) == label for scheme, label in rule.labels)

    def _directory(self, group: str, key: str | None, channel: str) -> list[Recipient]:
        kind = "person" if group == "assignee" else group
        entry = self.settings.directory.group(kind).get(key or "") if key else None
        if entry is None:
            what = key if key else f"(the complaint has no {group})"
            return [Recipient(group, key, None, f"no {kind} {what} in [notifications.recipients]")]
        channel_obj = self.channels[channel]
        addresses = entry.get(channel) or entry.get(channel_obj.address_kind)
        display = entry["name"][0] if entry.get("name") else key
        if not addresses and channel_obj.address_kind == "name":
            addresses = (display or key or group,)
        if not addresses:
            return [
                Recipient(
                    group,
                    display,
                    None,
                    f"{kind} {key!r} has no {channel_obj.address_kind} or {channel} address "
                    "in [notifications.recipients]",
                )
            ]
        return [Recipient(group, display, address) for address in addresses]

    def recipients(self, spec: str, complaint: Complaint, channel: str) -> list[Recipient]:
        """The addresses ``spec`` (complainant, assignee, …) means for ``channel``."""
        kind, _, named = spec.partition(":")
        if named:
            return self._directory(kind, named, channel)
        if kind == "assignee":
            return self._directory("assignee", complaint.assignee, channel)
        if kind == "department":
            return self._directory("department", complaint.department, channel)
        if kind == "level":
            return self._directory("level", complaint.escalation_level.slug, channel)
        party = complaint.complainant
        address_kind = self.channels[channel].address_kind
        address = (
            party.email
            if address_kind == "email"
            else party.phone
            if address_kind == "phone"
            else party.customer_id or party.name or complaint.reference
        )
        if not address:
            return [
                Recipient("complainant", party.name, None, f"the complainant has no {address_kind}")
            ]
        return [Recipient("complainant", party.name, address)]

    def messages(
        self,
        event: str,
        complaint: Complaint,
        details: Mapping[str, Any],
        now: datetime,
    ) -> list[OutboxMessage]:
        """The messages the configured rules ask for on this event."""
        found: list[OutboxMessage] = []
        seen: set[str] = set()
        which = occurrence(event, details)
        for rule in self.by_event.get(event, ()):
            if not self._matches(rule, complaint, details):
                continue
            lang = rule.lang
            data = complaint_data(self.host, complaint, lang)
            extra = localised(details, lang)
            base = {"version": PAYLOAD_VERSION, "event": event, "rule": rule.name}
            full: dict[str, Any] | None = None
            for channel in rule.channels:
                # Only receivers of structured data (webhooks, plugin channels) get the whole
                # complaint; the others need the text alone, and smaller rows queue faster.
                if self.channel_type(channel) in STRUCTURED:
                    if full is None:
                        full = {
                            **base,
                            "complaint": complaint_data(self.host, complaint, "en"),
                            "details": dict(details),
                        }
                    payload = full
                else:
                    payload = base
                template = self.templates.get(
                    rule.template, event, self.channel_type(channel), lang
                )
                for spec in rule.recipients:
                    for recipient in self.recipients(spec, complaint, channel):
                        address = recipient.address or f"<{spec}>"
                        key = f"{complaint.reference}:{which}:{rule.name}:{channel}:{address}"
                        if key in seen:
                            continue
                        seen.add(key)
                        message = OutboxMessage(
                            key=key,
                            channel=channel,
                            recipient=address,
                            body="",
                            created_at=now,
                            event=event,
                            reference=complaint.reference,
                            lang=lang,
                            payload=payload,
                        )
                        if recipient.problem is not None:
                            found.append(self._dead(message, recipient.problem))
                            continue
                        variables = template_variables(event, data, extra, recipient, lang)
                        try:
                            rendered = template.render(variables)
                        except ConfigError as exc:
                            found.append(self._dead(message, f"template failed: {exc}"))
                            continue
                        found.append(
                            attrs.evolve(
                                message,
                                subject=rendered.subject,
                                body=rendered.body,
                                payload=payload
                                if rendered.html is None
                                else {**payload, "html": rendered.html},
                            )
                        )
        return found

    def spike_messages(self, warning: SpikeWarning, now: datetime) -> list[OutboxMessage]:
        """The messages the ``spike`` rules ask for on a new early-warning spike.

        Keys are ``spike:<warning id>:<rule>:<channel>:<address>``, so the same warning queued
        again (a repeated sweep) is stored once.
        """
        found: list[OutboxMessage] = []
        seen: set[str] = set()
        for rule in self.by_event.get("spike", ()):
            lang = rule.lang
            data = warning.as_data(lang)
            base = {"version": PAYLOAD_VERSION, "event": "spike", "rule": rule.name}
            for channel in rule.channels:
                structured = self.channel_type(channel) in STRUCTURED
                payload = {**base, "warning": warning.as_data("en")} if structured else base
                template = self.templates.get(
                    rule.template, "spike", self.channel_type(channel), lang
                )
                for spec in rule.recipients:
                    kind, _, named = spec.partition(":")
                    for recipient in self._directory(kind, named, channel):
                        address = recipient.address or f"<{spec}>"
                        key = f"spike:{warning.id}:{rule.name}:{channel}:{address}"
                        if key in seen:
                            continue
                        seen.add(key)
                        message = OutboxMessage(
                            key=key,
                            channel=channel,
                            recipient=address,
                            body="",
                            created_at=now,
                            event="spike",
                            lang=lang,
                            payload=payload,
                        )
                        if recipient.problem is not None:
                            found.append(self._dead(message, recipient.problem))
                            continue
                        variables = spike_variables(data, recipient, lang)
                        try:
                            rendered = template.render(variables)
                        except ConfigError as exc:
                            found.append(self._dead(message, f"template failed: {exc}"))
                            continue
                        found.append(
                            attrs.evolve(
                                message,
                                subject=rendered.subject,
                                body=rendered.body,
                                payload=payload
                                if rendered.html is None
                                else {**payload, "html": rendered.html},
                            )
                        )
        return found

    @staticmethod
    def _dead(message: OutboxMessage, reason: str) -> OutboxMessage:
        return attrs.evolve(message, status=MessageStatus.DEAD, last_error=reason)


# --- delivery ------------------------------------------------------------------------------


@attrs.define
class DrainResult:
    """What one drain did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    lost_lease: int = 0
    errors: list[str] = attrs.field(factory=list)


def backoff(
    settings: Settings, attempts: int, rng: Callable[[], float] = random.random
) -> timedelta:
    """Exponential backoff with jitter: base × 2^(attempts-1), capped, then 50–100 % of that."""
    delay = min(settings.backoff_max, settings.backoff * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=delay * (0.5 + rng() / 2))


def drain(
    outbox: Outbox,
    channels: Mapping[str, NotificationChannel],
    settings: Settings,
    *,
    worker: str,
    limit: int | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    progress: Callable[[OutboxMessage, str], None] | None = None,
) -> DrainResult:
    """Deliver due messages until none is due (or ``limit`` were tried).

    Safe to run from several processes at once: each message is leased to one worker, and a
    message whose lease ran out before it was sent is left for the next claim.
    """
    result = DrainResult()
    tried = 0
    lease = timedelta(seconds=settings.lease)
    while limit is None or tried < limit:
        size = settings.batch if limit is None else min(settings.batch, limit - tried)
        batch = outbox.claim(clock(), worker=worker, limit=size, lease=lease)
        if not batch:
            break
        for message in batch:
            tried += 1
            outcome = _deliver(outbox, channels, settings, message, worker, clock, result)
            if progress is not None:
                progress(message, outcome)
    return result


def _deliver(
    outbox: Outbox,
    channels: Mapping[str, NotificationChannel],
    settings: Settings,
    message: OutboxMessage,
    worker: str,
    clock: Callable[[], datetime],
    result: DrainResult,
) -> str:
    if message.lease_until is not None and clock() >= message.lease_until:
        result.lost_lease += 1
        return "lease expired"
    channel = channels.get(message.channel)
    error: DeliveryError
    if not message.body:
        # Queued dead because it could not be produced (no address, a failed template) and made
        # pending again by `outbox retry`: there is no text, and an empty mail helps no one.
        error = DeliveryError(
            f"never rendered, nothing to send: {message.last_error or 'no text'}", permanent=True
        )
    elif channel is None:
        error = DeliveryError(f"no channel named {message.channel!r} is configured", permanent=True)
    else:
        try:
            channel.send(message)
        except DeliveryError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a broken channel plugin: retry later, report
            error = DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False)
        else:
            if outbox.mark_sent(message.key, at=clock(), worker=worker):
                result.sent += 1
                return "sent"
            result.lost_lease += 1
            return "sent, but the lease had passed to another worker"
    now = clock()
    if error.permanent or message.attempts >= settings.max_attempts:
        reason = (
            error.reason
            if error.permanent
            else (f"gave up after {message.attempts} attempts: {error.reason}")
        )
        outbox.mark_failed(message.key, at=now, worker=worker, error=reason, retry_at=None)
        result.dead += 1
        result.errors.append(f"{message.key}: {reason}")
        return f"dead: {reason}"
    retry_at = now + backoff(settings, message.attempts)
    outbox.mark_failed(message.key, at=now, worker=worker, error=error.reason, retry_at=retry_at)
    result.retrying += 1
    result.errors.append(f"{message.key}: {error.reason}")
    return f"retry at {retry_at:%H:%M:%S}: {error.reason}"


def pending_keys(outbox: Outbox) -> Iterable[str]:
    """Keys of the pending messages (for tests and the CLI)."""
    return (m.key for m in outbox.messages(MessageStatus.PENDING))
