"""Query parameters into complaintkit values: the list and report filters (the command
line's ``--status``, ``--label SCHEME=LABEL``, ``--since`` …), cursors, ``If-Match``."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from complaintkit.model import Channel, Complaint, EscalationLevel, Status
from complaintkit.storage import ComplaintFilter

from .problems import ApiProblem

if TYPE_CHECKING:
    from complaintkit.host import PluginHost

__all__ = [
    "after_cursor",
    "build_filter",
    "cursor_for",
    "etag",
    "expected_version",
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
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    check_year(parsed, name)
    return parsed


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
    now: datetime,
) -> ComplaintFilter:
    """The filter of the command line's filter options, scheme and label names resolved."""
    pairs = []
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
    )


def cursor_for(c: Complaint) -> str:
    """An opaque cursor that continues a listing after ``c`` (list order: received, then
    reference)."""
    data = orjson.dumps({"t": c.received_at.isoformat(), "r": c.reference})
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def after_cursor(flt: ComplaintFilter, cursor: str) -> tuple[ComplaintFilter, datetime, str]:
    """``flt`` narrowed to complaints received at or after the cursor's, and the
    (received, reference) that the page must start after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data: Any = orjson.loads(raw)
        at = datetime.fromisoformat(data["t"])
        reference = data["r"]
        if at.tzinfo is None or not isinstance(reference, str):
            raise ValueError(cursor)
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise ApiProblem(
            400, "bad-cursor", f"cursor {cursor!r} is not one this API gave out"
        ) from None
    start = at if flt.received_from is None else max(at, flt.received_from)
    return attrs.evolve(flt, received_from=start), at, reference


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
