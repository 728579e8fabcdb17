"""Query parameters into complaintkit values: the list and report filters (the command
line's ``--status``, ``--label SCHEME=LABEL``, ``--since``, ``--tag``, ``--custom KEY=VALUE`` …),
the ``--sort`` order, cursors, ``If-Match``."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from complaintkit.errors import ValidationError
from complaintkit.model import Channel, Complaint, EscalationLevel, Status
from complaintkit.storage import ComplaintFilter, SortOrder, sort_key

from .problems import ApiProblem

if TYPE_CHECKING:
    from complaintkit.host import PluginHost

__all__ = [
    "after_cursor",
    "build_filter",
    "cursor_for",
    "etag",
    "expected_version",
    "in_zone",
    "pages",
    "parse_sort",
    "parse_when",
]

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def parse_when(value: str, tz: tzinfo, name: str) -> datetime:
    """A date or date-time; without a zone it is in ``tz`` (as on the command line)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiProblem(
            400,
            "bad-parameter",
            f"{name}: {value!r} is not a date; use e.g. 2026-11-01 or 2026-11-01T09:00+08:00",
        ) from None
    if len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time(0, 0))
    return in_zone(parsed, tz, name)


def in_zone(when: datetime, tz: tzinfo, name: str) -> datetime:
    """``when`` in ``tz`` if it has no zone, its year checked (:func:`check_year`)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    check_year(when, name)
    return when


def check_year(when: datetime, name: str) -> None:
    """Refuse instants outside 1900-2999 (no store or calendar means them)."""
    if not 1900 <= when.year <= 2999:
        raise ApiProblem(
            400, "bad-parameter", f"{name}: {when.isoformat()} is not a year 1900-2999"
        )


def build_filter(
    host: PluginHost,
    tz: tzinfo,
    *,
    statuses: Sequence[Status] = (),
    channels: Sequence[Channel] = (),
    labels: Sequence[str] = (),
    unclassified: str | None = None,
    department: str | None = None,
    assignee: str | None = None,
    product: str | None = None,
    since: str | None = None,
    until: str | None = None,
    search: str | None = None,
    min_level: str | None = None,
    open_only: bool = False,
    due_by: str | None = None,
    overdue: bool = False,
    tags: Sequence[str] = (),
    custom: Sequence[str] = (),
    now: datetime,
) -> ComplaintFilter:
    """The filter of the command line's filter options, scheme and label names resolved."""
    pairs = []
    fields = []
    for item in custom:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ApiProblem(400, "bad-parameter", f"custom: {item!r} is not KEY=VALUE")
        fields.append((key.strip(), value))
    wanted = [t.strip() for t in tags]
    if any(not t for t in wanted):
        raise ApiProblem(400, "bad-parameter", "tag: a tag cannot be empty")
    for item in labels:
        scheme, sep, label = item.partition("=")
        if not sep or not scheme.strip() or not label.strip():
            raise ApiProblem(400, "bad-parameter", f"label: {item!r} is not SCHEME=LABEL")
        pairs.append(host.resolve_label(scheme.strip(), label.strip()))
    due = parse_when(due_by, tz, "due_by") if due_by else None
    if overdue:
        due = now if due is None else min(due, now)
    return ComplaintFilter(
        statuses=frozenset(statuses),
        channels=frozenset(channels),
        labels=tuple(pairs),
        unclassified=host.resolve_scheme(unclassified) if unclassified else None,
        department=department,
        assignee=assignee,
        product=product,
        received_from=parse_when(since, tz, "since") if since else None,
        received_until=parse_when(until, tz, "until") if until else None,
        text=search or None,
        min_escalation=EscalationLevel[min_level.upper()] if min_level else None,
        open_only=open_only or due is not None,
        due_by=due,
        tags=frozenset(wanted),
        custom=tuple(fields),
    )


def parse_sort(text: str) -> SortOrder:
    """The ``sort`` parameter (the command line's ``--sort``): ``-received_at`` …"""
    try:
        return SortOrder.parse(text)
    except ValidationError as exc:
        raise ApiProblem(400, "bad-parameter", "sort: " + "; ".join(exc.problems)) from None


def _encode(value: Any) -> Any:
    return {"d": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        at = datetime.fromisoformat(value["d"])
        if at.tzinfo is None:
            raise ValueError(value)
        return at
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    return value


def cursor_for(c: Complaint, order: SortOrder) -> str:
    """An opaque cursor that continues a listing in ``order`` after ``c``: the order and
    ``c``'s sort key (its value, then received and reference, which break ties), so the
    next page starts right after it even when ``c`` has changed or gone since."""
    flag, value, received, reference = sort_key(order)(c)
    data = orjson.dumps(
        {
            "s": str(order),
            "f": flag,
            "v": _encode(value),
            "t": received.isoformat(),
            "r": reference,
        }
    )
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@attrs.frozen
class After:
    """Where a page starts: just after ``key`` in ``order``."""

    order: SortOrder
    key: tuple[Any, ...]


def after_cursor(
    flt: ComplaintFilter, cursor: str, order: SortOrder
) -> tuple[ComplaintFilter, After]:
    """Where the page after ``cursor`` starts, and ``flt`` narrowed to the complaints that may
    follow it (by the instant received, when that is the order)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data: Any = orjson.loads(raw)
        at = datetime.fromisoformat(data["t"])
        reference = data["r"]
        if at.tzinfo is None or not isinstance(reference, str):
            raise ValueError(cursor)
        if "s" in data:
            given = SortOrder.parse(data["s"])
            flag = data["f"]
            if not isinstance(flag, bool):
                raise ValueError(cursor)
            key: tuple[Any, ...] = (flag, _decode(data["v"]), at, reference)
        else:  # a cursor of the first version of the API: oldest first
            given = SortOrder("received_at", descending=False)
            key = (False, at, at, reference)  # as sort_key makes it
    except (binascii.Error, ValueError, TypeError, KeyError, ValidationError):
        raise ApiProblem(
            400, "bad-cursor", f"cursor {cursor!r} is not one this API gave out"
        ) from None
    if given != order:
        raise ApiProblem(
            400,
            "bad-cursor",
            f"the cursor continues a listing sorted by {given}, not by {order}: ask with "
            f"sort={given}, or start again without a cursor",
        )
    if order.key == "received_at":
        if order.descending:
            until = at + timedelta(microseconds=1)
            if flt.received_until is not None:
                until = min(until, flt.received_until)
            flt = attrs.evolve(flt, received_until=until)
        else:
            start = at if flt.received_from is None else max(at, flt.received_from)
            flt = attrs.evolve(flt, received_from=start)
    return flt, After(order, key)


def pages(found: Iterator[Complaint], after: After | None) -> Iterator[Complaint]:
    """``found`` from just after ``after`` on (the sort key function built once, not per
    complaint)."""
    if after is None:
        return found
    key_of, start = sort_key(after.order), after.key
    if after.order.descending:
        return (c for c in found if key_of(c) < start)
    return (c for c in found if key_of(c) > start)


def etag(c: Complaint) -> str:
    """The complaint's entity tag: its version, quoted."""
    return f'"{c.version}"'


def expected_version(if_match: str | None, reference: str) -> int:
    """The version ``If-Match`` names; 428 without it, 400 when it names no version."""
    if if_match is None or not if_match.strip():
        raise ApiProblem(
            428,
            "if-match-required",
            f"changing complaint {reference} needs an If-Match header with the ETag of the "
            'version you read (e.g. If-Match: "3"), so that nobody\'s change is overwritten',
        )
    versions = []
    for part in if_match.split(","):
        found = _TAG.fullmatch(part)
        if found is None or found.group(1) or not found.group(2).isdigit():
            raise ApiProblem(
                400,
                "bad-if-match",
                f'If-Match {if_match!r} is not the strong ETag of a version (e.g. "3")',
            )
        versions.append(int(found.group(2)))
    if len(versions) != 1:
        raise ApiProblem(400, "bad-if-match", "If-Match must name exactly one version")
    return versions[0]
