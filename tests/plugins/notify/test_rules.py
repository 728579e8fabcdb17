# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""Rules: which event notifies whom through which channel, checked when configuration loads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_support import (
    Project,
    project,  # noqa: F401 - fixtures
)

import complaintkit_notify.plugin as notify_plugin
from complaintkit import Channel, ConfigError, Desk, EscalationLevel, Party
from complaintkit.outbox import MessageStatus, OutboxMessage, outbox_of
from complaintkit.testing import make_complaint

CHANNELS = """
[notifications]
lang = "en"

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
from = "complaints@example.cn"

[notifications.channels.sms]
type = "sms"
url = "http://127.0.0.1:9/send"

[notifications.channels.ops]
type = "webhook"
url = "http://127.0.0.1:9/hook"

[notifications.recipients.departments.logistics]
name = "Logistics"
email = ["logistics@example.cn", "depot@example.cn"]
phone = "+8613911111111"

[notifications.recipients.levels.department]
email = "dept-head@example.cn"

[notifications.recipients.levels.complaint_management]
email = "cm@example.cn"

[notifications.recipients.levels.leadership]
email = "ceo@example.cn"

[notifications.recipients.people."li.na"]
email = "lina@example.cn"
"""


RULE = '[[notifications.rules]]\nevent = "received"\nchannel = "mail"\n'


def rules(text: str) -> str:
    return CHANNELS + text


def queued(p: Project) -> list[OutboxMessage]:
    return list(p.outbox.messages())


def complaint(reference: str = "CK-1", **fields: object) -> object:
    fields.setdefault("complainant", Party(name="Ming", email="ming@example.cn", phone="+86138"))
    fields.setdefault("department", "logistics")
    return make_complaint(reference, text="The parcel was late and the courier rude.", **fields)


def test_received_acknowledges_the_complainant_by_mail_and_sms(
    project: Callable[[str], Project],
) -> None:
    p = project(
        rules("""
[[notifications.rules]]
name = "ack"
event = "received"
channels = ["mail", "sms"]
recipients = ["complainant"]
lang = "zh"
""")
    )
    p.desk.intake(complaint(), classify=False)  # type: ignore[arg-type]
    by_channel = {m.channel: m for m in queued(p)}
    assert set(by_channel) == {"mail", "sms"}
    mail = by_channel["mail"]
    assert (mail.recipient, mail.event, mail.reference, mail.lang) == (
        "ming@example.cn",
        "received",
        "CK-1",
        "zh",
    )
    assert mail.subject == "您的投诉已受理（编号 CK-1）"
    assert mail.key == "CK-1:received:ack:mail:ming@example.cn"
    assert mail.payload == {"version": 1, "event": "received", "rule": "ack"}
    assert by_channel["sms"].recipient == "+86138"
    assert by_channel["sms"].body.startswith("【投诉受理】")  # the sms-specific template


def test_department_assignee_and_named_recipients(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
name = "team"
event = "acknowledged"
channels = ["mail"]
recipients = ["department", "assignee", "person:li.na", "level:leadership"]
""")
    )
    p.desk.intake(complaint(assignee="li.na"), classify=False)  # type: ignore[arg-type]
    p.desk.transition("CK-1", "acknowledge")
    assert sorted(m.recipient for m in queued(p)) == [
        "ceo@example.cn",
        "depot@example.cn",
        "lina@example.cn",
        "logistics@example.cn",
    ]  # li.na once, though named twice


def test_missing_address_is_queued_dead_with_the_reason(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
name = "ack"
event = "received"
channels = ["mail", "ops"]
recipients = ["complainant", "assignee"]
""")
    )
    p.desk.intake(complaint(complainant=Party(name="Anon")), classify=False)  # type: ignore[arg-type]
    by_key = {m.key: m for m in queued(p)}
    no_mail = by_key["CK-1:received:ack:mail:<complainant>"]
    assert no_mail.status is MessageStatus.DEAD
    assert no_mail.last_error == "the complainant has no email"
    assert by_key["CK-1:received:ack:mail:<assignee>"].last_error == (
        "no person (the complaint has no assignee) in [notifications.recipients]"
    )
    # the webhook addresses people by name
    assert by_key["CK-1:received:ack:ops:Anon"].status is MessageStatus.PENDING


def test_conditions_labels_level_and_intake_channel(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
name = "serious"
event = "escalated"
channels = ["mail"]
recipients = ["level"]
labels = ["severity=serious"]
min_level = "complaint_management"
complaint_channels = ["web", "phone"]
""")
    )
    desk: Desk = p.desk
    desk.intake(complaint("CK-1", channel=Channel.WEB), classify=False)  # type: ignore[arg-type]
    desk.intake(complaint("CK-2", channel=Channel.LETTER), classify=False)  # type: ignore[arg-type]
    for reference in ("CK-1", "CK-2"):
        desk.label(reference, "severity", "serious", reason="injury")
        desk.escalate(reference, reason="first")  # department: below min_level
    assert queued(p) == []
    for reference in ("CK-1", "CK-2"):
        desk.escalate(reference, reason="second")  # complaint management
    (message,) = queued(p)
    assert (message.reference, message.recipient) == ("CK-1", "cm@example.cn")
    assert message.subject == "[CK-1] escalated to complaint management"
    assert "escalated from department to complaint management" in message.body


def test_sla_breach_notifies_the_level_after_escalation(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
name = "breach"
event = "sla_breach"
channels = ["mail"]
recipients = ["level", "department"]
targets = ["resolve"]

[[notifications.rules]]
name = "warn"
event = "sla_warning"
channels = ["mail"]
recipients = ["assignee"]
""")
    )
    p.desk.intake(complaint(assignee="li.na"), classify=False)  # type: ignore[arg-type]
    deadline = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    stored = p.desk.get("CK-1")
    p.host.fire(
        "complaint_sla_warning", complaint=stored, target="resolve", deadline=deadline, desk=p.desk
    )
    # the sweep escalates to complaint management, then reports the breach
    escalated = p.desk.escalate("CK-1", to=EscalationLevel.COMPLAINT_MANAGEMENT, reason="SLA")
    for target in ("respond", "resolve"):
        p.host.fire(
            "complaint_sla_breached",
            complaint=escalated,
            target=target,
            deadline=deadline,
            desk=p.desk,
        )
    p.host.fire(
        "complaint_sla_breached",
        complaint=escalated,
        target="resolve",
        deadline=deadline,
        desk=p.desk,
    )  # a second sweep: nothing new
    assert p.host.hook_errors == []
    messages = {(m.event, m.recipient) for m in queued(p)}
    assert messages == {
        ("sla_warning", "lina@example.cn"),
        ("sla_breach", "cm@example.cn"),
        ("sla_breach", "logistics@example.cn"),
        ("sla_breach", "depot@example.cn"),
    }
    breach = next(m for m in queued(p) if m.recipient == "cm@example.cn")
    assert breach.key == "CK-1:sla_breach.resolve.2026-11-24T09:00:00+00:00:breach:mail:" + (
        "cm@example.cn"
    )
    assert breach.subject == "[CK-1] deadline missed: resolution"
    assert "now handled at the level: complaint management" in breach.body


def test_recomplaint_resolved_closed_classified(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
event = "recomplaint"
channel = "mail"
recipients = ["level"]

[[notifications.rules]]
event = "resolved"
channel = "mail"
recipients = ["complainant"]
lang = "zh"

[[notifications.rules]]
event = "closed"
channel = "mail"
recipients = ["department"]

[[notifications.rules]]
event = "classified"
channel = "mail"
recipients = ["person:li.na"]
labels = ["cause=service_quality"]
""")
    )
    desk = p.desk
    first = desk.intake(complaint("CK-1"), classify=True)  # type: ignore[arg-type]
    assert first.label("cause") == "service_quality"
    for action, extra in (
        ("acknowledge", {}),
        ("assess", {}),
        ("investigate", {}),
        ("propose", {"solution": "退还运费"}),
        ("accept", {}),
        ("implement", {}),
        ("resolve", {}),
        ("close", {"satisfaction": 4}),
    ):
        desk.transition("CK-1", action, **extra)  # type: ignore[arg-type]
    second = desk.intake(complaint("CK-2", parent="CK-1"), classify=False)  # type: ignore[arg-type]
    second = desk.escalate("CK-2", reason="repeat")
    p.host.fire("complaint_recomplaint", complaint=second, previous=desk.get("CK-1"), desk=desk)
    by_event = {m.event: m for m in queued(p)}
    assert set(by_event) == {"classified", "resolved", "closed", "recomplaint"}
    assert by_event["classified"].recipient == "lina@example.cn"
    assert "处理方案：退还运费" in by_event["resolved"].body
    assert "Customer satisfaction: 4/5" in by_event["closed"].body
    assert by_event["recomplaint"].recipient == "dept-head@example.cn"
    assert by_event["recomplaint"].subject == "[CK-2] repeat complaint (earlier: CK-1)"


def test_nothing_configured_nothing_queued(project: Callable[[str], Project]) -> None:
    p = project("")
    p.desk.intake(complaint(), classify=False)  # type: ignore[arg-type]
    assert not (p.path / "complaints.outbox.sqlite").exists()


@pytest.mark.parametrize(("limit", "expected"), [(5000, [30]), (12, [12, 12, 6])])
def test_a_batch_import_queues_its_messages_together(
    project: Callable[[str], Project],
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    expected: list[int],
) -> None:
    p = project(rules(RULE + 'recipients = ["complainant"]'))
    monkeypatch.setattr(notify_plugin, "PENDING_LIMIT", limit)
    outbox = outbox_of(p.desk.store)
    real_enqueue = outbox.enqueue
    sizes: list[int] = []

    def enqueue(messages: Iterable[OutboxMessage]) -> int:
        batch = list(messages)
        sizes.append(len(batch))
        return real_enqueue(batch)

    monkeypatch.setattr(outbox, "enqueue", enqueue)
    batch = [complaint(f"CK-{n}") for n in range(30)]
    assert p.desk.intake_many(batch, classify=False).added == 30  # type: ignore[arg-type]
    assert sizes == expected  # one transaction per batch (or per limit), not one per complaint
    assert sorted(m.reference or "" for m in queued(p)) == sorted(f"CK-{n}" for n in range(30))
    p.desk.intake(complaint("CK-single"), classify=False)  # type: ignore[arg-type]
    assert sizes[-1] == 1  # outside a batch a message is queued at once


def test_a_broken_outbox_never_blocks_the_change(project: Callable[[str], Project]) -> None:
    p = project(
        rules("""
[[notifications.rules]]
event = "acknowledged"
channel = "mail"
recipients = ["complainant"]
""")
    )
    p.desk.intake(complaint(), classify=False)  # type: ignore[arg-type]
    p.outbox.close()  # type: ignore[attr-defined]  # the outbox fails from now on
    stored = p.desk.transition("CK-1", "acknowledge")
    assert stored.status.value == "acknowledged"
    (error,) = p.host.hook_errors
    assert error.plugin == "notify" and error.stage == "complaint_transitioned"


# --- configuration errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            RULE.replace("received", "recieved") + 'recipients = ["complainant"]',
            "'recieved' is not an event .*did you mean 'received'",
        ),
        (
            RULE.replace("mail", "fax") + 'recipients = ["complainant"]',
            "notifications.rules\\[1\\].channels: no channel 'fax' in \\[notifications.channels\\]",
        ),
        (
            RULE + 'recipients = ["complainent"]',
            "unknown recipient 'complainent'.*did you mean 'complainant'",
        ),
        (
            RULE + 'recipients = ["level:ceo"]',
            "unknown level 'ceo'",
        ),
        (
            RULE + 'recipients = ["complainant"]\nlabels = ["serious"]',
            "'serious' is not SCHEME=LABEL",
        ),
        (
            RULE + 'recipients = ["complainant"]\ntargets = ["resolve"]',
            "only sla_warning and sla_breach rules have targets",
        ),
        (
            RULE + 'recipients = ["complainant"]\nrecipient = ["complainant"]',
            r"rules\[1\]: unknown setting\(s\) recipient \(did you mean recipients\?\)",
        ),
        (
            RULE + 'recipients = ["complainant"]\ntemplate = "nope"',
            "'received-1' template: no nope.email.txt or nope.txt in",
        ),
    ],
)
def test_rule_mistakes_are_load_time_errors_naming_file_and_key(
    project: Callable[[str], Project], text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        project(rules(text))
    assert "complaintkit.toml" in str(info.value)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "email"\nhost = "x"', "x.from: must be an address"),
        (
            'type = "email"\nfrom = "a@b.cn"\nsecurity = "tls"',
            "x.security: expected one of none, starttls, ssl, got 'tls'",
        ),
        (
            'type = "email"\nfrom = "a@b.cn"\nusername = "u"',
            "password \\(or password_env\\) is missing",
        ),
        (
            'type = "email"\nfrom = "a@b.cn"\nprot = 25',
            "x: unknown setting\\(s\\) prot \\(did you mean port\\?\\); known: type, from, host",
        ),
        ('type = "webhook"\nurl = "ftp://x"', "x.url: must be an http:// or https:// URL"),
        (
            'type = "webhook"\nurl = "http://x"\nsecret_env = "CK_NO_SUCH_VARIABLE"',
            "CK_NO_SUCH_VARIABLE is not set",
        ),
        (
            'type = "sms"\nurl = "http://x"\nparams = { to = "{phone}" }',
            "unknown placeholder \\{phone\\}",
        ),
        ('type = "pager"', "'pager' is not a channel type"),
    ],
)
def test_channel_mistakes_are_load_time_errors(
    project: Callable[[str], Project], table: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        project(f"[notifications]\n[notifications.channels.x]\n{table}\n")
    assert "complaintkit.toml: notifications.channels.x" in str(info.value)


def test_misspelt_template_variable_names_file_and_line(
    project: Callable[[str], Project], tmp_path: Path
) -> None:
    folder = tmp_path / "templates" / "en"
    folder.mkdir(parents=True)
    (folder / "received.email.txt").write_text(
        "Subject: Hello {{ complaint.reference }}\n\nDear {{ complaint.complainant.name }},\n"
        "your complaint about {{ complaint.titel }} was received.\n",
        encoding="utf-8",
    )
    text = rules(RULE + 'recipients = ["complainant"]\n').replace(
        'lang = "en"\n', 'lang = "en"\ntemplates = "templates"\n', 1
    )
    with pytest.raises(ConfigError) as info:
        project(text)
    assert str(info.value).startswith(
        f"{folder / 'received.email.txt'}:4: complaint has no field 'titel'"
    )
    assert "did you mean 'title'" in str(info.value)
    (folder / "received.email.txt").write_text(
        "Subject: x\n\n{{ complaint.reference }}\n{{ deadline }}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"received.email.txt:4: unknown variable 'deadline'"):
        project(text)
    (folder / "received.email.txt").write_text("Subject: x\n\n{% if %}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"received.email.txt:3: "):
        project(text)
    (folder / "received.email.txt").write_text("{{ complaint.text | shout }}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"received.email.txt:1: .*shout"):
        project(text)


def test_the_example_configuration_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from complaintkit import load_config, make_host

    example = Path(__file__).parents[3] / "examples" / "notifications.toml"
    for name in ("CK_SMTP_PASSWORD", "CK_SMS_TOKEN", "CK_WEBHOOK_SECRET", "CK_DINGTALK_SECRET"):
        monkeypatch.setenv(name, "secret")
    config = load_config(example, store=f"tinydb://{tmp_path}/c.json", env={})
    host = make_host(config, env={})
    assert set(host.channels()) == {"mail", "sms", "crm", "robot", "audit"}
    store = host.open_store()
    try:
        desk = Desk(host, store)
        desk.intake(complaint(assignee="li.na"), classify=False)  # type: ignore[arg-type]
        desk.transition("CK-1", "acknowledge")
        from complaintkit.outbox import outbox_of

        recipients = {(m.channel, m.recipient) for m in outbox_of(store).messages()}
        assert ("mail", "ming@example.cn") in recipients
        assert ("crm", "物流部") in recipients
        assert ("mail", "li.na@example.cn") in recipients
    finally:
        store.close()
    monkeypatch.delenv("CK_SMTP_PASSWORD")
    with pytest.raises(ConfigError, match="password_env: environment variable CK_SMTP_PASSWORD"):
        make_host(config, env={}).channels()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2025-10-09T17:30:00+08:00", "2025-10-09 17:30 (UTC+08:00)"),
        ("2025-10-09T09:30:00+00:00", "2025-10-09 09:30 (UTC)"),
        ("2025-03-09T01:05:00-05:30", "2025-03-09 01:05 (UTC-05:30)"),
        (None, "-"),
    ],
)
def test_when_filter_shows_the_instant_in_its_own_offset(value: str | None, shown: str) -> None:
    from complaintkit_notify.templates import when

    assert when(value) == shown
