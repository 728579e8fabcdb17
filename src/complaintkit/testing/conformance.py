"""The storage conformance suite: what every :class:`~complaintkit.storage.Store` must do.

A backend reuses it by subclassing :class:`StoreConformance` in one of its test modules and
providing a ``store_factory`` fixture: a callable that opens a store on the *same* database
each time it is called (empty at the start of each test). The suite calls it more than once to
check persistence and two writers on one database, and closes every store it opens::

    import pytest
    from complaintkit.testing.conformance import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store_factory(self, tmp_path):
            url = f"mydb://{tmp_path / 'complaints.db'}"
            return lambda: open_my_store(url, {})

The suite uses only the public API (the :class:`Store` protocol, the model, the errors,
:class:`ComplaintFilter` and :func:`group_value`), so third-party backends can run it as is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from complaintkit.attachments import (
    Attachment,
    AttachmentExistsError,
    AttachmentNotFound,
    AttachmentStore,
    attachments_of,
)
from complaintkit.calendars import AlwaysOpen
from complaintkit.errors import (
    CalendarRangeError,
    ConflictError,
    DuplicateComplaintError,
    NotFoundError,
)
from complaintkit.facts import (
    CLOCK_FIELDS,
    FACT_FIELDS,
    ClockFacts,
    ComplaintFacts,
    FactColumnsStore,
    FactsStore,
    LabelSummariesStore,
    facts_of,
    iter_fact_columns,
    iter_facts,
    iter_label_summaries,
    label_summaries_of,
)
from complaintkit.model import (
    Channel,
    Complaint,
    EscalationLevel,
    Event,
    Label,
    Party,
    Remedy,
    RemedyKind,
    Status,
)
from complaintkit.serialization import complaint_to_data
from complaintkit.sla import OUTCOMES, SlaPolicy, Target, clocks_of, compute_clocks
from complaintkit.storage import (
    SORT_KEYS,
    AddResult,
    ComplaintFilter,
    DataReadableStore,
    DataRestorableStore,
    RestorableStore,
    SortOrder,
    Store,
    StoredDataReadableStore,
    find_sorted,
    group_value,
    sort_key,
)
from complaintkit.testing import make_complaint

__all__ = [
    "CHINA",
    "EMPTY_FILTERS",
    "SAMPLE_FILTERS",
    "SAMPLE_GROUP_KEYS",
    "SAMPLE_ORDERS",
    "StoreConformance",
    "StoreFactory",
    "history_complaints",
    "rich_complaint",
    "sample_complaints",
]

#: Opens a store on the test's database (see the module docstring).
StoreFactory = Callable[[], Store]

#: UTC+8, the offset most complaints in the samples carry.
CHINA = timezone(timedelta(hours=8), "CST")


def _at(day: str, clock: str = "09:00", tz: timezone = CHINA) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


def rich_complaint(reference: str = "CK-RICH-1", **changes: Any) -> Complaint:
    """A complaint using every field: labels, remedies, history, nested custom data, Chinese."""
    received = _at("2026-03-08", "21:15:30.250000")
    complaint: Complaint = make_complaint(
        reference,
        received_at=received,
        title="双十一冰箱配送延误，客服不回复",
        text="我在双十一买的冰箱（订单 O-2026-1111）延误了三天才送到，外包装破损。"
        "客服电话一直打不通。I want a refund of the delivery fee.",
        channel=Channel.WECHAT,
        complainant=Party(
            name="王小明", phone="+86 138 0013 8000", email="wang@example.cn", customer_id="C-001"
        ),
        product="冰箱 BCD-520",
        order="O-2026-1111",
        remedy_sought=RemedyKind.REFUND,
        labels={
            "severity": Label("severity", "high", 0.87, ("延误", "破损"), "rules"),
            "cause": Label("cause", "logistics", 1.0, (), "manual"),
        },
        status=Status.INVESTIGATING,
        escalation_level=EscalationLevel.DEPARTMENT,
        department="物流部",
        assignee="李雷",
        due_at=received + timedelta(days=3),
        alert_at=received + timedelta(days=2, hours=20),
        sla_policy="vip",
        solution="补发配件并退还运费",
        remedies=(
            Remedy(
                RemedyKind.REFUND,
                49.5,
                "CNY",
                "退还运费",
                accepted=True,
                customer_loss=30.0,
                complaint_cost=10.0,
                offered_by="李雷",
                approved_by="agent",
                offered_at=received + timedelta(days=1),
            ),
            Remedy(RemedyKind.COUPON, 20.0, "CNY"),
        ),
        satisfaction=4,
        parent="CK-20261111-0001",
        recomplaint_count=1,
        tags=("vip", "双十一"),
        custom={
            "crm": {"id": 12345, "segments": ["gold", "华东"], "score": 0.75},
            "flags": {"vip": True, "note": None, "nested": [[1, 2], {"深": "层"}]},
            "渠道编号": "WX-9",
        },
        history=(
            Event(received, "客服-01", "received", None, {"channel": "wechat"}),
            Event(
                received + timedelta(minutes=1),
                "rules",
                "classify",
                None,
                {"scheme": "severity", "from": None, "to": "high", "evidence": ["延误", "破损"]},
            ),
            Event(
                datetime(2026, 3, 9, 1, 0, tzinfo=UTC),
                "张经理",
                "assign",
                "物流问题转物流部",
                {"department": {"from": None, "to": "物流部"}},
            ),
        ),
    )
    return attrs.evolve(complaint, **changes) if changes else complaint


def _sorted_json(data: dict[str, Any]) -> str:
    """``data`` as JSON with sorted keys: equal only if equal as JSON (``1 != 1.0``)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _label(scheme: str, label: str) -> tuple[str, Label]:
    return scheme, Label(scheme, label, 0.9, (label,), "rules")


def sample_complaints() -> list[Complaint]:
    """Twelve varied complaints (as given to ``add``, version 0) for queries and grouping.

    They include times with different offsets whose order differs between wall clock and
    instant, an instant shared by two complaints (ties go by reference), and a month boundary
    that falls differently in UTC than in the complaint's own offset.
    """
    sev_high, sev_low = _label("severity", "high"), _label("severity", "low")
    logistics, staff = _label("cause", "logistics"), _label("cause", "staff")
    return [
        make_complaint(
            "S-01",
            received_at=_at("2026-01-05", "10:00"),
            title="Refund please",
            text="The parcel arrived broken.",
            channel=Channel.EMAIL,
            labels=dict([sev_high, logistics]),
            status=Status.RECEIVED,
            department="logistics",
            product="P-1",
            complainant=Party(name="Ann", customer_id="C-7", email="ann@example.com"),
            due_at=_at("2026-01-08", "10:00"),
            alert_at=_at("2026-01-08", "06:00"),
            sla_policy="standard",
            tags=("vip", "delivery"),
            custom={"region": "华东", "store_no": 12, "vip": True},
        ),
        make_complaint(
            "S-02",
            received_at=_at("2026-01-14", "23:30", UTC),
            text="快递延误了三天，客服态度很差。",
            channel=Channel.PHONE,
            labels=dict([sev_low]),
            status=Status.INVESTIGATING,
            department="service",
            assignee="alice",
            product="P-2",
            escalation_level=EscalationLevel.DEPARTMENT,
            # The same instant as S-01's due_at, written in UTC: due_by is inclusive.
            due_at=datetime(2026, 1, 8, 2, 0, tzinfo=UTC),
            alert_at=_at("2026-01-07", "18:00"),
        ),
        # 07:00 on the 15th in UTC+8 is 23:00 on the 14th UTC: before S-02, though its wall
        # clock (and its ISO string) sorts after.
        make_complaint(
            "S-03",
            received_at=_at("2026-01-15", "07:00"),
            text="I asked for a REFUND twice and nobody answered.",
            channel=Channel.WECHAT,
            labels=dict([sev_high, staff]),
            status=Status.CLOSED,
            department="service",
            assignee="bob",
            satisfaction=2,
            complainant=Party(name="Ann", phone="+86 138 0000 0007", customer_id="C-7"),
            tags=("vip",),
            custom={"region": "华北", "store_no": "12"},
        ),
        make_complaint(
            "S-04",
            received_at=_at("2026-01-20", "12:00"),
            title="延误",
            text="Late again.",
            channel=Channel.PHONE,
            status=Status.RESOLVED,
            department="logistics",
            assignee="alice",
            product="P-1",
            escalation_level=EscalationLevel.COMPLAINT_MANAGEMENT,
        ),
        # 01:00 on 1 February in UTC+8 is still January in UTC: groups under 2026-02.
        make_complaint(
            "S-05",
            received_at=_at("2026-02-01", "01:00"),
            text="退款一直没有到账。",
            channel=Channel.WEB,
            labels=dict([sev_low, logistics]),
            status=Status.REOPENED,
            assignee="bob",
            product="P-2",
            escalation_level=EscalationLevel.LEADERSHIP,
            # Tags are compared exactly; nested values never match a custom filter.
            tags=("delivery", "Vip"),
            custom={"region": "华东", "score": 2.5, "nested": {"region": "华东"}, "list": ["华东"]},
        ),
        make_complaint(
            "S-06",
            received_at=_at("2026-02-10", "09:00"),
            text="The installer was rude.",
            channel=Channel.IN_PERSON,
            labels=dict([sev_high]),
            status=Status.WITHDRAWN,
            department="service",
        ),
        # S-07 and S-08 share an instant written with two offsets: ties go by reference.
        make_complaint(
            "S-08",
            received_at=_at("2026-02-14", "10:00"),
            text="Wrong colour delivered.",
            channel=Channel.EMAIL,
            labels=dict([sev_low, staff]),
            status=Status.SOLUTION_PROPOSED,
            department="logistics",
            assignee="carol",
            product="P-1",
            tags=("VIP",),
            custom={"region": "huadong", 'odd "key".$[0]': "yes", "vip": "true"},
        ),
        make_complaint(
            "S-07",
            received_at=_at("2026-02-14", "02:00", UTC),
            title="refund for damaged goods",
            text="Box crushed.",
            channel=Channel.SOCIAL_MEDIA,
            status=Status.ACKNOWLEDGED,
            product="P-3",
            escalation_level=EscalationLevel.DEPARTMENT,
        ),
        make_complaint(
            "S-09",
            received_at=_at("2026-03-01", "00:00"),
            text="客服挂断了我的电话。",
            channel=Channel.PHONE,
            labels=dict([sev_high, staff]),
            status=Status.REJECTED,
            department="service",
            assignee="alice",
            escalation_level=EscalationLevel.COMPLAINT_MANAGEMENT,
        ),
        make_complaint(
            "S-10",
            received_at=_at("2026-03-03", "15:45"),
            text="Charged twice for one order.",
            complainant=Party(email="C-7"),
            channel=Channel.WEB,
            labels=dict([logistics]),
            status=Status.IMPLEMENTING,
            department="finance",
            product="P-2",
            due_at=_at("2026-03-06", "15:45"),
            alert_at=_at("2026-03-06", "11:45"),
            sla_policy="standard",
            custom={"region": None, "store_no": 12.5},
        ),
        make_complaint(
            "S-11",
            received_at=_at("2026-03-20", "08:30", timezone(timedelta(hours=-5))),
            text="No reply to my letter.",
            channel=Channel.LETTER,
            status=Status.ASSESSED,
            assignee="bob",
        ),
        make_complaint(
            "S-12",
            received_at=_at("2026-03-31", "23:59"),
            text="Coupon code rejected at checkout.",
            channel=Channel.OTHER,
            labels=dict([sev_low]),
            status=Status.SOLUTION_ACCEPTED,
            department="logistics",
            product="P-3",
            escalation_level=EscalationLevel.DEPARTMENT,
        ),
    ]


def _events(start: datetime, *steps: tuple[float, str, dict[str, Any]]) -> tuple[Event, ...]:
    """Events at ``start`` plus the given hours, by the clerk unless the sweep records it."""
    return tuple(
        Event(
            start + timedelta(hours=hours),
            "sla-sweep" if action in ("sla_breach", "escalate") else "clerk",
            action,
            None,
            data,
        )
        for hours, action, data in steps
    )


def history_complaints() -> list[Complaint]:
    """Eleven complaints with rich histories, for checking what a backend derives from them
    (:class:`~complaintkit.facts.ComplaintFacts`): acknowledgement, responses, proposals,
    resolutions undone by reopening and made again, closing, ``sla_breach`` events with and
    without a usable ``target``, pauses, escalations, remedies offered and accepted,
    satisfaction, re-complaints, customers known by id, phone or e-mail only, labels, open
    ones, one without any history, one whose history is not in time order and events written
    with different offsets, and three imported from another system: closed at a time the
    source did not give (``import`` events), in progress with a breach the source recorded,
    and closed at an unknown time then reopened here. They share fields with
    :func:`sample_complaints` so that the :data:`SAMPLE_FILTERS` select some of them.
    """
    sev_high, sev_low = _label("severity", "high"), _label("severity", "low")
    logistics, staff = _label("cause", "logistics"), _label("cause", "staff")
    h1 = _at("2026-01-10", "08:00")
    h2 = _at("2026-01-16", "12:00", UTC)
    h3 = _at("2026-02-02", "09:30")
    h5 = _at("2026-02-20", "18:00", timezone(timedelta(hours=-5)))
    h6 = _at("2026-03-02", "10:00")
    h7 = _at("2026-03-05", "16:00")
    h8 = _at("2026-03-25", "11:00")
    h9 = _at("2026-01-20", "09:00")
    imported = {"imported": True}
    return [
        # Resolved, reopened, resolved again and closed; breached twice on one target.
        make_complaint(
            "H-01",
            received_at=h1,
            title="Refund still missing",
            text="退款延误 twice; the parcel was broken.",
            channel=Channel.EMAIL,
            complainant=Party(name="Li", phone="+86 139 0000 0001", customer_id="C-7"),
            labels=dict([sev_high, logistics]),
            status=Status.CLOSED,
            department="logistics",
            assignee="alice",
            product="P-1",
            escalation_level=EscalationLevel.COMPLAINT_MANAGEMENT,
            due_at=h1 + timedelta(days=3),
            alert_at=h1 + timedelta(days=2),
            sla_policy="standard",
            remedies=(
                Remedy(RemedyKind.REFUND, 120.5, "CNY", "refund", accepted=True, offered_by="bo"),
                Remedy(RemedyKind.COUPON, 20.0, "CNY", customer_loss=5.0, complaint_cost=2.5),
            ),
            satisfaction=4,
            parent="S-03",
            recomplaint_count=1,
            history=_events(
                h1,
                (0, "received", {"channel": "email"}),
                (0.5, "classify", {"scheme": "severity", "to": "high"}),
                (2, "acknowledge", {}),
                (5, "pause", {"reason": "waiting for photos"}),
                (7, "resume", {}),
                (25, "sla_breach", {"target": "respond"}),
                (25, "escalate", {"from": 0, "to": 1}),
                (26, "respond", {}),
                (30, "propose", {"remedy": "refund"}),
                (31, "resolve", {}),
                (40, "reopen", {}),
                (49, "sla_breach", {"target": "respond"}),
                (50, "sla_breach", {"target": "resolve"}),
                (50, "escalate", {"from": 1, "to": 2}),
                (60, "resolve", {}),
                (61, "resolve", {"again": True}),
                (70, "close", {}),
            ),
        ),
        # Reopened and still open: its resolution no longer counts.
        make_complaint(
            "H-02",
            received_at=h2,
            text="快递延误，客服不回复。",
            channel=Channel.PHONE,
            complainant=Party(phone="+86 138 0000 0007"),
            labels=dict([sev_low]),
            status=Status.REOPENED,
            department="service",
            assignee="alice",
            product="P-2",
            due_at=h2 + timedelta(days=5),
            history=_events(
                h2,
                (0, "received", {}),
                (1, "investigate", {}),
                (2, "sla_breach", {"target": "resolve"}),  # of the clock the reopen restarts
                (3, "resolve", {}),
                (9, "reopen", {"why": "still broken"}),
            ),
        ),
        # A backdated acknowledgement: first in history order is not the earliest instant.
        make_complaint(
            "H-03",
            received_at=h3,
            text="Nobody called back about the refund.",
            channel=Channel.WECHAT,
            complainant=Party(email="h3@example.com"),
            status=Status.INVESTIGATING,
            department="service",
            escalation_level=EscalationLevel.DEPARTMENT,
            history=_events(
                h3,
                (0, "received", {}),
                (0.5, "resume", {}),  # not paused: changes nothing
                (6, "assess", {}),
                (1, "acknowledge", {"backdated": True}),
                (10, "pause", {}),
                (12, "pause", {"again": True}),  # already paused: changes nothing
                (14, "resume", {}),
                (15, "resume", {}),
                (30, "sla_breach", {"target": 3}),
                (31, "sla_breach", {}),
                (32, "sla_breach", {"target": "acknowledge", "late_by_hours": 5}),
                (32, "escalate", {}),
            ),
        ),
        # Nothing happened yet, and nobody is known.
        make_complaint(
            "H-04",
            received_at=_at("2026-02-12", "07:00"),
            text="Wrong size delivered.",
            channel=Channel.WEB,
            labels=dict([staff]),
        ),
        # Marked resolved, but the last event is a reopen: no resolution stands.
        make_complaint(
            "H-05",
            received_at=h5,
            text="Technician did not come.",
            channel=Channel.LETTER,
            complainant=Party(customer_id="C-55", email="c55@example.com"),
            labels=dict([sev_low, staff]),
            status=Status.RESOLVED,
            department="logistics",
            product="P-3",
            history=(
                Event(h5, "clerk", "received"),
                Event(h5.astimezone(UTC) + timedelta(hours=2), "bob", "respond"),
                Event(h5.astimezone(CHINA) + timedelta(hours=3), "bob", "resolve"),
                Event(h5 + timedelta(hours=4), "bob", "reopen"),
            ),
        ),
        # Withdrawn at once: acknowledged, responded and resolved by the same event.
        make_complaint(
            "H-06",
            received_at=h6,
            text="Never mind, it arrived.",
            channel=Channel.SOCIAL_MEDIA,
            labels=dict([sev_high]),
            status=Status.WITHDRAWN,
            history=_events(h6, (0, "received", {}), (0.25, "withdraw", {})),
        ),
        # Rejected; a remedy offered and refused; the customer id is empty.
        make_complaint(
            "H-07",
            received_at=h7,
            text="I want compensation for the delay.",
            channel=Channel.IN_PERSON,
            complainant=Party(customer_id="", phone="+86 137 0000 0077"),
            labels=dict([sev_low, logistics]),
            status=Status.REJECTED,
            department="finance",
            assignee="carol",
            escalation_level=EscalationLevel.LEADERSHIP,
            remedies=(Remedy(RemedyKind.COMPENSATION, 300.0, "CNY", accepted=False),),
            satisfaction=1,
            parent="H-02",
            history=_events(
                h7,
                (0, "received", {}),
                (1, "escalate", {"manual": True}),
                (2, "escalate", {"manual": True}),
                (4, "reject", {"reason": "out of warranty"}),
            ),
        ),
        # Closed after a proposal was accepted and implemented; paused and never resumed.
        make_complaint(
            "H-08",
            received_at=h8,
            text="Coupon expired before I could use it.",
            channel=Channel.OTHER,
            complainant=Party(customer_id="C-88"),
            labels=dict([sev_high, staff]),
            status=Status.CLOSED,
            department="logistics",
            assignee="bob",
            product="P-1",
            sla_policy="vip",
            due_at=h8 + timedelta(days=1),
            satisfaction=5,
            remedies=(Remedy(RemedyKind.COUPON, 50.0, "CNY", accepted=True, offered_at=h8),),
            history=_events(
                h8,
                (0, "received", {}),
                (0.5, "pause", {}),
                (2, "propose", {}),
                (3, "accept", {}),
                (4, "implement", {}),
                (5, "close", {}),
            ),
        ),
        # Imported closed, the time of closing unknown: every target reached, time unknown.
        make_complaint(
            "H-09",
            received_at=h9,
            text="Imported: billing error, closed in the old CRM.",
            channel=Channel.PHONE,
            status=Status.CLOSED,
            history=_events(
                h9,
                (0, "received", imported),
                (300, "import", {"from": "received", "to": "closed", **imported}),
            ),
        ),
        # Imported in progress with the source's own breach of the response target, then
        # answered here: acknowledged at an unknown time, response missed, resolve open.
        make_complaint(
            "H-10",
            received_at=h9 + timedelta(hours=1),
            text="Imported: still waiting for the technician.",
            channel=Channel.WEB,
            status=Status.SOLUTION_PROPOSED,
            department="logistics",
            history=_events(
                h9 + timedelta(hours=1),
                (0, "received", imported),
                (200, "import", {"from": "received", "to": "investigating", **imported}),
                (200, "sla_breach", {"target": "respond", "historical": True}),
                (210, "propose", {"solution": "a new router"}),
            ),
        ),
        # Imported closed at an unknown time, reopened and resolved here: the resolve clock
        # restarts at the reopening, so only acknowledge and respond stay untimed.
        make_complaint(
            "H-11",
            received_at=h9 + timedelta(hours=2),
            text="Imported: the refund came but was short.",
            channel=Channel.EMAIL,
            status=Status.CLOSED,
            history=_events(
                h9 + timedelta(hours=2),
                (0, "received", imported),
                (100, "import", {"from": "received", "to": "closed", **imported}),
                (101, "reopen", {}),
                (104, "resolve", {}),
                (105, "close", {}),
            ),
        ),
    ]


#: Filters exercising every field of :class:`ComplaintFilter`, alone and combined.
SAMPLE_FILTERS: dict[str, ComplaintFilter] = {
    "statuses": ComplaintFilter(statuses=frozenset({Status.CLOSED, Status.RESOLVED})),
    "channels": ComplaintFilter(channels=frozenset({Channel.PHONE, Channel.EMAIL})),
    "label": ComplaintFilter(labels=(("severity", "high"),)),
    "two-labels": ComplaintFilter(labels=(("severity", "low"), ("cause", "staff"))),
    "unclassified": ComplaintFilter(unclassified="cause"),
    "department": ComplaintFilter(department="logistics"),
    "assignee": ComplaintFilter(assignee="alice"),
    "product": ComplaintFilter(product="P-2"),
    # Equal to S-05's instant: received_from is inclusive.
    "received-from": ComplaintFilter(received_from=datetime(2026, 1, 31, 17, 0, tzinfo=UTC)),
    # Equal to S-03's instant: received_until is exclusive.
    "received-until": ComplaintFilter(received_until=datetime(2026, 1, 14, 23, 0, tzinfo=UTC)),
    "received-range": ComplaintFilter(
        received_from=_at("2026-01-15", "00:00"), received_until=_at("2026-02-14", "10:00")
    ),
    "text-any-case": ComplaintFilter(text="refund"),
    "text-chinese": ComplaintFilter(text="延误"),
    "min-escalation": ComplaintFilter(min_escalation=EscalationLevel.COMPLAINT_MANAGEMENT),
    "open-only": ComplaintFilter(open_only=True),
    "references": ComplaintFilter(references=frozenset({"S-02", "S-07", "S-11", "NOPE"})),
    "combined": ComplaintFilter(
        statuses=frozenset({Status.RECEIVED, Status.INVESTIGATING, Status.RESOLVED}),
        department="logistics",
        open_only=True,
    ),
    "nothing": ComplaintFilter(assignee="nobody"),
    # S-01 and S-02 are due at this instant (inclusive); S-10 later.
    "due-by": ComplaintFilter(due_by=_at("2026-01-08", "10:00")),
    "due-by-late": ComplaintFilter(due_by=_at("2026-12-31", "00:00")),
    "alert-by": ComplaintFilter(alert_by=_at("2026-01-08", "05:59")),
    # S-01 and S-03 by customer id, S-10 by an e-mail that happens to equal it.
    "complainant-id": ComplaintFilter(complainant="C-7"),
    "complainant-phone": ComplaintFilter(complainant="+86 138 0000 0007"),
    "complainant-email": ComplaintFilter(complainant="ann@example.com"),
    "alert-by-open": ComplaintFilter(alert_by=_at("2026-12-31", "00:00"), open_only=True),
    # Tags exactly (S-05's "Vip" and S-08's "VIP" are other tags), every one given.
    "tag": ComplaintFilter(tags=frozenset({"vip"})),
    "two-tags": ComplaintFilter(tags=frozenset({"vip", "delivery"})),
    # Custom fields by their text: S-01's 12 and S-03's "12" alike, never S-10's 12.5.
    "custom-text": ComplaintFilter(custom=(("region", "华东"),)),
    "custom-number": ComplaintFilter(custom=(("store_no", "12"),)),
    "custom-decimal": ComplaintFilter(custom=(("score", "2.5"),)),
    "custom-boolean": ComplaintFilter(custom=(("vip", "true"),)),
    "custom-odd-key": ComplaintFilter(custom=(('odd "key".$[0]', "yes"),)),
    "custom-and-tag": ComplaintFilter(tags=frozenset({"vip"}), custom=(("region", "华北"),)),
    "custom-two": ComplaintFilter(custom=(("region", "华东"), ("store_no", "12"))),
    # Nothing matches a case that differs, a null, or a nested value.
    "custom-case": ComplaintFilter(custom=(("region", "HUADONG"),)),
    "custom-null": ComplaintFilter(custom=(("region", "null"),)),
    "custom-nested": ComplaintFilter(custom=(("nested", '{"region": "华东"}'),)),
}

#: Filters of :data:`SAMPLE_FILTERS` that select no sample, on purpose.
EMPTY_FILTERS = frozenset({"nothing", "custom-case", "custom-null", "custom-nested"})

#: Every sort order, ascending and descending (``complaintkit list --sort``).
SAMPLE_ORDERS = tuple(
    SortOrder(key, descending=descending) for key in SORT_KEYS for descending in (False, True)
)


def _sorted(complaints: Iterable[Complaint], order: SortOrder) -> list[str]:
    return [c.reference for c in sorted(complaints, key=sort_key(order), reverse=order.descending)]


#: Group keys exercised by ``count_by`` (every key of ``GROUP_KEYS``).
SAMPLE_GROUP_KEYS = (
    "status",
    "channel",
    "department",
    "assignee",
    "product",
    "escalation_level",
    "month",
    "label:severity",
    "label:cause",
    "label:no-such-scheme",
)


def _attachment(reference: str, name: str, content: bytes, minutes: int = 0) -> Attachment:
    import hashlib

    return Attachment(
        reference,
        name,
        len(content),
        hashlib.sha256(content).hexdigest(),
        "text/plain",
        _at("2026-04-01", f"09:{minutes:02d}"),
        "客服-01",
    )


def _order(complaints: Iterable[Complaint]) -> list[str]:
    return [c.reference for c in sorted(complaints, key=lambda c: (c.received_at, c.reference))]


def _stored(complaints: Iterable[Complaint]) -> list[Complaint]:
    return [attrs.evolve(c, version=1) for c in complaints]


class StoreConformance:
    """Tests every store must pass; subclass it and provide a ``store_factory`` fixture."""

    # --- fixtures -----------------------------------------------------------------------

    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        """Override: return a callable opening a store on this test's (empty) database."""
        raise NotImplementedError(
            f"{type(self).__name__} must define a store_factory fixture (see "
            "complaintkit.testing.conformance)"
        )

    @pytest.fixture
    def open_store(self, store_factory: StoreFactory) -> Iterator[StoreFactory]:
        """Open stores on the test database; all are closed when the test ends."""
        opened: list[Store] = []

        def open_() -> Store:
            store = store_factory()
            opened.append(store)
            return store

        yield open_
        for store in reversed(opened):
            store.close()

    @pytest.fixture
    def store(self, open_store: StoreFactory) -> Store:
        """One open store on an empty database."""
        return open_store()

    @pytest.fixture
    def filled(self, store: Store) -> Store:
        """The store holding :func:`sample_complaints`."""
        result = store.add_many(sample_complaints())
        assert result == AddResult(added=len(sample_complaints()), skipped=())
        return store

    # --- the basics ---------------------------------------------------------------------

    def test_implements_the_store_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.url, str) and store.url

    def test_a_new_store_is_empty(self, store: Store) -> None:
        assert store.count() == 0
        assert list(store.find()) == []
        assert store.count_by("status") == {}
        assert store.existing(["S-01"]) == set()

    def test_initialize_is_idempotent_and_keeps_data(self, open_store: StoreFactory) -> None:
        store = open_store()
        store.initialize()
        store.initialize()
        assert store.count() == 0
        store.add(make_complaint("I-1"))
        store.initialize()
        assert open_store().count() == 1

    # --- add and get --------------------------------------------------------------------

    def test_add_then_get_round_trips_every_field(self, store: Store) -> None:
        original = rich_complaint()
        stored = store.add(original)
        assert stored == attrs.evolve(original, version=1)
        got = store.get(original.reference)
        assert got == stored
        # Aware datetimes compare equal across offsets, so check the offsets survived too.
        assert got.received_at.utcoffset() == timedelta(hours=8)
        assert got.received_at.microsecond == 250000
        assert got.due_at is not None and got.due_at.utcoffset() == timedelta(hours=8)
        assert [e.at.utcoffset() for e in got.history] == [
            timedelta(hours=8),
            timedelta(hours=8),
            timedelta(0),
        ]
        assert isinstance(got.tags, tuple) and isinstance(got.remedies, tuple)
        assert got.labels["severity"].evidence == ("延误", "破损")
        assert got.custom["flags"]["nested"] == [[1, 2], {"深": "层"}]

    def test_a_sealed_history_keeps_its_digests_and_its_chain(self, store: Store) -> None:
        from ..audit import first_break, seal

        original = rich_complaint()
        sealed = attrs.evolve(original, history=seal(original.reference, original.history))
        assert all(e.digest for e in sealed.history)
        store.add(sealed)
        got = store.get(original.reference)
        assert [e.digest for e in got.history] == [e.digest for e in sealed.history]
        # What the store gives back hashes as what it was given (times, JSON data, offsets).
        assert first_break(got.reference, got.history) is None
        longer = seal(got.reference, (*got.history, attrs.evolve(got.history[0], digest=None)))
        stored = store.update(attrs.evolve(got, history=longer))
        assert first_break(stored.reference, store.get(stored.reference).history) is None

    def test_add_stores_version_one_whatever_the_input_version(self, store: Store) -> None:
        stored = store.add(make_complaint("V-1", version=7))
        assert stored.version == 1
        assert store.get("V-1").version == 1

    def test_add_refuses_a_stored_reference(self, store: Store) -> None:
        store.add(make_complaint("D-1", text="first"))
        with pytest.raises(DuplicateComplaintError) as info:
            store.add(make_complaint("D-1", text="second"))
        assert info.value.reference == "D-1"
        assert store.get("D-1").text == "first"
        assert store.count() == 1

    def test_get_unknown_reference_raises_not_found(self, filled: Store) -> None:
        with pytest.raises(NotFoundError) as info:
            filled.get("NO-SUCH")
        assert info.value.reference == "NO-SUCH"

    def test_returned_complaints_are_independent_of_the_store(self, store: Store) -> None:
        store.add(rich_complaint())
        got = store.get("CK-RICH-1")
        got.custom["crm"]["segments"].append("tampered")  # misuse, but must not leak
        assert store.get("CK-RICH-1").custom["crm"]["segments"] == ["gold", "华东"]

    # --- add_many -----------------------------------------------------------------------

    def test_add_many_streams_and_stores_everything(self, store: Store) -> None:
        samples = sample_complaints()
        result = store.add_many(c for c in samples)  # a one-shot generator
        assert result == AddResult(added=len(samples), skipped=())
        assert store.count() == len(samples)
        for complaint in samples:
            assert store.get(complaint.reference) == attrs.evolve(complaint, version=1)

    def test_add_many_skips_stored_and_repeated_references(self, store: Store) -> None:
        store.add(make_complaint("A-1", text="already here"))
        batch = [
            make_complaint("A-1", text="again"),
            make_complaint("A-2", text="first copy"),
            make_complaint("A-3"),
            make_complaint("A-2", text="second copy"),
        ]
        result = store.add_many(iter(batch))
        assert result.added == 2
        assert sorted(result.skipped) == ["A-1", "A-2"]
        assert store.get("A-1").text == "already here"
        assert store.get("A-2").text == "first copy"
        assert store.get("A-2").version == 1
        assert store.count() == 3

    def test_add_many_of_nothing_adds_nothing(self, store: Store) -> None:
        assert store.add_many([]) == AddResult(added=0, skipped=())
        assert store.count() == 0

    # --- update -------------------------------------------------------------------------

    def test_update_bumps_the_version_each_time(self, store: Store) -> None:
        v1 = store.add(make_complaint("U-1"))
        v2 = store.update(attrs.evolve(v1, status=Status.ACKNOWLEDGED))
        assert v2 == attrs.evolve(v1, status=Status.ACKNOWLEDGED, version=2)
        v3 = store.update(attrs.evolve(v2, assignee="alice"))
        assert v3.version == 3
        assert store.get("U-1") == v3

    def test_stale_update_conflicts_and_writes_nothing(self, open_store: StoreFactory) -> None:
        store = open_store()
        v1 = store.add(make_complaint("U-2"))
        v2 = store.update(attrs.evolve(v1, assignee="alice"))
        with pytest.raises(ConflictError) as info:
            store.update(attrs.evolve(v1, assignee="bob"))
        assert (info.value.reference, info.value.expected, info.value.found) == ("U-2", 1, 2)
        assert store.get("U-2") == v2
        assert open_store().get("U-2") == v2

    def test_update_from_the_future_conflicts(self, store: Store) -> None:
        v1 = store.add(make_complaint("U-3"))
        with pytest.raises(ConflictError):
            store.update(attrs.evolve(v1, version=5, assignee="x"))
        assert store.get("U-3") == v1

    def test_update_unknown_reference_raises_not_found(self, filled: Store) -> None:
        with pytest.raises(NotFoundError):
            filled.update(make_complaint("NO-SUCH", version=1))
        assert filled.count() == len(sample_complaints())

    def test_update_many_writes_current_and_reports_stale(self, open_store: StoreFactory) -> None:
        store = open_store()
        store.add_many(sample_complaints())
        s1, s2, s3 = store.get("S-01"), store.get("S-02"), store.get("S-03")
        s2_now = store.update(attrs.evolve(s2, assignee="zoe"))  # makes s2 stale
        result = store.update_many(
            [
                attrs.evolve(s1, assignee="x1"),
                attrs.evolve(s2, assignee="x2"),
                attrs.evolve(s3, assignee="x3"),
            ]
        )
        assert result.conflicts == ("S-02",)
        assert result.updated == (
            attrs.evolve(s1, assignee="x1", version=2),
            attrs.evolve(s3, assignee="x3", version=2),
        )
        for current in (store, open_store()):
            assert current.get("S-01").assignee == "x1"
            assert current.get("S-02") == s2_now
            assert current.get("S-03").version == 2

    def test_update_many_applies_repeats_in_order(self, store: Store) -> None:
        v1 = store.add(make_complaint("R-1"))
        first = attrs.evolve(v1, assignee="first")
        result = store.update_many([first, attrs.evolve(v1, assignee="second")])
        assert result.updated == (attrs.evolve(first, version=2),)
        assert result.conflicts == ("R-1",)
        assert store.get("R-1").assignee == "first"

    def test_update_many_of_nothing(self, store: Store) -> None:
        result = store.update_many([])
        assert result.updated == () and result.conflicts == ()

    # --- queries ------------------------------------------------------------------------

    def test_find_orders_by_instant_received_then_reference(self, filled: Store) -> None:
        got = [c.reference for c in filled.find()]
        assert got == _order(sample_complaints())
        # The cases the samples were built for: offsets, and a tie broken by reference.
        assert got.index("S-03") < got.index("S-02")
        assert got.index("S-07") + 1 == got.index("S-08")

    def test_find_returns_the_stored_complaints(self, filled: Store) -> None:
        by_reference = {c.reference: c for c in _stored(sample_complaints())}
        for complaint in filled.find():
            assert complaint == by_reference[complaint.reference]

    @pytest.mark.parametrize("name", sorted(SAMPLE_FILTERS))
    def test_find_and_count_with_filter(self, filled: Store, name: str) -> None:
        flt = SAMPLE_FILTERS[name]
        expected = _order(c for c in _stored(sample_complaints()) if flt.matches(c))
        if name in EMPTY_FILTERS:
            assert not expected, "the samples were meant to match nothing here"
        else:
            assert 0 < len(expected) < len(sample_complaints()), "samples do not test this"
        assert [c.reference for c in filled.find(flt)] == expected
        assert filled.count(flt) == len(expected)

    def test_find_limit_and_offset(self, filled: Store) -> None:
        everything = _order(sample_complaints())
        assert [c.reference for c in filled.find(limit=3)] == everything[:3]
        assert [c.reference for c in filled.find(offset=4, limit=3)] == everything[4:7]
        assert [c.reference for c in filled.find(offset=10)] == everything[10:]
        assert list(filled.find(offset=len(everything))) == []
        assert list(filled.find(limit=0)) == []

    def test_find_limit_and_offset_apply_after_the_filter(self, filled: Store) -> None:
        flt = ComplaintFilter(open_only=True)
        matching = _order(c for c in _stored(sample_complaints()) if flt.matches(c))
        got = [c.reference for c in filled.find(flt, offset=1, limit=2)]
        assert got == matching[1:3]

    def test_count_without_filter(self, filled: Store) -> None:
        assert filled.count() == len(sample_complaints())
        assert filled.count(ComplaintFilter()) == len(sample_complaints())

    @pytest.mark.parametrize("key", SAMPLE_GROUP_KEYS)
    def test_count_by(self, filled: Store, key: str) -> None:
        expected = Counter(group_value(c, key) for c in _stored(sample_complaints()))
        assert filled.count_by(key) == dict(expected)

    def test_count_by_month_uses_the_complaints_own_offset(self, filled: Store) -> None:
        # S-05 was received at 01:00 on 1 February in UTC+8 (31 January in UTC).
        only = ComplaintFilter(references=frozenset({"S-05"}))
        assert filled.count_by("month", only) == {"2026-02": 1}

    def test_count_by_with_filter(self, filled: Store) -> None:
        flt = ComplaintFilter(department="logistics")
        expected = Counter(
            group_value(c, "label:severity") for c in _stored(sample_complaints()) if flt.matches(c)
        )
        assert filled.count_by("label:severity", flt) == dict(expected)
        assert None in expected  # the samples include an unlabelled one

    def test_count_by_unknown_key_raises(self, filled: Store) -> None:
        with pytest.raises(ValueError):
            filled.count_by("colour")

    def test_existing(self, filled: Store) -> None:
        asked = (r for r in ["S-01", "NOPE", "S-12", "S-01"])
        assert filled.existing(asked) == {"S-01", "S-12"}
        assert filled.existing([]) == set()

    # --- sorted listings -----------------------------------------------------------------

    @pytest.mark.parametrize("order", SAMPLE_ORDERS, ids=str)
    def test_find_sorted_in_every_order(self, filled: Store, order: SortOrder) -> None:
        expected = _sorted(_stored(sample_complaints()), order)
        got = list(find_sorted(filled, None, order))
        assert [c.reference for c in got] == expected
        by_reference = {c.reference: c for c in _stored(sample_complaints())}
        assert all(c == by_reference[c.reference] for c in got)

    def test_find_sorted_puts_complaints_without_a_deadline_last(self, filled: Store) -> None:
        for descending in (False, True):
            got = [c for c in find_sorted(filled, None, SortOrder("due_at", descending))]
            dues = [c.due_at for c in got]
            assert dues[:3] != [None] * 3 and dues[-1] is None
            known = [d for d in dues if d is not None]
            assert known == sorted(known, reverse=descending)
            assert None not in dues[: len(known)]

    def test_find_sorted_filters_and_pages(self, filled: Store) -> None:
        order = SortOrder("received_at", descending=True)
        flt = ComplaintFilter(open_only=True)
        expected = _sorted((c for c in _stored(sample_complaints()) if flt.matches(c)), order)
        assert len(expected) > 4
        got = [c.reference for c in find_sorted(filled, flt, order, offset=1, limit=3)]
        assert got == expected[1:4]
        assert list(find_sorted(filled, flt, order, limit=0)) == []
        tagged = ComplaintFilter(tags=frozenset({"vip"}))
        assert [c.reference for c in find_sorted(filled, tagged, order)] == ["S-03", "S-01"]

    def test_find_sorted_pages_through_many_complaints(self, store: Store) -> None:
        base = datetime(2026, 5, 1, tzinfo=UTC)
        complaints = [
            make_complaint(
                f"Q-{(i * 7919) % 1100:04d}",
                received_at=(base + timedelta(minutes=i % 89)).astimezone(CHINA if i % 2 else UTC),
                escalation_level=EscalationLevel(i % 4),
            )
            for i in range(1100)
        ]
        store.add_many(iter(complaints))
        for order in (SortOrder("received_at"), SortOrder("escalation_level", False)):
            expected = _sorted(complaints, order)
            assert [c.reference for c in find_sorted(store, None, order)] == expected
            window = find_sorted(store, None, order, offset=480, limit=600)
            assert [c.reference for c in window] == expected[480:1080]

    # --- attachments (for stores that keep them) ------------------------------------------

    @pytest.fixture
    def files(self, store: Store) -> AttachmentStore:
        """The store's attachments, with complaints A-1 and A-2 stored (skips a backend
        that keeps none: attachments are optional)."""
        if not hasattr(store, "attachments"):
            pytest.skip(f"{type(store).__name__} keeps no attachments")
        store.add_many([make_complaint("A-1"), make_complaint("A-2")])
        return attachments_of(store)

    def test_attachments_round_trip_every_byte(self, files: AttachmentStore) -> None:
        content = bytes(range(256)) * 4096 + b"\x00end"  # 1 MB, every byte value, NUL
        stored = files.put(_attachment("A-1", "图片 photo.png", content), content)
        assert stored.name == "图片 photo.png"
        assert files.get("A-1", "图片 photo.png") == _attachment("A-1", "图片 photo.png", content)
        assert files.content("A-1", "图片 photo.png") == content
        assert files.list("A-1") == [stored]
        assert files.list("A-2") == [] and files.list("NOPE") == []

    def test_attachments_keep_the_order_they_were_added(self, files: AttachmentStore) -> None:
        for minute, name in enumerate(["c.txt", "a.txt", "b.txt"]):
            data = name.encode()
            files.put(_attachment("A-1", name, data, minutes=minute), data)
        assert [a.name for a in files.list("A-1")] == ["c.txt", "a.txt", "b.txt"]
        assert list(files.references()) == ["A-1"]

    def test_an_attachment_name_is_taken_once_per_complaint(self, files: AttachmentStore) -> None:
        files.put(_attachment("A-1", "x.txt", b"first"), b"first")
        with pytest.raises(AttachmentExistsError, match=r"x\.txt"):
            files.put(_attachment("A-1", "x.txt", b"second"), b"second")
        assert files.content("A-1", "x.txt") == b"first"
        files.put(_attachment("A-2", "x.txt", b"second"), b"second")  # another complaint's
        assert files.content("A-2", "x.txt") == b"second"

    def test_removing_one_copy_keeps_the_other(self, files: AttachmentStore) -> None:
        # Content-addressed backends keep one copy of equal content: it must outlive one name.
        for reference in ("A-1", "A-2"):
            files.put(_attachment(reference, "same.txt", b"same"), b"same")
        removed = files.remove("A-1", "same.txt")
        assert removed.sha256 == _attachment("A-1", "same.txt", b"same").sha256
        assert files.list("A-1") == []
        assert files.content("A-2", "same.txt") == b"same"
        with pytest.raises(AttachmentNotFound, match=r"same\.txt"):
            files.content("A-1", "same.txt")
        with pytest.raises(AttachmentNotFound):
            files.remove("A-1", "same.txt")
        with pytest.raises(AttachmentNotFound):
            files.get("A-1", "never.txt")

    def test_attachments_persist_across_reopen(
        self, open_store: StoreFactory, files: AttachmentStore
    ) -> None:
        files.put(_attachment("A-1", "kept.pdf", b"%PDF-1.7 kept"), b"%PDF-1.7 kept")
        again = attachments_of(open_store())
        assert [a.name for a in again.list("A-1")] == ["kept.pdf"]
        assert again.content("A-1", "kept.pdf") == b"%PDF-1.7 kept"

    # --- many complaints: paging ---------------------------------------------------------

    def test_find_pages_through_many_complaints(self, store: Store) -> None:
        # More complaints than any sensible page size, many sharing an instant (written with
        # different offsets), so a backend reading in pages must carry ties across the seams.
        base = datetime(2026, 5, 1, tzinfo=UTC)
        complaints = [
            make_complaint(
                f"P-{(i * 7919) % 1234:04d}",
                received_at=(base + timedelta(minutes=i % 97)).astimezone(CHINA if i % 2 else UTC),
                text="多页 page test" if i % 3 else "other",
            )
            for i in range(1234)
        ]
        assert store.add_many(iter(complaints)) == AddResult(added=1234, skipped=())
        everything = _order(complaints)
        assert [c.reference for c in store.find()] == everything
        assert [c.reference for c in store.find(offset=499, limit=503)] == everything[499:1002]
        assert [c.reference for c in store.find(offset=1200)] == everything[1200:]
        flt = ComplaintFilter(text="多页")
        matching = _order(c for c in complaints if flt.matches(c))
        assert [c.reference for c in store.find(flt, offset=10, limit=700)] == matching[10:710]
        assert store.count(flt) == len(matching)
        assert store.count_by("month", flt) == {"2026-05": len(matching)}

    def test_find_keeps_going_while_the_caller_updates(self, store: Store) -> None:
        # The classify-everything pattern: the caller writes back, in batches, complaints it
        # is still iterating over, which then no longer match the filter. Every one must be
        # seen exactly once (a backend paging with OFFSET would skip some).
        store.add_many(make_complaint(f"C-{i:04d}") for i in range(1100))
        flt = ComplaintFilter(unclassified="cause")
        seen: list[str] = []
        batch: list[Complaint] = []
        for complaint in store.find(flt):
            seen.append(complaint.reference)
            batch.append(attrs.evolve(complaint, labels={"cause": Label("cause", "staff", 0.5)}))
            if len(batch) == 100:
                assert not store.update_many(batch).conflicts
                batch = []
        assert not store.update_many(batch).conflicts
        assert sorted(seen) == [f"C-{i:04d}" for i in range(1100)]
        assert store.count(flt) == 0
        assert store.count_by("label:cause") == {"staff": 1100}

    # --- facts (pushed down when the store implements FactsStore) -------------------------

    @pytest.mark.parametrize("name", ["everything", *sorted(SAMPLE_FILTERS)])
    def test_facts_agree_with_facts_of(self, store: Store, name: str) -> None:
        complaints = [*sample_complaints(), *history_complaints()]
        store.add_many(complaints)
        flt = None if name == "everything" else SAMPLE_FILTERS[name]
        got = list(iter_facts(store, flt))
        # The reference definition over what find returns, in the same order...
        assert got == [facts_of(c) for c in store.find(flt)]
        if isinstance(store, FactsStore):
            assert list(store.facts(flt)) == got
        # ...and over the complaints as given, so find cannot hide a shared mistake.
        by_reference = {c.reference: c for c in complaints}
        expected = _order(c for c in complaints if flt is None or flt.matches(c))
        assert [f.reference for f in got] == expected
        assert got == [facts_of(by_reference[reference]) for reference in expected]
        for facts in got:
            assert (
                facts.received_at.utcoffset()
                == by_reference[facts.reference].received_at.utcoffset()
            )
        if flt is None:
            self._check_history_facts({f.reference: f for f in got})

    @pytest.mark.parametrize("name", ["everything", *sorted(SAMPLE_FILTERS)])
    def test_fact_columns_agree_with_the_facts(self, store: Store, name: str) -> None:
        # What a report reads: each field alone, a report's few together, every one in
        # another order; each equal to the facts' own fields (pushed down when the store
        # implements FactColumnsStore, which may compute each field differently).
        store.add_many([*sample_complaints(), *history_complaints()])
        flt = None if name == "everything" else SAMPLE_FILTERS[name]
        facts = list(iter_facts(store, flt))
        for fields in (
            *((field,) for field in FACT_FIELDS),
            ("department", "status", "received_at", "resolved_at", "escalations"),
            ("label:severity", "status", "label:cause", "label:nonesuch", "label:severity"),
            tuple(reversed(FACT_FIELDS)),
        ):
            got = list(iter_fact_columns(store, flt, fields))
            assert got == [
                tuple(
                    f.label(field.removeprefix("label:"))
                    if field.startswith("label:")
                    else getattr(f, field)
                    for field in fields
                )
                for f in facts
            ], fields
            if isinstance(store, FactColumnsStore):
                assert list(store.fact_columns(flt, fields)) == got

    @pytest.mark.parametrize("name", ["everything", *sorted(SAMPLE_FILTERS)])
    def test_label_summaries_agree_with_the_complaints(self, store: Store, name: str) -> None:
        # What the review queue selects from: each complaint's labels without the complaint
        # (pushed down when the store implements LabelSummariesStore).
        complaints = [*sample_complaints(), *history_complaints(), rich_complaint()]
        store.add_many(complaints)
        flt = None if name == "everything" else SAMPLE_FILTERS[name]
        got = list(iter_label_summaries(store, flt))
        assert got == [label_summaries_of(c) for c in store.find(flt)]
        by_reference = {c.reference: c for c in complaints}
        expected = _order(c for c in complaints if flt is None or flt.matches(c))
        assert [reference for reference, _, _ in got] == expected
        assert got == [label_summaries_of(by_reference[reference]) for reference in expected]
        if isinstance(store, LabelSummariesStore):
            assert list(store.label_summaries(flt)) == got
        if flt is None:  # each label's own confidence and classifier, not the defaults
            kinds = {summary[1:] for _, _, found in got for summary in found.values()}
            assert kinds == {(0.9, "rules"), (0.87, "rules"), (1.0, "manual")}

    @staticmethod
    def _check_history_facts(facts: dict[str, ComplaintFacts]) -> None:
        """What :func:`history_complaints` were built to show, spelled out."""
        h1, h2, h3 = facts["H-01"], facts["H-02"], facts["H-03"]
        start = _at("2026-01-10", "08:00")
        assert h1.acknowledged_at == start + timedelta(hours=2)
        assert h1.responded_at == start + timedelta(hours=26)
        assert h1.resolved_at == start + timedelta(hours=60)  # the first after the reopen
        assert (h1.reopened, h1.escalations, h1.paused) == (1, 2, True)
        assert h1.reopened_at == start + timedelta(hours=40)
        assert h1.pauses == ((start + timedelta(hours=5), start + timedelta(hours=7)),)
        assert h1.breached == frozenset({"respond", "resolve"})  # resolve: after the reopen
        assert h1.customer == "C-7" and h1.labels == {"severity": "high", "cause": "logistics"}
        assert [(r.kind, r.amount, r.accepted) for r in h1.remedies] == [
            (RemedyKind.REFUND, 120.5, True),
            (RemedyKind.COUPON, 20.0, False),
        ]
        assert (h1.satisfaction, h1.parent, h1.recomplaint_count) == (4, "S-03", 1)
        assert h2.resolved_at is None and h2.reopened == 1 and h2.customer == "+86 138 0000 0007"
        assert h2.breached == frozenset()  # the reopen restarted the breached resolve clock
        assert h2.reopened_at == datetime(2026, 1, 16, 21, 0, tzinfo=UTC) and not h2.paused
        assert h2.acknowledged_at == datetime(2026, 1, 16, 13, 0, tzinfo=UTC)
        assert h3.acknowledged_at == _at("2026-02-02", "15:30")  # history order, not earliest
        assert h3.breached == frozenset({"acknowledge"}) and h3.escalations == 1
        h3_at = _at("2026-02-02", "09:30")
        assert h3.pauses == ((h3_at + timedelta(hours=10), h3_at + timedelta(hours=14)),)
        assert h3.customer == "h3@example.com" and h3.responded_at is None
        h4 = facts["H-04"]
        assert (h4.acknowledged_at, h4.customer, h4.labels, h4.remedies) == (
            None,
            None,
            {"cause": "staff"},
            (),
        )
        assert facts["H-05"].resolved_at is None and facts["H-05"].responded_at is not None
        h6 = facts["H-06"]
        assert h6.acknowledged_at == h6.responded_at == h6.resolved_at is not None
        assert facts["H-07"].customer == "+86 137 0000 0077"
        assert facts["H-07"].escalations == 2
        assert facts["H-08"].paused and facts["H-08"].responded_at == _at("2026-03-25", "13:00")
        assert facts["H-08"].pauses == ((_at("2026-03-25", "11:30"), None),)  # never resumed
        assert facts["H-08"].resolved_at == _at("2026-03-25", "16:00")
        everything = frozenset({"acknowledge", "respond", "resolve"})
        assert facts["H-09"].untimed == everything and facts["H-09"].reached("resolve") is None
        h10 = facts["H-10"]
        assert h10.untimed == frozenset({"acknowledge"}) and h10.breached == {"respond"}
        assert h10.reached("acknowledge") is None and h10.reached("respond") is not None
        h11 = facts["H-11"]
        assert h11.untimed == frozenset({"acknowledge", "respond"})
        assert h11.reached("resolve") == _at("2026-01-20", "11:00") + timedelta(hours=104)

    def test_clocks_from_facts_are_the_clocks_of_each_complaint(self, store: Store) -> None:
        # The reports judge SLA targets with clocks_of over the store's facts (or only their
        # clock fields, read as fact columns); ``clocks`` and the sweep over the whole
        # complaint. All must give every target the same deadline, pause and outcome, on a
        # calendar that does not know every date (no deadline there).
        complaints = [*sample_complaints(), *history_complaints()]
        store.add_many(complaints)
        calendar = _KnownUntil("conformance", "Asia/Shanghai", last=date(2026, 3, 10))
        policy = SlaPolicy(
            "conformance",
            (
                Target("acknowledge", timedelta(hours=2), "elapsed", "2h"),
                Target("respond", timedelta(hours=8), "hours", "8 working hours"),
                Target("resolve", timedelta(days=3), "days", "3 working days"),
            ),
            calendar="conformance",
            warn_before=timedelta(hours=1),
        )
        facts = {f.reference: f for f in iter_facts(store)}
        # What the sla and kpis reports read: only the clock fields, as fact columns.
        columns = {
            reference: ClockFacts(*values)
            for reference, *values in iter_fact_columns(store, None, ("reference", *CLOCK_FIELDS))
        }
        outcomes: Counter[str] = Counter()
        for now in (_at("2026-01-16", "12:00"), _at("2026-02-20"), _at("2026-06-01")):
            for complaint in store.find():
                expected = compute_clocks(complaint, policy, calendar, now)
                assert clocks_of(facts[complaint.reference], policy, calendar, now) == expected
                assert clocks_of(columns[complaint.reference], policy, calendar, now) == expected
                outcomes.update(clock.outcome for clock in expected.targets)
        assert set(outcomes) == set(OUTCOMES), outcomes  # every verdict was compared

    def test_facts_pages_through_many_complaints(self, store: Store) -> None:
        # More complaints than a backend's page of facts is likely to hold, many sharing an
        # instant (written with different offsets), each with a short history.
        base = datetime(2026, 6, 1, tzinfo=UTC)
        complaints = []
        for i in range(2345):
            received = (base + timedelta(minutes=i % 89)).astimezone(CHINA if i % 2 else UTC)
            steps: list[tuple[float, str, dict[str, Any]]] = [(0, "received", {})]
            if i % 3:
                steps.append((1, "acknowledge", {}))
            if i % 5 == 0:
                steps += [(2, "resolve", {}), (3, "reopen", {}), (4, "close", {})]
            if i % 7 == 0:
                steps.append((5, "sla_breach", {"target": "resolve"}))
            complaints.append(
                make_complaint(
                    f"F-{(i * 7919) % 2345:04d}",
                    received_at=received,
                    text="分页 facts" if i % 4 else "other",
                    status=Status.CLOSED if i % 5 == 0 else Status.ACKNOWLEDGED,
                    labels=dict([_label("severity", "high" if i % 2 else "low")]),
                    history=_events(received, *steps),
                )
            )
        assert store.add_many(complaints).added == len(complaints)
        for flt in (None, ComplaintFilter(text="分页")):
            matching = [c for c in complaints if flt is None or flt.matches(c)]
            by_reference = {c.reference: c for c in matching}
            got = list(iter_facts(store, flt))
            assert [f.reference for f in got] == _order(matching)
            assert got == [facts_of(by_reference[f.reference]) for f in got]
        assert sum(f.reopened for f in got) == sum(
            1 for c in matching if "reopen" in [e.action for e in c.history]
        )

    # --- persistence and concurrent writers ---------------------------------------------

    def test_everything_persists_across_reopen(self, open_store: StoreFactory) -> None:
        first = open_store()
        first.add_many(sample_complaints())
        rich = first.add(rich_complaint())
        updated = first.update(attrs.evolve(first.get("S-04"), status=Status.CLOSED))
        first.close()
        again = open_store()
        assert again.count() == len(sample_complaints()) + 1
        assert again.get(rich.reference) == rich
        assert again.get("S-04") == updated
        assert [c.reference for c in again.find()] == _order([*sample_complaints(), rich])

    def test_a_second_store_sees_the_first_ones_writes(self, open_store: StoreFactory) -> None:
        a, b = open_store(), open_store()
        assert b.count() == 0
        a.add(make_complaint("W-1"))
        assert b.get("W-1").version == 1
        assert b.existing(["W-1"]) == {"W-1"}
        a.update(attrs.evolve(a.get("W-1"), assignee="alice"))
        assert b.get("W-1").assignee == "alice"
        assert b.count(ComplaintFilter(assignee="alice")) == 1

    def test_stale_update_from_a_second_store_conflicts(self, open_store: StoreFactory) -> None:
        a, b = open_store(), open_store()
        a.add(make_complaint("W-2"))
        seen_by_a, seen_by_b = a.get("W-2"), b.get("W-2")
        a_result = a.update(attrs.evolve(seen_by_a, assignee="alice"))
        with pytest.raises(ConflictError) as info:
            b.update(attrs.evolve(seen_by_b, assignee="bob"))
        assert (info.value.expected, info.value.found) == (1, 2)
        assert a.get("W-2") == b.get("W-2") == a_result
        # Re-reading and retrying is how a writer recovers.
        retried = b.update(attrs.evolve(b.get("W-2"), assignee="bob"))
        assert retried.version == 3
        assert a.get("W-2").assignee == "bob"

    def test_second_store_cannot_add_a_reference_the_first_added(
        self, open_store: StoreFactory
    ) -> None:
        a, b = open_store(), open_store()
        b.count()  # b has looked at the store before a writes
        a.add(make_complaint("W-3", text="by a"))
        with pytest.raises(DuplicateComplaintError):
            b.add(make_complaint("W-3", text="by b"))
        result = b.add_many([make_complaint("W-3"), make_complaint("W-4")])
        assert (result.added, result.skipped) == (1, ("W-3",))
        assert a.get("W-3").text == "by a"
        assert a.existing(["W-4"]) == {"W-4"}

    def test_update_many_from_a_second_store_sees_conflicts(self, open_store: StoreFactory) -> None:
        a, b = open_store(), open_store()
        a.add_many([make_complaint("W-5"), make_complaint("W-6")])
        b5, b6 = b.get("W-5"), b.get("W-6")
        a.update(attrs.evolve(a.get("W-6"), assignee="alice"))
        result = b.update_many([attrs.evolve(b5, assignee="bob"), attrs.evolve(b6, assignee="bob")])
        assert result.conflicts == ("W-6",)
        assert [c.reference for c in result.updated] == ["W-5"]
        assert a.get("W-6").assignee == "alice"
        assert a.get("W-5").assignee == "bob"

    # --- restore_many (optional: RestorableStore) ---------------------------------------

    @pytest.fixture
    def restorable(self, store: Store) -> RestorableStore:
        """The store, if it implements the optional ``restore_many``; else the test skips."""
        if not isinstance(store, RestorableStore):
            pytest.skip(f"{type(store).__name__} has no restore_many (optional)")
        return store

    def test_restore_many_keeps_versions_and_every_field(self, restorable: Store) -> None:
        assert isinstance(restorable, RestorableStore)
        rich = attrs.evolve(rich_complaint(), version=5)
        plain = make_complaint("R-2", version=2)
        result = restorable.restore_many(c for c in (rich, plain))  # a one-shot generator
        assert result == AddResult(added=2, skipped=())
        got = restorable.get(rich.reference)
        assert got == rich and got.version == 5
        assert got.received_at.utcoffset() == timedelta(hours=8)
        assert [e.at.utcoffset() for e in got.history] == [e.at.utcoffset() for e in rich.history]
        assert restorable.get("R-2").version == 2
        # The restored version is the one the next update must be based on.
        with pytest.raises(ConflictError):
            restorable.update(attrs.evolve(got, version=1, assignee="x"))
        assert restorable.update(attrs.evolve(got, assignee="x")).version == 6

    def test_restore_many_skips_stored_and_repeated_references(self, restorable: Store) -> None:
        assert isinstance(restorable, RestorableStore)
        restorable.add(make_complaint("R-1", text="already here"))
        result = restorable.restore_many(
            [
                make_complaint("R-1", text="again", version=4),
                make_complaint("R-3", text="first copy", version=3),
                make_complaint("R-3", text="second copy", version=9),
            ]
        )
        assert result == AddResult(added=1, skipped=("R-1", "R-3"))
        assert restorable.get("R-1").text == "already here"
        assert restorable.get("R-1").version == 1
        assert (restorable.get("R-3").text, restorable.get("R-3").version) == ("first copy", 3)
        assert restorable.restore_many([]) == AddResult(added=0, skipped=())

    # --- find_data, restore_data_many (optional: DataReadableStore, DataRestorableStore) ---

    def test_find_data_is_the_data_of_what_find_yields(self, store: Store) -> None:
        if not isinstance(store, DataReadableStore):
            pytest.skip(f"{type(store).__name__} has no find_data (optional)")
        store.add_many([rich_complaint(), *sample_complaints()])
        changed = store.get("CK-RICH-1")
        store.update(attrs.evolve(changed, satisfaction=None, remedies=(), due_at=None))
        for flt in (None, ComplaintFilter(channels=frozenset({Channel.WECHAT}))):
            expected = [complaint_to_data(c) for c in store.find(flt)]
            found = list(store.find_data(flt))
            assert found == expected
            # equal as JSON too (1 == 1.0 in Python, not in the JSON a migration compares)
            assert [_sorted_json(d) for d in found] == [_sorted_json(d) for d in expected]
        assert len(expected) >= 2

    def test_find_stored_data_of_what_this_store_wrote_is_its_data(self, store: Store) -> None:
        # A verification takes a stored form matching the other side as canonical: what the
        # store writes now (added, updated, restored) must be stored in its canonical form.
        if not isinstance(store, StoredDataReadableStore):
            pytest.skip(f"{type(store).__name__} has no find_stored_data (optional)")
        store.add_many([rich_complaint(), *sample_complaints()])
        changed = store.get("CK-RICH-1")
        store.update(attrs.evolve(changed, satisfaction=None, remedies=(), due_at=None))
        if isinstance(store, RestorableStore):
            store.restore_many([make_complaint("R-9", version=4)])
        for flt in (None, ComplaintFilter(channels=frozenset({Channel.WECHAT}))):
            expected = [complaint_to_data(c) for c in store.find(flt)]
            found = [_sorted_json(d) for d in store.find_stored_data(flt)]
            assert found == [_sorted_json(d) for d in expected]
        assert len(expected) >= 2

    def test_restore_data_many_keeps_versions_and_every_field(self, store: Store) -> None:
        if not isinstance(store, DataRestorableStore):
            pytest.skip(f"{type(store).__name__} has no restore_data_many (optional)")
        rich = attrs.evolve(rich_complaint(), version=5)
        store.add(make_complaint("R-1", text="already here"))
        result = store.restore_data_many(
            complaint_to_data(c)
            for c in (rich, make_complaint("R-1", version=4), make_complaint("R-2", version=2))
        )
        assert result == AddResult(added=2, skipped=("R-1",))
        got = store.get(rich.reference)
        assert got == rich and got.version == 5
        assert got.received_at.utcoffset() == timedelta(hours=8)
        assert _sorted_json(complaint_to_data(got)) == _sorted_json(complaint_to_data(rich))
        assert (store.get("R-1").text, store.get("R-1").version) == ("already here", 1)
        assert store.get("R-2").version == 2
        assert store.update(attrs.evolve(got, assignee="x")).version == 6


@attrs.frozen
class _KnownUntil(AlwaysOpen):
    """A 24×7 calendar that knows no day after ``last`` (as a holiday table that ends), so
    that some deadlines cannot be computed."""

    last: date = date.max

    def _known(self, *moments: datetime) -> None:
        for moment in moments:
            day = moment.astimezone(ZoneInfo(self.timezone)).date()
            if day > self.last:
                raise CalendarRangeError(self.name, day, 2000, self.last.year)

    def is_working_day(self, day: date) -> bool:
        if day > self.last:
            raise CalendarRangeError(self.name, day, 2000, self.last.year)
        return True

    def add(self, start: datetime, amount: timedelta, *, unit: str = "hours") -> datetime:
        end = super().add(start, amount, unit=unit)
        self._known(start, end)
        return end

    def between(self, start: datetime, end: datetime) -> timedelta:
        self._known(start, end)
        return super().between(start, end)
