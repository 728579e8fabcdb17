"""Commands of the process engine: sweep, clocks, route, pause/resume, respond, remedy,
satisfaction (see docs/process.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from .durations import format_span
from .main import App
from .options import REMEDY_CHOICES, WordChoice, parse_when
from .progress import progress
from .render import echo

if TYPE_CHECKING:
    from complaintkit.sla import TargetClock

pass_app = click.make_pass_decorator(App)


def _now(app: App, value: str | None) -> datetime | None:
    return parse_when(value, app.config.tzinfo, "--now") if value else None


def time_left(clock: TargetClock, now: datetime, lang: str) -> str:
    """What ``clocks`` shows as the time left: ``2 h 30 min (working)`` before the deadline, in
    the clock's own time (working or elapsed); once it has passed, the real time since, as
    ``overdue by 14 y 123 d`` (``超时 14年123天``): working time is no measure of "how long ago"."""
    if clock.left is None:
        return "-"
    if clock.left < timedelta(0) and clock.deadline is not None:
        since = format_span(now - clock.deadline, lang)
        return f"超时 {since}" if lang == "zh" else f"overdue by {since}"
    kind = ("elapsed", "自然时间") if clock.elapsed else ("working", "工作时间")
    return f"{format_span(clock.left, lang)} ({kind[1] if lang == 'zh' else kind[0]})"


@click.command("sweep")
@click.option("--now", "now_text", metavar="WHEN", help="Pretend it is WHEN (for testing).")
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; change nothing.")
@click.option(
    "--allow-future",
    is_flag=True,
    help="Let --now be later than the real time without --dry-run: record warnings, breaches "
    "and escalations dated in the future (a test store, a rehearsal).",
)
@pass_app
def sweep_command(app: App, now_text: str | None, dry_run: bool, allow_future: bool) -> None:
    """Record SLA warnings and breaches that are due, and escalate on breaches; with
    [early_warning] configured, also announce new complaint spikes (docs/early-warning.md).

    Safe to run from cron every minute and from several processes at once: what was
    already recorded is never recorded again, and a complaint is never escalated twice for
    the same missed deadline. A --now later than the real time is refused unless with
    --dry-run (look only) or --allow-future: it would write events dated in the future into
    the store and notify people now about breaches that have not happened.
    """
    from complaintkit import ComplaintFilter

    real_now = app.desk.clock()
    now = _now(app, now_text) or real_now
    if now > real_now and not (dry_run or allow_future):
        raise click.UsageError(
            f"--now {now_text} is later than the real time "
            f"({real_now.astimezone(now.tzinfo):%Y-%m-%d %H:%M}): the "
            "sweep would store warnings, breaches and escalations dated in the future and "
            "notify people about deadlines that have not passed. Look with --dry-run, or add "
            "--allow-future to record them anyway (a test store)"
        )
    total = app.store.count(ComplaintFilter(alert_by=now, open_only=True))
    with progress("sweeping", total) as bar:
        result = app.desk.sweep(now=now, dry_run=dry_run, progress=bar.update)
    verb = "would record" if dry_run else "recorded"
    if app.lang == "zh":
        click.echo(
            f"检查 {result.examined} 件，{'将' if dry_run else '已'}记录预警 {result.warnings} 条、"
            f"超时 {result.breaches} 条、升级 {result.escalations} 次，"
            f"涉及 {len(result.changed)} 件"
        )
    else:
        click.echo(
            f"examined {result.examined}, {verb} {result.warnings} warnings, "
            f"{result.breaches} breaches, {result.escalations} escalations "
            f"on {len(result.changed)} complaints"
        )
    if result.redecided:
        if app.lang == "zh":
            click.echo(f"另有 {result.redecided} 件已被其他进程同时处理，已重新读取并判断")
        else:
            click.echo(
                f"{result.redecided} complaints were changed meanwhile by another process "
                "(another sweep): read again and decided again, nothing recorded twice"
            )
    if "early_warning" in app.config.data:
        if dry_run:
            found = app.desk.early_warning(now=now).warnings
            if app.lang == "zh":
                click.echo(f"突增预警：当前窗口内有 {len(found)} 个突增（试运行，不通知）")
            else:
                click.echo(
                    f"early warning: {len(found)} spikes in the window (dry run, none announced)"
                )
        else:
            announced = app.desk.detect_spikes(now=now)
            if app.lang == "zh":
                click.echo(f"突增预警：新发现 {len(announced)} 个投诉突增")
            else:
                click.echo(f"early warning: {len(announced)} new spike warnings")
            for warning in announced:
                echo(
                    f"  {warning.period_start.isoformat()} "
                    f"{warning.dimension_names.get(app.lang)}={warning.value_names.get(app.lang)}: "
                    f"{warning.observed} (expected {warning.expected:.1f}, "
                    f"limit {warning.upper:.1f}, {warning.method})"
                    if app.lang != "zh"
                    else f"  {warning.period_start.isoformat()} "
                    f"{warning.dimension_names.get('zh')}={warning.value_names.get('zh')}："
                    f"{warning.observed} 件（预期 {warning.expected:.1f}，"
                    f"上限 {warning.upper:.1f}，{warning.method}）"
                )


@click.command("clocks")
@click.argument("reference")
@click.option("--now", "now_text", metavar="WHEN", help="Show the clocks as of WHEN.")
@pass_app
def clocks_command(app: App, reference: str, now_text: str | None) -> None:
    """Show a complaint's SLA deadlines, time left and whether each target was met."""
    from complaintkit.sla import TARGET_NAMES

    from .render import text_table

    lang = app.lang
    complaint = app.desk.get(reference)
    now = _now(app, now_text) or app.desk.clock()
    clocks = app.desk.clocks(complaint, now=now)
    if clocks is None:
        raise click.ClickException(
            f"complaint {reference} has no SLA policy; configure [sla] (see docs/process.md)"
        )
    tz = app.config.tzinfo

    def when(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "-"

    rows = []
    for clock in clocks.targets:
        rows.append(
            [
                TARGET_NAMES[clock.target].get(lang),
                when(clock.deadline),
                _state(clock, lang),
                time_left(clock, now, lang),
                when(clock.met_at),
            ]
        )
    headers = (
        ["目标", "截止时间", "状态", "剩余时间", "达成时间"]
        if lang == "zh"
        else ["target", "deadline", "state", "time left", "met at"]
    )
    head = "策略" if lang == "zh" else "policy"
    cal = "日历" if lang == "zh" else "calendar"
    echo(f"{complaint.reference}  {head}: {clocks.policy}  {cal}: {clocks.calendar}")
    echo(text_table(headers, rows))
    for gap in dict.fromkeys(clock.gap for clock in clocks.targets if clock.gap is not None):
        echo(f"{'无法计算期限' if lang == 'zh' else 'no deadline'}: {gap}")


def _state(clock: TargetClock, lang: str) -> str:
    """The clock's verdict as the reports name it, marked while paused."""
    from complaintkit.sla import OUTCOME_NAMES

    text = OUTCOME_NAMES[clock.outcome].get(lang)
    if clock.paused_since is not None:
        text += "（已暂停）" if lang == "zh" else " (paused)"
    return text


@click.command("route")
@click.argument("reference")
@pass_app
def route_command(app: App, reference: str) -> None:
    """Route a complaint by the routing rules (or a routing plugin) now."""
    complaint, route = app.desk.route(reference)
    who = " / ".join(v for v in (complaint.department, complaint.assignee) if v)
    echo(f"{complaint.reference}  → {who}  ({route.reason or route.rule or 'plugin'})")


@click.command("pause")
@click.argument("reference")
@click.option("--reason", required=True, help="What we are waiting for from the customer.")
@pass_app
def pause_command(app: App, reference: str, reason: str) -> None:
    """Stop a complaint's SLA clocks while waiting on the customer."""
    complaint = app.desk.pause(reference, reason=reason)
    echo(f"{complaint.reference}  {'已暂停计时' if app.lang == 'zh' else 'clocks paused'}")


@click.command("resume")
@click.argument("reference")
@click.option("--reason", help="Why the clocks run again.")
@pass_app
def resume_command(app: App, reference: str, reason: str | None) -> None:
    """Restart a complaint's SLA clocks; the paused time moves its deadlines."""
    complaint = app.desk.resume(reference, reason=reason)
    due = (
        complaint.due_at.astimezone(app.config.tzinfo).strftime("%Y-%m-%d %H:%M")
        if complaint.due_at
        else "-"
    )
    label = "恢复计时，下一截止" if app.lang == "zh" else "clocks running, next deadline"
    echo(f"{complaint.reference}  {label} {due}")


@click.command("respond")
@click.argument("reference")
@click.argument("message")
@pass_app
def respond_command(app: App, reference: str, message: str) -> None:
    """Record the first (or a further) response given to the complainant."""
    complaint = app.desk.respond(reference, message)
    echo(f"{complaint.reference}  {'已记录回复' if app.lang == 'zh' else 'response recorded'}")


@click.command("remedy")
@click.argument("reference")
@click.argument("kind", required=False, type=WordChoice(REMEDY_CHOICES, "parse_remedy"))
@click.option("--amount", type=float, help="Value of the remedy (V2).")
@click.option("--currency", help="Currency (default: [remedies] currency).")
@click.option("--loss", type=float, help="The customer's loss (V1).")
@click.option("--cost", type=float, help="The customer's cost of complaining (C).")
@click.option("--description", help="What exactly is offered.")
@click.option("--role", help="Your role for approval limits (default: from [remedies.roles]).")
@click.option(
    "--accept",
    "accept",
    type=int,
    metavar="N",
    help="Record that remedy N (1 = first) was accepted.",
)
@pass_app
def remedy_command(
    app: App,
    reference: str,
    kind: str | None,
    amount: float | None,
    currency: str | None,
    loss: float | None,
    cost: float | None,
    description: str | None,
    role: str | None,
    accept: int | None,
) -> None:
    """Offer a remedy (refund, replacement, repair, coupon, apology, compensation, ...), or
    record with --accept N that the customer accepted one.

    Warns when the remedy is worth less than the customer's loss plus the cost of
    complaining (V2 ≥ V1 + C); refuses amounts above your role's approval limit.
    """
    from complaintkit import RemedyKind, name_of

    if accept is not None:
        if kind is not None:
            raise click.UsageError("give either KIND to offer a remedy or --accept N, not both")
        if accept < 1:
            raise click.BadParameter("remedies are numbered from 1", param_hint="--accept")
        complaint = app.desk.accept_remedy(reference, accept - 1)
        remedy = complaint.remedies[accept - 1]
        echo(f"{complaint.reference}  #{accept} {name_of(remedy.kind, app.lang)} accepted")
        return
    if kind is None:
        raise click.UsageError("name the remedy KIND to offer, or --accept N")
    complaint, warnings = app.desk.offer_remedy(
        reference,
        RemedyKind(kind),
        amount=amount,
        currency=currency,
        description=description,
        customer_loss=loss,
        complaint_cost=cost,
        role=role,
    )
    remedy = complaint.remedies[-1]
    value = (
        f" {remedy.amount:g} {remedy.currency or ''}".rstrip() if remedy.amount is not None else ""
    )
    number = len(complaint.remedies)
    echo(f"{complaint.reference}  #{number} {name_of(remedy.kind, app.lang)}{value} offered")
    for warning in warnings:
        echo(f"warning: {warning}", err=True)


@click.command("satisfaction")
@click.argument("reference")
@click.argument("score", type=click.IntRange(1, 5))
@pass_app
def satisfaction_command(app: App, reference: str, score: int) -> None:
    """Record customer satisfaction 1-5 (closes a resolved complaint)."""
    from complaintkit import name_of

    complaint = app.desk.record_satisfaction(reference, score)
    echo(f"{complaint.reference}  {name_of(complaint.status, app.lang)}  {score}/5")
