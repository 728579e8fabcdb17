"""Complaint facts computed in the database: one set-based statement, read as a stream.

:meth:`complaintkit_sql.store.SQLStore.facts` runs :func:`facts_statement` once for a filter
and reads its rows in batches: one row per complaint, in ``find`` order, holding the
complaint's columns and everything :func:`~complaintkit.facts.scan_history` would find in its
history, computed with SQL over ``ck_events`` and ``ck_labels`` (SQLAlchemy Core, the same
statement on SQLite, PostgreSQL and MariaDB; only the JSON aggregate functions are named per
database):

* each event is joined to its complaint's last ``reopen`` (a ``GROUP BY`` of the reopenings,
  found through the action index), since a reopening restarts the resolve clock;
* one ``GROUP BY reference`` with conditional aggregates gives the first acknowledging,
  responding and resolving event (resolving: after the last reopening), how many escalations
  and reopenings, which of the three targets have an ``sla_breach`` recorded (resolve: after the
  last reopening) and the string targets of any other breach, the first ``import`` event whose
  state implies each target (a target was met at an unknown time when its state was imported
  before any event met it), and the ``pause`` / ``resume`` events as text (rare; paired in
  Python, their order decides);
* one ``GROUP BY reference`` of the labels gives each complaint's labels as a JSON object;
* the met and last reopening events are joined back by primary key for their instants.

With a filter, the events and labels aggregated are those of the matching complaints
(``reference IN (SELECT … WHERE filter)``); without one, the whole tables, read in key order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import sqlalchemy as sa

from complaintkit.facts import (
    ACKNOWLEDGE_ACTIONS,
    RESOLVE_ACTIONS,
    RESPOND_ACTIONS,
    scan_history,
)
from complaintkit.lifecycle import IMPORT, implied_targets
from complaintkit.model import Status
from complaintkit.sla import TARGETS

__all__ = ["AGGREGATES", "FLAGS", "facts_statement", "instant_parser", "pauses_of", "zone_of"]

#: The statuses whose import implies each SLA target was reached.
_IMPLYING = {
    target: sorted(s.value for s in Status if target in implied_targets(s)) for target in TARGETS
}

#: The columns :func:`facts_statement` adds after the complaint's columns, in order: the
#: escalation and reopening counts; :data:`FLAGS`, the targets breached and untimed as bits;
#: the other breached targets (a JSON array of their strings and of nulls, or None); the pause
#: and resume events (text, or None); (instant, offset) of the acknowledging, responding,
#: resolving and last reopening events; the labels (a JSON object, or None).
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


def _json_array_agg(dialect: str, value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The JSON array of ``value`` over a group, as text."""
    if dialect == "postgresql":
        return sa.cast(sa.func.json_agg(value), sa.Text)
    if dialect == "sqlite":
        return sa.func.json_group_array(value)
    return sa.func.json_arrayagg(value)


def _json_object_agg(
    dialect: str, key: sa.ColumnElement[Any], value: sa.ColumnElement[Any]
) -> sa.ColumnElement[Any]:
    """The JSON object of ``key``: ``value`` over a group, as text."""
    if dialect == "postgresql":
        return sa.cast(sa.func.json_object_agg(key, value), sa.Text)
    if dialect == "sqlite":
        return sa.func.json_group_object(key, value)
    return sa.func.json_objectagg(key, value)


def _is_json_string(dialect: str, events: sa.Table, key: str) -> sa.ColumnElement[bool]:
    """Whether ``data[key]`` of an event is a JSON string."""
    data = events.c.data
    if dialect == "postgresql":
        return sa.func.json_typeof(data[key]) == "string"
    if dialect == "sqlite":
        return sa.func.json_type(data, f"$.{key}") == "text"
    return sa.func.json_type(data[key]) == "STRING"


def facts_statement(
    dialect: str,
    complaints: sa.Select[Any],
    conds: Sequence[sa.ColumnElement[bool]],
    events: sa.Table,
    labels: sa.Table,
    raw_instant: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]],
) -> sa.Select[Any]:
    """The facts of the complaints matching ``conds``: ``complaints`` (a select of the
    complaint columns facts read, from the complaints table) with :data:`AGGREGATES` appended,
    in ``find`` order. ``raw_instant`` reads an instant column the way the store parses it."""
    c = complaints.selected_columns.reference.table
    e = events
    action = e.c.action
    matching = sa.select(c.c.reference).where(*conds) if conds else None
    # Only the events that need it have their JSON read.
    breach = action == "sla_breach"
    target = sa.case((breach, e.c.data["target"].as_string()))
    other = sa.case(
        (
            sa.and_(
                breach,
                e.c.data["target"].as_string().not_in(TARGETS),
                _is_json_string(dialect, e, "target"),
            ),
            e.c.data["target"].as_string(),
        )
    )
    to = sa.case((action == IMPORT, e.c.data["to"].as_string()))
    pause = sa.case(
        (
            action.in_(("pause", "resume")),
            sa.cast(e.c.seq, sa.String)
            + " "
            + action
            + " "
            + sa.cast(e.c.at_offset, sa.String)
            + " "
            + sa.cast(e.c.at_utc, sa.String),
        )
    )
    # Each complaint's last reopening (few: found through the action index).
    reopens = (
        sa.select(e.c.reference, sa.func.max(e.c.seq).label("last"))
        .where(action == "reopen")
        .group_by(e.c.reference)
    )
    if matching is not None:
        reopens = reopens.where(e.c.reference.in_(matching))
    last = reopens.subquery("reopens")
    history = sa.select(
        e.c.reference,
        e.c.seq,
        action.label("action"),
        target.label("target"),
        other.label("other"),
        to.label("to_status"),
        pause.label("pause"),
        last.c.last.label("last_reopen"),
    ).select_from(e.outerjoin(last, last.c.reference == e.c.reference))
    if matching is not None:
        history = history.where(e.c.reference.in_(matching))
    h = history.subquery("history").c
    after_reopen = h.seq > sa.func.coalesce(h.last_reopen, -1)

    def first(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.min(sa.case((sa.and_(*conditions), h.seq)))

    def how_many(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.count(sa.case((sa.and_(*conditions), 1)))

    def breached(name: str, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return how_many(h.action == "sla_breach", h.target == name, *conditions)

    imported = {
        name: first(h.action == IMPORT, h.to_status.in_(_IMPLYING[name]), *conditions)
        for name, conditions in (
            ("acknowledge", ()),
            ("respond", ()),
            ("resolve", (after_reopen,)),
        )
    }
    aggregates = (
        sa.select(
            h.reference,
            how_many(h.action == "escalate").label("escalations"),
            how_many(h.action == "reopen").label("reopened"),
            sa.func.max(h.last_reopen).label("last_reopen"),
            breached("acknowledge").label("breached_acknowledge"),
            breached("respond").label("breached_respond"),
            breached("resolve", after_reopen).label("breached_resolve"),
            # NULL when there is none: a JSON aggregate of no rows would be "[null]" on SQLite
            sa.case((sa.func.count(h.other) > 0, _json_array_agg(dialect, h.other))).label(
                "breached_other"
            ),
            sa.func.aggregate_strings(h.pause, ",").label("pausing"),
            first(h.action.in_(sorted(ACKNOWLEDGE_ACTIONS))).label("ack"),
            first(h.action.in_(sorted(RESPOND_ACTIONS))).label("resp"),
            first(h.action.in_(sorted(RESOLVE_ACTIONS)), after_reopen).label("res"),
            *(imported[name].label(f"imported_{name}") for name in TARGETS),
        )
        .group_by(h.reference)
        .subquery("aggregates")
    )
    a = aggregates.c
    lb = labels
    labelled = sa.select(
        lb.c.reference, _json_object_agg(dialect, lb.c.scheme, lb.c.label).label("labels")
    ).group_by(lb.c.reference)
    if matching is not None:
        labelled = labelled.where(lb.c.reference.in_(matching))
    by_complaint = labelled.subquery("labelled")
    source: sa.FromClause = c.outerjoin(aggregates, a.reference == c.c.reference).outerjoin(
        by_complaint, by_complaint.c.reference == c.c.reference
    )
    met: dict[str, sa.FromClause] = {}
    for name, seq in (("ack", a.ack), ("resp", a.resp), ("res", a.res), ("reopen", a.last_reopen)):
        alias = e.alias(f"met_{name}")
        met[name] = alias
        source = source.outerjoin(
            alias, sa.and_(alias.c.reference == c.c.reference, alias.c.seq == seq)
        )
    instants = [
        column
        for name in ("ack", "resp", "res", "reopen")
        for column in (
            raw_instant(met[name].c.at_utc).label(f"{name}_at"),
            met[name].c.at_offset.label(f"{name}_offset"),
        )
    ]
    bits: list[sa.ColumnElement[Any]] = [
        sa.case((count > 0, 1 << i), else_=0)
        for i, count in enumerate((a.breached_acknowledge, a.breached_respond, a.breached_resolve))
    ]
    for i, (reached, state) in enumerate(
        (
            (a.ack, a.imported_acknowledge),
            (a.resp, a.imported_respond),
            (a.res, a.imported_resolve),
        )
    ):
        untimed = sa.and_(state.is_not(None), sa.or_(reached.is_(None), reached > state))
        bits.append(sa.case((untimed, 1 << (i + len(TARGETS))), else_=0))
    flags = bits[0]
    for bit in bits[1:]:
        flags = flags + bit
    columns = [
        sa.func.coalesce(a.escalations, 0).label("escalations"),
        sa.func.coalesce(a.reopened, 0).label("reopened"),
        flags.label("flags"),
        a.breached_other,
        a.pausing,
        *instants,
        by_complaint.c.labels,
    ]
    assert [column.key for column in columns] == list(AGGREGATES)
    return (
        complaints.add_columns(*columns)
        .select_from(source)
        .where(*conds)
        .order_by(c.c.received_utc, c.c.reference)
    )


@cache
def zone_of(offset: int) -> timezone:
    """The fixed zone of a UTC offset in seconds (UTC itself for 0)."""
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


def instant_parser(text: bool) -> Callable[[Any, int | None], datetime | None]:
    """What turns a stored instant (naive UTC; the stored text on SQLite when ``text``) and its
    offset in seconds into the aware datetime the complaint was written with."""
    parse = datetime.fromisoformat

    # ``replace(tzinfo=…)`` costs several times a parse; the text parses as UTC directly.
    def instant(value: Any, offset: int | None) -> datetime | None:
        if value is None:
            return None
        at: datetime = parse(value + "+00:00") if text else value.replace(tzinfo=UTC)
        return at.astimezone(zone_of(offset)) if offset else at

    return instant


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
