"""The SQL store's schema: versions, `complaintkit db`, URLs, and what it refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from complaintkit.audit import first_break, seal
from complaintkit.errors import ConfigError, StorageError, ValidationError
from complaintkit.outbox import MessageStatus
from complaintkit.storage import ComplaintFilter
from complaintkit.testing import make_complaint
from complaintkit.testing.conformance import rich_complaint
from complaintkit_cli.main import cli
from complaintkit_sql.schema import SCHEMA_VERSION, STEPS, Tables, make_tables
from complaintkit_sql.store import SQLStore, _json_dumps, _rows, engine_url, open_sql


def make_version_1(url: str) -> None:
    """A database as complaintkit with schema version 1 left it, holding one complaint."""
    # the store's JSON serializer: _rows hands over JSON columns already encoded
    engine = sa.create_engine(engine_url(url), json_serializer=_json_dumps)
    tables = make_tables()
    row, labels, events = _rows(rich_complaint(), 3)
    try:
        with engine.begin() as conn:
            STEPS[1](conn, tables)
            # Step 1 creates ck_events from the latest metadata; version 1 had no digest.
            conn.execute(sa.text("ALTER TABLE ck_events DROP COLUMN digest"))
            conn.execute(sa.insert(tables.schema).values(id=1, version=1))
            conn.execute(sa.insert(tables.complaints), [row])
            conn.execute(sa.insert(tables.labels), labels)
            conn.execute(sa.insert(events_v1), [without_digest(e) for e in events])
    finally:
        engine.dispose()


#: ck_events as schema versions 1 to 4 had it: no digest column.
events_v1 = sa.table(
    "ck_events",
    *(sa.column(name) for name in ("reference", "seq", "at_utc", "at_offset", "actor", "action")),
    sa.column("reason"),
    sa.column("data", sa.JSON),
)


def without_digest(event_row: dict[str, object]) -> dict[str, object]:
    """An event row as schema version 1 wrote it."""
    assert event_row["digest"] is None  # rich_complaint() was never sealed
    return {key: value for key, value in event_row.items() if key != "digest"}


def db(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--store", url, "db", *args])
    return result.exit_code, result.output


def test_an_old_schema_asks_for_db_upgrade_then_works(sql_url: str) -> None:
    make_version_1(sql_url)
    with open_sql(sql_url) as store:
        with pytest.raises(StorageError, match=r"schema version 1; .*needs version 5.*db upgrade"):
            store.count()
        with pytest.raises(StorageError, match="db upgrade"):
            store.add(make_complaint("X-1"))
    code, out = db(sql_url, "status")
    assert code == 0, out
    assert "schema version: 1 (this complaintkit needs 5)" in out
    assert "outdated" in out and "pending upgrade steps: 2, 3, 4, 5" in out
    code, out = db(sql_url, "upgrade")
    assert (code, out.strip()) == (0, "upgraded schema from version 1 to 5 (steps 2, 3, 4, 5)")
    code, out = db(sql_url, "upgrade")
    assert "already current (version 5)" in out
    code, out = db(sql_url, "status")
    assert "state: current" in out and "pending upgrade steps: -" in out
    with open_sql(sql_url) as store:
        assert store.get("CK-RICH-1") == rich_complaint(version=3)  # data kept
        assert store.outbox().counts()[MessageStatus.PENDING] == 0  # the new tables are there
        assert store.attachments().list("CK-RICH-1") == []


def test_upgrading_to_version_5_adds_the_event_digest_and_keeps_every_event(
    sql_url: str,
) -> None:
    make_version_1(sql_url)
    with open_sql(sql_url) as store:
        assert store.upgrade_schema(target=4) == [2, 3, 4]
        assert store.schema_status().current == 4
        assert store.upgrade_schema() == [5]
        old = store.get("CK-RICH-1")
        assert old == rich_complaint(version=3)  # every event kept, no digest yet
        assert old.history and all(e.digest is None for e in old.history)
        # The column is there: a sealed history is written and read back whole.
        sealed = store.update(attrs.evolve(old, history=seal(old.reference, old.history)))
        assert [e.digest for e in store.get("CK-RICH-1").history] == [
            e.digest for e in sealed.history
        ]
        assert first_break(sealed.reference, store.get("CK-RICH-1").history) is None


def test_the_digest_step_runs_again_safely_after_its_column_was_added(sql_url: str) -> None:
    # MariaDB commits ALTER TABLE before the version bump: a step cut off between the two
    # must find its column there and only bump the version when run again.
    make_version_1(sql_url)
    with open_sql(sql_url) as store:
        store.upgrade_schema(target=4)
    engine = sa.create_engine(engine_url(sql_url))
    try:
        with engine.begin() as conn:
            STEPS[5](conn, make_tables())
    finally:
        engine.dispose()
    with open_sql(sql_url) as store:
        assert store.upgrade_schema() == [5]
        assert store.get("CK-RICH-1") == rich_complaint(version=3)


def create_in_background(url: str) -> tuple[threading.Thread, list[BaseException]]:
    """Create the schema of ``url`` in a thread; the list collects what it raised."""
    failures: list[BaseException] = []

    def create() -> None:
        try:
            with open_sql(url) as store:
                store.initialize()
        except BaseException as exc:  # reported by the caller's assertion
            failures.append(exc)

    creator = threading.Thread(target=create)
    creator.start()
    return creator, failures


def test_a_store_used_while_another_creates_the_schema_waits_for_it(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI once caught three importers racing on an empty database: one found another's
    # version 1 between two upgrade steps and refused it as outdated.
    last_step = STEPS[SCHEMA_VERSION]
    in_last_step = threading.Event()

    def slow_last_step(conn: sa.Connection, tables: object) -> None:
        in_last_step.set()
        time.sleep(1.0)
        last_step(conn, tables)  # type: ignore[arg-type]

    monkeypatch.setitem(STEPS, SCHEMA_VERSION, slow_last_step)
    creator, failures = create_in_background(sql_url)
    assert in_last_step.wait(30)
    with open_sql(sql_url) as store:
        store.add(make_complaint("R-1"))
        assert store.schema_status().state == "current"
        assert store.count() == 1
    creator.join(60)
    assert not failures


def test_a_store_opened_between_two_tables_of_the_first_step_waits(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MariaDB commits each CREATE TABLE by itself, so another process can see ck_complaints
    # before ck_schema exists; CI once caught an importer refusing that as a damaged database.
    # The first step here makes the same state visible on every server.
    if sql_url.startswith("sqlite"):
        pytest.skip("SQLite creates the whole schema in one transaction under its write lock")
    first_step = STEPS[1]
    half_made = threading.Event()

    def first_step_table_by_table(conn: sa.Connection, tables: Tables) -> None:
        side = sa.create_engine(engine_url(sql_url))
        with side.begin() as other:
            tables.complaints.create(other)  # the store's own (its MariaDB collation)
        side.dispose()
        half_made.set()
        time.sleep(1.0)
        first_step(conn, tables)

    monkeypatch.setitem(STEPS, 1, first_step_table_by_table)
    creator, failures = create_in_background(sql_url)
    assert half_made.wait(30)
    with open_sql(sql_url) as store:
        store.add(make_complaint("H-1"))
        assert store.count() == 1
    creator.join(60)
    assert not failures


def test_tables_without_ck_schema_are_refused_as_damaged(sql_url: str) -> None:
    engine = sa.create_engine(engine_url(sql_url))
    with engine.begin() as conn:
        make_tables().complaints.create(conn)
    engine.dispose()
    with pytest.raises(StorageError, match="no ck_schema table") as raised:
        open_sql(sql_url)
    assert "Nothing was changed" in str(raised.value)


def test_a_newer_schema_is_refused(sql_url: str) -> None:
    with open_sql(sql_url) as store:
        store.add(make_complaint("N-1"))
    engine = sa.create_engine(engine_url(sql_url))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE ck_schema SET version = :v"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with open_sql(sql_url) as store, pytest.raises(StorageError, match="upgrade complaintkit"):
        store.get("N-1")
    code, out = db(sql_url, "upgrade")
    assert code != 0 and "newer than this complaintkit" in out


def test_db_status_in_chinese_and_on_tinydb(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'zh.db'}"
    CliRunner().invoke(cli, ["--store", url, "init"])
    result = CliRunner().invoke(cli, ["--store", url, "--lang", "zh", "db", "status"])
    assert result.exit_code == 0 and "状态: 最新" in result.output
    code, out = db(f"tinydb://{tmp_path / 'x.json'}", "status")
    assert code == 2 and "no versioned database schema" in out


def test_db_status_reads_and_never_creates_tables(sql_url: str) -> None:
    code, out = db(sql_url, "status")
    assert code == 0, out
    assert "schema version: 0 (this complaintkit needs 5)" in out
    assert "state: empty: no complaintkit tables yet (create them with: complaintkit" in out
    engine = sa.create_engine(engine_url(sql_url))
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_db_status_of_a_missing_sqlite_file_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "c.db"
    code, out = db(f"sqlite://{path}", "status")
    assert code == 0, out
    assert f"store: sqlite://{path}\n" in out and "state: empty" in out
    assert not (tmp_path / "typo").exists()


def test_db_upgrade_of_an_empty_database_asks_for_init(sql_url: str) -> None:
    code, out = db(sql_url, "upgrade")
    assert code == 2, out
    assert "does not exist; create it with: complaintkit --store" in out and " init" in out
    with open_sql(sql_url) as store:
        assert not store.exists()


def test_the_schema_has_real_columns_and_indexes(sql_url: str) -> None:
    with open_sql(sql_url) as store:
        store.add(rich_complaint())
        inspector = sa.inspect(store.engine)
        columns = {c["name"] for c in inspector.get_columns("ck_complaints")}
        assert {"status", "department", "received_utc", "received_offset", "due_utc"} <= columns
        indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("ck_labels")}
        assert ("scheme", "label") in indexed
        with store.engine.connect() as conn:
            events = conn.execute(sa.text("SELECT count(*) FROM ck_events")).scalar()
            labels = conn.execute(sa.text("SELECT label FROM ck_labels WHERE scheme='cause'"))
            assert (events, labels.scalar()) == (3, "logistics")


def test_equality_and_grouping_are_exact(sql_url: str) -> None:
    """Case and trailing spaces matter, as in Python (MariaDB collations ignore both)."""
    with open_sql(sql_url) as store:
        store.add_many(
            [
                make_complaint("E-1", department="Logistics"),
                make_complaint("E-2", department="logistics"),
                make_complaint("E-3", department="logistics "),
                make_complaint("E-4", text="Größe falsch, ÄRGER", title="50% off_"),
                make_complaint("e-1"),
            ]
        )
        assert store.count(ComplaintFilter(department="logistics")) == 1
        assert store.count_by("department") == {
            "Logistics": 1,
            "logistics": 1,
            "logistics ": 1,
            None: 2,
        }
        assert store.existing(["E-1", "e-1", "E-9"]) == {"E-1", "e-1"}
        # Case-insensitive search beyond ASCII; LIKE wildcards are plain characters.
        assert [c.reference for c in store.find(ComplaintFilter(text="ärger"))] == ["E-4"]
        assert store.count(ComplaintFilter(text="0% OFF_")) == 1
        assert store.count(ComplaintFilter(text="5_%")) == 0


def test_unstorable_values_are_refused_naming_the_field(sql_url: str) -> None:
    with open_sql(sql_url) as store:
        with pytest.raises(ValidationError, match="field department: longer than 255"):
            store.add(make_complaint("L-1", department="x" * 300))
        with pytest.raises(ValidationError, match="cannot be stored as JSON"):
            store.add(make_complaint("L-2", custom={"when": object()}))
        assert store.count() == 0


def test_a_sqlite_store_in_a_new_folder(tmp_path: Path) -> None:
    with open_sql(f"sqlite:///{tmp_path / 'new' / 'folder' / 'c.db'}") as store:
        store.add(make_complaint("F-1"))
    assert (tmp_path / "new" / "folder" / "c.db").is_file()


def test_urls_pick_default_drivers() -> None:
    assert engine_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert engine_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    mysql = engine_url("mysql://root@h/db")
    assert (mysql.drivername, mysql.query["charset"]) == ("mysql+pymysql", "utf8mb4")
    assert engine_url("mariadb://root@h/db").drivername == "mariadb+pymysql"
    # complaintkit's convention for file stores, not SQLAlchemy's (see docs/storage.md)
    assert engine_url("sqlite://rel/c.db").database == str(Path.cwd() / "rel" / "c.db")
    assert engine_url("sqlite:///var/lib/c.db").database == "/var/lib/c.db"
    assert engine_url("sqlite:////var/lib/c.db").database == "/var/lib/c.db"
    assert engine_url("sqlite:///var/lib/c.db?timeout=5").query == {"timeout": "5"}
    with pytest.raises(ConfigError, match="in-memory"):
        engine_url("sqlite://")
    with pytest.raises(ConfigError, match="in-memory"):
        engine_url("sqlite:///:memory:")


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match=r"postgresql://ck:\*\*\*@127.0.0.1:1/nodb"):
        open_sql("postgresql://ck:secret@127.0.0.1:1/nodb")


@pytest.mark.parametrize(
    ("missing", "url", "extra"),
    [
        ("sqlalchemy", "postgresql://u@h/db", "postgres"),
        ("sqlalchemy", "sqlite://c.db", "sql"),
        ("psycopg", "postgresql://u@h/db", "postgres"),
        ("pymysql", "mariadb://u@h/db", "mysql"),
    ],
)
def test_a_missing_library_names_the_extra(
    tmp_path: Path, missing: str, url: str, extra: str
) -> None:
    script = (
        f"import sys; sys.modules[{missing!r}] = None\n"
        "from complaintkit_cli.main import main\n"
        f"sys.argv = ['complaintkit', '--store', {url!r}, 'list']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert f"pip install 'complaintkit[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


ONE_POSTGRES_TEST = "test_enqueue_is_idempotent_and_round_trips[postgresql]"


@pytest.mark.parametrize(("required", "outcome"), [("0", "1 skipped"), ("1", "1 failed")])
@pytest.mark.heavy
def test_an_unreachable_server_skips_or_fails_when_required(required: str, outcome: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "COMPLAINTKIT_QUICK"},
        "COMPLAINTKIT_TEST_POSTGRES": "postgresql://postgres@127.0.0.1:1/test",
        "COMPLAINTKIT_REQUIRE_SERVICES": required,
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__).parent / 'test_sql_outbox.py'}::{ONE_POSTGRES_TEST}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert outcome in done.stdout, done.stdout


def test_concurrent_upgrades_run_each_step_once(sql_url: str) -> None:
    make_version_1(sql_url)
    stores = [open_sql(sql_url) for _ in range(3)]
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def upgrade(store: SQLStore) -> None:
        try:
            barrier.wait()
            results.append(store.upgrade_schema())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.close()
    assert not errors, errors
    assert sorted(results) == [[], [], list(range(2, SCHEMA_VERSION + 1))]
    with open_sql(sql_url) as store:
        assert store.schema_status().state == "current"
        assert store.get("CK-RICH-1").version == 3


def test_a_filter_on_very_many_references(sql_url: str) -> None:
    """More references than a statement may have parameters (what migrate verifies by)."""
    with open_sql(sql_url) as store:
        store.add_many(make_complaint(f"M-{i:05d}") for i in range(0, 70_000, 7_000))
        wanted = frozenset(f"M-{i:05d}" for i in range(70_000))
        flt = ComplaintFilter(references=wanted, text="late")
        expected = [f"M-{i:05d}" for i in range(0, 70_000, 7_000)]
        assert [c.reference for c in store.find(flt)] == expected
        assert store.count(flt) == 10
        assert store.count_by("status", flt) == {"received": 10}
        assert store.existing(wanted) == set(expected)


def test_only_init_makes_a_store_of_an_empty_database(sql_url: str) -> None:
    refused = CliRunner().invoke(cli, ["--store", sql_url, "list"])
    assert refused.exit_code == 2
    assert "does not exist; create it with: complaintkit --store" in refused.output
    with open_sql(sql_url) as store:
        assert not store.exists()
    made = CliRunner().invoke(cli, ["--store", sql_url, "init"])
    assert made.exit_code == 0 and "(0 complaints, created now)" in made.output
    with open_sql(sql_url) as store:
        assert store.exists() and store.schema_status().state == "current"
    listed = CliRunner().invoke(cli, ["--store", sql_url, "list"])
    assert listed.exit_code == 0 and listed.output == "0 of 0 complaints\n"


def test_ctrl_c_during_a_database_call_stays_ctrl_c(sql_url: str) -> None:
    # CI once saw `migrate` to PostgreSQL exit 1 with "can't change 'autocommit' now" after a
    # Ctrl-C: the interrupted driver failed the rollback, and that error hid the Ctrl-C.
    def busy() -> sa.exc.OperationalError:
        return sa.exc.OperationalError("ROLLBACK", {}, Exception("can't change 'autocommit' now"))

    with open_sql(sql_url) as store:
        store.add(make_complaint("C-1"))
        with pytest.raises(KeyboardInterrupt), store._writing():
            try:
                raise KeyboardInterrupt
            finally:
                raise busy()  # the failure on the way out, with the Ctrl-C as its context
        with pytest.raises(StorageError, match="can't change 'autocommit' now"), store._writing():
            raise busy()  # without a Ctrl-C, a database error is a storage error
        assert store.count() == 1
