"""Notification channels: what a channel plugin registers, and the message it is handed."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

__all__ = ["Notification", "NotificationChannel"]


@attrs.frozen
class Notification:
    """One message for one recipient about one complaint event."""

    event: str
    reference: str
    recipient: str
    subject: str
    body: str
    lang: str = "en"


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to reach people (console, e-mail, webhook, SMS gateway, WeCom, …).

    ``send`` delivers one notification or raises
    :class:`~complaintkit.errors.NotificationFailed` with a reason; the host calls each channel
    separately, so one failing channel never stops another.
    """

    name: str
    description: str

    def send(self, notification: Notification) -> None:
        """Deliver one notification."""
        ...
