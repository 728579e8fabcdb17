"""Erasing a person (``complaintkit person erase``) and anonymising expired complaints
(``complaintkit retention apply``): one function rewrites a complaint, :func:`scrub_complaint`.

What a scrub changes, and what it keeps:

* the complainant party of the person's own complaints: the name becomes ``[erased]``, phone,
  e-mail and customer id are removed; in other complaints only a value that *is* one of their
  phone numbers, addresses or customer ids;
* custom fields declared personal (``[privacy] fields``, ``register_personal_fields``): in the
  person's complaints a value of a contact kind (name, phone, address, ID, card, identifier)
  becomes ``[erased]``; free text (kind ``text``) is treated like the complaint's text;
* free text — title, text, solution, history reasons and details, remedy descriptions, label
  evidence, tags: the person's phone numbers (any spelling) and e-mail addresses become
  ``[erased]`` wherever they appear, their names only in their own complaints (a name is not
  unique); retention then masks any other phone, e-mail, ID or card number found by its form.

Labels, times, status, department, remedies' kinds and figures stay, so reports do not change.
The scrub ends with a ``personal_data_erased`` event saying why, which fields changed and how
many values were replaced, never what they were. Nothing to change returns the complaint
itself, so running an erasure twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit import ERASED, Complaint, Event, Party, Person, PersonalField
from complaintkit.audit import seal_rewrite

from .masking import map_strings, mask_text

if TYPE_CHECKING:
    from datetime import datetime

    from complaintkit import Desk, Store
    from complaintkit.outbox import OutboxMessage

__all__ = [
    "ERASE_ACTION",
    "MentionIndex",
    "Scrub",
    "erased_fields",
    "remove_attachments",
    "rewrite_complaints",
    "scrub_complaint",
    "scrub_message",
    "scrub_outbox",
    "scrub_outbox_for",
]

#: The history entry an erasure or a retention run leaves in each complaint it changed.
ERASE_ACTION = "personal_data_erased"
#: Complaints written per store call.
BATCH = 500
_CONTACT_KINDS = ("name", "phone", "email", "address", "id_card", "bank_card", "identifier")


@attrs.frozen
class Scrub:
    """How to scrub one complaint: whose data (``person``), whether the complaint is theirs
    (``own``: the whole party and every personal field go, names are replaced in texts), the
    personal fields in force, and whether to mask what else is found in texts (retention)."""

    person: Person
    own: bool
    fields: Sequence[PersonalField]
    mask: bool = False

    @classmethod
    def retention(cls, complaint: Complaint, fields: Sequence[PersonalField]) -> Scrub:
        """The scrub of an expired complaint: its own complainant, everything masked."""
        party = complaint.complainant
        person = Person.of(
            phones=[party.phone or ""],
            emails=[party.email or ""],
            names=[party.name or ""] if party.name != ERASED else [],
            customer_ids=[party.customer_id or ""],
            references=[complaint.reference],
        )
        return cls(person, own=True, fields=fields, mask=True)


class _Texts:
    """Replaces the person in texts, counting replacements and the fields that changed."""

    def __init__(self, scrub: Scrub) -> None:
        self.scrub = scrub
        self.replaced = 0
        self.fields: set[str] = set()
        self._mask: Callable[[str], str] | None = mask_text if scrub.mask else None

    def text(self, value: str | None, where: str) -> str | None:
        if not value:
            return value
        person = self.scrub.person
        if person.is_identifier(value) and value != ERASED:
            new, n = ERASED, 1
        else:
            new, n = person.replace(value, names=self.scrub.own)
        if self._mask is not None:
            masked = self._mask(new)
            n += masked != new
            new = masked
        if new != value:
            self.replaced += n
            self.fields.add(where)
        return new

    def data(self, value: Any, where: str) -> Any:
        """Every string inside an event's details or a payload, scrubbed as text."""
        return map_strings(value, lambda text: self.text(text, where))


def _party(party: Party, scrub: Scrub, texts: _Texts) -> Party:
    changes: dict[str, Any] = {}
    person = scrub.person
    for name in ("phone", "email", "customer_id"):
        value = getattr(party, name)
        if value and (scrub.own or person.is_identifier(value)):
            changes[name] = None
    if party.name and party.name != ERASED and scrub.own:
        changes["name"] = ERASED
    for name in changes:
        texts.fields.add(f"complainant.{name}")
        texts.replaced += 1
    return attrs.evolve(party, **changes) if changes else party


def _custom(custom: Mapping[str, Any], scrub: Scrub, texts: _Texts) -> dict[str, Any]:
    out = dict(custom)
    for field in scrub.fields:
        head, _, name = field.path.partition(".")
        if head != "custom" or not isinstance(out.get(name), str) or not out[name]:
            continue
        value = out[name]
        if field.kind in _CONTACT_KINDS and scrub.own and value != ERASED:
            out[name] = ERASED
            texts.fields.add(field.path)
            texts.replaced += 1
        else:
            out[name] = texts.text(value, field.path)
    return out


def scrub_complaint(
    complaint: Complaint,
    scrub: Scrub,
    *,
    at: datetime,
    actor: str,
    reason: str,
    scope: str,
) -> Complaint:
    """``complaint`` with the person of ``scrub`` erased from it (see the module) and a
    ``personal_data_erased`` event by ``actor`` at ``at`` appended, whose data holds
    ``scope`` (``person`` or ``retention``), the fields changed and how many values were
    replaced; ``reason`` is recorded scrubbed too. The complaint itself when nothing changes.

    This is the one place a complaint's history is rewritten: everything an erasure changes
    in a complaint passes through here.
    """
    if not scrub.own and not scrub.mask and not _mentions(complaint, scrub.person):
        return complaint  # most complaints of a store: looked at quickly, left alone
    texts = _Texts(scrub)
    party = _party(complaint.complainant, scrub, texts)
    custom = _custom(complaint.custom, scrub, texts)
    title = texts.text(complaint.title, "title")
    text = texts.text(complaint.text, "text") or ""
    solution = texts.text(complaint.solution, "solution")
    events_changed = 0
    events: list[Event] = []
    for event in complaint.history:
        before = texts.replaced
        rewritten = attrs.evolve(
            event,
            reason=texts.text(event.reason, "history"),
            data=texts.data(event.data, "history"),
        )
        if texts.replaced != before:
            events_changed += 1
            events.append(rewritten)
        else:
            events.append(event)
    remedies = tuple(
        attrs.evolve(r, description=texts.text(r.description, "remedies"))
        for r in complaint.remedies
    )
    labels = {
        scheme: attrs.evolve(
            label, evidence=tuple(texts.text(e, "labels") or "" for e in label.evidence)
        )
        for scheme, label in complaint.labels.items()
    }
    tags = tuple(texts.text(tag, "tags") or "" for tag in complaint.tags)
    if not texts.fields:
        return complaint
    recorded = Event(
        at=at,
        actor=actor,
        action=ERASE_ACTION,
        reason=scrub.person.replace(reason, names=True)[0],
        data={
            "scope": scope,
            "fields": sorted(texts.fields),
            "replaced": texts.replaced,
            "events_rewritten": events_changed,
        },
    )
    # The rewritten events are sealed again from the first one changed, and the erasure event
    # records the chain's head before the rewrite (complaintkit.audit), so `audit verify`
    # still finds every chain whole, erasures included.
    history = seal_rewrite(complaint.reference, complaint.history, events, recorded)
    return attrs.evolve(
        complaint,
        complainant=party,
        custom=custom,
        title=title,
        text=text,
        solution=solution,
        remedies=remedies,
        labels=labels,
        tags=tags,
        history=history,
    )


def _strings(values: list[Any]) -> list[str]:
    """Every string inside ``values`` (nested mappings, lists and tuples), flat."""
    found: list[str] = []
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
    return found


def _values(complaint: Complaint) -> list[Any]:
    """Where a complaint holds free text and details (for :func:`_strings`)."""
    values: list[Any] = [complaint.title, complaint.text, complaint.solution, complaint.custom]
    for event in complaint.history:
        values.append(event.reason)
        if event.data:
            values.append(event.data)
    values += [r.description for r in complaint.remedies]
    values += [label.evidence for label in complaint.labels.values()]
    values.append(complaint.tags)
    return values


def _mentions(complaint: Complaint, person: Person) -> bool:
    """Whether a complaint not theirs holds the person's phone, e-mail or customer id
    anywhere: a literal test first (the last four digits of a phone number are written
    together in every spelling; an address has an @), the pattern only where that hits."""
    party = complaint.complainant
    if any(v and person.is_identifier(v) for v in (party.phone, party.email, party.customer_id)):
        return True
    keys = [p[-4:] for p in person.phones] + list(person.customer_ids)
    if person.emails:
        keys.append("@")
    pattern = person.pattern(names=False)
    for text in _strings(_values(complaint)):
        for key in keys:
            if key in text:
                if person.is_identifier(text) or (pattern is not None and pattern.search(text)):
                    return True
                break
    return False


_DIGIT_RUN = re.compile(r"\d[\d\s.()\-]{5,40}\d")
_LOOSE_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*")


class MentionIndex:
    """Which complaints hold which phone numbers, e-mail addresses and short whole values,
    built in the same read of the store that finds a person's complaints, so that the other
    complaints mentioning what their complaints reveal (an address, a second number) are read
    again by reference instead of in a second read of the whole store.

    It over-approximates :func:`_mentions` and never misses: every window of seven digits of
    every run of digits is a key (the last seven digits of a number are written together in
    any spelling), every address (and its domain cut at each dot), every short value with a
    digit in it (a customer id)."""

    def __init__(self) -> None:
        self.keys: dict[str, set[str]] = {}

    def add(self, complaint: Complaint) -> None:
        """Index the strings of ``complaint`` under its reference."""
        reference = complaint.reference
        party = complaint.complainant
        for text in _strings([*_values(complaint), party.phone, party.email, party.customer_id]):
            for key in _keys(text):
                self.keys.setdefault(key, set()).add(reference)

    def candidates(self, person: Person) -> set[str]:
        """References of the complaints that may mention ``person`` (phone, e-mail or id)."""
        found: set[str] = set()
        wanted = [f"#{p[-7:]}" for p in person.phones] + [f"@{e}" for e in person.emails]
        wanted += [f"={c}" for c in person.customer_ids]
        for key in wanted:
            found |= self.keys.get(key, set())
        return found


def _keys(text: str) -> set[str]:
    keys: set[str] = set()
    for run in _DIGIT_RUN.findall(text):
        digits = re.sub(r"\D", "", run)
        keys.update(f"#{digits[i : i + 7]}" for i in range(len(digits) - 6))
    if "@" in text:
        for address in _LOOSE_EMAIL.findall(text):
            local, _, domain = address.lower().partition("@")
            parts = domain.split(".")
            keys.update(f"@{local}@{'.'.join(parts[:n])}" for n in range(1, len(parts) + 1))
    stripped = text.strip()
    if len(stripped) <= 64 and any(c.isdigit() for c in stripped):
        keys.add(f"={stripped}")
    return keys


def erased_fields(complaint: Complaint) -> list[str]:
    """The fields the last scrub of ``complaint`` changed (from its last event)."""
    last = complaint.history[-1] if complaint.history else None
    if last is None or last.action != ERASE_ACTION:
        return []
    return list(last.data.get("fields", []))


def rewrite_complaints(
    desk: Desk,
    scrubbed: Iterable[Complaint],
    again: Callable[[Complaint], Complaint],
    progress: Callable[[int], None] = lambda n: None,
) -> tuple[str, ...]:
    """Write scrubbed complaints with ``update_many``, :data:`BATCH` at a time; one changed by
    someone else meanwhile is read again and scrubbed again (``again``), until it is written.
    Returns the references written."""
    from complaintkit import ComplaintFilter

    written: list[str] = []
    batch: list[Complaint] = []

    def flush() -> None:
        pending = list(batch)
        batch.clear()
        for _attempt in range(5):
            if not pending:
                return
            result = desk.store.update_many(pending)
            written.extend(c.reference for c in result.updated)
            progress(len(result.updated))
            if not result.conflicts:
                return
            fresh = desk.store.find(ComplaintFilter(references=frozenset(result.conflicts)))
            pending = [s for f in fresh if (s := again(f)) is not f]
        if pending:
            from complaintkit import StorageError

            raise StorageError(
                f"{len(pending)} complaint(s) kept changing while being erased "
                f"({', '.join(c.reference for c in pending[:5])}); run the command again"
            )

    for complaint in scrubbed:
        batch.append(complaint)
        if len(batch) >= BATCH:
            flush()
    flush()
    return tuple(written)


# --- the outbox ------------------------------------------------------------------------------


def scrub_message(
    message: OutboxMessage, person: Person, *, own: bool, mask: bool = False
) -> OutboxMessage:
    """``message`` with ``person`` erased: addressed to them, its recipient becomes
    ``[erased]`` and, if it was still waiting, it is given up (status dead, never sent); their
    phone numbers, addresses (and with ``own``, names) in its key, subject, body, last error
    and payload become ``[erased]``; ``mask`` masks other personal data in the texts too."""
    from complaintkit.outbox import MessageStatus

    texts = _Texts(Scrub(person, own=own, fields=(), mask=mask))
    changes: dict[str, Any] = {}
    recipient = message.recipient
    to_them = person.is_identifier(recipient) or (own and recipient.strip() in person.names)
    if to_them:
        changes["recipient"] = ERASED
        if message.status is MessageStatus.PENDING:
            changes.update(
                status=MessageStatus.DEAD,
                lease_until=None,
                claimed_by=None,
            )
            texts.fields.add("status")
    key = person.replace(message.key, names=own)[0]
    if to_them and key.endswith(recipient) and recipient:
        key = key[: -len(recipient)] + ERASED
    if key != message.key:
        changes["key"] = key
    changes["subject"] = texts.text(message.subject, "subject")
    changes["body"] = texts.text(message.body, "body") or ""
    changes["payload"] = texts.data(message.payload, "payload")
    if to_them and changes.get("status") is not None:
        changes["last_error"] = "not sent: the recipient's personal data was erased"
    else:
        changes["last_error"] = texts.text(message.last_error, "last_error")
    if not to_them and "key" not in changes and not texts.fields:
        return message
    return attrs.evolve(message, **changes)


def _outbox(store: Store) -> Any:
    from complaintkit import ConfigError
    from complaintkit.outbox import outbox_of

    try:
        return outbox_of(store)
    except ConfigError:  # a store without an outbox holds no notifications
        return None


def _write_messages(outbox: Any, rewritten: dict[str, OutboxMessage], dry_run: bool) -> int:
    """Give every rewritten message a key no other message has, then store them at once."""
    if not rewritten or dry_run:
        return len(rewritten)
    taken = {m.key for m in outbox.messages()} - set(rewritten)
    unique: dict[str, OutboxMessage] = {}
    for old, new in rewritten.items():
        key, n = new.key, 1
        while key in taken:
            n += 1
            key = f"{new.key}#{n}"
        taken.add(key)
        unique[old] = attrs.evolve(new, key=key) if key != new.key else new
    outbox.rewrite(unique)
    return len(unique)


def scrub_outbox(store: Store, person: Person, *, dry_run: bool) -> int:
    """Erase ``person`` from the notifications queued or sent in ``store``'s outbox: those
    about their complaints (names too) and any other addressed to them or mentioning their
    phone or e-mail. Returns how many messages were (or would be) rewritten."""
    outbox = _outbox(store)
    if outbox is None:
        return 0
    rewritten: dict[str, OutboxMessage] = {}
    for message in outbox.messages():
        own = message.reference in person.references
        new = scrub_message(message, person, own=own)
        if new is not message and new != message:
            rewritten[message.key] = new
    return _write_messages(outbox, rewritten, dry_run)


def scrub_outbox_for(
    store: Store, people: Mapping[str, Person], *, dry_run: bool, mask: bool
) -> int:
    """Erase, from the notifications about each complaint of ``people`` (reference → its
    complainant), that complainant; one read of the outbox. Returns how many messages were
    (or would be) rewritten."""
    if not people:
        return 0
    outbox = _outbox(store)
    if outbox is None:
        return 0
    rewritten: dict[str, OutboxMessage] = {}
    for message in outbox.messages():
        person = people.get(message.reference or "")
        if person is None:
            continue
        new = scrub_message(message, person, own=True, mask=mask)
        if new is not message and new != message:
            rewritten[message.key] = new
    return _write_messages(outbox, rewritten, dry_run)


def remove_attachments(store: Store, person: Person, *, dry_run: bool) -> int:
    """Delete the files attached to the person's own complaints (``person.references``); how
    many were (or, with ``dry_run``, would be) deleted. A store that keeps no attachments has
    none. The complaint's history keeps what each file was (name, size, type, digest), and the
    erasure's own event, written after, says that the person's data was erased."""
    if not hasattr(store, "attachments"):
        return 0
    from complaintkit import attachments_of

    files = attachments_of(store)
    removed = 0
    for reference in sorted(person.references):
        for found in files.list(reference):
            if not dry_run:
                files.remove(reference, found.name)
            removed += 1
    return removed
