# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""E-mail through a real SMTP server (aiosmtpd on loopback), including the fault cases."""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from notify_support import Project, SmtpServer, certificate, project, smtp  # noqa: F401 - fixtures

from complaintkit import Party
from complaintkit.outbox import MessageStatus
from complaintkit.testing import make_complaint
from complaintkit_notify.channels import message_id
from complaintkit_notify.engine import drain
from complaintkit_notify.plugin import notifier

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def mail_config(port: int, extra: str = "", timeout: int = 5) -> str:
    return f"""
[notifications]
lang = "zh"
backoff = 60
max_attempts = 3

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
port = {port}
from = "投诉中心 <complaints@example.cn>"
timeout = {timeout}
{extra}

[[notifications.rules]]
name = "ack"
event = "received"
channels = ["mail"]
recipients = ["complainant"]
"""


def complaints(n: int) -> list[object]:
    return [
        make_complaint(
            f"CK-{i:03d}",
            title=f"冰箱送货延误 {i}",
            text="冰箱延误了三天才送到，外包装破损。",
            complainant=Party(name=f"王{i}", email=f"user{i}@example.cn"),
        )
        for i in range(n)
    ]


def run_drain(p: Project, **kwargs: object) -> object:
    found = notifier(p.host)
    assert found is not None
    return drain(p.outbox, found.channels, found.settings, worker="w1", clock=p.clock, **kwargs)  # type: ignore[arg-type]


def test_import_sends_chinese_acknowledgements_with_stable_message_ids(
    project: Callable[[str], Project], smtp: SmtpServer
) -> None:
    p = project(mail_config(smtp.port))
    p.desk.intake_many(complaints(3), classify=False)
    assert smtp.messages == []  # queued, not sent, by the import
    assert p.outbox.counts()[MessageStatus.PENDING] == 3
    result = run_drain(p)
    assert (result.sent, result.dead) == (3, 0)  # type: ignore[attr-defined]
    mail = {m["To"]: m for m in smtp.messages}["user1@example.cn"]
    assert mail["Subject"] == "您的投诉已受理（编号 CK-001）"
    assert str(mail["From"]) == "投诉中心 <complaints@example.cn>"
    assert mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert "王1，您好" in body and "CK-001" in body
    key = "CK-001:received:ack:mail:user1@example.cn"
    assert mail["Message-ID"] == message_id(key, "complaints@example.cn")
    assert mail["X-Complaintkit-Key"] == key
    assert p.outbox.get(key).status is MessageStatus.SENT
    # a second drain has nothing to do; re-firing the hook queues nothing new
    assert run_drain(p).sent == 0  # type: ignore[attr-defined]
    p.host.fire("complaint_received", complaint=p.desk.get("CK-001"), desk=p.desk)
    assert p.outbox.counts()[MessageStatus.PENDING] == 0
    assert len(smtp.messages) == 3


def test_smtp_login(project: Callable[[str], Project]) -> None:
    server = SmtpServer(auth=("ck", "s3cret"))
    server.start()
    try:
        p = project(mail_config(server.port, 'username = "ck"\npassword = "s3cret"'))
        p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
        assert run_drain(p).sent == 1  # type: ignore[attr-defined]
        assert server.logins == ["ck"]
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_wrong_smtp_password_is_permanent(project: Callable[[str], Project]) -> None:
    server = SmtpServer(auth=("ck", "s3cret"))
    server.start()
    try:
        p = project(mail_config(server.port, 'username = "ck"\npassword = "wrong"'))
        p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
        result = run_drain(p)
        assert result.dead == 1  # type: ignore[attr-defined]
        (dead,) = p.outbox.messages(MessageStatus.DEAD)
        assert "535" in (dead.last_error or "")
        assert server.messages == []
    finally:
        server.stop()


def test_server_down_is_retried_later_and_nothing_is_lost(
    project: Callable[[str], Project],
) -> None:
    server = SmtpServer()  # not started: connection refused
    p = project(mail_config(server.port))
    p.desk.intake_many(complaints(2), classify=False)
    result = run_drain(p)
    assert (result.sent, result.retrying, result.dead) == (0, 2, 0)  # type: ignore[attr-defined]
    message = p.outbox.get("CK-000:received:ack:mail:user0@example.cn")
    assert message.status is MessageStatus.PENDING
    assert "Connection" in (message.last_error or "") or "refused" in (message.last_error or "")
    assert message.attempts == 1
    # backoff: 60 s × 2^0 with jitter 50–100 %
    assert message.next_attempt_at is not None
    delay = (message.next_attempt_at - p.clock()).total_seconds()
    assert 30 <= delay <= 60
    server.start()
    try:
        assert run_drain(p).sent == 0  # type: ignore[attr-defined]  # not due yet
        p.clock.advance(seconds=61)
        assert run_drain(p).sent == 2  # type: ignore[attr-defined]
        assert len(server.messages) == 2
    finally:
        server.stop()


def test_gives_up_after_max_attempts_with_the_reason(project: Callable[[str], Project]) -> None:
    server = SmtpServer()
    p = project(mail_config(server.port))
    p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
    for _ in range(3):
        run_drain(p)
        p.clock.advance(hours=1)
    (dead,) = p.outbox.messages(MessageStatus.DEAD)
    assert dead.attempts == 3
    assert (dead.last_error or "").startswith("gave up after 3 attempts:")


def test_rejected_recipients_5xx_dead_at_once_4xx_retried(
    project: Callable[[str], Project], smtp: SmtpServer
) -> None:
    smtp.handler.reject["user0@example.cn"] = "550 5.1.1 no such mailbox"
    smtp.handler.reject["user1@example.cn"] = "451 4.3.0 try again later"
    p = project(mail_config(smtp.port))
    p.desk.intake_many(complaints(3), classify=False)
    result = run_drain(p)
    assert (result.sent, result.retrying, result.dead) == (1, 1, 1)  # type: ignore[attr-defined]
    dead = p.outbox.get("CK-000:received:ack:mail:user0@example.cn")
    assert dead.status is MessageStatus.DEAD
    assert "550" in (dead.last_error or "")
    later = p.outbox.get("CK-001:received:ack:mail:user1@example.cn")
    assert later.status is MessageStatus.PENDING and "451" in (later.last_error or "")
    del smtp.handler.reject["user1@example.cn"]
    p.clock.advance(minutes=5)
    assert run_drain(p).sent == 1  # type: ignore[attr-defined]
    assert sorted(m["To"] for m in smtp.messages) == ["user1@example.cn", "user2@example.cn"]


def test_stopping_the_server_mid_batch_delivers_every_message_exactly_once(
    project: Callable[[str], Project], smtp: SmtpServer
) -> None:
    p = project(mail_config(smtp.port))
    p.desk.intake_many(complaints(30), classify=False)
    sent_so_far = 0

    def stop_after_ten(message: object, outcome: str) -> None:
        nonlocal sent_so_far
        sent_so_far += outcome == "sent"
        if sent_so_far == 10 and smtp.controller is not None:
            smtp.stop()

    first = run_drain(p, progress=stop_after_ten)
    assert first.sent == 10 and first.retrying == 20  # type: ignore[attr-defined]
    smtp.start()
    p.clock.advance(minutes=2)
    second = run_drain(p)
    assert second.sent == 20  # type: ignore[attr-defined]
    counts = Counter(smtp.handler.message_ids())
    expected = {
        message_id(f"CK-{i:03d}:received:ack:mail:user{i}@example.cn", "complaints@example.cn")
        for i in range(30)
    }
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    assert p.outbox.counts() == {
        MessageStatus.PENDING: 0,
        MessageStatus.SENT: 30,
        MessageStatus.DEAD: 0,
    }


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login(
    project: Callable[[str], Project], certificate: tuple[Path, Path], security: str
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(auth=("ck", "s3cret"), tls=context, implicit_tls=security == "ssl")
    server.start()
    try:
        extra = f'security = "{security}"\nca_file = "{cert}"\nusername = "ck"\npassword = "s3cret"'
        p = project(mail_config(server.port, extra))
        p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
        assert run_drain(p).sent == 1  # type: ignore[attr-defined]
        assert server.logins == ["ck"]
        assert server.messages[0]["Subject"] == "您的投诉已受理（编号 CK-000）"
    finally:
        server.stop()


def test_untrusted_certificate_is_not_accepted(
    project: Callable[[str], Project], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls=context)
    server.start()
    try:
        p = project(mail_config(server.port, 'security = "starttls"', timeout=3))
        p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
        result = run_drain(p)
        assert (result.sent, result.retrying) == (0, 1)  # type: ignore[attr-defined]
        assert "CERTIFICATE_VERIFY_FAILED" in (p.outbox.messages().__next__().last_error or "")
        assert server.messages == []
    finally:
        server.stop()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_against_a_plain_server_fails_without_sending(
    project: Callable[[str], Project], smtp: SmtpServer, security: str
) -> None:
    p = project(mail_config(smtp.port, f'security = "{security}"', timeout=2))
    p.desk.intake(complaints(1)[0], classify=False)  # type: ignore[arg-type]
    result = run_drain(p)
    assert result.sent == 0 and result.dead + result.retrying == 1  # type: ignore[attr-defined]
    assert smtp.messages == []
