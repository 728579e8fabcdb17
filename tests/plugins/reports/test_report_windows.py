"""Every report covers the complaints received from ``--since`` to ``--until`` and not after
``--now``, and ``trends`` shows only the periods of that window: a nine-day window is nine
daily rows, even when a complaint of the window was resolved years later.

The store holds complaints from February 2015 (the window is February 16–24) and from
November 2026, one of the 2015 ones resolved only in December 2026. Each report runs through
the command line with ``--format json``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaintkit import Config, Event, Label, Remedy, RemedyKind, make_host
from complaintkit.model import Channel, Complaint, Status
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli

WINDOW = ["--since", "2015-02-16", "--until", "2015-02-25"]
NINE_DAYS = [f"2015-02-{day}" for day in range(16, 25)]
CONFIG = """\
timezone = "UTC"

[sla]
default = "standard"
calendar = "24x7"

[sla.policies.standard]
acknowledge = "4h"
resolve = "72h"

[early_warning]
dimensions = ["channel"]
period = "day"
window = 8
baseline = 5
min_count = 1
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def complaint(
    reference: str,
    received: str,
    *,
    acknowledged: str | None = None,
    resolved: str | None = None,
    cause: str = "price",
    remedy: bool = False,
) -> Complaint:
    """A complaint received at ``received``, acknowledged and resolved when given."""
    history = [Event(at(received), "intake", "received")]
    if acknowledged:
        history.append(Event(at(acknowledged), "agent", "acknowledge"))
    if resolved:
        history.append(Event(at(resolved), "agent", "resolve"))
    return make_complaint(  # type: ignore[no-any-return]
        reference,
        received_at=at(received),
        channel=Channel.WEB,
        status=Status.RESOLVED if resolved else Status.ACKNOWLEDGED,
        labels={"cause": Label("cause", cause, 1.0)},
        sla_policy="standard",
        department="service",
        remedies=(Remedy(RemedyKind.REFUND, 10.0, "CNY", accepted=True),) if remedy else (),
        history=tuple(history),
    )


COMPLAINTS = [
    complaint("W-0", "2015-02-10 09:00", acknowledged="2015-02-10 10:00", cause="staff"),
    complaint(
        "W-1",
        "2015-02-16 10:00",
        acknowledged="2015-02-16 11:00",
        resolved="2015-02-17 10:00",
        remedy=True,
    ),
    # Received in the window, resolved almost twelve years later.
    complaint(
        "W-2", "2015-02-18 10:00", acknowledged="2015-02-18 20:00", resolved="2026-12-01 09:00"
    ),
    complaint("W-3", "2015-02-20 10:00", acknowledged="2015-02-20 11:00"),
    complaint("W-4", "2015-02-24 23:00"),
    complaint("W-5", "2015-02-25 00:00", cause="staff", remedy=True),  # at --until: left out
    complaint("W-6", "2026-11-30 09:00", cause="staff", remedy=True),
]


@pytest.fixture
def ck(tmp_path: Path) -> Any:
    """Run ``complaintkit report …`` over :data:`COMPLAINTS` and return the JSON it prints."""
    config = tmp_path / "ck.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = f"tinydb://{tmp_path / 'c.json'}"
    host = make_host(Config(path=config, store=store, data={}), env={})
    with host.open_store() as opened:
        opened.add_many(COMPLAINTS)

    def run(*args: str) -> Any:
        result = CliRunner().invoke(
            cli,
            ["--store", store, "--config", str(config), "report", *args, "--format", "json"],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


def figure(data: Any, name: str) -> Any:
    return next(f["value"] for f in data["figures"] if f["en"] == name)


def table(data: Any, key: str) -> list[dict[str, Any]]:
    found = next(t for t in data["tables"] if t["key"] == key)
    keys = [c["key"] for c in found["columns"]]
    return [dict(zip(keys, row, strict=True)) for row in found["rows"]]


def test_trends_shows_nine_daily_rows_for_a_nine_day_window(ck: Any) -> None:
    data = ck("trends", *WINDOW, "--option", "period=day", "--now", "2026-12-07")
    rows = table(data, "periods")
    assert [r["period"] for r in rows] == NINE_DAYS
    assert sum(r["received"] for r in rows) == figure(data, "complaints") == 4
    # W-2's resolution in 2026 is after the window: it is still open at the window's end
    assert sum(r["resolved"] for r in rows) == 1
    assert rows[-1]["backlog"] == figure(data, "open at the end") == 3
    assert [r["period"] for r in table(data, "by")] == NINE_DAYS


def test_trends_chooses_daily_periods_for_a_short_window(ck: Any) -> None:
    data = ck("trends", *WINDOW, "--now", "2026-12-07")
    assert data["parameters"]["period"] == "day" and figure(data, "periods") == 9


def test_trends_rows_start_at_since_even_before_the_first_complaint(ck: Any) -> None:
    data = ck("trends", "--since", "2015-02-14", "--until", "2015-02-17", "--option", "period=day")
    rows = table(data, "periods")
    assert [(r["period"], r["received"]) for r in rows] == [
        ("2015-02-14", 0),
        ("2015-02-15", 0),
        ("2015-02-16", 1),
    ]


def test_trends_leaves_out_what_came_after_now(ck: Any) -> None:
    data = ck(
        "trends", "--since", "2015-02-16", "--now", "2015-02-19T12:00", "--option", "period=day"
    )
    rows = table(data, "periods")
    # W-3 and later were not received yet; without --until the rows end with the last event
    assert [(r["period"], r["received"], r["resolved"]) for r in rows] == [
        ("2015-02-16", 1, 0),
        ("2015-02-17", 0, 1),
        ("2015-02-18", 1, 0),
    ]
    assert figure(data, "open at the end") == 1


def test_trends_without_until_ends_with_the_last_event_not_today(ck: Any) -> None:
    data = ck("trends", "--since", "2015-02-16", "--now", "2030-01-01", "--option", "period=month")
    periods = [r["period"] for r in table(data, "periods")]
    assert periods[0] == "2015-02" and periods[-1] == "2026-12"  # W-2's resolution


@pytest.mark.parametrize("name", ["summary", "pareto", "sla", "kpis", "remedies", "8d"])
def test_each_report_counts_the_complaints_received_in_the_window(ck: Any, name: str) -> None:
    counted = {"pareto": "classified complaints", "remedies": "complaints with remedies"}
    whole, window = ck(name), ck(name, *WINDOW)
    expected = {"remedies": (3, 1)}.get(name, (len(COMPLAINTS), 4))
    assert (
        figure(whole, counted.get(name, "complaints")),
        figure(window, counted.get(name, "complaints")),
    ) == expected


@pytest.mark.parametrize("name", ["summary", "pareto", "sla", "kpis", "remedies", "8d", "trends"])
def test_each_report_leaves_out_complaints_received_after_now(ck: Any, name: str) -> None:
    counted = {"pareto": "classified complaints", "remedies": "complaints with remedies"}
    data = ck(name, "--now", "2015-02-18T12:00")
    assert figure(data, counted.get(name, "complaints")) == (1 if name == "remedies" else 3)


def test_sla_judges_the_window_as_of_now(ck: Any) -> None:
    rows = {r["target"]: r for r in table(ck("sla", *WINDOW, "--now", "2015-02-26"), "targets")}
    # acknowledged within 4 h: W-1, W-3; late: W-2 (10 h); never: W-4 (due Feb 25, 03:00)
    assert [rows["acknowledge"][k] for k in ("met", "missed", "open_past_due")] == [2, 1, 1]
    # within 72 h: W-1; W-2 resolved in 2026; W-3 due Feb 23; W-4 due Feb 27
    outcomes = ("met", "missed", "open_past_due", "open_within")
    assert [rows["resolve"][k] for k in outcomes] == [1, 1, 1, 1]


def test_early_warning_window_ends_before_until(ck: Any) -> None:
    data = ck("early-warning", *WINDOW, "--now", "2026-12-07")
    assert figure(data, "window start") == "2015-02-17"  # eight days up to February 24
    series = table(data, "series")
    assert [(s["value"], s["total"]) for s in series] == [("web form", 3)]  # W-2, W-3, W-4
    assert not any("--since" in note for note in data["notes"])


def test_early_warning_says_when_since_cuts_into_its_window(ck: Any) -> None:
    data = ck("early-warning", "--since", "2015-02-20", "--until", "2015-02-25")
    assert any(
        "--since 2015-02-20 is after the window's start (2015-02-17)" in n for n in data["notes"]
    )
    assert table(data, "series")[0]["total"] == 2  # W-3, W-4


def test_8d_is_made_on_now(ck: Any) -> None:
    data = ck("8d", *WINDOW, "--now", "2015-03-01T08:00")
    assert figure(data, "first received") == "2015-02-16"
    assert figure(data, "last received") == "2015-02-24"
    assert data["parameters"]["now"].startswith("2015-03-01T08:00")
