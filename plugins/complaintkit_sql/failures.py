"""What a database error becomes for the person reading it: a :class:`StorageError` naming
the store (password hidden), its driver's first line, and what to do where we know it. Both
reading paths (:mod:`complaintkit_sql.store`, :mod:`complaintkit_sql.light`) report through
:func:`storage_error`, so a failure reads the same whichever path met it."""

from __future__ import annotations

import re

from complaintkit.errors import StorageError

__all__ = ["explained", "storage_error"]


# What PostgreSQL (psycopg) and MySQL/MariaDB (PyMySQL, error 1049) say of a database that
# does not exist: the store never creates a database, only its tables.
_NO_DATABASE = re.compile(
    r'database "([^"]+)" does not exist|\(1049, "Unknown database \'([^\']+)\'"\)'
)


def explained(detail: str) -> str:
    """A driver's first error line, with what to do when the database does not exist."""
    found = _NO_DATABASE.search(detail)
    if found is None:
        return detail
    name = found.group(1) or found.group(2)
    if found.group(1):
        return f'the database "{name}" does not exist: create it first (createdb {name})'
    return (
        f"the database '{name}' does not exist: create it first "
        f"(CREATE DATABASE `{name}` CHARACTER SET utf8mb4)"
    )


def storage_error(display_url: str, detail: str) -> StorageError:
    """The error for a driver's message ``detail`` on the store shown as ``display_url``."""
    lines = detail.strip().splitlines()
    return StorageError(f"{display_url}: {explained(lines[0] if lines else detail)}")
