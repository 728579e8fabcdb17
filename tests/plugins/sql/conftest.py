"""Databases for the SQL store's tests: a SQLite file, and throw-away databases on the local
PostgreSQL and MariaDB servers.

Each test session creates its own database on each server (``ck_test_<random>``) and drops it at
the end, so parallel runs never collide; each test starts from an empty database (the store's
tables are dropped before it). A server that cannot be reached skips its tests, unless
``COMPLAINTKIT_REQUIRE_SERVICES=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
import sqlalchemy as sa

from conftest import skip_if_quick

if TYPE_CHECKING:
    from complaintkit_sql.store import SQLStore

T = TypeVar("T")

PG_ADMIN = os.environ.get("COMPLAINTKIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN = os.environ.get("COMPLAINTKIT_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")

TABLES = (
    "ck_attachments",
    "ck_plugin_data",
    "ck_outbox",
    "ck_events",
    "ck_labels",
    "ck_complaints",
    "ck_schema",
)

#: Every backend the SQL tests run on, by the name used in test ids.
BACKENDS = ("sqlite", "postgresql", "mysql")


def _unavailable(what: str, exc: BaseException) -> None:
    skip_if_quick(what)
    message = f"{what} is not reachable ({str(exc).splitlines()[0]})"
    if os.environ.get("COMPLAINTKIT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} but COMPLAINTKIT_REQUIRE_SERVICES=1")
    pytest.skip(message)


def _admin_engine(url: str) -> sa.Engine:
    from complaintkit_sql.store import engine_url

    return sa.create_engine(engine_url(url), isolation_level="AUTOCOMMIT")


def _server_database(admin_url: str, what: str) -> Iterator[str]:
    """Create ``ck_test_<random>`` on the server, yield its store URL, drop it afterwards."""
    skip_if_quick(what)
    name = f"ck_test_{secrets.token_hex(6)}"
    try:
        engine = _admin_engine(admin_url)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:
        _unavailable(what, exc)
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The store URL of this session's PostgreSQL database."""
    yield from _server_database(PG_ADMIN, "PostgreSQL at " + PG_ADMIN)


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    """The store URL of this session's MariaDB/MySQL database."""
    yield from _server_database(MYSQL_ADMIN, "MariaDB at " + MYSQL_ADMIN)


def empty(url: str) -> str:
    """Drop the store's tables so the next store opened on ``url`` starts empty."""
    from complaintkit_sql.store import engine_url

    engine = sa.create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend in turn (one test per backend)."""
    return backend_url(request, request.param, tmp_path)


def backend_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """An empty database of ``backend`` for this test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'complaints.db'}"
    fixture = "postgres_database" if backend == "postgresql" else "mysql_database"
    return empty(request.getfixturevalue(fixture))


def store_views(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, view: Callable[[SQLStore], T]
) -> Iterator[Callable[[], T]]:
    """For a conformance suite's factory fixture (``yield from``): a factory of ``view`` of a
    fresh store on one empty database of ``backend``, a store (connection) per call since the
    suites call it in forked processes too; every store is closed after the test."""
    from complaintkit_sql.store import open_sql

    url = backend_url(request, backend, tmp_path)
    stores: list[SQLStore] = []

    def factory() -> T:
        store = open_sql(url)
        stores.append(store)
        return view(store)

    yield factory
    for store in stores:
        store.close()


UrlFactory = Callable[[str], str]
