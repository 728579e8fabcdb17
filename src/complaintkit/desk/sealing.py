"""The desk's writes, sealed: every complaint the desk stores has its new events hash-chained
(:func:`complaintkit.audit.seal`) on the way into the store. The desk's units write through
:attr:`DeskState.writes <complaintkit.desk.state.DeskState.writes>`, never the store directly,
so no change escapes the chain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from ..audit import seal
from ..model import Complaint

if TYPE_CHECKING:
    from ..storage import AddResult, Store, UpdateResult

__all__ = ["SealedWrites", "sealed"]


def sealed(c: Complaint) -> Complaint:
    """``c`` with the events it gained since it was last stored sealed (``c`` itself when
    there are none)."""
    history = seal(c.reference, c.history)
    return c if history is c.history else attrs.evolve(c, history=history)


class SealedWrites:
    """The four writing methods of a :class:`~complaintkit.storage.Store`, each sealing the
    complaints it is given before the store sees them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, complaint: Complaint) -> Complaint:
        """``Store.add`` of the sealed complaint."""
        return self.store.add(sealed(complaint))

    def add_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """``Store.add_many`` of the sealed complaints, still one stream."""
        return self.store.add_many(sealed(c) for c in complaints)

    def update(self, complaint: Complaint) -> Complaint:
        """``Store.update`` of the sealed complaint."""
        return self.store.update(sealed(complaint))

    def update_many(self, complaints: Iterable[Complaint]) -> UpdateResult:
        """``Store.update_many`` of the sealed complaints."""
        return self.store.update_many([sealed(c) for c in complaints])
