"""Options shared by several commands: the complaint filter and output format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .completion import complete_labels, complete_schemes

if TYPE_CHECKING:
    from complaintkit import ComplaintFilter, PluginHost

F = TypeVar("F", bound=Callable[..., Any])

STATUS_CHOICES = [
    "received",
    "acknowledged",
    "assessed",
    "investigating",
    "solution_proposed",
    "solution_accepted",
    "implementing",
    "resolved",
    "closed",
    "reopened",
    "withdrawn",
    "rejected",
]
CHANNEL_CHOICES = [
    "phone",
    "sms",
    "email",
    "web",
    "in_person",
    "wechat",
    "letter",
    "social_media",
    "referral",
    "other",
]
LEVEL_CHOICES = ["front_line", "department", "complaint_management", "leadership"]
REMEDY_CHOICES = [
    "refund",
    "replacement",
    "repair",
    "coupon",
    "apology",
    "compensation",
    "explanation",
    "other",
]


def filter_options(func: F) -> F:
    """Add the complaint filter options to a command (they arrive as ``**filters``)."""
    options = [
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=WordChoice(STATUS_CHOICES, "parse_status"),
            help="Only complaints in this status (repeatable).",
        ),
        click.option(
            "--channel",
            "channels",
            multiple=True,
            type=WordChoice(CHANNEL_CHOICES, "parse_channel"),
            help="Only complaints received through this channel (repeatable).",
        ),
        click.option(
            "--label",
            "labels",
            multiple=True,
            metavar="SCHEME=LABEL",
            shell_complete=complete_labels,
            help="Only complaints with this label, e.g. cause=price or 投诉原因=价格 (repeatable).",
        ),
        click.option(
            "--unclassified",
            metavar="SCHEME",
            shell_complete=complete_schemes,
            help="Only complaints with no label yet in SCHEME.",
        ),
        click.option("--department", help="Only complaints assigned to this department."),
        click.option("--assignee", help="Only complaints assigned to this person."),
        click.option("--product", help="Only complaints about this product."),
        click.option("--since", metavar="DATE", help="Received on or after DATE (2026-11-01)."),
        click.option("--until", metavar="DATE", help="Received before DATE."),
        click.option("--search", metavar="TEXT", help="Title or text contains TEXT."),
        click.option(
            "--min-level",
            type=WordChoice(LEVEL_CHOICES, "parse_level"),
            help="Escalated to at least this level.",
        ),
        click.option("--open", "open_only", is_flag=True, help="Only complaints still open."),
        click.option(
            "--due-by", metavar="WHEN", help="Open, with an SLA deadline at or before WHEN."
        ),
        click.option("--overdue", is_flag=True, help="Open, with an SLA deadline already passed."),
        click.option(
            "--tag",
            "tags",
            multiple=True,
            metavar="TAG",
            help="Only complaints carrying this tag, exactly (repeatable: all of them).",
        ),
        click.option(
            "--custom",
            "custom",
            multiple=True,
            metavar="KEY=VALUE",
            help="Only complaints whose custom field KEY is VALUE (a text, a number as 12 or "
            "2.5, true/false; repeatable: all of them).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def parse_when(value: str, tz: tzinfo, option: str) -> datetime:
    """A date or date-time from the command line; without a zone it is in ``tz``."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T09:00+08:00",
            param_hint=option,
        ) from None
    if len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time(0, 0))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def build_filter(tz: tzinfo, **opts: Any) -> ComplaintFilter:
    """A :class:`ComplaintFilter` from the values of :func:`filter_options`."""
    from complaintkit import Channel, ComplaintFilter, EscalationLevel, Status
    from complaintkit.commands import key_value

    labels = []
    for item in opts.get("labels") or ():
        scheme, sep, label = item.partition("=")
        if not sep or not scheme or not label:
            raise click.BadParameter(f"{item!r} is not SCHEME=LABEL", param_hint="--label")
        labels.append((scheme.strip(), label.strip()))
    custom = [key_value(item, "--custom") for item in opts.get("custom") or ()]
    tags = [t.strip() for t in opts.get("tags") or ()]
    if any(not t for t in tags):
        raise click.BadParameter("a tag cannot be empty", param_hint="--tag")
    level = opts.get("min_level")
    due_by = parse_when(opts["due_by"], tz, "--due-by") if opts.get("due_by") else None
    if opts.get("overdue"):
        now = datetime.now(tz)
        due_by = now if due_by is None else min(due_by, now)
    return ComplaintFilter(
        statuses=frozenset(Status(s) for s in opts.get("statuses") or ()),
        channels=frozenset(Channel(c) for c in opts.get("channels") or ()),
        labels=tuple(labels),
        unclassified=opts.get("unclassified"),
        department=opts.get("department"),
        assignee=opts.get("assignee"),
        product=opts.get("product"),
        received_from=parse_when(opts["since"], tz, "--since") if opts.get("since") else None,
        received_until=parse_when(opts["until"], tz, "--until") if opts.get("until") else None,
        text=opts.get("search"),
        min_escalation=EscalationLevel[level.upper()] if level else None,
        open_only=bool(opts.get("open_only")) or due_by is not None,
        due_by=due_by,
        tags=frozenset(tags),
        custom=tuple(custom),
    )


def check_filter_names(host: PluginHost, flt: ComplaintFilter) -> ComplaintFilter:
    """``flt`` with the schemes and labels of --label and --unclassified as keys: they may be
    named in English or Chinese (``--label 投诉原因=价格``); one that does not exist is refused.

    A typo (``cause=prize``) would otherwise select nothing and look like an empty result.
    """
    import attrs

    labels = tuple(host.resolve_label(scheme, label) for scheme, label in flt.labels)
    unclassified = host.resolve_scheme(flt.unclassified) if flt.unclassified is not None else None
    return attrs.evolve(flt, labels=labels, unclassified=unclassified)


class WordChoice(click.Choice):  # type: ignore[type-arg]
    """A choice of our own values that also takes a value's name in English or Chinese and the
    common aliases (``WeChat``, ``微信``, ``热线``, ``已结案``): the words
    :mod:`complaintkit.intake` accepts at every door. The value passed on is our own."""

    def __init__(self, choices: list[str], parser: str) -> None:
        super().__init__(choices)
        self.parser = parser

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.choices:
            return value
        from complaintkit import intake

        try:
            member = getattr(intake, self.parser)(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not one of {', '.join(map(str, self.choices))}, nor the English "
                "or Chinese name of one (e.g. WeChat, 微信, hotline)",
                param,
                ctx,
            )
        return getattr(member, "slug", None) or member.value


FILTER_KEYS = (
    "statuses",
    "channels",
    "labels",
    "unclassified",
    "department",
    "assignee",
    "product",
    "since",
    "until",
    "search",
    "min_level",
    "open_only",
    "due_by",
    "overdue",
    "tags",
    "custom",
)


def pop_filters(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Remove and return the filter options from a command's keyword arguments."""
    return {key: kwargs.pop(key) for key in FILTER_KEYS if key in kwargs}
