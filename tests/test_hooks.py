"""One test per hook, named ``test_hook_<name>``; test_docs.py checks every hook has one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cattrs
import pytest
from click.testing import CliRunner

from complaintkit import (
    ComplaintFilter,
    Desk,
    DuplicateNameError,
    EscalationLevel,
    Names,
    Notification,
    PluginHost,
    Report,
    ReportContext,
    StorageBackend,
    Store,
    hookimpl,
)
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli


class Recorder:
    """A plugin object that records every lifecycle hook call it receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def complaint_received(self, complaint: Any, desk: Desk) -> None:
        self.calls.append(("received", {"ref": complaint.reference, "desk": desk}))

    @hookimpl
    def complaint_classified(self, complaint: Any, label: Any, previous: Any) -> None:
        self.calls.append(
            ("classified", {"ref": complaint.reference, "label": label, "previous": previous})
        )

    @hookimpl
    def complaint_transitioned(self, complaint: Any, event: Any) -> None:
        self.calls.append(("transitioned", {"ref": complaint.reference, "event": event}))

    @hookimpl
    def complaint_escalated(self, complaint: Any, event: Any) -> None:
        self.calls.append(("escalated", {"ref": complaint.reference, "event": event}))

    @hookimpl
    def complaint_closed(self, complaint: Any) -> None:
        self.calls.append(("closed", {"ref": complaint.reference, "sat": complaint.satisfaction}))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for name, data in self.calls if name == kind]


@pytest.fixture
def recorder(ck_register: Callable[..., str]) -> Recorder:
    rec = Recorder()
    ck_register(rec, "recorder")
    return rec


def _walk_to_resolved(desk: Desk, ref: str) -> None:
    for action, kwargs in [
        ("acknowledge", {}),
        ("assess", {}),
        ("investigate", {}),
        ("propose", {"solution": "replace the handset"}),
        ("accept", {}),
        ("implement", {}),
        ("resolve", {}),
    ]:
        desk.transition(ref, action, **kwargs)


# --- contribution hooks -----------------------------------------------------------------


def test_hook_register_classification_schemes(ck_host: PluginHost, local_plugins: Path) -> None:
    ck_host.load_plugins_dir(local_plugins)
    scheme = ck_host.scheme("vip")
    assert ck_host.owner("register_classification_schemes", "vip") == "vip"
    result = scheme.classify("I am a platinum member and nobody called back")
    assert result is not None and result.label == "vip"
    assert result.evidence == ("platinum",)


def test_hook_register_storage_backends(ck_host: PluginHost, tmp_path: Path) -> None:
    opened: list[str] = []

    class Plugin:
        @hookimpl
        def register_storage_backends(self, register: Callable[[StorageBackend], None]) -> None:
            tinydb = ck_host.storage_backends()["tinydb"]

            def open_(url: str, options: Any) -> Store:
                opened.append(url)
                return tinydb.open("tinydb://" + url.partition("://")[2], options)

            register(StorageBackend("mirror", ("mirror",), open_))

    # a fresh cache: the Plugin's backend joins the ones already collected
    ck_host.register(Plugin(), "mirror")
    store = ck_host.open_store(f"mirror://{tmp_path / 'm.json'}")
    store.add(make_complaint("M-1"))
    store.close()
    assert opened == [f"mirror://{tmp_path / 'm.json'}"]
    assert (tmp_path / "m.json").exists()


def test_hook_register_notification_channels(ck_host: PluginHost) -> None:
    sent: list[Notification] = []

    class Outbox:
        name = "memory"
        description = "keeps messages in a list"

        def send(self, notification: Notification) -> None:
            sent.append(notification)

    class Plugin:
        @hookimpl
        def register_notification_channels(self, register: Any, config: Any) -> None:
            assert config is ck_host.config
            register(Outbox())

    ck_host.register(Plugin(), "outbox")
    channel = ck_host.channels()["memory"]
    channel.send(Notification("received", "CK-1", "a@example.com", "We got it", "…"))
    assert [n.reference for n in sent] == ["CK-1"]


def test_hook_register_business_calendars(ck_host: PluginHost) -> None:
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from complaintkit.calendars import WorkingCalendar, parse_hours

    class Plugin:
        @hookimpl
        def register_business_calendars(self, register: Any, config: Any) -> None:
            assert config is ck_host.config
            register(
                WorkingCalendar(
                    name="night-desk",
                    timezone="Asia/Shanghai",
                    hours=parse_hours(["20:00-24:00"]),
                    closed={date(2026, 12, 25): Names("staff party", "年会")},
                )
            )

    ck_host.register(Plugin(), "night-desk")
    calendar = ck_host.calendar("night-desk")
    assert ck_host.owner("register_business_calendars", "night-desk") == "night-desk"
    assert "cn" in ck_host.calendars()  # the installed calendars are still there
    shanghai = ZoneInfo("Asia/Shanghai")
    # Thursday 23:00 + 2 working hours: Friday 25 is closed, so Monday 21:00
    start = datetime(2026, 12, 24, 23, tzinfo=shanghai)
    assert calendar.add(start, timedelta(hours=2)) == datetime(2026, 12, 28, 21, tzinfo=shanghai)

    class Clash:
        @hookimpl
        def register_business_calendars(self, register: Any) -> None:
            register(WorkingCalendar(name="cn"))

    ck_host.register(Clash(), "clash")
    with pytest.raises(DuplicateNameError, match="'cn' is registered twice"):
        ck_host.calendars()


def test_hook_register_reporters(ck_host: PluginHost, ck_desk: Desk) -> None:
    class Count:
        name = "count"
        names = Names("Count", "计数")
        description = "how many"

        def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
            return Report(self.name, self.names, ((Names("n", "数"), store.count(flt)),))

    class Plugin:
        @hookimpl
        def register_reporters(self, register: Any) -> None:
            register(Count())

    ck_host.register(Plugin(), "count-plugin")
    ck_desk.intake(make_complaint("R-1"), classify=False)
    report = ck_desk.report("count")
    assert report.figures[0][1] == 1
    assert "summary" in ck_host.reporters()


def test_hook_register_commands(ck_store_url: str, local_plugins: Path) -> None:
    runner = CliRunner()
    base = ["--store", ck_store_url, "--plugins-dir", str(local_plugins)]
    added = runner.invoke(cli, [*base, "add", "--text", "As a VIP member I expect a call back"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(cli, [*base, "vip-count"])
    assert result.exit_code == 0, result.output
    assert "VIP complaints: 1" in result.output
    # Without the plugin folder the command does not exist.
    missing = runner.invoke(cli, ["--store", ck_store_url, "vip-count"])
    assert missing.exit_code != 0


def test_hook_register_commands_clash_is_reported(ck_store_url: str, tmp_path: Path) -> None:
    (tmp_path / "clash.py").write_text(
        "import click\nfrom complaintkit import hookimpl\n\n"
        "@hookimpl\ndef register_commands(cli):\n"
        "    @cli.command('list')\n    def hijack():\n        click.echo('hijacked')\n",
        encoding="utf-8",
    )
    base = ["--store", ck_store_url, "--plugins-dir", str(tmp_path)]
    listed = CliRunner().invoke(cli, [*base, "list"])
    assert listed.exit_code == 0
    assert "hijacked" not in listed.output
    helped = CliRunner().invoke(cli, [*base, "--help"])
    assert "'list' is registered twice" in helped.stderr
    assert "plugin 'clash'" in helped.stderr


def test_hook_configure_converter(ck_host: PluginHost) -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    class Plugin:
        @hookimpl
        def configure_converter(self, converter: cattrs.Converter) -> None:
            converter.register_unstructure_hook(Money, lambda m: f"{m.cents / 100:.2f}")

    ck_host.register(Plugin(), "money")
    assert ck_host.converter().unstructure(Money(1234)) == "12.34"
    assert ck_host.converter(checking=False).unstructure(Money(5)) == "0.05"


# --- lifecycle hooks --------------------------------------------------------------------


def test_hook_complaint_received(recorder: Recorder, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("H-1"), classify=False)
    ck_desk.intake_many([make_complaint("H-2"), make_complaint("H-1")], classify=False)
    assert [c["ref"] for c in recorder.of("received")] == ["H-1", "H-2"]
    assert recorder.of("received")[0]["desk"] is ck_desk


def test_hook_complaint_classified(recorder: Recorder, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("H-1", text="The price doubled without notice"))
    first = {c["label"].scheme: c for c in recorder.of("classified")}
    assert first["cause"]["label"].label == "price"
    assert first["cause"]["previous"] is None
    recorder.calls.clear()
    ck_desk.label("H-1", "cause", "integrity", reason="the advert promised a fixed price")
    (changed,) = recorder.of("classified")
    assert changed["label"].label == "integrity"
    assert changed["previous"].label == "price"


def test_hook_complaint_transitioned(recorder: Recorder, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("H-1"))
    ck_desk.transition("H-1", "acknowledge")
    (call,) = recorder.of("transitioned")
    assert call["event"].action == "acknowledge"
    assert call["event"].data == {"from": "received", "to": "acknowledged"}


def test_hook_complaint_escalated(recorder: Recorder, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("H-1"))
    ck_desk.escalate("H-1", reason="no answer for two days")
    ck_desk.escalate("H-1", to=EscalationLevel.LEADERSHIP, reason="media involved")
    assert [c["event"].data["to"] for c in recorder.of("escalated")] == [
        "department",
        "leadership",
    ]


def test_hook_complaint_closed(recorder: Recorder, ck_desk: Desk) -> None:
    ck_desk.intake(make_complaint("H-1"))
    _walk_to_resolved(ck_desk, "H-1")
    assert recorder.of("closed") == []
    ck_desk.transition("H-1", "close", satisfaction=4)
    assert recorder.of("closed") == [{"ref": "H-1", "sat": 4}]


def test_failing_observer_does_not_block_others(
    recorder: Recorder, ck_host: PluginHost, ck_desk: Desk
) -> None:
    class Broken:
        @hookimpl
        def complaint_received(self, complaint: Any) -> None:
            raise RuntimeError("mail server down")

    ck_host.register(Broken(), "broken")
    stored = ck_desk.intake(make_complaint("H-1"), classify=False)
    assert stored.version == 1
    assert [c["ref"] for c in recorder.of("received")] == ["H-1"]
    assert [(f.plugin, f.stage) for f in ck_host.hook_errors] == [("broken", "complaint_received")]
    assert "mail server down" in ck_host.hook_errors[0].error


def test_duplicate_scheme_names_both_plugins(
    ck_host: PluginHost, local_plugins: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "vip_again.py").write_text(
        (local_plugins / "vip.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    ck_host.load_plugins_dir(local_plugins)
    ck_host.load_plugins_dir(other)
    with pytest.raises(DuplicateNameError) as info:
        ck_host.schemes()
    assert info.value.plugins == ("vip", "vip_again")
    assert "'vip' is registered twice" in str(info.value)


def test_local_plugin_observes_lifecycle_through_the_cli(
    ck_store_url: str, local_plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "hooks.jsonl"
    monkeypatch.setenv("VIP_PLUGIN_LOG", str(log))
    runner = CliRunner()
    base = ["--store", ck_store_url, "--plugins-dir", str(local_plugins)]

    def run(*args: str) -> None:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 0, result.output

    run("add", "--reference", "L-1", "--text", "Platinum member: the courier was rude")
    run("transition", "L-1", "acknowledge")
    run("escalate", "L-1", "--reason", "VIP")
    import json

    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    hooks = [c["hook"] for c in calls]
    assert hooks[0] == "complaint_received"
    assert {"scheme": "vip", "to": "vip"}.items() <= next(
        c for c in calls if c["hook"] == "complaint_classified" and c["scheme"] == "vip"
    ).items()
    assert hooks[-2:] == ["complaint_transitioned", "complaint_escalated"]
    assert calls[-1]["to"] == "department"
