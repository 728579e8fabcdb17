"""The escalation ladder: who handles each level, which missed deadlines escalate, and the fast
channel that sends serious complaints straight to management at intake.

::

    [escalation]
    escalate_on = ["respond", "resolve"]     # a breach of these targets raises one level

    [escalation.levels.complaint_management]
    department = "complaint_management"      # who takes over at that level (optional)
    assignee = "zhang.wei"

    [escalation.fast_channel]                # 快速通道
    match = { labels = ["severity=serious", "behaviour=extreme"] }
    level = "complaint_management"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .config import check_settings
from .errors import ConfigError
from .matching import Match, parse_match
from .model import EscalationLevel
from .sla import TARGETS

if TYPE_CHECKING:
    from .config import Config

__all__ = ["EscalationConfig", "LevelOwner", "load_escalation_config", "parse_level"]


@attrs.frozen
class LevelOwner:
    """Who takes a complaint when it reaches a level (None keeps the current one)."""

    department: str | None = None
    assignee: str | None = None


@attrs.frozen
class EscalationConfig:
    """The ``[escalation]`` section."""

    escalate_on: frozenset[str] = frozenset(TARGETS)
    levels: dict[EscalationLevel, LevelOwner] = attrs.field(factory=dict)
    fast_channel: Match | None = None
    fast_level: EscalationLevel = EscalationLevel.COMPLAINT_MANAGEMENT

    def owner(self, level: EscalationLevel) -> LevelOwner:
        """Who handles ``level`` (an empty owner when not configured)."""
        return self.levels.get(level, LevelOwner())


def parse_level(value: object, where: str) -> EscalationLevel:
    """An escalation level from its slug (front_line, department, complaint_management,
    leadership)."""
    known = ", ".join(level.slug for level in EscalationLevel)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a level name ({known})")
    try:
        return EscalationLevel[value.upper()]
    except KeyError:
        raise ConfigError(f"{where}: unknown level {value!r}; known: {known}") from None


def load_escalation_config(config: Config) -> EscalationConfig:
    """The ``[escalation]`` section (defaults when absent: every breach escalates)."""
    section = config.section("escalation")
    where = f"{config.where}: [escalation]"
    check_settings(section, ("escalate_on", "levels", "fast_channel"), where)
    escalate_on = section.get("escalate_on", list(TARGETS))
    if not isinstance(escalate_on, list) or any(t not in TARGETS for t in escalate_on):
        raise ConfigError(f"{where}: escalate_on must list targets from {', '.join(TARGETS)}")
    levels: dict[EscalationLevel, LevelOwner] = {}
    raw_levels = section.get("levels", {})
    if not isinstance(raw_levels, Mapping):
        raise ConfigError(f"{where}: levels must be tables, e.g. [escalation.levels.department]")
    for slug, table in raw_levels.items():
        lwhere = f"{config.where}: [escalation.levels.{slug}]"
        level = parse_level(slug, lwhere)
        if not isinstance(table, Mapping) or set(table) - {"department", "assignee"}:
            raise ConfigError(f"{lwhere}: may only set department and assignee")
        levels[level] = LevelOwner(table.get("department"), table.get("assignee"))
    fast = section.get("fast_channel")
    fast_match: Match | None = None
    fast_level = EscalationLevel.COMPLAINT_MANAGEMENT
    if fast is not None:
        fwhere = f"{config.where}: [escalation.fast_channel]"
        if not isinstance(fast, Mapping) or set(fast) - {"match", "level"}:
            raise ConfigError(f"{fwhere}: must be a table with match and level")
        if "match" not in fast:
            raise ConfigError(f'{fwhere}: needs a match, e.g. {{ labels = ["severity=serious"] }}')
        fast_match = parse_match(fast["match"], fwhere)
        if "level" in fast:
            fast_level = parse_level(fast["level"], f"{fwhere} level")
        if fast_level == EscalationLevel.FRONT_LINE:
            raise ConfigError(f"{fwhere}: level must be above front_line")
    return EscalationConfig(frozenset(escalate_on), levels, fast_match, fast_level)
