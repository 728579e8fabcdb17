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

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .config import check_settings
from .errors import ConfigError
from .matching import Match, parse_match
from .model import Complaint

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


def load_routing_config(config: Config) -> RoutingConfig:
    """The ``[routing]`` section (no rules when absent)."""
    section = config.section("routing")
    where = f"{config.where}: [routing]"
    check_settings(section, ("rules", "at_intake"), where)
    raw = section.get("rules", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: rules must be an array of tables ([[routing.rules]])")
    rules = []
    for number, item in enumerate(raw, 1):
        rwhere = f"{config.where}: [[routing.rules]] #{number}"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{rwhere}: must be a table")
        check_settings(item, ("name", "match", "department", "assignee"), rwhere)
        department, assignee = item.get("department"), item.get("assignee")
        if department is None and assignee is None:
            raise ConfigError(f"{rwhere}: give a department, an assignee, or both")
        for key, value in (("department", department), ("assignee", assignee)):
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{rwhere}: {key} must be a string")
        rules.append(
            RoutingRule(
                name=str(item.get("name", f"rule {number}")),
                match=parse_match(item.get("match"), rwhere),
                department=department,
                assignee=assignee,
            )
        )
    at_intake = section.get("at_intake", True)
    if not isinstance(at_intake, bool):
        raise ConfigError(f"{where}: at_intake must be true or false")
    return RoutingConfig(tuple(rules), at_intake)
