"""The SQL store's set-based facts against the reference definition, on histories whose order
decides (imports before and after reopenings, breaches of targets other than the three, pauses
given out of order) and with a filter, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import attrs
import pytest

from complaintkit import Config, Desk, ReportContext, make_host
from complaintkit.facts import FACT_FIELDS, facts_of, iter_fact_columns
from complaintkit.model import Channel, Complaint, Event, Label, Remedy, RemedyKind, Status
from complaintkit.sla import OUTCOMES, TARGETS
from complaintkit.storage import ComplaintFilter, Store
from complaintkit_sql.store import SQLStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _complaint(
    reference: str,
    steps: list[tuple[float, str, dict[str, object]]],
    *,
    status: Status = Status.CLOSED,
    channel: Channel = Channel.WEB,
    offset: int = 8,
) -> Complaint:
    zone = timezone(timedelta(hours=offset))
    received = START.astimezone(zone)
    return Complaint(
        reference=reference,
        received_at=received,
        text=f"投诉 {reference}",
        channel=channel,
        status=status,
        labels={
            "cause": Label("cause", "price", 0.9, ("价格",), "keywords"),
            "severity": Label("severity", "general", 0.5, (), "keywords"),
        },
        remedies=(Remedy(RemedyKind.REFUND, amount=12.5, currency="CNY", accepted=True),),
        history=tuple(
            Event(at=received + timedelta(hours=h), actor="agent", action=a, data=d)
            for h, a, d in steps
        ),
    )


HISTORIES = [
    # an import implying resolve before the reopening: forgotten by it; after it: untimed
    _complaint(
        "F-01",
        [
            (0, "import", {"from": "received", "to": "closed"}),
            (1, "reopen", {}),
            (2, "import", {"from": "reopened", "to": "resolved"}),
            (3, "resolve", {}),
        ],
    ),
    # a resolution after the reopening met the target before the second import
    _complaint(
        "F-02",
        [
            (0, "acknowledge", {}),
            (1, "reopen", {}),
            (2, "close", {}),
            (3, "import", {"from": "closed", "to": "closed"}),
        ],
    ),
    # breaches of a target that is not one of the three, with a string and with a number
    _complaint(
        "F-03",
        [
            (1, "sla_breach", {"target": "callback"}),
            (2, "sla_breach", {"target": 7}),
            (3, "sla_breach", {"target": None}),
            (4, "sla_breach", {}),
            (5, "sla_breach", {"target": "resolve"}),
            (6, "reopen", {}),
            (7, "sla_breach", {"target": "acknowledge"}),
        ],
        status=Status.REOPENED,
    ),
    # pauses: one never resumed, a resume while running, a pause while paused
    _complaint(
        "F-04",
        [
            (0.5, "resume", {}),
            (1, "pause", {}),
            (2, "pause", {}),
            (3, "resume", {}),
            (4, "escalate", {}),
            (5, "escalate", {}),
            (6, "pause", {}),
        ],
        status=Status.INVESTIGATING,
        offset=-5,
    ),
    # an import of a state that implies nothing, and of one that is no state at all
    _complaint(
        "F-05",
        [
            (0, "import", {"from": "x", "to": "received"}),
            (1, "import", {"from": "x", "to": "nonsense"}),
            (2, "import", {"from": "x", "to": 3}),
        ],
        status=Status.RECEIVED,
        channel=Channel.PHONE,
        offset=0,
    ),
    # no history at all
    _complaint("F-06", [], status=Status.RECEIVED, channel=Channel.PHONE),
]


def test_facts_equal_the_reference_definition(sql_url: str) -> None:
    store = SQLStore(sql_url)
    try:
        store.add_many(HISTORIES)
        by_reference = {c.reference: c for c in store.find()}
        expected = [facts_of(by_reference[c.reference]) for c in HISTORIES]
        got = {f.reference: f for f in store.facts()}
        assert [got[c.reference] for c in HISTORIES] == expected
        # the cases this file is about came out as the definition says
        assert got["F-01"].untimed == frozenset({"acknowledge", "respond", "resolve"})
        assert got["F-02"].untimed == frozenset() and got["F-02"].resolved_at is not None
        assert got["F-03"].breached == frozenset({"callback", "acknowledge"})
        assert got["F-04"].pauses[-1][1] is None and len(got["F-04"].pauses) == 2
        assert got["F-04"].escalations == 2
        assert got["F-04"].received_at.utcoffset() == timedelta(hours=-5)
        assert got["F-06"].labels == {"cause": "price", "severity": "general"}
        web = list(store.facts(ComplaintFilter(channels=frozenset({Channel.WEB}))))
        assert [f.reference for f in web] == [
            c.reference for c in store.find(ComplaintFilter(channels=frozenset({Channel.WEB})))
        ]
        assert [f.reference for f in web] == ["F-01", "F-02", "F-03", "F-04"]
        assert web == [got[f.reference] for f in web]
        assert got["F-05"].received_at == START.astimezone(UTC)
    finally:
        store.close()


def test_fact_columns_equal_the_facts_field_by_field(sql_url: str) -> None:
    """Each field alone (its own trimmed statement), a report's few together and all of them
    in another order: the same values as the facts, with and without a filter."""
    store = SQLStore(sql_url)
    try:
        store.add_many(HISTORIES)
        web = ComplaintFilter(channels=frozenset({Channel.WEB}))
        for flt in (None, web):
            facts = list(store.facts(flt))
            assert len(facts) == (4 if flt else len(HISTORIES))
            for fields in (
                *((name,) for name in FACT_FIELDS),
                ("department", "status", "resolved_at", "escalations", "received_at"),
                ("label:severity", "status", "label:cause", "label:none", "label:severity"),
                tuple(reversed(FACT_FIELDS)),
            ):
                expected = [
                    tuple(
                        f.label(name[6:]) if name.startswith("label:") else getattr(f, name)
                        for name in fields
                    )
                    for f in facts
                ]
                assert list(store.fact_columns(flt, fields)) == expected, fields
                assert list(iter_fact_columns(store, flt, fields)) == expected, fields
        # the figures that decide: a breach of another target, pauses, a resolution after
        # a reopening, an open complaint's resolution left out
        got = dict(store.fact_columns(None, ("reference", "breached")))
        assert got["F-03"] == frozenset({"callback", "acknowledge"})
        resolved = dict(store.fact_columns(None, ("reference", "resolved_at")))
        assert resolved["F-02"] is not None and resolved["F-04"] is None
    finally:
        store.close()


def test_iter_fact_columns_refuses_an_unknown_field(sql_url: str) -> None:
    store = SQLStore(sql_url)
    try:
        with pytest.raises(ValueError, match="'resolution'"):
            iter_fact_columns(store, None, ("status", "resolution"))
        with pytest.raises(ValueError, match="'label:'"):
            iter_fact_columns(store, None, ("label:",))
    finally:
        store.close()


class _FindOnly:
    """The store read as a backend without any push-down: facts from ``find``."""

    def __init__(self, store: SQLStore) -> None:
        self._store = store

    def find(
        self, flt: ComplaintFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Complaint]:
        return self._store.find(flt, limit=limit, offset=offset)

    def count(self, flt: ComplaintFilter | None = None) -> int:
        return self._store.count(flt)

    def count_by(self, key: str, flt: ComplaintFilter | None = None) -> dict[str | None, int]:
        return self._store.count_by(key, flt)


def test_reports_read_from_fact_columns_equal_the_reports_from_find(sql_url: str) -> None:
    """Without SLA policies, sla and kpis read fact columns too: each report over the SQL
    store's columns equals the same report over facts_of of every complaint found."""
    host = make_host(Config(store="tinydb://unused.json"), env={})
    context = ReportContext(host.schemes(), now=START + timedelta(days=30))
    store = SQLStore(sql_url)
    try:
        store.add_many(HISTORIES)
        plain = cast(Store, _FindOnly(store))
        for name, options in (
            ("sla", {}),
            ("kpis", {}),
            ("trends", {"by": "channel"}),
            ("trends", {"by": "severity"}),
            ("remedies", {}),
            ("summary", {"period": "week"}),
        ):
            reporter = host.reporter(name)
            given = attrs.evolve(context, options=options)
            for flt in (ComplaintFilter(), ComplaintFilter(channels=frozenset({Channel.WEB}))):
                pushed = reporter.run(store, flt, given)
                assert pushed == reporter.run(plain, flt, given), (name, options)
        kpis = host.reporter("kpis").run(store, ComplaintFilter(), context)
        assert kpis.figure("complaints") == len(HISTORIES)
        assert kpis.figure("escalated") == 1  # F-04
        assert kpis.figure("resolved") == 2  # F-01 and F-02, each after its reopening
    finally:
        store.close()


#: SLA policies for judging HISTORIES: working time on the China calendar, and elapsed time.
SLA_CONFIG = {
    "timezone": "Asia/Shanghai",
    "sla": {
        "default": "standard",
        "calendar": "cn",
        "policies": {
            "urgent": {"acknowledge": "1h", "respond": "1h", "resolve": "8 working hours"},
            "standard": {"acknowledge": "4 working hours", "resolve": "3 working days"},
        },
    },
}


def test_sla_reports_judge_from_fact_columns_as_from_whole_facts(sql_url: str) -> None:
    """With SLA policies, sla and kpis compute each complaint's clocks from its clock fact
    columns (computed in the database): the reports equal the same reports over facts_of of
    every complaint found, at instants where the targets are met, missed and still open."""
    host = make_host(Config(store="tinydb://unused.json", data=SLA_CONFIG), env={})
    # "retired": a policy no longer configured (no target judged)
    policies = ["urgent", "urgent", "urgent", "standard", "retired", None]
    store = SQLStore(sql_url)
    try:
        store.add_many(
            attrs.evolve(c, sla_policy=policy)
            for c, policy in zip(HISTORIES, policies, strict=True)
        )
        plain = cast(Store, _FindOnly(store))
        desk = Desk(host, store, actor="test")
        outcomes: set[str] = set()
        for now in (
            START + timedelta(minutes=30),
            START + timedelta(hours=5),
            START + timedelta(days=9),
        ):
            context = desk.report_context(now=now)
            for name in ("sla", "kpis"):
                reporter = host.reporter(name)
                for flt in (ComplaintFilter(), ComplaintFilter(channels=frozenset({Channel.WEB}))):
                    pushed = reporter.run(store, flt, context)
                    assert pushed == reporter.run(plain, flt, context), (name, now)
            # ...and the counts are those of ``complaintkit clocks`` over each whole complaint
            expected: Counter[tuple[str, str]] = Counter()
            for c in store.find():
                # the reports judge by the stored policy only (None, retired: nothing judged)
                clocks = desk.clocks(c, now=now) if c.sla_policy in ("urgent", "standard") else None
                if clocks is not None:
                    expected.update((t.target, t.outcome) for t in clocks.targets)
            sla = host.reporter("sla").run(store, ComplaintFilter(), context)
            got = Counter(
                {
                    (target, outcome): row[outcome]
                    for target, row in zip(TARGETS, sla.table("targets").as_dicts(), strict=True)
                    for outcome in OUTCOMES
                    if row[outcome]
                }
            )
            assert got == expected, now
            outcomes.update(outcome for _, outcome in expected)
        assert {"met", "missed", "open_within", "open_past_due", "untimed"} <= outcomes
    finally:
        store.close()
