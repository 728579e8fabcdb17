"""``complaintkit --help`` remembers its command list while nothing installed changes
(complaintkit_cli.listing): the second run loads no plugin, and any change shows at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = '''
import click
from pathlib import Path
from complaintkit import hookimpl

with open(Path(__file__).parent.with_name("loads.txt"), "a") as marker:
    marker.write("loaded\\n")


@hookimpl
def register_commands(cli):
    @cli.command("{name}")
    def command():
        """{help}"""
'''


def write_plugin(folder: Path, name: str, help: str, file: str = "extra.py") -> None:
    (folder / file).write_text(PLUGIN.format(name=name, help=help), encoding="utf-8")


def loads(folder: Path) -> int:
    marker = folder.with_name("loads.txt")
    return len(marker.read_text().splitlines()) if marker.exists() else 0


@pytest.fixture
def help_run(tmp_path: Path) -> object:
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "COMPLAINTKIT_NO_CACHE"}
    env["COMPLAINTKIT_CACHE_DIR"] = str(cache)
    env.pop("COMPLAINTKIT_CONFIG", None)

    def run(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "complaintkit_cli.main", *args, "--help"],
            capture_output=True,
            text=True,
            env={**env, **(extra or {})},
            cwd=tmp_path,
            check=False,
        )

    run.cache = cache  # type: ignore[attr-defined]
    return run


def test_the_second_help_loads_no_plugin_and_prints_the_same(
    help_run: object, tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    write_plugin(plugins, "hello", "Say hello from a local plugin.")
    first = help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
    assert first.returncode == 0, first.stderr
    assert "hello" in first.stdout and "Say hello from a local plugin." in first.stdout
    assert loads(plugins) == 1
    assert list(help_run.cache.glob("commands-*.json"))  # type: ignore[attr-defined]
    second = help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
    assert second.stdout == first.stdout
    assert loads(plugins) == 1  # remembered: the plugin was not loaded again


def test_an_edited_or_added_plugin_shows_at_once(help_run: object, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    write_plugin(plugins, "hello", "Say hello.")
    help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
    write_plugin(plugins, "hello", "Say hello, edited and a little longer.")
    edited = help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
    assert "Say hello, edited and a little longer." in edited.stdout
    write_plugin(plugins, "goodbye", "Say goodbye.", file="second.py")
    added = help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
    assert "goodbye" in added.stdout and "hello" in added.stdout


def test_a_broken_plugin_is_never_remembered(help_run: object, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text("raise RuntimeError('this plugin is broken')\n")
    for _ in range(2):
        result = help_run("--plugins-dir", str(plugins))  # type: ignore[operator]
        assert result.returncode == 0
        assert "this plugin is broken" in result.stderr  # warned every time
        assert "report" in result.stdout
    assert not list(help_run.cache.glob("commands-*.json"))  # type: ignore[attr-defined]


def test_disabling_a_plugin_changes_the_list(help_run: object) -> None:
    full = help_run()  # type: ignore[operator]
    assert "\n  outbox " in full.stdout
    without = help_run(extra={"COMPLAINTKIT_DISABLE_PLUGINS": "notify"})  # type: ignore[operator]
    assert "\n  outbox " not in without.stdout and "\n  report " in without.stdout
    again = help_run()  # type: ignore[operator]
    assert again.stdout == full.stdout


def test_tracing_and_an_unwritable_cache_bypass_it(help_run: object, tmp_path: Path) -> None:
    traced = help_run(extra={"COMPLAINTKIT_TRACE_PLUGINS": "1"})  # type: ignore[operator]
    assert traced.returncode == 0 and "register_commands" in traced.stderr
    assert not list(help_run.cache.glob("commands-*.json"))  # type: ignore[attr-defined]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    result = help_run(extra={"COMPLAINTKIT_CACHE_DIR": str(blocked)})  # type: ignore[operator]
    assert result.returncode == 0 and "\n  report " in result.stdout
