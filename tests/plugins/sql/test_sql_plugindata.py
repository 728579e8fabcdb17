"""The SQL store's plugin data (table ``ck_plugin_data``) passes the conformance suite on
SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.plugindata import PluginData, plugin_data_of
from complaintkit.testing.plugindata_conformance import PluginDataConformance
from complaintkit_sql.store import SQLStore, open_sql

from .conftest import backend_url


class _SQLPluginDataConformance(PluginDataConformance):
    backend = ""

    @pytest.fixture
    def plugin_data_factory(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> Iterator[object]:
        url = backend_url(request, self.backend, tmp_path)
        stores: list[SQLStore] = []

        def factory() -> PluginData:
            store = open_sql(url)
            stores.append(store)
            return plugin_data_of(store)

        yield factory
        for store in stores:
            store.close()


class TestSQLitePluginData(_SQLPluginDataConformance):
    backend = "sqlite"


class TestPostgreSQLPluginData(_SQLPluginDataConformance):
    backend = "postgresql"


class TestMariaDBPluginData(_SQLPluginDataConformance):
    backend = "mysql"
