"""Batches: grouping the follow-up work of many changes (an import, a sweep) into one flush.

While a batch is open, lifecycle-hook implementations may defer work with ``after_batch``;
the deferred callbacks run once when the outermost batch closes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
    from . import Desk
    from .state import DeskState

__all__ = ["Batches", "batched"]

log = logging.getLogger("complaintkit.desk")

P = ParamSpec("P")
R = TypeVar("R")


def batched(method: Callable[Concatenate[Desk, P], R]) -> Callable[Concatenate[Desk, P], R]:
    """Run one of the desk's batch operations inside :meth:`Desk.batch`."""

    @functools.wraps(method)
    def wrapper(self: Desk, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.batch():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools._Wrapped is this callable


class Batches:
    """The open batches of one desk and the callbacks deferred to their end."""

    def __init__(self, state: DeskState) -> None:
        self.s = state
        self._batch_depth = 0
        self._after_batch: dict[str, Callable[[], None]] = {}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the follow-up work of many changes (an import, a sweep) into one flush.

        While a batch is open, lifecycle-hook implementations may defer work with
        :meth:`after_batch` (the notification plugin queues a whole import's messages in one
        transaction this way). Deferred callbacks run once when the outermost batch closes,
        also when it closes by an error: changes already stored still get their follow-up.
        ``intake_many``, ``classify_many`` and ``sweep`` open a batch themselves; batches nest.
        """
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._run_after_batch()

    def _run_after_batch(self) -> None:
        callbacks, self._after_batch = self._after_batch, {}
        for key, callback in callbacks.items():
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - like lifecycle hooks: isolated, logged
                from ..host import PluginFailure

                failure = PluginFailure(key, "after_batch", f"{type(exc).__name__}: {exc}")
                self.s.host.hook_errors.append(failure)
                log.warning("%s", failure)

    @property
    def in_batch(self) -> bool:
        """True while :meth:`batch` is open."""
        return self._batch_depth > 0

    def after_batch(self, key: str, callback: Callable[[], None]) -> bool:
        """Run ``callback`` once when the open batch closes; False (nothing deferred) if none.

        ``key`` (e.g. the plugin's name) makes registering the same flush twice harmless: the
        first callback registered under a key is the one that runs.
        """
        if not self._batch_depth:
            return False
        self._after_batch.setdefault(key, callback)
        return True
