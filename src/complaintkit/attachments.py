"""Attachments: files kept with a complaint (a photo of the damage, an invoice, a letter).

A backend offers attachments by giving its store an ``attachments()`` method returning an
:class:`AttachmentStore` over the same database or file set; :func:`attachments_of` finds it
(as :func:`~complaintkit.outbox.outbox_of` finds the outbox). TinyDB keeps the files in a
folder beside its JSON file, content-addressed (a file's path comes from its SHA-256, never
from its name); SQL keeps them in a table of the same database.

What reaches a store has been checked here, by :func:`check_attachment`:

* the name is made safe by :func:`safe_name`: only its last path component is kept, control
  characters (NUL included) and characters that are special in file names on some system are
  replaced, and it is cut to :data:`MAX_NAME` characters, so no name can lead anywhere;
* the size is at most ``[attachments] max_size`` (default 10 MB);
* the type is read from the content (:func:`sniff`: the signatures of common formats, and
  UTF-8 text), never from the name alone. It must be in ``[attachments] allowed_types``, and a
  name whose extension says another type (``invoice.pdf`` that is a program) is refused.

The desk records each attachment added or removed in the complaint's history (name, size,
sha256, type); see :meth:`Desk.attach <complaintkit.desk.Desk.attach>`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from .errors import ComplaintkitError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from .config import Config

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "DEFAULT_MAX_SIZE",
    "MAX_NAME",
    "Attachment",
    "AttachmentExistsError",
    "AttachmentNotFound",
    "AttachmentSettings",
    "AttachmentStore",
    "attachments_of",
    "check_attachment",
    "safe_name",
    "sniff",
]

#: Longest attachment name kept, in characters (longer ones are cut, the extension kept).
MAX_NAME = 120
#: The default size limit: 10 MB.
DEFAULT_MAX_SIZE = 10 * 1000 * 1000
#: The types accepted when ``[attachments] allowed_types`` is not set.
DEFAULT_ALLOWED_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/tiff",
    "image/bmp",
    "text/plain",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "audio/mpeg",
    "audio/wav",
    "video/mp4",
)

# The extensions whose type we know: a name with one of them must hold that type.
_EXTENSIONS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "exe": "application/x-msdownload",
    "dll": "application/x-msdownload",
}


class AttachmentNotFound(NotFoundError):
    """A complaint has no attachment of the given name."""

    def __init__(self, reference: str, name: str) -> None:
        super().__init__(reference)
        self.name = name
        self.args = (f"complaint {reference} has no attachment named {name!r}",)

    def __str__(self) -> str:
        return str(self.args[0])


class AttachmentExistsError(ComplaintkitError):
    """A complaint already has an attachment of that name; nothing was written."""

    def __init__(self, reference: str, name: str) -> None:
        super().__init__(
            f"complaint {reference} already has an attachment named {name!r}; remove it first "
            "(complaintkit detach) or give the new one another name"
        )
        self.reference = reference
        self.name = name


@attrs.frozen
class Attachment:
    """What is known of one attached file: whose, its (safe) name, size, digest and type, and
    who added it when. The content is read with :meth:`AttachmentStore.content`."""

    reference: str
    name: str
    size: int
    sha256: str
    media_type: str
    added_at: datetime
    added_by: str

    def as_data(self) -> dict[str, object]:
        """What the history records of it (and ``--format json`` prints)."""
        return {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "type": self.media_type,
        }


@runtime_checkable
class AttachmentStore(Protocol):
    """Where a store keeps its complaints' attachments.

    * ``put`` stores the content under ``attachment.name`` for ``attachment.reference``; a
      name the complaint already has raises :class:`AttachmentExistsError` and writes
      nothing. ``content`` is the file's bytes; the store trusts ``attachment`` (the desk has
      checked it and computed size and digest).
    * ``get``, ``content`` and ``remove`` raise :class:`AttachmentNotFound` for a name the
      complaint has not.
    * ``list`` gives a complaint's attachments in the order they were added; an unknown
      reference has none.
    * A crash while writing leaves either the whole attachment or none of it.
    """

    def put(self, attachment: Attachment, content: bytes) -> Attachment:
        """Store a new attachment; return it as stored."""
        ...

    def get(self, reference: str, name: str) -> Attachment:
        """The attachment ``name`` of complaint ``reference``."""
        ...

    def content(self, reference: str, name: str) -> bytes:
        """The bytes of attachment ``name`` of complaint ``reference``."""
        ...

    def list(self, reference: str) -> list[Attachment]:
        """The attachments of complaint ``reference``, oldest first."""
        ...

    def remove(self, reference: str, name: str) -> Attachment:
        """Delete attachment ``name`` of complaint ``reference``; return what it was."""
        ...

    def references(self) -> Iterator[str]:
        """Every reference that has at least one attachment (to copy them elsewhere)."""
        ...


def attachments_of(store: object) -> AttachmentStore:
    """The attachment store of ``store``; a backend without one gets a clear error."""
    from .errors import ConfigError

    factory = getattr(store, "attachments", None)
    if factory is None:
        url = getattr(store, "url", type(store).__name__)
        raise ConfigError(
            f"the store {url} cannot keep attachments; use a backend that can "
            "(tinydb, sqlite, postgresql, mysql)"
        )
    found = factory()
    if not isinstance(found, AttachmentStore):
        raise ConfigError(f"the attachments of {type(store).__name__} do not implement it")
    return found


# --- settings ----------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_UNITS = {
    None: 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


@attrs.frozen
class AttachmentSettings:
    """``[attachments]`` of the configuration::

    [attachments]
    max_size = "10 MB"            # or a number of bytes; KB, MB, GB, KiB, MiB, GiB
    allowed_types = ["application/pdf", "image/png", "image/jpeg", "text/plain"]
    """

    max_size: int = DEFAULT_MAX_SIZE
    allowed_types: frozenset[str] = frozenset(DEFAULT_ALLOWED_TYPES)

    @classmethod
    def from_config(cls, config: Config) -> AttachmentSettings:
        """The settings of ``config``; a mistake is a :class:`ConfigError` naming the key."""
        from .errors import ConfigError

        section = config.section("attachments")
        where = f"{config.where} [attachments]"
        unknown = sorted(set(section) - {"max_size", "allowed_types"})
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; known: allowed_types, max_size"
            )
        size = section.get("max_size", DEFAULT_MAX_SIZE)
        if isinstance(size, bool) or not isinstance(size, int | str):
            raise ConfigError(f'{where} max_size: expected e.g. "10 MB" or 10000000, got {size!r}')
        if isinstance(size, str):
            found = _SIZE.match(size)
            if not found:
                raise ConfigError(f'{where} max_size: expected e.g. "10 MB", got {size!r}')
            unit = found.group(2).lower() if found.group(2) else None
            size = int(float(found.group(1)) * _UNITS[unit])
        if size <= 0:
            raise ConfigError(f"{where} max_size: must be more than 0, got {size!r}")
        types = section.get("allowed_types", list(DEFAULT_ALLOWED_TYPES))
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise ConfigError(
                f'{where} allowed_types: expected a list such as ["application/pdf"], got {types!r}'
            )
        return cls(size, frozenset(t.strip().lower() for t in types))


# --- names -------------------------------------------------------------------------------

# Characters with a meaning in a path or a shell on some system, and every control character.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


def safe_name(name: str) -> str:
    """``name`` as an attachment may be called: its last path component (``../../etc/passwd``
    is ``passwd``, ``C:\\x\\y.pdf`` is ``y.pdf``), NUL and other control characters and
    ``/ \\ : * ? " < > |`` replaced by ``_``, without leading dots or trailing dots and spaces,
    at most :data:`MAX_NAME` characters (the extension kept). Raises
    :class:`ValidationError` when nothing usable is left (``..``, an empty name)."""
    text = unicodedata.normalize("NFC", str(name))
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".").rstrip(". ")
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if stem.lower() in _RESERVED or text.lower() in _RESERVED:
        text = f"_{text}"
    if len(text) > MAX_NAME:
        keep = extension[:16]
        text = (
            text[: MAX_NAME - len(keep) - 1].rstrip(". ") + "." + keep if keep else text[:MAX_NAME]
        )
    if not text.strip("_ "):
        raise ValidationError(
            "attachment", [f"name {name!r} has no usable file name in it (e.g. photo.jpg)"]
        )
    return text


# --- types -------------------------------------------------------------------------------


def _zip_type(content: bytes) -> str:
    """An Office Open XML document is a zip with a known first folder; other zips are zips."""
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "application/octet-stream"
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return _EXTENSIONS["docx"]
        if any(n.startswith("xl/") for n in names):
            return _EXTENSIONS["xlsx"]
    return "application/zip"


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    # Tabs, line ends and form feeds are text; other control characters are not.
    return not any((ch < " " and ch not in "\t\n\r\f") or ch == "\x7f" for ch in text)


def sniff(content: bytes) -> str:
    """The media type of ``content`` read from its first bytes (the signatures of PDF, PNG,
    JPEG, GIF, WebP, HEIC, TIFF, BMP, MP3, WAV, MP4, zip and Office documents, Windows and
    Linux programs), else ``text/plain`` for UTF-8 text, else ``application/octet-stream``."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1"):
            return "image/heic"
        return "video/mp4"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"BM") and len(content) > 14:
        return "image/bmp"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(content)
    if head.startswith(b"MZ"):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    if _is_text(content):
        return "text/plain"
    return "application/octet-stream"


def check_attachment(
    name: str, content: bytes, settings: AttachmentSettings, *, reference: str
) -> tuple[str, str, str]:
    """``(safe name, media type, sha256)`` of a file to attach to ``reference``, or
    :class:`ValidationError` saying why it is refused (too large, empty, a type not allowed, a
    name whose extension says another type)."""
    where = f"attachment {name!r} of complaint {reference}"
    shown = safe_name(name)
    size = len(content)
    if size == 0:
        raise ValidationError(where, ["the file is empty"])
    if size > settings.max_size:
        raise ValidationError(
            where,
            [
                f"{size:,} bytes, more than the {settings.max_size:,} allowed "
                "([attachments] max_size)"
            ],
        )
    found = sniff(content)
    extension = shown.rpartition(".")[2].lower() if "." in shown else ""
    named = _EXTENSIONS.get(extension)
    if named is not None and named != found:
        raise ValidationError(
            where,
            [f"the name says {named} (.{extension}) but the content is {found}; nothing attached"],
        )
    if found not in settings.allowed_types:
        allowed = ", ".join(sorted(settings.allowed_types))
        raise ValidationError(
            where,
            [f"type {found} is not allowed ([attachments] allowed_types: {allowed})"],
        )
    return shown, found, hashlib.sha256(content).hexdigest()
