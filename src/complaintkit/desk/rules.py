"""The routing and escalation rules applied to a complaint in memory: which route it takes
(the ``route_complaint`` hook, else ``[[routing.rules]]``), the assignment a route makes, and a
raise to an escalation level with the hand-over to that level's owner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..model import Complaint, EscalationLevel, Event
from .state import DeskState

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["Rules"]


class Rules:
    """Routing and escalation decisions for one desk."""

    def __init__(self, state: DeskState) -> None:
        self.s = state

    def route_for(self, c: Complaint) -> Route | None:
        """The route for ``c``: the ``route_complaint`` hook's, else the first matching rule's."""
        if self.s.host.has_implementations("route_complaint"):
            found = self.s.host.first_result("route_complaint", complaint=c, desk=self.s.desk)
            if found is not None:
                return found  # type: ignore[no-any-return]
        return self.s.process.routing.route(c)

    def routed(self, c: Complaint, route: Route, at: datetime) -> Complaint:
        """``c`` given to the department and assignee of ``route`` (an ``assign`` event naming
        the rule), or ``c`` itself when it has them already."""
        changes: dict[str, Any] = {}
        data: dict[str, Any] = {"rule": route.rule}
        for key in ("department", "assignee"):
            value = getattr(route, key)
            if value is not None and value != getattr(c, key):
                changes[key] = value
                data[key] = {"from": getattr(c, key), "to": value}
        if not changes:
            return c
        event = Event(at=at, actor=self.s.actor, action="assign", reason=route.reason, data=data)
        return attrs.evolve(c, **changes, history=c.history + (event,))

    def raised(
        self,
        c: Complaint,
        level: EscalationLevel,
        reason: str,
        at: datetime,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Complaint, Event]:
        """``c`` raised to ``level``, handed to that level's configured owner."""
        owner = self.s.process.escalation.owner(level)
        data: dict[str, Any] = {"from": c.escalation_level.slug, "to": level.slug, **(extra or {})}
        changes: dict[str, Any] = {"escalation_level": level}
        for key in ("department", "assignee"):
            value = getattr(owner, key)
            if value is not None and value != getattr(c, key):
                changes[key] = value
                data[key] = {"from": getattr(c, key), "to": value}
        event = Event(at=at, actor=self.s.actor, action="escalate", reason=reason, data=data)
        return attrs.evolve(c, **changes, history=c.history + (event,)), event
