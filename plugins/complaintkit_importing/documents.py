"""complaintkit's own JSON documents (``list --format json``), re-imported whole."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from complaintkit.errors import ValidationError
from complaintkit.model import Complaint


def _is_document(record: Mapping[str, Any] | None) -> bool:
    """True for a JSON record in complaintkit's own document form (``list --format json``)."""
    return record is not None and (
        isinstance(record.get("complainant"), Mapping)
        or isinstance(record.get("labels"), Mapping)
        or isinstance(record.get("history"), list)
    )


@cache
def _document_converter() -> Any:
    from complaintkit.serialization import make_converter

    return make_converter(checking=True)


def _from_document(record: Mapping[str, Any]) -> Complaint | list[tuple[str | None, str]]:
    """A complaint document structured by the checking converter, or its problems by field.

    Our own JSON export re-imports with its labels, status and history intact; an unknown or
    malformed field is reported by name instead of being filed as a custom field.
    """
    from complaintkit.serialization import structure_checked

    try:
        return structure_checked(_document_converter(), record, Complaint, "record")
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = []
        for problem in exc.problems:
            if problem.startswith("field ") and ": " in problem:
                field, _, reason = problem[6:].partition(": ")
                problems.append((None if field == "(record)" else field, reason))
            else:
                problems.append((None, problem))
        return problems
