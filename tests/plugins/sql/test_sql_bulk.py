"""The bulk write path (``add_many``/``restore_many``: the driver's ``executemany``, ``COPY`` on
PostgreSQL, values prepared by the store) stores exactly what the one-complaint path (``add``,
through SQLAlchemy's own parameter processing) stores: the same text for every instant and JSON
column, byte for byte, so ordering, filters and reads cannot tell them apart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from complaintkit import Event, Label, Remedy, RemedyKind
from complaintkit.testing import make_complaint
from complaintkit_sql.store import open_sql

SHANGHAI = timezone(timedelta(hours=8))


def _rich(reference: str) -> Any:
    at = datetime(2026, 3, 1, 9, 30, 0, 0, tzinfo=SHANGHAI)  # whole second: no fraction
    return make_complaint(
        reference,
        received_at=at,
        due_at=at + timedelta(days=3, microseconds=1),
        tags=("vip", "退款"),
        custom={"order": {"lines": [1, 2.5, None, True]}, "备注": "加急"},
        labels={
            "cause": Label("cause", "product", 0.75, ("broke", "坏了"), "rules"),
            "severity": Label("severity", "major", 1.0, (), "manual"),
        },
        remedies=(
            Remedy(RemedyKind.REFUND, amount=12.5, currency="CNY", offered_at=at),
            Remedy(RemedyKind.APOLOGY),
        ),
        history=(
            Event(at, "intake", "received", None, {}),
            Event(at + timedelta(hours=1), "李雷", "note", "why", {"x": [1, {"y": "z"}]}),
        ),
    )


def _raw(store: Any, table: str, reference: str) -> list[tuple[Any, ...]]:
    """The rows of ``reference`` as the driver reads them back, the reference left out."""
    with store.engine.connect() as conn:
        names = [c.name for c in store.tables.metadata.tables[table].columns]
        order = "seq" if table == "ck_events" else "position" if table == "ck_labels" else "1"
        rows = conn.exec_driver_sql(
            f"SELECT {', '.join(names)} FROM {table} WHERE reference = "
            + ("?" if store.dialect == "sqlite" else "%s")
            + f" ORDER BY {order}",
            (reference,),
        ).all()
    at = names.index("reference")
    return [tuple(v for i, v in enumerate(row) if i != at) for row in rows]


@pytest.mark.parametrize("how", ["add_many", "restore_many"])
def test_bulk_rows_equal_the_rows_add_writes(sql_url: str, how: str) -> None:
    with open_sql(sql_url) as store:
        store.add(_rich("ONE-1"))
        # enough rows in every table for the bulk path proper (COPY on PostgreSQL from 50)
        batch = [attrs.evolve(_rich(f"BULK-{n}"), version=1) for n in range(1, 61)]
        result = getattr(store, how)(batch)
        assert result.added == 60
        for table in ("ck_complaints", "ck_labels", "ck_events"):
            one, many = _raw(store, table, "ONE-1"), _raw(store, table, "BULK-1")
            assert many and one == many, table
        if store.dialect == "sqlite":
            # the instants as SQLAlchemy writes them, microseconds always: ordered as text
            (row,) = _raw(store, "ck_complaints", "BULK-1")
            assert "2026-03-01 01:30:00.000000" in row
        assert store.get("BULK-1") == attrs.evolve(_rich("BULK-1"), version=1)


def test_data_json_cannot_hold_is_refused_by_name_and_the_rest_is_stored(sql_url: str) -> None:
    with open_sql(sql_url) as store:
        good = make_complaint("OK-1")
        bad = attrs.evolve(make_complaint("BAD-1"), custom={"when": {1, 2}})
        result = store.add_many([good, bad])
        assert result.added == 1
        ((reference, reason),) = result.refused
        assert reference == "BAD-1" and "cannot be stored as JSON" in reason
        assert [c.reference for c in store.find()] == ["OK-1"]
