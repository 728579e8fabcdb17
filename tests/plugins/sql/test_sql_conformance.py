"""The storage conformance suite on SQLite (a file), PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintkit.config import Config
from complaintkit.facts import FactsStore
from complaintkit.host import make_host
from complaintkit.storage import Store
from complaintkit.testing.conformance import StoreConformance, StoreFactory, rich_complaint

from .conftest import backend_url


class _SQLConformance(StoreConformance):
    backend = ""

    @pytest.fixture
    def store_factory(self, request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
        url = backend_url(request, self.backend, tmp_path)
        # Opened by URL through the plugin host, as the CLI does.
        host = make_host(Config(store=url), env={})
        return host.open_store

    def test_reads_facts_without_building_complaints(self, store: Store) -> None:
        # The shipped backends push facts down (FactsStore); the suite checks they agree.
        assert isinstance(store, FactsStore)

    def test_the_suite_reads_through_the_light_path(self, store: Store) -> None:
        # Opened by URL, a created store answers get, find_sorted and count through the
        # driver alone (complaintkit_sql.light), so the whole suite checks that path too.
        from complaintkit_sql.light import LightSQLStore

        store.add(rich_complaint())
        assert store.get("CK-RICH-1").reference == "CK-RICH-1"
        assert isinstance(store, LightSQLStore) and store._reader is not None


class TestSQLite(_SQLConformance):
    backend = "sqlite"


class TestPostgreSQL(_SQLConformance):
    backend = "postgresql"


class TestMariaDB(_SQLConformance):
    backend = "mysql"
