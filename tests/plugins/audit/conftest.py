"""Stores for the audit tests: a TinyDB file, a SQLite file, and a throw-away database on the
local PostgreSQL and MariaDB servers (skipped when a server is not there, unless
``COMPLAINTKIT_REQUIRE_SERVICES=1``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import require_service

SERVERS = {
    "postgresql": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}


def _server_database(admin_url: str) -> Iterator[str]:
    """A new database ``ck_audit_<random>`` on the server; its store URL; dropped after."""
    from complaintkit_sql.store import engine_url

    require_service(admin_url)
    name = f"ck_audit_{secrets.token_hex(6)}"
    engine = sa.create_engine(engine_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            force = " WITH (FORCE)" if engine.dialect.name == "postgresql" else ""
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def sql_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty SQL store on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'complaints.db'}"
    else:
        yield from _server_database(SERVERS[request.param])


@pytest.fixture(params=["tinydb", "sqlite", "postgresql", "mysql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store on every backend in turn."""
    if request.param == "tinydb":
        yield f"tinydb://{tmp_path / 'complaints.json'}"
    elif request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'complaints.db'}"
    else:
        yield from _server_database(SERVERS[request.param])
