"""Writing one change: read the complaint, change it, store it with a version check (its SLA
deadlines brought up to date), redo the change on a lost race, then fire its hooks once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ConflictError
from ..model import Complaint
from .clocks import SLAClocks
from .state import Change, DeskState, Fires

__all__ = ["Writer"]


class Writer:
    """Stores the desk's single changes and fires the lifecycle hooks they cause."""

    def __init__(self, state: DeskState, deadlines: SLAClocks) -> None:
        self.s = state
        self.deadlines = deadlines

    def mutate(
        self,
        reference: str,
        change: Callable[[Complaint], Change],
        *,
        expected_version: int | None = None,
    ) -> Complaint:
        """Read, change, write with a version check; on a lost race, pause, read again and redo
        (as the desk's retry policy says). The hooks fire once, after the write that succeeded.

        With ``expected_version`` (the version the caller last saw) the change is made only
        on that version, once: a complaint changed since raises
        :class:`~complaintkit.errors.ConflictError` and nothing is written or redone."""

        def attempt() -> tuple[Complaint, Fires]:
            current = self.s.store.get(reference)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(reference, expected_version, current.version)
            result = change(current)
            if result.complaint is current:
                return current, ()
            return self.s.writes.update(self.deadlines.with_sla(result.complaint)), result.fire

        stored, fires = attempt() if expected_version is not None else self.s.retry.run(attempt)
        self.fire_all(stored, fires)
        return stored

    def fire_all(self, complaint: Complaint, fires: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Fire each ``(hook, keyword arguments)`` of ``fires`` for the stored ``complaint``."""
        for hook_name, kwargs in fires:
            self.s.host.fire(hook_name, complaint=complaint, desk=self.s.desk, **kwargs)
