"""How long personal data is kept: ``[privacy.retention]`` and ``complaintkit retention
apply``, which anonymises complaints finished longer ago than the policy allows.

A complaint is finished when it is closed, withdrawn or rejected; it finished at the event that
took it there (the last one, if it was reopened and closed again). Anonymising it goes through
the same :func:`~complaintkit_privacy.erasure.scrub_complaint` as ``person erase``: the whole
complainant party, the custom fields declared personal, and in every text the complainant's own
name, phone and e-mail replaced, then any other phone number, e-mail address, ID-card or bank
card number masked. Labels, times, status and remedies' figures stay, so reports do not change.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from complaintkit import InvalidSetting

if TYPE_CHECKING:
    from complaintkit import Complaint, Desk

__all__ = [
    "Period",
    "RetentionResult",
    "RetentionSettings",
    "apply_retention",
    "finished_at",
    "parse_period",
]

_UNITS = {
    "y": "years",
    "yr": "years",
    "yrs": "years",
    "year": "years",
    "years": "years",
    "年": "years",
    "mo": "months",
    "month": "months",
    "months": "months",
    "个月": "months",
    "月": "months",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "周": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "天": "days",
    "日": "days",
}
_PERIOD = re.compile(r"^\s*(\d+)\s*([^\d\s]+)\s*$")


@attrs.frozen
class Period:
    """A calendar period as written (``"3y"``, ``"18 months"``, ``"90d"``, ``"3年"``)."""

    amount: int
    unit: str
    text: str

    def before(self, moment: datetime) -> datetime:
        """The instant this period before ``moment`` (a month back from 31 March is the
        last day of February)."""
        if self.unit == "days":
            return moment - timedelta(days=self.amount)
        if self.unit == "weeks":
            return moment - timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        index = moment.year * 12 + moment.month - 1 - months
        year, month = divmod(index, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)


def parse_period(value: object, key: str = "") -> Period | None:
    """``"3y"``, ``"36 months"``, ``"1095d"``, ``"3年"`` as a :class:`Period`; None stays None.
    Anything else raises :class:`~complaintkit.InvalidSetting` (about the setting ``key``)
    saying what is accepted."""
    if value is None or isinstance(value, Period):
        return value
    hint = 'expected a period such as "3y", "18 months" or "90d" (years, months, weeks, days)'
    if not isinstance(value, str):
        raise InvalidSetting(f"{hint}, got {value!r}", key)
    found = _PERIOD.match(value)
    unit = _UNITS.get(found.group(2).lower()) if found else None
    if found is None or unit is None:
        if found is not None and found.group(2).lower() in ("m", "min", "h", "s"):
            raise InvalidSetting(f'{value!r} is ambiguous or too short; write "mo" for months', key)
        raise InvalidSetting(f"{hint}, got {value!r}", key)
    amount = int(found.group(1))
    if amount <= 0:
        raise InvalidSetting(f"{value!r}: the period must be longer than zero", key)
    return Period(amount, unit, value)


def _closed_after(value: object) -> Period | None:
    return parse_period(value, "anonymise_closed_after")


def _attachments_after(value: object) -> Period | None:
    return parse_period(value, "delete_attachments_after")


@attrs.frozen
class RetentionSettings:
    """``[privacy.retention]``::

        [privacy.retention]
        anonymise_closed_after = "3y"    # also "36 months", "1095d", "3年"
        delete_attachments_after = "1y"  # files of finished complaints, by when attached

    Without either key nothing expires.
    """

    anonymise_closed_after: Period | None = attrs.field(default=None, converter=_closed_after)
    delete_attachments_after: Period | None = attrs.field(
        default=None, converter=_attachments_after
    )


def finished_at(complaint: Complaint) -> datetime | None:
    """When a closed, withdrawn or rejected complaint got there: the last event that moved it
    into its status (``data["to"]``), else its last event; None while it is not finished."""
    from complaintkit.model import TERMINAL_STATUSES

    if complaint.status not in TERMINAL_STATUSES:
        return None
    for event in reversed(complaint.history):
        if event.data.get("to") == complaint.status.value:
            return event.at
    return complaint.history[-1].at if complaint.history else complaint.received_at


@attrs.frozen
class RetentionResult:
    """What a retention run did (or, dry, would do): complaints looked at, due (finished
    before ``cutoff``), anonymised (changed), and notifications rewritten."""

    cutoff: datetime
    looked: int
    due: int
    changed: tuple[str, ...]
    notifications: int


def _due(desk: Desk, cutoff: datetime) -> Iterator[Complaint]:
    from complaintkit import ComplaintFilter
    from complaintkit.model import TERMINAL_STATUSES

    for complaint in desk.store.find(ComplaintFilter(statuses=frozenset(TERMINAL_STATUSES))):
        done = finished_at(complaint)
        if done is not None and done < cutoff:
            yield complaint


def apply_retention(
    desk: Desk,
    period: Period,
    *,
    now: datetime,
    dry_run: bool,
    progress: Callable[[int], None] = lambda n: None,
) -> RetentionResult:
    """Anonymise every complaint finished longer than ``period`` before ``now`` (see the
    module), and the notifications about them; with ``dry_run`` only count. A complaint already
    anonymised is left alone, so a second run changes nothing."""
    from .erasure import Scrub, rewrite_complaints, scrub_complaint, scrub_outbox_for

    cutoff = period.before(now)
    fields = desk.host.personal_fields()
    reason = f"retention: finished more than {period.text} ago"
    looked = due = 0
    scrubbed: list[Complaint] = []
    people = {}
    for complaint in _due(desk, cutoff):
        due += 1
        progress(1)
        scrub = Scrub.retention(complaint, fields)
        after = scrub_complaint(
            complaint, scrub, at=now, actor=desk.actor, reason=reason, scope="retention"
        )
        if after is not complaint:
            scrubbed.append(after)
            people[complaint.reference] = scrub.person
    looked = desk.store.count()
    notifications = scrub_outbox_for(desk.store, people, dry_run=dry_run, mask=True)
    changed: tuple[str, ...] = tuple(c.reference for c in scrubbed)
    if not dry_run and scrubbed:
        changed = rewrite_complaints(
            desk,
            scrubbed,
            lambda c: scrub_complaint(
                c,
                Scrub.retention(c, fields),
                at=now,
                actor=desk.actor,
                reason=reason,
                scope="retention",
            ),
        )
    return RetentionResult(cutoff, looked, due, changed, notifications)


@attrs.frozen
class AttachmentRetention:
    """What a run of ``delete_attachments_after`` did (or, dry, would do): the attachments
    attached before ``cutoff`` to finished complaints, as ``(reference, name)``."""

    cutoff: datetime
    deleted: tuple[tuple[str, str], ...]

    @property
    def complaints(self) -> int:
        """How many complaints lost (or would lose) attachments."""
        return len({reference for reference, _ in self.deleted})


def apply_attachment_retention(
    desk: Desk,
    period: Period,
    *,
    now: datetime,
    dry_run: bool,
    progress: Callable[[int], None] = lambda n: None,
) -> AttachmentRetention:
    """Delete every file attached more than ``period`` before ``now`` to a complaint that is
    finished (closed, withdrawn or rejected: an open case keeps its evidence), each deletion
    recorded in the complaint's history like ``complaintkit detach`` (``detach``, with the
    file's name, size, digest and type and the policy as the reason). With ``dry_run`` only
    list them. A second run deletes nothing."""
    from complaintkit.attachments import attachments_of
    from complaintkit.model import TERMINAL_STATUSES

    files = attachments_of(desk.store)
    cutoff = period.before(now)
    due: list[tuple[str, str]] = []
    for reference in sorted(files.references()):
        progress(1)
        old = [a.name for a in files.list(reference) if a.added_at < cutoff]
        if old and desk.store.get(reference).status in TERMINAL_STATUSES:
            due.extend((reference, name) for name in old)
    if not dry_run:
        reason = f"retention: attached more than {period.text} ago"
        for reference, name in due:
            desk.detach(reference, name, reason=reason)
    return AttachmentRetention(cutoff, tuple(due))
