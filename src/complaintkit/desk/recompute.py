"""Recompute: deriving policy, route and deadlines again for stored complaints after the
configuration changed, without notifying or escalating anyone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

import attrs

from .. import sla
from ..model import Complaint, Event
from .clocks import SLAClocks
from .rules import Rules
from .state import Change, DeskState
from .writing import Writer

__all__ = ["RECOMPUTE_KINDS", "RecomputeResult", "Recomputer"]


#: What :meth:`Desk.recompute` counts: the kinds of change it makes to a complaint.
RECOMPUTE_KINDS = ("policy", "route", "deadlines", "exact", "provisional", "past_breaches")


@attrs.frozen
class RecomputeResult:
    """What one recompute changed (with ``dry_run``, what it would have changed).

    ``counts`` has one entry per :data:`RECOMPUTE_KINDS`: complaints whose policy was set or
    changed, that were routed again, whose deadlines moved, whose deadlines became exact or
    provisional, and the breaches of deadlines already past recorded as historical.
    ``changes`` lists ``(reference, [what changed, …])`` for every changed complaint.
    """

    examined: int
    changed: int
    counts: dict[str, int]
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dry_run: bool = False
    redecided: int = 0


class Recomputer:
    """Recomputes one desk's stored complaints."""

    def __init__(
        self, state: DeskState, deadlines: SLAClocks, writer: Writer, rules: Rules
    ) -> None:
        self.s = state
        self.deadlines = deadlines
        self.writer = writer
        self.rules = rules

    def recompute(
        self,
        *,
        dry_run: bool = False,
        past_breaches: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> RecomputeResult:
        """Derive policy, route and deadlines again for stored complaints, from their history
        and the configuration as it is now (e.g. after ``[sla]`` or ``[routing]`` was set up
        for complaints imported before, or a calendar year's arrangement was given).

        Nothing is notified and nothing escalated: no lifecycle hook fires. Routing is
        re-derived only where every change of department or assignee so far was made by routing
        (a manual ``assign`` or an escalation's hand-over is kept). With ``past_breaches``, a
        deadline of an open complaint that has already passed is recorded as a historical
        ``sla_breach`` (``data["historical"]``) so that the next sweep does not announce and
        escalate breaches that happened before; without it, the sweep records them as usual.
        Complaints are read a page at a time (``find`` order, which a recompute never
        changes) and written in batches with a version check; a complaint changed meanwhile is
        re-read and recomputed. With ``dry_run`` nothing is written and the result says what
        would be.
        """
        now = self.s.clock()
        examined = 0
        counts = dict.fromkeys(RECOMPUTE_KINDS, 0)
        changes: list[tuple[str, tuple[str, ...]]] = []
        batch: list[tuple[Complaint, tuple[str, ...], dict[str, int]]] = []
        redecided = 0

        def note(reference: str, what: tuple[str, ...], kinds: dict[str, int]) -> None:
            changes.append((reference, what))
            for kind, n in kinds.items():
                counts[kind] += n

        def again(c: Complaint, outcome: list[tuple[tuple[str, ...], dict[str, int]]]) -> Change:
            new, what, kinds = self._recomputed(c, now, past_breaches)
            outcome[:] = [(what, kinds)] if new is not c else []
            return Change(new)

        def flush() -> None:
            nonlocal redecided
            if not batch:
                return
            result = self.s.writes.update_many([c for c, _, _ in batch])
            stored = {c.reference for c in result.updated}
            for complaint, what, kinds in batch:
                if complaint.reference in stored:
                    note(complaint.reference, what, kinds)
            for reference in result.conflicts:
                # Changed meanwhile (by a sweep, a handler): read again and recompute.
                redecided += 1
                outcome: list[tuple[tuple[str, ...], dict[str, int]]] = []
                self.writer.mutate(reference, functools.partial(again, outcome=outcome))
                if outcome:
                    note(reference, *outcome[0])
            batch.clear()

        while True:
            page = list(self.s.store.find(limit=self.s.desk.RECOMPUTE_PAGE, offset=examined))
            if not page:
                break
            examined += len(page)
            for complaint in page:
                new, what, kinds = self._recomputed(complaint, now, past_breaches)
                if new is not complaint:
                    if dry_run:
                        note(complaint.reference, what, kinds)
                    else:
                        batch.append((new, what, kinds))
                        if len(batch) >= self.s.desk.RECOMPUTE_BATCH:
                            flush()
                if progress is not None:
                    progress(1)
            flush()
        return RecomputeResult(
            examined=examined,
            changed=len(changes),
            counts=counts,
            changes=tuple(changes),
            dry_run=dry_run,
            redecided=redecided,
        )

    def _rerouteable(self, c: Complaint) -> bool:
        """True when routing may decide ``c``'s department and assignee again: routing at
        intake is on, and they are unset or were set by routing only."""
        if not self.s.process.routing.at_intake:
            return False
        routed = False
        for event in c.history:
            if "department" in event.data or "assignee" in event.data:
                if event.action != "assign" or "rule" not in event.data:
                    return False
                routed = True
        # A department that came with the complaint (an import's column) is kept too.
        return routed or (c.department is None and c.assignee is None)

    def _recomputed(
        self, c: Complaint, now: datetime, past_breaches: bool
    ) -> tuple[Complaint, tuple[str, ...], dict[str, int]]:
        """``c`` with route, policy and deadlines derived again (the same object when nothing
        changes), what changed in words, and counts by :data:`RECOMPUTE_KINDS`."""
        what: list[str] = []
        kinds: dict[str, int] = {}
        new = c
        if self._rerouteable(c):
            route = self.rules.route_for(c)
            if route is not None:
                new = self.rules.routed(new, route, now)
                if new is not c:
                    who = " / ".join(v for v in (new.department, new.assignee) if v)
                    what.append(f"routed to {who} ({route.reason or route.rule or 'plugin'})")
                    kinds["route"] = 1
        new = self.deadlines.with_sla(new)
        if past_breaches and self.s.process.sla is not None:
            clocks = self.deadlines.clocks(new, now=now, with_left=False)
            overdue = sla.pending_alerts(new, clocks) if clocks is not None else []
            for kind, target, deadline in overdue:
                if kind != sla.BREACH:
                    continue
                event = Event(
                    at=now,
                    actor=self.s.actor,
                    action=sla.BREACH,
                    reason="deadline passed before the recompute: recorded as history, "
                    "nobody notified, not escalated",
                    data={"target": target, "deadline": deadline.isoformat(), "historical": True},
                )
                new = attrs.evolve(new, history=new.history + (event,))
                what.append(f"{target} deadline {deadline.isoformat()} had passed: breach recorded")
                kinds["past_breaches"] = kinds.get("past_breaches", 0) + 1
            if kinds.get("past_breaches") and clocks is not None:
                # The breaches change no deadline, only what is left to announce.
                due, alert = sla.schedule(new, clocks)
                new = attrs.evolve(new, due_at=due, alert_at=alert)
        if new.sla_policy != c.sla_policy:
            what.append(f"policy {c.sla_policy or '-'} → {new.sla_policy or '-'}")
            kinds["policy"] = 1
        if new.due_at != c.due_at:
            before = c.due_at.isoformat() if c.due_at else "-"
            after = new.due_at.isoformat() if new.due_at else "-"
            what.append(f"due {before} → {after}")
            kinds["deadlines"] = 1
        added = new.history[len(c.history) :] if new is not c else ()
        for event in added:
            if event.action == sla.EXACT:
                what.append(str(event.reason))
                kinds["exact"] = 1
                for target, moved in event.data.get("deadlines", {}).items():
                    if moved["from"] != moved["to"]:
                        what.append(f"{target} {moved['from'] or '-'} → {moved['to'] or '-'}")
                        kinds["deadlines"] = 1
            elif event.action == sla.PROVISIONAL:
                what.append(str(event.reason))
                kinds["provisional"] = 1
        if new is not c and not what:
            what.append("next alert moved")
        return new, tuple(what), kinds
