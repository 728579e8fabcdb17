"""The light reading path (complaintkit_sql.light): ``get``, ``find_sorted`` and ``count``
through the DBAPI driver give exactly what the SQLAlchemy store gives, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa

from complaintkit.errors import NotFoundError, StorageError
from complaintkit.model import Channel, EscalationLevel, Status
from complaintkit.serialization import complaint_to_data
from complaintkit.storage import GROUP_KEYS, ComplaintFilter, SortOrder
from complaintkit.testing.conformance import (
    SAMPLE_FILTERS,
    _sorted_json,
    history_complaints,
    rich_complaint,
    sample_complaints,
)
from complaintkit_sql.light import LightSQLStore, light_target
from complaintkit_sql.store import SQLStore, open_sql

FILTERS = [
    None,
    ComplaintFilter(statuses=frozenset({Status.RECEIVED, Status.ACKNOWLEDGED})),
    ComplaintFilter(open_only=True, channels=frozenset({Channel.WECHAT, Channel.PHONE})),
    ComplaintFilter(labels=(("severity", "high"),)),
    ComplaintFilter(unclassified="severity"),
    ComplaintFilter(department="logistics", min_escalation=EscalationLevel.FRONT_LINE),
    ComplaintFilter(
        received_from=datetime(2024, 1, 1, tzinfo=UTC),
        received_until=datetime(2030, 1, 1, tzinfo=UTC),
    ),
    ComplaintFilter(due_by=datetime(2030, 1, 1, tzinfo=UTC)),
    ComplaintFilter(references=frozenset({"CK-RICH-1", "P-1", "nobody"})),
    ComplaintFilter(complainant="C-7"),
]


@pytest.fixture
def filled(sql_url: str) -> str:
    """A database of ``sql_url`` holding the conformance suite's rich and sample complaints
    (one of them changed once, so that versions differ)."""
    with open_sql(sql_url) as store:
        store.initialize()
        store.add_many([rich_complaint(), *sample_complaints()])
        changed = store.get("CK-RICH-1")
        store.update(attrs.evolve(changed, satisfaction=None, remedies=(), due_at=None))
        store.add(rich_complaint("CK-RICH-2", due_at=None, alert_at=None))
    return sql_url


def test_reads_are_those_of_the_sqlalchemy_store(filled: str) -> None:
    with SQLStore(filled) as full, LightSQLStore(filled) as light:
        assert light._reader is not None and light._full is None  # the light path answers
        references = sorted(c.reference for c in full.find())
        for reference in references:
            got, expected = light.get(reference), full.get(reference)
            assert got == expected and got.version == expected.version
            # byte for byte as JSON, offsets and all (1 == 1.0 in Python, not in JSON)
            assert _sorted_json(complaint_to_data(got)) == _sorted_json(complaint_to_data(expected))
        for flt in FILTERS:
            assert light.count(flt) == full.count(flt), flt
            for order in ("-received_at", "received_at", "due_at", "-due_at", "status"):
                sort = SortOrder.parse(order)
                for limit, offset in ((None, 0), (3, 1)):
                    got_all = list(light.find_sorted(flt, sort, limit=limit, offset=offset))
                    wanted = list(full.find_sorted(flt, sort, limit=limit, offset=offset))
                    assert [_sorted_json(complaint_to_data(c)) for c in got_all] == [
                        _sorted_json(complaint_to_data(c)) for c in wanted
                    ], (flt, order)
        assert light._full is None  # nothing above needed SQLAlchemy's store
        assert len(references) >= 5


def test_unknown_reference_and_other_filters(filled: str) -> None:
    with LightSQLStore(filled) as light:
        with pytest.raises(NotFoundError):
            light.get("nobody")
        made_before = light._full is not None
        # a text search is SQLAlchemy's: same answer, through the full store
        flt = ComplaintFilter(text="RUDE")
        found = [c.reference for c in light.find_sorted(flt, SortOrder())]
        full = light._full
        assert not made_before and full is not None
        assert found == [c.reference for c in full.find_sorted(flt, SortOrder())]


def test_writes_go_through_sqlalchemy_and_are_read_back(filled: str) -> None:
    with LightSQLStore(filled) as light:
        before = light.get("CK-RICH-1")
        stored = light.update(attrs.evolve(before, assignee="王五"))
        assert light.get("CK-RICH-1") == stored and stored.version == before.version + 1


def test_an_empty_database_is_the_sqlalchemy_stores_until_created(sql_url: str) -> None:
    with LightSQLStore(sql_url) as light:
        assert light._reader is None and not light.exists()
        light.initialize()
        light.add(rich_complaint())
        assert light.get("CK-RICH-1").reference == "CK-RICH-1"
        assert light._reader is not None  # created: read lightly from then on


def test_an_outdated_schema_is_refused_as_by_the_sqlalchemy_store(filled: str) -> None:
    from complaintkit_sql.store import engine_url

    engine = sa.create_engine(engine_url(filled))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE ck_schema SET version = 4")
    finally:
        engine.dispose()
    with LightSQLStore(filled) as light, SQLStore(filled) as full:
        assert light._reader is None
        with pytest.raises(StorageError) as got:
            light.get("CK-RICH-1")
        with pytest.raises(StorageError) as expected:
            full.get("CK-RICH-1")
        assert str(got.value) == str(expected.value)
        assert "db upgrade" in str(got.value)


def test_lock_timeout_reaches_the_connection(filled: str) -> None:
    from complaintkit_sql.options import SQLOptions

    with LightSQLStore(filled, options=SQLOptions(lock_timeout=7)) as light:
        reader = light._reader
        assert reader is not None
        query = {
            "sqlite": "PRAGMA busy_timeout",
            "postgresql": "SHOW lock_timeout",
            "mysql": "SELECT @@innodb_lock_wait_timeout",
        }[reader.dialect]

        def shown(cursor: object) -> str:
            cursor.execute(query)  # type: ignore[attr-defined]
            return str(cursor.fetchone()[0])  # type: ignore[attr-defined]

        assert reader.read(shown) in ("7000", "7s", "7")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cr%40t@db.example.cn:5432/ck?sslmode=require&application_name=x",
        "postgres://app:pw@127.0.0.1/ck",
        "postgresql+psycopg://app@[::1]:5433/ck",
        "mysql://root:secret@127.0.0.1:3306/test",
        "mariadb+pymysql://u%20x:p@host/db?charset=utf8mb4",
    ],
)
def test_urls_are_read_and_shown_as_sqlalchemy_reads_them(url: str) -> None:
    from complaintkit_sql.store import engine_url

    target = light_target(url)
    assert target is not None
    assert target.display_url == sa.make_url(url).render_as_string(hide_password=True)
    assert "s3cr" not in target.display_url and "secret" not in target.display_url
    parsed = engine_url(url)
    assert target.connect.get("host") == parsed.host
    assert target.connect.get("port") == parsed.port
    assert target.connect.get("password") == parsed.password
    assert target.connect.get("dbname", target.connect.get("database")) == parsed.database


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://u@h/db",  # another driver
        "postgresql://u@h1,h2/db",  # several hosts
        "mysql://u@h/db?ssl_ca=/ca.pem",  # an option SQLAlchemy converts
        "sqlite://",  # no file
        "sqlite:///c.db?timeout=3",
        "postgresql://u@h:port/db",  # not a port
    ],
)
def test_urls_left_to_sqlalchemy(url: str) -> None:
    assert light_target(url) is None


def test_sqlite_paths_as_the_store_names_them(tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/c.db", f"sqlite:////{tmp_path}/c.db"):
        target = light_target(url)
        assert target is not None
        assert target.connect["database"] == str(tmp_path / "c.db")


def test_a_server_that_does_not_answer_is_a_storage_error_without_the_password() -> None:
    url = "postgresql://app:topsecret@127.0.0.1:1/ck"
    with pytest.raises(StorageError) as light:
        LightSQLStore(url)
    with pytest.raises(StorageError) as full:
        SQLStore(url)
    assert str(light.value) == str(full.value)
    assert str(light.value).startswith("postgresql://app:***@127.0.0.1:1/ck: ")
    assert "topsecret" not in str(light.value)


def test_a_closed_store_says_so(filled: str) -> None:
    light = LightSQLStore(filled)
    light.close()
    with pytest.raises(StorageError, match="closed"):
        light.get("CK-RICH-1")


def test_instants_keep_their_offsets(filled: str) -> None:
    with LightSQLStore(filled) as light:
        got = light.get("CK-RICH-1")
        assert got.received_at.utcoffset() == timedelta(hours=8)
        assert [e.at.utcoffset() for e in got.history][:2] == [timedelta(hours=8)] * 2


def test_attachments_are_listed_as_the_sqlalchemy_store_lists_them(filled: str) -> None:
    import hashlib

    from complaintkit.attachments import Attachment

    with SQLStore(filled) as full:
        for name, minutes in (("b.txt", 0), ("a.pdf", 0), ("c.png", 5)):
            content = name.encode() * 3
            full.attachments().put(
                Attachment(
                    "CK-RICH-1",
                    name,
                    len(content),
                    hashlib.sha256(content).hexdigest(),
                    "text/plain",
                    datetime(2025, 3, 1, 9, minutes, tzinfo=timezone(timedelta(hours=8))),
                    "张三",
                ),
                content,
            )
        expected = full.attachments().list("CK-RICH-1")
    with LightSQLStore(filled) as light:
        got = light.attachments().list("CK-RICH-1")
        assert light._full is None
        assert got == expected and [a.name for a in got] == ["a.pdf", "b.txt", "c.png"]
        assert got[0].added_at.utcoffset() == timedelta(hours=8)
        assert light.attachments().list("CK-RICH-2") == []


def test_a_lost_connection_is_made_again(filled: str) -> None:
    from complaintkit_sql.store import engine_url

    with LightSQLStore(filled) as light:
        reader = light._reader
        assert reader is not None
        if reader.dialect == "sqlite":
            pytest.skip("a SQLite file has no server to lose")
        assert light.get("CK-RICH-1").reference == "CK-RICH-1"
        pid = reader.conn.info.backend_pid if reader.dialect == "postgresql" else None
        engine = sa.create_engine(engine_url(filled), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if pid is not None:
                    conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                else:
                    conn.exec_driver_sql(f"KILL {reader.conn.thread_id()}")
        finally:
            engine.dispose()
        # the server closed the connection; the next read connects again, as the
        # SQLAlchemy path's pool_pre_ping does
        assert light.get("CK-RICH-1").reference == "CK-RICH-1"
        assert light._full is None


def test_threads_share_a_store(filled: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    light = LightSQLStore(filled)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: light.get("CK-RICH-1").version, range(40)))
        assert got == [got[0]] * 40
        pool.submit(light.close).result()  # closed from another thread than it was opened on
    with pytest.raises(StorageError, match="closed"):
        light.count()


@pytest.mark.parametrize("server", ["postgres_database", "mysql_database"])
def test_a_database_that_does_not_exist_says_to_create_it(
    server: str, request: pytest.FixtureRequest
) -> None:
    """Was MariaDB's raw `(1049, "Unknown database 'ck_missing_db'")`."""
    url = str(request.getfixturevalue(server)).rsplit("/", 1)[0] + "/ck_missing_db"
    with pytest.raises(StorageError) as light:
        LightSQLStore(url)
    with pytest.raises(StorageError) as full:
        SQLStore(url)
    for error in (light.value, full.value):
        assert "ck_missing_db" in str(error) and "does not exist: create it first" in str(error)
    assert ("createdb ck_missing_db" in str(full.value)) == url.startswith("postgresql")


def _report_fields() -> list[tuple[str, ...]]:
    """What the reports read (the plans kept as text), each label for several schemes."""
    from .generate_facts_texts import report_fields

    found = []
    for fields in report_fields():
        found.append(fields)
        if "label:scheme" in fields:
            for scheme in ("severity", "cause", "nonesuch"):
                found.append(tuple(f"label:{scheme}" if f == "label:scheme" else f for f in fields))
    return found


@pytest.fixture
def historied(sql_url: str) -> str:
    """A database of ``sql_url`` holding the conformance suite's complaints with rich
    histories (breaches, pauses, reopenings, imports), the samples and a rich complaint."""
    with open_sql(sql_url) as store:
        store.initialize()
        store.add_many([*sample_complaints(), *history_complaints(), rich_complaint()])
    return sql_url


@pytest.mark.parametrize("name", ["everything", "empty", *sorted(SAMPLE_FILTERS)])
def test_facts_and_counts_are_those_of_the_sqlalchemy_store(historied: str, name: str) -> None:
    filters = {"everything": None, "empty": ComplaintFilter(), **SAMPLE_FILTERS}
    flt = filters[name]
    with SQLStore(historied) as full, LightSQLStore(historied) as light:
        reader = light._reader
        assert reader is not None
        # on SQLite the light path runs every report's statement itself (others: SQLAlchemy)
        answers = reader.dialect == "sqlite" and reader.where(flt) is not None
        for fields in _report_fields():
            assert (reader.fact_statement(flt, fields) is not None) == answers, fields
            got = list(light.fact_columns(flt, fields))
            assert got == list(full.fact_columns(flt, fields)), fields
        facts = list(light.facts(flt))
        assert facts == list(full.facts(flt))
        if name == "everything":
            assert len(facts) >= 15 and any(f.pauses for f in facts)
            assert any(f.breached for f in facts) and any(f.untimed for f in facts)
        for key in (*GROUP_KEYS, "label:severity", "label:cause", "label:nonesuch"):
            assert light.count_by(key, flt) == full.count_by(key, flt), key
        assert (light._full is None) == answers  # nothing above needed SQLAlchemy's store
        with pytest.raises(ValueError, match="colour"):
            light.count_by("colour", flt)
        with pytest.raises(ValueError, match="colour"):
            light.fact_columns(flt, ("colour",))


def test_a_plan_not_kept_as_text_is_built_by_sqlalchemy(historied: str) -> None:
    fields = ("escalations", "channel")  # no report reads these alone
    with SQLStore(historied) as full, LightSQLStore(historied) as light:
        assert light._reader is not None and light._reader.fact_statement(None, fields) is None
        assert list(light.fact_columns(None, fields)) == list(full.fact_columns(None, fields))


def test_facts_are_read_page_by_page_while_the_store_reads_on(historied: str) -> None:
    # The facts stream on a connection of their own: a read made meanwhile is not blocked.
    with LightSQLStore(historied) as light:
        facts = light.fact_columns(None, ("received_at",))
        first = next(facts)
        assert light.count() == 1 + len(list(facts))
        assert isinstance(first[0], datetime)
        assert light._reader is not None
        assert (light._full is None) == (light._reader.dialect == "sqlite")
