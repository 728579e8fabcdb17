# ruff: noqa: F811 - the fixtures imported from notify_support are parameters here
"""Internal notes never reach the customer: no template, e-mail, SMS or webhook payload
carries them, whatever event is notified after the note was written."""

from __future__ import annotations

import json
from collections.abc import Callable

from notify_support import (
    Project,
    project,  # noqa: F401 - fixtures
)

from complaintkit import Party
from complaintkit.testing import make_complaint

SECRET = "INTERNAL-ONLY 客户难缠 7731"

CONFIG = """
[notifications]
lang = "en"

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
from = "complaints@example.cn"

[notifications.channels.sms]
type = "sms"
url = "http://127.0.0.1:9/send"

[notifications.channels.crm]
type = "webhook"
url = "http://127.0.0.1:9/hook"

"""
RULE = """
[[notifications.rules]]
name = "tell-{event}"
event = "{event}"
channels = ["mail", "sms", "crm"]
recipients = ["complainant"]
"""
EVENTS = ("acknowledged", "resolved", "escalated", "closed")


def test_a_note_is_in_no_message_queued_after_it(project: Callable[[str], Project]) -> None:
    p = project(CONFIG + "".join(RULE.format(event=e) for e in EVENTS))
    p.desk.intake(
        make_complaint(
            "CK-1",
            text="The parcel was late.",
            complainant=Party(name="Ming", email="ming@example.cn", phone="+8613800138000"),
        ),
        classify=False,
    )
    p.desk.add_note("CK-1", SECRET)
    p.desk.label("CK-1", "cause", "service_quality", reason="by hand")
    for action in ("acknowledge", "assess", "investigate"):
        p.desk.transition("CK-1", action)
    p.desk.escalate("CK-1", reason="slow")
    p.desk.add_note("CK-1", SECRET + " again")
    p.desk.transition("CK-1", "propose", solution="resend the parcel")
    for action in ("accept", "implement", "resolve"):
        p.desk.transition("CK-1", action)
    p.desk.transition("CK-1", "close", satisfaction=4)
    messages = list(p.outbox.messages())
    assert {m.event for m in messages} == set(EVENTS)
    assert {m.channel for m in messages} == {"mail", "sms", "crm"}
    # The webhook carries the whole complaint: still no history, so no note.
    assert any("complaint" in m.payload for m in messages if m.channel == "crm")
    for message in messages:
        shown = json.dumps([message.subject, message.body, message.payload], ensure_ascii=False)
        assert "INTERNAL-ONLY" not in shown and "客户难缠" not in shown, message.key
    assert len(p.desk.notes(p.desk.get("CK-1"))) == 2  # kept, for the people handling it
