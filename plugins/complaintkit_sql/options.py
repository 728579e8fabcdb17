"""The SQL store's options, readable without SQLAlchemy (the light reading path needs them
too, see :mod:`complaintkit_sql.light`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from complaintkit.errors import ConfigError

__all__ = ["SQLOptions", "explained"]


@attrs.frozen
class SQLOptions:
    """The SQL store's options (the ``[storage]`` table of the configuration)."""

    lock_timeout: float = 30.0

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> SQLOptions:
        """Read the options this backend knows; other keys belong to other backends."""
        value = options.get("lock_timeout", cls().lock_timeout)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(
                f"[storage] lock_timeout must be a non-negative number of seconds, got {value!r}"
            )
        return cls(lock_timeout=float(value))


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
