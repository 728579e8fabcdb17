"""The SQL store's outbox passes the same outbox conformance suite as the TinyDB one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.outbox import Outbox, outbox_of
from complaintkit.testing.outbox_conformance import OutboxConformance
from complaintkit_sql.store import SQLStore, open_sql

from .conftest import backend_url


class _SQLOutboxConformance(OutboxConformance):
    backend = ""

    @pytest.fixture
    def outbox_factory(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
        url = backend_url(request, self.backend, tmp_path)
        stores: list[SQLStore] = []

        def factory() -> Outbox:
            # A fresh store (connection) per call: the suite calls it in forked processes too.
            store = open_sql(url)
            stores.append(store)
            return outbox_of(store)

        yield factory
        for store in stores:
            store.close()


class TestSQLiteOutbox(_SQLOutboxConformance):
    backend = "sqlite"


class TestPostgreSQLOutbox(_SQLOutboxConformance):
    backend = "postgresql"


class TestMariaDBOutbox(_SQLOutboxConformance):
    backend = "mysql"
