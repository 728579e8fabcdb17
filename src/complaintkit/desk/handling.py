"""Handling: the changes people make to one complaint as it is worked on: transitions of the
lifecycle, assignment, routing on demand, escalation, responses, and pausing and resuming the
SLA clocks while waiting on the customer."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from .. import lifecycle, sla
from ..errors import TransitionRejected
from ..model import Complaint, EscalationLevel, Event, Status
from ..storage import ComplaintFilter
from .clocks import is_paused
from .rules import Rules
from .state import Change, DeskState
from .writing import Writer

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["DISCLOSED", "Handling"]

#: The history action recording that a complaint's personal data was shown in full.
DISCLOSED = "personal_data_disclosed"
#: Complaints a disclosure record writes at a time.
DISCLOSURE_BATCH = 500


class Handling:
    """Handles one desk's complaints."""

    def __init__(self, state: DeskState, writer: Writer, rules: Rules) -> None:
        self.s = state
        self.writer = writer
        self.rules = rules

    def transition(
        self,
        reference: str,
        action: str,
        *,
        reason: str | None = None,
        solution: str | None = None,
        satisfaction: int | None = None,
    ) -> Complaint:
        """Move a complaint through the handling process (see :mod:`complaintkit.lifecycle`)."""

        def change(c: Complaint) -> Change:
            new, events = lifecycle.apply(
                c,
                action,
                actor=self.s.actor,
                at=self.s.clock(),
                reason=reason,
                solution=solution,
                satisfaction=satisfaction,
            )
            fires: list[tuple[str, dict[str, Any]]] = [
                ("complaint_transitioned", {"event": events[0]})
            ]
            fires += [
                ("complaint_escalated", {"event": e}) for e in events[1:] if e.action == "escalate"
            ]
            if new.status is Status.CLOSED:
                fires.append(("complaint_closed", {}))
            return Change(new, tuple(fires))

        return self.writer.mutate(reference, change)

    def assign(
        self,
        reference: str,
        *,
        department: str | None = None,
        assignee: str | None = None,
        reason: str | None = None,
    ) -> Complaint:
        """Give a complaint to a department and/or a person; the history records who had it."""
        if department is None and assignee is None:
            raise TransitionRejected("assign needs a department, an assignee, or both")

        def change(c: Complaint) -> Change:
            changes: dict[str, Any] = {}
            data: dict[str, Any] = {}
            if department is not None:
                changes["department"] = department
                data["department"] = {"from": c.department, "to": department}
            if assignee is not None:
                changes["assignee"] = assignee
                data["assignee"] = {"from": c.assignee, "to": assignee}
            event = Event(
                at=self.s.clock(), actor=self.s.actor, action="assign", reason=reason, data=data
            )
            return Change(attrs.evolve(c, **changes, history=c.history + (event,)))

        return self.writer.mutate(reference, change)

    def escalate(
        self, reference: str, *, to: EscalationLevel | None = None, reason: str
    ) -> Complaint:
        """Raise the escalation level (one level up by default); lowering it is refused."""
        if not reason:
            raise TransitionRejected("escalate needs a reason")

        def change(c: Complaint) -> Change:
            target = (
                to
                if to is not None
                else EscalationLevel(min(c.escalation_level + 1, EscalationLevel.LEADERSHIP))
            )
            if target <= c.escalation_level:
                raise TransitionRejected(
                    f"cannot escalate complaint {c.reference} to {target.slug}: it is already at "
                    f"{c.escalation_level.slug}"
                )
            if not c.is_open:
                raise TransitionRejected(
                    f"cannot escalate complaint {c.reference}: it is {c.status.value}"
                )
            new, event = self.rules.raised(c, target, reason, self.s.clock())
            return Change(new, (("complaint_escalated", {"event": event}),))

        return self.writer.mutate(reference, change)

    def route(self, reference: str) -> tuple[Complaint, Route]:
        """Route a complaint now (the ``route_complaint`` hook, else ``[[routing.rules]]``).

        Raises :class:`TransitionRejected` when no rule matches.
        """
        decided: list[Route] = []

        def change(c: Complaint) -> Change:
            route = self.rules.route_for(c)
            if route is None:
                raise TransitionRejected(
                    f"no routing rule matches complaint {c.reference}; add a [[routing.rules]] "
                    "entry or assign it by hand (complaintkit assign)"
                )
            decided[:] = [route]
            return Change(self.rules.routed(c, route, self.s.clock()))

        return self.writer.mutate(reference, change), decided[0]

    def _note(
        self,
        reference: str,
        action: str,
        reason: str | None,
        check: Callable[[Complaint], str | None],
        data: dict[str, Any] | None = None,
    ) -> Complaint:
        def change(c: Complaint) -> Change:
            problem = check(c)
            if problem:
                raise TransitionRejected(f"cannot {action} complaint {c.reference}: {problem}")
            event = Event(
                at=self.s.clock(), actor=self.s.actor, action=action, reason=reason, data=data or {}
            )
            return Change(attrs.evolve(c, history=c.history + (event,)))

        return self.writer.mutate(reference, change)

    def pause(self, reference: str, *, reason: str) -> Complaint:
        """Stop the SLA clocks while waiting on the customer (a ``pause`` event)."""
        if not reason:
            raise TransitionRejected("pause needs a reason (what are we waiting for?)")

        def check(c: Complaint) -> str | None:
            if not c.is_open:
                return f"it is {c.status.value}"
            return "its clocks are already paused" if is_paused(c) else None

        return self._note(reference, sla.PAUSE, reason, check)

    def resume(self, reference: str, *, reason: str | None = None) -> Complaint:
        """Restart the SLA clocks (a ``resume`` event); paused time is added to the deadlines."""
        return self._note(
            reference,
            sla.RESUME,
            reason,
            lambda c: None if is_paused(c) else "its clocks are not paused",
        )

    def respond(self, reference: str, message: str) -> Complaint:
        """Record a response to the complainant (meets the ``respond`` target)."""
        if not message:
            raise TransitionRejected("respond needs the message given to the complainant")
        return self._note(
            reference,
            sla.RESPOND,
            message,
            lambda c: None if c.is_open else f"it is {c.status.value}",
        )

    def record_disclosure(self, references: Iterable[str], *, reason: str) -> int:
        """Record in each complaint's history that its personal data was shown in full: a
        ``personal_data_disclosed`` event by the desk's actor, with ``reason``. Written in
        batches (one store write each); a complaint changed meanwhile is redone alone."""
        if not reason or not reason.strip():
            raise TransitionRejected("showing personal data in full needs a reason")
        written = 0
        pending: list[str] = []

        def event() -> Event:
            return Event(
                at=self.s.clock(),
                actor=self.s.actor,
                action=DISCLOSED,
                reason=reason.strip(),
            )

        def flush() -> None:
            nonlocal written
            if not pending:
                return
            # One query a batch, not one read a complaint; a reference not found is read alone,
            # which raises the store's NotFoundError naming it.
            found = list(self.s.store.find(ComplaintFilter(references=frozenset(pending))))
            missing = set(pending) - {c.reference for c in found}
            found += [self.s.store.get(reference) for reference in sorted(missing)]
            result = self.s.writes.update_many(
                [attrs.evolve(c, history=c.history + (event(),)) for c in found]
            )
            written += len(result.updated)
            for reference in result.conflicts:
                self.writer.mutate(
                    reference,
                    lambda c: Change(attrs.evolve(c, history=c.history + (event(),))),
                )
                written += 1
            pending.clear()

        for reference in references:
            pending.append(reference)
            if len(pending) >= DISCLOSURE_BATCH:
                flush()
        flush()
        return written
