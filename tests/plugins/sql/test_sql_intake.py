"""Bytes a database refuses (issue 13.2), on SQLite, PostgreSQL and MariaDB: a NUL in one row of
an import is removed at intake, so every backend stores every row; a write that the database
refuses all the same loses only that row; `migrate` copies a store that already holds NUL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import Config, make_host
from complaintkit.intake import CHARACTERS_REMOVED
from complaintkit.testing import FIXED_TIME, make_complaint
from complaintkit_cli.main import cli
from complaintkit_migrate import migrate

ROWS = 2500
BAD = 1701  # the row holding the NUL; it is on line BAD + 1 (the header is line 1)


def ck(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--store", url, *args])
    assert result.exit_code == code, result.output
    return result


def test_an_import_with_a_nul_stores_every_row_and_names_the_line(
    sql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "nul.csv"
    lines = ["reference,received_at,text"]
    for i in range(1, ROWS + 1):
        text = "bad \x00 byte here" if i == BAD else f"complaint number {i} about the router"
        lines.append(f"N-{i},2026-11-01T10:00:00+08:00,{text}")
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ck(sql_url, "init")
    dry = ck(sql_url, "import", str(source), "--no-classify", "--dry-run")
    assert f"{ROWS} would be imported" in dry.stdout
    result = ck(sql_url, "import", str(source), "--no-classify", "--rejects", "r.jsonl")
    assert f"imported {ROWS}, removed NUL characters from 1" in result.stdout
    assert f"nul.csv, line {BAD + 1}: removed characters no store can hold" in result.stderr
    assert not (tmp_path / "r.jsonl").exists()
    assert "2,500 complaints" in ck(sql_url, "list", "--limit", "1").stdout
    shown = json.loads(ck(sql_url, "show", f"N-{BAD}", "--format", "json").stdout)
    assert shown["text"] == "bad  byte here"
    assert any(e["action"] == CHARACTERS_REMOVED for e in shown["history"])


def test_a_row_the_database_refuses_loses_only_that_row(sql_url: str) -> None:
    # Straight to the store, past the Desk's intake rule: what a program writing directly gets.
    host = make_host(Config(store=sql_url), env={})
    with host.open_store(create=True) as store:
        texts = {BAD: "nul \x00 here", BAD + 99: "surrogate \udce9 here"}
        result = store.add_many(
            make_complaint(f"R-{i:04d}", text=texts.get(i, f"complaint {i}"))
            for i in range(1, ROWS + 1)
        )
        refused = dict(result.refused)
        # No UTF-8 driver can send a lone surrogate; only PostgreSQL refuses NUL.
        expected = {f"R-{BAD + 99:04d}"}
        if store.url.startswith("postgresql"):
            expected.add(f"R-{BAD:04d}")
            assert "cannot contain NUL" in refused[f"R-{BAD:04d}"]
        assert set(refused) == expected
        assert "surrogates not allowed" in refused[f"R-{BAD + 99:04d}"]
        assert result.added == ROWS - len(expected)
        assert store.count() == ROWS - len(expected)
        assert store.get(f"R-{BAD + 1:04d}").text == f"complaint {BAD + 1}"


def test_migrate_copies_a_store_that_holds_nul(sql_url: str, tmp_path: Path) -> None:
    source_url = f"tinydb://{tmp_path / 'old.json'}"
    with make_host(Config(store=source_url), env={}).open_store(create=True) as old:
        # A TinyDB store written before the intake rule holds NUL as it was given.
        old.add_many(
            make_complaint(
                f"M-{i:04d}",
                received_at=FIXED_TIME + timedelta(minutes=i),
                text="nul \x00 text" if i == 700 else f"complaint {i}",
            )
            for i in range(1, 1212)
        )
        assert old.get("M-0700").text == "nul \x00 text"
    result = CliRunner().invoke(cli, ["migrate", source_url, sql_url])
    assert result.exit_code == 0, result.output
    assert "copied 1,211 complaints" in result.stdout
    assert "from 1 complaint, as intake does: M-0700" in result.stderr
    assert "verified: 1,211 complaints on both sides" in result.stdout
    host = make_host(Config(store=sql_url), env={})
    with host.open_store() as new, make_host(Config(store=source_url), env={}).open_store() as old:
        assert new.get("M-0700").text == "nul  text"
        again = migrate(old, new)  # a re-run finds everything there and equal
        assert (again.copy.copied, again.copy.already_there) == (0, 1211)
        assert again.verification.ok
