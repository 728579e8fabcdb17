"""The SQL store's outbox passes the same outbox conformance suite as the TinyDB one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.outbox import outbox_of
from complaintkit.testing.outbox_conformance import OutboxConformance

from .conftest import store_views


class _SQLOutboxConformance(OutboxConformance):
    backend = ""

    @pytest.fixture
    def outbox_factory(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
        yield from store_views(request, self.backend, tmp_path, outbox_of)


class TestSQLiteOutbox(_SQLOutboxConformance):
    backend = "sqlite"


class TestPostgreSQLOutbox(_SQLOutboxConformance):
    backend = "postgresql"


class TestMariaDBOutbox(_SQLOutboxConformance):
    backend = "mysql"
