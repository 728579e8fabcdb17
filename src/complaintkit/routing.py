"""Routing: which department and person take a complaint.

A routing decision is a :class:`Route`. Plugins may decide first through the first-result
``route_complaint`` hook; otherwise the rules of ``[[routing.rules]]`` are tried in order and
the first whose ``match`` matches wins (see :mod:`complaintkit.matching` for the keys)::

    [[routing.rules]]
    name = "quality"
    match = { labels = ["cause=product_quality"] }
    department = "quality"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .matching import Match
from .model import Complaint
from .settings import InvalidSetting, structure_section

if TYPE_CHECKING:
    from .config import Config

__all__ = ["Route", "RoutingConfig", "RoutingRule", "load_routing_config"]


@attrs.frozen
class Route:
    """Where a complaint goes: a department and/or an assignee, and why."""

    department: str | None = None
    assignee: str | None = None
    rule: str | None = None
    reason: str | None = None


@attrs.frozen
class RoutingRule:
    """One configured rule: complaints matching ``match`` go to ``department``/``assignee``."""

    name: str
    match: Match
    department: str | None
    assignee: str | None

    def route(self) -> Route:
        """The route this rule gives."""
        return Route(
            self.department, self.assignee, self.name, f"rule {self.name}: {self.match.describe()}"
        )


@attrs.frozen
class RoutingConfig:
    """The rules of ``[routing]`` in order, and whether to route new complaints at intake."""

    rules: tuple[RoutingRule, ...]
    at_intake: bool = True

    def route(self, complaint: Complaint) -> Route | None:
        """The route of the first rule matching ``complaint``, or None."""
        for rule in self.rules:
            if rule.match.matches(complaint):
                return rule.route()
        return None


def _routed(instance: _RuleTable, _: object, value: str | None) -> None:
    if instance.department is None and instance.assignee is None:
        raise InvalidSetting("give a department, an assignee, or both")


@attrs.frozen
class _RuleTable:
    name: str | None = None
    match: Match = attrs.field(factory=Match)
    department: str | None = None
    assignee: str | None = attrs.field(default=None, validator=_routed)


@attrs.frozen
class _RoutingTable:
    rules: tuple[_RuleTable, ...] = ()
    at_intake: bool = True


def load_routing_config(config: Config) -> RoutingConfig:
    """The ``[routing]`` section (no rules when absent)."""
    section = structure_section(config, "routing", _RoutingTable)
    rules = tuple(
        RoutingRule(rule.name or f"rule {number}", rule.match, rule.department, rule.assignee)
        for number, rule in enumerate(section.rules, 1)
    )
    return RoutingConfig(rules, section.at_intake)
