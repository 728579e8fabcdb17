"""Recompute on the SQL backends (SQLite, PostgreSQL, MariaDB): the same scenario as on
TinyDB, written in batches of two."""

from __future__ import annotations

from process_support import check_imported_before_sla, imported_before_sla


def test_recompute_gives_policies_to_complaints_imported_before(sql_url: str) -> None:
    check_imported_before_sla(imported_before_sla(sql_url, batch=2))
