"""Plugin data of the TinyDB store: table ``plugin_data`` in the same JSON file.

Each document is ``{"namespace": …, "key": …, "value": {…}}``. Writes run in the store's
storage transaction (the file lock held, the file re-read if another process changed it, one
atomic write at the end), so ``add`` of the same key by two processes at once stores it once.
Document ids are chosen from the file as it is inside that transaction, never from a counter
kept in memory that another process could have overtaken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from tinydb.table import Document

from complaintkit.plugindata import check_document

if TYPE_CHECKING:
    from .store import TinyDBStore

__all__ = ["PLUGIN_DATA_TABLE", "TinyDBPluginData"]

PLUGIN_DATA_TABLE = "plugin_data"


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return copied


class TinyDBPluginData:
    """A :class:`~complaintkit.plugindata.PluginData` in the store's JSON file."""

    def __init__(self, store: TinyDBStore) -> None:
        self.store = store
        self.table = store._db.table(PLUGIN_DATA_TABLE, cache_size=0)

    def _documents(self) -> dict[str, Any]:
        # Refuses a closed store; current with the disk (inside a write, the locked data).
        return self.store._table_data(PLUGIN_DATA_TABLE)

    def _find(self, namespace: str, key: str) -> tuple[int, dict[str, Any]] | None:
        for doc_id, doc in self._documents().items():
            if doc.get("namespace") == namespace and doc.get("key") == key:
                return int(doc_id), doc
        return None

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The document under ``key`` (a copy), or None."""
        found = self._find(namespace, key)
        return None if found is None else _copy(found[1]["value"])

    def _insert(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        doc_id = max((int(i) for i in self._documents()), default=0) + 1
        doc = {"namespace": namespace, "key": key, "value": _copy(value)}
        self.store._change(lambda: self.table.insert(Document(doc, doc_id=doc_id)))

    def add(self, namespace: str, key: str, value: dict[str, Any]) -> bool:
        """Store ``value`` unless ``key`` is taken; True if stored."""
        check_document(namespace, key, value)
        with self.store._writing():
            if self._find(namespace, key) is not None:
                return False
            self._insert(namespace, key, value)
        return True

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``, replacing any document there."""
        check_document(namespace, key, value)
        with self.store._writing():
            found = self._find(namespace, key)
            if found is None:
                self._insert(namespace, key, value)
            else:
                new = _copy(value)

                def replace(doc: Any) -> None:
                    doc["value"] = new

                self.store._change(lambda: self.table.update(replace, doc_ids=[found[0]]))

    def delete(self, namespace: str, key: str) -> bool:
        """Remove the document under ``key``; False if there was none."""
        with self.store._writing():
            found = self._find(namespace, key)
            if found is None:
                return False
            self.store._change(lambda: self.table.remove(doc_ids=[found[0]]))
        return True

    def items(self, namespace: str) -> list[tuple[str, dict[str, Any]]]:
        """Every ``(key, document)`` of ``namespace``, in key order."""
        found = [
            (doc["key"], _copy(doc["value"]))
            for doc in self._documents().values()
            if doc.get("namespace") == namespace
        ]
        return sorted(found, key=lambda item: item[0])
