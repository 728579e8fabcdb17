"""Migration between stores: a real data sample copied, interrupted, resumed and verified."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from click.testing import CliRunner

from complaintkit import Config, Desk, MigrationError, PluginHost, Status, Store, make_host
from complaintkit.errors import ConfigError
from complaintkit.intake import clean_complaint
from complaintkit.model import Complaint, Event, Label, Party
from complaintkit.serialization import complaint_to_data
from complaintkit.storage import ComplaintFilter
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from complaintkit_importing import read_complaints
from complaintkit_migrate import (
    VerificationFailed,
    canonical_bytes,
    copy_store,
    migrate,
    verify_stores,
)
from conftest import require_dataset, require_service

pytestmark = pytest.mark.slow

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SAMPLES = (
    "chezhiwang_car_complaints/car_complaints.csv",
    "comcast_fcc_complaints_2015/comcast_fcc_complaints_2015.csv",
)


def _host(url: str) -> PluginHost:
    return make_host(Config(store=url), env={})


@pytest.fixture(scope="module")
def source_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A TinyDB store of two whole real data sets, imported and classified as the CLI does,
    with some complaints handled further (higher versions, longer histories)."""
    paths = [require_dataset(relative) for relative in SAMPLES]
    path = tmp_path_factory.mktemp("source") / "source.json"
    host = _host(f"tinydb://{path}")
    store = host.open_store()
    try:
        desk = Desk(host, store, actor="importer")
        for data in paths:
            with read_complaints(data, tz=host.config.tzinfo, on_reject=lambda row: None) as rows:
                desk.intake_many(rows)
        # the presets bring the sources' statuses: handle some that are still new
        waiting = ComplaintFilter(statuses=frozenset({Status.RECEIVED}))
        handled = [c.reference for c in store.find(waiting, limit=40)]
        for reference in handled[:40]:
            desk.transition(reference, "acknowledge")
        for reference in handled[:10]:
            desk.assign(reference, department="after-sales", assignee="王芳", reason="车主投诉")
        count = store.count()
    finally:
        store.close()
    return path, count


@pytest.fixture
def source_url(source_file: tuple[Path, int], tmp_path: Path) -> str:
    """A private copy of the real-data store, so a test may change it."""
    copy = tmp_path / "source.json"
    copy.write_bytes(source_file[0].read_bytes())
    return f"tinydb://{copy}"


@pytest.fixture
def open_store() -> Iterator[Callable[[str], Store]]:
    opened: list[Store] = []

    def open_(url: str) -> Store:
        store = _host(url).open_store()
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def _all(store: Store) -> list[bytes]:
    return [canonical_bytes(c) for c in store.find()]


# --- TinyDB to TinyDB -----------------------------------------------------------------------


def test_real_sample_round_trips_equal_with_versions_and_history(
    source_url: str, source_file: tuple[Path, int], tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    source = open_store(source_url)
    destination = open_store(f"tinydb://{tmp_path / 'dest.json'}")
    count = source_file[1]
    assert count > 3500  # both data sets, whole
    result = migrate(source, destination, batch_size=500)
    assert (result.copy.copied, result.copy.already_there) == (count, 0)
    verification = result.verification
    assert verification.ok and verification.difference_count == 0
    assert verification.source_count == verification.destination_count == count
    assert verification.source_checksum == verification.destination_checksum
    assert _all(destination) == _all(source)
    waiting = ComplaintFilter(statuses=frozenset({Status.ACKNOWLEDGED}), department="after-sales")
    moved = destination.get(next(source.find(waiting, limit=1)).reference)
    assert moved.version == 3 and moved.assignee == "王芳"
    assert [e.action for e in moved.history][-2:] == ["acknowledge", "assign"]
    assert moved == source.get(moved.reference)
    # The migrated version is the one the next change must be based on.
    assert destination.update(attrs.evolve(moved, product="x")).version == 4


def test_checksum_depends_on_content_not_backend_order(
    tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    a, b = (
        open_store(f"tinydb://{tmp_path / 'a.json'}"),
        open_store(f"tinydb://{tmp_path / 'b.json'}"),
    )
    same = [make_complaint(f"T-{i}") for i in range(5)]  # one instant: a tie of five
    a.add_many(same)
    b.add_many(reversed(same))
    first = verify_stores(a, b)
    assert first.ok
    b.update(attrs.evolve(b.get("T-3"), product="changed"))
    second = verify_stores(a, b)
    assert not second.ok
    assert second.source_checksum == first.source_checksum
    assert second.destination_checksum != first.destination_checksum
    assert [str(d) for d in second.examples] == ["T-3 (different)"]


def test_a_time_written_with_another_offset_is_a_difference(
    tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    a, b = (
        open_store(f"tinydb://{tmp_path / 'a.json'}"),
        open_store(f"tinydb://{tmp_path / 'b.json'}"),
    )
    original = make_complaint("O-1")
    shifted = attrs.evolve(
        original, received_at=original.received_at.astimezone(timezone(timedelta(hours=-5)))
    )
    assert shifted == original  # the same instant: == cannot tell them apart
    a.add(original)
    b.add(shifted)
    result = verify_stores(a, b)
    assert (result.ok, result.different) == (False, 1)
    assert "O-1 (different)" in result.describe()


def _canonical_of_cleaned(complaint: Complaint) -> bytes:
    """The canonical bytes as defined: the cleaned complaint's data, keys sorted."""
    stored, _ = clean_complaint(complaint)
    return orjson.dumps(complaint_to_data(stored), option=orjson.OPT_SORT_KEYS)


@pytest.mark.parametrize(
    "dirty",
    [
        {"text": "nul\x00inside"},
        {"text": "lone \ud800 surrogate"},
        {"custom": {"k\x00ey": "v"}},
        {"custom": {"note": "\udfff"}},
        {"tags": ("t\x00ag",)},
        {"history": (Event(NOW, "a\x00ctor", "note", data={"x": "\x00"}),)},
        {"labels": {"s": Label("s", "l", evidence=("e\ud801",))}},
    ],
    ids=["nul", "surrogate", "custom key", "custom value", "tag", "event data", "evidence"],
)
def test_canonical_bytes_of_a_complaint_holding_unstorable_text_are_of_it_cleaned(
    dirty: dict[str, Any],
) -> None:
    complaint = attrs.evolve(make_complaint("C-1"), **dirty)
    assert clean_complaint(complaint)[1]  # there is something to clean
    encoded = canonical_bytes(complaint)
    assert encoded == _canonical_of_cleaned(complaint)
    assert b"\\u0000" not in encoded


def test_canonical_bytes_keep_a_typed_backslash_u0000() -> None:
    typed = attrs.evolve(make_complaint("C-2"), text="a typed \\u0000 stays")
    assert clean_complaint(typed)[1] == {}
    encoded = canonical_bytes(typed)
    assert encoded == _canonical_of_cleaned(typed)
    assert orjson.loads(encoded)["text"] == "a typed \\u0000 stays"


@pytest.mark.parametrize(
    "change",
    [
        lambda c: {"history": (*c.history[:-1], attrs.evolve(c.history[-1], data={"n": 2}))},
        lambda c: {"labels": {"s": Label("s", "l", 0.5, ("two",))}},
        lambda c: {"custom": {"n": 1.5}},
        lambda c: {"complainant": attrs.evolve(c.complainant, email="b@example.com")},
    ],
    ids=["event data", "label evidence", "custom number", "complainant"],
)
def test_a_difference_deep_inside_a_complaint_is_found(
    change: Callable[[Complaint], dict[str, Any]],
    tmp_path: Path,
    open_store: Callable[..., Store],
) -> None:
    a, b = (
        open_store(f"tinydb://{tmp_path / 'a.json'}"),
        open_store(f"sqlite:///{tmp_path / 'b.db'}"),
    )
    base = attrs.evolve(
        make_complaint("D-1"),
        history=(Event(NOW, "desk", "note", data={"n": 1}),),
        labels={"s": Label("s", "l", 0.5, ("one",))},
        custom={"n": 1},
        complainant=Party(email="a@example.com"),
    )
    a.add(base)
    b.add(attrs.evolve(base, **change(base)))
    result = verify_stores(a, b)
    assert (result.ok, result.different) == (False, 1)
    assert [str(d) for d in result.examples] == ["D-1 (different)"]


def _rewrite_stored(path: Path, reference: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change one complaint's document in a TinyDB file, as another program might."""
    data = json.loads(path.read_text(encoding="utf-8"))
    (doc,) = [d for d in data["complaints"].values() if d["reference"] == reference]
    change(doc)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("tinydb_side", ["source", "destination"])
def test_a_stored_form_written_another_way_is_the_same_complaint(
    tinydb_side: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    # The TinyDB side is compared by its documents as stored; one written another way (a time
    # with its microseconds spelled out) is read again as a complaint, not reported.
    path = tmp_path / "t.json"
    tiny, sql = open_store(f"tinydb://{path}"), open_store(f"sqlite:///{tmp_path / 's.db'}")
    complaints = [make_complaint(f"S-{i}") for i in range(3)]
    tiny.add_many(complaints)
    sql.add_many(complaints)
    sides = (tiny, sql) if tinydb_side == "source" else (sql, tiny)
    before = verify_stores(*sides)
    assert before.ok

    def spelled_out(doc: dict[str, Any]) -> None:
        assert doc["received_at"].endswith("+00:00") and "." not in doc["received_at"]
        doc["received_at"] = doc["received_at"].replace("+00:00", ".000000+00:00")

    _rewrite_stored(path, "S-1", spelled_out)
    after = verify_stores(*sides)
    assert after.ok, after.describe()
    assert (after.source_checksum, after.destination_checksum) == (
        before.source_checksum,
        before.destination_checksum,
    )

    _rewrite_stored(path, "S-2", lambda doc: doc.update(text=doc["text"] + " (edited)"))
    changed = verify_stores(*sides)
    assert (changed.ok, changed.different) == (False, 1)
    assert [str(d) for d in changed.examples] == ["S-2 (different)"]
    checksum = changed.source_checksum if tinydb_side == "source" else changed.destination_checksum
    assert checksum != before.source_checksum


# --- interrupted and resumed ----------------------------------------------------------------


class Interrupted(Exception):
    pass


def test_interrupted_copy_resumes_where_it_stopped(
    source_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    source = open_store(source_url)
    destination = open_store(f"tinydb://{tmp_path / 'dest.json'}")
    batches = 0

    def stop_after_two(n: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        copy_store(source, destination, batch_size=400, progress=stop_after_two)
    assert destination.count() == 800  # two whole batches, nothing half-written
    done = copy_store(source, destination, batch_size=400)
    assert (done.copied, done.already_there) == (source.count() - 800, 800)
    assert verify_stores(source, destination).ok


def test_migration_killed_mid_way_resumes_from_the_cli(
    source_url: str, source_file: tuple[Path, int], tmp_path: Path
) -> None:
    dest = tmp_path / "dest.json"
    command = [
        sys.executable,
        "-c",
        "from complaintkit_cli.main import main; main()",
        "migrate",
        source_url,
        f"tinydb://{dest}",
        "--batch-size",
        "100",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTKIT_")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # Kill it once some batches are at the destination (the store file is replaced
        # atomically, so it can be read at any moment).
        while _stored(dest) == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the migration ended before it could be killed"
    partial, total = _stored(dest), source_file[1]
    assert 0 < partial < total and partial % 100 == 0  # whole batches only

    result = CliRunner().invoke(cli, ["migrate", source_url, f"tinydb://{dest}"])
    assert result.exit_code == 0, result.output
    assert f"copied {total - partial:,} complaints" in result.output
    assert f"({partial:,} already there and equal)" in result.output
    assert f"verified: {total:,} complaints on both sides" in result.output


def _stored(path: Path) -> int:
    if not path.exists():
        return 0
    return len(json.loads(path.read_bytes()).get("complaints", {}))


# --- refusing and reporting -----------------------------------------------------------------


def test_different_record_at_the_destination_is_refused_not_overwritten(
    source_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    source = open_store(source_url)
    destination = open_store(f"tinydb://{tmp_path / 'dest.json'}")
    victim = next(source.find(offset=700, limit=1))
    destination.add(attrs.evolve(victim, text="someone else's complaint"))
    with pytest.raises(MigrationError) as info:
        copy_store(source, destination, batch_size=500)
    assert victim.reference in str(info.value)
    assert "nothing was overwritten" in str(info.value)
    assert destination.get(victim.reference).text == "someone else's complaint"
    assert destination.count() == 501  # the first batch, and the record already there


def test_no_resume_refuses_a_non_empty_destination(
    source_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    destination = open_store(f"tinydb://{tmp_path / 'dest.json'}")
    destination.add(make_complaint("X-1"))
    with pytest.raises(MigrationError, match=r"already holds 1 complaints"):
        copy_store(open_store(source_url), destination, resume=False)
    assert destination.count() == 1


def test_the_same_store_on_both_sides_is_refused(
    source_url: str, open_store: Callable[..., Store]
) -> None:
    with pytest.raises(ConfigError, match="the same store"):
        migrate(open_store(source_url), open_store(source_url))


def test_verify_only_names_the_differing_references_and_exits_1(
    source_url: str, tmp_path: Path
) -> None:
    dest_url = f"tinydb://{tmp_path / 'dest.json'}"
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate", source_url, dest_url]).exit_code == 0

    host = _host(dest_url)
    store = host.open_store()
    try:
        received = ComplaintFilter(statuses=frozenset({Status.RECEIVED}))
        changed = next(store.find(received, offset=123, limit=1)).reference
        Desk(host, store, actor="intruder").transition(changed, "acknowledge")
        store.add(make_complaint("EXTRA-1"))
    finally:
        store.close()

    result = runner.invoke(cli, ["migrate", "--verify-only", source_url, dest_url])
    assert result.exit_code == 1
    assert "Error: verification failed" in result.output
    assert f"{changed} (different)" in result.output
    assert "EXTRA-1 (only in destination)" in result.output
    assert "1 differs, 1 only in the destination" in result.output
    # --verify-only copied nothing: the extra complaint is still only at the destination.
    result = runner.invoke(cli, ["migrate", "--verify-only", source_url, dest_url])
    assert result.exit_code == 1 and "EXTRA-1 (only in destination)" in result.output


def test_a_missing_source_is_refused_by_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["migrate", f"tinydb://{tmp_path / 'typo.json'}", f"tinydb://{tmp_path / 'd.json'}"]
    )
    assert result.exit_code == 1
    assert f"the source tinydb://{tmp_path / 'typo.json'} does not exist" in result.output
    assert not (tmp_path / "typo.json").exists() and not (tmp_path / "d.json").exists()


def test_an_empty_source_is_refused_by_the_cli(tmp_path: Path) -> None:
    source = f"tinydb://{tmp_path / 'empty.json'}"
    assert CliRunner().invoke(cli, ["--store", source, "init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["migrate", source, f"tinydb://{tmp_path / 'd.json'}"])
    assert result.exit_code == 1
    assert "holds no complaints: nothing to migrate" in result.output
    assert not (tmp_path / "d.json").exists()


def test_migrate_creates_its_destination_by_a_relative_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_store: Callable[..., Store]
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store(f"tinydb://{tmp_path / 'a.json'}").add(make_complaint("R-1"))
    result = CliRunner().invoke(cli, ["migrate", "tinydb://a.json", "sqlite://out/b.db"])
    assert result.exit_code == 0, result.output
    # both ends named by their absolute paths, the SQLite one like the TinyDB one
    assert f"copied 1 complaints to sqlite://{tmp_path / 'out' / 'b.db'}" in result.output
    assert (tmp_path / "out" / "b.db").is_file()


def test_verification_failure_carries_the_details(
    tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    a, b = (
        open_store(f"tinydb://{tmp_path / 'a.json'}"),
        open_store(f"tinydb://{tmp_path / 'b.json'}"),
    )
    a.add_many([make_complaint("V-1"), make_complaint("V-2")])
    b.add(make_complaint("V-3"))
    with pytest.raises(VerificationFailed) as info:
        migrate(a, b)  # V-1 and V-2 are copied; V-3 was only ever at the destination
    found = info.value.verification
    assert (found.source_count, found.destination_count) == (2, 3)
    assert (found.only_in_source, found.only_in_destination, found.different) == (0, 1, 0)


# --- across backends --------------------------------------------------------------------------


def _require_backend(scheme: str) -> None:
    if scheme not in _host("tinydb://unused.json").storage_backends():
        message = f"no storage backend serves {scheme}:// (the SQL plugin is not installed)"
        if os.environ.get("COMPLAINTKIT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


def test_tinydb_to_postgresql_and_back_verifies_equal(
    source_url: str, postgres_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    _require_backend("postgresql")
    source = open_store(source_url)
    middle = open_store(postgres_url)
    there = migrate(source, middle, batch_size=1000)
    assert there.verification.ok
    back = open_store(f"tinydb://{tmp_path / 'back.json'}")
    home = migrate(middle, back, batch_size=1000)
    assert home.verification.ok
    assert home.verification.destination_checksum == there.verification.source_checksum
    assert _all(back) == _all(source)


def test_tinydb_to_sqlite_and_back_verifies_equal(
    source_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    _require_backend("sqlite")
    source = open_store(source_url)
    middle = open_store(f"sqlite:///{tmp_path / 'middle.db'}")
    assert migrate(source, middle, batch_size=1000).verification.ok
    back = open_store(f"tinydb://{tmp_path / 'back.json'}")
    assert migrate(middle, back, batch_size=1000).verification.ok
    assert _all(back) == _all(source)


MARIADB_ADMIN = "mysql://root@127.0.0.1:3306/test"


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh MariaDB database for this test, dropped afterwards."""
    require_service(MARIADB_ADMIN)
    _require_backend("mysql")
    pymysql = pytest.importorskip("pymysql")
    name = f"ck_migrate_{uuid.uuid4().hex[:12]}"

    def admin(statement: str) -> None:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement)
        finally:
            conn.close()

    admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        admin(f"DROP DATABASE IF EXISTS `{name}`")


def test_tinydb_to_mariadb_and_back_verifies_equal(
    source_url: str, mariadb_url: str, tmp_path: Path, open_store: Callable[..., Store]
) -> None:
    source = open_store(source_url)
    middle = open_store(mariadb_url)
    assert migrate(source, middle, batch_size=1000).verification.ok
    back = open_store(f"tinydb://{tmp_path / 'back.json'}")
    assert migrate(middle, back, batch_size=1000).verification.ok
    assert _all(back) == _all(source)
