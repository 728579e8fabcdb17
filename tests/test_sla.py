"""SLA policies and clocks: deadlines replayed from the history, pauses, re-classification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from complaintkit import Config, ConfigError, Event
from complaintkit.calendars import always_open
from complaintkit.model import Complaint, Label
from complaintkit.sla import (
    BREACH,
    WARNING,
    compute_clocks,
    load_sla_config,
    pending_alerts,
    schedule,
)
from complaintkit.testing import make_complaint
from process_support import make_desk, sh

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
DAY = {
    "sla": {
        "default": "standard",
        "calendar": "24x7",
        "warn_before": "2h",
        "policies": {
            "standard": {"acknowledge": "4h", "respond": "24h", "resolve": "72h"},
            "vip": {"match": {"tags": ["vip"]}, "respond": "2h", "resolve": "8h"},
        },
    }
}


def policy(name: str = "standard", data: dict[str, Any] = DAY) -> Any:
    config = load_sla_config(Config(data=data))
    assert config is not None
    return config.policies[name]


def ev(hours: float, action: str, **data: Any) -> Event:
    return Event(at=T0 + timedelta(hours=hours), actor="a", action=action, data=data)


def complaint(*events: Event, **fields: Any) -> Complaint:
    return make_complaint(  # type: ignore[no-any-return]
        "S-1", received_at=T0, history=(ev(0, "received"), *events), **fields
    )


def clocks_at(c: Complaint, hours: float, name: str = "standard") -> dict[str, Any]:
    found = compute_clocks(c, policy(name), always_open(), T0 + timedelta(hours=hours))
    return {t.target: t for t in found.targets}


def test_deadlines_start_at_receipt() -> None:
    clocks = clocks_at(complaint(), 1)
    assert clocks["acknowledge"].deadline == T0 + timedelta(hours=4)
    assert clocks["respond"].deadline == T0 + timedelta(hours=24)
    assert clocks["resolve"].deadline == T0 + timedelta(hours=72)
    assert clocks["acknowledge"].warn_at == T0 + timedelta(hours=2)
    assert clocks["acknowledge"].left == timedelta(hours=3)
    assert {t.outcome for t in clocks.values()} == {"open_within"}


def test_each_target_is_met_by_its_own_events() -> None:
    c = complaint(ev(1, "acknowledge"), ev(30, "respond"), ev(50, "assess"))
    clocks = clocks_at(c, 60)
    assert clocks["acknowledge"].outcome == "met"
    assert clocks["acknowledge"].met_at == T0 + timedelta(hours=1)
    # assessing is internal work: it does not answer the complainant
    assert clocks["respond"].met_at == T0 + timedelta(hours=30)
    assert clocks["respond"].outcome == "missed" and clocks["respond"].met is False
    assert clocks["resolve"].outcome == "open_within" and clocks["resolve"].met is None


def test_overdue_target_is_open_past_due_with_negative_time_left() -> None:
    clocks = clocks_at(complaint(), 6)
    assert clocks["acknowledge"].outcome == "open_past_due"
    assert clocks["acknowledge"].left == -timedelta(hours=2)
    assert clocks["acknowledge"].met is False


def test_pause_moves_deadlines_by_the_time_paused() -> None:
    c = complaint(ev(1, "acknowledge"), ev(2, "pause"), ev(12, "resume"))
    clocks = clocks_at(c, 13)
    assert clocks["respond"].deadline == T0 + timedelta(hours=34)
    assert clocks["respond"].paused == timedelta(hours=10)
    assert clocks["resolve"].deadline == T0 + timedelta(hours=82)
    # the acknowledgement was met before the pause: its deadline does not move
    assert clocks["acknowledge"].deadline == T0 + timedelta(hours=4)


def test_while_paused_the_time_left_is_frozen_and_nothing_is_due() -> None:
    c = complaint(ev(1, "acknowledge"), ev(20, "pause"))
    for hours in (21, 100):
        clocks = clocks_at(c, hours)
        assert clocks["respond"].outcome == "open_within"
        assert clocks["respond"].paused_since == T0 + timedelta(hours=20)
        assert clocks["respond"].left == timedelta(hours=4)
        assert clocks["respond"].deadline is None
    assert schedule(c, compute_clocks(c, policy(), always_open(), T0)) == (None, None)


def test_a_pause_after_the_deadline_does_not_undo_the_breach() -> None:
    c = complaint(ev(1, "acknowledge"), ev(30, "pause"), ev(40, "resume"))
    assert clocks_at(c, 41)["respond"].outcome == "open_past_due"
    assert clocks_at(c, 41)["respond"].deadline == T0 + timedelta(hours=24)


def test_reopening_restarts_the_resolve_clock() -> None:
    c = complaint(ev(1, "acknowledge"), ev(2, "respond"), ev(10, "resolve"), ev(100, "reopen"))
    c = attrs.evolve(c, status="reopened")
    clocks = clocks_at(c, 101)
    assert clocks["resolve"].started_at == T0 + timedelta(hours=100)
    assert clocks["resolve"].deadline == T0 + timedelta(hours=172)
    assert clocks["resolve"].outcome == "open_within"


def test_replay_is_deterministic_and_follows_the_policy() -> None:
    c = complaint(ev(0.5, "acknowledge"), ev(1, "pause"), ev(3, "resume"))
    first = compute_clocks(c, policy(), always_open(), T0 + timedelta(hours=6))
    again = compute_clocks(c, policy(), always_open(), T0 + timedelta(hours=6))
    assert first == again
    vip = clocks_at(c, 6, "vip")
    assert "acknowledge" not in vip
    assert vip["respond"].deadline == T0 + timedelta(hours=4)  # 2h + 2h paused


def test_working_days_deadline_over_national_day_with_make_up_days(
    tmp_path: Path,
) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    with store:
        c = desk.intake(
            make_complaint("N-1", received_at=sh("2025-09-30 16:00"), text="发票开错了")
        )
        clocks = desk.clocks(c, now=sh("2025-09-30 16:00"))
        assert clocks is not None and clocks.calendar == "cn"
        by = {t.target: t for t in clocks.targets}
        # 16:00-18:00 on Sep 30, then Oct 1-8 off, then 09:00-11:00 on Oct 9
        assert by["acknowledge"].deadline == sh("2025-10-09 11:00")
        # one working day: Oct 9 at the same time
        assert by["respond"].deadline == sh("2025-10-09 16:00")
        # three working days: Oct 9, Oct 10, Saturday Oct 11 (调休, worked)
        assert by["resolve"].deadline == sh("2025-10-11 16:00")
        assert c.due_at == sh("2025-10-09 11:00")
        assert c.alert_at == sh("2025-10-09 07:00")  # 4h before, elapsed


def test_policy_changes_when_the_complaint_is_reclassified(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    with store:
        c = desk.intake(
            make_complaint("R-1", received_at=sh("2025-09-29 10:00"), text="发票开错了")
        )
        assert c.sla_policy == "standard"
        c = desk.label("R-1", "severity", "serious", reason="customer was injured")
        assert c.sla_policy == "urgent"
        assert c.due_at == sh("2025-09-29 11:00")  # acknowledge within 1 elapsed hour
        change = [e for e in c.history if e.action == "sla_policy"]
        assert change and change[0].data == {"from": "standard", "to": "urgent"}


def test_pending_alerts_skip_what_the_history_already_records() -> None:
    c = complaint()
    now = T0 + timedelta(hours=5)
    clocks = compute_clocks(c, policy(), always_open(), now)
    alerts = pending_alerts(c, clocks)
    assert alerts == [(BREACH, "acknowledge", T0 + timedelta(hours=4))]
    done = attrs.evolve(
        c,
        history=c.history
        + (ev(5, BREACH, target="acknowledge", deadline=(T0 + timedelta(hours=4)).isoformat()),),
    )
    assert pending_alerts(done, compute_clocks(done, policy(), always_open(), now)) == []
    later = T0 + timedelta(hours=22, minutes=30)
    alerts = pending_alerts(done, compute_clocks(done, policy(), always_open(), later))
    assert alerts == [(WARNING, "respond", T0 + timedelta(hours=24))]


def test_schedule_points_at_the_next_warning_or_deadline() -> None:
    c = complaint()
    clocks = compute_clocks(c, policy(), always_open(), T0)
    assert schedule(c, clocks) == (T0 + timedelta(hours=4), T0 + timedelta(hours=2))
    warned = attrs.evolve(
        c,
        history=c.history
        + (ev(2, WARNING, target="acknowledge", deadline=(T0 + timedelta(hours=4)).isoformat()),),
    )
    assert schedule(warned, clocks)[1] == T0 + timedelta(hours=4)
    closed = attrs.evolve(c, status="closed")
    assert schedule(closed, clocks) == (None, None)


def test_policy_selection_by_match_then_default() -> None:
    config = load_sla_config(Config(data=DAY))
    assert config is not None
    assert config.select(make_complaint(tags=("vip",))) == "vip"
    assert config.select(make_complaint()) == "standard"
    labelled = make_complaint(labels={"severity": Label("severity", "serious")})
    assert config.select(labelled) == "standard"


@pytest.mark.parametrize(
    ("sla", "message"),
    [
        ({"policies": {"p": {"resolve": "soon"}}}, "sla.policies.p.resolve: 'soon' is not"),
        (
            {"policies": {"p": {"resolve": "1h", "respnd": "1h"}}},
            "sla.policies.p: unknown setting(s) respnd (did you mean respond?); known: acknowledge",
        ),
        ({"policies": {"p": {"calendar": "cn"}}}, "sla.policies.p: set at least one of"),
        (
            {"default": "x", "policies": {"p": {"resolve": "1h"}}},
            "sla.default: no policy 'x' is defined; known: p",
        ),
        (
            {"policies": {"p": {"resolve": "1h", "match": {"labels": ["serious"]}}}},
            "sla.policies.p.match.labels[1]: 'serious' is not SCHEME=LABEL",
        ),
        ({"policies": {"p": {"resolve": "1h", "match": {"channels": ["fax"]}}}}, "channel 'fax'"),
        ({"default": "p"}, "sla.default: no policy 'p' is defined; known: none; add e.g."),
        ({"calendar": "cn"}, "sla: no policies; add e.g. [sla.policies.standard]"),
    ],
)
def test_bad_sla_configuration_names_the_setting(sla: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_sla_config(Config(data={"sla": sla}))
    assert message in str(info.value)


def test_no_sla_section_means_no_deadlines(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", {})
    with store:
        c = desk.intake(make_complaint("X-1"))
        assert (c.sla_policy, c.due_at, c.alert_at) == (None, None, None)
        assert desk.clocks(c) is None


# Working days around National Day 2025: Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11 worked.
WORKING_DAYS = [
    "2025-09-25",
    "2025-09-26",
    "2025-09-28",
    "2025-09-29",
    "2025-09-30",
    "2025-10-09",
    "2025-10-10",
    "2025-10-11",
    "2025-10-13",
    "2025-10-14",
    "2025-10-15",
    "2025-10-16",
]


def _expected_resolve(day: str) -> str:
    """3 working days from 10:00 on ``day``: 10:00 on the third working day after it; from a
    day off the clock starts at the next opening, and a deadline at an opening is given as
    the close of the previous working day."""
    if day in WORKING_DAYS:
        return f"{WORKING_DAYS[WORKING_DAYS.index(day) + 3]} 10:00"
    first = next(d for d in WORKING_DAYS if d > day)
    return f"{WORKING_DAYS[WORKING_DAYS.index(first) + 2]} 18:00"


def test_day_by_day_resolve_deadlines_over_national_day(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    days = [f"2025-09-{d:02d}" for d in range(25, 31)] + [f"2025-10-{d:02d}" for d in range(1, 14)]
    with store:
        found = {}
        for day in days:
            c = desk.intake(
                make_complaint(f"D-{day}", received_at=sh(f"{day} 10:00"), text="发票开错了")
            )
            clocks = desk.clocks(c, now=c.received_at)
            assert clocks is not None
            found[day] = clocks.get("resolve").deadline  # type: ignore[union-attr]
    assert found == {day: sh(_expected_resolve(day)) for day in days}
    assert found["2025-09-26"] == sh("2025-09-30 10:00")  # through the make-up Sunday
    assert found["2025-10-03"] == sh("2025-10-11 18:00")  # a holiday: Oct 9, 10 and 11 count
    assert found["2025-10-12"] == sh("2025-10-15 18:00")  # the Sunday after is off again


def test_day_by_day_sweeps_through_the_holiday(tmp_path: Path) -> None:
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    with store:
        desk.intake(make_complaint("E-1", received_at=sh("2025-09-30 15:00"), text="发票开错了"))
        daily = {}
        for day in range(1, 15):
            result = desk.sweep(now=sh(f"2025-10-{day:02d} 12:00"))
            daily[day] = (result.warnings, result.breaches, result.escalations)
        level = desk.get("E-1").escalation_level.slug
    quiet = (0, 0, 0)
    assert daily == {
        **dict.fromkeys(range(1, 9), quiet),  # the holiday: nothing falls due
        9: (1, 1, 0),  # acknowledgement missed (10:00), response warning (due 15:00)
        10: (0, 1, 1),  # first response missed: one level up
        11: (1, 0, 0),  # make-up Saturday: resolution due 15:00, warned at 11:00
        12: (0, 1, 1),  # resolution missed on Saturday: found on Sunday's sweep
        13: quiet,
        14: quiet,
    }
    assert level == "complaint_management"


def test_a_complaint_beyond_the_calendar_is_kept_without_deadlines(tmp_path: Path) -> None:
    # cn answers provisionally up to the holidays package's last year (2100); beyond it, it
    # knows nothing: an import must not abort there.
    from complaintkit.desk import SLAWarning

    later = sh("2101-03-02 10:00")
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}")
    with store, pytest.warns(SLAWarning, match="no SLA deadlines: calendar 'cn' covers only"):
        result = desk.intake_many(
            [
                make_complaint("LATE-1", received_at=later, text="发票开错了"),
                make_complaint("OK-1", received_at=sh("2025-09-29 10:00"), text="发票开错了"),
            ]
        )
        assert result.added == 2
        late, ok = store.get("LATE-1"), store.get("OK-1")
        assert (late.due_at, late.alert_at, late.sla_policy) == (None, None, "standard")
        (note,) = [e for e in late.history if e.action == "sla_unavailable"]
        assert "covers only" in (note.reason or "")
        assert ok.due_at is not None
        # touching it again does not pile up notes
        again = desk.assign("LATE-1", department="finance")
        assert [e.action for e in again.history].count("sla_unavailable") == 1


# --- the verdict: one definition for clocks and reports -------------------------------------


def test_a_recorded_breach_is_a_miss_even_when_the_deadline_moved() -> None:
    # breached under an urgent policy, answered within the standard one's 24 h
    c = complaint(ev(3, BREACH, target="respond"), ev(10, "respond"))
    respond = clocks_at(c, 30)["respond"]
    assert respond.met_at is not None and respond.met_at < respond.deadline  # type: ignore[operator]
    assert (respond.outcome, respond.breach_recorded, respond.met) == ("missed", True, False)


def test_a_recorded_breach_makes_an_unreached_target_past_due_before_its_deadline() -> None:
    c = complaint(ev(3, BREACH, target="acknowledge"))
    assert clocks_at(c, 3.5)["acknowledge"].outcome == "open_past_due"


def test_a_reopening_forgets_the_breaches_of_the_resolve_clock_it_restarts() -> None:
    c = complaint(
        ev(1, "acknowledge"),
        ev(2, "respond"),
        ev(80, BREACH, target="resolve"),
        ev(90, "resolve"),
        ev(100, "reopen"),
        ev(120, "resolve"),
    )
    c = attrs.evolve(c, status="resolved")
    resolve = clocks_at(c, 130)["resolve"]
    assert resolve.started_at == T0 + timedelta(hours=100)
    assert (resolve.outcome, resolve.breach_recorded) == ("met", False)


def test_a_target_reached_while_paused_is_judged_on_the_moved_deadline() -> None:
    # respond due at 24 h; paused from 20 h to 30 h moves it to 34 h: answered at 33 h, met
    c = complaint(ev(1, "acknowledge"), ev(20, "pause"), ev(30, "resume"), ev(33, "respond"))
    respond = clocks_at(c, 40)["respond"]
    assert (respond.deadline, respond.outcome) == (T0 + timedelta(hours=34), "met")
    late = complaint(ev(1, "acknowledge"), ev(20, "pause"), ev(30, "resume"), ev(35, "respond"))
    assert clocks_at(late, 40)["respond"].outcome == "missed"


def test_dates_outside_the_calendar_give_no_deadline_and_say_why() -> None:
    from datetime import date

    from complaintkit_calendars.working import WorkingCalendar

    short = WorkingCalendar("short", covered=(date(2026, 1, 1), date(2026, 1, 6)))
    c = complaint(ev(1, "acknowledge"), ev(30, "respond"))
    config = {
        "sla": {"policies": {"p": {"acknowledge": "2 working hours", "resolve": "5 working days"}}}
    }
    found = compute_clocks(c, policy("p", config), short, T0 + timedelta(hours=40))
    ack, resolve = found.targets
    assert (ack.outcome, ack.deadline) == ("met", T0 + timedelta(hours=2))
    assert (resolve.outcome, resolve.deadline, resolve.met) == ("no_deadline", None, None)
    assert resolve.gap is not None and "2026-01-07" in resolve.gap


SHORT_CALENDAR = """\
from datetime import date

from complaintkit import hookimpl
from complaintkit_calendars.working import WorkingCalendar


@hookimpl
def register_business_calendars(register):
    register(WorkingCalendar("short", covered=(date(2026, 1, 1), date(2026, 1, 6))))
"""


def test_the_clocks_command_shows_the_verdict_and_why_there_is_no_deadline(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from complaintkit_cli.main import cli

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "short_calendar.py").write_text(SHORT_CALENDAR, encoding="utf-8")
    config = tmp_path / "ck.toml"
    config.write_text(
        'timezone = "UTC"\n[sla]\ndefault = "p"\ncalendar = "short"\n'
        '[sla.policies.p]\nacknowledge = "2 working hours"\nresolve = "5 working days"\n',
        encoding="utf-8",
    )
    base = ["--config", str(config), "--store", f"tinydb://{tmp_path / 'c.json'}"]
    base += ["--plugins-dir", str(plugins)]
    runner = CliRunner()
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    add = [*base, "add", "--text", "发票开错了", "--reference", "Y-1"]
    added = runner.invoke(cli, [*add, "--received-at", "2026-01-05T09:00"])
    assert added.exit_code == 0, added.output
    shown = runner.invoke(cli, [*base, "clocks", "Y-1", "--now", "2026-01-05T12:00"])
    assert shown.exit_code == 0, shown.output
    rows = {line.split()[0]: line for line in shown.output.splitlines()[3:5]}
    assert "open, past due" in rows["acknowledge"]  # due at 11:00
    assert "no deadline" in rows["resolve"]
    assert "no deadline: calendar 'short' covers only 2026" in shown.output
