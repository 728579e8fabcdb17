"""The TinyDB store's plugin data (a table in the same JSON file) passes the conformance suite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.plugindata import PluginData, plugin_data_of
from complaintkit.testing import make_complaint
from complaintkit.testing.plugindata_conformance import PluginDataConformance
from complaintkit_tinydb.store import TinyDBStore


class TestTinyDBPluginData(PluginDataConformance):
    @pytest.fixture
    def plugin_data_factory(self, tmp_path: Path) -> Iterator[object]:
        stores: list[TinyDBStore] = []

        def factory() -> PluginData:
            store = TinyDBStore(tmp_path / "complaints.json")
            stores.append(store)
            return plugin_data_of(store)

        yield factory
        for store in stores:
            store.close()


def test_plugin_data_sits_in_the_store_file_beside_the_complaints(tmp_path: Path) -> None:
    path = tmp_path / "complaints.json"
    with TinyDBStore(path) as store:
        store.add(make_complaint("CK-1"))
        plugin_data_of(store).add("api", "token:ops", {"role": "admin"})
        store.add(make_complaint("CK-2"))
        assert [c.reference for c in store.find()] == ["CK-1", "CK-2"]
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert list(raw["plugin_data"].values()) == [
        {"namespace": "api", "key": "token:ops", "value": {"role": "admin"}}
    ]
    with TinyDBStore(path) as again:
        assert len(again) == 2
        assert plugin_data_of(again).get("api", "token:ops") == {"role": "admin"}
