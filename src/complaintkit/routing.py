"""Routing: which department and person take a complaint.

A routing decision is a :class:`Route`. Rules from configuration produce one, and plugins may
decide instead through the first-result ``route_complaint`` hook.
"""

from __future__ import annotations

import attrs

__all__ = ["Route"]


@attrs.frozen
class Route:
    """Where a complaint goes: a department and/or an assignee, and why."""

    department: str | None = None
    assignee: str | None = None
    rule: str | None = None
    reason: str | None = None
