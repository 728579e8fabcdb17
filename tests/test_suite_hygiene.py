"""The suite's own guard: a test that writes into the repository fails the run (a test store
once landed at the repository root and was committed)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import REPO, TESTS


def run_suite(folder: Path, body: str) -> subprocess.CompletedProcess[str]:
    """pytest on one test module with this suite's conftest (and so its guard) loaded."""
    module = folder / "test_inner.py"
    module.write_text("from pathlib import Path\n\n\n" + body, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "conftest",
            module.name,
        ],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(TESTS)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.heavy
def test_a_test_writing_into_the_repository_fails_the_run_naming_the_file(
    tmp_path: Path,
) -> None:
    leak = REPO / f"leak-{uuid.uuid4().hex}.rejects.jsonl"  # ignored by git, caught anyway
    try:
        done = run_suite(tmp_path, f"def test_leaks():\n    Path({str(leak)!r}).write_text('x')\n")
    finally:
        leak.unlink(missing_ok=True)
    assert done.returncode == 1, done.stdout
    assert (
        f"tests wrote into the working tree (write into tmp_path instead): {leak.name}"
        in done.stdout
    ), done.stdout


@pytest.mark.heavy
def test_a_test_writing_into_its_tmp_path_passes(tmp_path: Path) -> None:
    done = run_suite(
        tmp_path, "def test_keeps_to_itself(tmp_path):\n    (tmp_path / 'c.json').write_text('x')\n"
    )
    assert done.returncode == 0, done.stdout
