"""What the desk's units share: the host, the store, the actor, the clock, the retry policy
and the process configuration (read once), and the small types they speak (a change with the
hooks it fires). No unit reaches into another's state or into the façade's; they share this."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from ..model import Complaint, Party
from ..retry import RetryPolicy
from .sealing import SealedWrites

if TYPE_CHECKING:
    from ..host import PluginHost
    from ..process import ProcessConfig
    from ..storage import Store
    from . import Desk

__all__ = ["NOBODY", "Change", "DeskState", "Fires", "new_reference", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_reference(at: datetime) -> str:
    """A fresh complaint reference such as ``CK-20261123-5F3A9C1D``."""
    return f"CK-{at:%Y%m%d}-{secrets.token_hex(4).upper()}"


#: The lifecycle hooks one change fires once it is stored: ``(hook name, keyword arguments)``.
Fires = tuple[tuple[str, dict[str, Any]], ...]
NOBODY = Party()


@attrs.frozen
class Change:
    """A complaint as one change leaves it, and the hooks to fire once that is stored."""

    complaint: Complaint
    fire: Fires = ()


@attrs.define
class DeskState:
    """The state every unit of a :class:`~complaintkit.desk.Desk` works with.

    Units read through ``store`` and write through ``writes`` (the same store, with every
    new history event hash-chained on the way in: :mod:`complaintkit.desk.sealing`).

    ``desk`` is the façade itself: what the hooks receive as ``desk`` and where the batch sizes
    (``SWEEP_BATCH``, ``RECOMPUTE_BATCH``, ``RECOMPUTE_PAGE``) are read, so that setting them
    on a desk (or on the class) still takes effect.
    """

    desk: Desk
    host: PluginHost
    store: Store
    actor: str
    clock: Callable[[], datetime]
    retry: RetryPolicy
    _process: ProcessConfig | None = attrs.field(default=None, init=False)

    @property
    def writes(self) -> SealedWrites:
        """Where the units store what they change: the store (whichever the desk has now),
        every new event sealed."""
        return SealedWrites(self.store)

    @property
    def process(self) -> ProcessConfig:
        """The process configuration (``[sla]``, ``[routing]``, …), read once per desk."""
        if self._process is None:
            from ..process import load_process_config

            self._process = load_process_config(self.host.config)
        return self._process

    def process_active(self) -> bool:
        """True when intake has process work to do: SLA, routing rules or hook, fast channel."""
        p = self.process
        return (
            p.sla is not None
            or bool(p.routing.rules)
            or p.escalation.fast_channel is not None
            or self.host.has_implementations("route_complaint")
        )
