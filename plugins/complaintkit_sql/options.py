"""The SQL store's options, readable without SQLAlchemy (the light reading path needs them
too, see :mod:`complaintkit_sql.light`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from complaintkit.errors import ConfigError

__all__ = ["SQLOptions"]


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
