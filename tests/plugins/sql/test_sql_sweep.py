"""Four real ``complaintkit sweep`` processes at once on one SQL store: every overdue
complaint is escalated exactly once and each missed deadline recorded once.

The configuration is examples/process.toml (standard policy: acknowledge within 4 working
hours, first response within 1 working day, a missed response escalates). 160 complaints
arrive on Monday 2025-10-13 09:00; every third one is answered at once. The sweeps run as of
Tuesday 09:30, when the other 106 have missed both deadlines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from complaintkit.testing import make_complaint
from complaintkit_sql.store import engine_url
from process_support import EXAMPLE, Clock, make_desk, sh
from together import run_together, start

from .conftest import backend_url

TIMEOUT = 300  # seconds; only a hang would come near it
COUNT = 160
WORKERS = 4
NOW = "2025-10-14T09:30+08:00"

#: ``complaintkit`` exactly as its console script runs it (``complaintkit_cli.main:main``),
#: started on a line from stdin after everything slow to load is loaded (the plugins, the SQL
#: driver), so that the four sweeps begin together; each writes in batches of 5 instead of
#: 500, so that their writes interleave even on a quiet machine (one process once swept all
#: 106 before the others had read anything, and the race this test is about never happened).
SWEEPER = """
    import sys
    from importlib.metadata import entry_points

    import sqlalchemy, psycopg, pymysql  # noqa: F401 - loaded before the start
    from complaintkit.desk import Desk
    from complaintkit_cli.main import main

    for ep in entry_points(group="complaintkit"):
        ep.load()
    Desk.SWEEP_BATCH = 5
    sys.argv = ["complaintkit", *sys.argv[1:]]
    sys.stdin.readline()
    main()
"""


def _references() -> list[str]:
    return [f"S-{n:03d}" for n in range(COUNT)]


def _answered() -> set[str]:
    return {f"S-{n:03d}" for n in range(0, COUNT, 3)}


def _events(url: str, action: str) -> list[tuple[str, dict[str, object]]]:
    """(reference, data) of every event row of ``action`` in the database."""
    engine = sa.create_engine(engine_url(url))
    events = sa.table(
        "ck_events", sa.column("reference"), sa.column("action"), sa.column("data", sa.JSON)
    )
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.reference, events.c.data).where(events.c.action == action)
            ).all()
    finally:
        engine.dispose()
    return [(reference, data) for reference, data in rows]


def _counts(keys: list[object]) -> dict[object, int]:
    found: dict[object, int] = {}
    for key in keys:
        found[key] = found.get(key, 0) + 1
    return found


def _sweep_processes(url: str) -> list[tuple[int, str, str]]:
    procs = [
        start(SWEEPER, "--config", str(EXAMPLE), "--store", url, "sweep", "--now", NOW)
        for _ in range(WORKERS)
    ]
    return run_together(procs, TIMEOUT)


def _said(out: str, what: str) -> int:
    """The number before ``what`` on the summary line of ``complaintkit sweep``."""
    first = out.splitlines()[0]
    return sum(int(part.split()[0]) for part in first.split(", ") if what in part)


def _redecided(out: str) -> int:
    lines = [line for line in out.splitlines() if "changed meanwhile by another" in line]
    return int(lines[0].split()[0]) if lines else 0


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_four_sweep_processes_escalate_each_overdue_complaint_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    url = backend_url(request, backend, tmp_path)
    desk, store = make_desk(url, clock=Clock(sh("2025-10-13 09:00")))
    with store:
        desk.intake_many(
            make_complaint(ref, received_at=sh("2025-10-13 09:00"), text="发票开错了")
            for ref in _references()
        )
        for ref in sorted(_answered()):
            desk.respond(ref, "已处理")
        before = {c.reference: c for c in desk.find()}
    assert len(before) == COUNT

    results = _sweep_processes(url)
    assert [code for code, _, _ in results] == [0] * WORKERS, results

    desk, store = make_desk(url)
    with store:
        after = {c.reference: c for c in desk.find()}
    overdue = set(_references()) - _answered()
    assert len(overdue) == 106
    for ref, c in after.items():
        escalations = [e for e in c.history if e.action == "escalate"]
        breaches = sorted(e.data["target"] for e in c.history if e.action == "sla_breach")
        if ref in overdue:
            # both deadlines missed, recorded and escalated in one write by one sweep
            assert breaches == ["acknowledge", "respond"], ref
            assert len(escalations) == 1, ref
            assert c.escalation_level.slug == "department", ref
            assert c.version == before[ref].version + 1, ref
            assert len(c.history) == len(before[ref].history) + 3, ref
        else:
            assert c == before[ref], ref  # untouched
    # the database rows themselves: one breach row per (complaint, deadline), no duplicates
    breach_rows = _events(url, "sla_breach")
    assert _counts([(ref, data["target"]) for ref, data in breach_rows]) == {
        (ref, target): 1 for ref in overdue for target in ("acknowledge", "respond")
    }
    assert _counts([ref for ref, _ in _events(url, "escalate")]) == {ref: 1 for ref in overdue}
    # what the processes say they did adds up to what the store holds, once
    outputs = [out for _, out, _ in results]
    assert sum(_said(out, "escalations") for out in outputs) == 106
    assert sum(_said(out, "breaches") for out in outputs) == 2 * 106
    # the sweeps overlapped: a process found complaints another one had just changed
    assert sum(_redecided(out) for out in outputs) > 0, outputs

    # a further sweep finds nothing due and changes nothing
    code, out, err = _one_sweep(url)
    assert code == 0, err
    assert out.splitlines()[0].startswith("examined 0, recorded 0 warnings, 0 breaches"), out
    desk, store = make_desk(url)
    with store:
        again = {c.reference: c for c in desk.find()}
    assert again == after


def _one_sweep(url: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "complaintkit"),
            "--config",
            str(EXAMPLE),
            "--store",
            url,
            "sweep",
            "--now",
            NOW,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return proc.returncode, proc.stdout, proc.stderr
