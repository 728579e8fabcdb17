"""The handling process of domain.md §2 as an explicit transition table with guards.

:func:`apply` is pure: it takes a complaint and returns the changed complaint plus the events
to append, or raises :class:`~complaintkit.errors.TransitionRejected` and changes nothing. The
:class:`~complaintkit.desk.Desk` stores the result and fires the lifecycle hooks.

::

    received → acknowledged → assessed → investigating → solution_proposed
        → solution_accepted → implementing → resolved → closed
    solution_proposed --decline--> investigating
    resolved/closed --reopen--> reopened  (after closure: a re-complaint, one level higher)
    rejected --reopen--> reopened  (the rejection was wrong; not a re-complaint)
    any open state --withdraw--> withdrawn;  early states --reject--> rejected
    any open state --merge--> rejected  (Desk.merge only: the duplicate of its ``parent``)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from .errors import TransitionRejected
from .i18n import Names
from .model import Complaint, EscalationLevel, Event, Status

__all__ = [
    "ACTION_NAMES",
    "IMPORT",
    "IMPORT_ACTOR",
    "MERGE",
    "MERGE_TRANSITION",
    "TRANSITIONS",
    "Transition",
    "action_key",
    "allowed_actions",
    "apply",
    "implied_targets",
    "is_imported",
    "transition_for",
]

S = Status
Guard = Callable[[Complaint, dict[str, Any]], "str | None"]


@attrs.frozen
class Transition:
    """One row of the table: ``action`` moves a complaint from any of ``sources`` to ``target``.

    ``guard`` returns None when the move is allowed, else the reason it is not;
    ``requires`` names parameters that must be given (e.g. a reason to reject).
    """

    action: str
    sources: frozenset[Status]
    target: Status
    description: str
    requires: tuple[str, ...] = ()
    guard: Guard | None = None


def _has_label(complaint: Complaint, _params: dict[str, Any]) -> str | None:
    if not complaint.labels:
        return "it has no classification yet; classify it first (complaintkit classify REF)"
    return None


def _valid_satisfaction(_complaint: Complaint, params: dict[str, Any]) -> str | None:
    value = params.get("satisfaction")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        return f"satisfaction must be a whole number from 1 to 5, got {value!r}"
    return None


def _not_merged(complaint: Complaint, _params: dict[str, Any]) -> str | None:
    # A merged duplicate lives on in the complaint it was merged into: reopening it would
    # split one case into two again. (Reopening a wrongly rejected complaint is fine.)
    if complaint.status is not S.REJECTED:
        return None
    for event in reversed(complaint.history):
        if event.action == MERGE:
            into = event.data.get("into") or complaint.parent
            return f"it was merged into {into}; work on {into} instead"
        if event.action in _ANY_ACTION or event.action == IMPORT:
            return None
    return None


def _merge_target(complaint: Complaint, params: dict[str, Any]) -> str | None:
    into = params.get("parent")
    if not into:
        return (
            "name the complaint it duplicates: complaintkit merge KEEP DUPLICATE --reason WHY "
            "(Desk.merge)"
        )
    if into == complaint.reference:
        return "a complaint cannot be merged into itself"
    return None


#: The action that closes a duplicate by merging it into the complaint that is kept.
MERGE = "merge"

_OPEN = frozenset(
    {
        S.RECEIVED,
        S.ACKNOWLEDGED,
        S.ASSESSED,
        S.INVESTIGATING,
        S.SOLUTION_PROPOSED,
        S.SOLUTION_ACCEPTED,
        S.IMPLEMENTING,
        S.REOPENED,
    }
)

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "acknowledge",
        frozenset({S.RECEIVED}),
        S.ACKNOWLEDGED,
        "tell the complainant the complaint was received",
    ),
    Transition(
        "assess",
        frozenset({S.RECEIVED, S.ACKNOWLEDGED, S.REOPENED}),
        S.ASSESSED,
        "confirm classification and routing",
        guard=_has_label,
    ),
    Transition(
        "investigate",
        frozenset({S.ASSESSED, S.REOPENED}),
        S.INVESTIGATING,
        "verify the facts and find the root cause",
    ),
    Transition(
        "propose",
        frozenset({S.ASSESSED, S.INVESTIGATING}),
        S.SOLUTION_PROPOSED,
        "offer a solution to the customer",
        requires=("solution",),
    ),
    Transition(
        "accept",
        frozenset({S.SOLUTION_PROPOSED}),
        S.SOLUTION_ACCEPTED,
        "the customer accepted the proposed solution",
    ),
    Transition(
        "decline",
        frozenset({S.SOLUTION_PROPOSED}),
        S.INVESTIGATING,
        "the customer declined the proposed solution",
        requires=("reason",),
    ),
    Transition(
        "implement",
        frozenset({S.SOLUTION_ACCEPTED}),
        S.IMPLEMENTING,
        "carry out the accepted solution",
    ),
    Transition(
        "resolve",
        frozenset({S.IMPLEMENTING}),
        S.RESOLVED,
        "the problem is solved and the customer has been told",
    ),
    Transition(
        "close",
        frozenset({S.RESOLVED}),
        S.CLOSED,
        "close the complaint, recording satisfaction (1-5) when given",
        guard=_valid_satisfaction,
    ),
    Transition(
        "reopen",
        frozenset({S.RESOLVED, S.CLOSED, S.REJECTED}),
        S.REOPENED,
        "the customer is not satisfied (after closure a re-complaint), or a rejection was "
        "wrong; a merged duplicate cannot be reopened",
        requires=("reason",),
        guard=_not_merged,
    ),
    Transition(
        "withdraw",
        _OPEN,
        S.WITHDRAWN,
        "the complainant withdrew the complaint",
        requires=("reason",),
    ),
    Transition(
        "reject",
        frozenset({S.RECEIVED, S.ACKNOWLEDGED, S.ASSESSED}),
        S.REJECTED,
        "not a valid complaint (duplicate, spam, out of scope)",
        requires=("reason",),
    ),
)

#: The move a merge makes (:meth:`Desk.merge <complaintkit.desk.Desk.merge>`): any open
#: complaint to ``rejected``, its ``parent`` the complaint kept. Not in :data:`TRANSITIONS`,
#: which lists what ``complaintkit transition`` and a CRM's buttons offer: a merge needs the
#: complaint to keep, so it has a command of its own (``complaintkit merge``).
MERGE_TRANSITION = Transition(
    MERGE,
    _OPEN,
    S.REJECTED,
    "the same case as another complaint: merged into it (complaintkit merge)",
    requires=("reason",),
    guard=_merge_target,
)

_BY_ACTION = {t.action: t for t in TRANSITIONS}
_ANY_ACTION = {**_BY_ACTION, MERGE: MERGE_TRANSITION}

#: The actor of every event brought in from another system's history (``import`` with a
#: mapping that has a status or step times), and the action that records a state the source
#: reached at a time it does not give. An imported history is the source's record, not a walk
#: through :data:`TRANSITIONS`: steps the source does not record are not invented, so an
#: imported event may go from ``acknowledged`` straight to ``resolved``; its data says
#: ``"imported": true``.
IMPORT_ACTOR = "import"
IMPORT = "import"

# The SLA targets (acknowledge, respond, resolve) that a complaint in each state has reached:
# what an ``import`` event to that state says happened at a time the source did not record.
_ANSWERED = frozenset({S.SOLUTION_PROPOSED, S.SOLUTION_ACCEPTED, S.IMPLEMENTING})
_FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.WITHDRAWN, S.REJECTED})


def implied_targets(status: Status) -> tuple[str, ...]:
    """The SLA targets a complaint in ``status`` must have reached: none while ``received``,
    acknowledge once past it, respond once a solution was proposed, resolve once finished.
    ``reopened`` implies acknowledge and respond (the resolve clock starts again)."""
    if status is S.RECEIVED:
        return ()
    if status in _FINISHED:
        return ("acknowledge", "respond", "resolve")
    if status in _ANSWERED or status is S.REOPENED:
        return ("acknowledge", "respond")
    return ("acknowledge",)


def is_imported(complaint: Complaint) -> bool:
    """True for a complaint whose history came from another system (its first event is by
    :data:`IMPORT_ACTOR`): what happened before the import notifies and escalates nobody."""
    return bool(complaint.history) and complaint.history[0].actor == IMPORT_ACTOR


#: Every action's display name in both languages (``complaintkit transition`` takes either).
ACTION_NAMES: dict[str, Names] = {
    "acknowledge": Names("acknowledge", "受理"),
    "assess": Names("assess", "评估"),
    "investigate": Names("investigate", "调查"),
    "propose": Names("propose", "提出方案"),
    "accept": Names("accept", "接受方案"),
    "decline": Names("decline", "拒绝方案"),
    "implement": Names("implement", "实施"),
    "resolve": Names("resolve", "解决"),
    "close": Names("close", "结案"),
    "reopen": Names("reopen", "重新打开"),
    "withdraw": Names("withdraw", "撤回"),
    "reject": Names("reject", "不予受理"),
    MERGE: Names("merge", "合并"),
}
_BY_ZH = {names.zh: action for action, names in ACTION_NAMES.items()}


def action_key(name: str) -> str:
    """The action a name stands for: its Chinese display name (``受理``) gives its key
    (``acknowledge``); anything else is returned unchanged, for :func:`transition_for`."""
    return _BY_ZH.get(name.strip(), name)


def transition_for(action: str) -> Transition:
    """The table row for ``action`` (or :data:`MERGE_TRANSITION`); an unknown action is
    rejected with the list of known ones."""
    try:
        return _ANY_ACTION[action]
    except KeyError:
        known = ", ".join(_BY_ACTION)
        raise TransitionRejected(f"unknown action {action!r}; known actions: {known}") from None


def allowed_actions(complaint: Complaint) -> list[str]:
    """Actions whose source states include the complaint's status (guards not evaluated)."""
    return [t.action for t in TRANSITIONS if complaint.status in t.sources]


def apply(
    complaint: Complaint,
    action: str,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    solution: str | None = None,
    satisfaction: int | None = None,
    parent: str | None = None,
) -> tuple[Complaint, list[Event]]:
    """Apply ``action`` to ``complaint``; return the new complaint and the events to append.

    ``parent`` is the complaint a ``merge`` merges the duplicate into (it becomes the
    duplicate's ``parent``); other actions ignore it.

    Raises :class:`TransitionRejected` (and changes nothing) when the action is unknown, not
    allowed from the current status, missing a required parameter, or refused by its guard.
    """
    transition = transition_for(action)
    params: dict[str, Any] = {
        "reason": reason,
        "solution": solution,
        "satisfaction": satisfaction,
        "parent": parent,
    }
    ref = complaint.reference
    if complaint.status not in transition.sources:
        allowed = ", ".join(allowed_actions(complaint)) or "none"
        hint = ""
        if action == "implement" and complaint.status is S.SOLUTION_PROPOSED:
            hint = " the customer has not accepted the solution yet (use 'accept' first);"
        raise TransitionRejected(
            f"cannot {action} complaint {ref}: it is {complaint.status.value};{hint}"
            f" allowed from here: {allowed}"
        )
    for name in transition.requires:
        if not params.get(name):
            raise TransitionRejected(f"cannot {action} complaint {ref}: a {name} is required")
    if transition.guard is not None:
        problem = transition.guard(complaint, params)
        if problem:
            raise TransitionRejected(f"cannot {action} complaint {ref}: {problem}")

    changes: dict[str, Any] = {"status": transition.target}
    data: dict[str, Any] = {"from": complaint.status.value, "to": transition.target.value}
    events: list[Event] = []
    if solution and "solution" in transition.requires:
        changes["solution"] = solution
        data["solution"] = solution
    if action == "close" and satisfaction is not None:
        changes["satisfaction"] = satisfaction
        data["satisfaction"] = satisfaction
    if action == MERGE:
        changes["parent"] = parent
        data["into"] = parent
    events.append(Event(at=at, actor=actor, action=action, reason=reason, data=data))
    if action == "reopen" and complaint.status is S.CLOSED:
        old = complaint.escalation_level
        new = EscalationLevel(min(old + 1, EscalationLevel.LEADERSHIP))
        changes["recomplaint_count"] = complaint.recomplaint_count + 1
        changes["escalation_level"] = new
        changes["satisfaction"] = None
        events.append(
            Event(
                at=at,
                actor=actor,
                action="escalate",
                reason="re-complaint after closure",
                data={"from": old.slug, "to": new.slug},
            )
        )
    changed = attrs.evolve(complaint, **changes, history=complaint.history + tuple(events))
    return changed, events
