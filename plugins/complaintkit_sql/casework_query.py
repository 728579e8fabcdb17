"""The SQL of case work's queries: tags and custom fields in a filter, and sorted listings.

Kept apart from :mod:`complaintkit_sql.store` (which calls these) because each needs its own
spelling per database: JSON is read with ``json_each`` on SQLite, ``jsonb`` operators on
PostgreSQL and ``JSON_*`` functions on MariaDB/MySQL. The semantics are those of
:meth:`ComplaintFilter.matches <complaintkit.storage.ComplaintFilter.matches>` and
:func:`~complaintkit.storage.sort_key`; the conformance suite checks that every database
agrees with them.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from complaintkit.model import Status
from complaintkit.storage import SortOrder

__all__ = ["custom_condition", "order_by", "tag_condition"]

_MYSQL = ("mysql", "mariadb")


def tag_condition(dialect: str, complaints: sa.Table, tag: str) -> sa.ColumnElement[bool]:
    """The complaint's ``tags`` (a JSON array of texts) hold ``tag`` exactly."""
    tags = complaints.c.tags
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.cast(tags, JSONB).contains([tag])
    if dialect in _MYSQL:
        return sa.func.json_contains(tags, json.dumps(tag)) == 1
    each = sa.func.json_each(tags).table_valued("value", "type").alias("tag")
    return (
        sa.select(sa.literal(1))
        .select_from(each)
        .where(each.c.type == "text", each.c.value == tag)
        .correlate(complaints)
        .exists()
    )


def custom_condition(
    dialect: str, complaints: sa.Table, key: str, wanted: str, collation: str
) -> sa.ColumnElement[bool]:
    """The custom field ``key`` holds a text, number or boolean whose text
    (:func:`~complaintkit.storage.custom_text`) is ``wanted``. ``collation`` is the binary
    collation MariaDB/MySQL compare in (the store's own)."""
    custom = complaints.c.custom
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        document = sa.cast(custom, JSONB)
        return sa.and_(
            sa.func.jsonb_typeof(document.op("->")(key)).in_(("string", "number", "boolean")),
            document.op("->>")(key) == wanted,
        )
    if dialect in _MYSQL:
        # A quoted member name ($."key") takes any key; json.dumps escapes its quotes.
        path = "$." + json.dumps(key, ensure_ascii=False)
        found = sa.func.json_extract(custom, path)
        text: Any = sa.func.json_unquote(found)
        return sa.and_(
            sa.func.json_type(found).in_(
                ("STRING", "INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL", "BOOLEAN")
            ),
            text.collate(collation) == wanted,
        )
    each = sa.func.json_each(custom).table_valued("key", "value", "type").alias("field")
    as_text = sa.case(
        (each.c.type == "true", sa.literal("true")),
        (each.c.type == "false", sa.literal("false")),
        else_=sa.cast(each.c.value, sa.Text),
    )
    return (
        sa.select(sa.literal(1))
        .select_from(each)
        .where(
            each.c.key == key,
            each.c.type.in_(("text", "integer", "real", "true", "false")),
            as_text == wanted,
        )
        .correlate(complaints)
        .exists()
    )


def order_by(complaints: sa.Table, order: SortOrder) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms for ``order``: missing values last either way, ties by the instant
    received and the reference in the same direction."""
    c = complaints.c
    key: sa.ColumnElement[Any]
    if order.key == "status":
        key = sa.case(
            {status.value: number for number, status in enumerate(Status)}, value=c.status
        )
    else:
        key = {
            "received_at": c.received_utc,
            "due_at": c.due_utc,
            "reference": c.reference,
            "escalation_level": c.escalation_level,
        }[order.key]
    terms: list[sa.ColumnElement[Any]] = []
    if order.key == "due_at":
        # NULLS LAST, which MariaDB cannot spell.
        terms.append(sa.case((key.is_(None), 1), else_=0))

    def way(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return column.desc() if order.descending else column.asc()

    # The ties after received_at are the reference alone: a second received_utc term would
    # stop SQLite walking the (received_utc, reference) index for the order, and it would sort
    # every complaint sharing the newest instant (tens of thousands after one import) for the
    # first page instead of reading 50 index entries.
    ties = [c.reference] if order.key == "received_at" else [c.received_utc, c.reference]
    terms += [way(key), *(way(column) for column in ties)]
    return terms
