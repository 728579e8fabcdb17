"""The few facts per complaint that reports need, readable without loading whole complaints.

A report over 130k complaints should not build 130k :class:`~complaintkit.model.Complaint`
objects with their histories. :class:`ComplaintFacts` is the projection reporters work from:
the fields they group on, the instants each SLA target was met (taken from the history), what
the sweep recorded, escalations, remedies and satisfaction.

:func:`facts_of` is the reference definition, computed from a complaint. A backend that can do
better (read raw documents, or let its database select the columns and aggregate the events)
implements :class:`FactsStore`; :func:`iter_facts` uses it when present and otherwise falls back
to ``facts_of`` over ``find``. The storage conformance suite checks that the two agree.

A report that needs only a few of the facts reads them with :func:`iter_fact_columns`: one
tuple of the named fields per complaint. A backend implementing :class:`FactColumnsStore`
computes only those (a database aggregates only the events and labels they need, in one
statement); elsewhere they are taken from :func:`iter_facts`.

What a history says is defined once, by :func:`scan_history` over ``(action, at, data)``
triples: ``facts_of`` feeds it events, the TinyDB store the raw event dicts. The SQL store
computes the met instants and counts in the database from the same action sets, and feeds the
few events that shape the SLA clocks (pauses, resumptions, reopenings, breaches) to
``scan_history`` too. The SLA clocks themselves are computed from these facts
(:func:`complaintkit.sla.clocks_of`), so ``clocks`` and the reports give one verdict; a report
reads only the :data:`CLOCK_FIELDS` for them (:class:`ClockFacts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

import attrs

from .lifecycle import IMPORT, implied_targets
from .model import Channel, Complaint, EscalationLevel, Remedy, Status
from .storage import ComplaintFilter, Store

__all__ = [
    "ACKNOWLEDGE_ACTIONS",
    "CLOCK_ACTIONS",
    "CLOCK_FIELDS",
    "FACT_FIELDS",
    "HISTORY_ACTIONS",
    "LABEL_FIELD",
    "RESOLVE_ACTIONS",
    "RESPOND_ACTIONS",
    "ClockFacts",
    "ComplaintFacts",
    "ComplaintLabels",
    "FactColumnsStore",
    "FactsStore",
    "HistoryFacts",
    "LabelSummariesStore",
    "LabelSummary",
    "facts_of",
    "iter_fact_columns",
    "iter_facts",
    "iter_label_summaries",
    "label_summaries_of",
    "scan_history",
]

T = TypeVar("T")

#: History actions that end a complaint's resolve clock (as in :mod:`complaintkit.sla`); a
#: ``merge`` rejects a duplicate, so it ends the duplicate's clocks as ``reject`` does.
RESOLVE_ACTIONS = frozenset({"resolve", "close", "withdraw", "reject", "merge"})
#: History actions that count as the first real answer.
RESPOND_ACTIONS = RESOLVE_ACTIONS | {"respond", "propose"}
#: History actions that acknowledge a complaint (any handling step does).
ACKNOWLEDGE_ACTIONS = RESPOND_ACTIONS | {
    "acknowledge",
    "assess",
    "investigate",
    "accept",
    "implement",
}


#: The actions that shape the SLA clocks besides the met instants: pauses (waiting on the
#: customer), reopenings (the resolve clock restarts), the sweep's recorded breaches and the
#: states imported from another system at a time it did not record (``import``).
CLOCK_ACTIONS = frozenset({"pause", "resume", "reopen", "sla_breach", IMPORT})
#: Every action :func:`scan_history` looks at; a reader may skip other events unseen.
HISTORY_ACTIONS = ACKNOWLEDGE_ACTIONS | CLOCK_ACTIONS | {"escalate"}


@attrs.frozen
class ComplaintFacts:
    """What reports know about one complaint.

    * ``acknowledged_at`` / ``responded_at`` — the first event that met the acknowledge /
      respond target (see :data:`ACKNOWLEDGE_ACTIONS`, :data:`RESPOND_ACTIONS`);
    * ``resolved_at`` — the event that resolved the complaint for good: the first resolving
      event after the last ``reopen``, and None while the complaint is open;
    * ``reopened`` — how many times it was reopened; ``reopened_at`` — the last reopening,
      where the resolve clock restarted (None if never reopened);
    * ``breached`` — targets whose clock has an ``sla_breach`` recorded (by the sweep, or
      imported): for resolve, only breaches after the last reopening count, as the clock
      restarted there;
    * ``escalations`` — how many ``escalate`` events (automatic and manual);
    * ``pauses`` — the intervals its clocks were paused (waiting on the customer), from a
      ``pause`` to the next ``resume`` (None: still paused), in history order;
    * ``customer`` — the complainant's customer id, else phone, else e-mail (None if unknown):
      a key for counting affected customers;
    * ``untimed`` — targets reached at a time nobody knows: an imported history said the
      complaint was in a state that implies them (closed, say) without the time of the step.
      :meth:`reached` gives None for them; the SLA verdict is ``untimed``.
    """

    reference: str
    received_at: datetime
    status: Status
    channel: Channel
    department: str | None
    assignee: str | None
    product: str | None
    escalation_level: EscalationLevel
    labels: Mapping[str, str]
    sla_policy: str | None
    due_at: datetime | None
    satisfaction: int | None
    parent: str | None
    recomplaint_count: int
    customer: str | None
    acknowledged_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    reopened: int
    reopened_at: datetime | None
    breached: frozenset[str]
    escalations: int
    pauses: tuple[tuple[datetime, datetime | None], ...]
    remedies: tuple[Remedy, ...]
    untimed: frozenset[str] = frozenset()

    @property
    def paused(self) -> bool:
        """Whether its clocks were ever paused."""
        return bool(self.pauses)

    def reached(self, target: str) -> datetime | None:
        """The instant SLA ``target`` (acknowledge, respond, resolve) was met, or None (also
        when it was met at an unknown time, see ``untimed``)."""
        return _reached(self, target)

    def label(self, scheme: str) -> str | None:
        """The label in ``scheme``, or None."""
        return self.labels.get(scheme)


class ClockFacts(NamedTuple):
    """The facts of one complaint that its SLA clocks are computed from: the
    :data:`CLOCK_FIELDS` of its :class:`ComplaintFacts`, as :func:`iter_fact_columns` reads
    them (``ClockFacts(*columns)``), so that a report judges SLA targets
    (:func:`complaintkit.sla.clocks_of`) without whole facts. Each field means what the field
    of that name of :class:`ComplaintFacts` means."""

    received_at: datetime
    acknowledged_at: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    reopened_at: datetime | None
    breached: frozenset[str]
    untimed: frozenset[str]
    pauses: tuple[tuple[datetime, datetime | None], ...]

    def reached(self, target: str) -> datetime | None:
        """As :meth:`ComplaintFacts.reached`."""
        return _reached(self, target)


#: The fields of :class:`ComplaintFacts` the SLA clocks are computed from, in the order of
#: :class:`ClockFacts`.
CLOCK_FIELDS: tuple[str, ...] = ClockFacts._fields


def _reached(facts: ComplaintFacts | ClockFacts, target: str) -> datetime | None:
    if target in facts.untimed:
        return None
    if target == "acknowledge":
        return facts.acknowledged_at
    if target == "respond":
        return facts.responded_at
    if target == "resolve":
        return facts.resolved_at
    raise ValueError(f"unknown SLA target {target!r}")


@attrs.frozen
class HistoryFacts(Generic[T]):
    """What one pass over a history finds (see :func:`scan_history`).

    The instants are whatever the caller passed as each event's time: datetimes for a
    complaint's history, or the stored strings of a raw document, so that only the few events
    chosen need parsing.
    """

    acknowledged: T | None
    responded: T | None
    resolved: T | None
    reopened: int
    reopened_at: T | None
    breached: frozenset[str]
    escalations: int
    pauses: tuple[tuple[T, T | None], ...]
    untimed: frozenset[str] = frozenset()


def scan_history(events: Iterable[tuple[str, T, Mapping[str, Any] | None]]) -> HistoryFacts[T]:
    """One pass over a history given as ``(action, at, data)`` in history order: the single
    definition of the met instants, reopen and escalation counts, breached targets and pauses.

    ``resolved`` is the first resolving event after the last ``reopen`` (None if a ``reopen``
    came after every resolution); the caller clears it for a complaint that is open. A
    ``reopen`` also forgets the resolve breaches recorded before it (the resolve clock restarts
    there; the acknowledge and respond clocks never restart). A ``pause`` while paused and a
    ``resume`` while running change nothing. An ``import`` event (a state taken from another
    system without the time it was reached, ``data["to"]``) marks the targets that state implies
    (:func:`~complaintkit.lifecycle.implied_targets`) and that no earlier event met as
    ``untimed``; a ``reopen`` forgets an untimed resolution as it forgets a resolve breach.
    """
    acknowledged = responded = resolved = reopened_at = None
    reopened = escalations = 0
    breached: set[str] = set()
    pauses: list[tuple[T, T | None]] = []
    paused_at: T | None = None
    untimed: set[str] = set()
    for action, at, data in events:
        if acknowledged is None and action in ACKNOWLEDGE_ACTIONS:
            acknowledged = at
        if responded is None and action in RESPOND_ACTIONS:
            responded = at
        if action in RESOLVE_ACTIONS:
            if resolved is None:
                resolved = at
        elif action == "reopen":
            reopened += 1
            resolved = None
            reopened_at = at
            breached.discard("resolve")
            untimed.discard("resolve")
        elif action == IMPORT:
            reached = {"acknowledge": acknowledged, "respond": responded, "resolve": resolved}
            for implied in _imported_targets(data):
                if reached[implied] is None:
                    untimed.add(implied)
        elif action == "escalate":
            escalations += 1
        elif action == "sla_breach":
            target = data.get("target") if data else None
            if isinstance(target, str):
                breached.add(target)
        elif action == "pause":
            if paused_at is None:
                paused_at = at
        elif action == "resume" and paused_at is not None:
            pauses.append((paused_at, at))
            paused_at = None
    if paused_at is not None:
        pauses.append((paused_at, None))
    return HistoryFacts(
        acknowledged,
        responded,
        resolved,
        reopened,
        reopened_at,
        frozenset(breached),
        escalations,
        tuple(pauses),
        frozenset(untimed),
    )


def _imported_targets(data: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The targets an ``import`` event's state implies (none for a state we do not know)."""
    to = data.get("to") if data else None
    if not isinstance(to, str) or to not in _STATUS_VALUES:
        return ()
    return implied_targets(Status(to))


_STATUS_VALUES = frozenset(status.value for status in Status)


def facts_of(c: Complaint) -> ComplaintFacts:
    """The facts of a complaint: the reference definition every backend must agree with."""
    found = scan_history((event.action, event.at, event.data) for event in c.history)
    who = c.complainant
    return ComplaintFacts(
        reference=c.reference,
        received_at=c.received_at,
        status=c.status,
        channel=c.channel,
        department=c.department,
        assignee=c.assignee,
        product=c.product,
        escalation_level=c.escalation_level,
        labels={scheme: label.label for scheme, label in c.labels.items()},
        sla_policy=c.sla_policy,
        due_at=c.due_at,
        satisfaction=c.satisfaction,
        parent=c.parent,
        recomplaint_count=c.recomplaint_count,
        customer=who.customer_id or who.phone or who.email,
        acknowledged_at=found.acknowledged,
        responded_at=found.responded,
        resolved_at=None if c.is_open else found.resolved,
        reopened=found.reopened,
        reopened_at=found.reopened_at,
        breached=found.breached,
        escalations=found.escalations,
        pauses=found.pauses,
        remedies=c.remedies,
        untimed=found.untimed,
    )


@runtime_checkable
class FactsStore(Store, Protocol):
    """A :class:`~complaintkit.storage.Store` that reads facts without whole complaints.

    ``facts`` yields exactly ``facts_of(c) for c in find(flt)``, in the same order, but may get
    there any way it likes (raw documents, SQL projections and aggregates of the event table).
    """

    def facts(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
        """The facts of the complaints matching ``flt``, oldest received first."""
        ...


def iter_facts(store: Store, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
    """The facts of the complaints matching ``flt``, pushed down to the store when it can."""
    if isinstance(store, FactsStore):
        return store.facts(flt)
    return (facts_of(c) for c in store.find(flt))


#: The names :func:`iter_fact_columns` takes: the fields of :class:`ComplaintFacts`, and
#: ``label:SCHEME`` for the label in one scheme (``ComplaintFacts.label(SCHEME)``).
FACT_FIELDS = tuple(field.name for field in attrs.fields(ComplaintFacts))

#: The prefix of a field naming one scheme's label.
LABEL_FIELD = "label:"


def _is_field(name: str) -> bool:
    return name in FACT_FIELDS or (name.startswith(LABEL_FIELD) and len(name) > len(LABEL_FIELD))


def _value(facts: ComplaintFacts, name: str) -> Any:
    if name.startswith(LABEL_FIELD):
        return facts.label(name[len(LABEL_FIELD) :])
    return getattr(facts, name)


@runtime_checkable
class FactColumnsStore(Store, Protocol):
    """A :class:`~complaintkit.storage.Store` that reads some of the facts of each complaint.

    ``fact_columns(flt, fields)`` yields exactly what :func:`iter_fact_columns` defines
    (the values of ``fields`` of each of ``facts(flt)``), in the same order, computing only
    what those fields need.
    """

    def fact_columns(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> Iterator[tuple[Any, ...]]:
        """The ``fields`` (names of :data:`FACT_FIELDS`, or ``label:SCHEME``) of the
        complaints matching ``flt``, oldest received first."""
        ...


def iter_fact_columns(
    store: Store, flt: ComplaintFilter | None, fields: tuple[str, ...]
) -> Iterator[tuple[Any, ...]]:
    """Some facts of the complaints matching ``flt``, one tuple per complaint in ``find``
    order: for each of ``fields``, the field of that name of its :class:`ComplaintFacts`
    (:data:`FACT_FIELDS`), or for ``label:SCHEME`` its label in that scheme (or None). Pushed
    down to the store when it can; an unknown field name is a :class:`ValueError` before
    anything is read."""
    unknown = [name for name in fields if not _is_field(name)]
    if unknown:
        raise ValueError(f"unknown fact field(s) {', '.join(map(repr, unknown))}")
    if isinstance(store, FactColumnsStore):
        return store.fact_columns(flt, fields)
    return (tuple(_value(f, name) for name in fields) for f in iter_facts(store, flt))


#: One label as :func:`iter_label_summaries` gives it: ``(label, confidence, classifier)``.
LabelSummary = tuple[str, float, str]
#: One complaint's labels: ``(reference, received_at, {scheme: LabelSummary})``.
ComplaintLabels = tuple[str, datetime, dict[str, LabelSummary]]


def label_summaries_of(c: Complaint) -> ComplaintLabels:
    """The reference definition of what :func:`iter_label_summaries` gives for a complaint."""
    return (
        c.reference,
        c.received_at,
        {
            scheme: (label.label, label.confidence, label.classifier)
            for scheme, label in c.labels.items()
        },
    )


@runtime_checkable
class LabelSummariesStore(Store, Protocol):
    """A :class:`Store` that reads every complaint's labels (key, confidence, classifier)
    without whole complaints.

    ``label_summaries(flt)`` yields exactly ``label_summaries_of(c) for c in find(flt)``, in
    the same order. What the review queue selects from (the labels below their confidence
    threshold): the TinyDB store answers it from its index; the conformance suite checks it
    equals the definition when a store has it.
    """

    def label_summaries(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintLabels]:
        """The labels of the complaints matching ``flt`` (all when None), in ``find`` order."""
        ...


def iter_label_summaries(
    store: Store, flt: ComplaintFilter | None = None
) -> Iterator[ComplaintLabels]:
    """The labels of the complaints matching ``flt``, pushed down to the store when it can."""
    if isinstance(store, LabelSummariesStore):
        return store.label_summaries(flt)
    return (label_summaries_of(c) for c in store.find(flt))
