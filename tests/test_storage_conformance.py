"""The storage conformance suite, run against every storage backend shipped with complaintkit."""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintkit.config import Config
from complaintkit.facts import FactsStore
from complaintkit.host import make_host
from complaintkit.storage import Store
from complaintkit.testing.conformance import StoreConformance, StoreFactory


class TestTinyDB(StoreConformance):
    """The embedded default store, opened by URL through the plugin host like the CLI does."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> StoreFactory:
        host = make_host(Config(store=f"tinydb://{tmp_path / 'complaints.json'}"), env={})
        return host.open_store

    def test_reads_facts_without_building_complaints(self, store: Store) -> None:
        # The shipped backends push facts down (FactsStore); the suite checks they agree.
        assert isinstance(store, FactsStore)
