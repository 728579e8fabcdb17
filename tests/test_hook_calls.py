"""Hooks are called through pluggy: wrappers run, monitoring sees calls, failures stay isolated."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
from click.testing import CliRunner

from complaintkit import Desk, PluginHost, Report, ReportContext, hookimpl
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli


class Observer:
    def __init__(self) -> None:
        self.received: list[str] = []

    @hookimpl
    def complaint_received(self, complaint: Any) -> None:
        self.received.append(complaint.reference)


class Broken:
    @hookimpl
    def complaint_received(self, complaint: Any) -> None:
        raise RuntimeError("mail server down")


class Around:
    """A new-style hook wrapper (``wrapper=True``), as pluggy's and our style notes advise."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl(wrapper=True)
    def complaint_received(self, complaint: Any) -> Generator[None, Any, Any]:
        self.seen.append(("before", complaint.reference))
        result = yield
        self.seen.append(("after", complaint.reference))
        return result


def test_a_wrapper_runs_around_every_implementation_even_a_failing_one(
    ck_register: Callable[..., str], ck_host: PluginHost, ck_desk: Desk
) -> None:
    observer, around = Observer(), Around()
    ck_register(observer, "observer")
    ck_register(Broken(), "broken")
    ck_register(around, "around")
    ck_desk.intake(make_complaint("W-1"), classify=False)
    assert around.seen == [("before", "W-1"), ("after", "W-1")]
    assert observer.received == ["W-1"]
    assert [(f.plugin, f.stage) for f in ck_host.hook_errors] == [("broken", "complaint_received")]


def _reporter(name: str) -> Any:
    class Named:
        title = name
        description = name

        def __init__(self) -> None:
            self.name = name

        def build(self, context: ReportContext) -> Report:
            raise AssertionError("not built here")

    return Named()


def test_a_contributor_that_fails_registers_nothing_and_the_others_register(
    ck_host: PluginHost,
) -> None:
    class HalfDone:
        @hookimpl
        def register_reporters(self, register: Callable[[Any], None]) -> None:
            register(_reporter("half"))
            raise RuntimeError("the second reporter's template is missing")

    class Fine:
        @hookimpl
        def register_reporters(self, register: Callable[[Any], None]) -> None:
            register(_reporter("fine"))

    class Adds:
        @hookimpl(wrapper=True)
        def register_reporters(self, register: Callable[[Any], None]) -> Generator[None, Any, Any]:
            result = yield
            register(_reporter("wrapped"))
            return result

    ck_host.register(HalfDone(), "half_done")
    ck_host.register(Fine(), "fine")
    ck_host.register(Adds(), "adds")
    reporters = ck_host.reporters()
    assert "half" not in reporters
    assert {"fine", "wrapped", "summary"} <= set(reporters)
    assert ck_host.owner("register_reporters", "wrapped") == "a hook wrapper"
    assert [(f.plugin, f.stage) for f in ck_host.failures] == [("half_done", "register_reporters")]
    assert "template is missing" in ck_host.failures[0].error


def test_a_policy_hook_lets_its_error_through(ck_host: PluginHost) -> None:
    class Router:
        @hookimpl
        def route_complaint(self, complaint: Any) -> None:
            raise RuntimeError("routing table unreadable")

    ck_host.register(Router(), "router")
    with pytest.raises(RuntimeError, match="routing table unreadable"):
        ck_host.first_result("route_complaint", complaint=make_complaint("P-1"), desk=None)


def test_trace_plugins_prints_every_hook_call(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLAINTKIT_TRACE_PLUGINS", "1")
    store = f"tinydb://{tmp_path / 'c.json'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["--store", store, "init"]).exit_code == 0
    result = runner.invoke(cli, ["--store", store, "add", "--text", "The courier was rude"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    received = [line for line in lines if line.startswith("complaintkit hook complaint_received(")]
    assert len(received) == 1
    assert "(complaint=<Complaint 'CK-" in received[0] and "-> [" in received[0]
    assert "complaintkit hook complaint_received returned []" in lines
    assert any(line.startswith("complaintkit hook register_storage_backends(") for line in lines)
    assert "complaintkit hook" not in result.stdout


def test_without_the_switch_nothing_is_traced(tmp_path: Any) -> None:
    store = f"tinydb://{tmp_path / 'c.json'}"
    result = CliRunner().invoke(
        cli, ["--store", store, "init"], env={"COMPLAINTKIT_TRACE_PLUGINS": ""}
    )
    assert result.exit_code == 0
    assert "complaintkit hook" not in result.stderr
