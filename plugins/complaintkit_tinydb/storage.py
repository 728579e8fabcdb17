"""A TinyDB :class:`~tinydb.storages.Storage` that is fast, durable and safe between processes.

TinyDB's stock ``JSONStorage`` parses the whole file with :mod:`json` on every read and rewrites
it in place on every write, so a crash mid-write corrupts the file and two processes can
interleave their writes. :class:`SafeJSONStorage` keeps TinyDB's document format but:

* parses with :mod:`orjson` (garbage collector paused: a large parse creates millions of
  objects, none of them garbage) and keeps the result in memory; :meth:`~SafeJSONStorage.read`
  returns the cached data for as long as the file on disk is unchanged, judged by its
  ``(st_mtime_ns, st_size, st_ino, st_dev)``;
* writes atomically: a temporary file in the same folder, flushed and fsynced, then
  :func:`os.replace` and an fsync of the folder. A reader, which takes no lock, always sees a
  whole file, and a crash at any point leaves either the old or the new file;
* serialises writers with an exclusive lock on a sidecar ``<file>.lock``, taken through the
  maintained, cross-platform ``filelock`` library (``flock`` on Linux and macOS, ``msvcrt``
  locking on Windows);
* groups writes: inside :meth:`~SafeJSONStorage.transaction` (lock held, data fresh from disk)
  every TinyDB write only updates the cache, and the file is written once when it ends.

The storage holds the file it last read (or wrote) open. That pins its inode, so the inode
number cannot be reused by a later file while we still compare against it; together with the
size and modification time this makes the change check reliable even when two writes land in
the same timestamp tick.

It is a drop-in for ``JSONStorage`` (``TinyDB(path, storage=SafeJSONStorage)``): it takes the
same arguments, ``create_dirs``, ``encoding``, ``access_mode`` and the :func:`json.dumps`
keywords, and raises the same kinds of exception (a document JSON cannot hold is a
``TypeError``, a file that is not JSON a :class:`json.JSONDecodeError`, writing in read-only
mode an ``OSError``), each also a :class:`~complaintkit.StorageError`. TinyDB's own test suite
runs against it (``tests/plugins/tinydb/upstream``). Unlike ``JSONStorage`` it creates nothing
until the first write.
"""

from __future__ import annotations

import codecs
import errno
import gc
import json
import os
import re
import secrets
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from complaintkit.errors import StorageError, StoreLockedError
from complaintkit.storage import gc_paused

from .index import DocumentIndex, Unindexable

__all__ = [
    "BINARY",
    "FileLock",
    "NotJSONError",
    "SafeJSONStorage",
    "Signature",
    "UnserialisableError",
    "fd_signature",
    "path_signature",
]

#: Opens files as bytes on Windows (no newline translation); 0 elsewhere.
BINARY = getattr(os, "O_BINARY", 0)
#: Whether the file last read is held open (see the module docstring); Windows refuses to
#: replace a file that is open, so there the change check relies on size, time and index.
_PIN = os.name != "nt"

#: What identifies one version of the file: (st_mtime_ns, st_size, st_ino, st_dev).
Signature = tuple[int, int, int, int]

_Data = dict[str, dict[str, Any]]


#: The keywords of :func:`json.dumps` a ``JSONStorage`` user may pass to shape the file.
JSON_OPTIONS = frozenset(
    {
        "skipkeys",
        "ensure_ascii",
        "check_circular",
        "allow_nan",
        "cls",
        "indent",
        "separators",
        "default",
        "sort_keys",
    }
)
#: The access modes ``JSONStorage`` accepts without a warning.
_MODES = ("r", "rb", "r+", "rb+")


class NotJSONError(StorageError, json.JSONDecodeError):
    """The file is not JSON: a :class:`StorageError`, and the :class:`json.JSONDecodeError`
    TinyDB's ``JSONStorage`` raises (``msg``, ``pos``, ``lineno`` and ``colno`` are set)."""

    def __init__(self, message: str, cause: ValueError | None = None) -> None:
        StorageError.__init__(self, message)
        self.msg = getattr(cause, "msg", message)
        self.doc = ""  # not the whole file: the error may be kept long after the read
        self.pos: int = getattr(cause, "pos", getattr(cause, "start", 0))
        self.lineno: int = getattr(cause, "lineno", 1)
        self.colno: int = getattr(cause, "colno", self.pos + 1)


class UnserialisableError(StorageError, TypeError):
    """A document JSON cannot hold: a :class:`StorageError`, and the ``TypeError`` TinyDB's
    ``JSONStorage`` raises. Nothing was written."""


def _signature(st: os.stat_result) -> Signature:
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def path_signature(path: Path) -> Signature:
    """The :data:`Signature` of the file at ``path`` now (``OSError`` if there is none)."""
    return _signature(os.stat(path))


def fd_signature(fd: int) -> Signature:
    """The :data:`Signature` of an open file."""
    return _signature(os.fstat(fd))


class FileLock:
    """An exclusive, re-entrant lock on a lock file, waiting up to ``timeout`` seconds.

    ``subject`` is the file the lock protects; it is named in :class:`StoreLockedError`. The lock
    file is created on first use and never deleted (deleting a lock file lets two processes each
    lock a different inode). The operating system's lock comes from :mod:`filelock`, so the
    default store works wherever Python does.
    """

    def __init__(self, path: Path, *, timeout: float, subject: Path) -> None:
        self.path = path
        self.timeout = timeout
        self.subject = subject
        self._lock: Any = None
        self._depth = 0

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._depth > 0

    def acquire(self) -> None:
        """Take the lock, polling until ``timeout``; raise :class:`StoreLockedError` after it."""
        import filelock

        if self._depth:
            self._depth += 1
            return
        if self._lock is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot open lock file {self.path}: {exc}") from exc
            # Our own nesting count and our own polling: one OS lock per object, kept file.
            self._lock = filelock.FileLock(
                self.path, thread_local=False, preserve_lock_file=True, fallback_to_soft=False
            )
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while True:
            try:
                self._lock.acquire(timeout=0)
                break
            except filelock.Timeout:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StoreLockedError(
                        f"{self.subject} is locked by another process (lock file {self.path}); "
                        f"gave up after {self.timeout:g} s. Try again when it has finished, or "
                        "raise lock_timeout in the [storage] table of complaintkit.toml"
                    ) from None
                # Short polls first (most writes take milliseconds), then back off.
                time.sleep(min(pause, remaining))
                pause = min(pause * 2, 0.05)
            except OSError as exc:
                raise StorageError(f"cannot open lock file {self.path}: {exc}") from exc
        self._depth = 1

    def release(self) -> None:
        """Release one level of the lock; the file lock is dropped at the outermost level."""
        if not self._depth:
            return
        self._depth -= 1
        if not self._depth and self._lock is not None:
            self._lock.release()

    def close(self) -> None:
        """Drop the lock (whatever the nesting)."""
        self._depth = 0
        if self._lock is not None:
            self._lock.release(force=True)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SafeJSONStorage(Storage):
    """TinyDB storage: cached orjson reads, locked atomic writes, one write per transaction.

    Use :meth:`transaction` around every read-check-write sequence. A :meth:`write` outside a
    transaction takes the lock itself and refuses to overwrite a file that changed on disk since
    it was read, so plain TinyDB use of this storage cannot lose another process's update either.

    A write outside a transaction by a storage that has not read the file (TinyDB's
    ``drop_tables()`` writes without reading) replaces whatever is there, as it asks to.

    The arguments after ``path`` are ``JSONStorage``'s: ``create_dirs`` creates missing folders
    at the first write (without it, a path in a missing folder is a ``FileNotFoundError`` at
    once); ``encoding`` is the file's text encoding (UTF-8 when None); ``access_mode`` ``"r"`` or
    ``"rb"`` opens read-only (the file must exist; writing raises ``OSError``), ``"r+"`` or
    ``"rb+"`` for reading and writing (other modes warn, as in TinyDB, and mean ``"r+"``: the
    file is never truncated or appended to). Other keywords are :func:`json.dumps` options
    (``indent``, ``sort_keys``, ``ensure_ascii``, ``separators``, …); without them, or with only
    ``sort_keys``, ``indent=2`` or ``ensure_ascii=False``, the file is written by orjson.

    Not thread-safe: use one storage (one store) per thread; they coordinate through the lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = False,
        encoding: str | None = None,
        access_mode: str = "r+",
        *,
        fsync: bool = True,
        lock_timeout: float = 30.0,
        **json_options: Any,
    ) -> None:
        super().__init__()
        self.path = Path(os.path.abspath(path))
        unknown = sorted(set(json_options) - JSON_OPTIONS)
        if unknown:
            raise TypeError(
                f"SafeJSONStorage got unexpected keyword arguments {', '.join(unknown)}; it takes "
                f"create_dirs, encoding, access_mode, fsync, lock_timeout and the json.dumps "
                f"options {', '.join(sorted(JSON_OPTIONS))}"
            )
        if access_mode not in _MODES:
            # TinyDB's own warning (same category and wording), so filters written for it apply.
            warnings.warn(
                "Using an `access_mode` other than 'r', 'rb', 'r+' or 'rb+' can cause data loss "
                f"or corruption with JSONStorage; SafeJSONStorage treats {access_mode!r} as 'r+' "
                "(it never truncates or appends)",
                UserWarning,
                stacklevel=2,
            )
        self.read_only = access_mode in ("r", "rb")
        self.create_dirs = create_dirs
        self.encoding = codecs.lookup(encoding).name if encoding else "utf-8"
        self._encode = self._encoder(json_options)
        #: Written beside the file at every write when set (the store sets it; see
        #: :mod:`complaintkit_tinydb.index`); only for the default, compact encoding.
        self.index: DocumentIndex | None = None
        if self.read_only and not self.path.is_file():
            raise FileNotFoundError(
                errno.ENOENT, f"{self.path} does not exist (opened read-only)", str(self.path)
            )
        if not self.read_only and not create_dirs and not self.path.parent.is_dir():
            raise FileNotFoundError(
                errno.ENOENT,
                f"folder {self.path.parent} does not exist; pass create_dirs=True to create it",
                str(self.path),
            )
        self.fsync = fsync
        self.lock = FileLock(
            self.path.with_name(self.path.name + ".lock"), timeout=lock_timeout, subject=self.path
        )
        #: Increases whenever the cached data is replaced by anything but this storage's own
        #: write (a reload after another process wrote, or a discarded transaction), so that
        #: callers know to rebuild whatever they derived from it.
        self.generation = 0
        #: How many times the file was written (each write replaces the whole file).
        self.writes = 0
        #: How many times the file was read and parsed.
        self.parses = 0
        self._data: _Data | None = None
        self._signature: Signature | None = None
        self._valid = False  # whether _data/_signature describe the file (or pending changes)
        self._pinned: int | None = None
        self._depth = 0
        self._pending = False
        self._swept = False
        # Our temporary files and the index's (``.<name>.index.<hex>.tmp``).
        self._temp_name = re.compile(
            rf"^\.{re.escape(self.path.name)}(\.index)?\.[0-9a-f]{{16}}\.tmp$"
        )

    # --- TinyDB's interface -------------------------------------------------------------

    def read(self) -> _Data | None:
        """The whole database; parsed again only if the file changed on disk since last time."""
        if self._depth and self._valid:
            # Inside a transaction we hold the lock and may have unwritten changes: the cache
            # is the truth.
            return self._data
        self._refresh()
        return self._data

    def write(self, data: _Data) -> None:
        """Persist ``data`` (deferred to the end of the transaction when inside one)."""
        if self.read_only:
            raise OSError(
                errno.EBADF, f"cannot write {self.path}: it was opened with access_mode 'r'"
            )
        if self._depth:
            self._data = data
            self._pending = True
            return
        with self.lock:
            self._sweep()
            try:
                current = _signature(os.stat(self.path))
            except FileNotFoundError:
                current = None
            # Only data derived from an earlier read can be stale: a storage that holds no read
            # of the file (none yet, or it was dropped) is writing blind, on purpose.
            if self._valid and current != self._signature:
                self.invalidate()  # TinyDB already applied the change to the cached data
                raise StorageError(
                    f"{self.path} was changed by another process since it was read; "
                    "it was not modified. Read it again and redo the change"
                )
            self._persist(data)

    def close(self) -> None:
        """Release the lock and the open file; the cached data is dropped."""
        self.lock.close()
        self._unpin()
        self._valid = False
        self._data = None
        self._signature = None

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock with fresh data; the writes inside reach the file once, at the end.

        If the block raises after a write, the unwritten changes are discarded (the cache is
        dropped and the file, untouched, is read again next time). Nested transactions join the
        outer one.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.lock.acquire()
        try:
            self._sweep()
            self._refresh()
            self._depth = 1
            self._pending = False
            try:
                yield
            except BaseException:
                if self._pending:
                    self.invalidate()
                raise
            finally:
                self._depth = 0
            if self._pending:
                self._pending = False
                assert self._data is not None  # write() stored the data it was given
                self._persist(self._data)
        finally:
            self.lock.release()

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`transaction`."""
        return self._depth > 0

    def invalidate(self) -> None:
        """Forget the cached data (e.g. after a failed change mutated it); reread on next use."""
        self._pending = False
        self._valid = False
        self._data = None
        self._signature = None
        self._unpin()
        self.generation += 1
        if self.index is not None:
            self.index.reset()

    def holds(self, signature: Signature) -> bool:
        """Whether the cached data is the parsed file of this signature."""
        return self._valid and self._data is not None and self._signature == signature

    # --- reading ------------------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            current = _signature(os.stat(self.path))
        except FileNotFoundError:
            if self._signature is not None or self._data is not None:
                self._unpin()
                self._data = None
                self._signature = None
                self.generation += 1
            self._valid = True
            return
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc
        if current != self._signature or not self._valid:
            self._load()

    def _load(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | BINARY)
        except FileNotFoundError:
            # Replaced-and-removed between stat and open; treat as empty this time.
            self._unpin()
            self._data = None
            self._signature = None
            self._valid = True
            self.generation += 1
            return
        except OSError as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from exc
        try:
            # fstat of the descriptor we read from, not the earlier stat of the path: another
            # process may have replaced the file in between, and the signature must describe
            # the bytes we actually parse.
            signature = _signature(os.fstat(fd))
            with open(fd, "rb", closefd=False) as handle:
                raw = handle.read()
            data = self._parse(raw)
        except BaseException:
            os.close(fd)
            raise
        self.parses += 1
        self._pin(fd)
        self._data = data
        self._signature = signature
        self._valid = True
        self.generation += 1
        if self.index is not None and self.index.projected != signature:
            self.index.reset()

    def _parse(self, raw: bytes) -> _Data | None:
        if not raw.strip():
            return None  # an empty file is an empty database, as in TinyDB
        source: bytes | str = raw
        if self.encoding != "utf-8":
            try:
                source = raw.decode(self.encoding)
            except UnicodeDecodeError as exc:
                raise self._not_json(
                    f"it is not {self.encoding} text ({exc.reason})", exc
                ) from None
        try:
            with gc_paused():
                try:
                    data = orjson.loads(source)
                except orjson.JSONDecodeError as exc:
                    # JSONStorage writes NaN and Infinity (json's default), which orjson refuses.
                    try:
                        data = json.loads(source)
                    except ValueError:
                        raise exc from None
                # The parsed store is long-lived and holds no reference cycles: move it (and
                # everything alive now) out of the cyclic collector's scans. Otherwise every
                # later burst of allocations in the command walks millions of cached objects
                # (seen: building the classification rules went from 5 ms to 0.8 s on a
                # 100,000-complaint store). Reference counting still frees it when replaced.
                gc.freeze()
        except orjson.JSONDecodeError as exc:
            raise self._not_json(f"it is not valid JSON ({exc})", exc) from None
        if not isinstance(data, dict):
            raise self.corrupt(f"expected a JSON object of tables, found {type(data).__name__}")
        # What the tables hold is the user's business (JSONStorage reads any object back);
        # the store checks its own tables.
        return data

    def corrupt(self, reason: str) -> StorageError:
        """The error for a file that cannot be used as it is; says the file was left alone."""
        return StorageError(
            f"{self.path} is not a usable complaintkit TinyDB store: {reason}. "
            "The file was not modified; restore it from a backup or fix it by hand"
        )

    def _not_json(self, reason: str, cause: ValueError) -> NotJSONError:
        return NotJSONError(str(self.corrupt(reason)), cause)

    def _pin(self, fd: int) -> None:
        self._unpin()
        if not _PIN:
            os.close(fd)  # Windows cannot replace a file that is held open
            return
        self._pinned = fd

    def _unpin(self) -> None:
        if self._pinned is not None:
            with suppress(OSError):
                os.close(self._pinned)
            self._pinned = None

    # --- writing ------------------------------------------------------------------------

    def _encoder(self, options: dict[str, Any]) -> Callable[[_Data], bytes]:
        """How data becomes the file's bytes: orjson when it can honour ``options``."""
        fast = orjson.OPT_SORT_KEYS if options.get("sort_keys") else 0
        if options.get("indent") == 2:
            fast |= orjson.OPT_INDENT_2
        orjson_can = (
            self.encoding == "utf-8"
            and set(options) <= {"sort_keys", "indent", "ensure_ascii"}
            and options.get("indent") in (None, 2)
            and options.get("ensure_ascii", False) is False
        )
        self._compact = orjson_can and not fast
        if orjson_can:
            return lambda data: orjson.dumps(data, option=fast)
        encoding = self.encoding
        return lambda data: json.dumps(data, **options).encode(encoding)

    def _persist(self, data: _Data) -> None:
        """Replace the file with ``data`` atomically; the caller holds the lock."""
        rows: list[list[Any]] | None = None
        try:
            if self.index is not None and self._compact:
                try:
                    # Thousands of small projections: no collection of the whole store's data.
                    with gc_paused():
                        payload, rows = self.index.encode(data)
                except Unindexable:
                    self.index.reset()
                    payload = self._encode(data)
            else:
                payload = self._encode(data)
        except TypeError as exc:
            self.invalidate()
            raise UnserialisableError(
                f"cannot write {self.path}: {exc}; it was not modified"
            ) from exc
        except ValueError as exc:  # json.dumps: a circular reference, NaN with allow_nan=False
            self.invalidate()
            raise StorageError(f"cannot write {self.path}: {exc}; it was not modified") from exc
        fd = self._replace_file(payload)
        self._data = data
        self._signature = _signature(os.fstat(fd))
        self._valid = True
        self._make_durable()
        if rows is not None and self.index is not None:
            # After the file is durably in place: an index never names a file that may vanish.
            with gc_paused():
                self.index.save(self._signature, data, rows)

    def replace_bytes(self, payload: bytes) -> Signature:
        """Replace the file with ``payload`` (already encoded; the caller holds the lock and
        checked the file it was made from is the current one), atomically and durably, as a
        write does; return the new file's signature. The cached data, if any, describes the
        previous file, so the next read parses the new one."""
        if self.read_only:
            raise OSError(
                errno.EBADF, f"cannot write {self.path}: it was opened with access_mode 'r'"
            )
        self._sweep()
        fd = self._replace_file(payload)
        signature = _signature(os.fstat(fd))
        self.invalidate()  # what was cached describes the previous file
        self._make_durable()
        return signature

    def _replace_file(self, payload: bytes) -> int:
        """Write ``payload`` to a temporary file and rename it over the file; the new file
        is pinned (see the module docstring) and its descriptor returned."""
        directory = self.path.parent
        temp = directory / f".{self.path.name}.{secrets.token_hex(8)}.tmp"
        fd: int | None = None
        try:
            if self.create_dirs:
                directory.mkdir(parents=True, exist_ok=True)
            # 0o666 minus the umask, like any new file; an existing file's mode is kept below.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | BINARY, 0o666)
            if hasattr(os, "fchmod"):  # POSIX: keep the file's mode; Windows has no modes
                with suppress(FileNotFoundError):
                    os.fchmod(fd, os.stat(self.path).st_mode & 0o7777)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            if self.fsync:
                os.fsync(fd)
            os.replace(temp, self.path)
        except BaseException as exc:
            if fd is not None:
                os.close(fd)
            with suppress(OSError):
                os.unlink(temp)
            # The cache may hold changes that never reached the disk.
            self.invalidate()
            if isinstance(exc, OSError):
                raise StorageError(
                    f"cannot write {self.path}: {exc}; the previous contents are intact"
                ) from exc
            raise
        self.writes += 1
        self._pin(fd)  # the new file, kept open (see the module docstring)
        return fd

    def _make_durable(self) -> None:
        if self.fsync:
            try:
                self._fsync_directory(self.path.parent)
            except OSError as exc:
                raise StorageError(
                    f"wrote {self.path} but could not make the rename durable: {exc}"
                ) from exc

    @staticmethod
    def _fsync_directory(directory: Path) -> None:
        # Makes the rename itself durable; some file systems cannot fsync a directory.
        if not hasattr(os, "O_DIRECTORY"):
            return  # Windows: a rename is made durable by the file system, no folder handle
        try:
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                raise
        finally:
            os.close(dir_fd)

    def _sweep(self) -> None:
        """Remove temporary files left by a writer that crashed (we hold the lock, so no one
        else is writing one right now). Done once per storage."""
        if self._swept:
            return
        self._swept = True
        with suppress(OSError), os.scandir(self.path.parent) as entries:
            for entry in entries:
                if self._temp_name.match(entry.name):
                    with suppress(OSError):
                        os.unlink(entry.path)
