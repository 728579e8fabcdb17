"""Real processes for the concurrency tests.

Each script runs in a fresh interpreter (the one running the tests, so the same virtual
environment) and waits for a line on standard input before it starts its work, so that
:func:`run_together` can release several at the same instant.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence

#: Seconds to wait for a process; only a hang comes near it.
TIMEOUT = 300


def start(script: str, *args: str) -> subprocess.Popen[str]:
    """Run ``script`` (dedented) with ``args`` as ``sys.argv[1:]``."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Wait for ``process``: its exit status, standard output and standard error."""
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def run_together(
    processes: Sequence[subprocess.Popen[str]], timeout: float = TIMEOUT
) -> list[tuple[int, str, str]]:
    """Release every started process at once (a line on its standard input), then wait
    for each: ``(exit status, stdout, stderr)`` in the order given."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    return [finish(process, timeout) for process in processes]


ASSIGN = """
    import json, sys
    from complaintkit.config import Config
    from complaintkit.desk import Desk
    from complaintkit.errors import ConflictError
    from complaintkit.host import make_host

    url, worker, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host = make_host(Config(store=url), env={})
    store = host.open_store()
    refused = gave_up = 0
    update = store.update

    def counting_update(complaint):
        global refused
        try:
            return update(complaint)
        except ConflictError:
            refused += 1
            raise

    store.update = counting_update
    desk = Desk(host, store, actor=worker)  # the default retry policy, as the CLI has it
    sys.stdin.readline()  # start together with the other processes
    for i in range(times):
        try:
            desk.assign("H-1", assignee=f"{worker}-{i}")
        except ConflictError:
            gave_up += 1
    store.close()
    print(json.dumps({"refused": refused, "gave_up": gave_up}))
"""


def assign_together(url: str, processes: int, times: int, timeout: float = TIMEOUT) -> int:
    """``processes`` real processes each assigning complaint ``H-1`` (already stored at
    ``url``) ``times`` times through a default :class:`~complaintkit.desk.Desk`, released
    together. Asserts that no call gave up and no assignment was lost (every one is in the
    history, each process's in its order, one version per change); returns how many writes
    the store refused as conflicts (each one retried by a desk)."""
    import json

    from complaintkit import Config, make_host

    workers = [start(ASSIGN, url, f"w{n}", str(times)) for n in range(processes)]
    refused = 0
    for code, out, err in run_together(workers, timeout):
        assert code == 0, err
        counts = json.loads(out)
        assert counts["gave_up"] == 0, f"{counts['gave_up']} calls raised ConflictError"
        refused += counts["refused"]
    with make_host(Config(store=url), env={}).open_store() as store:
        final = store.get("H-1")
    assigned = [e.data["assignee"]["to"] for e in final.history if e.action == "assign"]
    expected = {f"w{n}-{i}" for n in range(processes) for i in range(times)}
    assert len(assigned) == len(expected) and set(assigned) == expected
    assert final.version == 1 + processes * times
    for n in range(processes):
        assert [a for a in assigned if a.startswith(f"w{n}-")] == [
            f"w{n}-{i}" for i in range(times)
        ]
    return refused
