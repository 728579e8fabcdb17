# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""A template that can only fail when a message is rendered never loses the message.

Tags that load another template are refused when the configuration loads; anything else that
fails while rendering is queued as a dead message with the reason, the other rules' messages
are queued and delivered as usual, and ``notify preview`` prints an error, not a traceback.
Everything goes through the CLI, a TinyDB store file and a real SMTP server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from notify_support import SmtpServer, smtp  # noqa: F401 - fixture

from complaintkit_cli.main import cli

CONFIG = """
store = "tinydb://complaints.json"
lang = "en"

[notifications]
templates = "templates"
backoff = 0

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
port = {port}
from = "Complaints <complaints@example.cn>"
timeout = 5

[notifications.recipients.people."li.na"]
email = ["li.na@example.cn"]

[[notifications.rules]]
name = "ack"
event = "received"
channels = ["mail"]
recipients = ["complainant"]
template = "broken"

[[notifications.rules]]
name = "copy"
event = "received"
channels = ["mail"]
recipients = ["person:li.na"]
"""


def run(config: Path, *args: str) -> tuple[int, str]:
    # catch_exceptions=False: a traceback fails the test instead of becoming exit code 1.
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def project(folder: Path, port: int, template: str, name: str = "broken.txt") -> Path:
    templates = folder / "templates" / "en"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / name).write_text(template, encoding="utf-8")
    if name != "broken.txt":
        (templates / "broken.txt").write_text("Hello {{ complaint.reference }}\n", encoding="utf-8")
    config = folder / "complaintkit.toml"
    config.write_text(CONFIG.format(port=port), encoding="utf-8")
    code, out = run(config, "init")
    assert code == 0, out
    return config


@pytest.mark.parametrize(
    ("name", "template", "line", "tag"),
    [
        ("broken.txt", "Hello\n{% include 'footer.txt' %}\n", 2, "{% include %}"),
        ("broken.txt", "{% extends 'base.txt' %}\n", 1, "{% extends %}"),
        ("broken.txt", "Subject: Hi\n\nA\nB\n{% import 'm.txt' as m %}\n", 5, "{% import %}"),
        ("broken.txt", "{% from 'm.txt' import sign %}{{ sign() }}\n", 1, "{% from … import %}"),
        ("broken.email.html", "<p>Hi</p>\n{% include 'footer.html' %}\n", 2, "{% include %}"),
    ],
)
def test_a_template_loading_another_is_refused_when_the_configuration_loads(
    tmp_path: Path, name: str, template: str, line: int, tag: str
) -> None:
    config = project(tmp_path, 25, template, name)
    code, out = run(config, "add", "--text", "late delivery", "--email", "a@example.cn")
    assert code == 2
    assert f"templates/en/{name}:{line}: {tag} is not supported" in out
    # Refused before anything changed: no complaint stored.
    tables = json.loads((tmp_path / "complaints.json").read_text(encoding="utf-8"))
    assert not tables.get("complaints")


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ range(10**6) | length }}\n", "OverflowError: Range too big"),
        ("{{ '{x}'.format_map({}) }}\n", "KeyError: 'x'"),
        ("{{ complaint.text.format_map(complaint) }}\n", "KeyError: 'delivery'"),
        ("{{ 1 // (complaint.recomplaint_count) }}\n", "ZeroDivisionError"),
        ("{{ complaint.labels.nothing.name }}\n", "UndefinedError"),
        # runaway loops: output past the size limit; loops that write nothing, past the time
        # limit (over ranges, and over a text, stopped by the timer in the main thread)
        (
            "{% for i in range(99999) %}{% for j in range(99999) %}xxxxxxxxxx"
            "{% endfor %}{% endfor %}\n",
            "RenderLimitError: the message would be longer than 200,000 characters",
        ),
        (
            "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}\n",
            "RenderLimitError: rendering took longer than 2 s",
        ),
        (
            "{% set t = complaint.text * 3000 %}{% for a in t %}{% for b in t %}{% endfor %}"
            "{% endfor %}\n",
            "RenderLimitError: rendering took longer than 2 s",
        ),
    ],
)
def test_a_render_failure_is_a_dead_message_and_the_other_rules_are_delivered(
    tmp_path: Path, smtp: SmtpServer, template: str, reason: str
) -> None:
    config = project(tmp_path, smtp.port, template)
    code, out = run(
        config, "add", "--text", "late {delivery}", "--email", "a@example.cn", "--reference", "R-1"
    )
    assert code == 0, out
    code, out = run(config, "outbox", "list")
    assert out.splitlines()[0] == "pending 1, sent 0, dead 1", out
    code, out = run(config, "outbox", "list", "--status", "dead", "--format", "json")
    (dead,) = [json.loads(line) for line in out.splitlines()]
    assert dead["key"] == "R-1:received:ack:mail:a@example.cn"
    assert dead["last_error"].startswith("template failed: ")
    assert "templates/en/broken.txt" in dead["last_error"] and reason in dead["last_error"]
    code, out = run(config, "outbox", "list", "--status", "dead")
    assert "last error: template failed: " in out and reason in out
    code, out = run(config, "outbox", "drain")
    assert code == 0 and out.splitlines()[-1] == "sent 1, to retry 0, dead 0", out
    assert [m["To"] for m in smtp.messages] == ["li.na@example.cn"]
    plain = smtp.messages[0].get_body(("plain",))
    assert plain is not None and "R-1" in plain.get_content()


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{% include 'x' %}\n", "broken.txt:1: {% include %} is not supported"),
        ("{% extends 'x' %}\n", "broken.txt:1: {% extends %} is not supported"),
        ("{{ range(10**6) | list | length }}\n", "broken.txt: OverflowError: Range too big"),
        ("{{ '{x}'.format_map({}) }}\n", "broken.txt: KeyError: 'x'"),
    ],
)
def test_preview_of_a_failing_template_is_an_error_not_a_traceback(
    tmp_path: Path, template: str, error: str
) -> None:
    config = project(tmp_path, 25, "Hello\n", "ok.txt")
    (tmp_path / "templates" / "en" / "broken.txt").write_text(template, encoding="utf-8")
    code, out = run(config, "notify", "preview", "received", "--template", "broken")
    assert code == 2
    assert out.startswith("Error: ") and error in out
    assert "Traceback" not in out


def test_retrying_a_message_that_was_never_rendered_sends_nothing(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    config = project(tmp_path, smtp.port, "{{ '{x}'.format_map({}) }}\n")
    run(config, "add", "--text", "late", "--email", "a@example.cn", "--reference", "R-1")
    key = "R-1:received:ack:mail:a@example.cn"
    code, out = run(config, "outbox", "retry", key)
    assert code == 0 and out.strip() == f"pending again: {key}"
    code, out = run(config, "outbox", "drain")
    assert out.splitlines()[-1] == "sent 1, to retry 0, dead 1", out
    assert [m["To"] for m in smtp.messages] == ["li.na@example.cn"]
    code, out = run(config, "outbox", "list", "--status", "dead", "--format", "json")
    (dead,) = [json.loads(line) for line in out.splitlines()]
    assert dead["last_error"].startswith("never rendered, nothing to send: template failed: ")
    assert "KeyError: 'x'" in dead["last_error"]
