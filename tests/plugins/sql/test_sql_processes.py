"""Several real processes hammering one SQL store through Desk: no update is lost."""

from __future__ import annotations

import pytest

from complaintkit.testing import make_complaint
from complaintkit_sql.store import open_sql
from together import run_together, start

TIMEOUT = 300  # seconds; only a hang would come near it

HAMMER = """
    import sys
    from complaintkit.config import Config
    from complaintkit.desk import Desk
    from complaintkit.errors import ConflictError
    from complaintkit.host import make_host

    url, worker, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host = make_host(Config(store=url), env={})
    store = host.open_store()
    conflicts = 0
    update = store.update

    def counting_update(complaint):
        global conflicts
        try:
            return update(complaint)
        except ConflictError:
            conflicts += 1
            raise

    store.update = counting_update
    desk = Desk(host, store, actor=worker, retries=10_000)
    sys.stdin.readline()  # start together with the other processes
    for i in range(times):
        desk.assign("H-1", assignee=f"{worker}-{i}")
    store.close()
    print(conflicts)
"""


@pytest.mark.parametrize("processes", [3])
def test_processes_appending_to_one_complaint_lose_nothing(sql_url: str, processes: int) -> None:
    times = 40
    with open_sql(sql_url) as store:
        store.add(make_complaint("H-1"))
    workers = [start(HAMMER, sql_url, f"w{n}", str(times)) for n in range(processes)]
    conflicts = 0
    for code, out, err in run_together(workers, TIMEOUT):
        assert code == 0, err
        conflicts += int(out.strip())
    with open_sql(sql_url) as store:
        final = store.get("H-1")
    assigned = [e.data["assignee"]["to"] for e in final.history if e.action == "assign"]
    expected = {f"w{n}-{i}" for n in range(processes) for i in range(times)}
    assert len(assigned) == len(expected) and set(assigned) == expected
    assert final.version == 1 + processes * times
    # Each process's own assignments appear in its order.
    for n in range(processes):
        mine = [a for a in assigned if a.startswith(f"w{n}-")]
        assert mine == [f"w{n}-{i}" for i in range(times)]
    assert conflicts > 0, "the processes never raced; the test proved nothing"


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
