"""Stores for the erasure and retention tests: a TinyDB file, a SQLite file, and a throw-away
database on the local PostgreSQL server (skipped without one, unless
``COMPLAINTKIT_REQUIRE_SERVICES=1``); and the clock their desks run on."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import require_service

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


class Clock:
    """A desk's clock: one minute later at each reading, the first a minute after ``start``;
    a test may set ``now`` to move it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


#: The backends every erasure and retention test runs on.
BACKENDS = ("tinydb", "sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store of each backend in turn (one test per backend)."""
    if request.param == "tinydb":
        yield f"tinydb://{tmp_path / 'complaints.json'}"
        return
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'complaints.db'}"
        return
    require_service(POSTGRES_ADMIN)
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    name = f"ck_privacy_{secrets.token_hex(6)}"
    admin = sa.create_engine(
        POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
