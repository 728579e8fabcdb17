"""The model and its converters: round trips, readable errors, timezone rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaintkit import (
    Channel,
    Complaint,
    EscalationLevel,
    Event,
    Label,
    Party,
    Remedy,
    RemedyKind,
    Status,
    ValidationError,
)
from complaintkit.serialization import MODEL_CLASSES, make_converter, structure_checked
from complaintkit.testing import make_complaint

CST = timezone(timedelta(hours=8))


def rich() -> Complaint:
    at = datetime(2026, 10, 1, 9, 30, tzinfo=CST)
    return make_complaint(
        "CK-20261001-00000001",
        received_at=at,
        title="手机三天就坏了",
        text="新买的手机用了三天就黑屏，客服态度恶劣，要求退货并赔偿。",
        channel=Channel.WECHAT,
        complainant=Party("张伟", "+86 138 0000 0000", "zhang@example.cn", "C-42"),
        product="Phone X",
        order="SO-2026-1001",
        remedy_sought=RemedyKind.REFUND,
        labels={"cause": Label("cause", "product_quality", 0.74, ("黑屏",), "schemes")},
        status=Status.INVESTIGATING,
        escalation_level=EscalationLevel.DEPARTMENT,
        department="after-sales",
        assignee="li.na",
        due_at=at + timedelta(days=3),
        solution=None,
        remedies=(Remedy(RemedyKind.REFUND, 3999.0, "CNY", "full refund", accepted=True),),
        satisfaction=None,
        parent="CK-20260901-0000000A",
        recomplaint_count=1,
        tags=("vip", "media"),
        custom={"store": {"city": "杭州", "id": 7}, "score": [1, 2.5, None]},
        history=(Event(at, "agent", "received", None, {"channel": "wechat"}),),
        version=3,
    )


@pytest.mark.parametrize("checking", [True, False])
def test_complaint_round_trips(checking: bool) -> None:
    converter = make_converter(checking=checking)
    data = converter.unstructure(rich())
    assert converter.structure(data, Complaint) == rich()
    assert data["status"] == "investigating"
    assert data["escalation_level"] == 1
    assert data["received_at"] == "2026-10-01T09:30:00+08:00"


@pytest.mark.parametrize("cls", MODEL_CLASSES)
def test_every_model_class_round_trips(cls: type) -> None:
    c = rich()
    sample = {
        Complaint: c,
        Party: c.complainant,
        Label: c.labels["cause"],
        Remedy: c.remedies[0],
        Event: c.history[0],
    }[cls]
    converter = make_converter()
    assert converter.structure(converter.unstructure(sample), cls) == sample


@given(
    text=st.text(min_size=1),
    satisfaction=st.one_of(st.none(), st.integers(1, 5)),
    tags=st.lists(st.text(), max_size=3).map(tuple),
    offset=st.integers(-12 * 60, 14 * 60),
)
@pytest.mark.heavy
def test_round_trip_property(
    text: str, satisfaction: int | None, tags: tuple[str, ...], offset: int
) -> None:
    tz = timezone(timedelta(minutes=offset))
    c = make_complaint(
        text=text,
        satisfaction=satisfaction,
        tags=tags,
        received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=tz),
    )
    converter = make_converter()
    assert converter.structure(converter.unstructure(c), Complaint) == c


def test_errors_name_record_and_every_field() -> None:
    data = make_converter().unstructure(rich())
    data["complainant"]["emial"] = "typo@example.com"
    data["received_at"] = "2026-10-01 09:30"
    data["channel"] = "fax"
    data["surprise"] = 1
    with pytest.raises(ValidationError) as info:
        structure_checked(make_converter(), data, Complaint, "batch.json, record 7")
    message = str(info.value)
    assert message.startswith("batch.json, record 7: ")
    assert "field complainant: extra fields found (emial)" in message
    assert "field received_at: date-time '2026-10-01 09:30' has no time zone" in message
    assert "field channel: 'fax' is not a valid Channel" in message
    assert "extra fields found (surprise)" in message


def test_naive_datetimes_are_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_complaint(received_at=datetime(2026, 1, 1))


def test_label_confidence_and_satisfaction_ranges() -> None:
    with pytest.raises(ValueError, match="confidence"):
        Label("cause", "price", 1.5)
    with pytest.raises(ValueError, match="satisfaction must be 1 to 5"):
        make_complaint(satisfaction=0)


def test_trusted_converter_skips_extra_key_checks() -> None:
    data = make_converter().unstructure(rich())
    data["legacy_field"] = "kept by an older version"
    assert make_converter(checking=False).structure(data, Complaint) == rich()


def test_fast_path_equals_converter_on_a_rich_complaint() -> None:
    from complaintkit.serialization import complaint_to_data

    for checking in (True, False):
        assert complaint_to_data(rich()) == make_converter(checking=checking).unstructure(rich())


@given(
    custom=st.dictionaries(
        st.text(max_size=5),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=3), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=4,
    ),
    remedy=st.sampled_from([None, *RemedyKind]),
    level=st.sampled_from(list(EscalationLevel)),
    status=st.sampled_from(list(Status)),
)
@pytest.mark.heavy
def test_fast_path_equals_converter(
    custom: dict[str, object], remedy: RemedyKind | None, level: EscalationLevel, status: Status
) -> None:
    from complaintkit.serialization import complaint_to_data

    c = make_complaint(
        custom=custom,
        remedy_sought=remedy,
        escalation_level=level,
        status=status,
        history=(Event(rich().received_at, "a", "x", None, {"nested": custom}),),
    )
    data = complaint_to_data(c)
    assert data == make_converter(checking=False).unstructure(c)
    assert make_converter().structure(data, Complaint) == c


def test_fast_path_refuses_what_json_cannot_hold() -> None:
    from complaintkit.serialization import complaint_to_data

    with pytest.raises(TypeError):
        complaint_to_data(make_complaint(custom={"when": object()}))
