"""The TinyDB store in one process: URLs, options, the file format, batching, errors, warnings."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from tinydb import TinyDB

from complaintkit.config import Config
from complaintkit.errors import (
    ConfigError,
    ConflictError,
    DuplicateComplaintError,
    StorageError,
    ValidationError,
)
from complaintkit.host import make_host
from complaintkit.model import Complaint, Status
from complaintkit.storage import ComplaintFilter
from complaintkit.testing import make_complaint
from complaintkit.testing.conformance import rich_complaint
from complaintkit_tinydb.storage import SafeJSONStorage
from complaintkit_tinydb.store import LargeStoreWarning, TinyDBStore, open_tinydb

Opener = Callable[..., TinyDBStore]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "complaints.json"


@pytest.fixture
def open_store(path: Path) -> Iterator[Opener]:
    """Open stores on ``path`` (options as keyword arguments); closed after the test."""
    opened: list[TinyDBStore] = []

    def open_(**options: Any) -> TinyDBStore:
        store = open_tinydb(f"tinydb://{path}", options)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def complaints(count: int, prefix: str = "B") -> Iterator[Complaint]:
    for number in range(count):
        yield make_complaint(f"{prefix}-{number:05d}", text=f"complaint number {number}")


# --- opening --------------------------------------------------------------------------


def test_the_plugin_serves_tinydb_urls(path: Path) -> None:
    host = make_host(Config(store=f"tinydb://{path}"), env={})
    assert host.storage_backends()["tinydb"].schemes == ("tinydb",)
    store = host.open_store()
    try:
        assert isinstance(store, TinyDBStore)
        assert store.path == path
    finally:
        store.close()


def test_importing_the_plugin_does_not_import_the_store() -> None:
    # `complaintkit --help` loads every plugin; TinyDB and orjson should wait until needed.
    code = (
        "import sys, complaintkit_tinydb.plugin\n"
        "loaded = [m for m in ('tinydb', 'orjson', 'complaintkit_tinydb.store') "
        "if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


def test_absolute_and_relative_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_tinydb("tinydb://data/rel.json") as relative:
        assert relative.path == tmp_path / "data" / "rel.json"
        # messages name the store by its absolute path, whatever folder they are read in
        assert relative.url == f"tinydb://{tmp_path}/data/rel.json"
    with open_tinydb(f"tinydb://{tmp_path}/abs.json") as absolute:
        assert absolute.path == tmp_path / "abs.json"
    with open_tinydb(f"tinydb:///{tmp_path}/abs.json") as four_slashes:
        assert four_slashes.path == tmp_path / "abs.json"


@pytest.mark.parametrize("url", ["tinydb://", "sqlite:///x.db", "complaints.json"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_tinydb(url)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("lock_timeout", "soon"),
        ("lock_timeout", -1),
        ("lock_timeout", True),
        ("warn_above", 1.5),
        ("warn_above", -3),
        ("fsync", "yes"),
    ],
)
def test_bad_options_are_config_errors(path: Path, option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=option):
        open_tinydb(f"tinydb://{path}", {option: value})


def test_options_are_read_and_unknown_ones_left_to_other_backends(open_store: Opener) -> None:
    store = open_store(lock_timeout=2, warn_above=10, fsync=False, pool_size=5)
    assert store.storage.lock.timeout == 2.0
    assert store.options.warn_above == 10
    assert store.storage.fsync is False


def test_a_missing_file_is_an_empty_store_created_on_first_write(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "complaints.json"
    with open_tinydb(f"tinydb://{path}") as store:
        assert store.count() == 0
        assert list(store.find()) == []
        assert not path.parent.exists()
        store.add(make_complaint("M-1"))
    assert path.is_file()
    with open_tinydb(f"tinydb://{path}") as store:
        assert store.get("M-1").version == 1


def test_initialize_writes_an_empty_store(path: Path, open_store: Opener) -> None:
    open_store().initialize()
    assert json.loads(path.read_bytes()) == {"complaints": {}, "_meta": {"1": {"format": 1}}}


def test_an_empty_file_is_an_empty_store(path: Path, open_store: Opener) -> None:
    path.write_bytes(b"")
    store = open_store()
    assert store.count() == 0
    store.add(make_complaint("E-1"))
    assert open_store().count() == 1


# --- the file -------------------------------------------------------------------------


def test_file_format_is_tinydb_tables_without_indentation(path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add(rich_complaint())
    store.add(make_complaint("F-2"))
    raw = path.read_bytes()
    assert b"\n" not in raw
    data = json.loads(raw)
    assert set(data) == {"complaints", "_meta"}
    assert data["_meta"] == {"1": {"format": 1}}
    assert set(data["complaints"]) == {"1", "2"}
    first = data["complaints"]["1"]
    assert first["reference"] == "CK-RICH-1"
    assert first["version"] == 1
    assert first["received_at"] == "2026-03-08T21:15:30.250000+08:00"
    assert first["status"] == "investigating"
    assert first["escalation_level"] == 1
    assert first["labels"]["severity"]["evidence"] == ["延误", "破损"]
    assert "王小明".encode() in raw  # UTF-8, not \\u escapes


def test_stock_tinydb_can_read_the_file(path: Path, open_store: Opener) -> None:
    open_store().add_many(complaints(3))
    with TinyDB(path, access_mode="r") as db:
        references = sorted(doc["reference"] for doc in db.table("complaints").all())
    assert references == ["B-00000", "B-00001", "B-00002"]


def test_writers_lock_a_sidecar_file_and_index_the_file_beside_it(
    path: Path, open_store: Opener
) -> None:
    open_store().add(make_complaint("L-1"))
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "complaints.json",
        "complaints.json.index",
        "complaints.json.lock",
    ]


def test_file_mode_is_kept_across_writes(path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add(make_complaint("P-1"))
    path.chmod(0o640)
    store.update(store.get("P-1"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_unchanged_file_is_not_parsed_again(path: Path, open_store: Opener) -> None:
    store = open_store()
    store.add_many(complaints(5))
    generation = store.storage.generation
    store.get("B-00001")
    list(store.find())
    store.update(store.get("B-00002"))  # our own write refreshes the cache, no re-parse
    store.count_by("status")
    assert store.storage.generation == generation
    other = open_store()
    other.update(other.get("B-00003"))
    # Seen through the index the other store wrote beside the file, without parsing it ...
    assert store.get("B-00003").version == 2
    assert store.storage.generation == generation
    # ... and by parsing the changed file once when every complaint is read.
    assert [c.version for c in store.find()] == [1, 1, 2, 2, 1]
    assert store.get("B-00003").version == 2
    assert store.storage.generation == generation + 1


# --- batching -------------------------------------------------------------------------


def count_replaces(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        calls.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return calls


def test_add_many_writes_the_file_once(
    path: Path, open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    replaces = count_replaces(monkeypatch)
    result = store.add_many(complaints(1000))
    assert result.added == 1000
    assert store.storage.writes == 1
    assert replaces == [str(path), str(path) + ".index"]
    assert open_store().count() == 1000


def test_add_many_consumes_a_stream_and_writes_at_the_end(path: Path, open_store: Opener) -> None:
    store = open_store()
    consumed: list[int] = []

    def stream() -> Iterator[Complaint]:
        for number, complaint in enumerate(complaints(50)):
            # Nothing is written while the stream is being read.
            assert not path.exists()
            assert store.storage.writes == 0
            consumed.append(number)
            yield complaint

    assert store.add_many(stream()).added == 50
    assert len(consumed) == 50
    assert store.storage.writes == 1


def test_add_many_with_stored_and_repeated_references_still_writes_once(
    open_store: Opener,
) -> None:
    store = open_store()
    store.add_many(complaints(100))
    before = store.storage.writes
    batch = [*complaints(100), *complaints(20, "N"), *complaints(20, "N")]
    result = store.add_many(batch)
    assert result.added == 20
    assert len(result.skipped) == 120
    assert store.storage.writes == before + 1


def test_add_many_of_known_references_writes_nothing(open_store: Opener) -> None:
    store = open_store()
    store.add_many(complaints(10))
    before = store.storage.writes
    assert store.add_many(complaints(10)).added == 0
    assert store.storage.writes == before


def test_update_many_writes_the_file_once(open_store: Opener) -> None:
    store = open_store()
    store.add_many(complaints(500))
    before = store.storage.writes
    changed = [attrs.evolve(c, status=Status.ACKNOWLEDGED) for c in store.find()]
    stale = attrs.evolve(changed[0], version=9)
    result = store.update_many([*changed[1:], stale])
    assert len(result.updated) == 499
    assert result.conflicts == (stale.reference,)
    assert store.storage.writes == before + 1
    acknowledged = ComplaintFilter(statuses=frozenset({Status.ACKNOWLEDGED}))
    assert open_store().count(acknowledged) == 499


def test_conflicts_and_duplicates_write_nothing(open_store: Opener) -> None:
    store = open_store()
    stored = store.add(make_complaint("C-1"))
    before = store.storage.writes
    with pytest.raises(ConflictError):
        store.update(attrs.evolve(stored, version=3))
    with pytest.raises(DuplicateComplaintError):
        store.add(make_complaint("C-1"))
    assert store.storage.writes == before


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"complaints": {"1": {"reference": ', "not valid JSON"),
        (b"[1, 2, 3]", "JSON object of tables"),
        (b'{"complaints": []}', "table 'complaints'"),
        (b'{"complaints": {"1": {"text": "no reference"}}}', "not a complaint"),
        (b'{"complaints": {}, "_meta": {"1": {"format": 2}}}', "newer complaintkit"),
    ],
)
def test_an_unusable_file_is_named_and_left_alone(path: Path, content: bytes, reason: str) -> None:
    path.write_bytes(content)
    with pytest.raises(StorageError) as info:
        open_tinydb(f"tinydb://{path}")
    message = str(info.value)
    assert str(path) in message
    assert reason in message
    assert "not modified" in message
    assert path.read_bytes() == content


def test_a_complaint_that_cannot_be_loaded_is_named(path: Path, open_store: Opener) -> None:
    open_store().add(make_complaint("G-1"))
    data = json.loads(path.read_bytes())
    data["complaints"]["1"]["status"] = "lost in space"
    path.write_text(json.dumps(data))
    with pytest.raises(StorageError, match="G-1") as info:
        open_store().get("G-1")
    assert str(path) in str(info.value)


def test_data_that_is_not_json_is_refused_before_writing(path: Path, open_store: Opener) -> None:
    store = open_store()
    with pytest.raises(ValidationError, match="J-1"):
        store.add(make_complaint("J-1", custom={"amount": Decimal("1.50")}))
    assert not path.exists()
    assert store.count() == 0


def test_a_failed_write_leaves_file_and_store_consistent(
    path: Path, open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    v1 = store.add(make_complaint("W-1"))
    before = path.read_bytes()

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="previous contents are intact"):
        store.update(attrs.evolve(v1, assignee="lost"))
    with pytest.raises(StorageError):
        store.add_many(complaints(3))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # The in-memory copy was dropped, so the store agrees with the file ...
    assert store.get("W-1") == v1
    assert store.count() == 1
    # ... and the next change works against it.
    assert store.update(attrs.evolve(v1, assignee="kept")).version == 2


def test_close_releases_files_and_refuses_further_use(path: Path) -> None:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc to count open files")
    before = len(list(fds.iterdir()))
    with open_tinydb(f"tinydb://{path}") as store:
        store.add(make_complaint("X-1"))
        store.get("X-1")
        assert len(list(fds.iterdir())) > before  # data file (and lock file) held open
    assert len(list(fds.iterdir())) == before
    with pytest.raises(StorageError, match="closed"):
        store.get("X-1")
    store.close()  # twice is fine


def test_fsync_can_be_turned_off(
    path: Path, open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    open_store(fsync=False).add(make_complaint("S-1"))
    assert synced == []
    open_store().add(make_complaint("S-2"))
    assert len(synced) == 2  # the temporary file, then the folder
    assert open_store().count() == 2


# --- the size warning -----------------------------------------------------------------


def large_store_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, LargeStoreWarning)]


def test_large_store_warns_once_per_process(path: Path, open_store: Opener) -> None:
    store = open_store(warn_above=5)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        store.add_many(complaints(5))
    assert large_store_warnings(record) == []  # at the limit is fine
    with pytest.warns(LargeStoreWarning) as caught:
        store.add(make_complaint("one-more"))
    [message] = large_store_warnings(caught.list)
    assert "6 complaints" in message
    assert str(path) in message
    assert "sqlite://" in message and "postgresql://" in message
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        store.add_many(complaints(3, "more"))
        open_store(warn_above=5).count()
    assert large_store_warnings(record) == []


def test_adding_past_the_threshold_warns_and_reading_does_not(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(12))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reader = open_store(warn_above=10)
        assert reader.count() == 12  # reading a large store stays quiet
    with pytest.warns(LargeStoreWarning, match="13 complaints"):
        reader.add(make_complaint("EXTRA-1"))


def test_subprocess_warns_by_default_above_twenty_thousand(path: Path) -> None:
    # The default threshold, in a process of its own (the warning is once per process).
    with open_tinydb(f"tinydb://{path}", {"fsync": False, "warn_above": 10**9}) as store:
        store.add_many(complaints(20_000))
    code = (
        "import sys, warnings\n"
        "from complaintkit.testing import make_complaint\n"
        "from complaintkit_tinydb.store import open_tinydb\n"
        "with warnings.catch_warnings(record=True) as record:\n"
        "    warnings.simplefilter('always')\n"
        "    with open_tinydb('tinydb://' + sys.argv[1]) as store:\n"
        "        store.add(make_complaint('NEW-1'))\n"
        "        store.add(make_complaint('NEW-2'))\n"
        "print(len(record))\n"
        "for warning in record:\n"
        "    print(warning.category.__name__, warning.message)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    count, warning = done.stdout.splitlines()
    assert count == "1"
    assert warning.startswith("LargeStoreWarning")
    assert "20,001 complaints" in warning  # once, for the first addition past the limit
    assert "past 20,000" in warning


def test_round_trip_bytes_are_stable(path: Path, open_store: Opener) -> None:
    # Writing what was read changes nothing but the version: no drift through the converter.
    store = open_store()
    store.add(rich_complaint())
    first = orjson.loads(path.read_bytes())["complaints"]["1"]
    store.update(store.get("CK-RICH-1"))
    second = orjson.loads(path.read_bytes())["complaints"]["1"]
    assert {**first, "version": 2} == second


def test_the_storage_protects_plain_tinydb_use_too(path: Path) -> None:
    # Outside the store's transactions, a write based on a stale read is refused.
    with (
        TinyDB(path, storage=SafeJSONStorage) as mine,
        TinyDB(path, storage=SafeJSONStorage) as theirs,
    ):
        mine.table("t").insert({"n": 1})
        assert theirs.table("t").all() == [{"n": 1}]

        def change_while_they_write(doc: Any) -> None:
            # TinyDB reads, changes, then writes; here the other writer gets in between.
            theirs.table("t").insert({"n": 2})
            doc["n"] = 100

        with pytest.raises(StorageError, match="changed by another process"):
            mine.table("t").update(change_while_they_write, doc_ids=[1])
        assert sorted(doc["n"] for doc in mine.table("t").all()) == [1, 2]
