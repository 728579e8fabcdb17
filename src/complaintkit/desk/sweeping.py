"""The sweep: recording due SLA warnings and breaches, escalating on breaches, running the
plugins' ``sweep_finished`` work, and announcing a spike (early warning) once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from .. import sla
from ..i18n import Names
from ..model import Complaint, EscalationLevel, Event
from ..spikes import SPIKE_ACTION, SpikeWarning
from ..storage import ComplaintFilter
from .clocks import SLAClocks
from .rules import Rules
from .state import Change, DeskState
from .writing import Writer

__all__ = ["SweepResult", "Sweeper"]


@attrs.frozen
class SweepResult:
    """What one sweep found and did (with ``dry_run``, what it would have done)."""

    examined: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    changed: tuple[str, ...] = ()
    dry_run: bool = False
    #: complaints another process (another sweep) changed between this sweep's read and its
    #: write: each was read again and decided again, so what it did is recorded once
    redecided: int = 0
    #: what plugins did at the end of the sweep (``sweep_finished``: the early warning's
    #: spikes), as lines for people in both languages
    notes: tuple[Names, ...] = ()


def _has_spike(c: Complaint, warning_id: str) -> bool:
    return any(e.action == SPIKE_ACTION and e.data.get("id") == warning_id for e in c.history)


class Sweeper:
    """Sweeps one desk's complaints."""

    def __init__(
        self, state: DeskState, deadlines: SLAClocks, writer: Writer, rules: Rules
    ) -> None:
        self.s = state
        self.deadlines = deadlines
        self.writer = writer
        self.rules = rules

    def sweep(
        self,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> SweepResult:
        """Record due SLA warnings and breaches and escalate on breaches, as of ``now``.

        Looks only at open complaints whose ``alert_at`` has come; then runs the plugins'
        ``sweep_finished`` work (early warning), whose lines end up in ``notes``. Idempotent:
        whether a warning or breach for (target, deadline) is already recorded is read from the
        history, and every change is written with a version check (a complaint changed by a
        concurrent sweep is re-read and re-decided), so two sweeps at once never escalate twice.
        """
        now = now or self.s.clock()
        flt = ComplaintFilter(alert_by=now, open_only=True)
        found = list(self.s.store.find(flt))
        totals = {"warnings": 0, "breaches": 0, "escalations": 0, "redecided": 0}
        changed: list[str] = []
        batch: list[tuple[Change, dict[str, int]]] = []

        def count(reference: str, done: dict[str, int]) -> None:
            if done:
                changed.append(reference)
            for key, value in done.items():
                totals[key] += value

        def flush() -> None:
            # One write per batch (a file store rewrites its file per write); a complaint
            # changed meanwhile by someone else (another sweep) is re-read and re-decided.
            if not batch:
                return
            result = self.s.writes.update_many([change.complaint for change, _ in batch])
            stored = {c.reference: c for c in result.updated}
            for change, done in batch:
                reference = change.complaint.reference
                if reference in stored:
                    self.writer.fire_all(stored[reference], change.fire)
                    count(reference, done)
            for reference in result.conflicts:
                totals["redecided"] += 1
                redone: dict[str, int] = {}
                self.writer.mutate(
                    reference, functools.partial(self._sweep_one, now=now, done=redone)
                )
                count(reference, redone)
            batch.clear()

        for complaint in found:
            done: dict[str, int] = {}
            change = self._sweep_one(complaint, now, done)
            if dry_run:
                count(complaint.reference, done)
            elif change.complaint is not complaint:
                batch.append(
                    (
                        attrs.evolve(change, complaint=self.deadlines.with_sla(change.complaint)),
                        done,
                    )
                )
                if len(batch) >= self.s.desk.SWEEP_BATCH:
                    flush()
            if progress is not None:
                progress(1)
        flush()
        notes = self.s.host.collect("sweep_finished", desk=self.s.desk, now=now, dry_run=dry_run)
        return SweepResult(
            examined=len(found),
            warnings=totals["warnings"],
            breaches=totals["breaches"],
            escalations=totals["escalations"],
            changed=tuple(changed),
            dry_run=dry_run,
            redecided=totals["redecided"],
            notes=tuple(line for lines in notes for line in lines),
        )

    def _sweep_one(self, c: Complaint, now: datetime, done: dict[str, int]) -> Change:
        """The sweep's change to one complaint; ``done`` counts what it records."""
        done.clear()
        escalation = self.s.process.escalation
        clocks = self.deadlines.clocks(c, now=now, with_left=False)
        alerts = sla.pending_alerts(c, clocks) if clocks is not None else []
        if not alerts:
            return Change(self.deadlines.with_sla(c))
        fires: list[tuple[str, dict[str, Any]]] = []
        escalations: list[tuple[str, dict[str, Any]]] = []
        new = c
        for kind, target, deadline in alerts:
            event = Event(
                at=now,
                actor=self.s.actor,
                action=kind,
                reason=None,
                data={"target": target, "deadline": deadline.isoformat()},
            )
            new = attrs.evolve(new, history=new.history + (event,))
            hook = "complaint_sla_warning" if kind == sla.WARNING else "complaint_sla_breached"
            fires.append((hook, {"target": target, "deadline": deadline}))
            key = "warnings" if kind == sla.WARNING else "breaches"
            done[key] = done.get(key, 0) + 1
            if (
                kind == sla.BREACH
                and target in escalation.escalate_on
                and new.escalation_level < EscalationLevel.LEADERSHIP
            ):
                new, raised = self.rules.raised(
                    new,
                    EscalationLevel(new.escalation_level + 1),
                    f"SLA breach: {target} was due {deadline.isoformat()}",
                    now,
                    {"target": target, "deadline": deadline.isoformat()},
                )
                escalations.append(("complaint_escalated", {"event": raised}))
                done["escalations"] = done.get("escalations", 0) + 1
        return Change(new, tuple(fires + escalations))

    def announce_spike(
        self, warning: SpikeWarning, members: ComplaintFilter, *, now: datetime | None = None
    ) -> bool:
        """Record ``warning`` on the oldest complaint matching ``members`` and announce it
        with ``spike_detected``; False (nothing done) when it was announced before.

        The warning is recorded (action ``spike_detected``, data with its stable ``id``) in
        the history of the oldest complaint of the flagged series and period, and a warning
        already recorded on any member is not announced again. The record is written with the
        usual version check, so two sweeps at once announce it once.
        """
        now = now or self.s.clock()
        found = list(self.s.store.find(members))
        if not found or any(_has_spike(c, warning.id) for c in found):
            return False
        event = Event(
            at=now,
            actor=self.s.actor,
            action=SPIKE_ACTION,
            reason=(
                f"{warning.observed} complaints with {warning.dimension}={warning.value} in "
                f"the {warning.period} of {warning.period_start.isoformat()}; expected "
                f"{warning.expected:.1f}, alarm above {warning.upper:.1f} ({warning.method})"
            ),
            data=warning.as_data("en"),
        )
        added = [False]

        def change(c: Complaint) -> Change:
            # Re-run on a lost race: whoever stored the record first announces it.
            added[0] = not _has_spike(c, warning.id)
            if not added[0]:
                return Change(c)
            return Change(attrs.evolve(c, history=c.history + (event,)))

        stored = self.writer.mutate(found[0].reference, change)
        if added[0]:
            self.s.host.fire("spike_detected", warning=warning, complaint=stored, desk=self.s.desk)
        return added[0]
