"""The plugin host: loading entry points one by one, allow/deny lists, broken plugins."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaintkit import Config, PluginLoadError, hookimpl, make_host
from complaintkit_cli.main import cli

FIRST_PARTY = {"tinydb", "schemes", "reports", "notify", "calendars", "sql"}


@pytest.fixture
def fake_dist(tmp_path: Path) -> Iterator[Path]:
    """A site folder with an installed distribution whose plugin is broken or fine on demand."""
    site = tmp_path / "site"
    site.mkdir()
    info = site / "ck_extra-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ck-extra\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(
        "[complaintkit]\nextra_broken = ck_extra_broken\nextra_typo = ck_extra_typo\n"
    )
    (site / "ck_extra_broken.py").write_text("raise ImportError('needs libfoo 2.0')\n")
    (site / "ck_extra_typo.py").write_text(
        "from complaintkit import hookimpl\n\n"
        "@hookimpl\ndef register_classification_scheme(register):\n    pass\n"
    )
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    for name in ("ck_extra_broken", "ck_extra_typo"):
        sys.modules.pop(name, None)


def test_first_party_plugins_come_from_entry_points() -> None:
    host = make_host(env={})
    names = {p["name"] for p in host.plugin_info()}
    assert names >= FIRST_PARTY
    assert host.failures == []


def test_broken_plugin_is_reported_by_name_and_others_load(fake_dist: Path) -> None:
    host = make_host(env={})
    failures = {f.plugin: f.error for f in host.failures}
    assert "needs libfoo 2.0" in failures["extra_broken"]
    assert "register_classification_scheme" in failures["extra_typo"]
    assert "did you mean 'register_classification_schemes'" in failures["extra_typo"]
    assert {p["name"] for p in host.plugin_info()} >= FIRST_PARTY


def test_allow_list_and_block_list() -> None:
    only = make_host(env={"COMPLAINTKIT_LOAD_PLUGINS": "tinydb"})
    assert {p["name"] for p in only.plugin_info()} == {"tinydb"}
    none = make_host(env={"COMPLAINTKIT_LOAD_PLUGINS": ""})
    assert none.plugin_info() == []
    blocked = make_host(
        env={"COMPLAINTKIT_DISABLE_PLUGINS": "schemes, reports, notify, calendars, ml"}
    )
    assert {p["name"] for p in blocked.plugin_info()} == {"tinydb", "sql"}


def test_misspelt_hook_in_local_plugin_is_caught(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        "from complaintkit import hookimpl\n\n"
        "@hookimpl\ndef complaint_recieved(complaint):\n    pass\n"
    )
    host = make_host(plugins_dirs=[tmp_path], env={})
    (failure,) = host.failures
    assert failure.plugin == "typo"
    assert "did you mean 'complaint_received'" in failure.error


def test_wrong_hook_arguments_are_refused() -> None:
    class Bad:
        @hookimpl
        def complaint_received(self, complaint: object, mood: str) -> None:
            pass

    host = make_host(load_entrypoints=False)
    with pytest.raises(PluginLoadError, match="mood"):
        host.register(Bad(), "bad")


def test_hosts_are_independent() -> None:
    class Extra:
        @hookimpl
        def register_reporters(self, register: object) -> None:
            pass

    first = make_host(env={})
    second = make_host(env={})
    first.register(Extra(), "extra")
    assert "extra" in {p["name"] for p in first.plugin_info()}
    assert "extra" not in {p["name"] for p in second.plugin_info()}


def test_plugins_command_prints_json(fake_dist: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", f"tinydb://{tmp_path}/s.json"]
    table = runner.invoke(cli, [*store, "plugins"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["plugin", "version", "hooks", "error"]
    tinydb = next(line for line in lines if line.startswith("tinydb "))
    assert "0.1.0" in tinydb and "register_storage_backends" in tinydb
    assert any(line.startswith("extra_broken ") and "needs libfoo" in line for line in lines)
    result = runner.invoke(cli, [*store, "plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_name = {p["name"]: p for p in data}
    assert by_name["tinydb"]["hooks"] == ["register_storage_backends"]
    assert by_name["tinydb"]["version"] == "0.1.0"
    assert "register_classification_schemes" in by_name["schemes"]["hooks"]
    assert "needs libfoo" in by_name["extra_broken"]["error"]
    assert "warning: plugin 'extra_broken' failed" in result.stderr


def test_broken_plugin_does_not_break_commands(fake_dist: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", f"tinydb://{tmp_path}/s.json"]
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    assert runner.invoke(cli, [*store, "init"]).exit_code == 0
    added = runner.invoke(cli, [*store, "add", "--text", "快递三天没到，客服不回复"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, [*store, "list"])
    assert listed.exit_code == 0
    assert "1 of 1" in listed.stdout


def test_unknown_store_scheme_names_what_is_installed() -> None:
    # Without the SQL plugin, a SQL URL says what serves URLs and which plugins were left out.
    env = {"COMPLAINTKIT_DISABLE_PLUGINS": "sql"}
    host = make_host(Config(store="postgresql://localhost/test"), env=env)
    with pytest.raises(Exception, match=r"installed: tinydb://\).*not loaded .*: sql$"):
        host.open_store()
    everything = make_host(Config(store="redis://localhost/0"), env={})
    with pytest.raises(Exception, match=r"serves redis:// installed\?$"):
        everything.open_store()


def test_without_a_calendar_plugin_the_host_counts_on_the_cores_24x7() -> None:
    from datetime import UTC, date, datetime, timedelta

    from complaintkit.calendars import AlwaysOpen, BusinessCalendar

    host = make_host(Config(timezone="Asia/Shanghai"), env={"COMPLAINTKIT_LOAD_PLUGINS": ""})
    calendar = host.default_calendar()
    assert isinstance(calendar, AlwaysOpen) and isinstance(calendar, BusinessCalendar)
    start = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    three_days = calendar.add(start, timedelta(days=3), unit="days")
    assert three_days == start + timedelta(days=3) and str(three_days.tzinfo) == "Asia/Shanghai"
    assert calendar.between(start, three_days) == timedelta(days=3)
    assert calendar.between(three_days, start) == timedelta(0)
    assert calendar.is_working_day(date(2027, 2, 6))  # a Saturday in the Spring Festival
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add(datetime(2026, 1, 1), timedelta(hours=1))
    with pytest.raises(ValueError, match="whole days"):
        calendar.add(start, timedelta(hours=30), unit="days")
