"""Shared set-up for the process-engine tests: a desk configured by examples/process.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from complaintkit import Config, Desk, hookimpl, make_host
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


def close_complaint(desk: Desk, reference: str) -> None:
    """Take a complaint through every step of the process to ``closed`` (satisfaction 2)."""
    for action, kwargs in [
        ("acknowledge", {}),
        ("assess", {}),
        ("investigate", {}),
        ("propose", {"solution": "换新"}),
        ("accept", {}),
        ("implement", {}),
        ("resolve", {}),
        ("close", {"satisfaction": 2}),
    ]:
        desk.transition(reference, action, **kwargs)


class HookRecorder:
    """A plugin object recording the hooks that notify people (to prove nothing fired)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    @hookimpl
    def complaint_sla_warning(self, complaint: Any, target: str, deadline: Any) -> None:
        self.calls.append(("sla_warning", complaint.reference))

    @hookimpl
    def complaint_sla_breached(self, complaint: Any, target: str, deadline: Any) -> None:
        self.calls.append(("sla_breached", complaint.reference))

    @hookimpl
    def complaint_escalated(self, complaint: Any, event: Any) -> None:
        self.calls.append(("escalated", complaint.reference))

    @hookimpl
    def complaint_received(self, complaint: Any, desk: Any) -> None:
        self.calls.append(("received", complaint.reference))


def without_process(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it was before ``[sla]`` and ``[routing]`` were configured."""
    return {k: v for k, v in data.items() if k not in ("sla", "routing")}


def imported_before_sla(store_url: str, batch: int = 2) -> dict[str, Any]:
    """Five complaints stored without [sla] and [routing], then the example process configured
    and a recompute run (dry run first): what each step saw, for the backend tests."""
    from complaintkit import Event, Status
    from complaintkit.testing import make_complaint

    now = Clock(sh("2025-10-20 12:00"))
    first, store = make_desk(store_url, without_process(example_data()), clock=now)
    resolved = (
        Event(at=sh("2025-09-29 10:00"), actor="import", action="received"),
        Event(at=sh("2025-09-29 11:00"), actor="import", action="acknowledge"),
        Event(at=sh("2025-09-29 15:00"), actor="import", action="respond"),
        Event(at=sh("2025-09-30 10:00"), actor="import", action="resolve"),
    )
    with store:
        first.intake_many(
            [
                make_complaint(
                    "R-1", received_at=sh("2025-09-29 10:00"), text="发票开错了", order="O-1"
                ),
                make_complaint("R-2", received_at=sh("2025-09-30 17:00"), text="什么时候发货"),
                make_complaint(
                    "R-3", received_at=sh("2025-10-09 09:30"), text="退款没到账", order="O-3"
                ),
                make_complaint(
                    "R-4", received_at=sh("2025-10-19 20:00"), text="快递丢件", order="O-4"
                ),
                make_complaint(
                    "R-5",
                    received_at=sh("2025-09-29 10:00"),
                    text="屏幕有划痕",
                    order="O-5",
                    status=Status.RESOLVED,
                    history=resolved,
                ),
            ]
        )
        seen: dict[str, Any] = {"before": {c.reference: c for c in store.find()}}
    recorder = HookRecorder()
    desk, store = make_desk(store_url, plugins=(recorder,), clock=now)
    desk.RECOMPUTE_BATCH = batch
    desk.RECOMPUTE_PAGE = batch + 1  # pages and batches that do not line up
    with store:
        seen["sweep_before"] = desk.sweep(dry_run=True)
        ticks: list[int] = []
        seen["dry"] = desk.recompute(dry_run=True, progress=ticks.append)
        seen["ticks"] = len(ticks)
        seen["after_dry"] = {c.reference: c for c in store.find()}
        seen["real"] = desk.recompute()
        seen["after"] = {c.reference: c for c in store.find()}
        seen["again"] = desk.recompute(dry_run=True)
        seen["hooks"] = list(recorder.calls)
        seen["sweep_after"] = desk.sweep()
    seen["hooks_after_sweep"] = recorder.calls
    return seen


def check_imported_before_sla(seen: dict[str, Any]) -> None:
    """What :func:`imported_before_sla` must have seen, on any backend."""
    before, after = seen["before"], seen["after"]
    assert {c.sla_policy for c in before.values()} == {None}
    assert seen["sweep_before"].examined == 0  # nothing has an alert time: the reported gap
    dry = seen["dry"]
    assert (dry.examined, dry.changed, dry.dry_run) == (5, 5, True)
    assert dry.counts["policy"] == 5
    assert dry.counts["route"] == 5  # nobody had a department: routing decides for all
    assert seen["ticks"] == 5
    # a dry run writes nothing
    assert {r: c.version for r, c in seen["after_dry"].items()} == {
        r: c.version for r, c in before.items()
    }
    real = seen["real"]
    assert (real.examined, real.changed, real.counts) == (5, 5, dry.counts)
    assert [r for r, _ in real.changes] == [r for r, _ in dry.changes]
    assert {c.sla_policy for c in after.values()} == {"standard"}
    assert after["R-1"].department == "customer_service" and after["R-2"].department == "product"
    # R-5 met its targets: no breach; R-4 (received the evening before) is not due yet
    breaches = {
        r: sorted(e.data["target"] for e in c.history if e.action == "sla_breach")
        for r, c in after.items()
    }
    assert breaches == {
        "R-1": ["acknowledge", "resolve", "respond"],
        "R-2": ["acknowledge", "resolve", "respond"],
        "R-3": ["acknowledge", "resolve", "respond"],
        "R-4": [],
        "R-5": [],
    }
    assert real.counts["past_breaches"] == 9
    historical = [e for c in after.values() for e in c.history if e.action == "sla_breach"]
    assert all(e.data["historical"] is True for e in historical)
    assert after["R-4"].due_at is not None and after["R-4"].alert_at is not None
    assert after["R-1"].alert_at is None  # everything past is recorded: nothing to announce
    # the recompute notified and escalated nobody; the sweep after it announces only what is
    # still ahead (R-4's acknowledgement, due 14:30 today, warned 4 hours before)
    assert seen["hooks"] == []
    assert {c.escalation_level.slug for c in after.values()} == {"front_line"}
    sweep = seen["sweep_after"]
    assert (sweep.warnings, sweep.breaches, sweep.escalations) == (1, 0, 0)
    assert seen["hooks_after_sweep"] == [("sla_warning", "R-4")]
    assert seen["again"].changed == 0
