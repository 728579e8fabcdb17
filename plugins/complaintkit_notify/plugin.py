"""The notify plugin: channels from ``[notifications.channels]``, rules on every lifecycle
event, and the ``notify`` and ``outbox`` commands.

Nothing happens unless the configuration has a ``[notifications]`` table. Messages are queued
in the store's outbox inside the lifecycle hooks (cheap: one small transaction on a connection
the store keeps) and sent only by ``complaintkit outbox drain``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from complaintkit import ConfigError, hookimpl

if TYPE_CHECKING:
    import click

    from complaintkit import Complaint, Config, Desk, Event, Label, NotificationChannel, PluginHost
    from complaintkit.outbox import Outbox, OutboxMessage
    from complaintkit.spikes import SpikeWarning

    from .engine import Notifier

__all__ = ["notifier"]

_notifiers: weakref.WeakKeyDictionary[PluginHost, Notifier | None] = weakref.WeakKeyDictionary()
# Messages of a desk's open batch (an import, a sweep), queued together when it closes.
_pending: weakref.WeakKeyDictionary[Desk, list[OutboxMessage]] = weakref.WeakKeyDictionary()
#: Queue at least this often during a batch, so a huge import never holds every message.
PENDING_LIMIT = 5000


def notifier(host: PluginHost) -> Notifier | None:
    """The host's notifier (built once), or None when nothing is configured."""
    if host not in _notifiers:
        if "notifications" not in host.config.data:
            _notifiers[host] = None
        else:
            from .engine import Notifier

            _notifiers[host] = Notifier.for_host(host)
    return _notifiers[host]


@hookimpl
def register_notification_channels(
    register: Callable[[NotificationChannel], None], config: Config
) -> None:
    """A channel per ``[notifications.channels.NAME]`` (type console, log, email, webhook,
    sms or dingtalk); the whole ``[notifications]`` table is checked here."""
    if "notifications" not in config.data:
        return
    from .channels import build_channel
    from .settings import load_settings
    from .templates import TemplateSet

    settings = load_settings(config)
    channels = [
        build_channel(name, table, config)
        for name, table in settings.channels.items()
        if table["type"] != "plugin"
    ]
    templates = TemplateSet(settings.templates_dir)
    types = settings.channel_types
    for rule in settings.rules:
        for channel in rule.channels:
            if templates.find(rule.template, types[channel], rule.lang) is None:
                folders = " or ".join(str(folder / rule.lang) for folder in templates.dirs)
                raise ConfigError(
                    f"{config.where}: [[notifications.rules]] {rule.name!r} template: no "
                    f"{rule.template}.{types[channel]}.txt or {rule.template}.txt in {folders}"
                )
            templates.get(rule.template, rule.event, types[channel], rule.lang)
    for channel in channels:
        register(channel)


def _notify(desk: Desk, event: str, complaint: Complaint, **details: Any) -> None:
    found = notifier(desk.host)
    if found is None or event not in found.by_event:
        return
    _queue(desk, found.messages(event, complaint, details, desk.clock()))


def _queue(desk: Desk, messages: list[OutboxMessage]) -> None:
    if not messages:
        return
    from complaintkit.outbox import outbox_of

    outbox = outbox_of(desk.store)
    if not desk.in_batch:
        outbox.enqueue(messages)
        return
    # In a batch, one transaction for many complaints instead of one per complaint.
    pending = _pending.setdefault(desk, [])
    pending.extend(messages)
    if len(pending) >= PENDING_LIMIT:
        _flush(desk, outbox)
    desk.after_batch("notify", lambda: _flush(desk, outbox))


def _flush(desk: Desk, outbox: Outbox) -> None:
    pending = _pending.pop(desk, None)
    if pending:
        outbox.enqueue(pending)


def _at(value: datetime) -> str:
    return value.isoformat()


@hookimpl
def desk_opened(desk: Desk) -> None:
    """Build the channels and the notifier before any work, so that a mistake in a channel's
    table, a rule naming a channel no plugin registered (type ``plugin``, its plugin not
    loaded) or a broken template stops the command instead of every message of the run
    being lost in the lifecycle hooks."""
    desk.host.channels()
    notifier(desk.host)


@hookimpl
def complaint_received(complaint: Complaint, desk: Desk) -> None:
    """Queue ``received`` messages (the acknowledgement to the complainant)."""
    _notify(desk, "received", complaint)


@hookimpl
def complaint_classified(
    complaint: Complaint, label: Label, previous: Label | None, desk: Desk
) -> None:
    """Queue ``classified`` messages."""
    found = notifier(desk.host)
    if found is None or "classified" not in found.by_event:
        return
    from .engine import label_data

    lang = desk.host.config.lang
    _notify(
        desk,
        "classified",
        complaint,
        label=label_data(desk.host, label, lang),
        previous=label_data(desk.host, previous, lang) if previous else None,
    )


_TRANSITION_EVENTS = {"acknowledge": "acknowledged", "resolve": "resolved"}


@hookimpl
def complaint_transitioned(complaint: Complaint, event: Event, desk: Desk) -> None:
    """Queue ``acknowledged`` and ``resolved`` messages."""
    name = _TRANSITION_EVENTS.get(event.action)
    if name is None:
        return
    _notify(
        desk,
        name,
        complaint,
        action=event.action,
        reason=event.reason,
        actor=event.actor,
        at=_at(event.at),
    )


@hookimpl
def complaint_escalated(complaint: Complaint, event: Event, desk: Desk) -> None:
    """Queue ``escalated`` messages (``level`` recipients are the new level's people)."""
    _notify(
        desk,
        "escalated",
        complaint,
        from_level=event.data.get("from"),
        to_level=event.data.get("to"),
        reason=event.reason,
        at=_at(event.at),
    )


@hookimpl
def complaint_closed(complaint: Complaint, desk: Desk) -> None:
    """Queue ``closed`` messages."""
    closing = [e for e in complaint.history if e.action == "close"]
    at = closing[-1].at if closing else desk.clock()
    _notify(desk, "closed", complaint, satisfaction=complaint.satisfaction, at=_at(at))


@hookimpl
def complaint_sla_warning(
    complaint: Complaint, target: str, deadline: datetime, desk: Desk
) -> None:
    """Queue ``sla_warning`` messages."""
    _notify(desk, "sla_warning", complaint, target=target, deadline=_at(deadline))


@hookimpl
def complaint_sla_breached(
    complaint: Complaint, target: str, deadline: datetime, desk: Desk
) -> None:
    """Queue ``sla_breach`` messages (``level`` = the level after any escalation)."""
    _notify(desk, "sla_breach", complaint, target=target, deadline=_at(deadline))


@hookimpl
def complaint_recomplaint(complaint: Complaint, previous: Complaint, desk: Desk) -> None:
    """Queue ``recomplaint`` messages; ``previous`` is the earlier complaint."""
    found = notifier(desk.host)
    if found is None or "recomplaint" not in found.by_event:
        return
    from .engine import complaint_data

    _notify(
        desk,
        "recomplaint",
        complaint,
        previous=complaint_data(desk.host, previous, desk.host.config.lang),
    )


@hookimpl
def spike_detected(warning: SpikeWarning, desk: Desk) -> None:
    """Queue ``spike`` messages (keyed by the warning's stable id: queued once)."""
    found = notifier(desk.host)
    if found is None or "spike" not in found.by_event:
        return
    _queue(desk, found.spike_messages(warning, desk.clock()))


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit notify preview`` and ``complaintkit outbox list|drain|retry``."""
    from .cli import notify_group, outbox_group

    cli.add_command(notify_group)
    cli.add_command(outbox_group)
