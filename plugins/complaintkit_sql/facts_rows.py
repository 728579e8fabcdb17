"""The rows of the facts statements (:mod:`complaintkit_sql.facts_query`): which columns and
aggregates a read of facts needs (:func:`field_plan`) and how a row becomes the facts
(:func:`row_reader`, :data:`FLAGS`, :func:`pauses_of`). No SQLAlchemy here: the light path
(:mod:`complaintkit_sql.light`) reads the same rows through the DBAPI driver alone."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson

from complaintkit.errors import StorageError
from complaintkit.facts import LABEL_FIELD, scan_history
from complaintkit.model import OPEN_STATUSES, Channel, EscalationLevel, Remedy, Status
from complaintkit.sla import TARGETS

from .instants import instant_parser

__all__ = ["AGGREGATES", "FLAGS", "field_plan", "pauses_of", "read_page", "row_reader"]

T = TypeVar("T")

#: The columns :func:`~complaintkit_sql.facts_query.facts_statement` adds after the
#: complaint's columns, in order: the escalation and reopening counts; :data:`FLAGS`, the
#: targets breached and untimed as bits; the other breached targets (a JSON array of their
#: strings and of nulls, or None); the pause and resume events (text, or None); (instant,
#: offset) of the acknowledging, responding, resolving and last reopening events; the labels
#: (a JSON object, or None).
AGGREGATES = (
    "escalations",
    "reopened",
    "flags",
    "breached_other",
    "pausing",
    "ack_at",
    "ack_offset",
    "resp_at",
    "resp_offset",
    "res_at",
    "res_offset",
    "reopen_at",
    "reopen_offset",
    "labels",
)

#: The ``flags`` column: one bit per target breached (an ``sla_breach`` recorded; for resolve
#: after the last reopening), then one bit per target untimed (its state imported before any
#: event met it; for resolve both after the last reopening), each in the order of
#: :data:`~complaintkit.sla.TARGETS`. ``FLAGS[flags]`` is (breached, untimed).
FLAGS = {
    bits: (
        frozenset(t for i, t in enumerate(TARGETS) if bits & (1 << i)),
        frozenset(t for i, t in enumerate(TARGETS) if bits & (1 << (i + len(TARGETS)))),
    )
    for bits in range(1 << (2 * len(TARGETS)))
}


def pauses_of(text: str) -> tuple[tuple[datetime, datetime | None], ...]:
    """The pauses from the ``pausing`` column (``seq action offset instant`` per pause or
    resume event, comma-separated, in any order), paired by
    :func:`~complaintkit.facts.scan_history` in history order."""
    instant = instant_parser(True)
    found: list[tuple[int, str, datetime]] = []
    for item in text.split(","):
        seq, action, offset, at = item.split(" ", 3)
        when = instant(at, int(offset))
        assert when is not None  # at_utc is NOT NULL
        found.append((int(seq), action, when))
    found.sort()
    return scan_history((action, at, None) for _, action, at in found).pauses


#: For each field of :class:`~complaintkit.facts.ComplaintFacts`: the complaint columns and
#: the :data:`AGGREGATES` it is read from.
_FIELD_SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "reference": (("reference",), ()),
    "received_at": (("received_utc", "received_offset"), ()),
    "status": (("status",), ()),
    "channel": (("channel",), ()),
    "department": (("department",), ()),
    "assignee": (("assignee",), ()),
    "product": (("product",), ()),
    "escalation_level": (("escalation_level",), ()),
    "labels": ((), ("labels",)),
    "sla_policy": (("sla_policy",), ()),
    "due_at": (("due_utc", "due_offset"), ()),
    "satisfaction": (("satisfaction",), ()),
    "parent": (("parent",), ()),
    "recomplaint_count": (("recomplaint_count",), ()),
    "customer": (("customer_id", "phone", "email"), ()),
    "acknowledged_at": ((), ("ack_at", "ack_offset")),
    "responded_at": ((), ("resp_at", "resp_offset")),
    "resolved_at": (("status",), ("res_at", "res_offset")),
    "reopened": ((), ("reopened",)),
    "reopened_at": ((), ("reopen_at", "reopen_offset")),
    "breached": ((), ("flags", "breached_other")),
    "escalations": ((), ("escalations",)),
    "pauses": ((), ("pausing",)),
    "remedies": (("remedies",), ()),
    "untimed": ((), ("flags",)),
}
_STATUSES = {status.value: status for status in Status}
_CHANNELS = {channel.value: channel for channel in Channel}
_LEVELS = {int(level): level for level in EscalationLevel}
_OPEN_VALUES = frozenset(status.value for status in OPEN_STATUSES)


def field_plan(
    fields: Sequence[str],
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The complaint columns (``reference`` first), the :data:`AGGREGATES` (in their order)
    and the schemes of single labels (``label:SCHEME``) that the facts ``fields`` are read
    from."""
    unknown = [
        name
        for name in fields
        if name not in _FIELD_SOURCES
        and not (name.startswith(LABEL_FIELD) and len(name) > len(LABEL_FIELD))
    ]
    if unknown:
        raise ValueError(f"unknown fact field(s) {', '.join(map(repr, unknown))}")
    columns = ["reference"]
    aggregates: set[str] = set()
    schemes: list[str] = []
    for name in fields:
        if name.startswith(LABEL_FIELD):
            if name[len(LABEL_FIELD) :] not in schemes:
                schemes.append(name[len(LABEL_FIELD) :])
            continue
        own, computed = _FIELD_SOURCES[name]
        columns.extend(column for column in own if column not in columns)
        aggregates.update(computed)
    return tuple(columns), tuple(name for name in AGGREGATES if name in aggregates), tuple(schemes)


def row_reader(
    fields: Sequence[str],
    columns: Sequence[str],
    aggregates: Sequence[str],
    schemes: Sequence[str],
    instant: Callable[[Any, int | None], datetime | None],
    remedies: Callable[[Sequence[Mapping[str, Any]]], tuple[Remedy, ...]],
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """What turns a row of :func:`~complaintkit_sql.facts_query.facts_statement` (``columns``,
    ``aggregates`` then the labels of ``schemes``, as :func:`field_plan` gives them) into the
    values of ``fields``, each exactly as :class:`~complaintkit.facts.ComplaintFacts` holds it
    (``label:SCHEME``: as its ``label(SCHEME)``). ``instant`` reads an instant and its offset
    (:func:`~complaintkit_sql.instants.instant_parser`), ``remedies`` the decoded JSON of the
    remedies column."""
    at = {
        name: i
        for i, name in enumerate(
            (*columns, *aggregates, *(f"{LABEL_FIELD}{scheme}" for scheme in schemes))
        )
    }
    status = at.get("status")

    def read_instant(value: str, offset: str) -> Callable[[Sequence[Any]], Any]:
        i, j = at[value], at[offset]
        return lambda row: instant(row[i], row[j])

    def read_mapped(name: str, values: Mapping[Any, Any]) -> Callable[[Sequence[Any]], Any]:
        i = at[name]
        return lambda row: values[row[i]]

    def read_count(name: str) -> Callable[[Sequence[Any]], Any]:
        i = at[name]
        return lambda row: int(row[i])

    def read_resolved(row: Sequence[Any]) -> datetime | None:
        assert status is not None
        if row[status] in _OPEN_VALUES:
            return None
        return instant(row[at["res_at"]], row[at["res_offset"]])

    def read_breached(row: Sequence[Any]) -> frozenset[str]:
        breached = FLAGS[row[at["flags"]]][0]
        other = row[at["breached_other"]]
        if other is not None:
            # the array holds a null for each event of the complaint that is no such breach
            breached = breached | frozenset(t for t in orjson.loads(other) if t is not None)
        return breached

    def read_customer(row: Sequence[Any]) -> str | None:
        return row[at["customer_id"]] or row[at["phone"]] or row[at["email"]]  # type: ignore[no-any-return]

    def read_labels(row: Sequence[Any]) -> Mapping[str, str]:
        labels = row[at["labels"]]
        return {} if labels is None else orjson.loads(labels)

    def read_pauses(row: Sequence[Any]) -> tuple[tuple[datetime, datetime | None], ...]:
        pausing = row[at["pausing"]]
        return () if pausing is None else pauses_of(pausing)

    def read_remedies(row: Sequence[Any]) -> tuple[Remedy, ...]:
        text = row[at["remedies"]]
        # Only a complaint with remedies pays for decoding them (most have none: "[]").
        found = orjson.loads(text) if text != "[]" else None
        return remedies(found) if found else ()

    def read_untimed(row: Sequence[Any]) -> frozenset[str]:
        return FLAGS[row[at["flags"]]][1]

    special: dict[str, Callable[[], Callable[[Sequence[Any]], Any]]] = {
        "received_at": lambda: read_instant("received_utc", "received_offset"),
        "status": lambda: read_mapped("status", _STATUSES),
        "channel": lambda: read_mapped("channel", _CHANNELS),
        "escalation_level": lambda: read_mapped("escalation_level", _LEVELS),
        "labels": lambda: read_labels,
        "due_at": lambda: read_instant("due_utc", "due_offset"),
        "customer": lambda: read_customer,
        "acknowledged_at": lambda: read_instant("ack_at", "ack_offset"),
        "responded_at": lambda: read_instant("resp_at", "resp_offset"),
        "resolved_at": lambda: read_resolved,
        "reopened": lambda: read_count("reopened"),
        "reopened_at": lambda: read_instant("reopen_at", "reopen_offset"),
        "breached": lambda: read_breached,
        "escalations": lambda: read_count("escalations"),
        "pauses": lambda: read_pauses,
        "remedies": lambda: read_remedies,
        "untimed": lambda: read_untimed,
    }
    readers = [
        special[name]() if name in special else operator.itemgetter(at[name]) for name in fields
    ]
    if all(isinstance(reader, operator.itemgetter) for reader in readers):
        # plain columns only: one C call per row
        plain = operator.itemgetter(*(at[name] for name in fields))
        if len(fields) == 1:
            return lambda row: (plain(row),)
        return plain
    return lambda row: tuple([reader(row) for reader in readers])


def read_page(
    rows: Sequence[Sequence[Any]], read: Callable[[Sequence[Any]], T], url: str
) -> list[T]:
    """A page of a facts statement's rows, each as ``read`` makes it; a row that cannot be
    read is a StorageError naming the store's ``url``."""
    try:
        return [read(row) for row in rows]
    except (ValueError, TypeError, KeyError) as exc:
        raise StorageError(f"{url}: a complaint cannot be read ({exc})") from exc
