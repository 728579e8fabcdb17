"""Several real processes on one SQL store: every change through Desk is made, none is lost."""

from __future__ import annotations

import pytest

from complaintkit.testing import make_complaint
from complaintkit_sql.store import open_sql
from together import assign_together, run_together, start

TIMEOUT = 300  # seconds; only a hang would come near it


@pytest.mark.parametrize("processes", [4])
def test_processes_changing_one_complaint_all_get_their_change(
    sql_url: str, processes: int
) -> None:
    # Before the desk paused between retries, 8 immediate retries still gave up on 0.5-2.5%
    # (SQLite) and 13% (PostgreSQL) of these calls with 4 processes.
    with open_sql(sql_url) as store:
        store.add(make_complaint("H-1"))
    refused = assign_together(sql_url, processes, times=20, timeout=TIMEOUT)
    assert refused > 0, "the processes never raced; the test proved nothing"


IMPORT = """
    import sys
    from complaintkit.testing import make_complaint
    from complaintkit_sql.store import open_sql

    url, start = sys.argv[1], int(sys.argv[2])
    batch = [make_complaint(f"B-{n:05d}", text=f"from {start}") for n in range(start, start + 3000)]
    sys.stdin.readline()
    with open_sql(url) as store:
        result = store.add_many(iter(batch))
    print(result.added, len(result.skipped))
"""


@pytest.mark.parametrize("created", [True, False], ids=["schema-made", "empty-database"])
def test_processes_importing_overlapping_batches_store_each_once(
    sql_url: str, created: bool
) -> None:
    if created:
        with open_sql(sql_url) as store:
            store.initialize()
    # Otherwise the three processes race to create the schema, one step after another, and
    # none may mistake another's half-made schema for an outdated one.
    starts = (0, 1500, 2500)  # 3000 each, overlapping: 5500 distinct references
    workers = [start(IMPORT, sql_url, str(first)) for first in starts]
    added = skipped = 0
    for code, out, err in run_together(workers, TIMEOUT):
        assert code == 0, err
        a, s = map(int, out.split())
        added, skipped = added + a, skipped + s
    assert (added, skipped) == (5500, 3 * 3000 - 5500)
    with open_sql(sql_url) as store:
        assert store.count() == 5500
        assert len(list(store.find(limit=6000))) == 5500
