"""Test support for complaintkit and its plugin authors.

* :mod:`complaintkit.testing.fixtures` — a pytest plugin (enabled automatically when
  complaintkit is installed) with ``ck_config``, ``ck_plugins``, ``ck_host``, ``ck_register``,
  ``ck_store_url``, ``ck_store`` and ``ck_desk`` fixtures;
* :func:`make_complaint` — a valid complaint with sensible defaults, for tests;
* :mod:`complaintkit.testing.conformance` — the storage conformance suite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["FIXED_TIME", "make_complaint"]

FIXED_TIME = datetime(2026, 9, 30, 9, 0, tzinfo=UTC)


def make_complaint(reference: str = "T-1", **fields: Any) -> Any:
    """A :class:`~complaintkit.model.Complaint` for tests; any field can be overridden."""
    from complaintkit.model import Complaint

    fields.setdefault("received_at", FIXED_TIME)
    fields.setdefault("text", "The delivery was late and the staff were rude.")
    return Complaint(reference=reference, **fields)
