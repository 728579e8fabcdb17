"""The sla, pareto, trends, kpis, remedies and summary reports over real complaints (tweets to
US airlines) handled through a desk with a controlled clock — acknowledged, assigned, answered,
resolved, closed with a score, reopened, paused, given remedies, swept for SLA breaches — agree
with an independent pandas computation from the stored complaints and their histories (never
from the facts the reporters read), on TinyDB, SQLite and, when their servers answer,
PostgreSQL and MariaDB. Also: report options are checked before a report runs, on the desk and
on the command line.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
import shlex
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit import Config, ConfigError, Desk, RemedyKind, make_host, name_of
from complaintkit.reporting import Report, Table
from complaintkit.storage import ComplaintFilter, Store
from complaintkit_cli.main import cli
from complaintkit_importing import ColumnMapping, read_complaints
from conftest import REPO, require_dataset, require_service
from process_support import Clock

#: The report is made 25 minutes after the last tweet of the sample.
NOW = datetime(2015, 2, 24, 20, 0, tzinfo=UTC)
ROWS = 3000
DEPARTMENTS = ("customer_service", "baggage", "flight_ops", "refunds")
HANDLERS = ("li.na", "wang.qiang", "zhao.min", "chen.jie", "liu.yang", "sun.li")
HOURS = {
    "urgent": {"acknowledge": 1, "respond": 4, "resolve": 24},
    "standard": {"acknowledge": 4, "respond": 24, "resolve": 72},
}
CONFIG: dict[str, Any] = {
    "sla": {
        "default": "standard",
        "calendar": "24x7",
        "policies": {
            "urgent": {
                "match": {"labels": ["severity=serious"]},
                **{t: f"{h}h" for t, h in HOURS["urgent"].items()},
            },
            "standard": {t: f"{h}h" for t, h in HOURS["standard"].items()},
        },
    },
    "escalation": {"escalate_on": ["respond", "resolve"]},
}
TARGETS = ("acknowledge", "respond", "resolve")
# The spec's definitions, restated: which history actions meet each target.
STOPS = {"resolve", "close", "withdraw", "reject"}
MEETS = {
    "acknowledge": STOPS
    | {"acknowledge", "assess", "investigate", "respond", "propose", "accept", "implement"},
    "respond": STOPS | {"respond", "propose"},
    "resolve": STOPS,
}
OPEN = {
    "received",
    "acknowledged",
    "assessed",
    "investigating",
    "solution_proposed",
    "solution_accepted",
    "implementing",
    "reopened",
}


def _config(url: str) -> Config:
    return Config(store=url, data=CONFIG, timezone="UTC")


def _live(desk: Desk, clock: Clock) -> None:
    """Import real tweets and handle them as a desk would, hour by hour."""
    path = require_dataset("twitter_airline_sentiment/tweets.csv")
    # Every tweet, as a new complaint handled here (the preset's history and filter are off).
    mapping = attrs.evolve(ColumnMapping.preset("airline-tweets"), history=False, filters=())
    with read_complaints(path, mapping=mapping, tz=UTC, on_reject=lambda row: None) as reader:
        found = list(itertools.islice(reader, ROWS))
    clock.now = NOW
    desk.intake_many(found)
    stored = sorted(desk.store.find(), key=lambda c: c.reference)
    handled = [c for c in stored if c.received_at < NOW - timedelta(days=4)][:700]
    assert len(handled) == 700
    for i, c in enumerate(handled):
        ref, rng = c.reference, random.Random(i)

        def at(hours: float, c: Any = c) -> None:
            clock.now = c.received_at + timedelta(hours=hours)

        t = rng.uniform(0.1, 7.0)
        at(t)
        desk.transition(ref, "acknowledge")
        desk.assign(ref, department=DEPARTMENTS[i % 4], assignee=HANDLERS[i % 6])
        if i % 10 == 9:
            continue  # acknowledged, then forgotten
        if i % 17 == 0:
            at(t + 0.5)
            desk.pause(ref, reason="waiting for the booking number")
            at(t + 3)
            desk.resume(ref)
            t += 3
        t += rng.uniform(0.5, 30.0)
        at(t)
        if i % 23 == 0:
            desk.transition(ref, "withdraw", reason="sorted out on the phone")
            continue
        if i % 3 == 0:
            desk.respond(ref, "We are looking into it")
            t += rng.uniform(0.5, 10.0)
            at(t)
        desk.transition(ref, "assess")
        desk.transition(ref, "investigate")
        desk.transition(ref, "propose", solution="Refund of the fee")
        if i % 7 == 0:
            desk.offer_remedy(ref, RemedyKind.REFUND, amount=20.0 + i % 50, currency="CNY")
            if i % 14 == 0:
                desk.accept_remedy(ref)
        if i % 11 == 0:
            desk.offer_remedy(ref, RemedyKind.COUPON, amount=10.0, currency="USD")
            desk.accept_remedy(ref)
        if i % 13 == 0:
            desk.offer_remedy(ref, RemedyKind.APOLOGY)
        if i % 19 == 0:
            desk.escalate(ref, reason="the customer asked for a manager")
        if i % 10 == 8:
            continue  # waiting for the customer's answer to the proposal
        t += rng.uniform(1.0, 40.0)
        at(t)
        desk.transition(ref, "accept")
        desk.transition(ref, "implement")
        desk.transition(ref, "resolve")
        if i % 10 == 7:
            continue  # resolved, not yet closed
        at(t + 1)
        desk.transition(ref, "close", satisfaction=1 + rng.randrange(5))
        if i % 15 == 0:
            at(t + 2)
            desk.transition(ref, "reopen", reason="the refund never arrived")  # a re-complaint
            if i % 30 == 0:
                at(t + 6)
                for action in ("assess", "investigate"):
                    desk.transition(ref, action)
                desk.transition(ref, "propose", solution="Refund again")
                for action in ("accept", "implement", "resolve"):
                    desk.transition(ref, action)
                desk.transition(ref, "close", satisfaction=1 + i % 5)
    clock.now = NOW
    result = desk.sweep(now=NOW)
    assert result.breaches > 100 and result.escalations > 50


def _server(admin: str, what: str) -> Iterator[str]:
    """A throw-away database on a local server (skipped when the server does not answer)."""
    import sqlalchemy as sa

    from complaintkit_sql.store import engine_url

    require_service(admin)
    name = f"ck_rep_{secrets.token_hex(5)}"
    engine = sa.create_engine(engine_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            force = " WITH (FORCE)" if engine.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        engine.dispose()


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The handled complaints on SQLite, where the desk lived them."""
    target = tmp_path_factory.mktemp("reports") / "lived.db"
    clock = Clock(NOW)
    host = make_host(_config(f"sqlite:///{target}"), env={})
    store = host.open_store()
    desk = Desk(host, store, actor="tester", clock=clock)
    _live(desk, clock)
    yield desk
    store.close()


@pytest.fixture(scope="module", params=["sqlite", "tinydb", "postgresql", "mysql"])
def desk(
    request: pytest.FixtureRequest, lived: Desk, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """The same complaints (with their histories) on each backend."""
    if request.param == "sqlite":
        yield lived
        return
    servers = {
        "postgresql": ("postgresql://postgres@127.0.0.1:5432/test", "PostgreSQL"),
        "mysql": ("mysql://root@127.0.0.1:3306/test", "MariaDB"),
    }
    if request.param == "tinydb":
        urls: Iterator[str] = iter([f"tinydb://{tmp_path_factory.mktemp('tdb') / 'c.json'}"])
    else:
        urls = _server(*servers[request.param])
    url = next(urls)
    host = make_host(_config(url), env={})
    store = host.open_store()
    store.add_many(lived.store.find())
    try:
        yield Desk(host, store, actor="tester", clock=lambda: NOW)
    finally:
        store.close()
        next(urls, None)


# --- the independent computation ------------------------------------------------------------


def _frame(store: Store) -> pd.DataFrame:
    """One row per complaint, from whole complaints and their histories."""
    rows = []
    for c in store.find():
        history = c.history

        def first(actions: set[str], events: Any = history) -> datetime | None:
            return next((e.at for e in events if e.action in actions), None)

        reopens = [i for i, e in enumerate(history) if e.action == "reopen"]
        after = history[reopens[-1] + 1 :] if reopens else history
        status = c.status.value
        pauses: list[tuple[datetime, datetime | None]] = []
        for e in history:  # a pause while paused, a resume while running change nothing
            if e.action == "pause" and (not pauses or pauses[-1][1] is not None):
                pauses.append((e.at, None))
            elif e.action == "resume" and pauses and pauses[-1][1] is None:
                pauses[-1] = (pauses[-1][0], e.at)
        breaches = [
            (i, e.data["target"]) for i, e in enumerate(history) if e.action == "sla_breach"
        ]
        rows.append(
            {
                "reference": c.reference,
                "received": c.received_at,
                "status": status,
                "channel": c.channel.value,
                "department": c.department,
                "assignee": c.assignee,
                "product": c.product,
                "policy": c.sla_policy,
                "cause": c.label("cause"),
                "severity": c.label("severity"),
                "satisfaction": c.satisfaction,
                "repeat": c.parent is not None or c.recomplaint_count > 0,
                "escalated": any(e.action == "escalate" for e in history),
                "pauses": pauses,
                "reopened_at": history[reopens[-1]].at if reopens else None,
                # the breaches of each clock: the resolve clock restarts at a reopening
                "breached": {
                    t for i, t in breaches if t != "resolve" or not reopens or i > reopens[-1]
                },
                "acknowledge": first(MEETS["acknowledge"]),
                "respond": first(MEETS["respond"]),
                "resolve": None if status in OPEN else first(STOPS, after),
                "remedies": c.remedies,
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("received", "reopened_at", *TARGETS):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _deadline(
    start: datetime, hours: int, pauses: list[Any], reached: datetime | None
) -> datetime | None:
    """The spec's deadline on the 24x7 calendar: ``hours`` after ``start``, moved by the time
    paused before it was due (and before the target was reached); None while paused."""
    deadline = start + timedelta(hours=hours)
    for begin, end in pauses:
        if end is not None and end <= start:
            continue
        begin = max(begin, start)
        if begin >= deadline or (reached is not None and begin >= reached):
            break
        end = end if end is not None else reached
        if end is None:
            return None  # paused now: nothing is due
        deadline += max(end - begin, timedelta(0))
    return deadline


def _targets(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (complaint, target its policy sets) with the target's outcome."""
    rows = []
    for c in frame.itertuples():
        for target in TARGETS:
            hours = HOURS.get(c.policy, {}).get(target)
            if hours is None:
                continue
            reached = None if pd.isna(getattr(c, target)) else getattr(c, target).to_pydatetime()
            restarted = target == "resolve" and not pd.isna(c.reopened_at)
            start = (c.reopened_at if restarted else c.received).to_pydatetime()
            deadline = _deadline(start, hours, c.pauses, reached)
            breached = target in c.breached
            if reached is not None:
                late = breached or (deadline is not None and reached > deadline)
                outcome = "missed" if late else "met"
            elif breached or (deadline is not None and deadline <= NOW):
                outcome = "open_past_due"
            else:
                outcome = "open_within"
            rows.append(
                {
                    "reference": c.reference,
                    "target": target,
                    "outcome": outcome,
                    "policy": c.policy,
                    "department": c.department,
                    "assignee": c.assignee,
                }
            )
    return pd.DataFrame(rows)


def _seconds(frame: pd.DataFrame, target: str) -> pd.Series:
    return (frame[target] - frame["received"]).dt.total_seconds()


def _q(series: pd.Series, q: float) -> float | None:
    series = series.dropna()
    return None if series.empty else float(series.quantile(q))


def _close(got: Any, expected: Any, tol: float = 1e-4) -> bool:
    if expected is None or (isinstance(expected, float) and pd.isna(expected)):
        return got is None
    return got is not None and abs(float(got) - float(expected)) <= tol


def _rows(table: Table, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in table.as_dicts()}


def _run(desk: Desk, name: str, **options: str) -> Report:
    return desk.report(name, options=options, now=NOW)


# --- the reports ----------------------------------------------------------------------------


@pytest.mark.slow
def test_sla_report_agrees_with_pandas(desk: Desk) -> None:
    frame = _frame(desk.store)
    targets = _targets(frame)
    report = _run(desk, "sla")
    assert report.figure("complaints") == len(frame) == ROWS
    outcomes = targets.groupby(["target", "outcome"]).size().unstack(fill_value=0)
    # every outcome happens in this life, so the comparison below is not vacuous
    assert (outcomes[["met", "missed", "open_within", "open_past_due"]] > 0).all().all()
    names = {"acknowledge": "acknowledge", "respond": "first response", "resolve": "resolve"}
    rows = _rows(report.table("targets"), "target")
    for target in TARGETS:
        row, counts = rows[names[target]], outcomes.loc[target]
        assert row["with_target"] == counts.sum()
        for outcome in ("met", "missed", "open_within", "open_past_due"):
            assert row[outcome] == counts[outcome], (target, outcome)
        assert row["no_deadline"] == 0  # the 24x7 calendar knows every date
        assert _close(row["share_met"], counts["met"] / (counts["met"] + counts["missed"]))
        assert _close(report.figure(f"share met: {names[target]}"), row["share_met"])
    times = report.table("times").rows
    for (_name, measured, median, p90), target in zip(times, TARGETS, strict=True):
        seconds = _seconds(frame, target).dropna()
        assert measured == len(seconds) > 0
        assert _close(median, _q(seconds, 0.5), 0.1) and _close(p90, _q(seconds, 0.9), 0.1)

    for group, table in (("policy", "by_policy"), ("department", "by_department")):
        got = {(r[group], r["target"]): r for r in report.table(table).as_dicts()}
        expected_groups = frame[group].fillna("(none)").unique()
        assert {g for g, _t in got} == set(expected_groups)
        for g in expected_groups:
            members = frame[frame[group].fillna("(none)") == g]
            mine = targets[targets[group].fillna("(none)") == g]
            for target in TARGETS:
                row = got[(g, names[target])]
                counts = mine[mine.target == target].outcome.value_counts()
                assert row["with_target"] == counts.sum()
                assert row["met"] == counts.get("met", 0)
                assert row["missed"] == counts.get("missed", 0)
                assert row["open_past_due"] == counts.get("open_past_due", 0)
                seconds = _seconds(members, target).dropna()
                assert row["measured"] == len(seconds)
                assert _close(row["median"], _q(seconds, 0.5), 0.1)
                assert _close(row["p90"], _q(seconds, 0.9), 0.1)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["cause", "severity"])
def test_pareto_report_agrees_with_pandas(desk: Desk, scheme: str) -> None:
    frame = _frame(desk.store)
    labels = frame[scheme].dropna()
    counts = labels.value_counts()
    counts = counts.sort_values(kind="stable").iloc[::-1]  # largest first
    counts = counts.rename_axis("label").reset_index(name="n")
    counts = counts.sort_values(["n", "label"], ascending=[False, True]).reset_index(drop=True)
    counts["share"] = counts.n / counts.n.sum()
    counts["cumulative"] = counts.n.cumsum() / counts.n.sum()
    vital = counts[counts.cumulative.shift(fill_value=0.0) < 0.8]
    report = _run(desk, "pareto", scheme=scheme)
    table = report.table("pareto")
    assert table.chart is not None and table.chart.kind == "pareto"
    assert table.values("label") == list(counts.label)
    assert table.values("count") == list(counts.n)
    assert all(
        _close(a, b) for a, b in zip(table.values("cumulative"), counts.cumulative, strict=True)
    )
    assert all(_close(a, b) for a, b in zip(table.values("share"), counts.share, strict=True))
    assert report.figure("vital few labels") == len(vital) >= 1
    assert report.figure("unclassified complaints") == frame[scheme].isna().sum()
    shown = {r["label"]: r[scheme] for r in table.as_dicts()}
    assert report.figure("vital few") == ", ".join(shown[label] for label in vital.label)
    assert _close(report.figure("share of the vital few"), vital.n.sum() / counts.n.sum())


@pytest.mark.slow
@pytest.mark.parametrize("period", ["day", "week"])
def test_trends_report_agrees_with_pandas(desk: Desk, period: str) -> None:
    frame = _frame(desk.store)
    report = _run(desk, "trends", period=period, by="department")

    def key(series: pd.Series) -> pd.Series:
        days = series.dt.tz_convert("UTC").dt.normalize()
        if period == "week":
            days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
        return days.dt.strftime("%Y-%m-%d")

    received = key(frame.received).value_counts()
    resolved = key(frame.resolve.dropna()).value_counts()
    gone = key(frame[frame.resolve.isna() & ~frame.status.isin(OPEN)].received).value_counts()
    assert gone.empty  # every finished complaint has its resolution in the history here
    table = report.table("periods")
    assert table.chart is not None and table.chart.kind == "line"
    periods = table.values("period")
    assert periods == sorted(periods) and set(received.index) <= set(periods)
    backlog = 0
    for row in table.as_dicts():
        assert row["received"] == received.get(row["period"], 0)
        assert row["resolved"] == resolved.get(row["period"], 0)
        backlog += row["received"] - row["resolved"]
        assert row["backlog"] == backlog
    assert backlog == frame.status.isin(OPEN).sum() == report.figure("open at the end")
    # per department: each series is that department's complaints per period
    by = report.table("by")
    per_department = (
        frame.assign(period=key(frame.received), department=frame.department.fillna("(none)"))
        .groupby(["department", "period"])
        .size()
    )
    assert [c.names.en for c in by.columns[1:]] == [
        *per_department.groupby(level=0).sum().sort_values(ascending=False, kind="stable").index
    ]
    for column in by.columns[1:]:
        for row in by.as_dicts():
            assert row[column.key] == per_department.get((column.names.en, row["period"]), 0)


@pytest.mark.slow
def test_kpis_report_agrees_with_pandas(desk: Desk) -> None:
    frame = _frame(desk.store)
    targets = _targets(frame)
    report = _run(desk, "kpis")
    frame["seconds"] = _seconds(frame, "resolve")
    for group, key in (("department", "department"), ("assignee", "handler")):
        rows = _rows(report.table(key), key)
        groups = frame.groupby(frame[group].fillna("(none)"))
        assert set(rows) == set(groups.groups)
        for name, members in groups:
            row = rows[name]
            assert row["volume"] == len(members)
            assert row["open"] == members.status.isin(OPEN).sum()
            assert row["resolved"] == members.resolve.notna().sum()
            assert _close(row["median_resolution"], _q(members.seconds, 0.5), 0.1)
            assert _close(row["p90_resolution"], _q(members.seconds, 0.9), 0.1)
            scores = members.satisfaction.dropna()
            assert row["rated"] == len(scores)
            assert _close(row["satisfaction"], scores.mean() if len(scores) else None, 0.005)
            assert row["repeats"] == members.repeat.sum()
            assert _close(row["repeat_rate"], members.repeat.mean())
            assert row["escalated"] == members.escalated.sum()
            mine = targets[targets[group].fillna("(none)") == name].outcome
            met, missed = (mine == "met").sum(), (mine == "missed").sum()
            assert _close(row["sla_met"], met / (met + missed) if met + missed else None)
    assert report.figure("complaints") == len(frame)
    assert report.figure("repeat complaints") == frame.repeat.sum() > 0
    assert report.figure("rated") == frame.satisfaction.notna().sum() > 0


@pytest.mark.slow
def test_remedies_report_agrees_with_pandas(desk: Desk) -> None:
    frame = _frame(desk.store)
    remedies = pd.DataFrame(
        [
            {
                "reference": c.reference,
                "department": c.department or "(none)",
                "cause": c.cause,
                "kind": r.kind.value,
                "amount": r.amount,
                "currency": r.currency if r.amount is not None else "(no currency)",
                "accepted": r.accepted,
            }
            for c in frame.itertuples()
            for r in c.remedies
        ]
    )
    remedies["cost"] = remedies.amount.fillna(0.0).where(remedies.accepted, 0.0)
    report = _run(desk, "remedies")
    assert report.figure("complaints with remedies") == remedies.reference.nunique()
    assert report.figure("remedies offered") == len(remedies)
    assert report.figure("remedies accepted") == remedies.accepted.sum() > 0
    kinds = _rows(report.table("kinds"), "kind")
    by_kind = remedies.groupby("kind").agg(offered=("kind", "size"), accepted=("accepted", "sum"))
    kind_name = {k.value: name_of(k, "en") for k in RemedyKind}
    assert set(kinds) == {kind_name[k] for k in by_kind.index}
    for kind, expected in by_kind.iterrows():
        row = kinds[kind_name[str(kind)]]
        assert row["offered"] == expected.offered and row["accepted"] == expected.accepted

    def check(table: str, column: str, by: str, show: Any = lambda v: v) -> None:
        got = {(r[column], r["currency"]): r for r in report.table(table).as_dicts()}
        sums = remedies.groupby([remedies[by].fillna("(none)"), "currency"]).agg(
            offers=("kind", "size"),
            accepted=("accepted", "sum"),
            offered_amount=("amount", lambda s: s.fillna(0.0).sum()),
            cost=("cost", "sum"),
            complaints=("reference", "nunique"),
        )
        assert len(got) == len(sums)
        for (value, currency), expected in sums.iterrows():
            row = got[(show(value), currency)]
            assert row["offered"] == expected.offers and row["accepted"] == expected.accepted
            assert row["complaints"] == expected.complaints
            if currency == "(no currency)":
                assert row["offered_amount"] is None and row["cost"] is None
            else:
                assert _close(row["offered_amount"], expected.offered_amount, 0.01)
                assert _close(row["cost"], expected.cost, 0.01)

    scheme = desk.host.schemes()["cause"]
    label_names = {lb.name: lb.names.en for lb in scheme.labels}
    check("amounts", "kind", "kind", lambda v: kind_name[v])
    check("department", "department", "department")
    check("label", "cause", "cause", lambda v: label_names.get(v, v))


@pytest.mark.slow
@pytest.mark.parametrize("period", ["month", "week"])
def test_summary_by_product_and_period(desk: Desk, period: str) -> None:
    frame = _frame(desk.store)
    report = _run(desk, "summary", period=period)
    products = _rows(report.table("product"), "product")
    assert {k: v["count"] for k, v in products.items()} == frame["product"].value_counts().to_dict()
    days = frame.received.dt.tz_convert("UTC")
    if period == "week":
        days = days.dt.normalize() - pd.to_timedelta(days.dt.day_of_week, unit="D")
        keys = days.dt.strftime("%Y-%m-%d")
    else:
        keys = days.dt.strftime("%Y-%m")
    rows = _rows(report.table(period), period)
    assert {k: v["count"] for k, v in rows.items()} == keys.value_counts().to_dict()
    assert list(rows) == sorted(rows)


# --- options ------------------------------------------------------------------------------


def _small_desk(tmp_path: Path) -> Desk:
    host = make_host(_config(f"tinydb://{tmp_path / 'c.json'}"), env={})
    from complaintkit.testing import make_complaint

    desk = Desk(host, host.open_store(), clock=lambda: NOW)
    desk.intake_many(
        [
            make_complaint("R-1", received_at=NOW - timedelta(hours=30), text="lost my bag"),
            make_complaint("R-2", received_at=NOW - timedelta(hours=2), text="rude staff"),
        ]
    )
    return desk


def test_desk_report_refuses_unknown_options(tmp_path: Path) -> None:
    desk = _small_desk(tmp_path)
    with pytest.raises(ConfigError, match=r"no option 'colour'; known options: scheme"):
        desk.report("pareto", options={"colour": "red"})
    with pytest.raises(ConfigError, match="known options: none"):
        desk.report("sla", options={"scheme": "cause"})
    # 8D declares no options: it gets them all and checks them itself
    assert desk.report("8d", options={"title": "Bags"}).names.en == "8D report: Bags"
    with pytest.raises(ConfigError, match="colour"):
        desk.report("8d", options={"colour": "red"})
    with pytest.raises(ConfigError, match="period"):
        desk.report("trends", options={"period": "year"})


def test_report_context_and_now(tmp_path: Path) -> None:
    desk = _small_desk(tmp_path)
    context = desk.report_context(lang="zh", options={"scheme": "cause"})
    assert context.now == NOW and context.lang == "zh" and context.config is desk.host.config
    assert context.calendar is not None and context.calendar("24x7").name == "24x7"
    # R-1 was received 30 h before NOW: its 4 h acknowledge target is past due, R-2's is not
    report = desk.report("sla", now=NOW)
    row = _rows(report.table("targets"), "target")["acknowledge"]
    assert (row["open_past_due"], row["open_within"]) == (1, 1)
    # 27 h earlier R-1's target was not yet due, and R-2 had not been received
    earlier = desk.report("sla", now=NOW - timedelta(hours=27))
    row = _rows(earlier.table("targets"), "target")["acknowledge"]
    assert (row["with_target"], row["open_past_due"], row["open_within"]) == (1, 0, 1)
    assert earlier.parameters["now"] == (NOW - timedelta(hours=27)).isoformat()


def test_sla_report_says_when_no_calendar_was_given(tmp_path: Path) -> None:
    """A context built by hand without calendars cannot compute deadlines: the SLA and KPI
    reports say so instead of silently counting late targets as met."""
    import attrs

    desk = _small_desk(tmp_path)
    assert desk.report("sla", now=NOW).notes == ()
    bare = attrs.evolve(desk.report_context(now=NOW), calendar=None)
    for name in ("sla", "kpis"):
        report = desk.host.reporter(name).run(desk.store, ComplaintFilter(), bare)
        assert any("No business calendars" in note for note in report.notes), name
    zh = attrs.evolve(bare, lang="zh")
    assert any(
        "未提供工作日历" in n
        for n in desk.host.reporter("sla").run(desk.store, ComplaintFilter(), zh).notes
    )


def _ck(tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "ck.toml"
    if not config.exists():
        lines = ['timezone = "Asia/Shanghai"', "[sla]", 'default = "standard"', 'calendar = "24x7"']
        lines += ["[sla.policies.standard]", 'acknowledge = "4h"', 'resolve = "72h"']
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = f"tinydb://{tmp_path / 'c.json'}"
    return CliRunner().invoke(
        cli, ["--store", store, "--config", str(config), *args], catch_exceptions=False
    )


def test_cli_report_options_and_now(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text(
        "reference,received_at,text,channel\n"
        "C-1,2025-10-09 08:00,包裹丢了,phone\n"
        "C-2,2025-10-09 11:00,客服态度差,web\n",
        encoding="utf-8",
    )
    assert _ck(tmp_path, "--create", "import", str(csv)).exit_code == 0

    bad = _ck(tmp_path, "report", "pareto", "--option", "colour=red")
    assert bad.exit_code == 2
    assert "no option 'colour'; known options: scheme" in bad.output
    assert _ck(tmp_path, "report", "pareto", "--option", "scheme").exit_code == 2

    # --now without a zone is in the configured zone (Shanghai): at 12:30 C-1's 4 h target
    # (due 12:00) has passed and C-2's (due 15:00) has not
    shown = _ck(tmp_path, "report", "sla", "--now", "2025-10-09T12:30", "--format", "json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    targets = {t["key"]: t for t in data["tables"]}["targets"]
    ack = targets["rows"][0]
    assert ack[0] == "acknowledge" and ack[4:6] == [1, 1]

    weekly = _ck(tmp_path, "report", "summary", "--option", "period=week", "--format", "json")
    keys = [t["key"] for t in json.loads(weekly.output)["tables"]]
    assert "week" in keys and "product" in keys and "month" not in keys

    listing = json.loads(_ck(tmp_path, "report", "--list", "--format", "json").output)
    by_name = {r["name"]: r for r in listing}
    assert set(by_name["trends"]["options"]) == {"period", "by"}
    assert by_name["sla"]["options"] == {} and by_name["8d"]["options"] is None
    table = _ck(tmp_path, "report", "--list").output
    assert "period: day, week or month" in table and "(any)" in table


def test_pareto_and_trends_refuse_unknown_schemes(tmp_path: Path) -> None:
    desk = _small_desk(tmp_path)
    with pytest.raises(ConfigError, match="unknown scheme 'colour'"):
        desk.report("pareto", options={"scheme": "colour"})
    with pytest.raises(ConfigError, match="cannot break down by 'colour'"):
        desk.report("trends", options={"by": "colour"})
    flt = ComplaintFilter(product="airline")
    assert desk.report("trends", flt, options={"by": "department"}).figure("complaints") == 0
    assert desk.report("trends", options={"by": "department"}).figure("complaints") == 2


@pytest.mark.heavy
def test_reports_demo_store_gives_the_documented_figures(tmp_path: Path) -> None:
    """docs/reports.md shows reports over the store examples/reports_demo.py builds."""
    import importlib.util

    script = REPO / "examples" / "reports_demo.py"
    spec = importlib.util.spec_from_file_location("reports_demo", script)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.build(tmp_path / "demo") == 60
    config = Config(
        path=script.parent / "process.toml",
        store=f"tinydb://{tmp_path / 'demo' / 'complaints.json'}",
        data=tomllib.loads((script.parent / "process.toml").read_text("utf-8")),
        timezone="Asia/Shanghai",
    )
    host = make_host(config, env={})
    with host.open_store() as store:
        desk = Desk(host, store, clock=lambda: demo.NOW)
        pareto = desk.report("pareto")
        assert pareto.names.en == "Pareto of cause"
        assert pareto.figure("vital few") == "Service quality, Product quality, Integrity"
        targets = _rows(desk.report("sla").table("targets"), "target")
        assert [targets["acknowledge"][k] for k in ("met", "missed", "open_past_due")] == [50, 9, 1]
        assert desk.report("trends", options={"period": "week"}).figure("open at the end") == 22
        remedies = desk.report("remedies")
        assert (remedies.figure("remedies offered"), remedies.figure("remedies accepted")) == (
            39,
            21,
        )


def _documented_runs(page: str) -> list[tuple[list[str], list[str]]]:
    """The ``$ ck report …`` commands quoted in ``page`` and the output lines shown under each
    (up to the next ``$`` line or the end of the block)."""
    runs: list[tuple[list[str], list[str]]] = []
    for block in page.split("```console\n")[1:]:
        current: list[str] | None = None
        for line in block.split("\n```", 1)[0].splitlines():
            if line.startswith("$ "):
                current = None
                if line.startswith("$ ck report"):
                    current = []
                    runs.append((shlex.split(line)[2:], current))
            elif current is not None:
                current.append(line)
    return runs


def _shown_in(shown: list[str], output: list[str]) -> bool:
    """Whether the quoted lines are the output, where a line "…" stands for lines left out:
    the first run of lines starts the output, and each run follows the previous one."""
    runs: list[list[str]] = [[]]
    for line in shown:
        if line == "…":
            runs.append([])
        else:
            runs[-1].append(line)
    at = 0
    for i, run in enumerate(runs):
        if not run:
            continue
        starts = [at] if i == 0 else range(at, len(output) - len(run) + 1)
        found = next((s for s in starts if output[s : s + len(run)] == run), None)
        if found is None:
            return False
        at = found + len(run)
    return runs[-1] == [] or at == len(output)


@pytest.mark.heavy
def test_docs_reports_page_shows_what_the_commands_print(tmp_path: Path) -> None:
    """Every ``ck report`` output quoted in docs/reports.md is what the command prints today
    over the store of examples/reports_demo.py (the page's alias ``ck``)."""
    import importlib.util

    root = REPO
    script = root / "examples" / "reports_demo.py"
    spec = importlib.util.spec_from_file_location("reports_demo", script)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.build(tmp_path / "demo")
    store = f"tinydb://{tmp_path / 'demo' / 'complaints.json'}"
    runs = _documented_runs((root / "docs" / "reports.md").read_text(encoding="utf-8"))
    assert len(runs) >= 8
    assert _shown_in(["a", "…", "c"], ["a", "b", "c"]) and not _shown_in(["b"], ["a", "b"])
    assert _shown_in(["a", "…"], ["a", "b"]) and not _shown_in(["a"], ["a", "b"])
    for args, shown in runs:
        result = CliRunner().invoke(
            cli,
            ["--store", store, "--config", str(root / "examples" / "process.toml"), *args],
            prog_name="complaintkit",
        )
        output = result.output.rstrip("\n").splitlines()
        assert _shown_in(shown, output), f"ck {' '.join(args)}:\n{result.output}"
