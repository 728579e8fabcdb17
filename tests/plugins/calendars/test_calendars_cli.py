"""complaintkit calendars: list, add-time and days, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from complaintkit_cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list(tmp_path: Path) -> None:
    code, out, _ = run("--store", f"tinydb://{tmp_path / 'c.json'}", "calendars")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["name", "time", "zone", "years"]
    cn = next(line for line in lines if line.startswith("cn "))
    assert "Asia/Shanghai" in cn and "2004–2026" in cn and "调休" in cn
    assert any(line.startswith("24x7 (default)") for line in lines)
    code, out, _ = run("--lang", "zh", "calendars", "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["名称", "时区", "覆盖年份", "说明"]
    assert "中国大陆" in out
    code, out, _ = run("calendars", "list", "--format", "json")
    names = {row["name"]: row for row in json.loads(out)}
    assert names["cn"]["plugin"] == "calendars" and names["24x7"]["default"] is True


def test_add_time_on_the_eve_of_national_day() -> None:
    code, out, _ = run(
        "calendars", "add-time", "cn", "--from", "2025-09-30T17:00", "--working-days", "3"
    )
    assert code == 0, out
    assert out.strip() == "2025-10-11 17:00 +08:00  Sat  (make-up working day: National Day)"
    code, out, _ = run(
        "--lang",
        "zh",
        "calendars",
        "add-time",
        "cn",
        "--from",
        "2025-09-30T17:00",
        "--duration",
        "8个工作小时",
    )
    assert out.strip() == "2025-10-09 17:30 +08:00  周四  (工作日)"
    code, out, _ = run(
        "calendars", "add-time", "cn", "--from", "2025-09-30T09:00Z", "--working-hours", "1.5"
    )
    # 09:00 UTC is 17:00 in Shanghai: one hour on the eve, half an hour after the holiday
    assert out.startswith("2025-10-09 09:30 +08:00")
    code, out, _ = run(
        "calendars", "add-time", "cn", "--from", "2025-09-30T17:00", "--duration", "24h"
    )
    assert out.startswith("2025-10-01 17:00 +08:00  Wed  (holiday: National Day)")


def test_add_time_errors() -> None:
    code, _, err = run(
        "calendars", "add-time", "cn", "--from", "2101-01-04T10:00", "--working-days", "1"
    )
    assert code == 1
    assert "Error: calendar 'cn' covers only 2004–2026" in err
    code, _, err = run("calendars", "add-time", "mars", "--working-days", "1")
    assert code == 2 and "unknown calendar 'mars'; known: 24x7, cn" in err
    code, _, err = run("calendars", "add-time", "cn", "--working-days", "1", "--working-hours", "2")
    assert code == 2 and "exactly one of" in err
    code, _, err = run("calendars", "add-time", "cn", "--from", "yesterday", "--working-days", "1")
    assert code == 2 and "'yesterday' is not a date and time" in err
    code, _, err = run("calendars", "add-time", "cn", "--duration", "soon")
    assert code == 2 and "'soon' is not a duration" in err


def test_days_over_national_day() -> None:
    code, out, _ = run("calendars", "days", "cn", "--from", "2025-09-27", "--to", "2025-10-12")
    assert code == 0, out
    rows = [line.split(None, 3) for line in out.splitlines()[2:]]
    assert len(rows) == 16
    worked = {row[0]: row[2] for row in rows}
    assert worked["2025-09-27"] == "closed" and worked["2025-09-28"] == "working"
    assert [worked[f"2025-10-0{d}"] for d in range(1, 9)] == ["closed"] * 8
    assert worked["2025-10-11"] == "working" and worked["2025-10-12"] == "closed"
    why = {row[0]: row[3] for row in rows}
    assert why["2025-10-06"] == "holiday: Mid-autumn Festival"
    assert why["2025-09-28"] == "make-up working day: National Day"
    code, out, _ = run(
        "--lang",
        "zh",
        "calendars",
        "days",
        "cn",
        "--from",
        "2025-10-11",
        "--to",
        "2025-10-11",
        "--format",
        "json",
    )
    assert json.loads(out) == [
        {"date": "2025-10-11", "weekday": "周六", "working": True, "why": "调休上班：国庆节"}
    ]
    code, _, err = run("calendars", "days", "cn", "--from", "2025-10-11", "--to", "2025-10-01")
    assert code == 2 and "--to is before --from" in err


def test_configured_calendar_and_default(tmp_path: Path) -> None:
    config = tmp_path / "complaintkit.toml"
    config.write_text(
        '[calendars]\ndefault = "store"\n\n[calendars.store]\nbase = "cn"\nweekend = []\n',
        encoding="utf-8",
    )
    code, out, _ = run("--config", str(config), "calendars")
    assert code == 0 and "store (default)" in out
    code, out, _ = run(
        "--config",
        str(config),
        "calendars",
        "days",
        "store",
        "--from",
        "2025-09-27",
        "--to",
        "2025-09-27",
    )
    assert "working" in out
    config.write_text('[calendars.store]\nbase = "cn"\nweekend = "sun"\n', encoding="utf-8")
    code, _, err = run("--config", str(config), "calendars")
    assert code == 2
    assert f"Error: {config}: calendars.store.weekend: give a list" in err
