"""Shared test helpers: where the real data sets live, and the local plugin folder.

``COMPLAINTKIT_QUICK=1`` (``make check``) is the fast loop: tests that need a database server,
a browser, a real data set or a small file system mounted for them are left out (deselected
where that is known before they run, skipped where they find out), as are those marked
``slow`` (a data set), ``browser`` or ``heavy`` (seconds each: many processes, many generated
examples). ``make test`` runs them all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

# The remembered command list of `complaintkit --help` (complaintkit_cli.listing) is keyed by
# what is installed, which tests change in ways an install never does (monkeypatched entry
# points); tests/test_help_listing.py turns it on where it is the subject.
os.environ["COMPLAINTKIT_NO_CACHE"] = "1"

TESTS = Path(__file__).parent
LOCAL_PLUGINS = TESTS / "local_plugins"
REPO = TESTS.parent


def datasets_dir() -> Path:
    """The shared data sets (``../shared/datasets`` beside the repository, or an env var)."""
    return Path(os.environ.get("COMPLAINTKIT_DATASETS", REPO.parent / "shared" / "datasets"))


def require_dataset(relative: str) -> Path:
    """The path of a data-set file, or skip (fail in CI, where it must be present)."""
    skip_if_quick(f"data set {relative}")
    path = datasets_dir() / relative
    if not path.exists():
        if os.environ.get("COMPLAINTKIT_REQUIRE_DATASETS") == "1":
            pytest.fail(f"data set {path} is missing but COMPLAINTKIT_REQUIRE_DATASETS=1")
        pytest.skip(f"data set {path} not available")
    return path


#: ``make check``: leave out what needs services, browsers, data sets or mounts.
QUICK = os.environ.get("COMPLAINTKIT_QUICK") == "1"
_QUICK_REASON = "left to make test (COMPLAINTKIT_QUICK=1)"


def skip_if_quick(what: str) -> None:
    """Skip the test in the fast loop (``make check``), saying what it needed."""
    if QUICK:
        pytest.skip(f"{what}: {_QUICK_REASON}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the fast loop, deselect what is known to need more than this machine's CPU."""
    if not QUICK:
        return
    kept: list[pytest.Item] = []
    left: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("sql_url") if params is not None else None
        needs = (
            any(item.get_closest_marker(m) is not None for m in ("slow", "browser", "heavy"))
            or (
                params is not None
                and any(p in ("postgresql", "mysql") for p in params.id.split("-"))
            )
            or backend in ("postgresql", "mysql")
        )
        (left if needs else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


_DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "mysql": 3306, "mariadb": 3306}


def require_service(url: str) -> str:
    """``url`` if its database server answers on its host and port, else skip the test.

    Fails instead of skipping when COMPLAINTKIT_REQUIRE_SERVICES=1 (CI, where PostgreSQL and
    MariaDB must be running).
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    skip_if_quick(f"{scheme} server")
    host, port = parts.hostname or "127.0.0.1", parts.port or _DEFAULT_PORTS.get(scheme, 0)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        message = f"{scheme} server at {host}:{port} is not reachable ({exc})"
        if os.environ.get("COMPLAINTKIT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} but COMPLAINTKIT_REQUIRE_SERVICES=1")
        pytest.skip(message)
    return url


@pytest.fixture
def local_plugins() -> Path:
    """The folder of local plugins the suite loads through --plugins-dir."""
    return LOCAL_PLUGINS


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a real, full file system: a small tmpfs mounted for the test and filled up,
    so every write into it fails with ENOSPC. Skipped where mounting is not allowed (not
    root, or a container without the capability); fails instead under
    COMPLAINTKIT_REQUIRE_SERVICES=1, like a missing database server."""
    import shutil
    import subprocess

    skip_if_quick("a full file system mounted for the test")
    folder = tmp_path / "full-disk"
    folder.mkdir()
    mount = shutil.which("mount")
    done = mount is not None and (
        subprocess.run(
            [mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if not done:
        message = "cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN)"
        if os.environ.get("COMPLAINTKIT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} but COMPLAINTKIT_REQUIRE_SERVICES=1")
        pytest.skip(message)
    try:
        with (folder / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError:
                pass  # full
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


#: Folders tools write into the repository on their own (git ignores them).
_TOOL_FOLDERS = {"__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}


def _working_tree_changes() -> set[str] | None:
    """What ``git status`` reports (untracked files one by one) plus the files git ignores,
    as a set of lines; None outside a git checkout."""
    lines: set[str] = set()
    for command in (
        ["git", "status", "--porcelain", "--untracked-files=all"],
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory"],
    ):
        try:
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0:
            return None
        lines.update(done.stdout.splitlines())
    return {line for line in lines if not _TOOL_FOLDERS & set(line.replace("/", " ").split())}


@pytest.fixture(scope="session", autouse=True)
def _tests_leave_the_working_tree_alone() -> Iterator[None]:
    """Fail the run when a test wrote into the repository instead of its ``tmp_path``.

    A test store once landed at the repository root (``complaints.json``, written by a
    command run in the current folder without a store of its own) and was committed. New
    files are caught whether git would track them or ignore them (a ``*.rejects.jsonl``);
    only the caches tools keep (``__pycache__``, ``.pytest_cache``, ``.hypothesis``…) are not.
    """
    before = _working_tree_changes()
    yield
    after = _working_tree_changes()
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        pytest.fail(
            "tests wrote into the working tree (write into tmp_path instead): "
            + ", ".join(line.removeprefix("?? ") for line in new),
            pytrace=False,
        )
