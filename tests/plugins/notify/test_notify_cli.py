# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""The commands, as a new user runs them: import, outbox list/drain/retry, notify preview."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from notify_support import HttpServer, SmtpServer, http, smtp  # noqa: F401 - fixtures

from complaintkit_cli.main import cli

CONFIG = """
store = "tinydb://complaints.json"
lang = "zh"

[notifications]
backoff = 0
max_attempts = 2

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
port = {port}
from = "投诉中心 <complaints@example.cn>"
timeout = 5

[notifications.channels.ops]
type = "webhook"
url = "{url}"
secret = "s"

[[notifications.rules]]
name = "ack"
event = "received"
channels = ["mail"]
recipients = ["complainant"]

[[notifications.rules]]
name = "ops"
event = "received"
channels = ["ops"]
recipients = ["department"]
"""


def write_project(folder: Path, smtp_port: int, url: str, n: int) -> Path:
    config = folder / "complaintkit.toml"
    config.write_text(CONFIG.format(port=smtp_port, url=url), encoding="utf-8")
    with (folder / "complaints.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["reference", "received_at", "text", "complainant_name", "complainant_email"]
        )
        for i in range(n):
            writer.writerow(
                [
                    f"R-{i:03d}",
                    "2026-11-20T09:00:00+08:00",
                    "快递延误三天",
                    f"客户{i}",
                    f"c{i}@example.cn",
                ]
            )
    run(config, "init")
    return config


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_import_drain_list_retry(tmp_path: Path, smtp: SmtpServer, http: HttpServer) -> None:
    config = write_project(tmp_path, smtp.port, http.url(), 5)
    code, out = run(config, "import", str(tmp_path / "complaints.csv"))
    assert code == 0, out
    code, out = run(config, "outbox", "list")
    # ack by mail for 5; the department rule has no department to go to: dead, with the reason
    assert out.splitlines()[0] == "待发送 5，已发送 0，失败 5"  # lang = "zh"
    assert "no department (the complaint has no department)" in out
    http.default.status = 500
    code, out = run(config, "outbox", "drain", "--worker-id", "cron-1")
    assert code == 0 and out.splitlines()[-1] == "已发送 5，待重试 0，失败 0"
    assert len(smtp.messages) == 5
    code, out = run(config, "outbox", "list", "--status", "sent", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["recipient"] for r in rows} == {f"c{i}@example.cn" for i in range(5)}
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows)
    # retry a dead message by key: pending again, and it dies again with the reason
    key = "R-000:received:ops:ops:<department>"
    code, out = run(config, "outbox", "retry", key)
    assert out.strip() == f"已重新排队: {key}"
    code, out = run(config, "outbox", "retry", "R-001:received:ack:mail:c1@example.cn")
    assert out.startswith("未失败（已发送），未改动")
    code, out = run(config, "--lang", "en", "outbox", "retry", key)
    assert out.strip() == f"not dead (pending), left alone: {key}"
    code, out = run(config, "outbox", "retry", "nope")
    assert code == 1 and "no outbox message with key 'nope'" in out


def test_failing_channel_does_not_block_the_others_or_the_transition(
    tmp_path: Path, smtp: SmtpServer, http: HttpServer
) -> None:
    config = write_project(tmp_path, smtp.port, http.url(), 1)
    text = config.read_text(encoding="utf-8").replace(
        'recipients = ["department"]', 'recipients = ["complainant"]'
    )
    config.write_text(text.replace("backoff = 0", "backoff = 0.5"), encoding="utf-8")
    http.default.status = 503
    run(config, "import", str(tmp_path / "complaints.csv"))
    code, out = run(config, "transition", "R-000", "acknowledge")
    assert code == 0 and "R-000" in out
    code, out = run(config, "outbox", "drain")
    assert "HTTP 503" in out and out.splitlines()[-1] == "已发送 1，待重试 1，失败 0"
    time.sleep(0.6)  # the backoff: 0.5 s × 2^0 × 50-100 %
    code, out = run(config, "--lang", "en", "outbox", "drain")  # max_attempts 2
    assert out.splitlines()[-1] == "sent 0, to retry 0, dead 1"
    code, out = run(config, "outbox", "list", "--status", "dead")
    assert "last error: gave up after 2 attempts: webhook ops answered HTTP 503" in out


@pytest.mark.heavy
def test_two_drain_processes_never_send_a_message_twice(
    tmp_path: Path, smtp: SmtpServer, http: HttpServer
) -> None:
    config = write_project(tmp_path, smtp.port, http.url(), 80)
    text = config.read_text(encoding="utf-8")
    text = text.split('[[notifications.rules]]\nname = "ops"')[0]  # mail only
    config.write_text(text.replace("backoff = 0", "backoff = 0\nbatch = 3"), encoding="utf-8")
    code, out = run(config, "import", str(tmp_path / "complaints.csv"))
    assert code == 0, out
    exe = Path(sys.executable).with_name("complaintkit")
    env = {**os.environ, "COMPLAINTKIT_CONFIG": str(config)}
    workers = [
        subprocess.Popen(
            [str(exe), "--lang", "en", "outbox", "drain", "--worker-id", name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    sent = [int(out.splitlines()[-1].split()[1].rstrip(",")) for out, _ in outputs]
    assert sum(sent) == 80
    counts = Counter(smtp.handler.message_ids())
    assert len(counts) == 80 and set(counts.values()) == {1}


@pytest.mark.parametrize(
    ("lang", "channel", "expected"),
    [
        ("zh", "email", "Subject: 您的投诉已受理（编号 CK-20261123-SAMPLE01）"),
        ("en", "email", "Subject: We have received your complaint CK-20261123-SAMPLE01"),
        ("zh", "sms", "【投诉受理】您的投诉已受理"),
    ],
)
def test_preview_sample(tmp_path: Path, lang: str, channel: str, expected: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--store",
            f"tinydb://{tmp_path}/c.json",
            "--lang",
            lang,
            "notify",
            "preview",
            "received",
            "--channel",
            channel,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert f"templates/{lang}/received" in result.output


def test_preview_every_event_in_both_languages(tmp_path: Path) -> None:
    from complaintkit_notify.settings import EVENTS

    for lang in ("en", "zh"):
        for event in EVENTS:
            result = CliRunner().invoke(
                cli,
                [
                    "--store",
                    f"tinydb://{tmp_path}/c.json",
                    "--lang",
                    lang,
                    "notify",
                    "preview",
                    event,
                ],
            )
            assert result.exit_code == 0, (lang, event, result.output)
            if event == "spike":  # about many complaints: a sample warning, no complaint
                assert "ewma:day:2026-11-23:label:cause=product_quality" in result.output
                assert ("产品质量" if lang == "zh" else "product quality") in result.output
            else:
                assert "CK-20261123-SAMPLE01" in result.output


def test_preview_a_stored_complaint_with_a_user_html_template(tmp_path: Path) -> None:
    folder = tmp_path / "tpl" / "en"
    folder.mkdir(parents=True)
    (folder / "received.email.html").write_text(
        "<p>Dear {{ complaint.complainant.name }}</p><blockquote>{{ complaint.text }}</blockquote>",
        encoding="utf-8",
    )
    config = tmp_path / "complaintkit.toml"
    # The store beside the configuration: without `store`, it would be the current folder's.
    config.write_text(
        'store = "tinydb://complaints.json"\n[notifications]\ntemplates = "tpl"\n',
        encoding="utf-8",
    )
    run(config, "init")
    run(config, "add", "--text", "<script>alert(1)</script> & late", "--reference", "X-1")
    code, out = run(config, "--lang", "en", "notify", "preview", "received", "--ref", "X-1")
    assert code == 0, out
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; late" in out
    assert "<script>" not in out.split("# HTML part")[1]


def test_preview_unknown_channel(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--store",
            f"tinydb://{tmp_path}/c.json",
            "notify",
            "preview",
            "received",
            "--channel",
            "fax",
        ],
    )
    assert result.exit_code == 2
    assert "--channel 'fax' is neither a configured channel" in result.output


def test_outbox_list_shows_times_in_the_configured_time_zone(tmp_path: Path) -> None:
    """Was UTC, unmarked, while every other command shows the configured time zone."""
    config = tmp_path / "complaintkit.toml"
    config.write_text(
        'store = "tinydb://c.json"\ntimezone = "Asia/Shanghai"\n\n'
        '[notifications.channels.log]\ntype = "log"\npath = "n.log"\n\n'
        '[[notifications.rules]]\nevent = "received"\nchannel = "log"\n'
        'recipients = ["complainant"]\n',
        encoding="utf-8",
    )
    run(config, "init")
    run(config, "add", "--text", "快递延误三天", "--name", "王小明")
    assert run(config, "outbox", "drain", "-q")[1].strip() == "sent 1, to retry 0, dead 0"
    sent_at = datetime.fromisoformat(
        json.loads(run(config, "outbox", "list", "--format", "json")[1])["sent_at"]
    )
    out = run(config, "outbox", "list")[1]
    shanghai = sent_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f" 1x {shanghai:%Y-%m-%d %H:%M:%S}  log" in out.splitlines()[1]


def test_a_rule_naming_a_channel_no_plugin_registers_stops_before_anything_changes(
    tmp_path: Path,
) -> None:
    """Was: `add` and `import` exited 0 and each notification hook logged the ConfigError,
    so every message of the run was lost; the check now runs when the desk opens."""
    config = tmp_path / "complaintkit.toml"
    config.write_text(
        'store = "tinydb://complaints.json"\n\n[notifications]\n\n'
        '[notifications.channels.wecom]\ntype = "plugin"\n\n'
        '[[notifications.rules]]\nname = "ack"\nevent = "received"\n'
        'channels = ["wecom"]\nrecipients = ["complainant"]\n',
        encoding="utf-8",
    )
    (tmp_path / "in.csv").write_text(
        "reference,received_at,text\nR-1,2026-11-20T09:00:00+08:00,快递延误三天\n",
        encoding="utf-8",
    )
    assert run(config, "init")[0] == 0
    store = tmp_path / "complaints.json"
    before = store.read_bytes()
    for args in (("import", str(tmp_path / "in.csv")), ("add", "--text", "快递延误三天")):
        code, out = run(config, *args)
        assert code == 2, (args, out)
        assert "[notifications.channels.wecom] has type 'plugin' but no plugin registers" in out
        assert store.read_bytes() == before
