"""pytest fixtures for complaintkit and for plugin authors (registered as a pytest11 plugin).

Each test gets its own host (no global plugin manager leaks between tests) and its own store in
``tmp_path``; override ``ck_config`` to give the host configuration tables::

    def test_my_scheme(ck_register, ck_desk):
        ck_register(my_plugin_module)
        complaint = ck_desk.intake(make_complaint(text="..."))
        assert complaint.label("my_scheme") == "..."
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from complaintkit.config import Config
from complaintkit.desk import Desk
from complaintkit.host import PluginHost, make_host
from complaintkit.storage import Store

from . import FIXED_TIME


class TickingClock:
    """A clock for tests: starts at a fixed time and advances one second per reading."""

    def __init__(self, start: datetime = FIXED_TIME) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now = current + timedelta(seconds=1)
        return current


@pytest.fixture
def ck_store_url(tmp_path: Path) -> str:
    """A TinyDB store URL in the test's temporary folder."""
    return f"tinydb://{tmp_path / 'complaints.json'}"


@pytest.fixture
def ck_config(ck_store_url: str) -> Config:
    """The configuration ``ck_host`` is made with: ``ck_store_url`` and nothing else.

    Override it to give your plugin its tables (a channel's ``[notifications]`` rules, your
    own ``[wecom]``)::

        @pytest.fixture
        def ck_config(ck_store_url):
            return Config(store=ck_store_url, data={"wecom": {"url": "http://..."}})
    """
    return Config(store=ck_store_url)


@pytest.fixture
def ck_plugins() -> list[object]:
    """Plugins (modules or objects) registered on ``ck_host`` when it is made, before any
    desk opens: none. Override it for a plugin the configuration names, such as a channel of
    type ``plugin`` in ``[notifications]`` rules (a desk checks the rules when it opens)::

        @pytest.fixture
        def ck_plugins():
            return [wecom]
    """
    return []


@pytest.fixture
def ck_host(ck_config: Config, ck_plugins: list[object]) -> PluginHost:
    """A fresh host with every installed plugin loaded and ``ck_plugins`` registered,
    configured by ``ck_config``."""
    return make_host(ck_config, env={}, plugins=ck_plugins)


@pytest.fixture
def ck_register(ck_host: PluginHost) -> Callable[..., str]:
    """Register a plugin (module or object) on ``ck_host``: ``ck_register(plugin, name=None)``."""

    def register(plugin: object, name: str | None = None) -> str:
        return ck_host.register(plugin, name)

    return register


@pytest.fixture
def ck_store(ck_host: PluginHost) -> Iterator[Store]:
    """The host's configured store, opened for the test and closed after it."""
    store = ck_host.open_store()
    yield store
    store.close()


@pytest.fixture
def ck_clock() -> TickingClock:
    """A deterministic clock (see :class:`TickingClock`)."""
    return TickingClock()


@pytest.fixture
def ck_desk(ck_host: PluginHost, ck_store: Store, ck_clock: TickingClock) -> Desk:
    """A desk on ``ck_store`` acting as ``tester`` with a deterministic clock."""
    return Desk(ck_host, ck_store, actor="tester", clock=ck_clock)
