"""Remedies (补救): what was offered and accepted, checked against the customer's loss, and
approved by role.

The source documents' rule for a value-added remedy is V2 ≥ V1 + C: the second offer should be
worth at least what the customer lost (V1) plus the cost of complaining (C: time, calls,
travel). :func:`value_warning` turns a shortfall into a warning, never an error. Offers above
the limit of the offering role are refused::

    [remedies]
    currency = "CNY"
    complaint_cost = 50          # C when an offer does not say

    [remedies.approval]          # the most each role may offer on its own
    agent = 200
    supervisor = 2000
    manager = "unlimited"

    [remedies.roles]             # actor -> role, when --role is not given
    "li.lei" = "agent"
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ApprovalError
from .model import Remedy
from .settings import InvalidSetting, structure_section

if TYPE_CHECKING:
    from .config import Config

__all__ = ["RemediesConfig", "load_remedies_config", "value_warning"]


def _limits(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise InvalidSetting("expected a table of role = limit", "approval")
    limits = {}
    for role, limit in value.items():
        if limit == "unlimited":
            limits[role] = math.inf
        elif isinstance(limit, int | float) and not isinstance(limit, bool) and limit >= 0:
            limits[role] = float(limit)
        else:
            raise InvalidSetting(
                f'must be an amount or "unlimited", got {limit!r}', ("approval", role)
            )
    return limits


def _known_roles(instance: RemediesConfig, _: object, value: dict[str, str]) -> None:
    for actor, role in value.items():
        if instance.limits and role not in instance.limits:
            known = ", ".join(instance.limits)
            raise InvalidSetting(
                f"{role!r} is not a role in [remedies.approval] ({known})", ("roles", actor)
            )


@attrs.frozen
class RemediesConfig:
    """The ``[remedies]`` section, structured from the configuration as it is (``limits`` is
    its ``approval`` table)."""

    currency: str | None = None
    complaint_cost: float | None = None
    limits: dict[str, float] = attrs.field(
        factory=dict, converter=_limits, metadata={"key": "approval"}
    )
    roles: dict[str, str] = attrs.field(factory=dict, validator=_known_roles)

    def check_approval(self, amount: float | None, role: str | None, actor: str) -> str | None:
        """The role that approved an offer of ``amount``; raises :class:`ApprovalError` when
        the role may not offer that much. Without configured limits every offer is allowed."""
        if not self.limits:
            return role
        chosen = role or self.roles.get(actor)
        if chosen is None:
            raise ApprovalError(
                f"{actor!r} has no role for approving remedies; give --role "
                f"({', '.join(self.limits)}) or add them to [remedies.roles]"
            )
        if chosen not in self.limits:
            raise ApprovalError(
                f"unknown role {chosen!r}; roles in [remedies.approval]: {', '.join(self.limits)}"
            )
        limit = self.limits[chosen]
        if amount is not None and amount > limit:
            higher = [r for r, v in self.limits.items() if v >= amount]
            hint = f"; ask a {' or '.join(higher)} to offer it" if higher else ""
            unit = f" {self.currency}" if self.currency else ""
            raise ApprovalError(
                f"a {chosen} may offer at most {limit:g}{unit}, "
                f"this offer is {amount:g}{unit}{hint}"
            )
        return chosen


def value_warning(remedy: Remedy, default_cost: float | None = None) -> str | None:
    """A warning when the remedy is worth less than the customer's loss plus the cost of
    complaining (V2 < V1 + C); None when it is enough or cannot be checked."""
    if remedy.amount is None or remedy.customer_loss is None:
        return None
    cost = remedy.complaint_cost if remedy.complaint_cost is not None else default_cost or 0.0
    needed = remedy.customer_loss + cost
    if remedy.amount + 1e-9 >= needed:
        return None
    unit = f" {remedy.currency}" if remedy.currency else ""
    return (
        f"the {remedy.kind.value} of {remedy.amount:g}{unit} is worth less than the customer's "
        f"loss plus the cost of complaining ({remedy.customer_loss:g} + {cost:g} = "
        f"{needed:g}{unit}); the customer may stay unhappy (V2 ≥ V1 + C)"
    )


def load_remedies_config(config: Config) -> RemediesConfig:
    """The ``[remedies]`` section (no limits when absent)."""
    return structure_section(config, "remedies", RemediesConfig)
