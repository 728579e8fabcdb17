"""The desk: intake, classification history, manual labels, lost-update protection."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintkit import (
    Complaint,
    ComplaintFilter,
    ConflictError,
    Desk,
    EscalationLevel,
    PluginHost,
    Status,
    Store,
    TransitionRejected,
    hookimpl,
)
from complaintkit.testing import make_complaint


def test_intake_records_received_event_and_labels(ck_desk: Desk) -> None:
    stored = ck_desk.intake(make_complaint("D-1", text="They charged a hidden fee twice"))
    assert stored.version == 1
    assert stored.history[0].action == "received"
    assert stored.history[0].actor == "tester"
    assert stored.label("cause") == "price"
    (classified,) = [e for e in stored.history if e.action == "classify"]
    assert set(classified.data) == set(stored.labels)
    cause = classified.data["cause"]
    assert cause["from"] is None and cause["to"] == "price"
    assert any("fee" in phrase for phrase in cause["evidence"])


def test_reclassification_keeps_old_label_in_history(ck_desk: Desk, ck_store: Store) -> None:
    ck_desk.intake(make_complaint("D-1", text="The fee is too high"))
    current = ck_store.get("D-1")
    assert current.label("cause") == "price"
    # The agent corrects the text (e.g. after a call) by storing a new version, then re-classifies.
    import attrs

    ck_store.update(attrs.evolve(current, text="The phone screen cracked after two days"))
    updated = ck_desk.classify("D-1", schemes=["cause"])
    assert updated.label("cause") == "product_quality"
    last = updated.history[-1]
    assert last.action == "classify"
    assert (last.data["cause"]["from"], last.data["cause"]["to"]) == ("price", "product_quality")


def test_manual_label_survives_automatic_reclassification(ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("D-1", text="The fee is too high"))
    ck_desk.label("D-1", "cause", "integrity", reason="advert promised no fees")
    again = ck_desk.classify("D-1")
    assert again.label("cause") == "integrity"
    assert again.labels["cause"].classifier == "manual"
    forced = ck_desk.classify("D-1", schemes=["cause"], force=True)
    assert forced.label("cause") == "price"


def test_unknown_label_is_refused(ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("D-1"))
    with pytest.raises(Exception, match="has no label 'cheap'; labels: "):
        ck_desk.label("D-1", "cause", "cheap", reason=None)


def test_illegal_transition_changes_nothing(ck_desk: Desk, ck_store: Store) -> None:
    ck_desk.intake(make_complaint("D-1"))
    before = ck_store.get("D-1")
    with pytest.raises(TransitionRejected, match="cannot close complaint D-1: it is received"):
        ck_desk.transition("D-1", "close")
    assert ck_store.get("D-1") == before


def test_lost_race_is_retried_not_lost(
    ck_host: PluginHost, ck_store_url: str, ck_desk: Desk
) -> None:
    ck_desk.intake(make_complaint("D-1"))
    other = ck_host.open_store(ck_store_url)
    try:
        stale = other.get("D-1")
        ck_desk.assign("D-1", department="after-sales")
        with pytest.raises(ConflictError):
            other.update(stale)
        # A desk on the second store re-reads and re-applies instead of failing.
        Desk(ck_host, other, actor="night-shift").escalate("D-1", reason="VIP customer")
    finally:
        other.close()
    final = ck_desk.get("D-1")
    assert final.department == "after-sales"
    assert final.escalation_level is EscalationLevel.DEPARTMENT
    assert [e.action for e in final.history][-2:] == ["assign", "escalate"]


def test_intake_many_skips_references_already_stored(ck_desk: Desk, ck_store: Store) -> None:
    first = ck_desk.intake_many(make_complaint(f"B-{i}") for i in range(5))
    second = ck_desk.intake_many(make_complaint(f"B-{i}") for i in range(3, 8))
    assert first.added == 5
    assert second.added == 3 and sorted(second.skipped) == ["B-3", "B-4"]
    assert ck_store.count() == 8


def test_classify_many_labels_only_what_matches(ck_desk: Desk, ck_store: Store) -> None:
    ck_desk.intake_many(
        [make_complaint("C-1", text="rude staff"), make_complaint("C-2", text="double charged")],
        classify=False,
    )
    examined, changed = ck_desk.classify_many(ComplaintFilter(unclassified="cause"))
    assert (examined, changed) == (2, 2)
    assert ck_store.get("C-1").label("cause") == "service_quality"
    assert ck_store.get("C-2").label("cause") == "price"
    assert ck_desk.classify_many(ComplaintFilter(unclassified="cause")) == (0, 0)


def test_escalate_refuses_lowering_and_closed(ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("E-1"))
    ck_desk.escalate("E-1", to=EscalationLevel.COMPLAINT_MANAGEMENT, reason="serious")
    with pytest.raises(TransitionRejected, match="already at complaint_management"):
        ck_desk.escalate("E-1", to=EscalationLevel.DEPARTMENT, reason="oops")
    ck_desk.transition("E-1", "withdraw", reason="customer withdrew")
    with pytest.raises(TransitionRejected, match="it is withdrawn"):
        ck_desk.escalate("E-1", reason="late")
    assert ck_desk.get("E-1").status is Status.WITHDRAWN


def test_store_file_is_real(ck_store_url: str, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("F-1"))
    path = Path(ck_store_url.removeprefix("tinydb://"))
    assert path.exists() and b"F-1" in path.read_bytes()


def test_after_batch_runs_once_when_the_outermost_batch_closes(ck_desk: Desk) -> None:
    ran: list[str] = []
    assert not ck_desk.after_batch("x", lambda: ran.append("now"))  # no batch: nothing deferred
    with ck_desk.batch():
        with ck_desk.batch():
            assert ck_desk.after_batch("x", lambda: ran.append("first"))
            assert ck_desk.after_batch("x", lambda: ran.append("second"))  # same key: ignored
        assert ran == [] and ck_desk.in_batch
    assert ran == ["first"] and not ck_desk.in_batch


def test_after_batch_runs_on_error_and_isolates_failures(ck_desk: Desk) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("outbox gone")

    with pytest.raises(KeyError), ck_desk.batch():
        ck_desk.after_batch("broken", broken)
        ck_desk.after_batch("ok", lambda: ran.append("ok"))
        raise KeyError("the batch itself failed")
    assert ran == ["ok"]
    (failure,) = ck_desk.host.hook_errors
    assert (failure.plugin, failure.stage) == ("broken", "after_batch")
    assert "outbox gone" in failure.error


def test_batch_operations_open_a_batch(ck_desk: Desk) -> None:
    seen: list[bool] = []
    ck_desk.after_batch("x", lambda: None)
    ck_desk.host.register(_BatchObserver(seen), name="observer")
    ck_desk.intake_many([make_complaint("B-1", text="late")], classify=False)
    ck_desk.intake(make_complaint("B-2", text="late"), classify=False)
    assert seen == [True, False]


class _BatchObserver:
    def __init__(self, seen: list[bool]) -> None:
        self.seen = seen

    @hookimpl
    def complaint_received(self, complaint: Complaint, desk: Desk) -> None:
        self.seen.append(desk.in_batch)
