"""Importing another system's history: statuses, step times, breaches and disputes, row filters,
and a first sweep that announces nothing that happened before the import."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaintkit import ConfigError, hookimpl
from complaintkit.lifecycle import IMPORT, IMPORT_ACTOR
from complaintkit.model import Complaint, Status
from complaintkit_cli.main import cli
from complaintkit_importing import ColumnMapping, read_complaints
from conftest import require_dataset
from process_support import EXAMPLE, SHANGHAI, Clock, make_desk, sh

CRM_MAPPING = """\
name = "old-crm"

[columns]
reference = "工单号"
received_at = "投诉时间"
text = "问题描述"
status = "状态"
acknowledged_at = "受理时间"
responded_at = "答复时间"
resolved_at = "解决时间"
closed_at = "结案时间"
department = "部门"
assignee = "处理人"
satisfaction = "满意度"
disputed = "是否异议"

[values.status]
"处理中" = "investigating"
"已解决" = "resolved"
"已结案" = "closed"

[custom]
source_status = "状态"

[options]
reference_prefix = "OLD-"
"""

CRM_HEADER = (
    "工单号,投诉时间,问题描述,状态,受理时间,答复时间,"
    "解决时间,结案时间,部门,处理人,满意度,是否异议\n"
)


def _crm(tmp_path: Path, *rows: str) -> tuple[Path, ColumnMapping]:
    mapping = tmp_path / "old-crm.toml"
    mapping.write_text(CRM_MAPPING, encoding="utf-8")
    data = tmp_path / "crm.csv"
    data.write_text(CRM_HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return data, ColumnMapping.from_file(mapping)


def _read(path: Path, mapping: ColumnMapping | None = None) -> tuple[list[Complaint], list[Any]]:
    rejects: list[Any] = []
    with read_complaints(path, mapping=mapping, tz=SHANGHAI, on_reject=rejects.append) as rows:
        return list(rows), rejects


# --- the history a row brings ----------------------------------------------------------------


def test_a_closed_work_order_comes_in_with_its_steps_at_the_source_times(tmp_path: Path) -> None:
    path, mapping = _crm(
        tmp_path,
        "W-1,2025-10-09 09:00,屏幕坏了,已结案,2025-10-09 09:30,2025-10-09 15:00,"
        "2025-10-10 11:00,2025-10-10 12:00,售后,王芳,4,是",
    )
    (complaint,), rejects = _read(path, mapping)
    assert rejects == []
    assert complaint.status is Status.CLOSED
    assert (complaint.department, complaint.assignee, complaint.satisfaction) == ("售后", "王芳", 4)
    steps = [(e.action, e.at.strftime("%m-%d %H:%M")) for e in complaint.history]
    assert steps == [
        ("received", "10-09 09:00"),
        ("acknowledge", "10-09 09:30"),
        ("respond", "10-09 15:00"),
        ("resolve", "10-10 11:00"),
        ("close", "10-10 12:00"),
        ("dispute", "10-10 12:00"),
    ]
    assert all(e.actor == IMPORT_ACTOR and e.data["imported"] is True for e in complaint.history)
    # resolve jumps over the states the CRM does not record; the data says so
    assert complaint.history[3].data["from"] == "acknowledged"
    assert complaint.custom == {"source_status": "已结案"}


def test_a_status_beyond_the_last_time_is_imported_without_a_time(tmp_path: Path) -> None:
    path, mapping = _crm(tmp_path, "W-2,2025-10-09 09:00,没人回电话,已解决,2025-10-09 10:00,,,,,,,")
    (complaint,), _ = _read(path, mapping)
    assert complaint.status is Status.RESOLVED
    last = complaint.history[-1]
    assert (last.action, last.actor) == (IMPORT, IMPORT_ACTOR)
    assert last.data == {
        "from": "acknowledged",
        "to": "resolved",
        "imported": True,
        "source_status": "已解决",
    }
    # recorded when the import ran, as the time it was reached is not known
    assert last.at > datetime(2026, 1, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("W-3,2025-10-09,x,待定,,,,,,,,", "status", "unknown value '待定' (known: received,"),
        ("W-4,2025-10-09,x,处理中,,,2025-10-10,,,,,", "status", "'investigating' is behind"),
        ("W-5,2025-10-09,x,,2025-10-08,,,,,,,", "acknowledged_at", "before the complaint was"),
        ("W-6,2025-10-09,x,,,,,,,,,也许", "disputed", "not yes or no"),
        ("W-7,2025-10-09,x,,明天,,,,,,,", "acknowledged_at", "'明天' is not a date"),
    ],
)
def test_history_that_cannot_be_true_is_rejected_by_field(
    tmp_path: Path, row: str, field: str, reason: str
) -> None:
    path, mapping = _crm(tmp_path, row)
    complaints, rejects = _read(path, mapping)
    assert complaints == []
    assert rejects[0].field == field and reason in rejects[0].reason, rejects[0].reason


def test_our_own_status_names_need_no_translation(tmp_path: Path) -> None:
    path, mapping = _crm(
        tmp_path, "W-8,2025-10-09,x,已确认,,,,,,,,", "W-9,2025-10-09,y,closed,,,,,,,,"
    )
    complaints, rejects = _read(path, mapping)
    assert rejects == []
    assert [c.status for c in complaints] == [Status.ACKNOWLEDGED, Status.CLOSED]


def test_a_custom_field_may_not_take_one_of_our_names(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ntext = "t"\nreceived_at = "d"\n[custom]\nstatus = "s"\n')
    with pytest.raises(ConfigError, match=r"\[custom\] status: 'status' is one of our own"):
        ColumnMapping.from_file(mapping)


def test_an_unmapped_column_with_one_of_our_names_is_kept_under_another(tmp_path: Path) -> None:
    path = tmp_path / "native.csv"
    path.write_text("received_at,text,version,labels\n2025-10-09,x,7,vip\n", encoding="utf-8")
    (complaint,), _ = _read(path)
    assert complaint.custom == {"source_version": "7", "source_labels": "vip"}
    assert complaint.version == 0 and complaint.history == ()  # a plain row: no history


def test_a_mapping_refuses_a_status_or_target_it_cannot_give(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    base = '[columns]\ntext = "t"\nreceived_at = "d"\nstatus = "s"\nsla_missed = "x"\n'
    mapping.write_text(base + '[values.status]\n"Done" = "finished"\n')
    with pytest.raises(ConfigError, match="'finished' is not a status"):
        ColumnMapping.from_file(mapping)
    mapping.write_text(base + '[values.sla_missed]\n"No" = "reply"\n')
    with pytest.raises(ConfigError, match="'reply' is not an SLA target"):
        ColumnMapping.from_file(mapping)


# --- filters ---------------------------------------------------------------------------------


def test_a_filter_keeps_matching_rows_and_counts_the_others(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "id,when,text,mood\n1,2025-10-09,late again,Negative\n2,2025-10-09,thanks!,positive\n"
        "3,2025-10-09,lost bag,negative\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nreference = "id"\nreceived_at = "when"\ntext = "text"\n'
        '[filter]\nmood = "negative"\n'
    )
    rejects: list[Any] = []
    with read_complaints(
        path, mapping=ColumnMapping.from_file(mapping), tz=SHANGHAI, on_reject=rejects.append
    ) as reader:
        kept = [c.reference for c in reader]
        left_out = reader.left_out
    assert kept == ["1", "3"] and left_out == 1 and rejects == []


def test_a_filter_on_a_column_the_file_lacks_stops_the_import(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("when,text\n2025-10-09,x\n", encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nreceived_at = "when"\ntext = "text"\n[filter]\nlabel = ["0", "-1"]\n'
        "[options]\nstrict = false\n"
    )
    with pytest.raises(ConfigError, match=r"'label' \(for \[filter\]\)"):
        _read(path, ColumnMapping.from_file(mapping))


# --- the desk: nothing before the import notifies or escalates ---------------------------------


class Heard:
    """Every lifecycle hook call, by hook name."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    @hookimpl
    def complaint_received(self, complaint: Any) -> None:
        self.calls["received"] += 1

    @hookimpl
    def complaint_classified(self, complaint: Any) -> None:
        self.calls["classified"] += 1

    @hookimpl
    def complaint_escalated(self, complaint: Any) -> None:
        self.calls["escalated"] += 1

    @hookimpl
    def complaint_sla_breached(self, complaint: Any) -> None:
        self.calls["breached"] += 1

    @hookimpl
    def complaint_sla_warning(self, complaint: Any) -> None:
        self.calls["warning"] += 1


def test_imported_history_notifies_and_escalates_nobody(tmp_path: Path) -> None:
    path, mapping = _crm(
        tmp_path,
        # closed in the CRM: every clock stopped there
        "W-1,2025-09-29 09:00,屏幕坏了,已结案,2025-09-29 09:30,2025-09-29 15:00,"
        "2025-09-30 11:00,2025-09-30 12:00,售后,王芳,4,",
        # still open: acknowledged, but the answer was due long before the import
        "W-2,2025-09-29 10:00,电池爆炸，我的手被烧伤了，要起诉你们,处理中,2025-09-29 10:20,,,,,,,",
    )
    heard = Heard()
    clock = Clock(sh("2025-10-20 09:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 's.json'}", clock=clock, plugins=(heard,))
    with read_complaints(path, mapping=mapping, tz=SHANGHAI, on_reject=print) as rows:
        assert desk.intake_many(rows).added == 2
    assert heard.calls == Counter()  # not received, classified or escalated: it all happened
    closed, open_ = desk.get("OLD-W-1"), desk.get("OLD-W-2")
    # the fast channel does not raise an imported complaint either (W-2 is a serious one)
    assert open_.escalation_level == 0 and open_.label("severity") == "serious"
    assert closed.due_at is None and closed.alert_at is None
    breaches = [e for e in open_.history if e.action == "sla_breach"]
    assert {e.data["target"] for e in breaches} == {"respond", "resolve"}
    assert all(e.data["historical"] and e.actor == IMPORT_ACTOR for e in breaches)

    result = desk.sweep()
    assert (result.examined, result.breaches, result.escalations, result.warnings) == (0, 0, 0, 0)
    assert heard.calls == Counter()

    clocks = desk.clocks(closed)
    assert clocks is not None and [t.outcome for t in clocks.targets] == ["met"] * 3
    clocks = desk.clocks(open_)
    assert clocks is not None
    assert [t.outcome for t in clocks.targets] == ["met", "open_past_due", "open_past_due"]
    # handled here after the import, the complaint lives on like any other
    proposed = desk.transition("OLD-W-2", "propose", solution="a new battery")
    assert proposed.status is Status.SOLUTION_PROPOSED and proposed.history[-1].actor == "tester"
    store.close()


def test_a_status_without_its_time_is_neither_met_nor_missed(tmp_path: Path) -> None:
    path, mapping = _crm(tmp_path, "W-1,2025-09-29 09:00,发票开错了,已结案,,,,,,,,")
    desk, store = make_desk(f"tinydb://{tmp_path / 's.json'}", clock=Clock(sh("2025-10-20 09:00")))
    with read_complaints(path, mapping=mapping, tz=SHANGHAI, on_reject=print) as rows:
        desk.intake_many(rows)
    clocks = desk.clocks("OLD-W-1")
    assert clocks is not None and [t.outcome for t in clocks.targets] == ["untimed"] * 3
    report = desk.report("sla", now=sh("2025-10-20 09:00"))
    targets = {t.key: t for t in report.tables}["targets"]
    columns = [c.key for c in targets.columns]
    assert all(row[columns.index("untimed")] == 1 for row in targets.rows)
    assert all(
        row[columns.index("met")] == row[columns.index("missed")] == 0 for row in targets.rows
    )
    store.close()


# --- the real data sets ------------------------------------------------------------------------


def _ck(tmp_path: Path, *args: str) -> Any:
    store = f"tinydb://{tmp_path / 'store.json'}"
    return CliRunner().invoke(
        cli, ["--config", str(EXAMPLE), "--store", store, *args], catch_exceptions=False
    )


@pytest.mark.slow
def test_comcast_file_first_sweep_records_nothing(tmp_path: Path) -> None:
    path = require_dataset("comcast_fcc_complaints_2015/comcast_fcc_complaints_2015.csv")
    assert _ck(tmp_path, "init").exit_code == 0
    done = _ck(tmp_path, "import", str(path), "--no-classify", "--rejects", str(tmp_path / "r"))
    assert done.exit_code == 0, done.output
    # Solved 973 / Closed 734 / Open 363 / Pending 154 in the full set; 1,810 rows here
    assert "with their history: received 290, investigating 134, resolved 802, closed 584" in (
        done.output
    )
    sweep = _ck(tmp_path, "sweep")
    assert sweep.exit_code == 0, sweep.output
    assert "examined 0, recorded 0 warnings, 0 breaches, 0 escalations" in sweep.output
    report = _ck(tmp_path, "report", "sla", "--format", "json")
    targets = {t["key"]: t for t in json.loads(report.output)["tables"]}["targets"]
    keys = [c["key"] for c in targets["columns"]]
    respond = targets["rows"][1]
    # the open ones were past due before the import: their breaches are counted
    assert respond[keys.index("open_past_due")] == 290 + 134
    assert respond[keys.index("untimed")] == 802 + 584


@pytest.mark.slow
def test_cfpb_file_keeps_cfpbs_own_verdicts(tmp_path: Path) -> None:
    path = require_dataset("cfpb_complaints/cfpb_complaints.csv")
    rejects: list[Any] = []
    statuses: Counter[str] = Counter()
    missed = disputed = 0
    with read_complaints(path, tz=SHANGHAI, on_reject=rejects.append) as rows:
        assert rows.mapping.name == "cfpb"
        for c in rows:
            statuses[c.status.value] += 1
            missed += any(e.action == "sla_breach" for e in c.history)
            disputed += any(e.action == "dispute" for e in c.history)
    assert rejects == []
    assert statuses == {"closed": 32557, "investigating": 17975, "received": 407}
    assert missed == 810  # timely_response = No
    assert disputed == 4911  # consumer_disputed = Yes


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "kept", "left_out"),
    [
        ("twitter_airline_sentiment/tweets.csv", "7292 would be imported", "left out 4333"),
        ("chinese_reviews/chinese_reviews.csv", "33289 would be imported", "left out 32688"),
    ],
)
def test_sentiment_presets_import_the_negative_rows_only(
    tmp_path: Path, relative: str, kept: str, left_out: str
) -> None:
    path = require_dataset(relative)
    assert _ck(tmp_path, "init").exit_code == 0
    done = _ck(tmp_path, "import", str(path), "--dry-run", "--rejects", str(tmp_path / "r"))
    assert kept in done.output and left_out in done.output, done.output


def test_deadlines_after_the_import_are_announced_as_usual(tmp_path: Path) -> None:
    # received on Friday 2025-10-17 at 09:00, in progress when imported on Saturday: the
    # response (1 working day: Friday 18:00) was due before the import, the resolution (3
    # working days: Tuesday 18:00) after it, so the sweep announces that one as usual
    path, mapping = _crm(tmp_path, "W-1,2025-10-17 09:00,发票开错了,处理中,2025-10-17 09:30,,,,,,,")
    heard = Heard()
    clock = Clock(sh("2025-10-18 10:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 's.json'}", clock=clock, plugins=(heard,))
    with read_complaints(path, mapping=mapping, tz=SHANGHAI, on_reject=print) as rows:
        desk.intake_many(rows)
    history = desk.get("OLD-W-1").history
    assert [e.data["target"] for e in history if e.action == "sla_breach"] == ["respond"]
    assert desk.sweep(now=sh("2025-10-20 09:00")).breaches == 0  # nothing new is due yet
    result = desk.sweep(now=sh("2025-10-22 09:00"))
    assert (result.breaches, result.escalations) == (1, 1)
    assert heard.calls == Counter({"breached": 1, "escalated": 1})
    store.close()
