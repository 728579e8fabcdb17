"""CLI conventions, once: one --format option with the same names on every command that prints
records or results, and shell completion of the names only plugins know."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from complaintkit.commands import OUTPUT_FORMATS
from complaintkit_cli.main import cli
from conftest import REPO

COMPLAINTKIT = str(Path(sys.executable).with_name("complaintkit"))
PROCESS = REPO / "examples" / "process.toml"

#: Commands that print records or results, each of which must offer --format.
PRINTING = [
    "add", "show", "list", "clocks", "sweep", "route", "transition", "assign", "escalate",
    "label", "pause", "resume", "respond", "satisfaction", "plugins", "schemes", "evaluate",
    "calendars list", "calendars days", "outbox list", "recompute", "calendars check",
    "audit verify",
]  # fmt: skip
#: Commands whose --format names something else: the input file's (import) or a report's.
OTHER_FORMATS = {"import", "report"}


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    found: dict[str, click.Command] = {}
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None
        found[name] = command
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                found[f"{name} {sub}"] = command.commands[sub]
    return found


def _format(command: click.Command) -> click.Option | None:
    return next((p for p in command.params if "--format" in getattr(p, "opts", ())), None)


def test_every_command_that_prints_has_one_format_option_with_the_shared_names() -> None:
    commands = _commands()
    assert set(PRINTING) <= set(commands), set(PRINTING) - set(commands)
    for name in PRINTING:
        option = _format(commands[name])
        assert option is not None, f"{name} has no --format"
        assert isinstance(option.type, click.Choice)
        assert option.default == "table", name
        assert set(option.type.choices) <= set(OUTPUT_FORMATS), name
        assert {"table", "json"} <= set(option.type.choices), name
    for name, command in commands.items():
        option = _format(command)
        if option is not None and name not in OTHER_FORMATS:
            assert isinstance(option.type, click.Choice)
            assert set(option.type.choices) <= set(OUTPUT_FORMATS), name


@pytest.fixture
def store(tmp_path: Path) -> list[str]:
    base = ["--config", str(PROCESS), "--store", f"tinydb://{tmp_path / 'c.json'}"]
    runner = CliRunner()
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    added = runner.invoke(
        cli,
        [*base, "add", "--reference", "F-1", "--received-at", "2026-11-02T09:00:00+08:00"]
        + ["--text", '=HYPERLINK("http://x") the invoice total is wrong'],
    )
    assert added.exit_code == 0, added.output
    return base


def run(base: list[str], *args: str) -> str:
    result = CliRunner().invoke(cli, [*base, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_change_prints_the_stored_complaint_as_json(store: list[str]) -> None:
    line = run(store, "transition", "F-1", "acknowledge")
    assert line.startswith("F-1  ")
    data = json.loads(run(store, "assign", "F-1", "--department", "billing", "--format", "json"))
    assert (data["reference"], data["department"], data["status"]) == (
        "F-1",
        "billing",
        "acknowledged",
    )
    shown = json.loads(run(store, "show", "F-1", "--format", "json"))
    assert shown == data
    (one_line,) = run(
        store, "pause", "F-1", "--reason", "waiting", "--format", "jsonl"
    ).splitlines()
    assert json.loads(one_line)["reference"] == "F-1"


def test_clocks_in_every_format(store: list[str]) -> None:
    now = ["--now", "2026-11-03T09:00:00+08:00"]
    table = run(store, "clocks", "F-1", *now)
    assert "deadline" in table and "F-1" in table
    records = json.loads(run(store, "clocks", "F-1", *now, "--format", "json"))
    assert {r["target"] for r in records} >= {"acknowledge", "resolve"}
    rows = list(csv.DictReader(io.StringIO(run(store, "clocks", "F-1", *now, "--format", "csv"))))
    assert [r["target"] for r in rows] == [r["target"] for r in records]
    assert rows[0]["reference"] == "F-1" and rows[0]["deadline"] == records[0]["deadline"]


def test_sweep_as_json(store: list[str]) -> None:
    result = json.loads(
        run(store, "sweep", "--now", "2026-11-20T09:00:00+08:00", "--dry-run", "--format", "json")
    )
    assert result["dry_run"] is True and result["examined"] == 1
    assert result["changed"] == ["F-1"] and result["breaches"] >= 1


def _complete(*words: str) -> list[str]:
    env = {
        **os.environ,
        "_COMPLAINTKIT_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(["complaintkit", *words]),
        "COMP_CWORD": str(len(words)),
    }
    done = subprocess.run([COMPLAINTKIT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines()]


def test_shell_completion_offers_reports_schemes_labels_and_plugin_commands() -> None:
    assert {"summary", "sla"} == set(_complete("report", "s"))
    assert {"severity", "cause", "behaviour", "purpose"} <= set(
        _complete("classify", "--scheme", "")
    )
    assert set(_complete("list", "--label", "cause=p")) == {"cause=product_quality", "cause=price"}
    assert "outbox" in _complete("ou")  # a plugin's command
    assert set(_complete("list", "--format", "j")) == {"json", "jsonl"}


def test_import_reads_standard_input_with_a_format(tmp_path: Path) -> None:
    base = ["--store", f"tinydb://{tmp_path / 'c.json'}"]
    runner = CliRunner()
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    rows = (REPO / "examples" / "complaints.csv").read_text(encoding="utf-8").splitlines()[:6]
    data = "\n".join(rows) + "\n"
    rejects = ["--rejects", str(tmp_path / "r.jsonl")]
    refused = runner.invoke(cli, [*base, "import", "-", *rejects], input=data)
    assert refused.exit_code == 2 and "needs --format" in refused.output
    first = runner.invoke(cli, [*base, "import", "-", "--format", "csv", *rejects], input=data)
    assert first.exit_code == 0, first.output
    assert "read 5 records from stdin.csv, imported 5" in first.stdout
    again = runner.invoke(cli, [*base, "import", "-", "--format", "csv", *rejects], input=data)
    assert "imported 0, skipped 5 already in the store" in again.stdout
    listed = json.loads(runner.invoke(cli, [*base, "list", "--format", "json"]).stdout)
    assert len(listed) == 5
