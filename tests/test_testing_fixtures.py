"""The pytest fixtures plugin authors get (docs/testing.md), used as a plugin author would."""

from __future__ import annotations

from typing import Any

import pytest

from complaintkit import Config, DeliveryResult, Desk, PluginHost, hookimpl
from complaintkit.outbox import OutboxMessage, outbox_of
from complaintkit.testing import make_complaint


class RobotChannel:
    """A channel configured from its own table, as docs/notifications.md's WeCom example."""

    address_kind = "name"
    description = "a group robot"

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url

    def send(self, message: OutboxMessage) -> DeliveryResult:
        return DeliveryResult("ok")


class RobotPlugin:
    @hookimpl
    def register_notification_channels(self, register: Any, config: Any) -> None:
        table = config.section("robot")
        if table:
            register(RobotChannel("robot", table["url"]))


@pytest.fixture
def ck_config(ck_store_url: str) -> Config:
    return Config(
        store=ck_store_url,
        data={
            "robot": {"url": "http://127.0.0.1:9/hook"},
            "notifications": {
                "channels": {"robot": {"type": "plugin"}},
                "rules": [{"event": "received", "channel": "robot", "recipients": ["department"]}],
                "recipients": {"departments": {"quality": {"name": "Quality"}}},
            },
        },
    )


def test_overriding_ck_config_configures_the_host_a_channel_plugin_reads(
    ck_register: Any, ck_host: PluginHost, ck_desk: Desk
) -> None:
    ck_register(RobotPlugin(), "robot")
    assert ck_host.channels()["robot"].url == "http://127.0.0.1:9/hook"
    ck_desk.intake(make_complaint(reference="T-1", department="quality"))
    queued = list(outbox_of(ck_desk.store).messages())
    assert [(m.channel, m.recipient, m.reference) for m in queued] == [("robot", "Quality", "T-1")]
