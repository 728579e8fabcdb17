"""The complaint model: attrs classes, frozen, changed only through :func:`attrs.evolve`.

Every timestamp is timezone-aware. A complaint carries one :class:`Label` per classification
scheme, an append-only :class:`Event` history, and a ``version`` that the store bumps on every
write so that a stale update is refused instead of silently overwriting someone else's.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "Channel",
    "Complaint",
    "EscalationLevel",
    "Event",
    "Label",
    "Party",
    "Remedy",
    "RemedyKind",
    "Status",
]


class Status(enum.StrEnum):
    """Where a complaint stands in the handling process (domain.md §2)."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    INVESTIGATING = "investigating"
    SOLUTION_PROPOSED = "solution_proposed"
    SOLUTION_ACCEPTED = "solution_accepted"
    IMPLEMENTING = "implementing"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.WITHDRAWN, Status.REJECTED})
OPEN_STATUSES = frozenset(set(Status) - TERMINAL_STATUSES - {Status.RESOLVED})


class Channel(enum.StrEnum):
    """How the complaint reached us (投诉渠道)."""

    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    WEB = "web"
    IN_PERSON = "in_person"
    WECHAT = "wechat"
    LETTER = "letter"
    SOCIAL_MEDIA = "social_media"
    REFERRAL = "referral"
    OTHER = "other"


class EscalationLevel(enum.IntEnum):
    """The four tiers of domain.md §4: who is handling the complaint now."""

    FRONT_LINE = 0
    DEPARTMENT = 1
    COMPLAINT_MANAGEMENT = 2
    LEADERSHIP = 3

    @property
    def slug(self) -> str:
        """The lower-case name used on the command line and in files."""
        return self.name.lower()


class RemedyKind(enum.StrEnum):
    """What the customer asks for, or what was offered (补救)."""

    REFUND = "refund"
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    COUPON = "coupon"
    APOLOGY = "apology"
    COMPENSATION = "compensation"
    EXPLANATION = "explanation"
    OTHER = "other"


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be timezone-aware, got {value.isoformat()}")


def _confidence(_instance: Any, _attribute: Any, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {value}")


def _satisfaction(_instance: Any, _attribute: Any, value: int | None) -> None:
    if value is not None and not 1 <= value <= 5:
        raise ValueError(f"satisfaction must be 1 to 5, got {value}")


@attrs.frozen
class Party:
    """The complainant (or another party): who they are and how to reach them."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    customer_id: str | None = None


@attrs.frozen
class Label:
    """One scheme's verdict on a complaint, with the phrases that decided it."""

    scheme: str
    label: str
    confidence: float = attrs.field(default=1.0, validator=_confidence)
    evidence: tuple[str, ...] = ()
    classifier: str = "manual"


@attrs.frozen
class Remedy:
    """A remedy offered to or accepted by the customer, with its value.

    ``customer_loss`` (V1) and ``complaint_cost`` (C) let the desk check the rule V2 ≥ V1 + C;
    ``approved_by`` is the role whose limit covered the offer.
    """

    kind: RemedyKind
    amount: float | None = None
    currency: str | None = None
    description: str | None = None
    accepted: bool = False
    customer_loss: float | None = None
    complaint_cost: float | None = None
    offered_by: str | None = None
    approved_by: str | None = None
    offered_at: datetime | None = attrs.field(default=None, validator=_aware)

    def as_data(self) -> dict[str, Any]:
        """Plain JSON data, as a stored complaint's ``remedies`` hold it
        (:func:`~complaintkit.serialization.complaint_to_data`, the SQL ``remedies`` column)."""
        return {
            "kind": self.kind.value,
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "accepted": self.accepted,
            "customer_loss": self.customer_loss,
            "complaint_cost": self.complaint_cost,
            "offered_by": self.offered_by,
            "approved_by": self.approved_by,
            "offered_at": None if self.offered_at is None else self.offered_at.isoformat(),
        }


@attrs.frozen
class Event:
    """One entry of the append-only history: who did what, when, and why.

    ``digest`` seals the history (see :mod:`complaintkit.audit`): the SHA-256 of this event
    and the digest of the one before it, set when the event is stored through the desk. It is
    None on events of a store written before sealing existed, until ``complaintkit audit seal``.
    """

    at: datetime = attrs.field(validator=_aware)
    actor: str
    action: str
    reason: str | None = None
    data: dict[str, Any] = attrs.field(factory=dict)
    digest: str | None = None


@attrs.frozen
class Complaint:
    """A customer complaint and everything known about its handling."""

    reference: str
    received_at: datetime = attrs.field(validator=_aware)
    text: str
    title: str | None = None
    channel: Channel = Channel.OTHER
    complainant: Party = attrs.field(factory=Party)
    product: str | None = None
    order: str | None = None
    remedy_sought: RemedyKind | None = None
    labels: dict[str, Label] = attrs.field(factory=dict)
    status: Status = Status.RECEIVED
    escalation_level: EscalationLevel = EscalationLevel.FRONT_LINE
    department: str | None = None
    assignee: str | None = None
    due_at: datetime | None = attrs.field(default=None, validator=_aware)
    alert_at: datetime | None = attrs.field(default=None, validator=_aware)
    sla_policy: str | None = None
    solution: str | None = None
    remedies: tuple[Remedy, ...] = ()
    satisfaction: int | None = attrs.field(default=None, validator=_satisfaction)
    parent: str | None = None
    recomplaint_count: int = 0
    tags: tuple[str, ...] = ()
    custom: dict[str, Any] = attrs.field(factory=dict)
    history: tuple[Event, ...] = ()
    version: int = 0

    def label(self, scheme: str) -> str | None:
        """The label this complaint carries in ``scheme``, or None if unclassified there."""
        found = self.labels.get(scheme)
        return found.label if found else None

    @property
    def is_open(self) -> bool:
        """True while someone still has to act on the complaint."""
        return self.status in OPEN_STATUSES
