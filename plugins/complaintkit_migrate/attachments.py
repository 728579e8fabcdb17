"""Carry the complaints' attachments along with a migration, and verify them.

Attachments live beside the complaints (:func:`~complaintkit.attachments.attachments_of`), so
:func:`~complaintkit_migrate.copying.copy_store` does not see them; :func:`copy_attachments`
copies them after the complaints, complaint by complaint, one file at a time (a file is at
most the configured size limit, so memory stays small). Like the complaints' copy it resumes:
a file already at the destination under the same name with the same SHA-256 is left alone,
one with other content is refused (:class:`~complaintkit.errors.MigrationError`), never
overwritten. :func:`verify_attachments` compares both sides by name, size, type and digest.
"""

from __future__ import annotations

import attrs

from complaintkit.attachments import Attachment, AttachmentStore, attachments_of
from complaintkit.errors import MigrationError
from complaintkit.redact import redact_url
from complaintkit.storage import Store

__all__ = ["AttachmentCopy", "copy_attachments", "verify_attachments"]


@attrs.frozen
class AttachmentCopy:
    """Files copied now, and files found at the destination already (equal)."""

    copied: int
    already_there: int


def _files(store: Store) -> AttachmentStore | None:
    return attachments_of(store) if hasattr(store, "attachments") else None


def _key(a: Attachment) -> tuple[str, int, str, str]:
    return (a.name, a.size, a.media_type, a.sha256)


def copy_attachments(source: Store, destination: Store) -> AttachmentCopy | None:
    """Copy every attachment of ``source`` to ``destination``; None when the source's backend
    keeps none. A destination that cannot keep them, while the source has some, is refused."""
    origin = _files(source)
    if origin is None:
        return None
    references = list(origin.references())
    target = _files(destination)
    if target is None:
        if references:
            raise MigrationError(
                f"the destination {redact_url(destination.url)} cannot keep attachments, and "
                f"{len(references):,} complaints of the source have some"
            )
        return None
    copied = already = 0
    for reference in references:
        there = {a.name: a for a in target.list(reference)}
        for found in origin.list(reference):
            held = there.get(found.name)
            if held is not None:
                if _key(held) != _key(found):
                    raise MigrationError(
                        f"the destination {redact_url(destination.url)} holds another file "
                        f"as attachment {found.name!r} of complaint {reference}; not overwritten"
                    )
                already += 1
                continue
            target.put(found, origin.content(reference, found.name))
            copied += 1
    return AttachmentCopy(copied, already)


def verify_attachments(source: Store, destination: Store) -> list[str]:
    """What differs between the two stores' attachments (empty: they agree), one line each,
    at most ten."""
    origin, target = _files(source), _files(destination)
    if origin is None:
        return []
    problems: list[str] = []
    for reference in origin.references():
        want = sorted(_key(a) for a in origin.list(reference))
        have = sorted(_key(a) for a in target.list(reference)) if target is not None else []
        if want != have:
            names = sorted({k[0] for k in set(want) ^ set(have)})
            problems.append(f"attachments of {reference} differ: {', '.join(names)}")
            if len(problems) >= 10:
                break
    return problems
