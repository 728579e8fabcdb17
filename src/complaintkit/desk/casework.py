"""Case work: the everyday changes a handler makes besides moving a complaint along. Editing
its fields, internal notes, attachments, and merging two complaints that are the same case.

Every change is one event in the complaint's history, written through the desk's
:class:`~complaintkit.desk.writing.Writer` like any other change (version check, retry):

* ``edit`` — ``data`` holds ``{"from": old, "to": new}`` per field changed;
* ``note`` — ``data["text"]`` is the note. Notes are internal: no notification template and
  no webhook payload sees the history, and the reports read none of it;
* ``attach`` / ``detach`` — ``data`` names the file, its size, SHA-256 and type;
* ``merge`` (on the duplicate: it is rejected, its ``parent`` the kept complaint) and
  ``merged`` (on the kept one: what was carried over).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .. import intake, lifecycle
from ..attachments import (
    Attachment,
    AttachmentExistsError,
    AttachmentSettings,
    AttachmentStore,
    attachments_of,
    check_attachment,
    safe_name,
)
from ..errors import TransitionRejected, ValidationError
from ..model import Channel, Complaint, Event, Status
from .state import Change, DeskState
from .writing import Writer

__all__ = [
    "ATTACH",
    "DETACH",
    "EDIT",
    "EDITABLE_FIELDS",
    "MERGED",
    "NOTE",
    "CaseWork",
    "notes_of",
]

#: History actions of case work.
EDIT = "edit"
NOTE = "note"
ATTACH = "attach"
DETACH = "detach"
MERGED = "merged"

#: The fields :meth:`CaseWork.edit` changes, by the names it takes (``custom.KEY`` too).
EDITABLE_FIELDS = (
    "complainant.name",
    "complainant.phone",
    "complainant.email",
    "complainant.customer_id",
    "product",
    "order",
    "title",
    "channel",
    "tags",
)
_PARTY = ("name", "phone", "email", "customer_id")
# Shorter spellings of the complainant's fields, as ``complaintkit add`` names its options.
_ALIASES = {
    **{name: f"complainant.{name}" for name in _PARTY},
    **{f"complainant_{name}": f"complainant.{name}" for name in ("name", "phone", "email")},
}
# complaint_problems names fields its own way; which edit field each name is.
_PROBLEM_FIELDS = {
    "complainant_name": "complainant.name",
    "complainant_phone": "complainant.phone",
    "complainant_email": "complainant.email",
    "customer_id": "complainant.customer_id",
}
#: Longest note kept, in characters.
MAX_NOTE = 20_000


def notes_of(complaint: Complaint) -> list[Event]:
    """The internal notes of ``complaint`` (its ``note`` events), oldest first."""
    return [e for e in complaint.history if e.action == NOTE]


def _field(name: str) -> str:
    """The canonical name of an edit field, or ValidationError naming the unknown one."""
    if not isinstance(name, str):
        raise ValidationError("edit", [f"field {name!r}: a field name must be text"])
    key = _ALIASES.get(name.strip(), name.strip())
    if key in EDITABLE_FIELDS:
        return key
    if key.startswith("custom.") and key[7:].strip():
        return "custom." + key[7:].strip()
    raise ValidationError(
        "edit",
        [
            f"unknown field {name!r}; fields that can be edited: {', '.join(EDITABLE_FIELDS)}, "
            "custom.KEY"
        ],
    )


def _unstorable(field: str, value: str) -> None:
    if intake.clean_text(value)[1]:
        raise ValidationError(
            "edit",
            [
                f"field {field}: contains characters no store can hold "
                f"({intake.describe_removed(value)})"
            ],
        )


def _text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            "edit", [f"field {field}: expected text, got {type(value).__name__} {value!r}"]
        )
    text: str = value.strip()
    if not text:
        raise ValidationError(
            "edit", [f"field {field}: empty; to remove the value, unset it (--unset {field})"]
        )
    _unstorable(field, text)
    return text


def _tag(value: Any) -> str:
    tag = _text("tags", value)
    if tag is None:
        raise ValidationError("edit", ["field tags: a tag cannot be empty"])
    return tag


def _value(field: str, value: Any) -> Any:
    """``value`` checked (and normalised) for ``field``; ValidationError naming the field."""
    if field == "channel":
        if value is None:
            return Channel.OTHER
        if isinstance(value, Channel):
            return value
        if not isinstance(value, str):
            raise ValidationError("edit", [f"field channel: expected a channel, got {value!r}"])
        try:
            return intake.parse_channel(value)
        except ValueError as exc:
            raise ValidationError("edit", [f"field channel: {exc}"]) from None
    if field == "tags":
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise ValidationError("edit", [f"field tags: expected a list of texts, got {value!r}"])
        return tuple(dict.fromkeys(_tag(v) for v in value))
    if field.startswith("custom."):
        if isinstance(value, str):
            _unstorable(field, value)
        return value
    return _text(field, value)


def _get(c: Complaint, field: str) -> Any:
    if field.startswith("complainant."):
        return getattr(c.complainant, field[12:])
    if field.startswith("custom."):
        return c.custom.get(field[7:])
    if field == "tags":
        return c.tags
    return getattr(c, field)


def _plain(value: Any) -> Any:
    """A value as the history records it (JSON-compatible)."""
    if isinstance(value, Channel):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


class CaseWork:
    """Edits, notes, attachments and merges on one desk's complaints."""

    def __init__(self, state: DeskState, writer: Writer) -> None:
        self.s = state
        self.writer = writer

    # --- editing ------------------------------------------------------------------------

    def edit(
        self,
        reference: str,
        changes: Mapping[str, Any],
        *,
        reason: str,
        actor: str | None = None,
        expected_version: int | None = None,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
    ) -> Complaint:
        """Change fields of a complaint; see :meth:`Desk.edit <complaintkit.desk.Desk.edit>`."""
        where = f"edit of complaint {reference}"
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError(where, ["a reason is required (why is it changed?)"])
        planned: dict[str, Any] = {}
        try:
            for name, value in changes.items():
                field = _field(name)
                if field in planned:
                    raise ValidationError(where, [f"field {field} is given twice"])
                planned[field] = _value(field, value)
            added = tuple(dict.fromkeys(_tag(t) for t in add_tags))
            removed = tuple(dict.fromkeys(_tag(t) for t in remove_tags))
        except ValidationError as exc:
            raise ValidationError(where, exc.problems) from None
        if (added or removed) and "tags" in planned:
            raise ValidationError(where, ["set the tags, or add and remove tags, not both"])
        if set(added) & set(removed):
            both = ", ".join(sorted(set(added) & set(removed)))
            raise ValidationError(where, [f"tag(s) {both} both added and removed"])
        if not planned and not added and not removed:
            raise ValidationError(where, ["nothing to change: name a field and its new value"])

        def change(c: Complaint) -> Change:
            wanted = dict(planned)
            if added or removed:
                missing = [t for t in removed if t not in c.tags]
                if missing:
                    raise ValidationError(
                        where,
                        [
                            f"field tags: it has no tag {', '.join(map(repr, missing))} (its "
                            f"tags: {', '.join(c.tags) or 'none'})"
                        ],
                    )
                kept = [t for t in c.tags if t not in removed]
                wanted["tags"] = tuple(dict.fromkeys([*kept, *added]))
            data: dict[str, Any] = {}
            for field, value in wanted.items():
                old = _get(c, field)
                exists = not field.startswith("custom.") or field[7:] in c.custom
                if old == value and (exists or value is None):
                    continue
                data[field] = {"from": _plain(old), "to": _plain(value)}
            if not data:
                return Change(c)
            new = _applied(c, {f: wanted[f] for f in data})
            problems = [
                f"field {_PROBLEM_FIELDS.get(f or '', f)}: {why}"
                for f, why in intake.complaint_problems(new)
                if _PROBLEM_FIELDS.get(f or "", f) in data
                or (f == "custom" and any(k.startswith("custom.") for k in data))
            ]
            if problems:
                raise ValidationError(where, problems)
            event = Event(
                at=self.s.clock(),
                actor=actor or self.s.actor,
                action=EDIT,
                reason=reason.strip(),
                data=data,
            )
            return Change(attrs.evolve(new, history=c.history + (event,)))

        return self.writer.mutate(reference, change, expected_version=expected_version)

    # --- notes --------------------------------------------------------------------------

    def add_note(
        self,
        reference: str,
        text: str,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Complaint:
        """Add an internal note; see :meth:`Desk.add_note <complaintkit.desk.Desk.add_note>`."""
        where = f"note on complaint {reference}"
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(where, ["the note is empty"])
        text = text.strip()
        if len(text) > MAX_NOTE:
            raise ValidationError(
                where, [f"{len(text):,} characters, more than the {MAX_NOTE:,} a note may have"]
            )
        _unstorable("note", text)

        def change(c: Complaint) -> Change:
            event = Event(
                at=self.s.clock(), actor=actor or self.s.actor, action=NOTE, data={"text": text}
            )
            return Change(attrs.evolve(c, history=c.history + (event,)))

        return self.writer.mutate(reference, change, expected_version=expected_version)

    # --- attachments --------------------------------------------------------------------

    @property
    def settings(self) -> AttachmentSettings:
        """``[attachments]`` of the configuration."""
        return AttachmentSettings.from_config(self.s.host.config)

    def files(self) -> AttachmentStore:
        """The store's attachments (ConfigError when the backend has none)."""
        return attachments_of(self.s.store)

    def attach(
        self,
        reference: str,
        name: str,
        content: bytes,
        *,
        actor: str | None = None,
    ) -> tuple[Complaint, Attachment]:
        """Attach a file; see :meth:`Desk.attach <complaintkit.desk.Desk.attach>`."""
        shown, media_type, digest = check_attachment(
            name, content, self.settings, reference=reference
        )
        complaint = self.s.store.get(reference)  # an unknown reference stores nothing
        who = actor or self.s.actor
        files = self.files()
        try:
            stored = files.put(
                Attachment(reference, shown, len(content), digest, media_type, self.s.clock(), who),
                content,
            )
        except AttachmentExistsError:
            stored = _unrecorded(files, complaint, shown, digest)

        def change(c: Complaint) -> Change:
            data = stored.as_data()
            if shown != name:
                data["given_name"] = name
            event = Event(at=stored.added_at, actor=who, action=ATTACH, data=data)
            return Change(attrs.evolve(c, history=c.history + (event,)))

        try:
            complaint = self.writer.mutate(reference, change)
        except BaseException:
            # The history could not say so: the file is not kept either.
            files.remove(reference, shown)
            raise
        return complaint, stored

    def detach(
        self,
        reference: str,
        name: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Remove an attachment; see :meth:`Desk.detach <complaintkit.desk.Desk.detach>`."""
        self.s.store.get(reference)
        removed = self.files().remove(reference, name)

        def change(c: Complaint) -> Change:
            event = Event(
                at=self.s.clock(),
                actor=actor or self.s.actor,
                action=DETACH,
                reason=reason.strip() if reason and reason.strip() else None,
                data=removed.as_data(),
            )
            return Change(attrs.evolve(c, history=c.history + (event,)))

        return self.writer.mutate(reference, change)

    # --- merging ------------------------------------------------------------------------

    def merge(
        self, keep: str, duplicate: str, *, reason: str, actor: str | None = None
    ) -> tuple[Complaint, Complaint]:
        """Merge a duplicate into the complaint kept; see :meth:`Desk.merge
        <complaintkit.desk.Desk.merge>`."""
        if not isinstance(reason, str) or not reason.strip():
            raise TransitionRejected(f"cannot merge complaint {duplicate}: a reason is required")
        reason = reason.strip()
        if keep == duplicate:
            raise TransitionRejected(f"cannot merge complaint {keep} into itself")
        kept = self.s.store.get(keep)
        dup = self.s.store.get(duplicate)
        if kept.status in (Status.WITHDRAWN, Status.REJECTED):
            raise TransitionRejected(
                f"cannot merge into complaint {keep}: it is {kept.status.value}; keep the other "
                f"one (complaintkit merge {duplicate} {keep}) or reopen it first"
            )
        who = actor or self.s.actor
        # Refused before anything is written when the duplicate cannot be merged (closed...).
        lifecycle.apply(
            dup, lifecycle.MERGE, actor=who, at=self.s.clock(), reason=reason, parent=keep
        )
        carried_files = self._carry_files(dup, kept)
        notes = notes_of(dup)

        def carry(c: Complaint) -> Change:
            if _carried(c, dup):
                return Change(c)  # an earlier merge stopped after carrying: finish it
            at = self.s.clock()
            new_tags = [t for t in dup.tags if t not in c.tags]
            copied = tuple(
                Event(
                    at=at,
                    actor=who,
                    action=NOTE,
                    data={
                        "text": n.data.get("text", ""),
                        "author": n.actor,
                        "written_at": n.at.isoformat(),
                        "merged_from": duplicate,
                    },
                )
                for n in notes
            )
            merged = Event(
                at=at,
                actor=who,
                action=MERGED,
                reason=reason,
                data={
                    "duplicate": duplicate,
                    "tags": new_tags,
                    "notes": len(notes),
                    "attachments": [a.as_data() for a in carried_files],
                },
            )
            return Change(
                attrs.evolve(
                    c,
                    tags=c.tags + tuple(new_tags),
                    history=c.history + (merged,) + copied,
                )
            )

        kept = self.writer.mutate(keep, carry)

        def close(c: Complaint) -> Change:
            new, events = lifecycle.apply(
                c, lifecycle.MERGE, actor=who, at=self.s.clock(), reason=reason, parent=keep
            )
            return Change(new, (("complaint_transitioned", {"event": events[0]}),))

        dup = self.writer.mutate(duplicate, close)
        return kept, dup

    def _carry_files(self, dup: Complaint, kept: Complaint) -> list[Attachment]:
        """Copy the duplicate's attachments to the kept complaint (a name it already has
        for other content gets the duplicate's reference added); the copies made."""
        if not hasattr(self.s.store, "attachments"):
            return []  # a backend without attachments has none to carry
        files = self.files()
        have = {a.name: a for a in files.list(kept.reference)}
        copied: list[Attachment] = []
        for found in files.list(dup.reference):
            if have.get(found.name) is not None and have[found.name].sha256 == found.sha256:
                continue
            name = found.name
            if name in have:
                stem, dot, ext = name.rpartition(".")
                name = safe_name(
                    f"{stem}-{dup.reference}{dot}{ext}" if dot else f"{name}-{dup.reference}"
                )
                if have.get(name) is not None and have[name].sha256 == found.sha256:
                    continue  # carried by an earlier merge that did not finish
            content = files.content(dup.reference, found.name)
            copy = attrs.evolve(found, reference=kept.reference, name=name, added_at=self.s.clock())
            copied.append(files.put(copy, content))
            have[name] = copy
        return copied


def _unrecorded(files: AttachmentStore, complaint: Complaint, name: str, digest: str) -> Attachment:
    """The file ``name`` the complaint already has, when it is the same content and its
    history does not record it: an attach that stopped between keeping the file and writing
    its event (a crash). Attaching the same file again finishes that attach. Otherwise the
    name is taken: :class:`~complaintkit.attachments.AttachmentExistsError`."""
    found = files.get(complaint.reference, name)
    last = next(
        (
            e.action
            for e in reversed(complaint.history)
            if e.action in (ATTACH, DETACH) and e.data.get("name") == name
        ),
        None,
    )
    if found.sha256 != digest or last == ATTACH:
        raise AttachmentExistsError(complaint.reference, name)
    return found


def _carried(kept: Complaint, dup: Complaint) -> bool:
    """Whether ``kept`` already holds what merging ``dup`` carries: a ``merged`` event for it
    no older than anything in the duplicate's history. A merge writes the kept complaint
    first and the duplicate second; one stopped in between (a crash, a lost connection) is
    finished by running it again, without carrying the tags, notes and files twice."""
    last = max(e.at for e in dup.history) if dup.history else None
    return any(
        e.action == MERGED
        and e.data.get("duplicate") == dup.reference
        and (last is None or e.at >= last)
        for e in kept.history
    )


def _applied(c: Complaint, values: Mapping[str, Any]) -> Complaint:
    """``c`` with ``values`` (canonical edit fields) set; a custom field set to None is
    removed."""
    party: dict[str, Any] = {}
    custom = dict(c.custom)
    changes: dict[str, Any] = {}
    for field, value in values.items():
        if field.startswith("complainant."):
            party[field[12:]] = value
        elif field.startswith("custom."):
            if value is None:
                custom.pop(field[7:], None)
            else:
                custom[field[7:]] = value
        else:
            changes[field] = value
    if party:
        changes["complainant"] = attrs.evolve(c.complainant, **party)
    if custom != c.custom or any(f.startswith("custom.") for f in values):
        changes["custom"] = custom
    return attrs.evolve(c, **changes)
