"""One test per hook, named ``test_hook_<name>``; test_docs.py checks every hook has one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest
from click.testing import CliRunner

from complaintkit import (
    ComplaintFilter,
    DeliveryResult,
    Desk,
    DuplicateNameError,
    EscalationLevel,
    InputFormat,
    Names,
    NotificationChannel,
    PluginHost,
    Report,
    ReportContext,
    StorageBackend,
    Store,
    UnknownSchemeError,
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


def test_hook_replace_classification_schemes(ck_host: PluginHost) -> None:
    from complaintkit import Classification, ClassificationScheme

    class Override:
        """Stands in for the cause rules: answers "price" for anything about a bill."""

        def __init__(self, base: ClassificationScheme) -> None:
            self.base = base
            self.name, self.names, self.labels = base.name, base.names, base.labels

        def classify(self, text: str) -> Classification | None:
            if "bill" in text:
                return Classification("price", 0.9, ("bill",))
            return self.base.classify(text)

    seen: list[str] = []

    class Plugin:
        @hookimpl
        def replace_classification_schemes(
            self, schemes: Any, register: Callable[[ClassificationScheme], None]
        ) -> None:
            seen.extend(schemes)
            register(Override(schemes["cause"]))

    ck_host.register(Plugin(), "override")
    cause = ck_host.scheme("cause")
    assert isinstance(cause, Override) and "severity" in seen
    assert cause.classify("the bill is wrong") == Classification("price", 0.9, ("bill",))
    # everything else still goes to the rules it wraps
    assert cause.classify("客服态度很差") == cause.base.classify("客服态度很差")
    assert ck_host.owner("register_classification_schemes", "cause") == "override"


def test_replacement_with_other_labels_is_refused(ck_host: PluginHost) -> None:
    from complaintkit import ClassificationScheme, LabelDef

    class Narrower:
        name, names = "cause", Names("Cause", "投诉原因")
        labels = (LabelDef("price", Names("Price", "价格")),)

        def classify(self, text: str) -> None:
            return None

    class Plugin:
        @hookimpl
        def replace_classification_schemes(
            self, register: Callable[[ClassificationScheme], None]
        ) -> None:
            register(Narrower())

    ck_host.register(Plugin(), "narrower")
    assert not isinstance(ck_host.scheme("cause"), Narrower)
    assert any(f.plugin == "narrower" and "different labels" in f.error for f in ck_host.failures)


def test_hook_register_labelled_datasets(ck_host: PluginHost, tmp_path: Path) -> None:
    class Pairs:
        name, scheme, description = "pairs", "cause", "text<TAB>label lines"

        def read(self, path: str) -> list[tuple[str, str]]:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
            return [(text, label) for text, label in (line.split("\t") for line in lines)]

    class Plugin:
        @hookimpl
        def register_labelled_datasets(self, register: Callable[[Any], None]) -> None:
            register(Pairs())

    ck_host.register(Plugin(), "pairs")
    datasets = ck_host.labelled_datasets()
    assert "airline" in datasets  # the schemes plugin's presets
    file = tmp_path / "pairs.tsv"
    file.write_text("bill too high\tprice\n", encoding="utf-8")
    assert list(datasets["pairs"].read(str(file))) == [("bill too high", "price")]
    assert ck_host.owner("register_labelled_datasets", "pairs") == "pairs"


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
    from complaintkit.outbox import OutboxMessage
    from complaintkit.testing import FIXED_TIME

    sent: list[OutboxMessage] = []

    class Memory:
        name = "memory"
        description = "keeps messages in a list"
        address_kind = "email"

        def send(self, message: OutboxMessage) -> DeliveryResult:
            sent.append(message)
            return DeliveryResult("kept")

    class Plugin:
        @hookimpl
        def register_notification_channels(self, register: Any, config: Any) -> None:
            assert config is ck_host.config
            register(Memory())

    ck_host.register(Plugin(), "outbox")
    channel = ck_host.channels()["memory"]
    assert isinstance(channel, NotificationChannel)
    message = OutboxMessage(
        key="CK-1:received:ack:memory:a@example.com",
        channel="memory",
        recipient="a@example.com",
        body="We got it",
        created_at=FIXED_TIME,
        reference="CK-1",
    )
    assert channel.send(message) == DeliveryResult("kept")
    assert [m.reference for m in sent] == ["CK-1"]


def test_hook_register_business_calendars(ck_host: PluginHost) -> None:
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from complaintkit_calendars.working import WorkingCalendar, parse_hours

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
            return Report(self.name, self.names, ((Names("n", "数"), store.count(flt), "count"),))

    class Plugin:
        @hookimpl
        def register_reporters(self, register: Any) -> None:
            register(Count())

    ck_host.register(Plugin(), "count-plugin")
    ck_desk.intake(make_complaint("R-1"), classify=False)
    report = ck_desk.report("count")
    assert report.figures[0][1] == 1
    assert "summary" in ck_host.reporters()


def test_hook_register_report_formats(ck_host: PluginHost, ck_desk: Desk) -> None:
    class Tsv:
        name = "tsv"
        names = Names("Tab-separated", "制表符分隔")
        extensions = (".tsv",)
        binary = False
        description = "figures as name<TAB>value"

        def render(self, report: Report, lang: str) -> str:
            return "\n".join(f"{n.get(lang)}\t{v}" for n, v, _ in report.figures)

    class Plugin:
        @hookimpl
        def register_report_formats(self, register: Any) -> None:
            register(Tsv())

    ck_host.register(Plugin(), "tsv-plugin")
    formats = ck_host.report_formats()
    assert list(formats)[:7] == ["table", "csv", "csv-raw", "json", "markdown", "xlsx", "html"]
    assert ck_host.report_format_for_path("out/figures.TSV").name == "tsv"
    assert ck_host.owner("register_report_formats", "tsv") == "tsv-plugin"
    ck_desk.intake(make_complaint("F-1"), classify=False)
    rendered = formats["tsv"].render(ck_desk.report("summary"), "zh")
    assert rendered.splitlines()[0] == "投诉总数\t1"

    class Clash:
        @hookimpl
        def register_report_formats(self, register: Any) -> None:
            register(Tsv())

    other = PluginHost()
    other.register(Plugin(), "first")
    other.register(Clash(), "second")
    with pytest.raises(DuplicateNameError, match=r"report format 'tsv'.*'first'.*'second'"):
        other.report_formats()


class PipeFormat:
    """Records as ``column=value|column=value`` lines: another CRM's export, say."""

    name = "pipes"
    names = Names("Pipe-separated pairs", "竖线分隔的键值对")
    suffixes = (".pipes",)
    unit = "line"

    def read(self, path: Path, encoding: str, reject: Any) -> Iterator[tuple[int, dict[str, str]]]:
        for number, line in enumerate(path.read_text(encoding=encoding).splitlines(), 1):
            pairs = [part.partition("=") for part in line.split("|") if part]
            if any(not sep for _, sep, _ in pairs):
                reject(number, "every part must be column=value", {"_line": line})
                continue
            yield number, {key: value for key, _, value in pairs}


def test_hook_register_personal_fields(ck_host: PluginHost) -> None:
    from complaintkit import CORE_FIELDS, PersonalField

    class Plugin:
        @hookimpl
        def register_personal_fields(self, register: Any) -> None:
            register(PersonalField("custom.address", "text", "delivery address"))
            register(PersonalField("text", "text"))  # the core's own: listed once

    ck_host.register(Plugin(), "address-plugin")
    fields = ck_host.personal_fields()
    assert fields[: len(CORE_FIELDS)] == list(CORE_FIELDS)
    assert [f.path for f in fields].count("text") == 1
    assert PersonalField("custom.address", "text", "delivery address") in fields
    assert ck_host.owner("register_personal_fields", "custom.address") == "address-plugin"
    with pytest.raises(ValueError, match="unknown kind of personal data 'shoe_size'"):
        PersonalField("custom.shoes", "shoe_size")


def test_hook_mask_complaint(ck_host: PluginHost) -> None:
    seen: list[list[str]] = []

    class Redactor:
        @hookimpl(tryfirst=True)
        def mask_complaint(self, complaint: Any, fields: list[Any]) -> Any:
            seen.append([f.path for f in fields])
            return attrs.evolve(complaint, text="[redacted]")

    stored = make_complaint("M-1", text="Call me on 13812345678")
    assert "138****5678" in ck_host.mask(stored).text  # the privacy plugin's answer
    ck_host.register(Redactor(), "redactor")
    assert ck_host.mask(stored).text == "[redacted]"  # the first answer wins
    assert "complainant.phone" in seen[0]
    assert stored.text == "Call me on 13812345678"  # the stored complaint is never changed


def test_hook_register_input_formats(ck_host: PluginHost, tmp_path: Path) -> None:
    from complaintkit_importing import read_complaints

    class Plugin:
        @hookimpl
        def register_input_formats(self, register: Any) -> None:
            register(PipeFormat())

    ck_host.register(Plugin(), "pipes-plugin")
    formats = ck_host.input_formats()
    assert list(formats) == ["csv", "tsv", "json", "jsonl", "xlsx", "pipes"]
    assert isinstance(formats["pipes"], InputFormat)
    assert ck_host.input_format_for_path("export/today.PIPES") is formats["pipes"]
    assert ck_host.input_format_for_path("export/today.csv") is formats["csv"]
    assert ck_host.input_format_for_path("export/today.dat") is None
    assert ck_host.owner("register_input_formats", "pipes") == "pipes-plugin"
    assert ck_host.owner("register_input_formats", "csv") == "importing"
    with pytest.raises(UnknownSchemeError, match=r"unknown input format 'xml'.*pipes"):
        ck_host.input_format("xml")

    path = tmp_path / "today.pipes"
    path.write_text(
        "received_at=2026-11-23 10:00|text=送货太慢|channel=电话\nbroken line\n", encoding="utf-8"
    )
    rejects: list[Any] = []
    with read_complaints(path, fmt=formats["pipes"], tz=UTC, on_reject=rejects.append) as read:
        complaints = list(read)
    assert [(c.text, c.channel.value) for c in complaints] == [("送货太慢", "phone")]
    assert [(r.line, r.unit, r.reason) for r in rejects] == [
        (2, "line", "every part must be column=value")
    ]

    class Clash:
        @hookimpl
        def register_input_formats(self, register: Any) -> None:
            register(PipeFormat())

    other = PluginHost()
    other.register(Plugin(), "first")
    other.register(Clash(), "second")
    with pytest.raises(DuplicateNameError, match=r"input format 'pipes'.*'first'.*'second'"):
        other.input_formats()


def test_hook_register_commands(ck_store_url: str, local_plugins: Path) -> None:
    runner = CliRunner()
    base = ["--store", ck_store_url, "--plugins-dir", str(local_plugins)]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
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
    CliRunner().invoke(cli, [*base, "init"])
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

    run("init")
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


# --- process engine: policy and SLA hooks -----------------------------------------------


def test_hook_choose_sla_policy(tmp_path: Path) -> None:
    from complaintkit import Channel
    from process_support import make_desk

    asked: list[list[str]] = []

    class Policy:
        @hookimpl
        def choose_sla_policy(self, complaint: Any, policies: list[str]) -> str | None:
            asked.append(policies)
            return "urgent" if complaint.channel == "phone" else None

    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=(Policy(),))
    with store:
        phoned = desk.intake(make_complaint("P-1", text="发票开错了", channel=Channel.PHONE))
        written = desk.intake(make_complaint("P-2", text="发票开错了", channel=Channel.EMAIL))
    assert (phoned.sla_policy, written.sla_policy) == ("urgent", "standard")
    assert asked[0] == ["urgent", "standard"]


def test_hook_route_complaint(tmp_path: Path) -> None:
    from complaintkit import Route
    from process_support import make_desk

    class VipDesk:
        @hookimpl
        def route_complaint(self, complaint: Any) -> Route | None:
            if "vip" in complaint.tags:
                return Route(department="vip_care", assignee="han.meimei", rule="vip")
            return None

    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=(VipDesk(),))
    with store:
        vip = desk.intake(make_complaint("V-1", text="发票开错了", tags=("vip",), order="O-1"))
        other = desk.intake(make_complaint("V-2", text="发票开错了", order="O-2"))
    assert (vip.department, vip.assignee) == ("vip_care", "han.meimei")
    assert other.department == "customer_service"  # the configured rules decide instead


def _review_desk(tmp_path: Path, *plugins: object) -> tuple[Any, Any]:
    from complaintkit import Label
    from process_support import make_desk

    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=plugins)
    for reference, confidence in (("R-1", 0.2), ("R-2", 0.9), ("R-3", 0.4)):
        label = Label("cause", "price", confidence, classifier="rules")
        store.add(make_complaint(reference, labels={"cause": label}))
    return desk, store


def test_hook_review_queue(tmp_path: Path) -> None:
    class Elsewhere:
        @hookimpl(tryfirst=True)
        def review_queue(self, schemes: list[str]) -> list[dict[str, Any]] | None:
            return [{"reference": "kept elsewhere"}] if schemes == ["elsewhere"] else None

    desk, store = _review_desk(tmp_path, Elsewhere())
    with store:
        hook = desk.host.pm.hook.review_queue
        found = hook(desk=desk, schemes=["投诉原因"], below=None, open_only=False, limit=None)
        assert [(r["reference"], r["confidence"]) for r in found] == [("R-1", 0.2), ("R-3", 0.4)]
        assert found[0]["label"] == "price" and found[0]["classifier"] == "rules"
        one = hook(desk=desk, schemes=[], below=0.95, open_only=False, limit=1)
        assert [r["reference"] for r in one] == ["R-1"]
        # The first answer wins: a plugin answering before the review plugin.
        assert hook(desk=desk, schemes=["elsewhere"], below=None, open_only=False, limit=None) == [
            {"reference": "kept elsewhere"}
        ]
        with pytest.raises(UnknownSchemeError, match="nope"):
            hook(desk=desk, schemes=["nope"], below=None, open_only=False, limit=None)


def test_hook_apply_review_decisions(tmp_path: Path) -> None:
    desk, store = _review_desk(tmp_path)
    rows = [
        ("row 1", {"reference": "R-1", "scheme": "cause", "label": "price"}),
        ("row 2", {"reference": "R-3", "scheme": "cause", "label": "integrity", "note": "T-1"}),
        ("row 3", {"reference": "R-9", "scheme": "cause", "label": "price"}),
        ("row 4", {"reference": "R-2", "scheme": "cause"}),
    ]
    with store:
        result = desk.host.pm.hook.apply_review_decisions(desk=desk, rows=rows, note="weekly")
        assert result == {
            "applied": {"accepted": 1, "corrected": 1},
            "problems": [
                "row 3: field reference: no complaint 'R-9'",
                "row 4: field label: missing",
            ],
        }
        accepted, corrected = store.get("R-1"), store.get("R-3")
    assert accepted.labels["cause"].classifier == "manual"
    assert accepted.history[-1].actor == "tester"
    assert accepted.history[-1].reason == "review: accepted (rules, confidence 0.20); weekly"
    assert corrected.labels["cause"].label == "integrity"
    assert corrected.history[-1].reason.endswith("weekly; T-1")


class SlaRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, Any]] = []

    @hookimpl
    def complaint_sla_warning(self, complaint: Any, target: str, deadline: Any) -> None:
        self.calls.append(("warning", complaint.reference, target, deadline))

    @hookimpl
    def complaint_sla_breached(self, complaint: Any, target: str, deadline: Any) -> None:
        last = complaint.history[-1]
        self.calls.append(("breached", complaint.reference, target, (deadline, last.action)))

    @hookimpl
    def complaint_recomplaint(self, complaint: Any, previous: Any) -> None:
        self.calls.append(("recomplaint", complaint.reference, previous.reference, None))


def test_hook_complaint_sla_warning(tmp_path: Path) -> None:
    from process_support import Clock, make_desk, sh

    recorder = SlaRecorder()
    clock = Clock(sh("2025-10-13 10:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=(recorder,), clock=clock)
    with store:
        desk.intake(make_complaint("W-1", received_at=clock.now, text="发票开错了"))
        desk.transition("W-1", "acknowledge")
        for _ in range(3):
            desk.sweep(now=sh("2025-10-14 07:00"))
    assert recorder.calls == [("warning", "W-1", "respond", sh("2025-10-14 10:00"))]


def test_hook_complaint_sla_breached(tmp_path: Path) -> None:
    from process_support import Clock, make_desk, sh

    recorder = SlaRecorder()
    clock = Clock(sh("2025-10-13 10:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=(recorder,), clock=clock)
    with store:
        desk.intake(make_complaint("B-1", received_at=clock.now, text="发票开错了"))
        desk.transition("B-1", "acknowledge")
        for _ in range(3):
            desk.sweep(now=sh("2025-10-14 11:00"))
    # fired once, with the complaint as stored after the breach and its escalation
    assert recorder.calls == [
        ("breached", "B-1", "respond", (sh("2025-10-14 10:00"), "escalate")),
    ]


def test_hook_complaint_recomplaint(tmp_path: Path) -> None:
    from complaintkit import Party
    from process_support import Clock, make_desk, sh

    recorder = SlaRecorder()
    clock = Clock(sh("2025-10-13 10:00"))
    desk, store = make_desk(f"tinydb://{tmp_path / 'c.json'}", plugins=(recorder,), clock=clock)
    who = Party(email="wang@example.cn")
    with store:
        desk.intake(
            make_complaint(
                "R-1", received_at=clock.now, text="冰箱不制冷", complainant=who, order="O-1"
            )
        )
        _walk_to_resolved(desk, "R-1")
        clock.now = sh("2025-10-20 10:00")
        desk.intake(
            make_complaint(
                "R-2", received_at=clock.now, text="冰箱还是不制冷", complainant=who, order="O-1"
            )
        )
        desk.intake(
            make_complaint(
                "R-3", received_at=clock.now, text="别的事情", complainant=Party(email="x@y.z")
            )
        )
    assert recorder.calls == [("recomplaint", "R-2", "R-1", None)]


def test_hook_spike_detected(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from complaintkit import Config, make_host

    class SpikeRecorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, int]] = []

        @hookimpl
        def spike_detected(self, warning: Any, complaint: Any) -> None:
            self.calls.append((warning.id, complaint.reference, warning.observed))

    recorder = SpikeRecorder()
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    config = Config(
        store=f"tinydb://{tmp_path / 'c.json'}",
        data={"early_warning": {"dimensions": ["product"], "window": 28}},
    )
    host = make_host(config, env={}, plugins=(recorder,))
    desk = Desk(host, host.open_store(), clock=lambda: now)
    first = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    complaints = [
        make_complaint(
            f"K-{day:02d}-{i}",
            received_at=first + timedelta(days=day, minutes=i),
            product="kettle" if i % 2 else "toaster",
        )
        for day in range(28)
        for i in range(8 + day % 3)
    ]
    spike = [
        make_complaint(f"S-{i}", received_at=now - timedelta(hours=2, minutes=i), product="kettle")
        for i in range(40)
    ]
    desk.intake_many(complaints + spike, classify=False)
    looked = desk.sweep(now=now, dry_run=True)  # the reports plugin's early warning, at sweep
    assert [n.en for n in looked.notes] == [
        "early warning: 1 spikes in the window (dry run, none announced)"
    ]
    assert recorder.calls == []
    swept = desk.sweep(now=now)
    assert swept.notes[0] == Names(
        "early warning: 1 new spike warnings", "突增预警：新发现 1 个投诉突增"
    )
    assert "product=kettle: 44 (expected" in swept.notes[1].en
    oldest_that_day = "K-27-1"
    assert recorder.calls == [("ewma:day:2026-03-28:product=kettle", oldest_that_day, 4 + 40)]
    assert desk.get(oldest_that_day).history[-1].action == "spike_detected"
    again = desk.sweep(now=now)
    assert again.notes[0].en == "early warning: 0 new spike warnings" and len(recorder.calls) == 1


# --- task hooks -------------------------------------------------------------------------


def test_hook_desk_opened(tmp_path: Path) -> None:
    from complaintkit import Config, ConfigError, make_host

    class Watcher:
        def __init__(self) -> None:
            self.desks: list[Desk] = []

        @hookimpl
        def desk_opened(self, desk: Desk) -> None:
            self.desks.append(desk)

    class Refusing:
        @hookimpl
        def desk_opened(self, desk: Desk) -> None:
            raise ConfigError("[vip] names a channel no plugin registers")

    watcher = Watcher()
    config = Config(store=f"tinydb://{tmp_path / 'c.json'}")
    host = make_host(config, env={}, plugins=(watcher,))
    desk = Desk(host, host.open_store())
    assert watcher.desks == [desk]
    refusing = make_host(config, env={}, plugins=(Refusing(),))
    store = refusing.open_store()
    with pytest.raises(ConfigError, match="no plugin registers"):
        Desk(refusing, store)
    assert refusing.hook_errors == []  # not isolated: the error reached the caller


def test_hook_sweep_finished(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from complaintkit import Config, make_host

    class Nightly:
        def __init__(self) -> None:
            self.calls: list[tuple[datetime, bool]] = []

        @hookimpl
        def sweep_finished(self, desk: Desk, now: datetime, dry_run: bool) -> list[Names]:
            self.calls.append((now, dry_run))
            return [Names(f"archived {desk.store.count()} complaints", "已归档")]

    class Failing:
        @hookimpl
        def sweep_finished(self) -> None:
            raise RuntimeError("archive disk full")

    nightly = Nightly()
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    host = make_host(
        Config(store=f"tinydb://{tmp_path / 'c.json'}"), env={}, plugins=(nightly, Failing())
    )
    desk = Desk(host, host.open_store(), clock=lambda: now)
    desk.intake(make_complaint("T-1"), classify=False)
    result = desk.sweep(dry_run=True)
    assert nightly.calls == [(now, True)]
    assert result.notes == (Names("archived 1 complaints", "已归档"),)
    assert [(f.plugin, f.stage) for f in host.hook_errors][-1][1] == "sweep_finished"
    assert "archive disk full" in host.hook_errors[-1].error


def test_hook_erase_personal_data(tmp_path: Path) -> None:
    import json

    from complaintkit import ERASED, Config, Party, Person, make_host
    from complaintkit_privacy.person import erase_person

    class CallLog:
        """A plugin keeping its own file of call notes, honouring erasure."""

        def __init__(self, path: Path) -> None:
            self.path = path
            path.write_text(
                json.dumps(["called 138 1234 5678 about P-1", "called 139 0000 1111"]), "utf-8"
            )

        @hookimpl
        def erase_personal_data(self, store: Store, person: Person, dry_run: bool) -> Any:
            notes = json.loads(self.path.read_text("utf-8"))
            erased = [person.replace(note)[0] for note in notes]
            changed = sum(a != b for a, b in zip(notes, erased, strict=True))
            if not dry_run:
                self.path.write_text(json.dumps(erased), "utf-8")
            return {"call notes": changed}

    calls = CallLog(tmp_path / "calls.json")
    host = make_host(Config(store=f"tinydb://{tmp_path / 'c.json'}"), env={}, plugins=(calls,))
    desk = Desk(host, host.open_store())
    desk.intake(make_complaint("P-1", complainant=Party(phone="13812345678")), classify=False)
    looked = erase_person(
        desk, phone="+8613812345678", email=None, customer_id=None, reason="r", dry_run=True
    )
    assert looked.plugins == {"call notes": 1, "notifications": 0}
    assert "138 1234 5678" in calls.path.read_text("utf-8")
    erase_person(desk, phone="13812345678", email=None, customer_id=None, reason="r", dry_run=False)
    assert json.loads(calls.path.read_text("utf-8")) == [
        f"called {ERASED} about P-1",
        "called 139 0000 1111",
    ]
    person = Person.of(phones=["13812345678"], references=["P-1"])
    counts, failures = host.erase_personal_data(desk.store, person, dry_run=False)
    assert counts == {"call notes": 0, "notifications": 0} and failures == []  # idempotent
