"""``complaintkit notify preview`` and ``complaintkit outbox list|drain|retry``."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import click

from complaintkit import ConfigError
from complaintkit.commands import output_option
from complaintkit.display import escape_json_controls, terminal_safe

from .settings import CHANNEL_TYPES, EVENTS

__all__ = ["notify_group", "outbox_group"]


@click.group("notify")
def notify_group() -> None:
    """Notification rules and templates."""


def _sample(lang: str) -> Any:
    from complaintkit import Channel, Complaint, EscalationLevel, Label, Party

    zh = lang == "zh"
    return Complaint(
        reference="CK-20261123-SAMPLE01",
        received_at=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
        title="冰箱送货延误三天" if zh else "Fridge delivered three days late",
        text=(
            "我在双十一买的冰箱延误了三天才送到，外包装破损，客服电话一直打不通。"
            if zh
            else "My fridge arrived three days late, the box was damaged and nobody answered "
            "the service line."
        ),
        channel=Channel.WEB,
        complainant=Party(
            name="王小明" if zh else "Ming Wang",
            phone="+8613800138000",
            email="wang@example.cn",
            customer_id="C-001",
        ),
        product="BCD-520",
        order="O-2026-1111",
        labels={"cause": Label("cause", "delivery", 0.9, ("延误",), "schemes")},
        escalation_level=EscalationLevel.DEPARTMENT,
        department="logistics",
        assignee="li.na",
        due_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )


def _sample_warning() -> Any:
    from datetime import date

    from complaintkit import Names
    from complaintkit.spikes import SpikeWarning

    return SpikeWarning(
        dimension="label:cause",
        dimension_names=Names("cause", "投诉原因"),
        value="product_quality",
        value_names=Names("product quality", "产品质量"),
        period="day",
        period_start=date(2026, 11, 23),
        observed=48,
        expected=12.4,
        upper=27.9,
        method="ewma",
    )


def _sample_details(event: str, complaint: Any, host: Any, lang: str) -> dict[str, Any]:
    from .engine import complaint_data

    at = "2026-11-23T10:00:00+00:00"
    if event in ("acknowledged", "resolved"):
        action = "acknowledge" if event == "acknowledged" else "resolve"
        return {"action": action, "reason": None, "actor": "li.na", "at": at}
    if event == "classified":
        label = {"scheme": "cause", "label": "delivery", "name": "delivery", "confidence": 0.9}
        return {"label": label, "previous": None}
    if event == "escalated":
        return {
            "from_level": "front_line",
            "to_level": "department",
            "reason": "no answer within 24 hours",
            "at": at,
        }
    if event in ("sla_warning", "sla_breach"):
        return {"target": "resolve", "deadline": "2026-11-24T09:30:00+00:00"}
    if event == "closed":
        return {"satisfaction": 4, "at": at}
    if event == "recomplaint":
        return {"previous": complaint_data(host, complaint, lang)}
    return {}


@notify_group.command("preview")
@click.argument("event", type=click.Choice(EVENTS))
@click.option("--ref", "reference", help="Render for this stored complaint (default: a sample).")
@click.option(
    "--channel",
    default="email",
    show_default=True,
    help="A channel name from [notifications.channels], or a channel type "
    f"({', '.join(t for t in CHANNEL_TYPES if t != 'plugin')}).",
)
@click.option("--template", help="Template name (default: the event's name).")
@click.option("--to", "recipient", default="complainant", show_default=True, help="Recipient kind.")
@click.pass_obj
def preview_command(
    app: Any,
    event: str,
    reference: str | None,
    channel: str,
    template: str | None,
    recipient: str,
) -> None:
    """Render the template for EVENT as it would be sent (nothing is queued).

    Example: complaintkit --lang zh notify preview received --channel email
    """
    from .engine import Recipient, complaint_data, localised, template_variables
    from .settings import load_settings
    from .templates import TemplateSet

    config = app.config
    lang = app.lang
    settings = load_settings(config) if "notifications" in config.data else None
    if settings is not None and channel in settings.channels:
        channel_type = settings.channel_types[channel]
    elif channel in CHANNEL_TYPES:
        channel_type = channel
    else:
        known = sorted(settings.channels) if settings else []
        raise ConfigError(
            f"--channel {channel!r} is neither a configured channel ({', '.join(known) or 'none'}) "
            f"nor a channel type ({', '.join(CHANNEL_TYPES)})"
        )
    templates = TemplateSet(settings.templates_dir if settings else None)
    if event == "spike":
        from .engine import spike_variables

        if reference:
            raise ConfigError("--ref: a spike is about many complaints; preview it without --ref")
        found = templates.get(template or event, event, channel_type, lang)
        who = Recipient(recipient, "质量部" if lang == "zh" else "Quality", "quality@example.cn")
        rendered = found.render(spike_variables(_sample_warning().as_data(lang), who, lang))
        _show(found.path, rendered)
        return
    complaint = app.desk.get(reference) if reference else _sample(lang)
    details = localised(_sample_details(event, complaint, app.host, lang), lang)
    found = templates.get(template or event, event, channel_type, lang)
    person = Recipient(recipient, complaint.complainant.name, complaint.complainant.email)
    rendered = found.render(
        template_variables(event, complaint_data(app.host, complaint, lang), details, person, lang)
    )
    _show(found.path, rendered)


def _show(path: Any, rendered: Any) -> None:
    # A rendered message quotes the complaint: nothing in it may act on the terminal.
    click.echo(f"# {path}")
    if rendered.subject is not None:
        click.echo(terminal_safe(f"Subject: {rendered.subject}\n"))
    click.echo(terminal_safe(rendered.body), nl=False)
    if rendered.html is not None:
        click.echo(terminal_safe("\n# HTML part\n" + rendered.html))


@click.group("outbox")
def outbox_group() -> None:
    """The notification outbox: every message is stored here before it is sent."""


def _outbox(app: Any) -> Any:
    from complaintkit.outbox import outbox_of

    return outbox_of(app.store)


# The outbox statuses as ``outbox list`` counts them, in Chinese (English: the values themselves).
_STATUS_ZH = {"pending": "待发送", "sent": "已发送", "dead": "失败"}


def _status(value: str, lang: str) -> str:
    return _STATUS_ZH.get(value, value) if lang == "zh" else value


def _when(value: datetime | None, tz: tzinfo) -> str:
    """In the configured time zone, as every other command shows times (it was UTC)."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@outbox_group.command("list")
@click.option(
    "--status", type=click.Choice(["pending", "sent", "dead"]), help="Only messages in this status."
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@output_option("table", "json")
@click.pass_obj
def list_command(app: Any, status: str | None, limit: int, fmt: str) -> None:
    """List queued, sent and dead messages (with the reason of the last failure)."""
    import json

    from complaintkit.outbox import MessageStatus

    outbox = _outbox(app)
    chosen = MessageStatus(status) if status else None
    messages = list(outbox.messages(chosen, limit=limit))
    if fmt == "json":
        for m in messages:
            click.echo(
                escape_json_controls(
                    json.dumps(
                        {
                            "key": m.key,
                            "status": m.status.value,
                            "channel": m.channel,
                            "recipient": m.recipient,
                            "event": m.event,
                            "reference": m.reference,
                            "subject": m.subject,
                            "attempts": m.attempts,
                            "next_attempt_at": m.next_attempt_at.isoformat()
                            if m.next_attempt_at
                            else None,
                            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
                            "last_error": m.last_error,
                        },
                        ensure_ascii=False,
                    )
                )
            )
        return
    counts = outbox.counts()
    separator = "，" if app.lang == "zh" else ", "
    click.echo(separator.join(f"{_status(s.value, app.lang)} {counts[s]}" for s in MessageStatus))
    for m in messages:
        when = _when(m.sent_at or m.next_attempt_at, app.config.tzinfo)
        line = f"{m.status.value:<8} {m.attempts:>2}x {when:<19}  {m.channel:<10} {m.recipient}"
        line += f"  {m.key}"
        if m.last_error:
            line += f"\n{'':14}last error: {terminal_safe(m.last_error, multiline=False)}"
        click.echo(terminal_safe(line))


@outbox_group.command("drain")
@click.option("--limit", type=click.IntRange(min=1), help="Try at most this many messages.")
@click.option(
    "--worker-id",
    default=lambda: f"{socket.gethostname()}:{os.getpid()}",
    show_default="host:pid",
    help="Name of this worker in the leases (unique per running worker).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@click.pass_obj
def drain_command(app: Any, limit: int | None, worker_id: str, quiet: bool) -> None:
    """Send the due messages; failures are retried later with backoff.

    Safe from cron and from several processes at once: every message is leased to one worker.
    Temporary failures (connection refused, timeout, SMTP 4xx, HTTP 5xx) are retried with
    exponential backoff and jitter up to [notifications] max_attempts; permanent ones (SMTP
    5xx, HTTP 4xx) and exhausted messages become dead, with the reason.
    """
    from .engine import drain
    from .plugin import notifier

    found = notifier(app.host)
    if found is None:
        raise ConfigError(f"{app.config.where}: no [notifications] table, nothing to deliver with")

    def show(message: Any, outcome: str) -> None:
        if not quiet:
            line = f"{outcome:<8.200} {message.channel} {message.recipient}  {message.key}"
            click.echo(terminal_safe(line, multiline=False))

    result = drain(
        _outbox(app), found.channels, found.settings, worker=worker_id, limit=limit, progress=show
    )
    if app.lang == "zh":
        click.echo(
            f"已发送 {result.sent}，待重试 {result.retrying}，失败 {result.dead}"
            + (f"，留给其他进程 {result.lost_lease}" if result.lost_lease else "")
        )
        return
    click.echo(
        f"sent {result.sent}, to retry {result.retrying}, dead {result.dead}"
        + (f", left to other workers {result.lost_lease}" if result.lost_lease else "")
    )


@outbox_group.command("retry")
@click.argument("keys", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Retry every dead message.")
@click.pass_obj
def retry_command(app: Any, keys: tuple[str, ...], all_dead: bool) -> None:
    """Make dead messages pending again (due now, attempts reset)."""
    from complaintkit.outbox import MessageStatus

    outbox = _outbox(app)
    if all_dead:
        keys = keys + tuple(m.key for m in outbox.messages(MessageStatus.DEAD))
    if not keys:
        raise click.UsageError("name message keys, or use --all-dead")
    now = datetime.now(UTC) - timedelta(seconds=1)
    for key in keys:
        zh = app.lang == "zh"
        if outbox.retry(key, at=now):
            click.echo(terminal_safe(f"{'已重新排队' if zh else 'pending again'}: {key}"))
        else:
            status = _status(outbox.get(key).status.value, app.lang)
            left = f"未失败（{status}），未改动" if zh else f"not dead ({status}), left alone"
            click.echo(terminal_safe(f"{left}: {key}"))
