"""An import stopped half-way (Ctrl-C, a full disk) says how many complaints it stored and
that running the same command again continues; a file that repeats rows is not in error.

Ctrl-C is a real SIGINT, sent by a classification plugin to its own process at a chosen
record, so the moment is exact. The full disk is a real 1 MB tmpfs (mounting needs root,
as in CI; elsewhere those tests skip).
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit_cli.main import cli
from conftest import skip_if_quick

COMPLAINTKIT = str(Path(sys.executable).parent / "complaintkit")

# A scheme that stops its own process with SIGINT when it classifies the text "TRIPWIRE"
# and CK_TRIPWIRE is set: Ctrl-C at an exact record, without timing.
TRIPWIRE = """
import os
import signal

from complaintkit import LabelDef, Names, hookimpl


class Tripwire:
    name = "tripwire"
    names = Names("Tripwire", "绊线")
    labels = (LabelDef("seen", Names("Seen", "已见")),)

    def classify(self, text):
        if "TRIPWIRE" in text and os.environ.get("CK_TRIPWIRE"):
            os.kill(os.getpid(), signal.SIGINT)
        return None


@hookimpl
def register_classification_schemes(register):
    register(Tripwire())
"""


def write_rows(path: Path, count: int, *, trip_at: int | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "received_at", "text", "channel"])
        for i in range(count):
            text = f"Parcel {i} arrived broken and nobody answers the phone at the depot"
            writer.writerow([f"D-{i:05d}", "2025-10-01 09:00", text, "phone"])
            if i + 1 == trip_at:
                writer.writerow(["D-TRIP", "2025-10-01 09:00", "TRIPWIRE", "phone"])
    return path


def complaintkit(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMPLAINTKIT, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def stored(store: str, cwd: Path) -> int:
    listed = complaintkit(cwd, "--store", store, "list", "--limit", "1")
    found = re.search(r"of ([\d,]+) complaints", listed.stdout)
    assert found, listed.stdout + listed.stderr
    return int(found.group(1).replace(",", ""))


# --- repeated rows -----------------------------------------------------------------------


def ck(tmp_path: Path, *args: str) -> Result:
    store = f"tinydb://{tmp_path / 'c.json'}"
    return CliRunner().invoke(cli, ["--store", store, "--create", *args])


def test_a_file_of_repeated_rows_only_imports_once_and_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "twice.csv"
    row = "R-1,2026-10-01 09:00,The parcel is late\n"
    data.write_text("reference,received_at,text\n" + row * 3, encoding="utf-8")
    result = ck(tmp_path, "import", str(data))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "read 3 records from twice.csv, imported 1, skipped 2 repeating an earlier line of "
        "the file\n"
    )
    assert f"skipped: {data}, line 3: the same as line 2" in result.stderr
    assert f"skipped: {data}, line 4: the same as line 2" in result.stderr
    assert not (tmp_path / "twice.csv.rejects.jsonl").exists()


def test_a_reference_repeated_with_other_content_is_still_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "clash.csv"
    data.write_text(
        "reference,received_at,text\n"
        "R-1,2026-10-01 09:00,The parcel is late\n"
        "R-1,2026-10-01 09:00,The parcel is broken\n",
        encoding="utf-8",
    )
    result = ck(tmp_path, "import", str(data))
    assert result.exit_code == 1
    assert "duplicate of line 2 (both have reference R-1; other columns differ)" in result.stderr
    assert "imported 1" in result.stdout and "rejected 1" in result.stdout


# --- Ctrl-C ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "name", "kept"),
    # SQL writes a transaction per 1,000 complaints; TinyDB writes its file once, at the end
    [("sqlite", "c.db", 2000), ("tinydb", "c.json", 0)],
)
@pytest.mark.heavy
def test_ctrl_c_says_what_was_stored_and_the_same_command_continues(
    tmp_path: Path, scheme: str, name: str, kept: int
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tripwire.py").write_text(TRIPWIRE, encoding="utf-8")
    data = write_rows(tmp_path / "big.csv", 3000, trip_at=2500)
    store = f"{scheme}://{tmp_path / name}"
    assert complaintkit(tmp_path, "--store", store, "init").returncode == 0
    command = ["--store", store, "--plugins-dir", str(plugins), "import", data.name]
    command += ["--scheme", "tripwire"]

    stopped = complaintkit(tmp_path, *command, CK_TRIPWIRE="1")
    assert stopped.returncode == 130, stopped.stderr
    assert "Traceback" not in stopped.stderr and "Aborted" not in stopped.stderr
    assert stopped.stderr == (
        f"interrupted. {kept:,} complaints from big.csv were stored by this run (whole "
        "batches only). Run the same command again to continue (complaints already stored "
        f"are skipped):\n  complaintkit {' '.join(command)}\n"
    )
    assert stored(store, tmp_path) == kept

    again = complaintkit(tmp_path, *command)
    assert again.returncode == 0, again.stderr
    skipped = f", skipped {kept} already in the store" if kept else ""
    assert again.stdout.endswith(f"imported {3001 - kept}{skipped}\n"), again.stdout
    assert stored(store, tmp_path) == 3001


# --- a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs); skipped where mounting one is not permitted."""
    skip_if_quick("a full file system mounted for the test")
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
            capture_output=True,
            text=True,
        )
    except OSError as exc:
        pytest.skip(f"cannot mount a small file system here: {exc}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def grow(disk: Path) -> None:
    """Free space: the same file system, 64 MB large."""
    subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)


def test_an_import_that_fills_the_disk_says_what_it_stored_and_continues_when_rerun(
    tmp_path: Path, small_disk: Path
) -> None:
    data = write_rows(tmp_path / "big.csv", 6000)
    store = f"sqlite://{small_disk / 'c.db'}"
    assert complaintkit(tmp_path, "--store", store, "init").returncode == 0
    command = ["--store", store, "import", data.name, "--no-classify"]

    full = complaintkit(tmp_path, *command)
    assert full.returncode == 1
    found = re.fullmatch(
        rf"Error: import stopped: {re.escape(store)}: database or disk is full\. ([\d,]+) "
        r"complaints from big\.csv were stored by this run \(whole batches only\)\. Free some "
        r"space \(or fix the cause\), then run the same command again to continue \(complaints "
        rf"already stored are skipped\):\n  complaintkit {re.escape(' '.join(command))}\n",
        full.stderr,
    )
    assert found, full.stderr
    kept = int(found.group(1).replace(",", ""))
    assert 0 < kept < 6000 and kept % 1000 == 0
    assert stored(store, tmp_path) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "disk"]  # no rejects file

    grow(small_disk)
    again = complaintkit(tmp_path, *command)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"read 6000 records from big.csv, imported {6000 - kept}, skipped {kept} already in "
        "the store\n"
    )
    assert stored(store, tmp_path) == 6000


def test_a_rejects_file_that_cannot_be_written_is_removed_and_named(
    tmp_path: Path, small_disk: Path
) -> None:
    with (small_disk / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(b"x" * 65536)
                filler.flush()
        except OSError:
            pass  # the disk is full now
    data = write_rows(tmp_path / "mixed.csv", 200)
    with data.open("a", encoding="utf-8") as handle:
        handle.writelines(f"B-{i},not a date,late,phone\n" for i in range(300))
    store = f"tinydb://{tmp_path / 'c.json'}"
    rejects = small_disk / "mixed.rejects.jsonl"
    command = ["--store", store, "--create", "import", data.name, "--rejects", str(rejects)]

    full = complaintkit(tmp_path, *command)
    assert full.returncode == 1
    assert full.stderr.startswith(
        "Error: import stopped: cannot write the rejects file: No space left on device "
        f"({rejects}). "
    ), full.stderr
    assert "Traceback" not in full.stderr
    assert "Run the same command again" not in full.stderr
    assert "then run the same command again to continue" in full.stderr
    assert not rejects.exists()  # neither empty nor cut off
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
