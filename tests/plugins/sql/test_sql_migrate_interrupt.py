"""``complaintkit migrate`` stopped with Ctrl-C (a real SIGINT to a real process) says how far
it got and how to go on, exits with status 130 without a traceback, and leaves whole batches
only; the same command run again resumes and verifies equal."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from complaintkit import Config, make_host
from complaintkit.storage import resolve_url
from complaintkit.testing import FIXED_TIME, make_complaint
from complaintkit_migrate import verify_stores

from .conftest import backend_url

TOTAL = 4000
BATCH = 40
TIMEOUT = 300


def _count(url: str) -> int:
    store = make_host(Config(store=url), env={}).open_store()
    try:
        return store.count()
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.heavy
def test_ctrl_c_then_the_same_command_resumes(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    source_url = f"tinydb://{tmp_path / 'source.json'}"
    dest_url = backend_url(request, backend, tmp_path)
    host = make_host(Config(store=source_url), env={})
    with host.open_store() as source:
        source.add_many(
            make_complaint(f"M-{n:05d}", received_at=FIXED_TIME + timedelta(minutes=n))
            for n in range(TOTAL)
        )
    command = [
        str(Path(sys.executable).parent / "complaintkit"),
        "migrate",
        source_url,
        dest_url,
        "--batch-size",
        str(BATCH),
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        # Ctrl-C as soon as the first batches are in (the copy takes many seconds more)
        deadline = time.monotonic() + TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                if _count(dest_url) >= 2 * BATCH:
                    break
            except Exception:  # the destination's schema may not exist yet
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Aborted" not in err, err
    found = re.search(r"interrupted: ([\d,]+) of 4,000 complaints are at the destination", err)
    assert found, err
    held = int(found.group(1).replace(",", ""))
    assert "Run the same command again to resume" in err, err
    assert f"complaintkit migrate {source_url} {dest_url} --batch-size {BATCH}" in err, err
    assert 2 * BATCH <= held < TOTAL, err
    # consistent: what the message says is what is there, in whole batches, each equal to
    # the source's (the oldest ones, as the copy goes in the source's order)
    assert _count(dest_url) == held
    assert held % BATCH == 0
    dest_host = make_host(Config(store=dest_url), env={})
    with host.open_store() as source, dest_host.open_store() as dest:
        copied = list(dest.find())
        assert copied == list(source.find(limit=held))

    again = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    # the destination as opened: a SQLite path absolute, as complaintkit spells it
    shown = resolve_url(dest_url)
    assert (
        f"copied {TOTAL - held:,} complaints to {shown} ({held:,} already there and equal)"
        in again.stdout
    ), again.stdout
    assert "verified: 4,000 complaints on both sides" in again.stdout, again.stdout
    with host.open_store() as source, dest_host.open_store() as dest:
        assert verify_stores(source, dest).ok
