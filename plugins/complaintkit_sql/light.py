"""Reading complaints without SQLAlchemy: the short reads of ``list`` and ``show``, and the
reports' reads on SQLite.

Importing SQLAlchemy costs a command about a quarter of a second of CPU, more than everything
``list`` or ``show`` then does. So a SQL store opened by URL (:class:`LightSQLStore`, what the
backend's ``open`` returns) connects with the DBAPI driver alone (``sqlite3``, psycopg 3,
PyMySQL: the drivers the SQLAlchemy path uses), checks the schema version, and answers ``get``,
``find_sorted`` and ``count`` by plain SQL when the filter is one it can spell here; every
other operation, every write, and any URL, filter or schema state it does not recognise goes to
the SQLAlchemy store (:class:`~complaintkit_sql.store.SQLStore`), made on first use. The rows
are decoded by the same functions as there (:mod:`complaintkit_sql.decoding`), so a complaint
reads back the same either way; the SQL conformance suite checks both paths.

On SQLite it also answers ``count_by`` and, for the facts the first-party reports read,
``fact_columns`` and ``facts``: with the statements SQLAlchemy builds for them
(:mod:`complaintkit_sql.facts_query`), compiled once and kept as text
(:mod:`complaintkit_sql.facts_texts`, checked against what is compiled today by the tests).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, unquote

import attrs
import orjson

from complaintkit.attachments import Attachment
from complaintkit.errors import NotFoundError, StorageError
from complaintkit.model import OPEN_STATUSES, Complaint, EscalationLevel, Status
from complaintkit.storage import (
    AddResult,
    ComplaintFilter,
    SortOrder,
    UpdateResult,
    check_page,
    store_path,
)

from .decoding import (
    _COMPLAINT_FIELDS,
    _EVENT_FIELDS,
    _LABEL_FIELDS,
    SCHEMA_VERSION,
    _complaint,
    _decoded,
)
from .failures import storage_error
from .instants import instant_parser
from .options import SQLOptions

if TYPE_CHECKING:
    from complaintkit.facts import ComplaintFacts
    from complaintkit.outbox import Outbox
    from complaintkit.plugindata import PluginData

    from .attachments import SQLAttachments
    from .store import SchemaStatus, SQLStore

__all__ = ["LightSQLStore", "Target", "light_target"]

T = TypeVar("T")

#: Complaints read per query by ``find_sorted`` (as :data:`complaintkit_sql.store.PAGE`).
PAGE = 500
#: Facts read per page (as :data:`complaintkit_sql.store.FACTS_PAGE`).
FACTS_PAGE = 2000
#: Most references a filter may name for this path (one ``IN`` list; more go to SQLAlchemy).
MAX_REFERENCES = 500

# SQLAlchemy's URL grammar (sqlalchemy.engine.url._parse_url), so that a URL means the same
# server, user and database on both paths.
_URL = re.compile(
    r"""
    (?P<name>[\w+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?
    (?:/(?P<database>[^?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)
# The schemes and driver spellings this path serves, each with its dialect.
_SCHEMES = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
    "postgres+psycopg": "postgresql",
    "mysql": "mysql",
    "mysql+pymysql": "mysql",
    "mariadb": "mysql",
    "mariadb+pymysql": "mysql",
}
_LABEL_COLUMNS = ", ".join(_LABEL_FIELDS)
_EVENT_COLUMNS = ", ".join(_EVENT_FIELDS)
_STATUS_ORDER = {status.value: number for number, status in enumerate(Status)}
_OPEN_VALUES = sorted(status.value for status in OPEN_STATUSES)
#: The complaint columns ``count_by`` groups by as they are (as ``SQLStore.count_by``).
_GROUP_COLUMNS = frozenset(
    {"status", "channel", "escalation_level", "department", "assignee", "product"}
)
_SLUGS = {int(level): level.slug for level in EscalationLevel}


@attrs.frozen
class Target:
    """A store URL as this path connects to it."""

    #: ``sqlite``, ``postgresql`` or ``mysql`` (MariaDB too).
    dialect: str
    #: The URL as :class:`~complaintkit_sql.store.SQLStore` names it (``url``).
    url: str
    #: The URL as messages show it, the password hidden (as the SQLAlchemy path shows it).
    display_url: str
    #: The driver's ``connect`` arguments (for SQLite: the file's path as ``database``).
    connect: dict[str, Any]


def light_target(url: str) -> Target | None:
    """What the light path connects to for ``url``; None for a URL it does not serve as the
    SQLAlchemy path would (another driver, several hosts, options it does not know, an
    in-memory or malformed URL): those go to SQLAlchemy, which accepts or refuses them."""
    full_scheme, sep, rest = url.partition("://")
    dialect = _SCHEMES.get(full_scheme.lower())
    if not sep or dialect is None:
        return None
    if dialect == "sqlite":
        path_text = rest
        if "?" in rest or rest.strip("/") in ("", ":memory:"):
            return None
        path = str(store_path(f"sqlite://{path_text}"))
        shown = f"{full_scheme}://{path}"
        return Target("sqlite", shown, shown, {"database": path})
    found = _URL.fullmatch(url)
    if found is None:
        return None
    parts = found.groupdict()
    host = parts["ipv4host"] or parts["ipv6host"]
    port = parts["port"]
    if (host and "," in host) or (port and not port.isdigit()):
        return None
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts["query"] or ""):
        if key in query:
            return None  # a repeated option: SQLAlchemy passes a list
        query[key] = value
    username, password, database = (
        None if parts[name] is None else unquote(parts[name])
        for name in ("username", "password", "database")
    )
    connect: dict[str, Any] = {}
    if dialect == "postgresql":
        names = {"user": username, "password": password, "host": host, "dbname": database}
        connect = {key: value for key, value in names.items() if value is not None}
        if port:
            connect["port"] = int(port)
        connect.update(query)
    else:
        if set(query) - {"charset"}:
            return None  # PyMySQL options SQLAlchemy converts (ssl_*, timeouts…)
        names = {"user": username, "password": password, "host": host, "database": database}
        connect = {key: value for key, value in names.items() if value is not None}
        if port:
            connect["port"] = int(port)
        connect["charset"] = query.get("charset", "utf8mb4")
    return Target(dialect, url, _display(full_scheme, parts, host, query), connect)


def _display(
    scheme: str, parts: dict[str, str | None], host: str | None, query: dict[str, str]
) -> str:
    """The URL as SQLAlchemy renders it with the password hidden (``URL.render_as_string``)."""
    shown = scheme + "://"
    username = parts["username"]
    if username is not None:
        shown += quote(unquote(username), safe=" +")
        if parts["password"] is not None:
            shown += ":***"
        shown += "@"
    if host is not None:
        shown += f"[{host}]" if ":" in host else host
    if parts["port"]:
        shown += ":" + str(int(parts["port"]))
    if parts["database"] is not None:
        shown += "/" + quote(unquote(parts["database"]), safe=" +/")
    if query:
        shown += "?" + "&".join(f"{quote_plus(k)}={quote_plus(query[k])}" for k in sorted(query))
    return shown


def _sqlite_time(at: datetime) -> str:
    """A filter bound as SQLite stores instants (SQLAlchemy's format: naive UTC text)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _label_counts(mark: str, scheme: str, cursor: Any) -> dict[str | None, int]:
    """``count_by("label:SCHEME")`` over every complaint: the labels table alone, grouped by
    its ``(scheme, label)`` index, and the complaints without one as the rest of the count
    (the LEFT JOIN of every complaint to its label, which a filter needs, reads the whole
    table through the primary key: 20 to 30 times as long at 20,000 complaints)."""
    cursor.execute(
        f"SELECT label, COUNT(*) FROM ck_labels WHERE scheme = {mark} GROUP BY label", [scheme]
    )
    labelled = {label: int(n) for label, n in cursor.fetchall()}
    cursor.execute("SELECT COUNT(*) FROM ck_complaints")
    (total,) = cursor.fetchone()
    rest = int(total) - sum(labelled.values())
    return {None: rest, **labelled} if rest else labelled


class _Reader:
    """One DBAPI connection and the SQL of the reads this path answers."""

    def __init__(self, target: Target, options: SQLOptions) -> None:
        self.target = target
        self.dialect = target.dialect
        self.mark = "?" if self.dialect == "sqlite" else "%s"
        self.instant = instant_parser(self.dialect == "sqlite")
        self.json: Callable[[Any], Any] = _decoded if self.dialect == "postgresql" else orjson.loads
        self.bound: Callable[[datetime], Any] = _sqlite_time if self.dialect == "sqlite" else _naive
        self.timeout = options.lock_timeout
        # One connection: the threads that share a store take turns (SQLStore's engine has a
        # pool; a short read waiting for another is cheaper than a second connection).
        self.lock = threading.Lock()
        self.conn: Any = self._connect()

    def _connect(self) -> Any:
        """A new connection, set up as the SQLAlchemy path sets up its own (store.py,
        ``_make_engine``)."""
        target, timeout = self.target, self.timeout
        if self.dialect == "sqlite":
            import sqlite3

            self.errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
            conn = self._connected(
                # not bound to this thread, as SQLAlchemy's connections to a file are not
                lambda: sqlite3.connect(
                    target.connect["database"],
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            )
            self._setup(
                conn,
                "PRAGMA journal_mode=WAL",
                f"PRAGMA busy_timeout={int(timeout * 1000)}",
                "PRAGMA foreign_keys=ON",
                "PRAGMA synchronous=NORMAL",
            )
        elif self.dialect == "postgresql":
            import psycopg
            from psycopg.types.json import set_json_loads

            self.errors = (psycopg.Error,)
            conn = self._connected(lambda: psycopg.connect(**target.connect))
            set_json_loads(orjson.loads, conn)
            self._setup(conn, f"SET lock_timeout = {int(timeout * 1000)}")
        else:
            import pymysql  # type: ignore[import-untyped]

            self.errors = (pymysql.Error,)
            conn = self._connected(lambda: pymysql.connect(**target.connect))
            self._setup(
                conn,
                f"SET SESSION innodb_lock_wait_timeout = {max(1, int(timeout * 1000) // 1000)}",
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            )
        return conn

    def _lost(self) -> bool:
        """Whether the connection is gone (the driver says so after a failed call)."""
        conn = self.conn
        if self.dialect == "postgresql":
            return bool(conn.closed or conn.broken)
        if self.dialect == "mysql":
            return not conn.open
        return False

    def _failure(self, exc: BaseException) -> StorageError:
        """A driver error as the SQLAlchemy path reports it (``store._failure``)."""
        return storage_error(self.target.display_url, str(exc).strip() or repr(exc))

    def _connected(self, connect: Callable[[], Any]) -> Any:
        try:
            return connect()
        except self.errors as exc:
            raise self._failure(exc) from exc

    def _setup(self, conn: Any, *statements: str) -> None:
        try:
            cursor = conn.cursor()
            try:
                for statement in statements:
                    cursor.execute(statement)
            finally:
                cursor.close()
            if self.dialect != "sqlite":
                conn.commit()
        except self.errors as exc:
            conn.close()
            raise self._failure(exc) from exc

    def close(self) -> None:
        with self.lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None

    def read(self, work: Callable[[Any], Any]) -> Any:
        """``work(cursor)`` in one read transaction; driver errors become StorageError."""
        with self.lock:
            try:
                return self._read(work)
            except StorageError:
                if self.conn is None or not self._lost():
                    raise
            # The connection was lost (a server restart, a network cut): a read is safe to
            # repeat, once, on a new connection, as SQLAlchemy's ``pool_pre_ping`` would.
            self.conn.close()
            self.conn = self._connect()
            return self._read(work)

    def _read(self, work: Callable[[Any], Any]) -> Any:
        conn = self.conn
        try:
            cursor = conn.cursor()
            try:
                if self.dialect == "sqlite":
                    cursor.execute("BEGIN")
                try:
                    return work(cursor)
                finally:
                    if self.dialect == "sqlite":
                        cursor.execute("COMMIT")
                    else:
                        conn.rollback()  # a read: nothing to keep, the snapshot let go
            finally:
                cursor.close()
        except self.errors as exc:
            raise self._failure(exc) from exc

    def schema_version(self) -> int | None:
        """The schema version in ``ck_schema``; None when it cannot be read here (no such
        table, a half-made schema…: the SQLAlchemy path says what is wrong)."""

        def version(cursor: Any) -> int | None:
            cursor.execute("SELECT version FROM ck_schema WHERE id = 1")
            found = cursor.fetchone()
            return None if found is None else int(found[0])

        try:
            return self.read(version)  # type: ignore[no-any-return]
        except StorageError:
            return None

    # --- the SQL ------------------------------------------------------------------------

    def _in(self, column: str, values: Sequence[Any], params: list[Any]) -> str:
        params.extend(values)
        return f"{column} IN ({', '.join([self.mark] * len(values))})"

    def where(
        self, flt: ComplaintFilter | None, table: str = "c"
    ) -> tuple[list[str], list[Any]] | None:
        """The filter as SQL conditions on ``ck_complaints`` named ``table`` (as
        ``SQLStore._where`` spells them) and their parameters; None for a filter this path
        leaves to SQLAlchemy."""
        conds: list[str] = []
        params: list[Any] = []
        if flt is None:
            return conds, params
        if flt.text or flt.tags or flt.custom or len(flt.references) > MAX_REFERENCES:
            return None
        mark = self.mark
        if flt.references:
            conds.append(self._in(f"{table}.reference", sorted(flt.references), params))
        if flt.statuses:
            conds.append(self._in(f"{table}.status", sorted(s.value for s in flt.statuses), params))
        if flt.open_only:
            conds.append(self._in(f"{table}.status", _OPEN_VALUES, params))
        if flt.channels:
            conds.append(
                self._in(f"{table}.channel", sorted(ch.value for ch in flt.channels), params)
            )
        for scheme, label in flt.labels:
            conds.append(
                f"EXISTS (SELECT 1 FROM ck_labels l WHERE l.reference = {table}.reference "
                f"AND l.scheme = {mark} AND l.label = {mark})"
            )
            params += [scheme, label]
        if flt.unclassified is not None:
            conds.append(
                f"NOT EXISTS (SELECT 1 FROM ck_labels l WHERE l.reference = {table}.reference "
                f"AND l.scheme = {mark})"
            )
            params.append(flt.unclassified)
        for name in ("department", "assignee", "product"):
            wanted = getattr(flt, name)
            if wanted is not None:
                conds.append(f"{table}.{name} = {mark}")
                params.append(wanted)
        for column, op, at in (
            ("received_utc", ">=", flt.received_from),
            ("received_utc", "<", flt.received_until),
            ("due_utc", "<=", flt.due_by),
            ("alert_utc", "<=", flt.alert_by),
        ):
            if at is not None:
                conds.append(f"{table}.{column} {op} {mark}")
                params.append(self.bound(at))
        if flt.min_escalation is not None:
            conds.append(f"{table}.escalation_level >= {mark}")
            params.append(int(flt.min_escalation))
        if flt.complainant is not None:
            who = (f"{table}.{column} = {mark}" for column in ("customer_id", "phone", "email"))
            conds.append(f"({' OR '.join(who)})")
            params += [flt.complainant] * 3
        return conds, params

    def fact_statement(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> tuple[str, list[Any], Callable[[Sequence[Any]], tuple[Any, ...]]] | None:
        """The SQL and parameters of ``SQLStore.fact_columns(flt, fields)`` and what reads
        its rows, from the statements compiled for this path
        (:mod:`complaintkit_sql.facts_texts`); None when none is kept for this database, this
        plan or this filter (SQLAlchemy builds it then). Unknown fields are a ValueError, as
        there."""
        from .decoding import _remedies
        from .facts_rows import field_plan, row_reader

        columns, aggregates, schemes = field_plan(fields)
        if self.dialect != "sqlite":
            return None
        where = self.where(flt, "ck_complaints")
        if where is None:
            return None
        from .facts_texts import FILTER, SCHEME, SQLITE

        conds, filter_params = where
        text = SQLITE.get((columns, aggregates, len(schemes), bool(conds)))
        if text is None:
            return None
        params: list[Any] = []

        def bound(found: re.Match[str]) -> str:
            if found.group(1) is None:  # the filter
                params.extend(filter_params)
                return "(" + " AND ".join(conds) + ")"
            params.append(schemes[int(found.group(1))])
            return self.mark

        sql = re.sub(rf"{FILTER}|'{re.escape(SCHEME)}(\d+)'", bound, text)
        read = row_reader(fields, columns, aggregates, schemes, self.instant, _remedies)
        return sql, params, read

    def stream(
        self, sql: str, params: Sequence[Any], read: Callable[[Sequence[Any]], T]
    ) -> Iterator[T]:
        """The rows of ``sql``, each as ``read`` makes it, read in pages of
        :data:`FACTS_PAGE` in one read transaction on a connection of their own (the shared
        one stays free for the reads made while these are consumed), as
        ``SQLStore._stream_facts`` reads them."""
        from .facts_rows import read_page

        conn = self._connect()
        try:
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(FACTS_PAGE):
                yield from read_page(rows, read, self.target.display_url)
        except self.errors as exc:
            raise self._failure(exc) from exc
        finally:
            conn.close()  # a read: ending the transaction keeps nothing

    def order_by(self, order: SortOrder) -> str:
        """``ORDER BY`` for ``order``, as :func:`complaintkit_sql.casework_query.order_by`."""
        way = " DESC" if order.descending else " ASC"
        if order.key == "status":
            cases = " ".join(f"WHEN '{value}' THEN {n}" for value, n in _STATUS_ORDER.items())
            key = f"CASE c.status {cases} END"
        else:
            key = (
                "c."
                + {
                    "received_at": "received_utc",
                    "due_at": "due_utc",
                    "reference": "reference",
                    "escalation_level": "escalation_level",
                }[order.key]
            )
        terms = []
        if order.key == "due_at":
            terms.append("CASE WHEN c.due_utc IS NULL THEN 1 ELSE 0 END")
        ties = ["c.reference"] if order.key == "received_at" else ["c.received_utc", "c.reference"]
        terms += [key + way, *(column + way for column in ties)]
        return ", ".join(terms)

    def complaints(self, cursor: Any, sql: str, params: Sequence[Any]) -> list[Complaint]:
        """The complaints of the rows ``sql`` selects (:data:`_COMPLAINT_FIELDS`), with their
        labels and events, built as the SQLAlchemy path builds them (``SQLStore._build``)."""
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if not rows:
            return []
        references = [row[0] for row in rows]
        labels: dict[str, list[Any]] = {}
        events: dict[str, list[Any]] = {}
        listed = ", ".join([self.mark] * len(references))
        cursor.execute(
            f"SELECT reference, {_LABEL_COLUMNS} FROM ck_labels WHERE reference IN ({listed}) "
            "ORDER BY reference, position",
            references,
        )
        for reference, *label in cursor.fetchall():
            labels.setdefault(reference, []).append(label)
        cursor.execute(
            f"SELECT reference, {_EVENT_COLUMNS} FROM ck_events WHERE reference IN ({listed}) "
            "ORDER BY reference, seq",
            references,
        )
        for reference, *event in cursor.fetchall():
            events.setdefault(reference, []).append(event)
        instant, json = self.instant, self.json
        try:
            return [
                _complaint(row, labels.get(row[0], ()), events.get(row[0], ()), instant, json)
                for row in rows
            ]
        except (ValueError, TypeError, KeyError) as exc:
            raise StorageError(
                f"{self.target.display_url}: a complaint cannot be read ({exc})"
            ) from exc

    def select(self) -> str:
        return f"SELECT {', '.join('c.' + name for name in _COMPLAINT_FIELDS)} FROM ck_complaints c"


#: Attributes of :class:`LightSQLStore` itself, never looked up on the SQLAlchemy store.
_OWN = frozenset(
    {"_full", "_reader", "_closed", "_given", "_target", "_making", "options", "url", "display_url"}
)


class LightSQLStore:
    """A SQL store that reads ``get``, ``find_sorted`` and ``count`` through the DBAPI driver
    alone and hands everything else to a :class:`~complaintkit_sql.store.SQLStore`, made on
    first use (see the module's docstring). Opening it connects and checks the schema
    version; a store that does not exist yet, or whose schema is not the current one, is a
    :class:`~complaintkit_sql.store.SQLStore` from the start, so that every message and
    every state is that store's."""

    def __init__(self, url: str, *, options: SQLOptions | None = None) -> None:
        self.options = options or SQLOptions()
        self._given = url
        self._full: SQLStore | None = None
        self._reader: _Reader | None = None
        self._closed = False
        self._making = threading.Lock()  # two threads' first writes make one SQLStore
        self._target = light_target(url)
        reader = self._opened_reader()
        if reader is not None:
            self._reader = reader
            self.url = reader.target.url
            self.display_url = reader.target.display_url
            return
        full = self._store()
        self.url = full.url
        self.display_url = full.display_url

    def _opened_reader(self) -> _Reader | None:
        """A reader on the store's database if its schema is the current one, else None."""
        target = self._target
        if target is None or not self._readable(target):
            return None
        reader = _Reader(target, self.options)
        if reader.schema_version() == SCHEMA_VERSION:
            return reader
        reader.close()
        return None

    @staticmethod
    def _readable(target: Target) -> bool:
        """Whether this path can read ``target``: its driver is installed, and a SQLite file
        exists (the SQLAlchemy store decides what a missing one is)."""
        if target.dialect == "sqlite":
            return os.path.exists(target.connect["database"])
        import importlib.util

        driver = "psycopg" if target.dialect == "postgresql" else "pymysql"
        return importlib.util.find_spec(driver) is not None

    def _store(self) -> SQLStore:
        """The SQLAlchemy store for everything this path does not read."""
        if self._full is None:
            with self._making:
                if self._full is None:
                    if self._closed:
                        raise StorageError(f"the store {self.display_url} is closed")
                    from .store import SQLStore

                    self._full = SQLStore(self._given, options=self.options)
        return self._full

    def _light(self) -> _Reader | None:
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        full = self._full
        if self._reader is None and full is not None and full._ready and self._target:
            # The SQLAlchemy store created or upgraded the schema: read lightly from now on
            # (one try: a database this path cannot read stays with SQLAlchemy).
            with contextlib.suppress(StorageError):
                self._reader = self._opened_reader()
            self._target = None
        return self._reader

    def __repr__(self) -> str:
        return f"SQLStore({self.display_url!r})"

    def __getattr__(self, name: str) -> Any:
        # The SQLAlchemy store's other attributes (engine, tables, dialect…), for callers
        # that reach past the Store protocol.
        if name.startswith("__") or name in _OWN:
            raise AttributeError(name)
        return getattr(self._store(), name)

    # --- what this path reads -----------------------------------------------------------

    def exists(self) -> bool:
        """Whether the database holds complaintkit's tables (see ``SQLStore.exists``)."""
        if self._light() is not None:
            return True  # opening read the current schema version
        return self._store().exists()

    def get(self, reference: str) -> Complaint:
        """The complaint with ``reference`` as currently stored (NotFoundError if none)."""
        reader = self._light()
        if reader is None:
            return self._store().get(reference)
        sql = f"{reader.select()} WHERE c.reference = {reader.mark}"
        found = reader.read(lambda cursor: reader.complaints(cursor, sql, [reference]))
        if not found:
            raise NotFoundError(reference)
        return found[0]  # type: ignore[no-any-return]

    def find_sorted(
        self,
        flt: ComplaintFilter | None,
        order: SortOrder,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt`` in ``order``, read in pages of :data:`PAGE` by offset
        (see ``SQLStore.find_sorted``)."""
        check_page(limit, offset)
        reader = self._light()
        where = None if reader is None else reader.where(flt)
        if reader is None or where is None:
            return self._store().find_sorted(flt, order, limit=limit, offset=offset)
        conds, params = where
        hint = ""
        if reader.dialect == "mysql" and not conds and order.key == "received_at":
            hint = " FORCE INDEX (ck_complaints_order)"  # as SQLStore._sorted_query
        sql = (
            reader.select()
            + hint
            + (" WHERE " + " AND ".join(conds) if conds else "")
            + f" ORDER BY {reader.order_by(order)} LIMIT {reader.mark} OFFSET {reader.mark}"
        )
        return self._sorted_pages(reader, sql, params, limit, offset)

    @staticmethod
    def _sorted_pages(
        reader: _Reader, sql: str, params: list[Any], limit: int | None, offset: int
    ) -> Iterator[Complaint]:
        remaining = limit
        position = offset
        while remaining is None or remaining > 0:
            step = PAGE if remaining is None else min(PAGE, remaining)
            bounds = [*params, step, position]
            page: list[Complaint] = reader.read(
                lambda cursor: reader.complaints(cursor, sql, bounds)  # noqa: B023 (called now)
            )
            yield from page
            if len(page) < step:
                return
            position += len(page)
            if remaining is not None:
                remaining -= len(page)

    def count(self, flt: ComplaintFilter | None = None) -> int:
        """How many complaints match ``flt`` (``SELECT COUNT(*)``)."""
        reader = self._light()
        where = None if reader is None else reader.where(flt)
        if reader is None or where is None:
            return self._store().count(flt)
        conds, params = where
        sql = "SELECT COUNT(*) FROM ck_complaints c" + (
            " WHERE " + " AND ".join(conds) if conds else ""
        )

        def counted(cursor: Any) -> int:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0])

        return reader.read(counted)  # type: ignore[no-any-return]

    def facts(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
        """The facts of the complaints matching ``flt`` (see ``SQLStore.facts``): on SQLite
        the statement of all the fact fields, run here (see :meth:`fact_columns`)."""
        from complaintkit.facts import FACT_FIELDS, ComplaintFacts

        reader = self._light()
        found = None if reader is None else reader.fact_statement(flt, FACT_FIELDS)
        if reader is None or found is None:
            return self._store().facts(flt)
        sql, params, read = found
        return reader.stream(sql, params, lambda row: ComplaintFacts(*read(row)))

    def fact_columns(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> Iterator[tuple[Any, ...]]:
        """Some facts of the complaints matching ``flt`` (see ``SQLStore.fact_columns``): on
        SQLite, for the plans the reports read, the very statement SQLAlchemy would build,
        kept as text (:mod:`complaintkit_sql.facts_texts`), run here."""
        reader = self._light()
        found = None if reader is None else reader.fact_statement(flt, fields)
        if reader is None or found is None:
            return self._store().fact_columns(flt, fields)
        sql, params, read = found
        return reader.stream(sql, params, read)

    def count_by(self, key: str, flt: ComplaintFilter | None = None) -> dict[str | None, int]:
        """Counts of matching complaints by ``key`` (``GROUP BY``; see
        ``SQLStore.count_by``)."""
        reader = self._light()
        where = None if reader is None else reader.where(flt)
        if reader is None or where is None:
            return self._store().count_by(key, flt)
        conds, params = where
        source = "ck_complaints c"
        if key.startswith("label:") and not conds:
            counts: dict[str | None, int] = reader.read(
                functools.partial(_label_counts, reader.mark, key[6:])
            )
            return counts
        if key.startswith("label:"):
            source += (
                " LEFT OUTER JOIN ck_labels grouped_label ON grouped_label.reference = "
                f"c.reference AND grouped_label.scheme = {reader.mark}"
            )
            params = [key[6:], *params]
            column = "grouped_label.label"
        elif key == "month":
            column = "c.received_month"
        elif key in _GROUP_COLUMNS:
            column = f"c.{key}"
        else:
            return self._store().count_by(key, flt)  # the error, as the store words it
        sql = (
            f"SELECT {column}, COUNT(*) FROM {source}"
            + (" WHERE " + " AND ".join(conds) if conds else "")
            + f" GROUP BY {column}"
        )

        def counted(cursor: Any) -> list[Any]:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

        rows = reader.read(counted)
        if key == "escalation_level":
            return {_SLUGS[int(value)]: int(n) for value, n in rows}
        return {value: int(n) for value, n in rows}

    def close(self) -> None:
        """Close the connection and the SQLAlchemy store, if one was made."""
        self._closed = True
        if self._reader is not None:
            self._reader.close()
        if self._full is not None:
            self._full.close()

    def __enter__(self) -> LightSQLStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- everything else: the SQLAlchemy store ------------------------------------------

    def schema_status(self) -> SchemaStatus:
        """See ``SQLStore.schema_status``."""
        return self._store().schema_status()

    def upgrade_schema(self, target: int = SCHEMA_VERSION) -> list[int]:
        """See ``SQLStore.upgrade_schema``."""
        return self._store().upgrade_schema(target)

    def initialize(self) -> None:
        """See ``SQLStore.initialize``."""
        self._store().initialize()

    def add(self, complaint: Complaint) -> Complaint:
        """See ``SQLStore.add``."""
        return self._store().add(complaint)

    def add_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """See ``SQLStore.add_many``."""
        return self._store().add_many(complaints)

    def restore_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """See ``SQLStore.restore_many``."""
        return self._store().restore_many(complaints)

    def update(self, complaint: Complaint) -> Complaint:
        """See ``SQLStore.update``."""
        return self._store().update(complaint)

    def update_many(self, complaints: Iterable[Complaint]) -> UpdateResult:
        """See ``SQLStore.update_many``."""
        return self._store().update_many(complaints)

    def find(
        self,
        flt: ComplaintFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """See ``SQLStore.find``."""
        return self._store().find(flt, limit=limit, offset=offset)

    def find_data(self, flt: ComplaintFilter | None = None) -> Iterator[dict[str, Any]]:
        """See ``SQLStore.find_data``."""
        return self._store().find_data(flt)

    def existing(self, references: Iterable[str]) -> set[str]:
        """See ``SQLStore.existing``."""
        return self._store().existing(references)

    def __len__(self) -> int:
        return self.count()

    def outbox(self) -> Outbox:
        """See ``SQLStore.outbox``."""
        return self._store().outbox()

    def plugin_data(self) -> PluginData:
        """See ``SQLStore.plugin_data``."""
        return self._store().plugin_data()

    def attachments(self) -> SQLAttachments | _LightAttachments:
        """See ``SQLStore.attachments``; ``list`` (what ``show`` reads) is read here."""
        if self._light() is None:
            return self._store().attachments()
        return _LightAttachments(self)


class _LightAttachments:
    """The store's attachments: ``list`` read by the light path, the rest by SQLAlchemy's
    :class:`~complaintkit_sql.attachments.SQLAttachments`."""

    def __init__(self, store: LightSQLStore) -> None:
        self.store = store

    def _full(self) -> SQLAttachments:
        return self.store._store().attachments()

    def list(self, reference: str) -> list[Attachment]:
        """The attachments of ``reference``, oldest first (ties by name)."""
        reader = self.store._light()
        if reader is None:
            return self._full().list(reference)
        mark = reader.mark

        def rows(cursor: Any) -> list[Any]:
            cursor.execute(
                "SELECT reference, name, size, sha256, media_type, added_utc, added_offset, "
                f"added_by FROM ck_attachments WHERE reference = {mark} "
                "ORDER BY added_utc, name",
                [reference],
            )
            return list(cursor.fetchall())

        instant = reader.instant
        found = []
        for ref, name, size, sha256, media_type, added_utc, added_offset, added_by in reader.read(
            rows
        ):
            at = instant(added_utc, added_offset)
            assert at is not None  # added_utc is NOT NULL
            found.append(Attachment(ref, name, size, sha256, media_type, at, added_by))
        return found

    def put(self, attachment: Attachment, content: bytes) -> Attachment:
        """See ``SQLAttachments.put``."""
        return self._full().put(attachment, content)

    def get(self, reference: str, name: str) -> Attachment:
        """See ``SQLAttachments.get``."""
        return self._full().get(reference, name)

    def content(self, reference: str, name: str) -> bytes:
        """See ``SQLAttachments.content``."""
        return self._full().content(reference, name)

    def remove(self, reference: str, name: str) -> Attachment:
        """See ``SQLAttachments.remove``."""
        return self._full().remove(reference, name)

    def references(self) -> Iterator[str]:
        """See ``SQLAttachments.references``."""
        return self._full().references()
