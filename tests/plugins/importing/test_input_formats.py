"""Input formats from other plugins: a local plugin registers one (another CRM's export) and
``complaintkit import`` reads it like a built-in format — by its ending, by --format, from
standard input — with the same mapping, rejects file and messages."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from complaintkit_cli.main import cli

LOCAL = Path(__file__).parent / "local_plugins"

CARDS = """\
Received at: 2026-11-23 10:00
Channel: 电话
Text: 快递三天没到，客服不回电话

received_at: 2026-11-24 09:30
text: 退款迟迟不到账
reference: CRM-2

this paragraph is not a card
text: lost

Received at: 2026-11-25 08:00
Channel: fax machine
Text: 发票开错了
"""


def _base(tmp_path: Path) -> list[str]:
    return ["--store", f"tinydb://{tmp_path / 'c.json'}", "--plugins-dir", str(LOCAL)]


def test_a_plugin_format_is_read_by_its_ending_with_rejects_quarantined(tmp_path: Path) -> None:
    runner = CliRunner()
    base = _base(tmp_path)
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    export = tmp_path / "today.cards"
    export.write_text(CARDS, encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"

    done = runner.invoke(cli, [*base, "import", str(export), "--rejects", str(rejects)])

    assert done.exit_code == 1, done.output  # a row was rejected
    assert "read 4 records from today.cards, imported 2, rejected 2" in done.stdout
    assert f"rejected: {export}, line 9: line 9 is not 'Field: value'" in done.stderr
    assert f"rejected: {export}, line 12, field channel:" in done.stderr
    kept = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(row["line"], row["field"]) for row in kept] == [(9, None), (12, "channel")]
    assert kept[0]["raw"] == {"_lines": ["this paragraph is not a card"], "text": "lost"}

    listed = runner.invoke(cli, [*base, "list", "--format", "json"])
    found = {c["reference"]: c for c in json.loads(listed.stdout)}
    assert found["CRM-2"]["text"] == "退款迟迟不到账"
    (first,) = (c for ref, c in found.items() if ref != "CRM-2")
    assert first["reference"].startswith("IMP-")  # no id in the export: a fingerprint
    assert (first["channel"], first["text"]) == ("phone", "快递三天没到，客服不回电话")

    again = runner.invoke(cli, [*base, "import", str(export), "--rejects", str(rejects)])
    assert "imported 0, skipped 2 already in the store" in again.stdout


def test_a_plugin_format_is_offered_by_format_and_reads_standard_input(tmp_path: Path) -> None:
    runner = CliRunner()
    base = _base(tmp_path)
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    help_text = runner.invoke(cli, [*base, "import", "--help"]).stdout
    assert "[csv|tsv|json|jsonl|xlsx|cards]" in help_text

    refused = runner.invoke(cli, [*base, "import", "-"], input=CARDS)
    assert refused.exit_code == 2
    assert "needs --format: csv, tsv, json, jsonl, xlsx or cards" in refused.output

    first, _ = CARDS.split("\n\n", 1)
    piped = runner.invoke(
        cli,
        [*base, "import", "-", "--format", "cards", "--rejects", str(tmp_path / "r.jsonl")],
        input=first + "\n",
    )
    assert piped.exit_code == 0, piped.output
    assert "read 1 record from stdin.cards, imported 1" in piped.stdout

    unknown = runner.invoke(cli, [*base, "import", "-", "--format", "xml"], input="")
    assert unknown.exit_code == 2
    assert "'xml' is not one of" in unknown.output and "'cards'" in unknown.output


def test_without_the_plugin_the_format_is_unknown(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--store", f"tinydb://{tmp_path / 'c.json'}"]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    export = tmp_path / "today.cards"
    export.write_text(CARDS, encoding="utf-8")
    done = runner.invoke(cli, [*base, "import", str(export)])
    assert done.exit_code != 0
    assert "cannot tell the format from the extension '.cards'" in done.output
    assert not (tmp_path / "c.json").read_text(encoding="utf-8").count("IMP-")
