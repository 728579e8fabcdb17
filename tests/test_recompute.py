"""Recompute after a configuration change, and calendars past their data at the desk:
complaints received in 2027 and across the 2026/2027 New Year get provisional deadlines that
become exact once the year's arrangement is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaintkit.sla import provisional_state
from complaintkit.testing import make_complaint
from complaintkit_calendars.plugin import chinese_years
from complaintkit_cli.main import cli
from process_support import (
    Clock,
    check_imported_before_sla,
    example_data,
    imported_before_sla,
    make_desk,
    sh,
)

LAST = chinese_years()[1]
NEXT = LAST + 1
pytestmark = pytest.mark.skipif(NEXT != 2027, reason="the dates below are 2026/2027's")

# An arrangement for 2027 in the State Council's shape (an example, not the official notice):
# New Year Jan 1-3; Spring Festival Feb 5-12 with Sun Feb 14 and Sat Feb 20 worked.
YEAR_2027 = {
    "source": "example",
    "holidays": [
        {"name": "New Year's Day", "name_zh": "元旦", "from": "2027-01-01", "to": "2027-01-03"},
        {"name": "Spring Festival", "name_zh": "春节", "from": "2027-02-05", "to": "2027-02-12"},
    ],
    "workdays": [
        {"name": "Spring Festival", "name_zh": "春节", "dates": ["2027-02-14", "2027-02-20"]}
    ],
}


def with_2027() -> dict[str, Any]:
    data = example_data()
    data["calendars"] = {"cn": {"years": {"2027": YEAR_2027}}}
    return data


def deadlines(desk: Any, reference: str) -> dict[str, tuple[str, bool]]:
    clocks = desk.clocks(reference, now=sh("2027-01-04 12:00"))
    return {
        t.target: (t.deadline.strftime("%Y-%m-%d %H:%M"), t.provisional) for t in clocks.targets
    }


def test_a_complaint_received_in_2027_gets_provisional_deadlines(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=Clock(sh("2027-01-04 10:00")))
    with store:
        stored = desk.intake(
            make_complaint("Y-1", received_at=sh("2027-01-04 10:00"), text="发票开错了")
        )
        assert stored.due_at is not None and stored.sla_policy == "standard"
        assert provisional_state(stored.history) == (2027,)
        (note,) = [e for e in stored.history if e.action == "sla_provisional"]
        assert "no official arrangement for 2027" in (note.reason or "")
        assert set(note.data["deadlines"]) == {"acknowledge", "respond", "resolve"}
        assert deadlines(desk, "Y-1") == {
            "acknowledge": ("2027-01-04 15:30", True),
            "respond": ("2027-01-05 10:00", True),
            "resolve": ("2027-01-07 10:00", True),
        }
        # handling it again does not pile up notes
        again = desk.assign("Y-1", department="finance")
        assert [e.action for e in again.history].count("sla_provisional") == 1


def test_across_new_year_only_the_deadlines_in_2027_are_provisional(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    with store:
        stored = desk.intake(
            make_complaint("Y-2", received_at=sh("2026-12-30 16:00"), text="快递丢件")
        )
        assert provisional_state(stored.history) == (2027,)
        clocks = {t.target: t for t in desk.clocks("Y-2", now=sh("2026-12-30 17:00")).targets}
        assert not clocks["acknowledge"].provisional and not clocks["respond"].provisional
        assert clocks["resolve"].provisional_years == (2027,)
        # fallback: Jan 1 is the statutory holiday, Jan 2-3 the weekend
        assert clocks["resolve"].deadline == sh("2027-01-05 16:00")
        early = desk.intake(
            make_complaint("Y-3", received_at=sh("2026-12-01 10:00"), text="快递丢件")
        )
        assert provisional_state(early.history) == ()
        assert not any(e.action == "sla_provisional" for e in early.history)


def test_recompute_makes_provisional_deadlines_exact(tmp_path: Path) -> None:
    url = f"tinydb://{tmp_path / 'c.json'}"
    clock = Clock(sh("2027-01-04 10:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        for ref, at in (
            ("Y-1", "2027-01-04 10:00"),
            ("Y-2", "2026-12-30 16:00"),
            ("Y-4", "2027-02-03 10:00"),
        ):
            desk.intake(make_complaint(ref, received_at=sh(at), text="发票开错了", order="O"))
        before = {r: deadlines(desk, r) for r in ("Y-1", "Y-2", "Y-4")}
    assert before["Y-4"]["resolve"] == ("2027-02-12 10:00", True)  # fallback: Feb 5-10 off
    exact, store = make_desk(url, with_2027(), clock=clock)
    with store:
        dry = exact.recompute(dry_run=True)
        assert (dry.examined, dry.changed, dry.counts["exact"]) == (3, 3, 3)
        assert dry.counts["deadlines"] == 1
        # Y-2's acknowledge and respond were due on Dec 31 and no sweep ran: recorded as history
        assert dry.counts["past_breaches"] == 2
        assert all(provisional_state(c.history) == (2027,) for c in store.find())
        done = exact.recompute()
        assert done.counts == dry.counts
        moved = dict(done.changes)["Y-4"]
        assert "resolve 2027-02-12T10:00:00+08:00 → 2027-02-15T10:00:00+08:00" in moved
        for c in store.find():
            assert provisional_state(c.history) == ()
            (note,) = [e for e in c.history if e.action == "sla_exact"]
            assert note.data["years"] == [2027]
        after = {r: deadlines(exact, r) for r in ("Y-1", "Y-2", "Y-4")}
        assert after["Y-1"] == {t: (d, False) for t, (d, _) in before["Y-1"].items()}
        assert after["Y-2"]["resolve"] == ("2027-01-05 16:00", False)
        # the arrangement's Feb 11-12 are off, Sun Feb 14 is worked: due Mon Feb 15
        assert after["Y-4"]["resolve"] == ("2027-02-15 10:00", False)
        assert store.get("Y-4").due_at == sh("2027-02-03 15:30")
        assert exact.recompute().changed == 0


def test_recompute_on_tinydb_gives_policies_to_complaints_imported_before(tmp_path: Path) -> None:
    check_imported_before_sla(imported_before_sla(f"tinydb://{tmp_path / 'c.json'}"))


def test_recompute_keeps_assignments_made_by_people(tmp_path: Path) -> None:
    url = f"tinydb://{tmp_path / 'c.json'}"
    clock = Clock(sh("2025-10-01 10:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        desk.intake(
            make_complaint(
                "A-1", received_at=sh("2025-09-30 10:00"), text="发票开错了", order="O-1"
            )
        )
        desk.intake(
            make_complaint(
                "A-2", received_at=sh("2025-09-30 10:00"), text="发票开错了", order="O-2"
            )
        )
        desk.assign("A-2", department="finance", reason="the invoice team")
    data = example_data()
    data["routing"]["rules"].insert(
        0, {"name": "invoices", "match": {"has_order": True}, "department": "billing"}
    )
    again, store = make_desk(url, data, clock=clock)
    with store:
        result = again.recompute()
        assert result.counts["route"] == 1
        assert store.get("A-1").department == "billing"  # routed by a rule: routed again
        assert store.get("A-2").department == "finance"  # a person decided: kept
        (event,) = [e for e in store.get("A-1").history if e.data.get("rule") == "invoices"]
        assert event.data["department"] == {"from": "customer_service", "to": "billing"}


def test_escalate_overdue_leaves_past_deadlines_to_the_sweep(tmp_path: Path) -> None:
    url = f"tinydb://{tmp_path / 'c.json'}"
    clock = Clock(sh("2025-10-20 12:00"))
    first, store = make_desk(url, {"timezone": "Asia/Shanghai"}, clock=clock)
    with store:
        first.intake(
            make_complaint("E-1", received_at=sh("2025-09-29 10:00"), text="发票开错了", order="O")
        )
    desk, store = make_desk(url, clock=clock)
    with store:
        result = desk.recompute(past_breaches=False)
        assert result.counts["past_breaches"] == 0
        assert store.get("E-1").alert_at is not None
        assert desk.sweep().breaches == 3


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_recompute_command_dry_run_then_real(tmp_path: Path) -> None:
    store = f"tinydb://{tmp_path / 'c.json'}"
    bare = tmp_path / "bare.toml"
    bare.write_text('timezone = "Asia/Shanghai"\n', encoding="utf-8")
    code, out, err = run("--config", str(bare), "--store", store, "init")
    assert code == 0, out + err
    for ref in ("C-1", "C-2"):
        code, out, err = run(
            "--config", str(bare), "--store", store, "add", "--reference", ref,
            "--received-at", "2025-09-29T10:00", "--text", "发票开错了", "--order", "O-1",
        )  # fmt: skip
        assert code == 0, out + err
    config = str(Path(__file__).parent.parent / "examples" / "process.toml")
    code, out, _ = run("--config", config, "--store", store, "recompute", "--dry-run")
    assert code == 0, out
    assert out.splitlines()[0] == "examined 2 complaints, would change 2:"
    assert "SLA policy set or changed" in out and "run again without --dry-run" in out
    assert "C-1  routed to customer_service" in out
    code, out, _ = run("--config", config, "--store", store, "recompute", "--show", "0")
    assert code == 0 and out.splitlines()[0] == "examined 2 complaints, changed 2:"
    assert "for example" not in out
    code, out, _ = run("--lang", "zh", "--config", config, "--store", store, "recompute")
    assert code == 0 and out.splitlines()[0] == "检查 2 件，已更改 0 件："
    code, _, err = run("--store", f"tinydb://{tmp_path / 'missing.json'}", "recompute")
    assert code == 2 and "init" in err
