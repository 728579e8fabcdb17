"""The command list that ``complaintkit --help`` prints, remembered between runs.

Listing the commands means importing every built-in command module and loading every plugin
(their ``register_commands``), which costs several times what Python and click cost to start.
The list changes only when something installed changes, so it is kept in a small JSON file in
the user's cache folder and used while nothing it was made from has changed:

* the key (the file's name) covers the Python and its ``sys.path``, the folders on it (an
  install or uninstall changes a ``site-packages`` folder), the ``.py`` files of
  ``--plugins-dir`` folders, the configuration file, and ``COMPLAINTKIT_DISABLE_PLUGINS``;
* the file lists the source files the commands and plugins came from, with their sizes and
  times, and is ignored when any of them changed (an edited plugin, an editable install).

A list made while a plugin failed to load is never kept, so the warning is printed every
time until the plugin is fixed. ``COMPLAINTKIT_TRACE_PLUGINS`` (which shows every hook call)
and ``COMPLAINTKIT_NO_CACHE=1`` bypass the file; ``COMPLAINTKIT_CACHE_DIR`` moves it.
A file that cannot be read or written is ignored: the list is then made afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["CommandListing", "cache_dir"]

_FORMAT = 1
_KEPT = 20  # listings kept in the folder (several virtual environments, test runs)


def cache_dir() -> Path:
    """Where complaintkit keeps what it may recompute (``COMPLAINTKIT_CACHE_DIR`` moves it)."""
    chosen = os.environ.get("COMPLAINTKIT_CACHE_DIR")
    if chosen:
        return Path(chosen)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "complaintkit" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "complaintkit"


def _stamp(path: str | os.PathLike[str]) -> list[Any]:
    """What changes when a file or folder changes: its path, size and modification time."""
    try:
        found = os.stat(path)
    except OSError:
        return [os.fspath(path), None, None]
    return [os.fspath(path), found.st_size, found.st_mtime_ns]


class CommandListing:
    """The remembered ``(name, short help)`` list for one set of inputs."""

    def __init__(self, key: list[Any], folder: Path | None = None) -> None:
        self.key = key
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
        self.path = (folder or cache_dir()) / f"commands-{digest}.json"

    @classmethod
    def for_invocation(
        cls, *, config_path: str | None, plugins_dirs: Sequence[str]
    ) -> CommandListing | None:
        """The listing for this process and these options; None when it must not be cached."""
        environ = os.environ
        if environ.get("COMPLAINTKIT_NO_CACHE", "") not in ("", "0"):
            return None
        if environ.get("COMPLAINTKIT_TRACE_PLUGINS", "") not in ("", "0"):
            return None
        config = config_path or ("complaintkit.toml" if os.path.exists("complaintkit.toml") else "")
        folders = []
        for folder in plugins_dirs:
            absolute = os.path.abspath(folder)
            try:
                names = sorted(n for n in os.listdir(absolute) if n.endswith(".py"))
            except OSError:
                names = []
            # The .py files, not the folder: importing them writes __pycache__ into it.
            folders.append([absolute, [_stamp(os.path.join(absolute, n)) for n in names]])
        key = [
            _FORMAT,
            sys.executable,
            # sys.path[0] is the script's folder or the working directory, which changes
            # with whatever is written there; installs change the folders after it.
            [_stamp(entry) for entry in sys.path[1:] if entry],
            folders,
            _stamp(os.path.abspath(config)) if config else None,
            environ.get("COMPLAINTKIT_DISABLE_PLUGINS", ""),
            _stamp(__file__),
        ]
        return cls(key)

    def load(self) -> list[tuple[str, click.Command]] | None:
        """The remembered commands (stand-ins carrying their help), or None."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data["key"] != self.key:
                return None
            for stamp in data["files"]:
                if _stamp(stamp[0]) != stamp:
                    return None
            return [
                (
                    row["name"],
                    click.Command(
                        row["name"],
                        help=row["help"],
                        short_help=row["short_help"],
                        deprecated=row["deprecated"],
                    ),
                )
                for row in data["commands"]
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, commands: Iterable[tuple[str, click.Command]], sources: Iterable[str]) -> None:
        """Remember ``commands``, valid while the files in ``sources`` stay as they are."""
        rows = [
            {
                "name": name,
                "help": command.help,
                "short_help": command.short_help,
                "deprecated": command.deprecated,
            }
            for name, command in commands
        ]
        data = {
            "key": self.key,
            "files": [_stamp(path) for path in sorted(set(sources))],
            "commands": rows,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self.path)
            self._prune()
        except OSError:
            pass  # a read-only home: the list is simply made afresh next time

    def _prune(self) -> None:
        listings = sorted(
            self.path.parent.glob("commands-*.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for old in listings[_KEPT:]:
            old.unlink(missing_ok=True)


def source_files(commands: Iterable[click.Command], plugins: Iterable[object]) -> list[str]:
    """The source files the commands and the plugin objects were defined in."""
    modules = set()
    for command in commands:
        callback = command.callback
        if callback is not None:
            modules.add(getattr(callback, "__module__", None))
        modules.add(type(command).__module__)
    for plugin in plugins:
        modules.add(getattr(plugin, "__name__", None) or type(plugin).__module__)
    files = []
    for name in modules:
        module = sys.modules.get(name or "")
        path = getattr(module, "__file__", None)
        if path:
            files.append(os.path.abspath(path))
    return files
