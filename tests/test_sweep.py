"""The SLA sweep: warnings, breaches and escalations recorded once, however often it runs.

"Done means" (issue 3): with the example configuration, complaints imported on the eve of
National Day 2025 get the right deadlines (Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11
worked), a sweep after the holiday escalates exactly the overdue ones, and a second sweep
changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaintkit import EscalationLevel
from complaintkit.desk import Desk
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from process_support import EXAMPLE, Clock, make_desk, sh
from together import run_together, start

TIMEOUT = 180


def _eve(desk: Desk, clock: Clock) -> None:
    """Five complaints as they stand on the evening of Sep 30, 2025."""
    desk.intake_many(
        [
            make_complaint(
                "E-1", received_at=sh("2025-09-30 15:00"), text="发票开错了", order="O-1"
            ),
            make_complaint(
                "E-2", received_at=sh("2025-09-29 10:00"), text="发票开错了", order="O-2"
            ),
            make_complaint(
                "E-3",
                received_at=sh("2025-09-30 17:50"),
                text="电池爆炸，我的手被烧伤了，要起诉你们",
            ),
            make_complaint(
                "E-4", received_at=sh("2025-09-30 09:00"), text="发票开错了", order="O-4"
            ),
            make_complaint(
                "E-5", received_at=sh("2025-09-26 10:00"), text="发票开错了", order="O-5"
            ),
        ]
    )
    clock.now = sh("2025-09-30 09:30")
    desk.transition("E-4", "acknowledge")
    desk.respond("E-4", "已核实，正在重开发票")


def _levels(desk: Desk) -> dict[str, str]:
    return {ref: desk.get(ref).escalation_level.slug for ref in ("E-1", "E-2", "E-3", "E-4", "E-5")}


def test_deadlines_of_complaints_imported_on_the_eve_of_national_day(tmp_path: Path) -> None:
    clock = Clock(sh("2025-09-30 18:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=clock)
    with store:
        _eve(desk, clock)
        deadlines = {
            ref: {t.target: t.deadline for t in desk.clocks(ref).targets}  # type: ignore[union-attr]
            for ref in ("E-1", "E-3", "E-4", "E-5")
        }
    assert deadlines["E-1"] == {
        "acknowledge": sh("2025-10-09 10:00"),  # 3h on Sep 30, then 1h after the holiday
        "respond": sh("2025-10-09 15:00"),
        "resolve": sh("2025-10-11 15:00"),  # Saturday Oct 11 is a make-up working day
    }
    assert deadlines["E-3"] == {
        "acknowledge": sh("2025-09-30 18:50"),  # 1 elapsed hour, holiday or not
        "respond": sh("2025-10-09 14:20"),  # 10 min on Sep 30 + 3h50 of working time
        "resolve": sh("2025-10-09 17:50"),
    }
    # three working days from Sep 30 09:00 end at the close of Oct 10
    assert deadlines["E-4"]["resolve"] == sh("2025-10-10 18:00")
    # from Friday Sep 26: Sunday Sep 28 is worked (调休)
    assert deadlines["E-5"]["respond"] == sh("2025-09-28 10:00")
    assert deadlines["E-5"]["resolve"] == sh("2025-09-30 10:00")


def test_a_sweep_after_the_holiday_escalates_exactly_the_overdue_ones(tmp_path: Path) -> None:
    clock = Clock(sh("2025-09-30 18:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=clock)
    with store:
        _eve(desk, clock)
        before = _levels(desk)
        first = desk.sweep(now=sh("2025-10-09 12:00"))
        after = _levels(desk)
        versions = {ref: desk.get(ref).version for ref in after}
        second = desk.sweep(now=sh("2025-10-09 12:00"))
        assert {ref: desk.get(ref).version for ref in after} == versions
        e1 = desk.get("E-1")
    assert before["E-3"] == "complaint_management"  # the fast channel at intake
    # missed: acknowledgement by E-1, E-2, E-3 and E-5; first response by E-2 (due Sep 30
    # 10:00) and E-5; resolution by E-5. Response and resolution escalate.
    assert after == {
        "E-1": "front_line",  # only acknowledgement missed: warns and records, no escalation
        "E-2": "department",
        "E-3": "complaint_management",  # acknowledgement missed, not an escalating target
        "E-4": "front_line",
        "E-5": "complaint_management",
    }
    assert (first.breaches, first.escalations) == (7, 3)
    # E-1's first-response warning (4h before 15:00) and E-3's (1h before 14:20) are not due yet
    assert first.warnings == 1
    assert sorted(first.changed) == ["E-1", "E-2", "E-3", "E-5"]
    assert (second.examined, second.warnings, second.breaches, second.escalations) == (0, 0, 0, 0)
    breach = [e for e in e1.history if e.action == "sla_breach"]
    assert [(e.data["target"], e.data["deadline"]) for e in breach] == [
        ("acknowledge", "2025-10-09T10:00:00+08:00")
    ]
    assert e1.alert_at == sh("2025-10-09 15:00")  # next: the response deadline


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    clock = Clock(sh("2025-09-30 18:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=clock)
    with store:
        _eve(desk, clock)
        versions = {c.reference: c.version for c in desk.find()}
        preview = desk.sweep(now=sh("2025-10-09 12:00"), dry_run=True)
        assert {c.reference: c.version for c in desk.find()} == versions
        real = desk.sweep(now=sh("2025-10-09 12:00"))
    assert preview.dry_run and (preview.breaches, preview.escalations) == (7, 3)
    assert sorted(preview.changed) == sorted(real.changed)


def test_a_warning_then_the_breach_then_nothing(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=Clock(sh("2025-10-13 10:00")))
    with store:
        desk.intake(make_complaint("W-1", received_at=sh("2025-10-13 10:00"), text="发票开错了"))
        desk.transition("W-1", "acknowledge")
        times = ["05:00", "06:00", "06:30", "09:59", "10:00", "10:05"]
        results = [desk.sweep(now=sh(f"2025-10-14 {t}")) for t in times]
        c = desk.get("W-1")
    assert [(r.warnings, r.breaches, r.escalations) for r in results] == [
        (0, 0, 0),
        (1, 0, 0),  # 4h before the first response is due (Oct 14 10:00)
        (0, 0, 0),
        (0, 0, 0),
        (0, 1, 1),
        (0, 0, 0),
    ]
    assert c.escalation_level is EscalationLevel.DEPARTMENT
    assert [e.action for e in c.history][-3:] == ["sla_warning", "sla_breach", "escalate"]


def test_pausing_defers_the_breach(tmp_path: Path) -> None:
    clock = Clock(sh("2025-10-13 09:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", clock=clock)
    with store:
        desk.intake(make_complaint("P-1", received_at=clock.now, text="发票开错了"))
        desk.transition("P-1", "acknowledge")
        clock.now = sh("2025-10-13 10:00")
        paused = desk.pause("P-1", reason="waiting for the invoice number")
        assert (paused.due_at, paused.alert_at) == (None, None)
        assert desk.sweep(now=sh("2025-10-20 10:00")).examined == 0
        # one working day from Monday 09:00 is the close of Monday (18:00); paused at 10:00
        # with 6.5 working hours left, resumed Tuesday 10:00: due Tuesday 18:00
        clock.now = sh("2025-10-14 10:00")
        resumed = desk.resume("P-1")
        assert resumed.due_at == sh("2025-10-14 18:00")
        clocks = desk.clocks(resumed, now=clock.now)
        assert clocks is not None and clocks.get("respond").paused == timedelta(hours=7, minutes=30)  # type: ignore[union-attr]
        assert desk.sweep(now=sh("2025-10-14 17:59")).breaches == 0
        assert desk.sweep(now=sh("2025-10-14 18:00")).breaches == 1


SWEEPER = """
    import sys
    from complaintkit_cli.main import cli

    config, url, now = sys.argv[1:4]
    sys.stdin.readline()  # start together with the other process
    cli.main(["--config", config, "--store", url, "sweep", "--now", now], standalone_mode=False)
"""


@pytest.mark.heavy
def test_two_processes_sweeping_at_once_escalate_each_complaint_once(tmp_path: Path) -> None:
    url = f"tinydb://{tmp_path / 'c.json'}"
    clock = Clock(sh("2025-10-13 09:00"))
    desk, store = make_desk(url, clock=clock)
    with store:
        desk.intake_many(
            make_complaint(f"C-{n:03d}", received_at=sh("2025-10-13 09:00"), text="发票开错了")
            for n in range(60)
        )
        for n in range(0, 60, 3):  # every third one was answered at once
            desk.respond(f"C-{n:03d}", "已处理")
    now = "2025-10-14T09:30+08:00"
    procs = [start(SWEEPER, str(EXAMPLE), url, now) for _ in range(2)]
    outputs = run_together(procs, TIMEOUT)
    assert [code for code, _, _ in outputs] == [0, 0], outputs
    desk, store = make_desk(url)
    with store:
        complaints = list(desk.find())
    escalations = {
        c.reference: [e for e in c.history if e.action == "escalate"] for c in complaints
    }
    breaches = {
        c.reference: [e.data["target"] for e in c.history if e.action == "sla_breach"]
        for c in complaints
    }
    answered = {f"C-{n:03d}" for n in range(0, 60, 3)}
    for c in complaints:
        # unanswered: acknowledgement (4 working hours) and first response (1 working day)
        # were missed; a response also acknowledges
        expected = [] if c.reference in answered else ["acknowledge", "respond"]
        assert sorted(breaches[c.reference]) == expected, c.reference
        assert len(escalations[c.reference]) == (0 if c.reference in answered else 1)
    total = sum(len(v) for v in escalations.values())
    assert total == 40
    # what the two processes say they did adds up to what the store holds
    reported = [out.split(", ") for _, out, _ in outputs]
    said = sum(
        int(part.split()[0]) for parts in reported for part in parts if "escalations" in part
    )
    assert said == 40


def test_cli_by_hand_on_the_eve_of_the_holiday(tmp_path: Path) -> None:
    csv = tmp_path / "eve.csv"
    csv.write_text(
        "reference,received_at,text,channel,order\n"
        "E-1,2025-09-30 15:00,发票开错了,web,O-1\n"
        "E-2,2025-09-29 10:00,发票开错了,web,O-2\n"
        "E-3,2025-09-30 17:50,电池爆炸，我的手被烧伤了，要起诉你们,phone,\n",
        encoding="utf-8",
    )
    base = ["--config", str(EXAMPLE), "--store", f"tinydb://{tmp_path / 'c.json'}"]
    runner = CliRunner()
    result = runner.invoke(cli, [*base, "--create", "import", str(csv)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, [*base, "clocks", "E-1", "--now", "2025-10-09T09:00"])
    assert result.exit_code == 0, result.output
    assert "2025-10-11 15:00" in result.output and "open, within due" in result.output
    zh = runner.invoke(cli, [*base, "--lang", "zh", "clocks", "E-3", "--now", "2025-10-09T09:00"])
    assert "确认受理" in zh.output and "已超时" in zh.output
    # the urgent policy acknowledges within 1h elapsed, answers within working hours
    rows = {line.split()[0]: line for line in zh.output.splitlines()[3:]}
    # overdue: the real time since the deadline (2025-09-30 18:50), whatever the clock's kind
    assert rows["确认受理"].split("处理中·已超时")[1].split() == ["超时", "8天14小时", "-"]
    assert rows["首次响应"].split("处理中·未超时")[1].split() == ["3小时50分", "(工作时间)", "-"]
    dry = runner.invoke(cli, [*base, "sweep", "--now", "2025-10-09T12:00", "--dry-run"])
    assert dry.exit_code == 0 and "would record 1 warnings, 4 breaches, 1 escalations" in dry.output
    first = runner.invoke(cli, [*base, "sweep", "--now", "2025-10-09T12:00"])
    assert "recorded 1 warnings, 4 breaches, 1 escalations on 3 complaints" in first.output
    second = runner.invoke(cli, [*base, "sweep", "--now", "2025-10-09T12:00"])
    assert "examined 0, recorded 0 warnings, 0 breaches, 0 escalations" in second.output
    listed = runner.invoke(cli, [*base, "list", "--min-level", "department"])
    assert "E-2" in listed.output and "E-3" in listed.output and "E-1" not in listed.output


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_process_commands(tmp_path: Path, lang: str) -> None:
    base = [
        "--config",
        str(EXAMPLE),
        "--store",
        f"tinydb://{tmp_path / 'c.json'}",
        "--lang",
        lang,
        "--actor",
        "li.lei",
    ]
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    run("add", "--reference", "K-1", "--text", "The invoice total is wrong", "--order", "O-1")
    assert "customer_service" in run("route", "K-1")
    run("pause", "K-1", "--reason", "waiting for the receipt")
    run("pause", "K-1", "--reason", "again", code=1)
    run("resume", "K-1")
    run("respond", "K-1", "We are correcting the invoice")
    out = run("remedy", "K-1", "refund", "--amount", "20", "--loss", "30")
    assert "#1" in out and "V2 ≥ V1 + C" in out
    assert "at most 200 CNY" in run("remedy", "K-1", "compensation", "--amount", "900", code=1)
    run("remedy", "K-1", "--accept", "1")
    run("remedy", "K-1", code=2)
    for action in ("acknowledge",):
        runner.invoke(cli, [*base, "transition", "K-1", action])
    run("satisfaction", "K-1", "4", code=1)


def test_a_complaint_swept_by_someone_else_meanwhile_is_redecided(tmp_path: Path) -> None:
    """The sweep decides a batch, then writes it with version checks: a complaint another
    sweep changed in between is a conflict, re-read and found done, never escalated twice."""
    url = f"tinydb://{tmp_path / 'c.json'}"
    desk, store = make_desk(url, clock=Clock(sh("2025-10-13 10:00")))
    other, other_store = make_desk(url)
    now = sh("2025-10-14 12:00")
    with store, other_store:
        for ref in ("A", "B", "C"):
            desk.intake(make_complaint(ref, received_at=sh("2025-10-13 10:00"), text="发票开错了"))
        seen: list[int] = []

        def meanwhile(_: int) -> None:
            seen.append(1)
            if len(seen) == 2:  # A and B decided, nothing written yet: another sweep runs
                assert other.sweep(now=now).escalations == 3

        result = desk.sweep(now=now, progress=meanwhile)
        stored = {ref: desk.get(ref) for ref in ("A", "B", "C")}
    # the other sweep did all three; ours wrote nothing twice
    assert result.escalations == 0 and result.breaches == 0
    for complaint in stored.values():
        assert [e.action for e in complaint.history].count("escalate") == 1
        assert complaint.escalation_level is EscalationLevel.DEPARTMENT


def clocks_of_one(tmp_path: Path, received_at: str, now: str, *options: str) -> str:
    """`clocks` of one complaint received at ``received_at``, imported with the example."""
    csv = tmp_path / "one.csv"
    csv.write_text(f"reference,received_at,text,channel\nO-1,{received_at},发票开错了,web\n")
    base = ["--config", str(EXAMPLE), "--store", f"tinydb://{tmp_path / 'c.json'}", *options]
    runner = CliRunner()
    runner.invoke(cli, [*base, "--create", "import", str(csv)])
    result = runner.invoke(cli, [*base, "clocks", "O-1", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def test_clocks_say_how_long_ago_a_deadline_passed_in_years_and_days(tmp_path: Path) -> None:
    """Was `-125675h 38m`: in working hours, and unreadable."""
    en = clocks_of_one(tmp_path, "2012-02-01 10:00", "2026-06-01T10:00")
    acknowledge = next(line for line in en.splitlines() if line.startswith("acknowledge"))
    # due 2012-02-01 15:30: 14 years and 123 days before 2026-06-01 10:00
    assert acknowledge.split("  ", 1)[1].split() == [
        "2012-02-01",
        "15:30",
        "open,",
        "past",
        "due",
        "overdue",
        "by",
        "14",
        "y",
        "123",
        "d",
        "-",
    ]
    zh = clocks_of_one(tmp_path, "2012-02-01 10:00", "2026-06-01T10:00", "--lang", "zh")
    assert "处理中·已超时  超时 14年123天  -" in zh


def test_clocks_show_time_left_in_the_clocks_own_time(tmp_path: Path) -> None:
    out = clocks_of_one(tmp_path, "2025-10-09 09:00", "2025-10-09T10:00")
    acknowledge = next(line for line in out.splitlines() if line.startswith("acknowledge"))
    # due 14:30 (lunch break in between): 3 working hours left at 10:00
    assert "2025-10-09 14:30  open, within due  3 h 00 min (working)" in acknowledge


def test_clocks_call_a_deadline_passed_after_working_hours_overdue(tmp_path: Path) -> None:
    """Was `open, past due  0 min (working)`: no working time had gone by since 18:00."""
    out = clocks_of_one(tmp_path, "2025-10-09 09:00", "2025-10-09T21:00")
    respond = next(line for line in out.splitlines() if line.startswith("first response"))
    assert (
        " ".join(respond.split()[2:]) == "2025-10-09 18:00 open, past due overdue by 3 h 00 min -"
    )


def test_sweep_refuses_a_now_in_the_future_unless_asked(tmp_path: Path) -> None:
    """`sweep --now` wrote future-dated breaches and escalations into the real store."""
    base = ["--store", f"tinydb://{tmp_path / 'c.json'}"]
    runner = CliRunner()
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    before = (tmp_path / "c.json").read_bytes()
    refused = runner.invoke(cli, [*base, "sweep", "--now", "2099-01-01"])
    assert refused.exit_code == 2
    assert "--now 2099-01-01 is later than the real time" in refused.output
    assert "Look with --dry-run, or add --allow-future" in refused.output
    looked = runner.invoke(cli, [*base, "sweep", "--now", "2099-01-01", "--dry-run"])
    assert looked.exit_code == 0 and "would record" in looked.output
    assert (tmp_path / "c.json").read_bytes() == before
    asked = runner.invoke(cli, [*base, "sweep", "--now", "2099-01-01", "--allow-future"])
    assert asked.exit_code == 0 and "recorded 0 warnings" in asked.output


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_remedies_are_numbered_alike_in_remedy_show_and_the_history(
    tmp_path: Path, lang: str
) -> None:
    base = ["--config", str(EXAMPLE), "--store", f"tinydb://{tmp_path / 'c.json'}"]
    base += ["--lang", lang, "--actor", "li.lei"]
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    run("add", "--reference", "K-1", "--text", "The invoice total is wrong")
    assert "K-1  #1 " in run("remedy", "K-1", "refund", "--amount", "20", "--loss", "10")
    assert "K-1  #2 " in run("remedy", "K-1", "apology", "--description", "a letter")
    assert "K-1  #2 " in run("remedy", "K-1", "--accept", "2")
    missing = run("remedy", "K-1", "--accept", "5", code=1)
    assert "has 2 remedies (#1 to #2); there is no remedy #5" in missing
    shown = run("show", "K-1")
    lines = shown.splitlines()
    first = next(line for line in lines if line.startswith("#1 "))
    second = next(line for line in lines if line.startswith("#2 "))
    assert "20 CNY" in first and first.split()[-1] == ("否" if lang == "zh" else "no")
    assert "a letter" in second and second.split()[-1] == ("是" if lang == "zh" else "yes")
    history = shown.split("remedy_offered", 1)[1]
    assert "remedy #1 kind=refund" in history and "remedy #2 kind=apology" in history
    assert "index=" not in shown
