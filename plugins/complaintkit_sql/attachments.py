"""The attachments of a SQL store: table ``ck_attachments`` in the same database.

One row per (complaint, name) with the file's content in the row, so a backup of the database
is a backup of the attachments, a transaction writes the whole file or none of it, and the
rows go with their complaint (``ON DELETE CASCADE``). Names are plain column values here:
they never become paths.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from complaintkit.attachments import Attachment, AttachmentExistsError, AttachmentNotFound
from complaintkit.errors import NotFoundError, StorageError

from .store import _join, _utc

if TYPE_CHECKING:
    from .store import SQLStore

__all__ = ["SQLAttachments"]


class SQLAttachments:
    """An :class:`~complaintkit.attachments.AttachmentStore` in the store's database."""

    def __init__(self, store: SQLStore) -> None:
        self.store = store
        self.table = store.tables.attachments

    def _columns(self) -> list[sa.ColumnElement[Any]]:
        t = self.table.c
        return [
            t.reference,
            t.name,
            t.size,
            t.sha256,
            t.media_type,
            t.added_utc,
            t.added_offset,
            t.added_by,
        ]

    @staticmethod
    def _attachment(row: Any) -> Attachment:
        at = _join(row.added_utc, row.added_offset)
        assert at is not None
        return Attachment(
            row.reference, row.name, row.size, row.sha256, row.media_type, at, row.added_by
        )

    def put(self, attachment: Attachment, content: bytes) -> Attachment:
        """Insert the row with its content; a name the complaint has is refused."""
        a = attachment
        if hashlib.sha256(content).hexdigest() != a.sha256:
            raise StorageError(f"attachment {a.name!r}: the digest does not match")
        offset = a.added_at.utcoffset() or timedelta(0)
        complaints = self.store.tables.complaints
        with self.store._writing() as conn:
            known = conn.execute(
                sa.select(complaints.c.reference).where(complaints.c.reference == a.reference)
            ).first()
            if known is None:
                raise NotFoundError(a.reference)
            taken = conn.execute(
                sa.select(self.table.c.name).where(
                    self.table.c.reference == a.reference, self.table.c.name == a.name
                )
            ).first()
            if taken is not None:
                raise AttachmentExistsError(a.reference, a.name)
            try:
                conn.execute(
                    sa.insert(self.table).values(
                        reference=a.reference,
                        name=a.name,
                        size=a.size,
                        sha256=a.sha256,
                        media_type=a.media_type,
                        added_utc=_utc(a.added_at),
                        added_offset=int(offset.total_seconds()),
                        added_by=a.added_by,
                        content=content,
                    )
                )
            except sa.exc.IntegrityError:
                # Another process stored the same name between our check and our insert.
                raise AttachmentExistsError(a.reference, a.name) from None
        return attachment

    def get(self, reference: str, name: str) -> Attachment:
        """The attachment ``name`` of ``reference``."""
        t = self.table.c
        with self.store._connect() as conn:
            row = conn.execute(
                sa.select(*self._columns()).where(t.reference == reference, t.name == name)
            ).first()
        if row is None:
            raise AttachmentNotFound(reference, name)
        return self._attachment(row)

    def content(self, reference: str, name: str) -> bytes:
        """The file's bytes, checked against its digest."""
        t = self.table.c
        with self.store._connect() as conn:
            row = conn.execute(
                sa.select(t.sha256, t.content).where(t.reference == reference, t.name == name)
            ).first()
        if row is None:
            raise AttachmentNotFound(reference, name)
        data = bytes(row.content)
        if hashlib.sha256(data).hexdigest() != row.sha256:
            raise StorageError(
                f"attachment {name!r} of complaint {reference}: its content was changed in the "
                "database (digest differs)"
            )
        return data

    def list(self, reference: str) -> list[Attachment]:
        """The attachments of ``reference``, oldest first (ties by name)."""
        t = self.table.c
        with self.store._connect() as conn:
            rows = conn.execute(
                sa.select(*self._columns())
                .where(t.reference == reference)
                .order_by(t.added_utc, t.name)
            ).all()
        return [self._attachment(row) for row in rows]

    def remove(self, reference: str, name: str) -> Attachment:
        """Delete the row; return what it was."""
        t = self.table.c
        with self.store._writing() as conn:
            row = conn.execute(
                sa.select(*self._columns()).where(t.reference == reference, t.name == name)
            ).first()
            if row is None:
                raise AttachmentNotFound(reference, name)
            conn.execute(sa.delete(self.table).where(t.reference == reference, t.name == name))
        return self._attachment(row)

    def references(self) -> Iterator[str]:
        """Every reference with an attachment, in order."""
        t = self.table.c
        with self.store._connect() as conn:
            rows = conn.execute(sa.select(t.reference).distinct().order_by(t.reference)).all()
        return iter([row.reference for row in rows])
