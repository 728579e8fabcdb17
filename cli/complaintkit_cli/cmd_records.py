"""Commands that create and read complaints: init, add, list, show."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from complaintkit.commands import output_option

from .main import App
from .options import (
    CHANNEL_CHOICES,
    REMEDY_CHOICES,
    WordChoice,
    build_filter,
    check_filter_names,
    filter_options,
    parse_when,
    pop_filters,
)

if TYPE_CHECKING:
    from complaintkit import Complaint, PluginHost

pass_app = click.make_pass_decorator(App)
F = TypeVar("F", bound=Callable[..., Any])


def local_time(value: datetime | None, tz: tzinfo) -> str:
    """A timestamp in the configured zone, to the minute."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def label_display(host: PluginHost, complaint: Complaint, lang: str) -> str:
    """All labels of a complaint in ``lang``, in scheme order."""
    from complaintkit import label_names

    schemes = host.schemes()
    parts = []
    for scheme_name, label in complaint.labels.items():
        parts.append(label_names(schemes.get(scheme_name), label.label).get(lang))
    return " · ".join(parts)


@click.command("init")
@click.option(
    "--write-config",
    is_flag=True,
    help="Also write complaintkit.toml in the current folder with these settings.",
)
@click.option(
    "--timezone",
    "tz_name",
    default=None,
    help="Time zone for dates without one, e.g. Asia/Shanghai (with --write-config).",
)
@pass_app
def init_command(app: App, write_config: bool, tz_name: str | None) -> None:
    """Create the store (if missing) and, optionally, a configuration file.

    The only command that creates a store (besides --create): every other one refuses a store
    that does not exist, so a mistyped URL never silently becomes a new, empty store.
    """
    from complaintkit import ConfigError
    from complaintkit.errors import StoreNotFoundError

    if write_config:
        target = Path("complaintkit.toml")
        if target.exists():
            raise ConfigError(f"{target} already exists; edit it or remove it first")
        # The URL as the user gave it: a relative path stays relative to the config file.
        from complaintkit.config import DEFAULT_STORE

        lines = [f'store = "{app.store_url or DEFAULT_STORE}"', f'lang = "{app.lang}"']
        lines.append(f'timezone = "{tz_name or app.config.timezone}"')
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        click.echo(f"wrote {target}")
    from complaintkit.redact import redact_url

    try:
        store = app.store
        how = "existed already"
    except StoreNotFoundError:
        app.create = True
        store = app.store
        how = "created now"
    # Idempotent; it also creates a store of a backend that cannot tell whether it exists.
    store.initialize()
    count = store.count()
    plural = "" if count == 1 else "s"
    click.echo(f"store ready: {redact_url(store.url)} ({count} complaint{plural}, {how})")


@click.command("add")
@click.option("--text", required=True, help="What the customer said (use - to read stdin).")
@click.option("--title", help="A one-line summary.")
@click.option(
    "--channel",
    type=WordChoice(CHANNEL_CHOICES, "parse_channel"),
    default="other",
    show_default=True,
    help="How it reached us; English or Chinese names work too (WeChat, 微信, 热线).",
)
@click.option("--name", help="Complainant's name.")
@click.option("--phone", help="Complainant's phone.")
@click.option("--email", help="Complainant's e-mail.")
@click.option("--customer-id", help="Complainant's customer id in the CRM.")
@click.option("--product", help="Product or service complained about.")
@click.option("--order", help="Order number.")
@click.option(
    "--remedy",
    type=WordChoice(REMEDY_CHOICES, "parse_remedy"),
    help="What the customer asks for (also 退款, 换货, …).",
)
@click.option("--reference", help="Reference to use (default: a new CK-… reference).")
@click.option("--received-at", metavar="WHEN", help="When it was received (default: now).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option(
    "--field", "fields", multiple=True, metavar="KEY=VALUE", help="A custom field (repeatable)."
)
@click.option("--no-classify", is_flag=True, help="Store without classifying.")
@output_option("table", "json", "jsonl")
@pass_app
def add_command(app: App, /, **opts: Any) -> None:
    """Register one complaint (登记) and classify it."""
    from complaintkit import Channel, Complaint, Party, RemedyKind, new_reference, utcnow
    from complaintkit.intake import contact_value, party_problems

    text = sys.stdin.read() if opts["text"] == "-" else opts["text"]
    if not text.strip():
        raise click.BadParameter("the complaint text is empty", param_hint="--text")
    received = (
        parse_when(opts["received_at"], app.config.tzinfo, "--received-at")
        if opts["received_at"]
        else utcnow()
    )
    custom: dict[str, Any] = {}
    for item in opts["fields"]:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--field")
        custom[key.strip()] = value
    party = Party(
        opts["name"],
        contact_value(opts["phone"]),
        contact_value(opts["email"]),
        opts["customer_id"],
    )
    # The checks an import applies to its rows (complaintkit.intake), named by option here.
    for field, reason in party_problems(party):
        raise click.BadParameter(reason, param_hint=_CONTACT_OPTIONS[field])
    complaint = Complaint(
        reference=opts["reference"] or new_reference(received),
        received_at=received,
        text=text.strip(),
        title=opts["title"],
        channel=Channel(opts["channel"]),
        complainant=party,
        product=opts["product"],
        order=opts["order"],
        remedy_sought=RemedyKind(opts["remedy"]) if opts["remedy"] else None,
        tags=tuple(opts["tags"]),
        custom=custom,
    )
    from .render import echo_complaint

    stored = app.desk.intake(complaint, classify=not opts["no_classify"])
    _say_removed(stored)
    echo_complaint(
        app, opts["fmt"], stored, f"{stored.reference}  {label_display(app.host, stored, app.lang)}"
    )


_CONTACT_OPTIONS = {
    "complainant_name": "--name",
    "complainant_phone": "--phone",
    "complainant_email": "--email",
    "customer_id": "--customer-id",
}


def _say_removed(stored: Complaint) -> None:
    """Tell the user which characters no store can hold were left out, as the history says."""
    from complaintkit.intake import CHARACTERS_REMOVED

    for event in stored.history:
        if event.action == CHARACTERS_REMOVED:
            fields = ", ".join(f"{k} ({v})" for k, v in event.data.items())
            click.echo(
                f"note: removed characters no store can hold (NUL) from {fields}; "
                "the history records it",
                err=True,
            )


def _list_rows(app: App, complaints: Iterable[Complaint], lang: str) -> Iterable[list[Any]]:
    from complaintkit import name_of

    from .render import truncate

    tz = app.config.tzinfo
    for c in complaints:
        yield [
            c.reference,
            local_time(c.received_at, tz),
            name_of(c.status, lang),
            name_of(c.channel, lang),
            name_of(c.escalation_level, lang),
            c.department or "",
            truncate(label_display(app.host, c, lang), 40),
            truncate(c.title or c.text, 50),
        ]


LIST_HEADERS = {
    "en": [
        "reference",
        "received",
        "status",
        "channel",
        "level",
        "department",
        "labels",
        "summary",
    ],
    "zh": ["编号", "受理时间", "状态", "渠道", "层级", "部门", "分类", "摘要"],
}


def flat_record(c: Complaint, schemes: Iterable[str]) -> list[Any]:
    """One complaint as a flat CSV row (see :data:`CSV_HEADERS`)."""
    return [
        c.reference,
        c.received_at.isoformat(),
        c.status.value,
        c.channel.value,
        c.escalation_level.slug,
        c.department,
        c.assignee,
        c.product,
        c.order,
        c.complainant.name,
        c.complainant.phone,
        c.complainant.email,
        c.complainant.customer_id,
        c.remedy_sought.value if c.remedy_sought else None,
        c.satisfaction,
        c.parent,
        ";".join(c.tags),
        c.title,
        c.text,
        *[c.label(s) for s in schemes],
    ]


CSV_HEADERS = [
    "reference",
    "received_at",
    "status",
    "channel",
    "escalation_level",
    "department",
    "assignee",
    "product",
    "order",
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "customer_id",
    "remedy_sought",
    "satisfaction",
    "parent",
    "tags",
    "title",
    "text",
]


def unmasked_options(func: F) -> F:
    """``--unmasked`` and its ``--reason``: personal data in full, recorded."""
    func = click.option(
        "--reason",
        metavar="WHY",
        help="Why the personal data is needed in full (required with --unmasked; recorded).",
    )(func)
    return click.option(
        "--unmasked",
        is_flag=True,
        help="Show personal data in full instead of masked (138****5678); needs --reason, and "
        "is recorded in the history of every complaint shown.",
    )(func)


def disclosed(
    app: App, complaints: Iterable[Complaint], unmasked: bool, reason: str | None
) -> Iterable[Complaint]:
    """The complaints as they may be printed: masked (the ``mask_complaint`` hook), or with
    ``unmasked`` as stored, once the disclosure is recorded on each of them."""
    if not unmasked:
        if reason:
            raise click.UsageError("--reason goes with --unmasked")
        return (app.host.mask(c) for c in complaints)
    if not reason or not reason.strip():
        raise click.UsageError("--unmasked needs --reason WHY (it is recorded in the history)")
    shown = list(complaints)
    app.desk.record_disclosure([c.reference for c in shown], reason=reason)
    return shown


@click.command("list")
@filter_options
@click.option(
    "--sort",
    default="-received_at",
    show_default=True,
    metavar="FIELD",
    help="Order by received_at, due_at, reference, status (process order) or "
    "escalation_level; - before it for descending (newest, latest, highest first). "
    "Complaints without a due_at come last either way.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="At most this many (default 50 for tables, all otherwise; 0 = all).",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first.")
@unmasked_options
@output_option()
@pass_app
def list_command(
    app: App,
    /,
    sort: str,
    limit: int | None,
    offset: int,
    unmasked: bool,
    reason: str | None,
    fmt: str,
    **opts: Any,
) -> None:
    """List complaints, newest first (or --sort FIELD), with filters.

    Personal data (names, phone numbers, e-mail addresses, ID and card numbers, also inside
    the texts) is masked; --unmasked --reason WHY shows it in full and records that in the
    history of every complaint listed.
    """
    from complaintkit import SortOrder, ValidationError
    from complaintkit.storage import find_sorted

    from .render import echo, text_table, to_json, to_json_line, write_csv

    try:
        order = SortOrder.parse(sort)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(exc.problems), param_hint="--sort") from None
    flt = build_filter(app.config.tzinfo, **pop_filters(opts))
    flt = check_filter_names(app.host, flt)
    if limit is None:
        limit = 50 if fmt == "table" else 0
    store = app.store
    found = disclosed(
        app,
        # what Desk.find does, without importing the desk for a read
        find_sorted(store, flt, order, limit=limit or None, offset=offset),
        unmasked,
        reason,
    )
    lang = app.lang
    if fmt == "table":
        rows = list(_list_rows(app, found, lang))
        total = store.count(flt)
        if rows:
            click.echo(text_table(LIST_HEADERS[lang], rows))
        shown = (
            f"{len(rows):,} of {total:,}" if lang == "en" else f"显示 {len(rows):,} / 共 {total:,}"
        )
        echo(shown + (" complaints" if lang == "en" else " 条投诉"))
        return
    if fmt in ("csv", "csv-raw"):
        schemes = list(app.host.schemes())
        write_csv(
            sys.stdout,
            CSV_HEADERS + [f"label:{s}" for s in schemes],
            (flat_record(c, schemes) for c in found),
            raw=fmt == "csv-raw",
        )
        return
    converter = app.host.converter()
    if fmt == "jsonl":
        for c in found:
            click.echo(to_json_line(converter.unstructure(c)))
        return
    click.echo(to_json([converter.unstructure(c) for c in found]))


@click.command("show")
@click.argument("reference")
@unmasked_options
@output_option("table", "json", "jsonl")
@pass_app
def show_command(app: App, reference: str, unmasked: bool, reason: str | None, fmt: str) -> None:
    """Show one complaint with its labels and full history.

    Personal data is masked; --unmasked --reason WHY shows it in full and records that in the
    complaint's history.
    """
    from complaintkit import label_names, name_of
    from complaintkit.display import terminal_safe
    from complaintkit.lifecycle import ACTION_NAMES, allowed_actions

    from .render import display_width, echo, text_table

    (c,) = disclosed(app, [app.store.get(reference)], unmasked, reason)
    if fmt != "table":
        from complaintkit.display import json_text

        # Masked (or disclosed) once, above: echo_complaint would mask it a second time.
        click.echo(json_text(app.host.converter().unstructure(c), lines=fmt == "jsonl"))
        return
    lang = app.lang
    tz = app.config.tzinfo
    zh = lang == "zh"
    merged = c.status.value == "rejected" and any(e.action == "merge" for e in c.history)
    rows: list[tuple[str, str]] = [
        ("编号" if zh else "reference", c.reference),
        ("受理时间" if zh else "received", local_time(c.received_at, tz)),
        ("渠道" if zh else "channel", name_of(c.channel, lang)),
        ("状态" if zh else "status", name_of(c.status, lang)),
        ("层级" if zh else "level", name_of(c.escalation_level, lang)),
    ]
    optional = [
        ("部门" if zh else "department", c.department),
        ("处理人" if zh else "assignee", c.assignee),
        (
            "投诉人" if zh else "complainant",
            ", ".join(
                v
                for v in (
                    c.complainant.name,
                    c.complainant.phone,
                    c.complainant.email,
                    c.complainant.customer_id,
                )
                if v
            ),
        ),
        ("产品" if zh else "product", c.product),
        ("订单" if zh else "order", c.order),
        (
            "诉求" if zh else "remedy sought",
            name_of(c.remedy_sought, lang) if c.remedy_sought else None,
        ),
        ("解决方案" if zh else "solution", c.solution),
        ("满意度" if zh else "satisfaction", str(c.satisfaction) if c.satisfaction else None),
        (
            ("合并至" if zh else "merged into")
            if merged
            else ("原投诉" if zh else "re-complaint of"),
            c.parent,
        ),
        (
            "复投诉次数" if zh else "re-complaints",
            str(c.recomplaint_count) if c.recomplaint_count else None,
        ),
        ("标签" if zh else "tags", ", ".join(c.tags)),
        ("版本" if zh else "version", str(c.version)),
    ]
    rows += [(k, v) for k, v in optional if v]
    # A custom key comes from an imported file's header: on one line, or the column breaks.
    rows += [(terminal_safe(str(k), multiline=False), str(v)) for k, v in c.custom.items()]
    width = max(display_width(k) for k, _ in rows)
    for key, value in rows:
        echo(f"{key}{' ' * (width - display_width(key))}  {value}")
    click.echo()
    if c.title and not c.text.startswith(c.title):
        echo(c.title)
    echo(c.text)
    if c.labels:
        click.echo()
        schemes = app.host.schemes()
        label_rows = []
        for scheme_name, label in c.labels.items():
            scheme = schemes.get(scheme_name)
            label_rows.append(
                [
                    scheme.names.get(lang) if scheme else scheme_name,
                    label_names(scheme, label.label).get(lang),
                    f"{label.confidence:.2f}",
                    ", ".join(label.evidence),
                    label.classifier,
                ]
            )
        headers = (
            ["方案", "分类", "置信度", "依据", "来源"]
            if zh
            else ["scheme", "label", "confidence", "evidence", "by"]
        )
        click.echo(text_table(headers, label_rows))
    if c.remedies:
        click.echo()
        click.echo(text_table(*_remedy_table(c, lang, tz)))
    notes = app.desk.notes(c)
    if notes:
        click.echo()
        click.echo(text_table(*_notes_table(notes, lang, tz)))
    if hasattr(app.store, "attachments"):
        from complaintkit import attachments_of

        files = attachments_of(app.store).list(c.reference)
        if files:
            click.echo()
            headers = ["附件", "大小", "类型"] if zh else ["attachment", "size", "type"]
            click.echo(text_table(headers, [[a.name, f"{a.size:,}", a.media_type] for a in files]))
    click.echo()
    history = [
        [local_time(e.at, tz), e.actor, e.action, e.reason or "", _event_detail(e.action, e.data)]
        for e in c.history
    ]
    headers = (
        ["时间", "操作人", "动作", "原因", "详情"]
        if zh
        else ["when", "actor", "action", "reason", "details"]
    )
    click.echo(text_table(headers, history))
    actions = allowed_actions(c)
    click.echo()
    heading = "可执行操作" if zh else "next actions"
    if zh:
        actions = [f"{ACTION_NAMES[a].zh} ({a})" if a in ACTION_NAMES else a for a in actions]
    echo(f"{heading}: {', '.join(actions) if actions else '-'}")


def _notes_table(notes: list[Any], lang: str, tz: tzinfo) -> tuple[list[str], list[list[str]]]:
    """The internal notes: when, by whom (a note carried over by a merge: its author, and
    the complaint it came from), and the text."""
    zh = lang == "zh"
    headers = (
        ["时间", "作者", "内部备注（不发送给客户）"] if zh else ["when", "by", "internal note"]
    )
    rows = []
    for note in notes:
        data = note.data
        author = str(data.get("author") or note.actor)
        source = data.get("merged_from")
        if source:
            author += f" ({'来自' if zh else 'from'} {source})"
        rows.append([local_time(note.at, tz), author, str(data.get("text", ""))])
    return headers, rows


def _remedy_table(c: Complaint, lang: str, tz: tzinfo) -> tuple[list[str], list[list[str]]]:
    """The remedies offered, numbered from 1 as ``remedy --accept N`` takes them."""
    from complaintkit import name_of

    zh = lang == "zh"
    headers = (
        ["补救", "方式", "金额", "说明", "提出", "已接受"]
        if zh
        else ["remedy", "kind", "amount", "description", "offered", "accepted"]
    )
    rows = []
    for number, remedy in enumerate(c.remedies, start=1):
        amount = "" if remedy.amount is None else f"{remedy.amount:g} {remedy.currency or ''}"
        offered = " ".join(v for v in (local_time(remedy.offered_at, tz), remedy.offered_by) if v)
        rows.append(
            [
                f"#{number}",
                name_of(remedy.kind, lang),
                amount.strip(),
                remedy.description or "",
                offered,
                ("是" if remedy.accepted else "否") if zh else ("yes" if remedy.accepted else "no"),
            ]
        )
    return headers, rows


#: History events that name a remedy by its position (0-based in the data).
_REMEDY_EVENTS = ("remedy_offered", "remedy_accepted")


def _event_detail(action: str, data: dict[str, Any]) -> str:
    parts = []
    for key, value in data.items():
        if key == "index" and action in _REMEDY_EVENTS and isinstance(value, int):
            # Shown as the number `remedy --accept N` takes and `show` lists (#1 = first).
            parts.append(f"remedy #{value + 1}")
            continue
        if key == "evidence":
            if value:
                parts.append(f"evidence={'|'.join(value)}")
            continue
        parts.append(f"{key}={_detail_value(value)}")
    return " ".join(parts)


def _detail_value(value: Any) -> str:
    """A change ``{"from": a, "to": b}`` as ``a→b`` (a label change too, whose confidence and
    evidence the labels table shows); other tables as ``key:value,…``."""
    if isinstance(value, dict):
        if value and set(value) <= {"from", "to", "confidence", "evidence"} and "to" in value:
            return f"{value.get('from')}→{value.get('to')}"
        return ",".join(f"{k}:{_detail_value(v)}" for k, v in value.items())
    return str(value)
