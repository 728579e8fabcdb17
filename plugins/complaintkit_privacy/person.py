"""Everything held about one person: their complaints, with every history entry, and the
notifications written for those complaints or sent to them (a subject access request under the
PIPL or the GDPR; ``complaintkit person export``), and erasing them (``person erase``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit import ERASED, Party, Person, phone_digits

if TYPE_CHECKING:
    from complaintkit import Complaint, Desk, PluginHost, Store

__all__ = ["Erasure", "erase_person", "identifiers", "person_complaints", "person_data"]

_national = phone_digits


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


@attrs.frozen
class Erasure:
    """What ``person erase`` did (or, dry, would do): the person's complaints and other
    complaints that mention their phone or e-mail, each as references of complaints changed;
    how often each field changed; and what plugins changed (notifications and the like)."""

    own: tuple[str, ...]
    others: tuple[str, ...]
    fields: dict[str, int]
    plugins: dict[str, int]
    written: int


def erase_person(
    desk: Desk,
    *,
    phone: str | None,
    email: str | None,
    customer_id: str | None,
    reason: str,
    dry_run: bool,
    progress: Callable[[str, int], None] = lambda stage, n: None,
) -> Erasure:
    """Erase one person everywhere (see :mod:`complaintkit_privacy.erasure`): find their
    complaints by the identifiers given, learn from them their names, phone numbers and
    addresses, let plugins erase them (the notification outbox among them), then rewrite
    their complaints and any other complaint mentioning their phone or e-mail, in batches.

    A plugin that fails stops the erasure before any complaint is changed (raising
    :class:`~complaintkit.ComplaintkitError` naming it), so running it again still finds the
    person. The store is read once (``progress(stage, n)`` is told of each complaint read,
    ``"reading"``, and written, ``"writing"``); the other complaints that may mention the
    person are then read again by reference (:class:`~.erasure.MentionIndex`).
    """
    from complaintkit import ComplaintFilter, ComplaintkitError

    from .erasure import MentionIndex, Scrub, erased_fields, rewrite_complaints, scrub_complaint

    given = Person.of(phones=[phone or ""], emails=[email or ""], customer_ids=[customer_id or ""])
    own: list[Complaint] = []
    index = MentionIndex()
    for complaint in desk.store.find():
        progress("reading", 1)
        if _is_theirs(complaint.complainant, given):
            own.append(complaint)
        else:
            index.add(complaint)
    parties = [c.complainant for c in own]
    person = Person.of(
        phones=[*given.phones, *(p.phone or "" for p in parties)],
        emails=[*given.emails, *(p.email or "" for p in parties)],
        names=[p.name or "" for p in parties if p.name != ERASED],
        customer_ids=[*given.customer_ids, *(p.customer_id or "" for p in parties)],
        references=[c.reference for c in own],
    )
    plugins, failures = desk.host.erase_personal_data(desk.store, person, dry_run=dry_run)
    if failures:
        named = "; ".join(f"{f.plugin}: {f.error}" for f in failures)
        raise ComplaintkitError(
            f"erasure stopped, no complaint was changed: {named}. Fix the plugin (or disable "
            "it with COMPLAINTKIT_DISABLE_PLUGINS) and run the command again"
        )
    fields = desk.host.personal_fields()
    now, actor = desk.clock(), desk.actor

    def scrub(complaint: Complaint) -> Complaint:
        mine = complaint.reference in person.references
        return scrub_complaint(
            complaint,
            Scrub(person, own=mine, fields=fields),
            at=now,
            actor=actor,
            reason=reason,
            scope="person",
        )

    changed = [s for c in own if (s := scrub(c)) is not c]
    others: list[Complaint] = []
    candidates = index.candidates(person) - person.references
    if candidates:
        for complaint in desk.store.find(ComplaintFilter(references=frozenset(candidates))):
            scrubbed = scrub(complaint)
            if scrubbed is not complaint:
                others.append(scrubbed)
    counted: dict[str, int] = {}
    for complaint in (*changed, *others):
        for field in erased_fields(complaint):
            counted[field] = counted.get(field, 0) + 1
    written = 0
    if not dry_run:
        written = len(
            rewrite_complaints(desk, [*changed, *others], scrub, lambda n: progress("writing", n))
        )
    return Erasure(
        own=tuple(c.reference for c in changed),
        others=tuple(c.reference for c in others),
        fields=dict(sorted(counted.items())),
        plugins=plugins,
        written=written,
    )


def _is_theirs(party: Party, person: Person) -> bool:
    return bool(
        (party.phone and phone_digits(party.phone) in person.phones)
        or (party.email and party.email.strip().casefold() in person.emails)
        or (party.customer_id and party.customer_id.strip() in person.customer_ids)
    )
