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

from typing import TYPE_CHECKING, get_args

import attrs

from .matching import Match
from .model import EscalationLevel
from .settings import InvalidSetting, structure_section
from .sla import TARGETS, SlaTarget

if TYPE_CHECKING:
    from .config import Config

__all__ = ["EscalationConfig", "LevelOwner", "load_escalation_config"]


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


def _above_front_line(_: object, __: object, value: EscalationLevel) -> None:
    if value == EscalationLevel.FRONT_LINE:
        raise InvalidSetting("the fast channel's level must be above front_line", "level")


@attrs.frozen
class _FastChannelTable:
    match: Match
    level: EscalationLevel = attrs.field(
        default=EscalationLevel.COMPLAINT_MANAGEMENT, validator=_above_front_line
    )


@attrs.frozen
class _EscalationTable:
    escalate_on: frozenset[SlaTarget] = frozenset(get_args(SlaTarget))
    levels: dict[EscalationLevel, LevelOwner] = attrs.field(factory=dict)
    fast_channel: _FastChannelTable | None = None


def load_escalation_config(config: Config) -> EscalationConfig:
    """The ``[escalation]`` section (defaults when absent: every breach escalates)."""
    section = structure_section(config, "escalation", _EscalationTable)
    fast = section.fast_channel
    return EscalationConfig(
        frozenset(section.escalate_on),
        section.levels,
        fast.match if fast else None,
        fast.level if fast else EscalationLevel.COMPLAINT_MANAGEMENT,
    )
