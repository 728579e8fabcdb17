"""The seams the desk and the host gained when they were split into units: the desk's shared
state is the one its units read, and collecting contributions works on a bare PluginManager."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pluggy
import pytest

from complaintkit import Desk, DuplicateNameError, NotFoundError, Store, hookimpl, hookspecs
from complaintkit.hookcalls import contributions, guard
from complaintkit.testing import make_complaint

LATER = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)


def test_a_clock_and_actor_set_on_the_desk_later_are_the_ones_every_unit_uses(
    ck_desk: Desk, ck_store: Store
) -> None:
    ck_desk.clock = lambda: LATER
    ck_desk.actor = "night shift"
    ck_desk.intake(make_complaint("U-1", text="The fee is too high"))
    ck_desk.transition("U-1", "acknowledge")
    ck_desk.label("U-1", "cause", "integrity", reason="advert promised no fees")
    history = ck_store.get("U-1").history
    assert [e.action for e in history] == ["received", "classify", "acknowledge", "classify"]
    assert {(e.at, e.actor) for e in history} == {(LATER, "night shift")}
    assert (ck_desk.clock(), ck_desk.actor) == (LATER, "night shift")


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class _Registers:
    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def register_reporters(self, register: Any) -> None:
        for name in self.names:
            register(_Named(name))


class _Raises:
    @hookimpl
    def register_reporters(self, register: Any) -> None:
        register(_Named("half-done"))
        raise RuntimeError("no database driver")


def _manager(**plugins: object) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name, plugin in plugins.items():
        pm.register(plugin, name=name)
        for impl in pm.hook.register_reporters.get_hookimpls():
            guard(impl)
    return pm


def test_contributions_keep_the_others_when_one_fails_and_drop_what_it_registered() -> None:
    pm = _manager(good=_Registers("summary", "pareto"), broken=_Raises())
    failed: list[tuple[str, str]] = []
    found, owners = contributions(
        pm, "register_reporters", "reporter", lambda r: [r.name], lambda *f: failed.append(f)
    )
    assert sorted(found) == ["pareto", "summary"]
    assert owners == {"summary": "good", "pareto": "good"}
    assert failed == [("broken", "RuntimeError: no database driver")]


def test_contributions_refuse_a_name_registered_twice_naming_both_plugins() -> None:
    pm = _manager(first=_Registers("summary"), second=_Registers("summary"))
    with pytest.raises(DuplicateNameError) as caught:
        contributions(pm, "register_reporters", "reporter", lambda r: [r.name], print)
    message = str(caught.value)
    assert "summary" in message and "first" in message and "second" in message


def test_label_many_applies_decisions_in_one_batch_with_the_events_label_gives(
    ck_desk: Desk, ck_store: Store
) -> None:
    for i in range(3):
        ck_desk.intake(make_complaint(f"L-{i}", text="The fee is too high"))
    versions = {c.reference: c.version for c in ck_store.find()}
    applied = ck_desk.label_many(
        [
            ("L-0", "cause", "integrity", "advert promised no fees"),
            ("L-1", "投诉原因", "服务质量", None),  # names in Chinese are resolved too
            ("L-0", "severity", "serious", "second decision on L-0"),
        ]
    )
    assert applied == 3
    after = {c.reference: c for c in ck_store.find()}
    # one write a complaint, whatever number of decisions it had
    assert after["L-0"].version == versions["L-0"] + 1
    assert after["L-1"].version == versions["L-1"] + 1
    assert after["L-2"].version == versions["L-2"]
    assert after["L-0"].labels["cause"].label == "integrity"
    assert after["L-0"].labels["cause"].classifier == "manual"
    assert after["L-0"].labels["severity"].label == "serious"
    assert after["L-1"].labels["cause"].label == "service_quality"
    last_two = after["L-0"].history[-2:]
    assert [e.reason for e in last_two] == ["advert promised no fees", "second decision on L-0"]
    assert last_two[0].data["cause"]["to"] == "integrity"
    # the same event label() would have written
    ck_desk.label("L-2", "cause", "integrity", reason="advert promised no fees")
    one = ck_store.get("L-2").history[-1]
    assert (one.action, one.reason, one.data) == (
        last_two[0].action,
        last_two[0].reason,
        last_two[0].data,
    )


def test_label_many_refuses_an_unknown_reference_and_writes_nothing_of_its_batch(
    ck_desk: Desk, ck_store: Store
) -> None:
    ck_desk.intake(make_complaint("M-1", text="The fee is too high"))
    before = ck_store.get("M-1")
    with pytest.raises(NotFoundError, match="M-404"):
        ck_desk.label_many([("M-1", "cause", "price", None), ("M-404", "cause", "price", None)])
    assert ck_store.get("M-1") == before
