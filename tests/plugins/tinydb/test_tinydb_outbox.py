"""The TinyDB store's SQLite outbox passes the outbox conformance suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from complaintkit.outbox import Outbox, outbox_of
from complaintkit.testing.outbox_conformance import OutboxConformance, sample_message
from complaintkit_tinydb.store import TinyDBStore


class TestTinyDBOutbox(OutboxConformance):
    @pytest.fixture
    def outbox_factory(self, tmp_path: Path) -> Iterator[object]:
        stores: list[TinyDBStore] = []

        def factory() -> Outbox:
            store = TinyDBStore(tmp_path / "complaints.json")
            stores.append(store)
            return store.outbox()

        yield factory
        for store in stores:
            store.close()


def test_outbox_file_sits_beside_the_store_and_one_connection_is_kept(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "complaints.json")
    outbox = outbox_of(store)
    assert outbox is store.outbox()
    outbox.enqueue([sample_message()])
    assert (tmp_path / "complaints.outbox.sqlite").exists()
    assert not (tmp_path / "complaints.json").exists()  # queuing never rewrites the store
    store.close()
    with TinyDBStore(tmp_path / "complaints.json") as again:
        assert again.outbox().get(sample_message().key) == sample_message()
