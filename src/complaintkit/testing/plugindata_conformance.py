"""The plugin data conformance suite: what every :class:`~complaintkit.plugindata.PluginData`
must do.

A backend reuses it by subclassing :class:`PluginDataConformance` and providing a
``plugin_data_factory`` fixture: a callable returning the plugin data of the *same* store each
time it is called (empty at the start of each test), opening a fresh store (connection) on
every call, since the suite calls it again in forked processes to check that two processes
adding the same key at once store it once::

    import pytest
    from complaintkit.plugindata import plugin_data_of
    from complaintkit.testing.plugindata_conformance import PluginDataConformance

    class TestMyPluginData(PluginDataConformance):
        @pytest.fixture
        def plugin_data_factory(self, tmp_path):
            url = f"mydb://{tmp_path / 'complaints.db'}"
            return lambda: plugin_data_of(open_my_store(url, {}))

The suite uses only the public API (:mod:`complaintkit.plugindata`, the errors).
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

import pytest

from complaintkit.errors import ValidationError
from complaintkit.plugindata import MAX_KEY_LENGTH, PluginData

__all__ = ["PluginDataConformance", "PluginDataFactory"]

#: Opens the plugin data of the test's store (see the module docstring).
PluginDataFactory = Callable[[], PluginData]

DOC: dict[str, Any] = {
    "name": "王芳的令牌",
    "role": "supervisor",
    "nested": {"list": [1, 2.5, None, True], "text": "a\nb"},
}


def _add_worker(factory: PluginDataFactory, name: str, start: Any, queue: Any) -> None:
    """A process adding the same 20 keys as its rival; reports which it won."""
    try:
        data = factory()
        start.wait(30)
        won = [
            key for key in (f"k{i:02d}" for i in range(20)) if data.add("race", key, {"by": name})
        ]
        queue.put((name, won, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent test
        queue.put((name, [], f"{type(exc).__name__}: {exc}"))


class PluginDataConformance:
    """Subclass and provide a ``plugin_data_factory`` fixture (see the module docstring)."""

    @pytest.fixture
    def data(self, plugin_data_factory: PluginDataFactory) -> PluginData:
        return plugin_data_factory()

    def test_implements_the_protocol(self, data: PluginData) -> None:
        assert isinstance(data, PluginData)

    def test_empty(self, data: PluginData) -> None:
        assert data.get("api", "nothing") is None
        assert data.items("api") == []
        assert data.delete("api", "nothing") is False

    def test_add_then_get_round_trips(self, data: PluginData) -> None:
        assert data.add("api", "token:王", DOC) is True
        assert data.get("api", "token:王") == DOC

    def test_add_refuses_a_taken_key_and_keeps_the_first(self, data: PluginData) -> None:
        assert data.add("api", "k", {"n": 1}) is True
        assert data.add("api", "k", {"n": 2}) is False
        assert data.get("api", "k") == {"n": 1}

    def test_put_creates_and_replaces(self, data: PluginData) -> None:
        data.put("api", "k", {"n": 1})
        data.put("api", "k", {"n": 2, "more": "yes"})
        assert data.get("api", "k") == {"n": 2, "more": "yes"}
        assert data.items("api") == [("k", {"n": 2, "more": "yes"})]

    def test_delete(self, data: PluginData) -> None:
        data.add("api", "k", {"n": 1})
        assert data.delete("api", "k") is True
        assert data.get("api", "k") is None
        assert data.delete("api", "k") is False
        assert data.add("api", "k", {"n": 3}) is True

    def test_items_in_key_order_and_namespaces_apart(self, data: PluginData) -> None:
        for key in ("b", "a", "c"):
            data.add("one", key, {"key": key})
        data.add("two", "a", {"other": True})
        assert data.items("one") == [("a", {"key": "a"}), ("b", {"key": "b"}), ("c", {"key": "c"})]
        assert data.items("two") == [("a", {"other": True})]
        assert data.get("two", "b") is None

    def test_get_returns_a_copy(self, data: PluginData) -> None:
        data.add("api", "k", {"list": [1]})
        got = data.get("api", "k")
        assert got is not None
        got["list"].append(2)
        assert data.get("api", "k") == {"list": [1]}

    def test_longest_key_is_kept(self, data: PluginData) -> None:
        key = "k" * MAX_KEY_LENGTH
        assert data.add("api", key, {"ok": 1})
        assert data.get("api", key) == {"ok": 1}

    @pytest.mark.parametrize(
        ("namespace", "key", "value", "problem"),
        [
            ("api", "k", ["not", "an", "object"], "must be a JSON object"),
            ("api", "", {}, "key must be a non-empty string"),
            ("", "k", {}, "namespace must be a non-empty string"),
            ("api", "k" * (MAX_KEY_LENGTH + 1), {}, "longer than"),
            ("api", "k", {"when": object()}, "cannot be written as JSON"),
        ],
    )
    def test_bad_documents_are_refused_and_nothing_stored(
        self, data: PluginData, namespace: str, key: str, value: Any, problem: str
    ) -> None:
        with pytest.raises(ValidationError, match=problem):
            data.add(namespace, key, value)
        with pytest.raises(ValidationError, match=problem):
            data.put(namespace, key, value)
        assert data.items("api") == []

    def test_persists_across_stores(self, plugin_data_factory: PluginDataFactory) -> None:
        plugin_data_factory().add("api", "k", DOC)
        assert plugin_data_factory().get("api", "k") == DOC

    @pytest.mark.skipif(sys.platform == "win32", reason="needs fork")
    def test_two_processes_adding_the_same_keys_store_each_once(
        self, plugin_data_factory: PluginDataFactory
    ) -> None:
        plugin_data_factory().items("race")  # the store exists before the race
        ctx = multiprocessing.get_context("fork")
        start = ctx.Event()
        queue = ctx.Queue()
        workers = [
            ctx.Process(target=_add_worker, args=(plugin_data_factory, name, start, queue))
            for name in ("proc-a", "proc-b")
        ]
        for process in workers:
            process.start()
        start.set()
        results = [queue.get(timeout=120) for _ in workers]
        for process in workers:
            process.join(30)
        assert [error for _, _, error in results if error] == []
        won = {name: keys for name, keys, _ in results}
        assert sorted(won["proc-a"] + won["proc-b"]) == [f"k{i:02d}" for i in range(20)]
        stored = dict(plugin_data_factory().items("race"))
        for name, keys in won.items():
            assert all(stored[key] == {"by": name} for key in keys)
