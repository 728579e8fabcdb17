"""What the routes work with, without the web framework: a store per worker thread, a desk
per request acting for the token's name, the ``If-Match`` guard and idempotency keys."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from complaintkit.desk import Desk
from complaintkit.model import Complaint
from complaintkit.plugindata import PluginData, plugin_data_of
from complaintkit.retry import RetryPolicy
from complaintkit.settings import positive
from complaintkit.storage import Store

from .problems import ApiProblem
from .tokens import NAMESPACE, Token, TokenBook

if TYPE_CHECKING:
    from complaintkit.host import PluginHost

__all__ = ["ApiSettings", "Guarded", "Idempotency", "Service"]


@attrs.frozen
class ApiSettings:
    """``[api]``: limits of one request.

    ::

        [api]
        max_body = 1048576      # bytes of one request body (413 above)
        max_batch = 1000        # complaints in one batch intake (422 above)
        max_page = 500          # complaints in one page of a listing
        stale_after = 60        # seconds after which an unfinished idempotent request
                                # (its process died) may be taken over by a retry
        keep_keys = 86400       # seconds an idempotency key and its answer are kept
    """

    max_body: int = attrs.field(default=1_048_576, validator=positive)
    max_batch: int = attrs.field(default=1000, validator=positive)
    max_page: int = attrs.field(default=500, validator=positive)
    stale_after: float = attrs.field(default=60.0, validator=positive)
    keep_keys: float = attrs.field(default=86_400.0, validator=positive)


class Guarded:
    """A store through which a desk may change ``reference`` only from version ``expected``.

    ``If-Match`` made atomic: the desk's change reads the complaint through :meth:`get`, which
    refuses (412) a version other than the one the client read; the write that follows is
    version-checked by the store, and when it loses a race the desk reads again, meets the
    new version here and is refused too. After the first successful write of the complaint
    the guard steps aside (hooks and follow-up steps of the same request read the new
    version). Everything else passes through to the store.
    """

    def __init__(self, store: Store, reference: str, expected: int) -> None:
        self._store = store
        self._reference = reference
        self._expected: int | None = expected

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get(self, reference: str) -> Complaint:
        found = self._store.get(reference)
        if (
            reference == self._reference
            and self._expected is not None
            and found.version != self._expected
        ):
            raise ApiProblem(
                412,
                "stale",
                f"complaint {reference} was changed by someone else (you had version "
                f"{self._expected}, the store has version {found.version}); reload and try "
                "again",
                headers={"ETag": f'"{found.version}"'},
            )
        return found

    def update(self, complaint: Complaint) -> Complaint:
        stored = self._store.update(complaint)
        if complaint.reference == self._reference:
            self._expected = None
        return stored


class Service:
    """The API's hold on one store: one store object per worker thread (the TinyDB store is
    not thread-safe; SQL stores share nothing either), closed together at shutdown."""

    def __init__(
        self, host: PluginHost, url: str, *, lang: str = "en", settings: ApiSettings
    ) -> None:
        self.host = host
        self.url = url
        self.lang = lang
        self.settings = settings
        self._local = threading.local()
        self._stores: list[Store] = []
        self._lock = threading.Lock()
        # Built once here rather than by the first requests at once on many threads.
        host.converter()
        host.schemes()
        host.personal_fields()
        self._retry = RetryPolicy(budget=10.0)

    def store(self) -> Store:
        """This thread's store."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self.host.open_store(self.url, create=False)
            self._local.store = store
            with self._lock:
                self._stores.append(store)
        return store

    def data(self) -> PluginData:
        """This thread's store's plugin data (tokens, idempotency keys)."""
        data: PluginData | None = getattr(self._local, "data", None)
        if data is None:
            data = plugin_data_of(self.store())
            self._local.data = data
        return data

    def tokens(self) -> TokenBook:
        """The tokens, read from the store at every call (a revocation counts at once)."""
        return TokenBook(self.data())

    def desk(self, token: Token, guard: tuple[str, int] | None = None) -> Desk:
        """This thread's desk, acting for the token's name; with ``guard`` (reference,
        version) it may change that complaint only from that version (:class:`Guarded`).

        One desk per worker thread, given the request's actor and store each time: a desk
        builds its classifiers' matchers once (tens of milliseconds) and reads the process
        configuration once, which a desk per request would repeat every time. A request runs
        on one thread from start to end, so no two requests share a desk at once.
        """
        store = self.store()
        if guard is not None:
            store = Guarded(store, *guard)
        desk: Desk | None = getattr(self._local, "desk", None)
        if desk is None:
            desk = Desk(self.host, store, actor=token.name, retry=self._retry)
            self._local.desk = desk
        desk.store = store
        desk.actor = token.name
        return desk

    def close(self) -> None:
        """Close every thread's store."""
        with self._lock:
            stores, self._stores = self._stores, []
        for store in stores:
            store.close()


@attrs.frozen
class Replay:
    """A response kept under an idempotency key: its status and JSON body."""

    status: int
    body: Any


class Idempotency:
    """``Idempotency-Key``: the first request with a key does the work and its response is
    kept (plugin data, namespace ``api``, key ``idem:<token name>:<key>``); a retry with the
    same key and body gets that response again and changes nothing; the same key with another
    body is refused (422); a retry while the first is still running gets 409 with
    ``Retry-After``. References are chosen before the work and kept with the key, so a retry
    that takes over from a request whose process died (after ``stale_after`` seconds) writes
    the same references, which the store refuses to duplicate.

    A finished key is kept for ``keep_keys`` seconds (a day by default, as payment APIs do):
    after that the key is free again, and old keys are removed from the store, at most once
    per :data:`PRUNE_EVERY` seconds per process, by the request that finds the time has come.
    """

    #: Seconds between two removals of expired keys by one process (at most).
    PRUNE_EVERY = 600.0

    def __init__(self, service: Service) -> None:
        self.service = service
        self._pruned_at = 0.0

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> str:
        """What identifies a request's content: method, path and the JSON body, keys sorted."""
        try:
            canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
        except orjson.JSONDecodeError:
            canonical = body
        return hashlib.sha256(
            method.encode() + b" " + path.encode() + b"\n" + canonical
        ).hexdigest()

    def run(
        self,
        token: Token,
        key: str,
        fingerprint: str,
        references: list[str],
        work: Callable[[list[str]], Replay],
    ) -> tuple[Replay, bool]:
        """The response for this request, and whether it is a replay of an earlier one.

        ``references`` are the references this request would use; a retry uses the first
        request's. ``work`` gets the references and returns the response to keep; a problem
        with a status below 500 is kept too (the same request would fail the same way), any
        other failure releases the key so that a retry runs again.
        """
        if not key or len(key) > 200:
            raise ApiProblem(400, "bad-idempotency-key", "Idempotency-Key must be 1-200 characters")
        data = self.service.data()
        name = f"idem:{token.name}:{key}"
        pending = {
            "state": "pending",
            "fingerprint": fingerprint,
            "references": references,
            "started": time.time(),
        }
        if not data.add(NAMESPACE, name, pending):
            found = data.get(NAMESPACE, name)
            if found is None:  # released in between: try once more
                return self.run(token, key, fingerprint, references, work)
            if found["state"] == "done" and self._expired(found, time.time()):
                # Kept long enough: the key is free again, for this request or any other.
                data.delete(NAMESPACE, name)
                return self.run(token, key, fingerprint, references, work)
            if found["fingerprint"] != fingerprint:
                raise ApiProblem(
                    422,
                    "idempotency-key-reused",
                    f"Idempotency-Key {key!r} was used for a different request; use a new key "
                    "for a new request",
                )
            if found["state"] == "done":
                return Replay(found["status"], found["body"]), True
            if time.time() - found["started"] < self.service.settings.stale_after:
                raise ApiProblem(
                    409,
                    "idempotent-request-in-progress",
                    f"a request with Idempotency-Key {key!r} is still being processed; "
                    "retry shortly",
                    headers={"Retry-After": "1"},
                )
            references = list(found["references"])
            data.put(NAMESPACE, name, {**pending, "references": references})
        self.prune()
        return self._work(data, name, pending, references, work)

    def _expired(self, document: dict[str, Any], now: float) -> bool:
        """Whether a finished key's answer was kept for ``keep_keys`` seconds already."""
        finished = document.get("finished", document.get("started", now))
        return bool(now - float(finished) >= self.service.settings.keep_keys)

    def prune(self, now: float | None = None) -> int:
        """Remove the finished keys kept longer than ``keep_keys`` (of every token), unless
        this process did so less than :data:`PRUNE_EVERY` seconds ago; how many were removed.
        A key that changed since it was listed (taken again by a new request) is left."""
        now = time.time() if now is None else now
        if now - self._pruned_at < min(self.PRUNE_EVERY, self.service.settings.keep_keys):
            return 0
        self._pruned_at = now
        data = self.service.data()
        removed = 0
        for name, document in data.items(NAMESPACE):
            if not name.startswith("idem:") or document.get("state") != "done":
                continue
            if self._expired(document, now) and data.get(NAMESPACE, name) == document:
                removed += data.delete(NAMESPACE, name)
        return removed

    def _work(
        self,
        data: PluginData,
        name: str,
        pending: dict[str, Any],
        references: list[str],
        work: Callable[[list[str]], Replay],
    ) -> tuple[Replay, bool]:
        """Do the work of a key this request holds, and keep its answer."""
        try:
            result = work(references)
        except ApiProblem as problem:
            if problem.status >= 500:
                data.delete(NAMESPACE, name)
                raise
            from .problems import problem_body

            body = problem_body(problem, "")
            data.put(
                NAMESPACE,
                name,
                {
                    **pending,
                    "references": references,
                    "state": "done",
                    "status": problem.status,
                    "body": body,
                    "finished": time.time(),
                },
            )
            raise
        except BaseException:
            data.delete(NAMESPACE, name)
            raise
        data.put(
            NAMESPACE,
            name,
            {
                **pending,
                "references": references,
                "state": "done",
                "status": result.status,
                "body": result.body,
                "finished": time.time(),
            },
        )
        return result, False
