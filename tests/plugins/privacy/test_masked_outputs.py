"""Personal data masked on the way out: ``show``, ``list`` in every format, a changed
complaint's JSON and the 8D report; in full only with ``--unmasked --reason``, recorded in
the history (a real TinyDB store through the CLI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit_cli.main import cli

Run = Callable[..., Result]

PHONE, EMAIL, ID_CARD = "13812345678", "li.ming@qq.com", "11010519491231002X"
TEXT = f"张三丰投诉：请打我手机{PHONE}或发邮件到{EMAIL}，身份证{ID_CARD}，地址写错了"
SECRETS = (PHONE, EMAIL, ID_CARD, "张三丰", "朝阳区建国路88号")


@pytest.fixture
def ck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["--store", "tinydb://s.json", "--actor", "wang", *args])
        assert result.exit_code == code, result.output
        return result

    run("init")
    return run


@pytest.fixture
def ref(ck: Run, tmp_path: Path) -> str:
    (tmp_path / "in.csv").write_text(
        "received_at,text,complainant_name,complainant_phone,complainant_email,address\n"
        f"2026-12-01 10:00,{TEXT},张三丰,{PHONE},{EMAIL},朝阳区建国路88号\n",
        encoding="utf-8",
    )
    ck("import", str(tmp_path / "in.csv"))
    (tmp_path / "complaintkit.toml").write_text(
        '[privacy]\nfields = { address = "address" }\n', encoding="utf-8"
    )
    listed = json.loads(ck("list", "--format", "json").stdout)
    return str(listed[0]["reference"])


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_every_output_is_masked_by_default(ck: Run, ref: str) -> None:
    outputs = {
        "show": ck("show", ref).stdout,
        "show json": ck("show", ref, "--format", "json").stdout,
        "list": ck("list").stdout,
        **{f"list {fmt}": ck("list", "--format", fmt).stdout for fmt in ("json", "jsonl", "csv")},
        "transition json": ck("transition", ref, "acknowledge", "--format", "json").stdout,
    }
    for name, text in outputs.items():
        assert not leaks(text), f"{name} shows {leaks(text)}"
    shown = json.loads(outputs["show json"])
    assert shown["complainant"]["phone"] == "138****5678"
    assert shown["complainant"]["email"] == "l***@qq.com"
    assert shown["complainant"]["name"] == "张**"
    assert "110***********002X" in shown["text"] and "张**投诉" in shown["text"]
    assert shown["custom"]["address"] == "朝阳区******"  # a custom field in [privacy] fields


def test_unmasked_needs_a_reason_and_is_recorded(ck: Run, ref: str, tmp_path: Path) -> None:
    refused = ck("show", ref, "--unmasked", code=2)
    assert "--unmasked needs --reason" in refused.output
    assert "--reason goes with --unmasked" in ck("show", ref, "--reason", "x", code=2).output
    full = ck("show", ref, "--unmasked", "--reason", "calling the customer back, T-42").stdout
    assert PHONE in full and "张三丰" in full
    history = json.loads(ck("show", ref, "--format", "json").stdout)["history"]
    last = history[-1]
    assert last["action"] == "personal_data_disclosed" and last["actor"] == "wang"
    assert last["reason"] == "calling the customer back, T-42"
    exported = ck("list", "--format", "csv", "--unmasked", "--reason", "audit export").stdout
    assert PHONE in exported
    history = json.loads(ck("show", ref, "--format", "json").stdout)["history"]
    assert [e["reason"] for e in history if e["action"] == "personal_data_disclosed"] == [
        "calling the customer back, T-42",
        "audit export",
    ]
    # Nothing unmasked without a record: a refused --unmasked records nothing.
    ck("list", "--unmasked", code=2)
    again = json.loads(ck("show", ref, "--format", "json").stdout)["history"]
    assert len(again) == len(history)


def test_masking_can_be_switched_off(ck: Run, ref: str, tmp_path: Path) -> None:
    (tmp_path / "complaintkit.toml").write_text("[privacy]\nmask = false\n", encoding="utf-8")
    assert PHONE in ck("show", ref).stdout
    (tmp_path / "complaintkit.toml").write_text("[privacy]\nmask = 'no'\n", encoding="utf-8")
    assert "privacy.mask: expected true or false, got 'no'" in ck("show", ref, code=2).output
    (tmp_path / "complaintkit.toml").write_text(
        '[privacy]\nfields = { address = "street" }\n', encoding="utf-8"
    )
    assert (
        "privacy.fields.address: expected one of name, phone, email, address"
        in ck("show", ref, code=2).output
    )


def test_the_8d_report_quotes_complaints_masked(ck: Run, ref: str) -> None:
    report = ck("report", "8d", "--format", "markdown").stdout
    assert ref in report
    assert not leaks(report), leaks(report)
