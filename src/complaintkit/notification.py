"""Notification channels: what a channel plugin registers, and how it reports a delivery.

A channel receives one stored :class:`~complaintkit.outbox.OutboxMessage` at a time from the
outbox worker (``complaintkit outbox drain``) and either returns a :class:`DeliveryResult`
(the receiver confirmed it) or raises :class:`DeliveryError` saying whether trying again later
can help (``permanent=False``: connection refused, timeout, SMTP 4xx, HTTP 5xx) or not
(``permanent=True``: SMTP 5xx, HTTP 4xx, an address the receiver refuses). The worker retries
temporary failures with backoff and gives up on permanent ones at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from .errors import NotificationFailed

if TYPE_CHECKING:
    from .outbox import OutboxMessage

__all__ = ["ADDRESS_KINDS", "DeliveryError", "DeliveryResult", "NotificationChannel"]

#: What a channel's recipients are: e-mail addresses, phone numbers, or names the receiver
#: interprets itself (a webhook, a chat robot, the console).
ADDRESS_KINDS = ("email", "phone", "name")


@attrs.frozen
class DeliveryResult:
    """A confirmed delivery: ``detail`` is what the receiver answered (a status, an id)."""

    detail: str = ""


class DeliveryError(NotificationFailed):
    """A channel could not deliver a message; ``permanent`` says whether a retry can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to reach people (console, e-mail, webhook, SMS gateway, WeCom, DingTalk, …).

    ``name`` is what rules refer to; ``address_kind`` (one of :data:`ADDRESS_KINDS`) tells the
    rule engine which address of a person to use. ``send`` delivers one message or raises
    :class:`DeliveryError`; it is only ever called by the outbox worker, never during a
    lifecycle change, so a failing channel never blocks a change or another channel.
    """

    name: str
    description: str
    address_kind: str

    def send(self, message: OutboxMessage) -> DeliveryResult:
        """Deliver one message (idempotency key ``message.key``) or raise DeliveryError."""
        ...
