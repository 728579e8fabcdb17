# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""Webhook, SMS gateway and DingTalk robot against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable

from notify_support import HttpServer, Project, Received, Reply, http, project  # noqa: F401 - fixtures

from complaintkit import Party
from complaintkit.outbox import MessageStatus
from complaintkit.testing import make_complaint
from complaintkit_notify.engine import DrainResult, drain
from complaintkit_notify.plugin import notifier

SECRET = "whsec-测试-123"


def run_drain(p: Project) -> DrainResult:
    found = notifier(p.host)
    assert found is not None
    return drain(p.outbox, found.channels, found.settings, worker="w", clock=p.clock)


def webhook_config(url: str, extra: str = "") -> str:
    return f"""
[notifications]
lang = "en"
backoff = 10

[notifications.channels.ops]
type = "webhook"
url = "{url}"
secret = "{SECRET}"
timeout = 1
{extra}

[[notifications.rules]]
name = "ops-received"
event = "received"
channel = "ops"
recipients = ["department"]

[notifications.recipients.departments.logistics]
name = "Logistics"
"""


def verify_signature(request: Received) -> bool:
    """What a receiver does: recompute HMAC-SHA256(secret, timestamp + "." + body)."""
    timestamp = request.headers["X-Complaintkit-Timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(request.headers["X-Complaintkit-Signature"], f"sha256={expected}")


def intake(p: Project, n: int = 1) -> None:
    for i in range(n):
        p.desk.intake(
            make_complaint(
                f"CK-{i}",
                title="Fridge late",
                text="The fridge <b>arrived</b> three days late.",
                department="logistics",
                complainant=Party(name="Ming", phone="+8613800138000"),
            ),
            classify=False,
        )


def test_webhook_posts_a_signed_versioned_payload(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.check = verify_signature
    p = project(webhook_config(http.url()))
    intake(p)
    assert run_drain(p).sent == 1
    (request,) = http.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["Idempotency-Key"] == "CK-0:received:ops-received:ops:Logistics"
    assert request.headers["X-Complaintkit-Event"] == "received"
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.json()
    assert body["version"] == 1
    assert body["event"] == "received"
    assert body["complaint"]["reference"] == "CK-0"
    assert body["complaint"]["department"] == "logistics"
    assert body["message"]["recipient"] == "Logistics"
    assert "CK-0" in body["message"]["text"]
    assert p.outbox.get(request.headers["Idempotency-Key"]).status is MessageStatus.SENT


def test_webhook_with_the_wrong_secret_is_refused_permanently(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.check = verify_signature
    p = project(webhook_config(http.url()).replace(SECRET, "not-the-secret"))
    intake(p)
    result = run_drain(p)
    assert (result.sent, result.dead) == (0, 1)
    (dead,) = p.outbox.messages(MessageStatus.DEAD)
    assert "HTTP 401" in (dead.last_error or "")


def test_webhook_5xx_is_retried_with_the_same_idempotency_key(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.replies = [Reply(503, b"busy")]
    p = project(webhook_config(http.url()))
    intake(p)
    first = run_drain(p)
    assert (first.sent, first.retrying) == (0, 1)
    assert "HTTP 503" in (p.outbox.get("CK-0:received:ops-received:ops:Logistics").last_error or "")
    p.clock.advance(seconds=11)
    assert run_drain(p).sent == 1
    keys = [r.headers["Idempotency-Key"] for r in http.requests]
    assert len(keys) == 2 and len(set(keys)) == 1


def test_webhook_4xx_is_permanent_but_429_is_not(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.replies = [Reply(422, b"unprocessable"), Reply(429, b"slow down")]
    p = project(webhook_config(http.url()))
    intake(p, 2)
    result = run_drain(p)
    assert (result.sent, result.retrying, result.dead) == (0, 1, 1)
    assert "HTTP 422" in (p.outbox.get("CK-0:received:ops-received:ops:Logistics").last_error or "")
    assert p.outbox.get("CK-1:received:ops-received:ops:Logistics").status is MessageStatus.PENDING


def test_webhook_slow_receiver_times_out_and_is_retried(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.replies = [Reply(200, b"{}", delay=2.5)]
    p = project(webhook_config(http.url()))
    intake(p)
    started = time.monotonic()
    result = run_drain(p)
    assert time.monotonic() - started < 2.4  # gave up at the 1 s timeout
    assert (result.sent, result.retrying) == (0, 1)
    assert "timed out" in (p.outbox.messages().__next__().last_error or "")
    p.clock.advance(seconds=11)
    assert run_drain(p).sent == 1


def test_webhook_server_down_keeps_the_message(project: Callable[[str], Project]) -> None:
    server = HttpServer()
    url = server.url()
    server.close()
    p = project(webhook_config(url))
    intake(p)
    result = run_drain(p)
    assert (result.sent, result.retrying, result.dead) == (0, 1, 0)
    assert "refused" in (p.outbox.messages().__next__().last_error or "").lower()


def sms_config(url: str, table: str) -> str:
    return f"""
[notifications]
lang = "zh"

[notifications.channels.sms]
type = "sms"
url = "{url}"
{table}

[[notifications.rules]]
name = "sms-ack"
event = "received"
channel = "sms"
recipients = ["complainant"]
"""


def test_sms_gateway_form_post_with_basic_auth(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.default = Reply(200, b'{"code": "0", "msg": "ok"}')
    table = """
username = "acme"
password = "pw"
params = { mobile = "{recipient}", content = "{body}", sign = "ACME", ref = "{reference}" }
success_field = "code"
success_value = "0"
"""
    p = project(sms_config(http.url("/sms/send"), table))
    intake(p)
    assert run_drain(p).sent == 1
    (request,) = http.requests
    assert request.path == "/sms/send"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"acme:pw").decode()
    form = dict(urllib.parse.parse_qsl(request.body.decode()))
    assert form["mobile"] == "+8613800138000"
    assert form["sign"] == "ACME" and form["ref"] == "CK-0"
    assert form["content"] == "【投诉受理】您的投诉已受理，编号 CK-0，我们会尽快与您联系。"


def test_sms_gateway_json_with_token_and_refusal(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.replies = [Reply(200, b'{"code": "E42", "msg": "blacklisted"}')]
    table = """
format = "json"
token = "tok-1"
params = { to = "{recipient}", text = "{body}" }
success_field = "code"
success_value = "0"
"""
    p = project(sms_config(http.url(), table))
    intake(p)
    result = run_drain(p)
    assert result.dead == 1
    (request,) = http.requests
    assert request.headers["Authorization"] == "Bearer tok-1"
    assert request.json()["to"] == "+8613800138000"
    assert "blacklisted" in (p.outbox.messages().__next__().last_error or "")


def test_sms_gateway_get(project: Callable[[str], Project], http: HttpServer) -> None:
    p = project(sms_config(http.url("/send?key=K"), 'method = "GET"'))
    intake(p)
    assert run_drain(p).sent == 1
    (request,) = http.requests
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))
    assert query["key"] == "K" and query["to"] == "+8613800138000"


def dingtalk_check(secret: str) -> Callable[[Received], bool]:
    """DingTalk's own check: sign = base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))."""

    def check(request: Received) -> bool:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))
        timestamp = query["timestamp"]
        if abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
            return False
        digest = hmac.new(
            secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256
        ).digest()
        return query["sign"] == base64.b64encode(digest).decode() and query["access_token"] == "T"

    return check


def test_dingtalk_robot_markdown_signed(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    secret = "SEC0123456789abcdef"
    http.check = dingtalk_check(secret)
    http.default = Reply(200, b'{"errcode": 0, "errmsg": "ok"}')
    config = f"""
[notifications]
lang = "zh"

[notifications.channels.robot]
type = "dingtalk"
url = "{http.url("/robot/send?access_token=T")}"
secret = "{secret}"

[[notifications.rules]]
name = "breach"
event = "sla_breach"
channel = "robot"
recipients = ["level"]

[notifications.recipients.levels.complaint_management]
phone = "13900000000"
"""
    p = project(config)
    p.desk.intake(make_complaint("CK-9", text="冰箱坏了"), classify=False)
    p.desk.escalate("CK-9", reason="x")
    p.desk.escalate("CK-9", reason="y")
    complaint = p.desk.get("CK-9")
    p.host.fire(
        "complaint_sla_breached",
        complaint=complaint,
        target="resolve",
        deadline=complaint.received_at,
        desk=p.desk,
    )
    assert run_drain(p).sent == 1
    (request,) = http.requests
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【CK-9】解决已超时"
    assert "@13900000000" in body["markdown"]["text"]
    assert body["at"]["atMobiles"] == ["13900000000"]


def test_dingtalk_error_code_is_permanent(
    project: Callable[[str], Project], http: HttpServer
) -> None:
    http.default = Reply(200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode())
    config = f"""
[notifications]
[notifications.channels.robot]
type = "dingtalk"
url = "{http.url("/robot/send?access_token=T")}"
[[notifications.rules]]
event = "received"
channel = "robot"
recipients = ["complainant"]
"""
    p = project(config)
    p.desk.intake(make_complaint("CK-1", complainant=Party(phone="13800000000")), classify=False)
    assert run_drain(p).dead == 1
    assert "310000" in (p.outbox.messages().__next__().last_error or "")
