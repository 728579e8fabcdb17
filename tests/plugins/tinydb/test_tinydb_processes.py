"""The TinyDB store between real processes: no lost updates, crash safety, the write lock."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from complaintkit.errors import StoreLockedError
from complaintkit.testing import make_complaint
from complaintkit_tinydb.store import TinyDBStore, open_tinydb
from together import assign_together, finish, run_together, start

TIMEOUT = 120  # seconds; only a hang would come near it


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "complaints.json"


@pytest.fixture
def store(path: Path) -> Iterator[TinyDBStore]:
    with open_tinydb(f"tinydb://{path}") as opened:
        yield opened


INCREMENT = """
    import sys
    import attrs
    from complaintkit.errors import ConflictError
    from complaintkit_tinydb.store import open_tinydb

    url, times = sys.argv[1], int(sys.argv[2])
    sys.stdin.readline()  # start together with the other process
    conflicts = 0
    with open_tinydb(url) as store:
        done = 0
        while done < times:
            current = store.get("C-1")
            counter = current.custom["counter"]
            try:
                store.update(attrs.evolve(current, custom={"counter": counter + 1}))
            except ConflictError:
                conflicts += 1  # someone else got there first: read again and redo
                continue
            done += 1
    print(conflicts)
"""


def test_two_processes_incrementing_lose_no_update(path: Path, store: TinyDBStore) -> None:
    store.add(make_complaint("C-1", custom={"counter": 0}))
    times = 50
    workers = [start(INCREMENT, f"tinydb://{path}", str(times)) for _ in range(2)]
    results = run_together(workers, TIMEOUT)
    for code, _, err in results:
        assert code == 0, err
    final = store.get("C-1")
    assert final.custom["counter"] == 2 * times
    # Every successful update bumped the version exactly once.
    assert final.version == 1 + 2 * times


def test_four_desks_changing_one_complaint_all_get_their_change(
    path: Path, store: TinyDBStore
) -> None:
    store.add(make_complaint("H-1"))
    refused = assign_together(f"tinydb://{path}", 4, times=20, timeout=TIMEOUT)
    assert refused > 0, "the processes never raced; the test proved nothing"


ADD_MANY = """
    import sys
    from complaintkit.testing import make_complaint
    from complaintkit_tinydb.store import open_tinydb

    url, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.stdin.readline()
    with open_tinydb(url) as store:
        result = store.add_many(make_complaint(f"A-{n:04d}") for n in range(first, last))
    print(result.added, len(result.skipped))
"""


def test_two_processes_adding_overlapping_batches(path: Path, store: TinyDBStore) -> None:
    workers = [
        start(ADD_MANY, f"tinydb://{path}", "0", "300"),
        start(ADD_MANY, f"tinydb://{path}", "200", "500"),
    ]
    totals = [0, 0]
    for code, out, err in run_together(workers, TIMEOUT):
        assert code == 0, err
        added, skipped = map(int, out.split())
        totals[0] += added
        totals[1] += skipped
    # The overlap (200..299) is stored once, by whichever process wrote first.
    assert totals == [500, 100]
    assert store.count() == 500
    assert {c.version for c in store.find()} == {1}


CRASH = """
    import os, signal, sys
    import attrs
    from complaintkit_tinydb.store import open_tinydb

    url, how = sys.argv[1], sys.argv[2]
    store = open_tinydb(url)
    current = store.get("K-1")
    die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    if how == "exit-before-replace":
        os.replace = lambda *args, **kwargs: os._exit(1)
    elif how == "killed-before-replace":
        os.fsync = die  # the temporary file is complete, the rename never happens
    elif how == "killed-half-written":
        real_write = os.write
        def write(fd, data):
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        os.write = write
    store.update(attrs.evolve(current, text="this change never happened"))
    print("survived")  # must not be reached
"""


@pytest.mark.parametrize(
    "how", ["exit-before-replace", "killed-before-replace", "killed-half-written"]
)
def test_a_crash_mid_write_leaves_the_previous_file(
    path: Path, store: TinyDBStore, how: str
) -> None:
    store.add_many([make_complaint("K-1", text="original"), make_complaint("K-2")])
    before = path.read_bytes()
    code, out, err = finish(start(CRASH, f"tinydb://{path}", how), TIMEOUT)
    assert code in (1, -signal.SIGKILL), err
    assert "survived" not in out
    assert path.read_bytes() == before
    leftovers = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the crashed writer should have left its temporary file"
    with open_tinydb(f"tinydb://{path}") as reopened:
        assert reopened.get("K-1").text == "original"
        assert reopened.count() == 2
        # The next writer (holding the lock, so nobody else is mid-write) removes leftovers.
        reopened.update(attrs.evolve(reopened.get("K-1"), text="changed"))
        assert reopened.get("K-1").version == 2
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert store.get("K-1").text == "changed"


HOLD_LOCK = """
    import sys
    from complaintkit_tinydb.store import open_tinydb

    with open_tinydb(sys.argv[1]) as store:
        with store.storage.transaction():  # what a writer holds while it writes
            print("locked", flush=True)
            sys.stdin.readline()
    print("released", flush=True)
"""


def test_a_held_lock_times_out_with_store_locked_error(path: Path, store: TinyDBStore) -> None:
    store.add(make_complaint("H-1"))
    holder = start(HOLD_LOCK, f"tinydb://{path}")
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    try:
        with open_tinydb(f"tinydb://{path}", {"lock_timeout": 0.2}) as waiting:
            with pytest.raises(StoreLockedError) as info:
                waiting.add(make_complaint("H-2"))
            assert str(path) in str(info.value)
            assert "lock_timeout" in str(info.value)
            with pytest.raises(StoreLockedError):
                waiting.update(waiting.get("H-1"))
            # Readers take no lock.
            assert waiting.get("H-1").version == 1
            assert waiting.count() == 1
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
    code, out, err = finish(holder, TIMEOUT)
    assert code == 0, err
    assert "released" in out
    # Once released, writing works again, and the timed-out writes left no trace.
    assert store.add(make_complaint("H-2")).version == 1
    assert store.count() == 2


def test_a_writer_waits_for_the_lock_instead_of_failing(path: Path, store: TinyDBStore) -> None:
    store.add(make_complaint("Q-1"))
    holder = start(HOLD_LOCK, f"tinydb://{path}")
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    # A second writer finds the lock taken, then waits for it (default timeout) and succeeds.
    writer = start(
        """
        import sys, attrs
        from complaintkit.errors import StoreLockedError
        from complaintkit_tinydb.store import open_tinydb
        with open_tinydb(sys.argv[1], {"lock_timeout": 0}) as impatient:
            try:
                impatient.update(impatient.get("Q-1"))
            except StoreLockedError:
                print("blocked", flush=True)
        with open_tinydb(sys.argv[1]) as store:
            print(store.update(attrs.evolve(store.get("Q-1"), assignee="patient")).version)
        """,
        f"tinydb://{path}",
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "blocked"
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert finish(holder, TIMEOUT)[0] == 0
    code, out, err = finish(writer, TIMEOUT)
    assert code == 0, err
    assert out.strip() == "2"
    assert store.get("Q-1").assignee == "patient"
