"""The query plans behind large stores: every page of ``find`` and every "which references are
stored" look-up of an import is one range of an index, whatever the table's size.

Checked with the databases' own ``EXPLAIN`` on a store where most complaints share one instant
received (as the undated real data sets do): a page after the middle of that instant must
start at the last row seen (a condition *on the index*), not scan the index from its start and
filter, which is what made paging quadratic.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import sqlalchemy as sa

from complaintkit.testing import FIXED_TIME, make_complaint
from complaintkit_sql.store import PAGE, SQLStore, open_sql

N = 3000


def _filled(url: str) -> SQLStore:
    store = open_sql(url)
    # two thirds received at one instant, the rest one minute apart
    store.add_many(
        make_complaint(
            f"P-{n:05d}",
            received_at=FIXED_TIME if n % 3 else FIXED_TIME + timedelta(minutes=n),
        )
        for n in range(N)
    )
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE ck_complaints")
        elif store.dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql("ANALYZE TABLE ck_complaints")
        else:
            conn.exec_driver_sql("ANALYZE")
    return store


def _plan(store: SQLStore, query: sa.Select[Any]) -> list[dict[str, Any]]:
    """The database's plan for ``query`` (EXPLAIN; EXPLAIN QUERY PLAN on SQLite), as rows.

    The query runs once to capture the statement and parameters the driver gets, which are
    then explained as they are.
    """
    sent: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        sent.append((statement, parameters))

    with store.engine.connect() as conn, conn.begin():
        sa.event.listen(conn, "before_cursor_execute", capture)
        conn.execute(query).all()
        sa.event.remove(conn, "before_cursor_execute", capture)
        ((statement, parameters),) = sent
        if store.dialect == "postgresql":
            # the plan's shape, not the planner's choice on a small table: with scans and
            # sorts priced out, a condition the index cannot take shows up as a Filter
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
        prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
        return [dict(row._mapping) for row in conn.exec_driver_sql(prefix + statement, parameters)]


def test_a_page_after_the_middle_of_one_instant_starts_at_the_last_row_seen(
    sql_url: str,
) -> None:
    with _filled(sql_url) as store:
        everything = [(c.received_at, c.reference) for c in store.find()]
        assert len(everything) == N
        received, reference = everything[N // 3]  # inside the 2,000 complaints at one instant
        assert received == FIXED_TIME
        row = received.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
        query = store._page_query([], (row, reference), 0, PAGE)
        plan = _plan(store, query)
        # the same query, run, continues exactly after that row
        with store.engine.connect() as conn:
            got = [r.reference for r in conn.execute(query)]
        assert got == [ref for _, ref in everything[N // 3 + 1 : N // 3 + 1 + PAGE]]
        if store.dialect == "postgresql":
            text = "\n".join(line["QUERY PLAN"] for line in plan)
            assert "Index Scan using ck_complaints_order" in text, text
            cond = [line for line in text.splitlines() if "Index Cond" in line]
            assert cond and "ROW(received_utc" in cond[0], text
            assert "Filter" not in text, text
        elif store.dialect == "sqlite":
            details = [line["detail"] for line in plan]
            assert any(
                "USING INDEX ck_complaints_order ((received_utc,reference)>(?,?))" in d
                for d in details
            ), details
        else:
            (line,) = plan
            assert (line["type"], line["key"]) == ("range", "ck_complaints_order"), line
            # both columns of the index bound the range (a key length past the instant's)
            assert int(line["key_len"]) > 8, line


def test_the_stored_references_look_up_is_answered_by_the_primary_key(sql_url: str) -> None:
    with _filled(sql_url) as store:
        wanted = [f"P-{n:05d}" for n in range(0, 2 * N, 7)]
        with store.engine.connect() as conn:
            assert store._known(conn, wanted) == {r for r in wanted if int(r[2:]) < N}
        plan = _plan(store, store._known_query(wanted[:400]))
        if store.dialect == "postgresql":
            text = "\n".join(line["QUERY PLAN"] for line in plan)
            assert "ck_complaints_pkey" in text, text
            assert "Index Cond: (reference = ANY (" in text, text
        elif store.dialect == "sqlite":
            details = [line["detail"] for line in plan]
            assert any("sqlite_autoindex_ck_complaints_1 (reference=?)" in d for d in details), (
                details
            )
        else:
            (line,) = plan
            assert (line["type"], line["key"]) == ("range", "PRIMARY"), line


def test_the_look_up_leaves_the_rows_written_after_it_to_cached_plans(sql_url: str) -> None:
    # On PostgreSQL the look-up plans afresh (force_custom_plan) for its own query only: left
    # on for the transaction, the server also planned afresh each foreign-key check of the
    # label and event rows written next, which took three quarters of an import's time.
    with _filled(sql_url) as store, store.engine.connect() as conn, conn.begin():
        if store.dialect == "postgresql":
            before = conn.exec_driver_sql("SHOW plan_cache_mode").scalar()
        assert store._known(conn, ["P-00001", "X-1"]) == {"P-00001"}
        if store.dialect == "postgresql":
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == before == "auto"


def test_facts_on_mariadb_use_hashed_join_buffers_for_that_statement_only(sql_url: str) -> None:
    # MariaDB's default join_cache_level (2) joined the per-complaint aggregates to the
    # complaints by a block nested loop (every complaint against every aggregate row): 114 s
    # for facts() at 20,000 complaints, 0.8 s at level 8. The level is set around the one
    # statement and the pooled connection gets its own level back.
    with _filled(sql_url) as store:
        statements: list[str] = []

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        sa.event.listen(store.engine, "before_cursor_execute", seen)
        try:
            facts = list(store.facts())
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", seen)
        assert len(facts) == N
        settings = [s for s in statements if "join_cache_level" in s]
        if not getattr(store.engine.dialect, "is_mariadb", False):
            assert settings == []
            return
        assert settings == [
            "SELECT @@SESSION.join_cache_level",
            "SET SESSION join_cache_level = 8",
            "SET SESSION join_cache_level = 2",
        ]
        facts_at = next(i for i, s in enumerate(statements) if "ck_events" in s)
        assert statements.index("SET SESSION join_cache_level = 8") < facts_at
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT @@SESSION.join_cache_level").scalar() == 2


def test_the_first_page_newest_first_reads_the_order_index_backwards_and_sorts_nothing(
    sql_url: str,
) -> None:
    # `complaintkit list` (newest first): with a second received_utc term in the ORDER BY,
    # SQLite sorted every complaint sharing the newest instant (33,000 of the 95,000 real
    # ones, 0.3 s) to show 50 of them.
    from complaintkit.storage import SortOrder

    with _filled(sql_url) as store:
        newest = SortOrder.parse("-received_at")
        query = store._sorted_query(None, newest).limit(50)
        expected = sorted(store.find(), key=lambda c: (c.received_at, c.reference), reverse=True)
        assert [c.reference for c in store.find_sorted(None, newest, limit=50)] == [
            c.reference for c in expected[:50]
        ]
        plan = _plan(store, query)
        if store.dialect == "postgresql":
            text = "\n".join(line["QUERY PLAN"] for line in plan)
            assert "Index Scan Backward using ck_complaints_order" in text, text
            assert "Sort" not in text, text
        elif store.dialect == "sqlite":
            details = [line["detail"] for line in plan]
            assert details == ["SCAN ck_complaints USING INDEX ck_complaints_order"], details
        else:
            (line,) = plan
            assert line["key"] == "ck_complaints_order", line
            assert "filesort" not in (line["Extra"] or ""), line
