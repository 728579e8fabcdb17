"""Case work on the command line, through click's runner, on a real TinyDB file: edit, note,
attach / attachments / attachment get / detach, merge, and list --sort/--tag/--custom."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit_cli.main import cli

Run = Callable[..., Result]
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture
def ck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run complaintkit against a store in tmp_path (made with init), from tmp_path."""
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | bytes | None = None) -> Result:
        result = runner.invoke(
            cli, ["--store", "tinydb://store.json", "--actor", "李雷", *args], input=input
        )
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("init")
    for reference, day, extra in [
        ("CK-1", "2026-11-01", ["--tag", "vip", "--phone", "138 0013 8000"]),
        ("CK-2", "2026-11-03", []),
        ("CK-3", "2026-11-02", ["--tag", "vip"]),
    ]:
        run(
            "add",
            "--text",
            "The fridge arrived broken.",
            "--reference",
            reference,
            "--received-at",
            f"{day}T09:00+08:00",
            "--no-classify",
            *extra,
        )
    return run


def references(result: Result) -> list[str]:
    return [line.split()[0] for line in result.stdout.splitlines() if line.startswith("CK-")]


def test_edit_sets_and_unsets_fields_and_shows_what_changed(ck: Run) -> None:
    out = ck(
        "edit",
        "CK-1",
        "--set",
        "phone=139 0000 1111",
        "--set",
        "custom.region=华东",
        "--set",
        "product=BCD-520",
        "--remove-tag",
        "vip",
        "--reason",
        "customer called back",
    ).stdout
    assert "CK-1  edited: complainant.phone, custom.region, product, tags  (version 2)" in out
    data = json.loads(ck("show", "CK-1", "--format", "json").stdout)
    assert (data["product"], data["custom"], data["tags"]) == ("BCD-520", {"region": "华东"}, [])
    event = data["history"][-1]
    assert (event["action"], event["actor"], event["reason"]) == (
        "edit",
        "李雷",
        "customer called back",
    )
    assert event["data"]["product"] == {"from": None, "to": "BCD-520"}
    ck("edit", "CK-1", "--unset", "custom.region", "--reason", "not needed")
    assert json.loads(ck("show", "CK-1", "--format", "json").stdout)["custom"] == {}


def test_a_bad_edit_is_refused_naming_the_field(ck: Run) -> None:
    result = ck("edit", "CK-1", "--set", "colour=red", "--reason", "x", ok=False)
    assert result.exit_code == 1
    assert "unknown field 'colour'" in result.output
    result = ck("edit", "CK-1", "--set", "email=nobody", "--reason", "x", ok=False)
    assert "field complainant.email: 'nobody' is not an e-mail address" in result.output
    result = ck("edit", "CK-1", "--set", "product=X", ok=False)
    assert result.exit_code == 2 and "--reason" in result.output
    result = ck(
        "edit", "CK-1", "--set", "product=X", "--reason", "x", "--expected-version", "7", ok=False
    )
    assert "you had version 7, the store has version 1" in result.output
    assert json.loads(ck("show", "CK-1", "--format", "json").stdout)["version"] == 1


def test_notes_are_shown_to_staff(ck: Run) -> None:
    assert "note added (1 in all)" in ck("note", "CK-2", "客户要求下午联系").stdout
    ck("note", "CK-2", "-", input="from standard input\n")
    shown = ck("show", "CK-2").stdout
    assert "internal note" in shown and "客户要求下午联系" in shown
    assert "from standard input" in shown
    assert "内部备注（不发送给客户）" in ck("--lang", "zh", "show", "CK-2").stdout
    assert ck("note", "CK-2", "  ", ok=False).exit_code == 1


def test_attach_list_get_and_detach(ck: Run, tmp_path: Path) -> None:
    (tmp_path / "invoice.pdf").write_bytes(PDF)
    out = ck("attach", "CK-1", "invoice.pdf").stdout
    assert "CK-1  attached invoice.pdf (36 bytes, application/pdf" in out
    listed = json.loads(ck("attachments", "CK-1", "--format", "json").stdout)
    assert [(a["name"], a["size"], a["type"], a["added_by"]) for a in listed] == [
        ("invoice.pdf", len(PDF), "application/pdf", "李雷")
    ]
    assert "invoice.pdf" in ck("attachments", "CK-1").stdout
    assert "invoice.pdf" in ck("show", "CK-1").stdout
    ck("attachment", "get", "CK-1", "invoice.pdf", "--out", "copy.pdf")
    assert (tmp_path / "copy.pdf").read_bytes() == PDF
    again = ck("attachment", "get", "CK-1", "invoice.pdf", "--out", "copy.pdf", ok=False)
    assert "copy.pdf exists; use --force" in again.output
    ck("detach", "CK-1", "invoice.pdf", "--reason", "wrong file")
    assert "CK-1 has no attachments" in ck("attachments", "CK-1").stdout
    missing = ck("attachment", "get", "CK-1", "invoice.pdf", "--out", "x.pdf", ok=False)
    assert "complaint CK-1 has no attachment named 'invoice.pdf'" in missing.output


def test_attach_refuses_a_disguised_file_and_reads_stdin_with_a_name(
    ck: Run, tmp_path: Path
) -> None:
    (tmp_path / "photo.png").write_bytes(PDF)
    result = ck("attach", "CK-1", "photo.png", ok=False)
    assert "the name says image/png (.png) but the content is application/pdf" in result.output
    assert ck("attach", "CK-1", "-", ok=False, input=b"text").exit_code == 2
    ck("attach", "CK-1", "-", "--name", "../../call.txt", input=b"call log\n")
    assert [
        a["name"] for a in json.loads(ck("attachments", "CK-1", "--format", "json").stdout)
    ] == ["call.txt"]


def test_merge_closes_the_duplicate_into_the_kept_one(ck: Run, tmp_path: Path) -> None:
    ck("note", "CK-3", "same fridge")
    (tmp_path / "invoice.pdf").write_bytes(PDF)
    ck("attach", "CK-3", "invoice.pdf")
    out = ck("merge", "CK-2", "CK-3", "--reason", "same case").stdout
    assert "CK-3 merged into CK-2: 1 tag(s), 1 note(s), 1 attachment(s) carried" in out
    dup = ck("show", "CK-3").stdout
    assert "merged into  CK-2" in dup and "rejected" in dup
    kept = json.loads(ck("show", "CK-2", "--format", "json").stdout)
    assert kept["tags"] == ["vip"]
    assert "invoice.pdf" in ck("attachments", "CK-2").stdout
    reopen = ck("transition", "CK-3", "reopen", "--reason", "no", ok=False)
    assert "it was merged into CK-2" in reopen.output


def test_list_is_newest_first_and_sorts_and_filters(ck: Run) -> None:
    assert references(ck("list")) == ["CK-2", "CK-3", "CK-1"]
    assert references(ck("list", "--sort", "received_at")) == ["CK-1", "CK-3", "CK-2"]
    assert references(ck("list", "--sort", "-reference")) == ["CK-3", "CK-2", "CK-1"]
    assert references(ck("list", "--tag", "vip")) == ["CK-3", "CK-1"]
    ck("edit", "CK-3", "--set", "custom.store_no=12", "--reason", "x")
    assert references(ck("list", "--custom", "store_no=12")) == ["CK-3"]
    assert references(ck("list", "--custom", "store_no=13")) == []
    bad = ck("list", "--sort", "colour", ok=False)
    assert bad.exit_code == 2 and "cannot sort by 'colour'" in bad.output
    assert ck("list", "--custom", "nokey", ok=False).exit_code == 2


def test_reopen_a_rejected_complaint(ck: Run) -> None:
    ck("transition", "CK-1", "reject", "--reason", "looked like spam")
    out = ck("transition", "CK-1", "reopen", "--reason", "a real complaint after all").stdout
    assert "CK-1  reopened" in out
