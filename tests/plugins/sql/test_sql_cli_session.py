"""The same CLI session, on real data, gives the same output on every backend.

TinyDB is the reference; SQLite, PostgreSQL and MariaDB must print exactly what it prints
(after the store URL and the timestamps of "now" are masked).
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaintkit_cli.main import cli
from conftest import require_dataset

from .conftest import backend_url

SAMPLES = {
    "zh.csv": "chezhiwang_car_complaints/car_complaints.csv",
    "en.csv": "cfpb_complaints/cfpb_complaints.csv",
}
ROWS = 150


def sample(tmp_path: Path) -> Path:
    """The first rows of two real data sets (Chinese and English), as CSV files."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, relative in SAMPLES.items():
        source = require_dataset(relative)
        with source.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            rows = [row for _, row in zip(range(ROWS + 1), reader, strict=False)]
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


def session(url: str, data: Path, workdir: Path) -> list[tuple[str, int, str]]:
    """Run the session against ``url``; (command, exit code, masked output) per command."""
    runner = CliRunner()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    now = re.compile(rf"{today}[T ][0-9:.]+(\+00:00|Z)?")
    commands = [
        ["init"],
        ["import", str(data / "zh.csv"), "--rejects", str(workdir / "zh.rejects.jsonl")],
        [
            "import",
            str(data / "en.csv"),
            "--no-classify",
            "--rejects",
            str(workdir / "en.rejects.jsonl"),
        ],
        ["list", "--limit", "400", "--format", "jsonl"],
        ["list", "--search", "变速箱", "--format", "csv"],
        ["list", "--search", "CREDIT REPORT", "--limit", "20"],
        ["list", "--unclassified", "cause", "--since", "2013-01-01", "--limit", "15"],
        ["classify", "--all", "--unclassified", "cause"],
        ["list", "--label", "cause=product_quality", "--offset", "5", "--limit", "10"],
        ["transition", "CZW-480837", "acknowledge"],
        ["transition", "CZW-480798", "acknowledge"],
        ["transition", "CZW-480837", "assess", "--reason", "已核实"],
        ["assign", "CZW-480798", "--department", "售后", "--assignee", "王芳"],
        ["list", "--status", "acknowledged", "--status", "assessed", "--format", "json"],
        ["list", "--department", "售后", "--format", "csv"],
        ["report", "summary"],
        ["report", "summary", "--format", "json"],
        ["--lang", "zh", "report", "summary", "--label", "cause=product_quality"],
        ["show", "CZW-480837"],
    ]
    out = []
    for args in commands:
        result = runner.invoke(cli, ["--store", url, *args], catch_exceptions=False)
        text = result.output.replace(url, "<store>")
        text = re.sub(r"(tinydb|sqlite|postgresql|mysql)://\S+", "<store>", text)
        # An event's digest covers its time, which is <now> here: masked with it.
        text = re.sub(r'"digest": "[0-9a-f]{64}"', '"digest": "<digest>"', text)
        out.append((" ".join(args), result.exit_code, now.sub("<now>", text)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_cli_session_matches_tinydb(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    data = sample(tmp_path)
    url = backend_url(request, backend, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPLAINTKIT_STORE", raising=False)
    expected = session(f"tinydb://{tmp_path / 'reference.json'}", data, tmp_path)
    got = session(url, data, tmp_path)
    assert [e[1] for e in expected] == [0] * len(expected), expected
    for want, have in zip(expected, got, strict=True):
        assert have == want, f"`{want[0]}` differs on {backend}"
    # The session did real work: imports, classification, transitions, filters.
    by_command = {command: text for command, _, text in expected}
    assert (
        "imported 150"
        in by_command[f"import {data / 'zh.csv'} --rejects {tmp_path / 'zh.rejects.jsonl'}"]
    )
    assert "CZW-480837" in by_command["list --status acknowledged --status assessed --format json"]
    assert by_command["list --search 变速箱 --format csv"].count("\n") > 2
