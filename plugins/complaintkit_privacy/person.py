"""Everything held about one person: their complaints, with every history entry, and the
notifications written for those complaints or sent to them (a subject access request under the
PIPL or the GDPR; ``complaintkit person export``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from complaintkit import Complaint, PluginHost, Store

__all__ = ["identifiers", "person_complaints", "person_data"]


def _national(phone: str) -> str:
    """A phone number's digits without China's country code (``+86 138-1234-5678`` and
    ``13812345678`` are the same number)."""
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


def identifiers(*, phone: str | None, email: str | None, customer_id: str | None) -> list[str]:
    """The person's identifiers as given (for the export's header), empty ones left out."""
    return [v.strip() for v in (phone, email, customer_id) if v and v.strip()]


def person_complaints(
    store: Store, *, phone: str | None, email: str | None, customer_id: str | None
) -> Iterator[Complaint]:
    """The complaints whose complainant is the person: the same phone number however it is
    written, the same e-mail address in any case, or the same customer id; oldest first.

    Every complaint is read once (a phone number may be stored in any of its spellings, which
    no index can match), so the cost is one full read of the store.
    """
    wanted_phone = _national(phone) if phone else None
    wanted_email = email.strip().casefold() if email else None
    wanted_id = customer_id.strip() if customer_id else None
    for complaint in store.find():
        who = complaint.complainant
        if (
            (wanted_phone and who.phone and _national(who.phone) == wanted_phone)
            or (wanted_email and who.email and who.email.strip().casefold() == wanted_email)
            or (wanted_id and who.customer_id == wanted_id)
        ):
            yield complaint


def person_data(
    host: PluginHost, store: Store, values: list[str], complaints: list[Complaint]
) -> dict[str, Any]:
    """The export: the identifiers asked for, every complaint as ``show --format json`` prints
    it (in full), and the notifications about those complaints or addressed to the person."""
    from complaintkit import ConfigError
    from complaintkit.outbox import outbox_of

    converter = host.converter()
    references = {c.reference for c in complaints}
    wanted = set(values) | {v.casefold() for v in values} | {_national(v) for v in values}
    messages: list[dict[str, Any]] = []
    try:
        outbox = outbox_of(store)
    except ConfigError:  # a store without an outbox has sent nothing
        outbox = None
    if outbox is not None:
        for message in outbox.messages():
            recipient = message.recipient.strip()
            if message.reference in references or {
                recipient,
                recipient.casefold(),
                _national(recipient),
            } & wanted - {""}:
                messages.append(
                    {
                        "key": message.key,
                        "channel": message.channel,
                        "recipient": message.recipient,
                        "subject": message.subject,
                        "body": message.body,
                        "event": message.event,
                        "reference": message.reference,
                        "status": str(message.status),
                        "created_at": message.created_at.isoformat(),
                        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
                    }
                )
    return {
        "identifiers": values,
        "complaints": [converter.unstructure(c) for c in complaints],
        "notifications": messages,
    }
