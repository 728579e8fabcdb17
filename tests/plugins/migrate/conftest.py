"""Databases for the migration tests: a throw-away database on the local PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from conftest import require_service

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    require_service(POSTGRES_ADMIN)
    psycopg = pytest.importorskip("psycopg")
    name = f"ck_migrate_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
