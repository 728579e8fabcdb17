"""Who may do what through the API: the actions of each token role.

A role includes every action of the roles before it: ``agent`` < ``supervisor`` < ``admin``.
Remedy amounts are limited further by ``[remedies.approval]`` (see docs/api.md).
"""

from __future__ import annotations

__all__ = ["ACTIONS", "ROLES", "allowed", "least_role"]

#: The roles, weakest first.
ROLES = ("agent", "supervisor", "admin")

#: action -> the weakest role allowed to do it.
ACTIONS: dict[str, str] = {
    "read": "agent",  # get, list, schemes, reports
    "intake": "agent",
    "transition": "agent",
    "assign": "agent",
    "label": "agent",
    "remedy": "agent",  # within the role's [remedies.approval] limit
    "satisfaction": "agent",
    "escalate": "agent",  # raise the escalation level
    "pause": "agent",  # pause and resume the SLA clocks
    "respond": "agent",  # record a response to the complainant
    "route": "agent",  # route again by the routing rules
    "classify": "agent",  # classify one complaint again
    "review": "agent",  # accept or correct automatic labels (review decisions)
    "edit": "agent",  # correct a complaint's fields
    "note": "agent",  # add an internal note
    "attach": "agent",  # upload an attachment
    "detach": "supervisor",  # remove an attachment (the history keeps what it was)
    "merge": "supervisor",  # close a duplicate into the complaint kept
    "unmask": "supervisor",  # personal data in full, recorded in the history
    "sweep": "admin",
    "plugins": "admin",
    "tokens": "admin",
}


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (an unknown role or action may do nothing)."""
    needed = ACTIONS.get(action)
    if needed is None or role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def least_role(action: str) -> str:
    """The weakest role allowed to do ``action``."""
    return ACTIONS[action]
