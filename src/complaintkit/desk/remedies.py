"""Remedies and satisfaction: offering a remedy within the approval limits, its acceptance,
and the complainant's satisfaction score at closure."""

from __future__ import annotations

from typing import Any

import attrs

from ..errors import TransitionRejected
from ..model import Complaint, Event, Remedy, RemedyKind, Status
from .handling import Handling
from .state import Change, DeskState
from .writing import Writer

__all__ = ["Remedies"]


class Remedies:
    """Records one desk's remedies and satisfaction scores."""

    def __init__(self, state: DeskState, writer: Writer, handling: Handling) -> None:
        self.s = state
        self.writer = writer
        self.handling = handling

    def offer_remedy(
        self,
        reference: str,
        kind: RemedyKind,
        *,
        amount: float | None = None,
        currency: str | None = None,
        description: str | None = None,
        customer_loss: float | None = None,
        complaint_cost: float | None = None,
        role: str | None = None,
    ) -> tuple[Complaint, list[str]]:
        """Record a remedy offered to the complainant; returns the complaint and warnings.

        Refused with :class:`~complaintkit.errors.ApprovalError` when ``amount`` is above the
        limit of ``role`` (or of the actor's role in ``[remedies.roles]``). A remedy worth
        less than the customer's loss plus the cost of complaining (V2 < V1 + C) is recorded
        with a warning.
        """
        from ..remedies import value_warning

        config = self.s.process.remedies
        if amount is not None and amount < 0:
            raise TransitionRejected("a remedy amount cannot be negative")
        approved = config.check_approval(amount, role, self.s.actor)
        warnings: list[str] = []

        def change(c: Complaint) -> Change:
            if c.status in (Status.CLOSED, Status.WITHDRAWN, Status.REJECTED):
                raise TransitionRejected(
                    f"cannot offer a remedy on complaint {c.reference}: it is {c.status.value}"
                )
            at = self.s.clock()
            remedy = Remedy(
                kind=kind,
                amount=amount,
                currency=currency or (config.currency if amount is not None else None),
                description=description,
                customer_loss=customer_loss,
                complaint_cost=complaint_cost
                if complaint_cost is not None
                else config.complaint_cost,
                offered_by=self.s.actor,
                approved_by=approved,
                offered_at=at,
            )
            warning = value_warning(remedy, config.complaint_cost)
            warnings[:] = [warning] if warning else []
            data: dict[str, Any] = {
                "index": len(c.remedies),
                "kind": kind.value,
                "amount": amount,
                "currency": remedy.currency,
                "approved_by": approved,
            }
            if warning:
                data["warning"] = warning
            event = Event(
                at=at, actor=self.s.actor, action="remedy_offered", reason=description, data=data
            )
            return Change(
                attrs.evolve(c, remedies=c.remedies + (remedy,), history=c.history + (event,))
            )

        return self.writer.mutate(reference, change), warnings

    def accept_remedy(self, reference: str, index: int = -1) -> Complaint:
        """Record that the complainant accepted remedy ``index`` (default: the latest)."""

        def change(c: Complaint) -> Change:
            if not c.remedies:
                raise TransitionRejected(f"complaint {c.reference} has no remedy offered")
            try:
                remedy = c.remedies[index]
            except IndexError:
                # People number remedies from 1 (`remedy --accept N`, `show`); index is 0-based.
                count = len(c.remedies)
                which = f"#{index + 1}" if index >= 0 else f"at position {index}"
                raise TransitionRejected(
                    f"complaint {c.reference} has {count} remed{'y' if count == 1 else 'ies'} "
                    f"(#1 to #{count}); there is no remedy {which}"
                ) from None
            position = index % len(c.remedies)
            if remedy.accepted:
                return Change(c)
            remedies = list(c.remedies)
            remedies[position] = attrs.evolve(remedy, accepted=True)
            event = Event(
                at=self.s.clock(),
                actor=self.s.actor,
                action="remedy_accepted",
                reason=None,
                data={"index": position, "kind": remedy.kind.value, "amount": remedy.amount},
            )
            return Change(attrs.evolve(c, remedies=tuple(remedies), history=c.history + (event,)))

        return self.writer.mutate(reference, change)

    def record_satisfaction(self, reference: str, score: int) -> Complaint:
        """Record satisfaction 1-5: closes a resolved complaint with it, or sets it on a
        closed one (a ``satisfaction`` event keeps any earlier score)."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise TransitionRejected(
                f"satisfaction must be a whole number from 1 to 5, got {score!r}"
            )
        current = self.s.store.get(reference)
        if current.status is Status.RESOLVED:
            return self.handling.transition(reference, "close", satisfaction=score)

        def change(c: Complaint) -> Change:
            if c.status is not Status.CLOSED:
                raise TransitionRejected(
                    f"cannot record satisfaction on complaint {c.reference}: it is "
                    f"{c.status.value}; satisfaction is collected at closure"
                )
            event = Event(
                at=self.s.clock(),
                actor=self.s.actor,
                action="satisfaction",
                reason=None,
                data={"from": c.satisfaction, "to": score},
            )
            return Change(attrs.evolve(c, satisfaction=score, history=c.history + (event,)))

        return self.writer.mutate(reference, change)
