"""The handling process as a transition table: legal paths, guards, re-complaints."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaintkit import Complaint, EscalationLevel, Label, Status, TransitionRejected
from complaintkit.lifecycle import TRANSITIONS, allowed_actions, apply
from complaintkit.testing import FIXED_TIME, make_complaint

ACTIONS = [t.action for t in TRANSITIONS]
PARAMS = {
    "reason": "customer asked",
    "solution": "refund the fee",
    "satisfaction": 4,
    "parent": "CK-KEPT",
}


def labelled() -> Complaint:
    return make_complaint(labels={"cause": Label("cause", "price", 0.8, ("fee",), "rules")})


def run(c: Complaint, *actions: str, **params: object) -> Complaint:
    for action in actions:
        c, _ = apply(c, action, actor="agent", at=FIXED_TIME, **PARAMS | params)  # type: ignore[arg-type]
    return c


HAPPY_PATH = (
    "acknowledge",
    "assess",
    "investigate",
    "propose",
    "accept",
    "implement",
    "resolve",
    "close",
)


def test_happy_path_reaches_closed_with_one_event_per_step() -> None:
    c = run(labelled(), *HAPPY_PATH)
    assert c.status is Status.CLOSED
    assert [e.action for e in c.history] == list(HAPPY_PATH)
    assert c.satisfaction == 4
    assert c.solution == "refund the fee"
    assert c.history[-1].data == {"from": "resolved", "to": "closed", "satisfaction": 4}


def test_solution_must_be_accepted_before_it_is_implemented() -> None:
    c = run(labelled(), "acknowledge", "assess", "investigate", "propose")
    with pytest.raises(TransitionRejected, match="customer has not accepted the solution yet"):
        apply(c, "implement", actor="agent", at=FIXED_TIME)


def test_assess_needs_a_classification() -> None:
    with pytest.raises(TransitionRejected, match="classify it first"):
        apply(make_complaint(), "assess", actor="agent", at=FIXED_TIME)


@pytest.mark.parametrize("action", ["decline", "reopen", "withdraw", "reject"])
def test_actions_that_need_a_reason(action: str) -> None:
    source = {
        "decline": run(labelled(), "acknowledge", "assess", "propose"),
        "reopen": run(labelled(), *HAPPY_PATH),
        "withdraw": labelled(),
        "reject": labelled(),
    }[action]
    with pytest.raises(TransitionRejected, match="a reason is required"):
        apply(source, action, actor="agent", at=FIXED_TIME)


def test_propose_needs_a_solution() -> None:
    c = run(labelled(), "acknowledge", "assess")
    with pytest.raises(TransitionRejected, match="a solution is required"):
        apply(c, "propose", actor="agent", at=FIXED_TIME)


def test_satisfaction_outside_1_to_5_is_refused() -> None:
    c = run(labelled(), *HAPPY_PATH[:-1])
    with pytest.raises(TransitionRejected, match="satisfaction must be a whole number from 1 to 5"):
        apply(c, "close", actor="agent", at=FIXED_TIME, satisfaction=9)


def test_declined_solution_goes_back_to_investigation() -> None:
    c = run(labelled(), "acknowledge", "assess", "propose", "decline")
    assert c.status is Status.INVESTIGATING
    assert c.history[-1].reason == "customer asked"


def test_reopen_after_closure_is_a_recomplaint_one_level_higher() -> None:
    closed = run(labelled(), *HAPPY_PATH)
    reopened, events = apply(closed, "reopen", actor="agent", at=FIXED_TIME, reason="broke again")
    assert reopened.status is Status.REOPENED
    assert reopened.recomplaint_count == 1
    assert reopened.escalation_level is EscalationLevel.DEPARTMENT
    assert reopened.satisfaction is None
    assert [e.action for e in events] == ["reopen", "escalate"]
    assert events[1].data == {"from": "front_line", "to": "department"}


def test_reopen_before_closure_does_not_escalate() -> None:
    resolved = run(labelled(), *HAPPY_PATH[:-1])
    reopened, events = apply(resolved, "reopen", actor="agent", at=FIXED_TIME, reason="not fixed")
    assert reopened.escalation_level is EscalationLevel.FRONT_LINE
    assert reopened.recomplaint_count == 0
    assert [e.action for e in events] == ["reopen"]


def test_escalation_stops_at_leadership() -> None:
    c = attrs.evolve(run(labelled(), *HAPPY_PATH), escalation_level=EscalationLevel.LEADERSHIP)
    reopened, _ = apply(c, "reopen", actor="a", at=FIXED_TIME, reason="again")
    assert reopened.escalation_level is EscalationLevel.LEADERSHIP


def test_unknown_action_lists_known_ones() -> None:
    with pytest.raises(TransitionRejected, match="known actions: acknowledge, assess"):
        apply(labelled(), "approve", actor="a", at=FIXED_TIME)


def test_terminal_states_allow_nothing_but_reopen() -> None:
    assert allowed_actions(run(labelled(), *HAPPY_PATH)) == ["reopen"]
    assert allowed_actions(run(labelled(), "withdraw")) == []
    assert allowed_actions(run(labelled(), "reject")) == ["reopen"]


def test_a_rejected_complaint_reopens_without_becoming_a_recomplaint() -> None:
    rejected = run(labelled(), "acknowledge", "reject")
    reopened, events = apply(rejected, "reopen", actor="a", at=FIXED_TIME, reason="not spam")
    assert reopened.status is Status.REOPENED
    assert (reopened.recomplaint_count, reopened.escalation_level) == (0, EscalationLevel(0))
    assert [(e.action, e.data) for e in events] == [
        ("reopen", {"from": "rejected", "to": "reopened"})
    ]
    assert allowed_actions(reopened) == ["assess", "investigate", "withdraw"]


def test_merge_rejects_the_duplicate_and_links_it_to_the_kept_one() -> None:
    c = run(labelled(), "acknowledge", "assess", "investigate")
    merged, events = apply(c, "merge", actor="a", at=FIXED_TIME, reason="same", parent="CK-9")
    assert (merged.status, merged.parent) == (Status.REJECTED, "CK-9")
    assert events[0].data == {"from": "investigating", "to": "rejected", "into": "CK-9"}
    with pytest.raises(TransitionRejected, match="merged into CK-9; work on CK-9 instead"):
        apply(merged, "reopen", actor="a", at=FIXED_TIME, reason="again")
    with pytest.raises(TransitionRejected, match="cannot be merged into itself"):
        apply(c, "merge", actor="a", at=FIXED_TIME, reason="same", parent=c.reference)
    with pytest.raises(TransitionRejected, match="complaintkit merge KEEP DUPLICATE"):
        apply(c, "merge", actor="a", at=FIXED_TIME, reason="same")


def test_a_rejection_after_a_merge_and_reopening_is_judged_by_the_last_status_change() -> None:
    merged, _ = apply(labelled(), "merge", actor="a", at=FIXED_TIME, reason="s", parent="CK-9")
    # An import (or a later plain rejection) stands after the merge: that is what is reopened.
    rejected = attrs.evolve(
        merged, status=Status.REJECTED, history=merged.history + run(labelled(), "reject").history
    )
    assert (
        apply(rejected, "reopen", actor="a", at=FIXED_TIME, reason="r")[0].status is Status.REOPENED
    )


@given(st.lists(st.sampled_from(ACTIONS), max_size=25))
def test_any_sequence_either_applies_by_the_table_or_changes_nothing(actions: list[str]) -> None:
    c = labelled()
    for step, action in enumerate(actions):
        at = FIXED_TIME + timedelta(minutes=step)
        before = c
        row = next(t for t in TRANSITIONS if t.action == action)
        try:
            c, events = apply(c, action, actor="agent", at=at, **PARAMS)  # type: ignore[arg-type]
        except TransitionRejected:
            assert c is before
            # Refused by the table, or by the row's guard (a merged duplicate is not reopened).
            guard = row.guard
            assert before.status not in row.sources or (guard and guard(before, dict(PARAMS)))
            continue
        assert before.status in row.sources
        assert c.status is row.target
        assert c.history == before.history + tuple(events)
        assert events[0].action == action and events[0].at == at
        assert c.escalation_level >= before.escalation_level
