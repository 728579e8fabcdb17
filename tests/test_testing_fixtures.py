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


@pytest.fixture
def ck_plugins() -> list[object]:
    return [RobotPlugin()]


def test_overriding_ck_config_configures_the_host_a_channel_plugin_reads(
    ck_host: PluginHost, ck_desk: Desk
) -> None:
    assert ck_host.channels()["robot"].url == "http://127.0.0.1:9/hook"
    ck_desk.intake(make_complaint(reference="T-1", department="quality"))
    queued = list(outbox_of(ck_desk.store).messages())
    assert [(m.channel, m.recipient, m.reference) for m in queued] == [("robot", "Quality", "T-1")]


def test_without_the_channel_plugin_the_desk_refuses_to_open(ck_config: Config) -> None:
    """The desk checks the notification rules when it opens, so that a command stops instead
    of losing every message: a channel plugin the rules name goes in ``ck_plugins``."""
    from complaintkit import ConfigError, make_host

    host = make_host(ck_config, env={})
    store = host.open_store(create=True)
    try:
        with pytest.raises(ConfigError, match="no plugin registers a channel named 'robot'"):
            Desk(host, store)
        host.register(RobotPlugin(), "robot")
        Desk(host, store)  # registered before the desk opens: accepted
    finally:
        store.close()
