"""The TinyDB store's attachments: files in a folder beside the JSON file.

``complaints.json`` gets ``complaints.attachments/``, holding

* ``blobs/ab/ab12…`` — each file's content once, named by its SHA-256 (content-addressed: a
  path is made of hex digits only, so no attachment name can lead outside the folder, and the
  same photo attached to two complaints, or carried over by a merge, is kept once);
* ``index.sqlite`` — which complaint has which file under which name (SQLite from the standard
  library, WAL, a busy timeout: several processes share it as they share the outbox).

A file is written to a temporary name, flushed to disk and renamed into place before its row
is inserted, so a crash leaves either the whole attachment or a blob that no row names (never
a row naming a partial file). A blob is deleted when the last row naming it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from complaintkit.attachments import Attachment, AttachmentExistsError, AttachmentNotFound
from complaintkit.errors import StorageError

__all__ = ["FolderAttachments", "attachments_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attachments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    UNIQUE (reference, name)
);
CREATE INDEX IF NOT EXISTS attachments_sha ON attachments (sha256);
"""
_COLUMNS = "reference, name, size, sha256, media_type, added_at, added_by"
_HEX = re.compile(r"[0-9a-f]{64}")


def attachments_path(store_path: Path) -> Path:
    """``complaints.json`` → ``complaints.attachments`` in the same folder."""
    return store_path.with_name(store_path.stem + ".attachments")


def _row(row: tuple[Any, ...]) -> Attachment:
    reference, name, size, sha256, media_type, added_at, added_by = row
    return Attachment(
        reference, name, size, sha256, media_type, datetime.fromisoformat(added_at), added_by
    )


class FolderAttachments:
    """An :class:`~complaintkit.attachments.AttachmentStore` in a folder. Nothing is created
    until the first attachment is stored; a missing folder holds no attachments."""

    def __init__(self, folder: str | os.PathLike[str], *, busy_timeout: float = 30.0) -> None:
        self.folder = Path(folder)
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"FolderAttachments({str(self.folder)!r})"

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        index = self.folder / "index.sqlite"
        if not create and not index.exists():
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                index, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the attachments in {self.folder}: {exc}") from None
        self._db = db
        return db

    def close(self) -> None:
        """Close the index (the store does this when it is closed)."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _blob(self, sha256: str) -> Path:
        if not _HEX.fullmatch(sha256):
            raise StorageError(f"{sha256!r} is not a SHA-256 digest")
        return self.folder / "blobs" / sha256[:2] / sha256

    def _write_blob(self, sha256: str, content: bytes) -> None:
        target = self._blob(sha256)
        if target.exists() and target.stat().st_size == len(content):
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _forget_blob(self, db: sqlite3.Connection, sha256: str) -> None:
        """Delete the blob when no row names it any more."""
        if db.execute("SELECT 1 FROM attachments WHERE sha256 = ?", (sha256,)).fetchone():
            return
        with contextlib.suppress(FileNotFoundError):
            self._blob(sha256).unlink()

    def put(self, attachment: Attachment, content: bytes) -> Attachment:
        """Store the content (once per digest) and the row naming it."""
        if hashlib.sha256(content).hexdigest() != attachment.sha256:
            raise StorageError(f"attachment {attachment.name!r}: the digest does not match")
        db = self._connect(create=True)
        assert db is not None
        a = attachment
        with self._lock:
            # The blob is written and the row inserted under the index's write lock, as a
            # removal checks and deletes under it: the two never cross.
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute(
                    "SELECT 1 FROM attachments WHERE reference = ? AND name = ?",
                    (a.reference, a.name),
                ).fetchone():
                    raise AttachmentExistsError(a.reference, a.name)
                self._write_blob(a.sha256, content)
                db.execute(
                    f"INSERT INTO attachments ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        a.reference,
                        a.name,
                        a.size,
                        a.sha256,
                        a.media_type,
                        a.added_at.astimezone(UTC).isoformat(timespec="microseconds"),
                        a.added_by,
                    ),
                )
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise StorageError(f"cannot store attachment {a.name!r}: {exc}") from None
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return attachment

    def get(self, reference: str, name: str) -> Attachment:
        """The attachment ``name`` of ``reference``."""
        db = self._connect(create=False)
        row = (
            None
            if db is None
            else db.execute(
                f"SELECT {_COLUMNS} FROM attachments WHERE reference = ? AND name = ?",
                (reference, name),
            ).fetchone()
        )
        if row is None:
            raise AttachmentNotFound(reference, name)
        return _row(row)

    def content(self, reference: str, name: str) -> bytes:
        """The file's bytes, checked against its digest."""
        found = self.get(reference, name)
        try:
            data = self._blob(found.sha256).read_bytes()
        except FileNotFoundError:
            raise StorageError(
                f"attachment {name!r} of complaint {reference}: its file "
                f"{self._blob(found.sha256)} is missing"
            ) from None
        if hashlib.sha256(data).hexdigest() != found.sha256:
            raise StorageError(
                f"attachment {name!r} of complaint {reference}: its file "
                f"{self._blob(found.sha256)} was changed on disk (digest differs)"
            )
        return data

    def list(self, reference: str) -> list[Attachment]:
        """The attachments of ``reference``, oldest first."""
        db = self._connect(create=False)
        if db is None:
            return []
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM attachments WHERE reference = ? ORDER BY seq", (reference,)
        ).fetchall()
        return [_row(r) for r in rows]

    def remove(self, reference: str, name: str) -> Attachment:
        """Delete the row, and the blob when no other row names it."""
        db = self._connect(create=False)
        if db is None:
            raise AttachmentNotFound(reference, name)
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    f"SELECT {_COLUMNS} FROM attachments WHERE reference = ? AND name = ?",
                    (reference, name),
                ).fetchone()
                if row is None:
                    raise AttachmentNotFound(reference, name)
                db.execute(
                    "DELETE FROM attachments WHERE reference = ? AND name = ?", (reference, name)
                )
                found = _row(row)
                self._forget_blob(db, found.sha256)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return found

    def references(self) -> Iterator[str]:
        """Every reference with an attachment, in order."""
        db = self._connect(create=False)
        if db is None:
            return iter(())
        rows = db.execute("SELECT DISTINCT reference FROM attachments ORDER BY reference")
        return iter([r[0] for r in rows.fetchall()])
