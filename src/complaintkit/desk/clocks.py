"""SLA clocks: which policy a complaint runs on, its clocks and deadlines, whether they are
exact or provisional, pauses, and the alerts an imported complaint reached before now.

Everything here computes on a complaint in memory; storing is the caller's business.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from .. import lifecycle, sla
from ..errors import ConfigError
from ..model import Complaint, Event
from .state import DeskState

if TYPE_CHECKING:
    from ..calendars import BusinessCalendar

__all__ = ["SLAClocks", "SLAWarning", "is_paused"]


class SLAWarning(UserWarning):
    """A complaint could not get SLA deadlines (its calendar does not know the dates)."""


def is_paused(c: Complaint) -> bool:
    """True while the complaint's clocks are paused (waiting on the customer)."""
    for event in reversed(c.history):
        if event.action in (sla.PAUSE, sla.RESUME):
            return event.action == sla.PAUSE
    return False


class SLAClocks:
    """The SLA clocks of one desk's complaints."""

    def __init__(self, state: DeskState) -> None:
        self.s = state

    def calendar(self, name: str | None) -> BusinessCalendar:
        """The business calendar ``name``, or the default one (``[calendars] default``)."""
        return self.s.host.calendar(name) if name else self.s.host.default_calendar()

    def policy_for(self, complaint: Complaint) -> str | None:
        """The SLA policy for ``complaint``: the ``choose_sla_policy`` hook, else the
        configured selection (first matching policy, else the default)."""
        config = self.s.process.sla
        if config is None:
            return None
        if self.s.host.has_implementations("choose_sla_policy"):
            chosen = self.s.host.first_result(
                "choose_sla_policy",
                complaint=complaint,
                policies=list(config.policies),
                desk=self.s.desk,
            )
            if chosen is not None:
                if chosen not in config.policies:
                    raise ConfigError(
                        f"choose_sla_policy returned {chosen!r}, which is not a configured "
                        f"policy; known: {', '.join(config.policies)}"
                    )
                return str(chosen)
        return config.select(complaint)

    def clocks(
        self, complaint: Complaint | str, *, now: datetime | None = None, with_left: bool = True
    ) -> sla.Clocks | None:
        """The SLA clocks of a complaint (or reference) at ``now``; None without a policy."""
        c = self.s.store.get(complaint) if isinstance(complaint, str) else complaint
        config = self.s.process.sla
        name = c.sla_policy or self.policy_for(c)
        if config is None or name is None or name not in config.policies:
            return None
        policy = config.policies[name]
        calendar = self.calendar(policy.calendar)
        return sla.compute_clocks(c, policy, calendar, now or self.s.clock(), with_left=with_left)

    def with_sla(self, c: Complaint) -> Complaint:
        """``c`` with its SLA policy, ``due_at`` and ``alert_at`` recomputed from its history
        (the same object when nothing changed)."""
        config = self.s.process.sla
        if config is None:
            return c
        name = self.policy_for(c)
        if name is None:
            if c.sla_policy is None and c.due_at is None and c.alert_at is None:
                return c
            return attrs.evolve(c, sla_policy=None, due_at=None, alert_at=None)
        policy = config.policies[name]
        calendar = self.calendar(policy.calendar)
        clocks = sla.compute_clocks(c, policy, calendar, c.received_at, with_left=False)
        gap = next((t.gap for t in clocks.targets if t.gap is not None), None)
        if gap is not None:
            return self._without_deadlines(c, name, gap)
        due, alert = sla.schedule(c, clocks)
        history = self._exactness_noted(c, calendar, clocks, due)
        if (name, due, alert, history) == (c.sla_policy, c.due_at, c.alert_at, c.history):
            return c
        if c.sla_policy is not None and c.sla_policy != name:
            history += (
                Event(
                    at=history[-1].at if history else c.received_at,
                    actor=self.s.actor,
                    action="sla_policy",
                    reason="policy chosen again after a change",
                    data={"from": c.sla_policy, "to": name},
                ),
            )
        return attrs.evolve(c, sla_policy=name, due_at=due, alert_at=alert, history=history)

    def _exactness_noted(
        self,
        c: Complaint,
        calendar: BusinessCalendar,
        clocks: sla.Clocks,
        due: datetime | None,
    ) -> tuple[Event, ...]:
        """``c``'s history, with ``sla_provisional`` added when its deadlines rest on
        provisional calendar years (not already noted for those years), or ``sla_exact`` when
        deadlines noted provisional are exact now (the year's arrangement was given). Both
        record the targets' deadlines (``sla_exact``: from the provisional ones noted, to the
        exact ones)."""
        years = clocks.provisional_years
        noted = sla.provisional_state(c.history)
        if years == noted:
            return c.history
        last = c.history[-1].at if c.history else c.received_at
        at = max(last, self.s.clock())
        listed = ", ".join(str(y) for y in (years or noted))
        if years:
            from datetime import date

            basis_of = getattr(calendar, "basis", None)
            basis = basis_of(date(years[0], 12, 31)).en if basis_of is not None else "its fallback"
            reason = (
                f"deadlines provisional: calendar {calendar.name!r} has no official arrangement "
                f"for {listed}; computed on its provisional fallback: {basis}"
            )
            event = Event(
                at=at,
                actor=self.s.actor,
                action=sla.PROVISIONAL,
                reason=reason,
                data={
                    "calendar": calendar.name,
                    "years": list(years),
                    "deadlines": sla.deadlines_of(clocks),
                },
            )
        else:
            before = sla.noted_deadlines(c.history)
            after = sla.deadlines_of(clocks)
            event = Event(
                at=at,
                actor=self.s.actor,
                action=sla.EXACT,
                reason=f"deadlines exact: calendar {calendar.name!r} now knows {listed} exactly",
                data={
                    "calendar": calendar.name,
                    "years": list(noted),
                    "deadlines": {
                        t: {"from": before.get(t), "to": after.get(t)}
                        for t in dict.fromkeys([*before, *after])
                    },
                },
            )
        return c.history + (event,)

    def record_past_alerts(self, c: Complaint, now: datetime) -> Complaint:
        """``c`` with the SLA warnings and breaches due before ``now`` recorded as historical.

        For a complaint whose history happened elsewhere (an import): each alert the sweep
        would record at ``now`` is appended as its ``sla_warning`` / ``sla_breach`` event by
        :data:`~complaintkit.lifecycle.IMPORT_ACTOR`, at ``now``, with ``"historical": true``
        in its data, and nothing fires and nothing escalates. The sweep then finds them
        recorded, and the reports count the breaches as missed targets. Returns ``c`` itself
        when it has no policy or nothing was due.
        """
        if not c.is_open:  # a finished complaint has no alert to record (and clocks cost)
            return c
        clocks = self.clocks(c, now=now, with_left=False)
        alerts = sla.pending_alerts(c, clocks) if clocks is not None else []
        if not alerts:
            return c
        events = tuple(
            Event(
                at=now,
                actor=lifecycle.IMPORT_ACTOR,
                action=kind,
                reason="due before the import: recorded as history, nobody notified",
                data={"target": target, "deadline": deadline.isoformat(), "historical": True},
            )
            for kind, target, deadline in alerts
        )
        return attrs.evolve(c, history=c.history + events)

    def _without_deadlines(self, c: Complaint, policy: str, reason: str) -> Complaint:
        """The complaint stored without deadlines when its calendar lacks the dates.

        Losing the complaint (or a whole import) over a calendar's range would be worse than
        storing it without a clock; the history says why, and a warning tells the admin to
        give the calendar the year's arrangement (docs/calendars.md) and run ``recompute``.
        """
        warnings.warn(f"complaint {c.reference} has no SLA deadlines: {reason}", SLAWarning, 2)
        noted = any(e.action == "sla_unavailable" and e.reason == reason for e in c.history)
        history = c.history
        if not noted:
            at = history[-1].at if history else c.received_at
            event = Event(at=at, actor=self.s.actor, action="sla_unavailable", reason=reason)
            history += (event,)
        if (c.sla_policy, c.due_at, c.alert_at, history) == (policy, None, None, c.history):
            return c
        return attrs.evolve(c, sla_policy=policy, due_at=None, alert_at=None, history=history)
