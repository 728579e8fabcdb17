"""Another system's history: statuses, the times of each step, breaches, disputes; row filters.

A mapping that names a ``status`` column or any step time (``acknowledged_at``,
``responded_at``, ``resolved_at``, ``closed_at``) brings each row in as history instead of a
new complaint: :class:`_HistoryBuilder` turns the row's values into the complaint's status and
its events, all by :data:`~complaintkit.lifecycle.IMPORT_ACTOR`:

* ``received`` at ``received_at``;
* one event per step time the row gives, in time order: ``acknowledge``, ``respond`` (a note),
  ``resolve``, ``close``, at the source's times (a step before ``received_at`` is refused);
* when the source's status is beyond the last timed step (CFPB says "Closed with explanation"
  but not when), one ``import`` event to that status, at the time of the import, with the
  source's value in ``data["source_status"]``: the targets that status implies count as
  reached at an unknown time (``untimed`` in the SLA reports), never as met or missed;
* an ``sla_breach`` per target the source says was missed (``sla_missed``, e.g. CFPB's
  ``timely_response = "No"``), with ``"historical": true``, and a ``dispute`` event when the
  customer disputed the answer (``disputed``).

Every event's data says ``"imported": true``. The source's status values are translated by
``[values.status]`` (our own status names, in English or Chinese, need no translation); a value
that is neither is rejected like an unknown channel.

A mapping's ``[filter]`` keeps only the rows whose columns hold one of the listed values
(:class:`RowFilter`); the reader counts the rows it leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from complaintkit.intake import STATUS_WORDS
from complaintkit.lifecycle import IMPORT, IMPORT_ACTOR
from complaintkit.model import Channel, Event, Status
from complaintkit.sla import BREACH, RESPOND, TARGETS

from .values import (
    _BadValue,
    _DateParser,
    _enum_member,
    _known,
    _translate_enum,
    _value_key,
)

HISTORY_FIELDS: Final[tuple[str, ...]] = (
    "status",
    "acknowledged_at",
    "responded_at",
    "resolved_at",
    "closed_at",
    "sla_missed",
    "disputed",
)
"""The fields that bring a row in as history (see the module's documentation)."""

#: Step time fields: the action recorded at that time and the state it leads to (None: a note).
STEPS: Final[tuple[tuple[str, str, Status | None], ...]] = (
    ("acknowledged_at", "acknowledge", Status.ACKNOWLEDGED),
    ("responded_at", RESPOND, None),
    ("resolved_at", "resolve", Status.RESOLVED),
    ("closed_at", "close", Status.CLOSED),
)

# The words every door accepts for a status (our values and names, in English and Chinese).
_STATUSES: Final = STATUS_WORDS

# How far along the handling process each state is: a source status behind a step the row
# gives a time for is a contradiction; ahead of it, the rest is imported without a time.
_RANK: Final = {
    Status.RECEIVED: 0,
    Status.ACKNOWLEDGED: 1,
    Status.ASSESSED: 2,
    Status.INVESTIGATING: 3,
    Status.SOLUTION_PROPOSED: 4,
    Status.SOLUTION_ACCEPTED: 5,
    Status.IMPLEMENTING: 6,
    Status.RESOLVED: 7,
    Status.CLOSED: 8,
}

_YES: Final = frozenset({"yes", "y", "true", "1", "是", "有", "已申诉", "disputed"})
_NO: Final = frozenset({"no", "n", "false", "0", "否", "无", "未申诉"})
_UNKNOWN: Final = frozenset({"n/a", "na", "unknown", "-", "未知"})
_LIST_SPLIT: Final = re.compile(r"\s*[,;，；、]\s*")


def check_history_value(field: str, value: str, where: str) -> str | None:
    """Why ``value`` (a translation or a default in a mapping) is no good for the history
    ``field``, or None when it is fine (an empty value always is: it means nothing)."""
    if not value:
        return None
    if field == "status" and _enum_member(value, _STATUSES) is None:
        return f"{where}: {value!r} is not a status; statuses: {_known(Status)}"
    if field == "sla_missed":
        unknown = [t for t in _LIST_SPLIT.split(value) if t and t not in TARGETS]
        if unknown:
            return (
                f"{where}: {', '.join(map(repr, unknown))} is not an SLA target; targets: "
                f"{', '.join(TARGETS)} (several separated by commas; empty for none)"
            )
    if field == "disputed" and _value_key(value) not in _YES | _NO | _UNKNOWN:
        return f"{where}: {value!r} is not yes or no"
    if field in {name for name, _action, _to in STEPS} and value != "now":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f'{where}: {value!r} is not an ISO 8601 date or "now"'
    return None


@attrs.frozen
class RowFilter:
    """Keep a row only when, for every column named, its value is one of the values listed
    (compared without regard to case and surrounding spaces)."""

    column: str
    values: tuple[str, ...]

    def describe(self) -> str:
        """How to name this filter in a message: ``airline_sentiment is negative``."""
        shown = " or ".join(repr(v) for v in self.values)
        return f"{self.column!r} is {shown}"


class _Filters:
    """The mapping's filters bound to a header: one index and a set of keys per column."""

    def __init__(self, checks: Sequence[tuple[int, frozenset[str]]]) -> None:
        self.checks = tuple(checks)

    def keep(self, row: Sequence[Any]) -> bool:
        for index, accepted in self.checks:
            value = row[index]
            text = value if isinstance(value, str) else ("" if value is None else str(value))
            if _value_key(text) not in accepted:
                return False
        return True


def bind_filters(filters: Sequence[RowFilter], find: Any) -> tuple[_Filters | None, list[str]]:
    """The filters bound with ``find`` (column name → index or None), and the columns missing:
    a filter on a column the file lacks would leave out every row, so it is always an error."""
    if not filters:
        return None, []
    checks: list[tuple[int, frozenset[str]]] = []
    missing: list[str] = []
    for row_filter in filters:
        index = find(row_filter.column)
        if index is None:
            missing.append(f"{row_filter.column!r} (for [filter])")
            continue
        checks.append((index, frozenset(_value_key(v) for v in row_filter.values)))
    return _Filters(checks), missing


Problems = list[tuple[str | None, str]]


class _HistoryBuilder:
    """Turns one row's history values into a status and the events of that history."""

    def __init__(
        self,
        text_of: Any,
        any_of: Any,
        values: Mapping[str, Mapping[str, str]],
        dates: _DateParser,
        now: datetime,
        source: str,
    ) -> None:
        # text_of(row, field) -> the field's (translated, defaulted) text; any_of(row, field)
        # -> the raw value for a time field (an Excel date stays a datetime), or None.
        self.text_of = text_of
        self.any_of = any_of
        self.status_table = values.get("status")
        self.dates = dates
        self.now = now
        self.source = source
        self.status_cache: dict[str, Status | str] = {}

    def build(
        self, row: Sequence[Any], received_at: datetime, channel: Channel, problems: Problems
    ) -> tuple[Status, tuple[Event, ...]]:
        """The status and history of ``row``; problems found are appended to ``problems``."""
        mark = {"imported": True}
        events = [
            Event(
                at=received_at,
                actor=IMPORT_ACTOR,
                action="received",
                data={"channel": channel.value, **mark},
            )
        ]
        steps: list[tuple[datetime, int, str, str, Status | None]] = []
        for order, (field, action, to) in enumerate(STEPS):
            raw = self.any_of(row, field)
            if raw is None:
                continue
            try:
                at = self.now if raw == "now" else self.dates.parse(raw, "")
            except _BadValue as exc:
                problems.append((field, str(exc)))
                continue
            if at < received_at:
                problems.append(
                    (
                        field,
                        f"{at.isoformat()} is before the complaint was received "
                        f"({received_at.isoformat()})",
                    )
                )
                continue
            steps.append((at, order, field, action, to))
        steps.sort(key=lambda step: (step[0], step[1]))

        state = Status.RECEIVED
        last = received_at
        last_field = "received_at"
        for at, _order, field, action, to in steps:
            if to is None:
                events.append(
                    Event(
                        at=at,
                        actor=IMPORT_ACTOR,
                        action=action,
                        reason=f"a response recorded in {self.source} ({field})",
                        data=dict(mark),
                    )
                )
            else:
                data = {"from": state.value, "to": to.value, **mark}
                events.append(Event(at=at, actor=IMPORT_ACTOR, action=action, data=data))
                state = to
            last, last_field = at, field

        status = self._status(row, problems)
        if status is not None and status is not state:
            if status in _RANK and _RANK[status] < _RANK.get(state, 0):
                problems.append(
                    (
                        "status",
                        f"{status.value!r} is behind {last_field} ({last.isoformat()}), after "
                        f"which the complaint is {state.value}",
                    )
                )
            else:
                raw_status = self.text_of(row, "status", translate=False)
                data = {"from": state.value, "to": status.value, **mark}
                if raw_status:
                    data["source_status"] = raw_status
                events.append(
                    Event(
                        at=max(self.now, last),
                        actor=IMPORT_ACTOR,
                        action=IMPORT,
                        reason=f"the status in {self.source}; the time it was reached is not known",
                        data=data,
                    )
                )
                state = status
                last = max(self.now, last)

        for target in self._missed(row, problems):
            events.append(
                Event(
                    at=last,
                    actor=IMPORT_ACTOR,
                    action=BREACH,
                    reason=f"missed according to {self.source}",
                    data={"target": target, "historical": True, **mark},
                )
            )
        if self._disputed(row, problems):
            events.append(
                Event(
                    at=last,
                    actor=IMPORT_ACTOR,
                    action="dispute",
                    reason=f"the customer disputed the answer (according to {self.source})",
                    data=dict(mark),
                )
            )
        return state, tuple(events)

    def _status(self, row: Sequence[Any], problems: Problems) -> Status | None:
        raw = self.text_of(row, "status", translate=False)
        if not raw:
            default = self.text_of(row, "status")
            return _enum_member(default, _STATUSES) if default else None
        found = self.status_cache.get(raw)
        if found is None:
            found = _translate_enum(raw, self.status_table, _STATUSES, "status", Status)
            if not isinstance(found, Status):
                # the generic hint suggests "other", which is no status
                found = (
                    f"unknown value {raw!r} (known: {_known(Status)}); translate it in a mapping "
                    f'file under [values.status], e.g. "{raw}" = "investigating", or add '
                    '"*" = "received" there to take any other value as not yet handled'
                )
            self.status_cache[raw] = found
        if isinstance(found, Status):
            return found
        problems.append(("status", found))
        return None

    def _missed(self, row: Sequence[Any], problems: Problems) -> list[str]:
        text = self.text_of(row, "sla_missed")
        if not text:
            return []
        found = list(dict.fromkeys(t for t in _LIST_SPLIT.split(text) if t))
        unknown = [t for t in found if t not in TARGETS]
        if unknown:
            problems.append(
                (
                    "sla_missed",
                    f"{', '.join(map(repr, unknown))} is not an SLA target ({', '.join(TARGETS)}); "
                    f'translate the source\'s values under [values.sla_missed], e.g. "No" = '
                    f'"respond" and "Yes" = ""',
                )
            )
        return [t for t in found if t in TARGETS]

    def _disputed(self, row: Sequence[Any], problems: Problems) -> bool:
        text = self.text_of(row, "disputed")
        key = _value_key(text) if text else ""
        if not key or key in _NO or key in _UNKNOWN:
            return False
        if key in _YES:
            return True
        problems.append(("disputed", f"{text!r} is not yes or no (or N/A)"))
        return False
