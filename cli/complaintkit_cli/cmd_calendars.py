"""Business calendars: list them, compute a deadline, show which days are worked."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from complaintkit.commands import output_option

from .completion import complete_calendars
from .main import App

if TYPE_CHECKING:
    from complaintkit.calendars import BusinessCalendar

pass_app = click.make_pass_decorator(App)

_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_MAX_DAYS = 3660


def _weekday(day: date, lang: str) -> str:
    return (_WEEKDAYS_ZH if lang == "zh" else _WEEKDAYS_EN)[day.weekday()]


def _why(calendar: BusinessCalendar, day: date, lang: str) -> tuple[bool, str]:
    """Whether ``day`` is worked and, when the calendar can say, why."""
    info = getattr(calendar, "day_info", None)
    if info is not None:
        found = info(day)
        return bool(found.working), str(found.describe(lang))
    working = calendar.is_working_day(day)
    if lang == "zh":
        return working, "工作日" if working else "休息日"
    return working, "working day" if working else "closed"


def _description(calendar: BusinessCalendar, lang: str) -> str:
    if lang == "zh":
        return str(getattr(calendar, "description_zh", "") or calendar.description)
    return calendar.description


@click.group("calendars", invoke_without_command=True)
@click.pass_context
def calendars_group(ctx: click.Context) -> None:
    """Business calendars: list them (no subcommand), add-time, days.

    Calendars come from plugins (24x7, cn, hk, jp, sg, us, gb, de) and from [calendars.NAME]
    tables of the configuration; see docs/calendars.md.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_calendars)


@calendars_group.command("list")
@output_option("table", "json")
@pass_app
def list_calendars(app: App, fmt: str = "table") -> None:
    """Every calendar: name, time zone, covered years and description."""
    from .render import text_table, to_json

    lang = app.lang
    calendars = app.host.calendars()
    default = app.host.default_calendar().name
    rows: list[dict[str, Any]] = []
    for calendar in calendars.values():
        years = str(getattr(calendar, "covered_years", "all"))
        if years == "all" and lang == "zh":
            years = "全部"
        rows.append(
            {
                "name": calendar.name,
                "timezone": calendar.timezone,
                "years": years,
                "default": calendar.name == default,
                "plugin": app.host.owner("register_business_calendars", calendar.name),
                "description": _description(calendar, lang),
            }
        )
    if fmt == "json":
        click.echo(to_json(rows))
        return
    headers = (
        ["名称", "时区", "覆盖年份", "说明"]
        if lang == "zh"
        else ["name", "time zone", "years", "description"]
    )
    mark = "（默认）" if lang == "zh" else " (default)"
    click.echo(
        text_table(
            headers,
            [
                [
                    r["name"] + (mark if r["default"] else ""),
                    r["timezone"],
                    r["years"],
                    r["description"],
                ]
                for r in rows
            ],
        )
    )


def _parse_from(value: str | None, zone: ZoneInfo) -> datetime:
    if value is None:
        return datetime.now(zone).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time such as 2025-09-30T17:00", param_hint="--from"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@calendars_group.command("add-time")
@click.argument("name", shell_complete=complete_calendars)
@click.option(
    "--from",
    "start",
    metavar="DATETIME",
    help="Start, e.g. 2025-09-30T17:00 (in the calendar's time zone unless it has an offset); "
    "default: now.",
)
@click.option("--working-days", type=click.IntRange(min=0), help="Add this many working days.")
@click.option("--working-hours", type=click.FloatRange(min=0), help="Add this many working hours.")
@click.option(
    "--duration",
    metavar="TEXT",
    help="Add a duration as written in the configuration: '3 working days', '4个工作小时', '24h'.",
)
@pass_app
def add_time_command(
    app: App,
    name: str,
    start: str | None,
    working_days: int | None,
    working_hours: float | None,
    duration: str | None,
) -> None:
    """Print the deadline NAME's working time gives: --from plus working days or hours."""
    from complaintkit.calendars import add_duration, parse_duration

    given = [v for v in (working_days, working_hours, duration) if v is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --working-days, --working-hours, --duration")
    calendar = app.host.calendar(name)
    zone = ZoneInfo(calendar.timezone)
    moment = _parse_from(start, zone)
    if working_days is not None:
        amount, unit = timedelta(days=working_days), "days"
    elif working_hours is not None:
        amount, unit = timedelta(hours=working_hours), "hours"
    else:
        assert duration is not None
        try:
            amount, unit = parse_duration(duration)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--duration") from None
    deadline = add_duration(calendar, moment, amount, unit).astimezone(zone)
    _, why = _why(calendar, deadline.date(), app.lang)
    offset = deadline.strftime("%z")
    click.echo(
        f"{deadline:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}  "
        f"{_weekday(deadline.date(), app.lang)}  ({why})"
    )


@calendars_group.command("days")
@click.argument("name", shell_complete=complete_calendars)
@click.option("--from", "first", required=True, metavar="DATE", help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day, YYYY-MM-DD.")
@output_option("table", "json")
@pass_app
def days_command(app: App, name: str, first: str, last: str, fmt: str) -> None:
    """Each day from --from to --to: worked or not, and why (weekend, holiday name, 调休)."""
    from .render import text_table, to_json

    days: list[date] = []
    for value, hint in ((first, "--from"), (last, "--to")):
        try:
            days.append(date.fromisoformat(value))
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a date (YYYY-MM-DD)", param_hint=hint
            ) from None
    start, end = days
    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    if (end - start).days >= _MAX_DAYS:
        raise click.BadParameter(f"at most {_MAX_DAYS} days at a time", param_hint="--to")
    calendar = app.host.calendar(name)
    lang = app.lang
    rows: list[dict[str, Any]] = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        working, why = _why(calendar, day, lang)
        rows.append(
            {
                "date": day.isoformat(),
                "weekday": _weekday(day, lang),
                "working": working,
                "why": why,
            }
        )
    if fmt == "json":
        click.echo(to_json(rows))
        return
    yes, no = ("上班", "休息") if lang == "zh" else ("working", "closed")
    headers = ["日期", "星期", "上班", "说明"] if lang == "zh" else ["date", "day", "worked", "why"]
    click.echo(
        text_table(
            headers,
            [[r["date"], r["weekday"], yes if r["working"] else no, r["why"]] for r in rows],
        )
    )


def calendars_in_use(app: App) -> dict[str, str]:
    """The calendars the configuration uses, each with why: the default calendar and those of
    the SLA policies."""
    from complaintkit.sla import load_sla_config

    zh = app.lang == "zh"
    used: dict[str, str] = {app.host.default_calendar().name: "默认" if zh else "default"}
    config = load_sla_config(app.config)
    if config is not None:
        for policy in config.policies.values():
            name = policy.calendar or app.host.default_calendar().name
            used.setdefault(name, f"SLA 策略 {policy.name}" if zh else f"sla policy {policy.name}")
    return used


def _stretches(
    calendar: BusinessCalendar, first: date, last: date, lang: str
) -> list[dict[str, Any]]:
    """Consecutive days from ``first`` to ``last`` known alike (exact, provisional, unknown)
    and on the same basis."""
    from complaintkit.calendars import exactness_of

    rows: list[dict[str, Any]] = []
    basis_of = getattr(calendar, "basis", None)
    day = first
    while day <= last:
        state = exactness_of(calendar, day)
        if state == "unknown":
            basis = "没有这一天的数据" if lang == "zh" else "no data for these dates"
        elif basis_of is not None:
            basis = str(basis_of(day).get(lang))
        else:
            basis = _description(calendar, lang)
        if rows and rows[-1]["state"] == state and rows[-1]["basis"] == basis:
            rows[-1]["to"] = day.isoformat()
        else:
            rows.append({"from": day.isoformat(), "to": day.isoformat(), "state": state})
            rows[-1]["basis"] = basis
        day += timedelta(days=1)
    return rows


@calendars_group.command("check")
@click.option(
    "--until", "until_text", required=True, metavar="DATE", help="Last day to check, YYYY-MM-DD."
)
@click.option(
    "--now", "now_text", metavar="DATE", help="First day to check, YYYY-MM-DD (default: today)."
)
@click.option(
    "--within",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Fail when a calendar in use is not exact on one of this many days from --now.",
)
@click.option("--calendar", "names", multiple=True, metavar="NAME", help="Check only NAME.")
@output_option("table", "json")
@pass_app
def check_command(
    app: App,
    until_text: str,
    now_text: str | None,
    within: int,
    names: tuple[str, ...],
    fmt: str,
) -> None:
    """Which dates each calendar knows exactly, provisionally or not at all, from --now to
    --until; exit 1 when a calendar in use (the default one, those of the SLA policies) is not
    exact on one of the next --within days: run it from cron to hear before a year ends.
    """
    from complaintkit.calendars import EXACTNESS_NAMES

    from .render import text_table, to_json

    lang = app.lang
    zone = app.config.tzinfo
    try:
        first = date.fromisoformat(now_text) if now_text else datetime.now(zone).date()
    except ValueError:
        raise click.BadParameter(
            f"{now_text!r} is not a date (YYYY-MM-DD)", param_hint="--now"
        ) from None
    try:
        last = date.fromisoformat(until_text)
    except ValueError:
        raise click.BadParameter(
            f"{until_text!r} is not a date (YYYY-MM-DD)", param_hint="--until"
        ) from None
    if last < first:
        raise click.BadParameter(f"{last} is before {first}", param_hint="--until")
    if (last - first).days >= _MAX_DAYS:
        raise click.BadParameter(f"at most {_MAX_DAYS} days at a time", param_hint="--until")
    calendars = app.host.calendars()
    chosen = [app.host.calendar(n) for n in names] if names else list(calendars.values())
    used = calendars_in_use(app)
    horizon = first + timedelta(days=within)
    rows: list[dict[str, Any]] = []
    failing: list[str] = []
    for calendar in chosen:
        why = used.get(calendar.name)
        stretches = _stretches(calendar, first, max(last, horizon), lang)
        for stretch in stretches:
            soon = date.fromisoformat(stretch["from"]) <= horizon
            if stretch["state"] != "exact" and soon and why and calendar.name not in failing:
                failing.append(calendar.name)
            if date.fromisoformat(stretch["from"]) <= last:
                stretch["to"] = min(date.fromisoformat(stretch["to"]), last).isoformat()
                rows.append({"calendar": calendar.name, "in_use": why, **stretch})
    if fmt == "json":
        click.echo(to_json({"from": first, "until": last, "rows": rows, "not_exact": failing}))
    else:
        headers = (
            ["日历", "使用中", "自", "至", "状态", "依据"]
            if lang == "zh"
            else ["calendar", "in use", "from", "to", "state", "basis"]
        )
        click.echo(
            text_table(
                headers,
                [
                    [
                        r["calendar"],
                        r["in_use"] or "-",
                        r["from"],
                        r["to"],
                        EXACTNESS_NAMES[r["state"]].get(lang),
                        r["basis"],
                    ]
                    for r in rows
                ],
            )
        )
        for name in failing:
            day = next(r["from"] for r in rows if r["calendar"] == name and r["state"] != "exact")
            if lang == "zh":
                click.echo(
                    f"使用中的日历 {name} 自 {day} 起不准确（{within} 天内）：请在配置中给出该年的"
                    "官方节假日安排（docs/calendars.md），然后运行 complaintkit recompute",
                    err=True,
                )
            else:
                click.echo(
                    f"calendar {name} (in use) is not exact from {day}, within {within} days: "
                    "give that year's official arrangement (docs/calendars.md), then run "
                    "complaintkit recompute",
                    err=True,
                )
    if failing:
        raise SystemExit(1)
