"""Shared set-up for the process-engine tests: a desk configured by examples/process.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaintkit import Config, Desk, make_host
from complaintkit.storage import Store

EXAMPLE = Path(__file__).parent.parent / "examples" / "process.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def example_data() -> dict[str, Any]:
    """The example process configuration as parsed TOML."""
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def sh(text: str) -> datetime:
    """A Shanghai time from ``2025-09-30 16:00``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_desk(
    store_url: str,
    data: dict[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    plugins: tuple[object, ...] = (),
    actor: str = "tester",
) -> tuple[Desk, Store]:
    """A desk on ``store_url`` with ``data`` (default: the example) as its configuration."""
    config = Config(
        path=EXAMPLE,
        store=store_url,
        data=example_data() if data is None else data,
        timezone="Asia/Shanghai",
    )
    host = make_host(config, env={}, plugins=plugins)
    store = host.open_store()
    return Desk(host, store, actor=actor, clock=clock or Clock(sh("2025-09-30 16:00"))), store
