"""The desk's case-work methods: edits, internal notes, attachments and merges.

Part of the :class:`~complaintkit.desk.Desk` façade, kept in a file of its own so that no
module of the desk grows past a few hundred lines; the work itself is done by
:class:`~complaintkit.desk.casework.CaseWork`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..model import Complaint
from .casework import CaseWork, notes_of

if TYPE_CHECKING:
    from ..attachments import Attachment
    from ..model import Event
    from ..storage import Store

__all__ = ["CaseFileMethods"]


class CaseFileMethods:
    """Edits, notes, attachments and merges, as the desk offers them."""

    _casework: CaseWork
    store: Store

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
        """Correct fields of a complaint (a phone number, a product), recorded as one ``edit``
        event with ``reason`` whose data holds ``{"from": old, "to": new}`` per field changed.

        ``changes`` maps field names to new values: ``complainant.name``, ``.phone``,
        ``.email``, ``.customer_id`` (or just ``name``, ``phone``, ``email``,
        ``customer_id``), ``product``, ``order``, ``title``, ``channel`` (a
        :class:`~complaintkit.model.Channel` or its name in English or Chinese), ``tags``
        (the whole list) and ``custom.KEY`` (any JSON value). None removes a value (a custom
        field, a phone number); ``add_tags``/``remove_tags`` change the tags one by one.
        An unknown field, a value of the wrong type or an invalid one (a phone number without
        digits) raises :class:`~complaintkit.errors.ValidationError` naming the field, and
        nothing is written. With ``expected_version`` the edit applies only to that version
        (:class:`~complaintkit.errors.ConflictError` otherwise: someone changed it since).
        ``actor`` (default: the desk's) is who made the change. Values equal to the stored
        ones are not recorded; when nothing differs, nothing is written.
        """
        return self._casework.edit(
            reference,
            changes,
            reason=reason,
            actor=actor,
            expected_version=expected_version,
            add_tags=add_tags,
            remove_tags=remove_tags,
        )

    def add_note(
        self,
        reference: str,
        text: str,
        *,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> Complaint:
        """Add an internal note (a ``note`` event, ``data["text"]``) for the people handling
        the complaint. Notes are never sent to the customer: notification templates and
        webhook payloads do not see the history. An empty note is refused."""
        return self._casework.add_note(
            reference, text, actor=actor, expected_version=expected_version
        )

    @staticmethod
    def notes(complaint: Complaint) -> list[Event]:
        """The internal notes of a complaint, oldest first."""
        return notes_of(complaint)

    def attach(
        self, reference: str, name: str, content: bytes, *, actor: str | None = None
    ) -> tuple[Complaint, Attachment]:
        """Attach a file to a complaint, kept by the store
        (:func:`~complaintkit.attachments.attachments_of`), recorded as an ``attach`` event
        (name, size, sha256, type). The name is made safe
        (:func:`~complaintkit.attachments.safe_name`); the size and the type read from the
        content are checked against ``[attachments]``
        (:func:`~complaintkit.attachments.check_attachment`); a refused file raises
        :class:`~complaintkit.errors.ValidationError` and nothing is stored. A name the
        complaint has is refused (:class:`~complaintkit.attachments.AttachmentExistsError`),
        except the same file left unrecorded by an attach that stopped before its event:
        attaching it again finishes that attach."""
        return self._casework.attach(reference, name, content, actor=actor)

    def attachments(self, reference: str) -> list[Attachment]:
        """The attachments of a complaint, oldest first."""
        self.store.get(reference)
        return self._casework.files().list(reference)

    def attachment(self, reference: str, name: str) -> tuple[Attachment, bytes]:
        """One attachment of a complaint and its content (AttachmentNotFound if none)."""
        files = self._casework.files()
        return files.get(reference, name), files.content(reference, name)

    def detach(
        self,
        reference: str,
        name: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Remove an attachment, recorded as a ``detach`` event (what the file was)."""
        return self._casework.detach(reference, name, reason=reason, actor=actor)

    def merge(
        self, keep: str, duplicate: str, *, reason: str, actor: str | None = None
    ) -> tuple[Complaint, Complaint]:
        """Merge ``duplicate`` into ``keep`` when both are the same case; returns both.

        The duplicate is rejected by the lifecycle's ``merge`` action (its ``parent`` becomes
        ``keep``; rejected is the lifecycle's end for "not a complaint of its own",
        duplicates included, and a merged complaint cannot be reopened). The kept one gets
        the duplicate's tags, copies of its notes and of its attachments, and a ``merged``
        event saying what came from where. Refused (nothing written) when the duplicate is no
        longer open, when ``keep`` is withdrawn or rejected, or without a reason. A merge
        stopped between its writes (the kept complaint first, then the duplicate) is finished
        by running it again, which carries nothing twice.
        """
        return self._casework.merge(keep, duplicate, reason=reason, actor=actor)
