"""The 8D report over real complaints (tweets to US airlines): counts, customers, remedies, causes,
team and status in D0–D8 agree with an independent pandas computation over the same complaints,
in English and in Chinese; what the store cannot know is left to the team, plainly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from complaintkit import Config, ConfigError, Desk, RemedyKind, make_host
from complaintkit.reporting import Report, ReportContext
from complaintkit.storage import ComplaintFilter
from complaintkit_importing import read_complaints
from conftest import require_dataset
from rendering_support import HANDLERS, handle

NOW = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)
AIRLINE = "United"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """1,500 real tweets (the Twitter handle as customer id), some handled with remedies."""
    path = require_dataset("twitter_airline_sentiment/tweets.csv")
    target = tmp_path_factory.mktemp("tweets") / "tweets.json"
    host = make_host(Config(store=f"tinydb://{target}", timezone="UTC"), env={})
    desk = Desk(host, host.open_store(), actor="tester", clock=lambda: NOW)
    with read_complaints(path, tz=UTC, on_reject=lambda row: None) as reader:
        desk.intake_many(itertools.islice(reader, 1500))  # handle = customer id (the preset)
    united = [c.reference for c in desk.find(ComplaintFilter(product=AIRLINE))]
    assert len(united) > 200
    handle(desk, united[:120], apologies=True, withdrawals=True)
    return desk


def _frame(desk: Desk, flt: ComplaintFilter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complaints and their remedies as data frames, from whole complaints."""
    rows = []
    remedies = []
    for c in desk.find(flt):
        who = c.complainant
        rows.append(
            {
                "reference": c.reference,
                "customer": who.customer_id or who.phone or who.email,
                "cause": c.label("cause"),
                "department": c.department,
                "assignee": c.assignee,
                "status": c.status.value,
                "received": c.received_at,
            }
        )
        for r in c.remedies:
            remedies.append(
                {"kind": r.kind.value, "amount": r.amount or 0.0, "accepted": r.accepted}
            )
    return pd.DataFrame(rows), pd.DataFrame(remedies)


def _run(desk: Desk, flt: ComplaintFilter, lang: str, **options: str) -> Report:
    context = ReportContext(desk.host.schemes(), lang, NOW, desk.host.config, options)
    return desk.host.reporter("8d").run(desk.store, flt, context)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_8d_report_agrees_with_pandas(desk: Desk, lang: str) -> None:
    flt = ComplaintFilter(product=AIRLINE)
    frame, remedies = _frame(desk, flt)
    report = _run(desk, flt, lang, title="United baggage", owner="Zhang Wei")
    assert [s.key for s in report.sections] == [f"D{i}" for i in range(9)]
    assert report.names.en == "8D report: United baggage"
    assert all(
        s.names.en.startswith(s.key) and s.names.zh.startswith(s.key) for s in report.sections
    )

    customers = frame.customer.dropna().nunique()
    assert report.figure("complaints") == len(frame)
    assert report.figure("affected customers") == customers
    assert report.figure("first received") == frame.received.min().date().isoformat()
    open_count = int((~frame.status.isin(["closed", "withdrawn", "rejected", "resolved"])).sum())
    assert report.figure("still open") == open_count

    d2 = report.sections[2]
    if lang == "en":
        assert (
            f"{len(frame):,} complaints from {customers:,} distinct customers" in d2.paragraphs[0]
        )
    else:
        assert f"共 {len(frame):,} 件投诉，涉及 {customers:,} 位不同客户" in d2.paragraphs[0]
    examples = [line for p in d2.paragraphs for line in p.splitlines() if line.startswith("- ")]
    assert len(examples) == 5 and all(
        line[2:].split(":")[0] in set(frame.reference) for line in examples
    )

    # D3: remedies by kind, counted and summed independently.
    table = {row["kind"]: row for row in report.table("remedies").as_dicts()}
    grouped = remedies.groupby("kind").agg(
        offered=("kind", "size"), accepted=("accepted", "sum"), amount=("amount", "sum")
    )
    accepted_amount = remedies[remedies.accepted].groupby("kind").amount.sum()
    assert len(table) == len(grouped) == 3
    from complaintkit import name_of

    for kind, row in grouped.iterrows():
        shown = table[name_of(RemedyKind(str(kind)), lang)]
        assert shown["offered"] == row.offered and shown["accepted"] == row.accepted
        assert shown["amount"] == pytest.approx(row.amount)
        assert shown["accepted_amount"] == pytest.approx(accepted_amount.get(kind, 0.0))
    with_remedy = len({r for r in frame.reference}) and sum(1 for c in desk.find(flt) if c.remedies)
    assert str(with_remedy) in report.sections[3].paragraphs[0]

    # D4: the cause Pareto.
    causes = report.table("causes")
    expected = frame.cause.value_counts()
    labelled = causes.values("count")[: len(expected)]
    assert labelled == sorted(expected.tolist(), reverse=True)
    assert causes.values("cumulative")[-1] == pytest.approx(1.0)
    assert causes.chart is not None and causes.chart.kind == "pareto"

    # D1: departments and handlers.
    departments = {r["department"]: r["count"] for r in report.table("departments").as_dicts()}
    for name, n in frame.department.value_counts().items():
        assert departments[name] == n
    handlers = {r["handler"]: r["count"] for r in report.table("handlers").as_dicts()}
    assert {h: handlers[h] for h in HANDLERS} == frame.assignee.value_counts().to_dict()

    # D6: status.
    status = report.table("status").values("count")
    assert sorted(status) == sorted(frame.status.value_counts().tolist())

    # What only the team knows is asked for, in the report's language.
    todo = "To be completed by the team" if lang == "en" else "待小组填写"
    for key in ("D0", "D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"):
        section = next(s for s in report.sections if s.key == key)
        assert any(todo in p for p in section.paragraphs), key
    d1 = report.sections[1].paragraphs[0]
    assert "Zhang Wei" in d1
    if lang == "zh":
        assert "根本原因" in report.sections[4].paragraphs[2]
        assert not any("complaints" in p for s in report.sections for p in s.paragraphs)


@pytest.mark.slow
def test_8d_of_nothing_and_unknown_options(desk: Desk) -> None:
    empty = _run(desk, ComplaintFilter(product="no such airline"), "en")
    assert empty.figure("complaints") == 0 and empty.notes == ("No complaint matches the filter.",)
    assert empty.table("remedies").rows == ()
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) ownr"):
        _run(desk, ComplaintFilter(), "en", ownr="x")


def test_8d_is_listed(tmp_path: Path) -> None:
    host = make_host(Config(store=f"tinydb://{tmp_path / 'c.json'}"), env={})
    reporter: Any = host.reporter("8d")
    assert reporter.names.zh == "8D 报告"
    assert host.reporter("early-warning").names.zh == "投诉预警"
