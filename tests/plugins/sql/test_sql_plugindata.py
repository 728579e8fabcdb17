"""The SQL store's plugin data (table ``ck_plugin_data``) passes the conformance suite on
SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.plugindata import plugin_data_of
from complaintkit.testing.plugindata_conformance import PluginDataConformance

from .conftest import store_views


class _SQLPluginDataConformance(PluginDataConformance):
    backend = ""

    @pytest.fixture
    def plugin_data_factory(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> Iterator[object]:
        yield from store_views(request, self.backend, tmp_path, plugin_data_of)


class TestSQLitePluginData(_SQLPluginDataConformance):
    backend = "sqlite"


class TestPostgreSQLPluginData(_SQLPluginDataConformance):
    backend = "postgresql"


class TestMariaDBPluginData(_SQLPluginDataConformance):
    backend = "mysql"
