"""Intake: a new complaint's checks and ``received`` event, then the process work at its door
(routing, the link to the complaint it repeats, the fast channel, SLA deadlines), one at a time
or as a streamed batch. The checks themselves are :mod:`complaintkit.intake`'s."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any

import attrs

from .. import lifecycle
from ..audit import seal
from ..errors import ValidationError
from ..intake import CHARACTERS_REMOVED, check_complaint, clean_complaint
from ..model import Complaint, EscalationLevel, Event, Label, Status
from ..storage import AddResult, ComplaintFilter, gc_paused
from .classifying import BATCH, Classifier, LabelPass, classified_fires
from .clocks import SLAClocks
from .rules import Rules
from .state import NOBODY, DeskState, Fires
from .writing import Writer

if TYPE_CHECKING:
    from ..classification import ClassificationScheme

__all__ = ["Intake"]


class Intake:
    """Stores one desk's new complaints."""

    def __init__(
        self,
        state: DeskState,
        deadlines: SLAClocks,
        writer: Writer,
        classifier: Classifier,
        rules: Rules,
    ) -> None:
        self.s = state
        self.deadlines = deadlines
        self.writer = writer
        self.classifier = classifier
        self.rules = rules

    def prepare(
        self, complaint: Complaint, schemes: Sequence[ClassificationScheme] = ()
    ) -> tuple[Complaint, list[tuple[Label, Label | None]]]:
        """A new complaint with its ``received`` event and, if ``schemes`` given, its labels.

        Every door comes through here, so every new complaint gets the same checks
        (:mod:`complaintkit.intake`): characters no store can hold are removed and recorded
        (a ``characters_removed`` event naming the fields and counts), then anything else
        wrong raises :class:`~complaintkit.errors.ValidationError` before the store sees it.
        """
        complaint, at, received = self._checked(complaint)
        if schemes:
            return self.classifier.labelled(complaint, schemes, at, extra_events=received)
        if received:
            return attrs.evolve(complaint, history=complaint.history + received), []
        return complaint, []

    def _checked(self, complaint: Complaint) -> tuple[Complaint, datetime, tuple[Event, ...]]:
        """``complaint`` cleaned and checked (:meth:`prepare`), the time of its intake, and the
        events intake adds to its history: ``received`` (unless it brings a history) and
        ``characters_removed``."""
        complaint, removed = clean_complaint(complaint)
        check_complaint(complaint)
        at = self.s.clock()
        received: tuple[Event, ...] = ()
        if not complaint.history:
            received = (
                Event(
                    at=at,
                    actor=self.s.actor,
                    action="received",
                    reason=None,
                    data={"channel": complaint.channel.value},
                ),
            )
        if removed:
            received += (
                Event(
                    at=at,
                    actor=self.s.actor,
                    action=CHARACTERS_REMOVED,
                    reason="characters no store can hold (NUL, lone surrogates)",
                    data=dict(removed),
                ),
            )
        return complaint, at, received

    def intake(self, complaint: Complaint, *, classify: bool = True) -> Complaint:
        """Store a new complaint: classified by every scheme (unless ``classify`` is False),
        routed, linked to the complaint it repeats, fast-channel escalated and given its SLA
        deadlines, as configured (docs/process.md)."""
        prepared, changes = self.prepare(
            complaint, self.classifier.schemes(None) if classify else ()
        )
        prepared, process_fires = self._process_new(prepared, lookup=True)
        stored = self.s.writes.add(prepared)
        if not lifecycle.is_imported(stored):
            self.writer.fire_all(
                stored,
                (("complaint_received", {}),) + classified_fires(changes) + process_fires,
            )
        return stored

    def intake_many(
        self,
        complaints: Iterable[Complaint],
        *,
        classify: bool = True,
        schemes: Sequence[str] | None = None,
    ) -> AddResult:
        """Store many new complaints as one streamed batch; existing references are skipped.

        ``complaints`` is consumed lazily, so a large import never holds the input in memory.
        Lifecycle hooks fire after the batch is written, and only if a plugin observes them.
        Each complaint gets the checks of :meth:`prepare`; one that fails them raises
        :class:`~complaintkit.errors.ValidationError` and stops the stream (the store keeps the
        batches written before it), so a caller that wants to skip bad complaints filters them
        with :func:`complaintkit.intake.complaint_problems` first, as ``read_complaints`` does.

        A complaint that brings its history from another system (its first event is by
        :data:`~complaintkit.lifecycle.IMPORT_ACTOR`, as an import with a status or step times
        makes it) notifies and escalates nobody: no lifecycle hook fires for it, the fast
        channel and the re-complaint link do not raise it, and the SLA warnings and breaches
        its clocks reached before now are recorded as historical
        (:meth:`record_past_alerts`), so the sweep does not announce them.

        Each complaint is stored as :meth:`intake` would store it, but built once
        (:meth:`_ready_many`): its labels and events are worked out first and the complaint
        as stored (sealed, version 1) is made from them in one step, so the hooks receive
        exactly what the store holds.
        """
        chosen = self.classifier.schemes(schemes) if classify else []
        observe = self.s.host.has_implementations("complaint_received") or (
            bool(chosen) and self.s.host.has_implementations("complaint_classified")
        )
        active = self.s.process_active()
        if active:
            observe = observe or self.s.host.has_implementations("complaint_escalated")
        recomplaint = self.s.process.recomplaint
        prepared: list[tuple[Complaint, Fires]] = []
        repeat_candidates: list[Complaint] = []

        def stream() -> Iterator[Complaint]:
            for ready, fires in self._ready_many(complaints, chosen, active):
                imported = lifecycle.is_imported(ready)
                if observe and not imported:
                    prepared.append((ready, fires))
                if recomplaint is not None and ready.complainant != NOBODY and not imported:
                    repeat_candidates.append(ready)
                yield ready

        # While the batch is read, classified and written, every complaint kept for the hooks
        # and the repeat links is dozens of long-lived objects the collector would walk again
        # and again (the stores pause it for the same reason). The plugins' hooks run with it
        # on, each complaint released once its hooks have run.
        with gc_paused():
            result = self.s.writes.add_many(stream())
        skipped = set(result.skipped)
        prepared.reverse()
        while prepared:
            complaint, fires = prepared.pop()
            if complaint.reference not in skipped:
                self.writer.fire_all(complaint, (("complaint_received", {}),) + fires)
        if repeat_candidates:
            self._link_repeats([c for c in repeat_candidates if c.reference not in skipped])
        return result

    def _ready_many(
        self,
        complaints: Iterable[Complaint],
        schemes: Sequence[ClassificationScheme],
        active: bool,
    ) -> Iterator[tuple[Complaint, Fires]]:
        """Each of ``complaints`` as :meth:`intake` stores it (checked, labelled by ``schemes``,
        given the process work if ``active``, sealed, version 1) with the hooks it fires, in
        order and lazily, :data:`BATCH` at a time (the schemes get a batch's texts at once).
        A complaint that fails the checks raises after the ones before it are given."""
        source = iter(complaints)
        while True:
            checked: list[tuple[Complaint, datetime, tuple[Event, ...]]] = []
            failure: ValidationError | None = None
            for complaint in islice(source, BATCH):
                try:
                    checked.append(self._checked(complaint))
                except ValidationError as error:  # raised after the complaints before it
                    failure = error
                    break
            if not checked and failure is None:
                return
            passes: list[LabelPass] = []
            if schemes:
                passes = self.classifier.passes([c for c, _, _ in checked], schemes, self.s.clock())
            for i, (c, _, received) in enumerate(checked):
                labels, history = c.labels, c.history + received
                fires: Fires = ()
                if passes:
                    labels, changes, classified = passes[i]
                    history += classified
                    fires = classified_fires(changes)
                if active:
                    c = attrs.evolve(c, labels=labels, history=history)
                    c, more = self._process_new(c, lookup=False)
                    labels, history, fires = c.labels, c.history, fires + more
                yield (
                    attrs.evolve(c, labels=labels, history=seal(c.reference, history), version=1),
                    fires,
                )
            if failure is not None:
                raise failure

    def _process_new(self, c: Complaint, *, lookup: bool) -> tuple[Complaint, Fires]:
        """Routing, re-complaint link (when ``lookup``: it reads the store), fast channel and
        SLA for a complaint about to be stored. A complaint with an imported history is only
        routed (while open) and given its SLA, with the alerts it reached before now recorded
        as historical: nothing that happened before the import escalates it."""
        imported = lifecycle.is_imported(c)
        if imported:
            if not self.s.process_active():
                return c, ()
            now = self.s.clock()
            routing = self.s.process.routing
            if routing.at_intake and c.is_open and c.department is None and c.assignee is None:
                route = self.rules.route_for(c)
                if route is not None:
                    c = self.rules.routed(c, route, now)
            return self.deadlines.with_sla(self.deadlines.record_past_alerts(c, now)), ()
        if not (lookup and self.s.process.recomplaint is not None) and not self.s.process_active():
            return c, ()
        at = c.history[-1].at if c.history else self.s.clock()
        fires: list[tuple[str, dict[str, Any]]] = []
        routing = self.s.process.routing
        if routing.at_intake and c.department is None and c.assignee is None:
            route = self.rules.route_for(c)
            if route is not None:
                c = self.rules.routed(c, route, at)
        if lookup and self.s.process.recomplaint is not None:
            from ..recomplaint import complainant_keys

            earlier: dict[str, Complaint] = {}
            for key in complainant_keys(c):
                flt = ComplaintFilter(
                    complainant=key, statuses=frozenset({Status.RESOLVED, Status.CLOSED})
                )
                earlier.update((e.reference, e) for e in self.s.store.find(flt))
            c, more = self._linked(c, earlier.values())
            fires += more
        escalation = self.s.process.escalation
        fast = escalation.fast_channel
        if fast is not None and fast.matches(c) and c.escalation_level < escalation.fast_level:
            c, event = self.rules.raised(
                c,
                escalation.fast_level,
                f"fast channel (快速通道): {fast.describe()}",
                at,
                {"fast_channel": True},
            )
            fires.append(("complaint_escalated", {"event": event}))
        return self.deadlines.with_sla(c), tuple(fires)

    def _linked(self, c: Complaint, earlier: Iterable[Complaint]) -> tuple[Complaint, Fires]:
        """``c`` linked to the complaint it repeats, one level above it (or unchanged)."""
        from ..recomplaint import find_parent

        config = self.s.process.recomplaint
        if config is None or c.parent is not None:
            return c, ()
        found = find_parent(c, earlier, config)
        if found is None:
            return c, ()
        parent, why = found
        at = c.history[-1].at if c.history else c.received_at
        link = Event(
            at=at,
            actor=self.s.actor,
            action="recomplaint",
            reason=f"repeats {parent.reference}: {why}",
            data={"parent": parent.reference, "match": why},
        )
        c = attrs.evolve(
            c,
            parent=parent.reference,
            recomplaint_count=parent.recomplaint_count + 1,
            history=c.history + (link,),
        )
        fires: list[tuple[str, dict[str, Any]]] = [("complaint_recomplaint", {"previous": parent})]
        target = EscalationLevel(min(parent.escalation_level + 1, EscalationLevel.LEADERSHIP))
        if target > c.escalation_level:
            c, event = self.rules.raised(
                c,
                target,
                f"re-complaint (复投诉) of {parent.reference}",
                at,
                {"parent": parent.reference},
            )
            fires.append(("complaint_escalated", {"event": event}))
        return c, tuple(fires)

    def _link_repeats(self, new: list[Complaint]) -> None:
        """Link a batch's repeat complaints with one scan of the resolved and closed ones."""
        from ..recomplaint import complainant_keys

        keys = {k for c in new for k in complainant_keys(c)}
        if not keys:
            return
        closed = ComplaintFilter(statuses=frozenset({Status.RESOLVED, Status.CLOSED}))
        by_key: dict[str, list[Complaint]] = {}
        for old in self.s.store.find(closed):
            for key in complainant_keys(old):
                if key in keys:
                    by_key.setdefault(key, []).append(old)
        changed: list[tuple[Complaint, Fires]] = []
        for c in new:
            candidates = {o.reference: o for k in complainant_keys(c) for o in by_key.get(k, [])}
            if not candidates:
                continue
            linked, fires = self._linked(c, candidates.values())
            if linked is not c:
                changed.append((self.deadlines.with_sla(linked), fires))
        if not changed:
            return
        result = self.s.writes.update_many([c for c, _ in changed])
        stored = {c.reference: c for c in result.updated}
        for complaint, fires in changed:
            if complaint.reference in stored:
                self.writer.fire_all(stored[complaint.reference], fires)
