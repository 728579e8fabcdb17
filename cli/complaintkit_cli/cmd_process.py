"""Commands of the process engine: sweep, clocks, recompute, route, pause/resume, respond,
remedy, satisfaction (see docs/process.md)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs
import click

from complaintkit.commands import output_option

from .durations import format_span
from .main import App
from .options import REMEDY_CHOICES, WordChoice, parse_when
from .progress import progress
from .render import echo, echo_complaint

if TYPE_CHECKING:
    from complaintkit.sla import TargetClock

pass_app = click.make_pass_decorator(App)


def _now(app: App, value: str | None) -> datetime | None:
    return parse_when(value, app.config.tzinfo, "--now") if value else None


def time_left(clock: TargetClock, now: datetime, lang: str) -> str:
    """What ``clocks`` shows as the time left: ``2 h 30 min (working)`` before the deadline, in
    the clock's own time (working or elapsed); once it has passed, the real time since, as
    ``overdue by 14 y 123 d`` (``超时 14年123天``): working time is no measure of "how long ago".
    A deadline passed after working hours is overdue too, though no working time has gone by
    since (``left`` is then zero, not negative)."""
    if clock.left is None:
        return "-"
    if clock.deadline is not None and (clock.left < timedelta(0) or now > clock.deadline):
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
@output_option("table", "json")
@pass_app
def sweep_command(
    app: App, now_text: str | None, dry_run: bool, allow_future: bool, fmt: str
) -> None:
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
    if fmt == "json":
        from complaintkit.display import json_text
        from complaintkit.records import sweep_record

        click.echo(json_text(sweep_record(result, app.lang)))
        return
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
    for note in result.notes:
        echo(note.get(app.lang))


_RECOMPUTE_LABELS = {
    "policy": ("SLA policy set or changed", "设定或更换 SLA 策略"),
    "route": ("routed again", "重新分派"),
    "deadlines": ("deadlines moved", "期限变化"),
    "exact": ("deadlines became exact", "期限转为准确"),
    "provisional": ("deadlines became provisional", "期限转为暂定"),
    "past_breaches": (
        "past breaches recorded as history (nobody notified, not escalated)",
        "已过期限记为历史超时（不通知、不升级）",
    ),
}


@click.command("recompute")
@click.option("--dry-run", is_flag=True, help="Show what would change and how much; write nothing.")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="List this many changed complaints with what changes.",
)
@click.option(
    "--escalate-overdue",
    is_flag=True,
    help="Leave deadlines that have already passed to the next sweep, which records the "
    "breaches, notifies and escalates as if they were new (default: record them as history).",
)
@output_option("table", "json")
@pass_app
def recompute_command(app: App, dry_run: bool, show: int, escalate_overdue: bool, fmt: str) -> None:
    """Derive SLA policy, routing and deadlines again for every stored complaint, from its
    history and the configuration as it is now: after [sla] or [routing] was set up for
    complaints imported before, or once a calendar year's official arrangement is given
    (provisional deadlines become exact).

    Nothing is notified and nothing escalated. Run it with --dry-run first.
    """
    from .render import text_table

    lang = app.lang
    with progress("recomputing", app.store.count()) as bar:
        result = app.desk.recompute(
            dry_run=dry_run, past_breaches=not escalate_overdue, progress=bar.update
        )
    if fmt == "json":
        from complaintkit.display import json_text

        data = attrs.asdict(result, recurse=False)
        data["changes"] = [{"reference": r, "what": list(w)} for r, w in result.changes]
        click.echo(json_text(data))
        return
    if lang == "zh":
        verb = "将更改" if dry_run else "已更改"
        echo(f"检查 {result.examined:,} 件，{verb} {result.changed:,} 件：")
    else:
        verb = "would change" if dry_run else "changed"
        echo(f"examined {result.examined:,} complaints, {verb} {result.changed:,}:")
    rows = [
        [_RECOMPUTE_LABELS[k][1 if lang == "zh" else 0], f"{n:,}"] for k, n in result.counts.items()
    ]
    echo(text_table(["变化", "件数"] if lang == "zh" else ["change", "count"], rows))
    if result.redecided:
        echo(
            f"另有 {result.redecided} 件被同时修改，已重新读取并计算"
            if lang == "zh"
            else f"{result.redecided} complaints changed meanwhile were read and recomputed again"
        )
    if show and result.changes:
        echo("例如：" if lang == "zh" else "for example:")
        for reference, what in result.changes[:show]:
            echo(f"  {reference}  " + "; ".join(what))
    if dry_run and result.changed:
        echo(
            "去掉 --dry-run 再运行即写入这些更改"
            if lang == "zh"
            else "run again without --dry-run to write these changes"
        )


@click.command("clocks")
@click.argument("reference")
@click.option("--now", "now_text", metavar="WHEN", help="Show the clocks as of WHEN.")
@output_option()
@pass_app
def clocks_command(app: App, reference: str, now_text: str | None, fmt: str) -> None:
    """Show a complaint's SLA deadlines, time left and whether each target was met."""
    from complaintkit.display import write_records
    from complaintkit.records import clock_records
    from complaintkit.sla import TARGET_NAMES, provisional_state

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

    records = clock_records(complaint.reference, clocks)
    if fmt != "table":
        write_records(sys.stdout, fmt, [(k, k) for k in records[0]] if records else [], records)
        return
    mark = "（暂定）" if lang == "zh" else " (provisional)"
    headers = (
        ["目标", "截止时间", "状态", "剩余时间", "达成时间"]
        if lang == "zh"
        else ["target", "deadline", "state", "time left", "met at"]
    )
    rows = [
        [
            TARGET_NAMES[clock.target].get(lang),
            when(clock.deadline) + (mark if clock.provisional else ""),
            _state(clock, lang),
            time_left(clock, now, lang),
            when(clock.met_at),
        ]
        for clock in clocks.targets
    ]
    head = "策略" if lang == "zh" else "policy"
    cal = "日历" if lang == "zh" else "calendar"
    echo(f"{complaint.reference}  {head}: {clocks.policy}  {cal}: {clocks.calendar}")
    echo(text_table(headers, rows))
    for gap in dict.fromkeys(clock.gap for clock in clocks.targets if clock.gap is not None):
        echo(f"{'无法计算期限' if lang == 'zh' else 'no deadline'}: {gap}")
    if clocks.provisional_years:
        echo(_provisional_note(app, clocks.calendar, clocks.provisional_years))
    elif provisional_state(complaint.history):
        echo(
            "这些期限已准确，但投诉记录仍为暂定：运行 complaintkit recompute 记录准确期限"
            if lang == "zh"
            else "these deadlines are exact now, but the complaint still records provisional "
            "ones: run complaintkit recompute to record the exact deadlines"
        )


def _provisional_note(app: App, name: str, years: tuple[int, ...]) -> str:
    """Why deadlines are provisional, on what they rest, and how to make them exact."""
    from datetime import date

    calendar = app.host.calendar(name)
    basis_of = getattr(calendar, "basis", None)
    listed = ", ".join(str(y) for y in years)
    basis = basis_of(date(years[0], 12, 31)).get(app.lang) if basis_of is not None else ""
    if app.lang == "zh":
        return (
            f"暂定期限：日历 {name} 还没有 {listed} 年的官方节假日安排，暂按{basis}计算。给出安排"
            "（docs/calendars.md）后运行 complaintkit recompute 即得准确期限"
        )
    return (
        f"provisional deadlines: calendar {name} has no official arrangement for {listed} yet; "
        f"counted on {basis}. Give the arrangement (docs/calendars.md) and run complaintkit "
        "recompute to make them exact"
    )


def _state(clock: TargetClock, lang: str) -> str:
    """The clock's verdict as the reports name it, marked while paused."""
    from complaintkit.sla import OUTCOME_NAMES

    text = OUTCOME_NAMES[clock.outcome].get(lang)
    if clock.paused_since is not None:
        text += "（已暂停）" if lang == "zh" else " (paused)"
    return text


@click.command("route")
@click.argument("reference")
@output_option("table", "json", "jsonl")
@pass_app
def route_command(app: App, reference: str, fmt: str) -> None:
    """Route a complaint by the routing rules (or a routing plugin) now."""
    complaint, route = app.desk.route(reference)
    who = " / ".join(v for v in (complaint.department, complaint.assignee) if v)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  → {who}  ({route.reason or route.rule or 'plugin'})",
    )


@click.command("pause")
@click.argument("reference")
@click.option("--reason", required=True, help="What we are waiting for from the customer.")
@output_option("table", "json", "jsonl")
@pass_app
def pause_command(app: App, reference: str, reason: str, fmt: str) -> None:
    """Stop a complaint's SLA clocks while waiting on the customer."""
    complaint = app.desk.pause(reference, reason=reason)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  {'已暂停计时' if app.lang == 'zh' else 'clocks paused'}",
    )


@click.command("resume")
@click.argument("reference")
@click.option("--reason", help="Why the clocks run again.")
@output_option("table", "json", "jsonl")
@pass_app
def resume_command(app: App, reference: str, reason: str | None, fmt: str) -> None:
    """Restart a complaint's SLA clocks; the paused time moves its deadlines."""
    complaint = app.desk.resume(reference, reason=reason)
    due = (
        complaint.due_at.astimezone(app.config.tzinfo).strftime("%Y-%m-%d %H:%M")
        if complaint.due_at
        else "-"
    )
    label = "恢复计时，下一截止" if app.lang == "zh" else "clocks running, next deadline"
    echo_complaint(app, fmt, complaint, f"{complaint.reference}  {label} {due}")


@click.command("respond")
@click.argument("reference")
@click.argument("message")
@output_option("table", "json", "jsonl")
@pass_app
def respond_command(app: App, reference: str, message: str, fmt: str) -> None:
    """Record the first (or a further) response given to the complainant."""
    complaint = app.desk.respond(reference, message)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  {'已记录回复' if app.lang == 'zh' else 'response recorded'}",
    )


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
@output_option("table", "json", "jsonl")
@pass_app
def satisfaction_command(app: App, reference: str, score: int, fmt: str) -> None:
    """Record customer satisfaction 1-5 (closes a resolved complaint)."""
    from complaintkit import name_of

    complaint = app.desk.record_satisfaction(reference, score)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  {name_of(complaint.status, app.lang)}  {score}/5",
    )
