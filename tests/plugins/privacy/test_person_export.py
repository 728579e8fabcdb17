"""``complaintkit person export``: everything held about one person, in full, recorded (a real
TinyDB store with a real outbox, through the CLI)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import make_host
from complaintkit.config import load_config
from complaintkit.outbox import OutboxMessage, outbox_of
from complaintkit_cli.main import cli


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", "tinydb://s.json", "--actor", "dpo", *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    run("init")
    run("add", "--text", "快递丢了", "--name", "张三丰", "--phone", "13812345678")
    run("add", "--text", "Refund still missing", "--phone", "+86 138-1234-5678")
    run("add", "--text", "someone else", "--phone", "13900001111", "--email", "x@y.cn")
    return tmp_path


def refs(store: Path) -> dict[str, str]:
    listed = json.loads(run("list", "--format", "json").stdout)
    return {c["text"]: c["reference"] for c in listed}


def test_every_complaint_of_the_person_in_full_with_notifications(store: Path) -> None:
    by_text = refs(store)
    host = make_host(load_config(None, store=f"tinydb://{store / 's.json'}"), env={})
    with host.open_store() as opened:
        outbox_of(opened).enqueue(
            [
                OutboxMessage(
                    key="m-1",
                    channel="sms",
                    recipient="13812345678",
                    body="您的投诉已受理",
                    created_at=datetime(2026, 12, 1, tzinfo=UTC),
                    reference=by_text["快递丢了"],
                ),
                OutboxMessage(
                    key="m-2",
                    channel="email",
                    recipient="x@y.cn",
                    body="not theirs",
                    created_at=datetime(2026, 12, 1, tzinfo=UTC),
                    reference=by_text["someone else"],
                ),
            ]
        )
    data = json.loads(
        run("person", "export", "--phone", "138 1234 5678", "--reason", "SAR-7").stdout
    )
    texts = sorted(c["text"] for c in data["complaints"])
    assert texts == ["Refund still missing", "快递丢了"]  # both spellings of the number
    assert {c["complainant"]["name"] for c in data["complaints"]} >= {"张三丰"}  # in full
    assert [m["key"] for m in data["notifications"]] == ["m-1"]
    assert data["notifications"][0]["body"] == "您的投诉已受理"
    shown = json.loads(run("show", by_text["快递丢了"], "--format", "json").stdout)
    last = shown["history"][-1]
    assert last["action"] == "personal_data_disclosed" and last["actor"] == "dpo"
    assert last["reason"] == "subject access export: SAR-7"
    other = json.loads(run("show", by_text["someone else"], "--format", "json").stdout)
    assert other["history"][-1]["action"] != "personal_data_disclosed"


def test_to_a_file_and_the_usage_errors(store: Path) -> None:
    out = store / "sar.json"
    result = run("person", "export", "--email", "X@Y.cn", "--reason", "SAR-8", "--out", str(out))
    assert "1 complaint(s) and 0 notification(s) written to" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["text"] for c in data["complaints"]] == ["someone else"]
    assert "name the person" in run("person", "export", "--reason", "x", code=2).output
    assert "Missing option '--reason'" in run("person", "export", "--phone", "1", code=2).output
    nobody = json.loads(run("person", "export", "--customer-id", "C-404", "--reason", "r").stdout)
    assert nobody["complaints"] == [] and nobody["notifications"] == []
