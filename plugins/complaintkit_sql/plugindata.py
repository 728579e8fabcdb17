"""Plugin data of a SQL store: table ``ck_plugin_data`` in the same database.

``add`` inserts with the database's own "ignore duplicates" (``ON CONFLICT DO NOTHING`` on
PostgreSQL and SQLite, ``INSERT IGNORE`` on MariaDB/MySQL) on the (namespace, key) primary
key, so of two processes adding the same key at once exactly one stores it; ``put`` is a
delete and an insert in one write transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from complaintkit.plugindata import check_document

if TYPE_CHECKING:
    from .store import SQLStore

__all__ = ["SQLPluginData"]


def _document(value: Any) -> dict[str, Any]:
    """The document of a ``value`` cell: the engine's JSON deserializer decodes it afresh for
    every read, so it is already a copy no one else holds; text is decoded here."""
    document: dict[str, Any] = orjson.loads(value) if isinstance(value, str | bytes) else value
    return document


class SQLPluginData:
    """A :class:`~complaintkit.plugindata.PluginData` in the store's database."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self.table = store.tables.plugin_data

    def _where(self, namespace: str, key: str) -> sa.ColumnElement[bool]:
        c = self.table.c
        return sa.and_(c.namespace == namespace, c.doc_key == key)

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The document under ``key`` (a copy), or None."""
        with self.store._connect() as conn:
            value = conn.execute(
                sa.select(self.table.c.value).where(self._where(namespace, key))
            ).scalar()
        return None if value is None else _document(value)

    def add(self, namespace: str, key: str, value: dict[str, Any]) -> bool:
        """Store ``value`` unless ``key`` is taken; True if stored."""
        row = {
            "namespace": namespace,
            "doc_key": key,
            "value": check_document(namespace, key, value),
        }
        statement: Any
        if self.store.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = (
                pg_insert(self.table)
                .on_conflict_do_nothing(index_elements=["namespace", "doc_key"])
                .returning(self.table.c.doc_key)
            )
        elif self.store.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = (
                sqlite_insert(self.table)
                .on_conflict_do_nothing(index_elements=["namespace", "doc_key"])
                .returning(self.table.c.doc_key)
            )
        else:
            statement = sa.insert(self.table).prefix_with("IGNORE")
        with self.store._writing() as conn:
            result = conn.execute(statement, row)
            if self.store.dialect in ("postgresql", "sqlite"):
                return len(result.all()) == 1  # RETURNING gives a row only when inserted
            return bool(result.rowcount == 1)

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``, replacing any document there."""
        row = {
            "namespace": namespace,
            "doc_key": key,
            "value": check_document(namespace, key, value),
        }
        with self.store._writing() as conn:
            conn.execute(sa.delete(self.table).where(self._where(namespace, key)))
            conn.execute(sa.insert(self.table), row)

    def delete(self, namespace: str, key: str) -> bool:
        """Remove the document under ``key``; False if there was none."""
        with self.store._writing() as conn:
            result = conn.execute(sa.delete(self.table).where(self._where(namespace, key)))
            return bool(result.rowcount == 1)

    def items(self, namespace: str) -> list[tuple[str, dict[str, Any]]]:
        """Every ``(key, document)`` of ``namespace``, in key order."""
        c = self.table.c
        with self.store._connect() as conn:
            rows = conn.execute(
                sa.select(c.doc_key, c.value).where(c.namespace == namespace).order_by(c.doc_key)
            ).all()
        return [(row.doc_key, _document(row.value)) for row in rows]
