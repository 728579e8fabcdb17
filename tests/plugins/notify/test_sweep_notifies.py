# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""End to end, as an admin runs it: the process configuration of ``examples/process.toml``,
notification rules for escalations and breaches, a real import, a real ``sweep`` after the
National Day holiday, and ``outbox drain`` to a real SMTP server (aiosmtpd on loopback).
The escalated level's address gets the mail; a second sweep and drain send nothing more."""

from __future__ import annotations

import email.utils
from pathlib import Path

from click.testing import CliRunner
from notify_support import SmtpServer, smtp  # noqa: F401 - fixtures

from complaintkit_cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

NOTIFICATIONS = """
[notifications]
lang = "zh"
backoff = 0

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
port = {port}
from = "投诉中心 <complaints@example.cn>"
timeout = 5

[notifications.recipients.levels.department]
email = "heads@example.cn"

[notifications.recipients.levels.complaint_management]
email = "cm@example.cn"

[notifications.recipients.levels.leadership]
email = ["gm@example.cn", "coo@example.cn"]

[[notifications.rules]]
name = "escalated"
event = "escalated"
channels = ["mail"]
recipients = ["level"]

[[notifications.rules]]
name = "breach"
event = "sla_breach"
channels = ["mail"]
recipients = ["level"]
targets = ["resolve"]
"""

# Received on the eve of National Day 2025 (1-8 October are holidays on the cn calendar).
EVE = """reference,received_at,title,text,order,complainant_name,complainant_email
E-1,2025-09-30T10:00:00+08:00,冰箱送货延误,冰箱延误了三天才送到，外包装破损。,O-1,王先生,wang@example.cn
E-2,2025-09-30T17:30:00+08:00,热水器漏电,热水器漏电，家人被电到，要求赔偿。,O-2,李女士,li@example.cn
"""


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def recipients(server: SmtpServer) -> list[tuple[str, str]]:
    found = []
    for message in server.messages:
        for _name, address in email.utils.getaddresses([str(message["To"])]):
            found.append((address, str(message["Subject"])))
    return sorted(found)


def test_sweep_escalates_and_the_escalated_level_gets_the_mail(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    config = tmp_path / "complaintkit.toml"
    process = (EXAMPLES / "process.toml").read_text(encoding="utf-8")
    config.write_text(
        'store = "tinydb://complaints.json"\n' + process + NOTIFICATIONS.format(port=smtp.port),
        encoding="utf-8",
    )
    (tmp_path / "eve.csv").write_text(EVE, encoding="utf-8")
    run(config, "init")
    assert "imported 2" in run(config, "import", str(tmp_path / "eve.csv"))
    # the serious complaint went to complaint management through the fast channel at intake
    assert "sent 1, to retry 0, dead 0" in run(config, "outbox", "drain")
    assert recipients(smtp) == [("cm@example.cn", "【E-2】投诉已升级至投诉管理部门")]

    out = run(config, "sweep", "--now", "2025-10-10T12:00")
    # E-1: acknowledge and first response missed (one level up: department);
    # E-2: acknowledge, first response and resolution missed (one level up: leadership)
    assert "recorded 0 warnings, 5 breaches, 2 escalations on 2 complaints" in out
    assert "sent 5, to retry 0, dead 0" in run(config, "outbox", "drain")
    assert recipients(smtp) == [
        ("cm@example.cn", "【E-2】投诉已升级至投诉管理部门"),
        ("coo@example.cn", "【E-2】投诉已升级至领导层"),
        ("coo@example.cn", "【E-2】解决已超时"),
        ("gm@example.cn", "【E-2】投诉已升级至领导层"),
        ("gm@example.cn", "【E-2】解决已超时"),
        ("heads@example.cn", "【E-1】投诉已升级至责任部门"),
    ]
    breach = next(m for m in smtp.messages if "超时" in str(m["Subject"]))
    body = breach.get_content()
    assert "当前处理层级：领导层" in body  # the level it is handled at now
    # one working day after 17:30 on 30 Sep, in the configured time zone
    assert "解决时限 2025-10-09 17:30 (UTC+08:00) 已过" in body

    # the same sweep again records nothing and the outbox sends nothing new
    out = run(config, "sweep", "--now", "2025-10-10T12:00")
    assert "recorded 0 warnings, 0 breaches, 0 escalations" in out
    assert "sent 0, to retry 0, dead 0" in run(config, "outbox", "drain")
    assert len(smtp.messages) == 6
