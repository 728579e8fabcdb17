"""The escalation ladder, the fast channel, re-complaints (复投诉) and remedies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from complaintkit import ApprovalError, Config, ConfigError, EscalationLevel, TransitionRejected
from complaintkit.escalation import load_escalation_config
from complaintkit.model import Party, RemedyKind, Status
from complaintkit.recomplaint import similarity
from complaintkit.remedies import load_remedies_config
from complaintkit.testing import make_complaint
from process_support import Clock, close_complaint, example_data, make_desk, sh

SERIOUS = "电池爆炸，我的手被烧伤了，要起诉你们"
WANG = Party(name="王先生", phone="13800138000", customer_id="C-1")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"tinydb://{tmp_path / 'c.json'}"


def test_serious_complaints_take_the_fast_channel_at_intake(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        c = desk.intake(make_complaint("F-1", text=SERIOUS))
        assert c.label("severity") == "serious"
        assert c.escalation_level is EscalationLevel.COMPLAINT_MANAGEMENT
        assert c.department == "complaint_management"
        escalate = [e for e in c.history if e.action == "escalate"]
        assert len(escalate) == 1 and escalate[0].data["fast_channel"] is True
        assert escalate[0].reason is not None and "快速通道" in escalate[0].reason
        assert c.sla_policy == "urgent"
        general = desk.intake(make_complaint("F-2", text="发票抬头写错了"))
        assert general.escalation_level is EscalationLevel.FRONT_LINE


def test_bulk_intake_applies_the_same_process(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        result = desk.intake_many(
            [make_complaint("B-1", text=SERIOUS), make_complaint("B-2", text="发票抬头写错了")]
        )
        assert result.added == 2
        serious, general = desk.get("B-1"), desk.get("B-2")
        assert serious.escalation_level is EscalationLevel.COMPLAINT_MANAGEMENT
        assert (serious.sla_policy, general.sla_policy) == ("urgent", "standard")
        assert general.department == "product" and general.due_at is not None


def test_manual_escalation_hands_over_to_the_level_owner(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        desk.intake(make_complaint("M-1", text="发票抬头写错了"))
        c = desk.escalate("M-1", to=EscalationLevel.LEADERSHIP, reason="press enquiry")
        assert (c.department, c.assignee) == ("leadership", "gm.office")
        event = c.history[-1]
        assert event.data["assignee"] == {"from": None, "to": "gm.office"}


def test_a_repeat_complaint_is_linked_and_raised_one_level(url: str) -> None:
    clock = Clock(sh("2025-09-01 10:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        desk.intake(
            make_complaint(
                "OLD", received_at=clock.now, text="冰箱不制冷", complainant=WANG, order="O-1"
            )
        )
        close_complaint(desk, "OLD")
        clock.now = sh("2025-09-20 10:00")
        new = desk.intake(
            make_complaint(
                "NEW",
                received_at=clock.now,
                text="上次修好的冰箱又不制冷了",
                complainant=Party(phone="13800138000"),
                order="O-1",
            )
        )
        assert new.parent == "OLD"
        assert new.recomplaint_count == 1
        assert new.escalation_level is EscalationLevel.DEPARTMENT
        link = next(e for e in new.history if e.action == "recomplaint")
        assert link.data == {"parent": "OLD", "match": "same order O-1"}


def test_similar_text_counts_but_other_people_and_old_closures_do_not(url: str) -> None:
    clock = Clock(sh("2025-06-01 10:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        desk.intake(
            make_complaint(
                "OLD",
                received_at=clock.now,
                text="快递员态度恶劣，把包裹扔在门口",
                complainant=WANG,
            )
        )
        close_complaint(desk, "OLD")
        clock.now = sh("2025-06-10 10:00")
        similar = desk.intake(
            make_complaint(
                "SIM",
                received_at=clock.now,
                text="快递员态度恶劣，又把包裹扔在门口",
                complainant=WANG,
            )
        )
        assert similar.parent == "OLD"
        link = next(e for e in similar.history if e.action == "recomplaint")
        assert link.data["match"].startswith("similar text")
        stranger = desk.intake(
            make_complaint(
                "STR",
                received_at=clock.now,
                text="快递员态度恶劣，把包裹扔在门口",
                complainant=Party(phone="+86 139 0000 0001"),
            )
        )
        assert stranger.parent is None
        unrelated = desk.intake(
            make_complaint("UNR", received_at=clock.now, text="发票金额不对", complainant=WANG)
        )
        assert unrelated.parent is None
        clock.now = sh("2025-08-01 10:00")
        late = desk.intake(
            make_complaint(
                "LATE",
                received_at=clock.now,
                text="快递员态度恶劣，把包裹扔在门口",
                complainant=WANG,
            )
        )
        assert late.parent is None  # more than 30 days after closure


def test_bulk_intake_links_repeats_with_one_scan(url: str) -> None:
    clock = Clock(sh("2025-09-01 10:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        desk.intake(
            make_complaint(
                "OLD", received_at=clock.now, text="冰箱不制冷", complainant=WANG, product="BCD-520"
            )
        )
        close_complaint(desk, "OLD")
        clock.now = sh("2025-09-05 10:00")
        desk.intake_many(
            [
                make_complaint(
                    "N-1",
                    received_at=clock.now,
                    text="还是不制冷",
                    complainant=WANG,
                    product="BCD-520",
                ),
                make_complaint(
                    "N-2",
                    received_at=clock.now,
                    text="别的事",
                    complainant=Party(phone="+86 139 0000 0002"),
                ),
            ]
        )
        assert desk.get("N-1").parent == "OLD"
        assert desk.get("N-1").escalation_level is EscalationLevel.DEPARTMENT
        assert desk.get("N-2").parent is None


def test_bigram_similarity_works_for_chinese_and_english() -> None:
    assert similarity("快递员态度恶劣", "快递员态度恶劣") == 1.0
    assert similarity("快递员态度恶劣", "发票金额不对") == 0.0
    assert 0.3 < similarity("The courier was rude", "the courier was very rude!") < 1.0


def test_remedy_below_loss_plus_cost_warns_but_is_recorded(url: str) -> None:
    desk, store = make_desk(url, actor="li.lei")
    with store:
        desk.intake(make_complaint("V-1", text="发票抬头写错了"))
        c, warnings = desk.offer_remedy(
            "V-1", RemedyKind.REFUND, amount=100, customer_loss=80, description="退差价"
        )
        assert len(warnings) == 1 and "80 + 50 = 130 CNY" in warnings[0]
        remedy = c.remedies[0]
        assert (remedy.amount, remedy.currency, remedy.complaint_cost) == (100, "CNY", 50)
        assert (remedy.offered_by, remedy.approved_by) == ("li.lei", "agent")
        assert c.history[-1].action == "remedy_offered" and "warning" in c.history[-1].data
        _, ok = desk.offer_remedy("V-1", RemedyKind.COUPON, amount=150, customer_loss=80)
        assert ok == []
        accepted = desk.accept_remedy("V-1")
        assert [r.accepted for r in accepted.remedies] == [False, True]


def test_offers_above_the_role_limit_are_refused(url: str) -> None:
    desk, store = make_desk(url, actor="li.lei")
    with store:
        desk.intake(make_complaint("L-1", text="发票抬头写错了"))
        with pytest.raises(
            ApprovalError, match=r"a agent may offer at most 200 CNY.*supervisor or manager"
        ):
            desk.offer_remedy("L-1", RemedyKind.COMPENSATION, amount=500)
        assert desk.get("L-1").remedies == ()
        c, _ = desk.offer_remedy("L-1", RemedyKind.COMPENSATION, amount=500, role="supervisor")
        assert c.remedies[0].approved_by == "supervisor"
        stranger, _ = make_desk(url, actor="nobody")
        with pytest.raises(ApprovalError, match="'nobody' has no role"):
            stranger.offer_remedy("L-1", RemedyKind.APOLOGY)


def test_satisfaction_closes_a_resolved_complaint_or_amends_a_closed_one(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        desk.intake(make_complaint("S-1", text="发票抬头写错了"))
        with pytest.raises(TransitionRejected, match="collected at closure"):
            desk.record_satisfaction("S-1", 4)
        close_complaint(desk, "S-1")
        c = desk.record_satisfaction("S-1", 5)
        assert c.satisfaction == 5 and c.history[-1].data == {"from": 2, "to": 5}
        with pytest.raises(TransitionRejected, match="1 to 5"):
            desk.record_satisfaction("S-1", 6)


@pytest.mark.parametrize(
    ("section", "data", "message"),
    [
        (
            "escalation",
            {"escalate_on": ["respond", "reply"]},
            "escalation.escalate_on[2]: expected one of acknowledge, respond, resolve, got 'reply'",
        ),
        (
            "escalation",
            {"levels": {"boss": {}}},
            "escalation.levels.boss: unknown escalation level",
        ),
        (
            "escalation",
            {"fast_channel": {"level": "leadership"}},
            "escalation.fast_channel.match: missing (this setting is required)",
        ),
        (
            "escalation",
            {"fast_channel": {"match": {}, "level": "front_line"}},
            "escalation.fast_channel.level: the fast channel's level must be above front_line",
        ),
        ("remedies", {"approval": {"agent": "lots"}}, "remedies.approval.agent: must be an amount"),
        (
            "remedies",
            {"approval": {"agent": 1}, "roles": {"x": "boss"}},
            "remedies.roles.x: 'boss' is not a role in [remedies.approval] (agent)",
        ),
    ],
)
def test_bad_process_configuration(section: str, data: dict[str, Any], message: str) -> None:
    loader = load_escalation_config if section == "escalation" else load_remedies_config
    with pytest.raises(ConfigError) as info:
        loader(Config(data={section: data}))
    assert message in str(info.value)


def test_example_configuration_loads() -> None:
    from complaintkit.process import load_process_config

    process = load_process_config(Config(data=example_data()))
    assert process.sla is not None and list(process.sla.policies) == ["urgent", "standard"]
    assert [r.name for r in process.routing.rules] == ["quality", "pre-sale", "after-sale"]
    assert process.recomplaint is not None and process.recomplaint.window.days == 30
    assert process.remedies.limits["manager"] == float("inf")
    assert attrs.asdict(process.escalation.owner(EscalationLevel.DEPARTMENT)) == {
        "department": None,
        "assignee": None,
    }
    assert Status.CLOSED.value == "closed"
