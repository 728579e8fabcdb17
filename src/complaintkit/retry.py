"""Retrying a write that lost a race: exponential backoff with full jitter, within a time budget.

Several processes changing one complaint at once each read it, change it and write it with a
version check; all but one of them get :class:`~complaintkit.errors.ConflictError` and must
read again and redo. Retrying at once makes the losers collide again (with 8 processes on one
complaint, 8 immediate retries still failed 7-14% of calls on SQLite and 28-33% on PostgreSQL
and MariaDB; see docs/storage.md for what this policy measures).
Waiting a random time, drawn from a range that doubles after each conflict ("full jitter"),
spreads them out, so one of them wins each round and the others come back one by one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import attrs

from .errors import ConflictError

__all__ = ["RetryPolicy"]

R = TypeVar("R")

#: Past this many conflicts the pause range stops doubling (it has long reached max_delay).
_MAX_DOUBLINGS = 60


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"RetryPolicy.{attribute.name} must be positive, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"RetryPolicy.{attribute.name} must not be negative, got {value!r}")


def _tries(instance: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"RetryPolicy.max_tries must be at least 1 or None, got {value!r}")


@attrs.frozen
class RetryPolicy:
    """How :class:`~complaintkit.desk.Desk` retries a change that another process wrote first.

    After the *n*-th conflict in a row the change waits a random time between 0 and
    ``min(max_delay, first_delay × 2^(n-1))`` seconds, then reads the complaint again and
    re-applies itself. It gives up, raising :class:`~complaintkit.errors.ConflictError` (which
    says how many tries and how long), at the first conflict once ``budget`` seconds have passed
    since the first try, or after ``max_tries`` tries (``None``: only the budget bounds it).
    A pause never goes past the budget.

    ``monotonic``, ``sleep`` and ``random`` are the clock, the pause and the source of jitter
    (a float in [0, 1)); tests pass their own to check the schedule without waiting.
    """

    budget: float = attrs.field(default=30.0, validator=_not_negative)
    first_delay: float = attrs.field(default=0.002, validator=_positive)
    max_delay: float = attrs.field(default=0.25, validator=_positive)
    max_tries: int | None = attrs.field(default=None, validator=_tries)
    monotonic: Callable[[], float] = attrs.field(default=time.monotonic, eq=False, repr=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    random: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)

    def ceiling(self, conflicts: int) -> float:
        """The longest pause after ``conflicts`` conflicts in a row (1 or more)."""
        doublings = min(max(conflicts, 1) - 1, _MAX_DOUBLINGS)
        return min(self.max_delay, self.first_delay * 2.0**doublings)

    def delay(self, conflicts: int) -> float:
        """A pause after ``conflicts`` conflicts in a row: uniform in [0, ceiling)."""
        return self.ceiling(conflicts) * self.random()

    def run(self, attempt: Callable[[], R]) -> R:
        """Call ``attempt`` until it returns without a conflict; pause between tries.

        ``attempt`` must start from a fresh read each time (it is called again after a
        conflict). Any other exception passes through at once.
        """
        began = self.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except ConflictError as exc:
                spent = self.monotonic() - began
                left = self.budget - spent
                if left <= 0 or (self.max_tries is not None and tries >= self.max_tries):
                    raise ConflictError(
                        exc.reference, exc.expected, exc.found, tries=tries, seconds=spent
                    ) from exc
                self.sleep(min(self.delay(tries), left))
