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
from typing import Any

import sqlalchemy as sa

from complaintkit.facts import ACKNOWLEDGE_ACTIONS, RESOLVE_ACTIONS, RESPOND_ACTIONS
from complaintkit.lifecycle import IMPORT, implied_targets
from complaintkit.model import Status
from complaintkit.sla import TARGETS

# The rows' side (which columns a read needs, and reading them) needs no SQLAlchemy: it is
# in facts_rows, which the light path (complaintkit_sql.light) imports alone.
from .facts_rows import AGGREGATES

__all__ = ["facts_statement"]

#: The statuses whose import implies each SLA target was reached.
_IMPLYING = {
    target: sorted(s.value for s in Status if target in implied_targets(s)) for target in TARGETS
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


#: What each of :data:`AGGREGATES` is computed from: the per-complaint aggregates of the
#: events it reads (``seq`` of the met events), and the event joined back for an instant.
_NEEDS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "escalations": (("escalations",), None),
    "reopened": (("reopened",), None),
    "flags": (
        (
            "breached_acknowledge",
            "breached_respond",
            "breached_resolve",
            "ack",
            "resp",
            "res",
            *(f"imported_{name}" for name in TARGETS),
        ),
        None,
    ),
    "breached_other": (("breached_other",), None),
    "pausing": (("pausing",), None),
    "ack_at": (("ack",), "ack"),
    "ack_offset": (("ack",), "ack"),
    "resp_at": (("resp",), "resp"),
    "resp_offset": (("resp",), "resp"),
    "res_at": (("res",), "res"),
    "res_offset": (("res",), "res"),
    "reopen_at": (("last_reopen",), "reopen"),
    "reopen_offset": (("last_reopen",), "reopen"),
    "labels": ((), None),
}
#: The actions of the events each per-complaint aggregate looks at: the others never change it,
#: so the events aggregated are only those of the actions the wanted aggregates look at.
_ACTIONS: dict[str, frozenset[str]] = {
    "escalations": frozenset({"escalate"}),
    "reopened": frozenset({"reopen"}),
    "last_reopen": frozenset({"reopen"}),
    "breached_acknowledge": frozenset({"sla_breach"}),
    "breached_respond": frozenset({"sla_breach"}),
    "breached_resolve": frozenset({"sla_breach"}),
    "breached_other": frozenset({"sla_breach"}),
    "pausing": frozenset({"pause", "resume"}),
    "ack": ACKNOWLEDGE_ACTIONS,
    "resp": RESPOND_ACTIONS,
    "res": RESOLVE_ACTIONS,
    **{f"imported_{name}": frozenset({IMPORT}) for name in TARGETS},
}
#: The per-complaint aggregates that need each event's last reopening.
_AFTER_REOPEN = frozenset({"res", "breached_resolve", "imported_resolve", "last_reopen"})


def facts_statement(
    dialect: str,
    complaints: sa.Select[Any],
    conds: Sequence[sa.ColumnElement[bool]],
    events: sa.Table,
    labels: sa.Table,
    raw_instant: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]],
    wanted: Sequence[str] = AGGREGATES,
    schemes: Sequence[str] = (),
) -> sa.Select[Any]:
    """The facts of the complaints matching ``conds``: ``complaints`` (a select of the
    complaint columns facts read, from the complaints table) with the ``wanted`` columns of
    :data:`AGGREGATES` appended (all of them by default, in that order), in ``find`` order.
    Only what the wanted columns need is computed: no event is read when none is wanted, no
    label unless ``labels`` is. Then, for each of ``schemes``, the complaint's label in that
    scheme (``label_0``, ``label_1``, …; joined by primary key, no JSON). ``raw_instant``
    reads an instant column the way the store parses it."""
    unknown = [name for name in wanted if name not in _NEEDS]
    if unknown:
        raise ValueError(f"unknown aggregate column(s) {unknown}")
    c = complaints.selected_columns.reference.table
    e = events
    matching = sa.select(c.c.reference).where(*conds) if conds else None
    needed = {need for name in wanted for need in _NEEDS[name][0]}
    joined = {_NEEDS[name][1] for name in wanted} - {None}
    source: sa.FromClause = c
    a: Any = None
    if needed:
        a = _event_aggregates(dialect, e, matching, needed)
        source = source.outerjoin(a, a.c.reference == c.c.reference)
    by_complaint = None
    if "labels" in wanted:
        lb = labels
        labelled = sa.select(
            lb.c.reference, _json_object_agg(dialect, lb.c.scheme, lb.c.label).label("labels")
        ).group_by(lb.c.reference)
        if matching is not None:
            labelled = labelled.where(lb.c.reference.in_(matching))
        by_complaint = labelled.subquery("labelled")
        source = source.outerjoin(by_complaint, by_complaint.c.reference == c.c.reference)
    met: dict[str, Any] = {}
    for name, seq in (("ack", "ack"), ("resp", "resp"), ("res", "res"), ("reopen", "last_reopen")):
        if name not in joined:
            continue
        alias = e.alias(f"met_{name}")
        met[name] = alias
        source = source.outerjoin(
            alias, sa.and_(alias.c.reference == c.c.reference, alias.c.seq == a.c[seq])
        )
    columns: dict[str, sa.ColumnElement[Any]] = {}
    for name, alias in met.items():
        columns[f"{name}_at"] = raw_instant(alias.c.at_utc).label(f"{name}_at")
        columns[f"{name}_offset"] = alias.c.at_offset.label(f"{name}_offset")
    if "escalations" in wanted:
        columns["escalations"] = sa.func.coalesce(a.c.escalations, 0).label("escalations")
    if "reopened" in wanted:
        columns["reopened"] = sa.func.coalesce(a.c.reopened, 0).label("reopened")
    if "flags" in wanted:
        columns["flags"] = _flags(a.c).label("flags")
    for name in ("breached_other", "pausing"):
        if name in wanted:
            columns[name] = a.c[name]
    if by_complaint is not None:
        columns["labels"] = by_complaint.c.labels
    one_label = []
    for i, scheme in enumerate(schemes):
        label = labels.alias(f"label_{i}")
        source = source.outerjoin(
            label, sa.and_(label.c.reference == c.c.reference, label.c.scheme == scheme)
        )
        one_label.append(label.c.label.label(f"label_{i}"))
    return (
        complaints.add_columns(*(columns[name] for name in wanted), *one_label)
        .select_from(source)
        .where(*conds)
        .order_by(c.c.received_utc, c.c.reference)
    )


def _event_aggregates(
    dialect: str, e: sa.Table, matching: sa.Select[Any] | None, needed: set[str]
) -> sa.Subquery:
    """One row per complaint with events (of those ``matching``, else all): its ``reference``
    and the ``needed`` aggregates of its events, one ``GROUP BY`` (see the module's
    docstring)."""
    action = e.c.action
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
    # The event columns the aggregates read (the others are not computed at all).
    history_columns: list[sa.ColumnElement[Any]] = [e.c.reference, e.c.seq, action.label("action")]
    if needed & {"breached_acknowledge", "breached_respond", "breached_resolve"}:
        history_columns.append(target.label("target"))
    if "breached_other" in needed:
        history_columns.append(other.label("other"))
    if needed & {f"imported_{name}" for name in TARGETS}:
        history_columns.append(to.label("to_status"))
    if "pausing" in needed:
        history_columns.append(pause.label("pause"))
    source: sa.FromClause = e
    if needed & _AFTER_REOPEN:
        # Each complaint's last reopening (few: found through the action index).
        reopens = (
            sa.select(e.c.reference, sa.func.max(e.c.seq).label("last"))
            .where(action == "reopen")
            .group_by(e.c.reference)
        )
        if matching is not None:
            reopens = reopens.where(e.c.reference.in_(matching))
        last = reopens.subquery("reopens")
        source = e.outerjoin(last, last.c.reference == e.c.reference)
        history_columns.append(last.c.last.label("last_reopen"))
    actions = sorted(set().union(*(_ACTIONS[name] for name in needed)))
    history = sa.select(*history_columns).select_from(source).where(action.in_(actions))
    if matching is not None:
        history = history.where(e.c.reference.in_(matching))
    h = history.subquery("history").c

    def after_reopen() -> sa.ColumnElement[bool]:
        return h.seq > sa.func.coalesce(h.last_reopen, -1)

    def first(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.min(sa.case((sa.and_(*conditions), h.seq)))

    def how_many(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.count(sa.case((sa.and_(*conditions), 1)))

    def breached(name: str, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return how_many(h.action == "sla_breach", h.target == name, *conditions)

    def imported(name: str, *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return first(h.action == IMPORT, h.to_status.in_(_IMPLYING[name]), *conditions)

    makers: dict[str, Callable[[], sa.ColumnElement[Any]]] = {
        "escalations": lambda: how_many(h.action == "escalate"),
        "reopened": lambda: how_many(h.action == "reopen"),
        "last_reopen": lambda: sa.func.max(h.last_reopen),
        "breached_acknowledge": lambda: breached("acknowledge"),
        "breached_respond": lambda: breached("respond"),
        "breached_resolve": lambda: breached("resolve", after_reopen()),
        # NULL when there is none: a JSON aggregate of no rows would be "[null]" on SQLite
        "breached_other": lambda: sa.case(
            (sa.func.count(h.other) > 0, _json_array_agg(dialect, h.other))
        ),
        "pausing": lambda: sa.func.aggregate_strings(h.pause, ","),
        "ack": lambda: first(h.action.in_(sorted(ACKNOWLEDGE_ACTIONS))),
        "resp": lambda: first(h.action.in_(sorted(RESPOND_ACTIONS))),
        "res": lambda: first(h.action.in_(sorted(RESOLVE_ACTIONS)), after_reopen()),
        "imported_acknowledge": lambda: imported("acknowledge"),
        "imported_respond": lambda: imported("respond"),
        "imported_resolve": lambda: imported("resolve", after_reopen()),
    }
    return (
        sa.select(h.reference, *(makers[name]().label(name) for name in makers if name in needed))
        .group_by(h.reference)
        .subquery("aggregates")
    )


def _flags(a: Any) -> sa.ColumnElement[Any]:
    """The :data:`~complaintkit_sql.facts_rows.FLAGS` bits from the per-complaint
    aggregates ``a``."""
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
    return flags
