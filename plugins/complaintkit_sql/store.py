"""The SQL store: complaints in SQLite, PostgreSQL or MySQL/MariaDB through SQLAlchemy Core.

URLs (the scheme picks the database, an optional ``+driver`` the driver):

* ``sqlite:///absolute/path.db``, ``sqlite://relative/path.db`` (complaintkit's convention for
  every file store, :func:`complaintkit.storage.store_path`: what follows ``sqlite://`` is the
  path; SQLAlchemy's ``sqlite:////absolute/path.db`` means the same absolute path);
* ``postgresql://user@host:5432/db`` (also ``postgres://``; psycopg 3 by default);
* ``mysql://user:pw@host:3306/db`` and ``mariadb://…`` (PyMySQL by default, utf8mb4).

Options, from the ``[storage]`` table of ``complaintkit.toml``: ``lock_timeout`` (seconds,
default 30) is how long a SQLite writer waits for another one (``busy_timeout``), and on
PostgreSQL/MariaDB how long a statement waits for a row lock.

How it stays correct with many processes:

* every write is one transaction; ``update`` is ``UPDATE … WHERE reference = ? AND version =
  ?`` and zero rows touched means somebody else wrote first (:class:`ConflictError`), so no
  update is lost and nothing is locked between a read and a write;
* ``add_many`` writes chunks of :data:`CHUNK` complaints with ``executemany``, skipping
  references already stored; a chunk that races another writer's insert is retried;
* SQLite runs in WAL mode (readers never block the writer) and every write transaction starts
  with ``BEGIN IMMEDIATE``, so two writers queue on the busy timeout instead of deadlocking.

Queries are pushed down: every :class:`ComplaintFilter` field becomes SQL, ``find`` reads in
pages by key (``received_utc, reference``) so memory stays flat however many rows match, and
``count``/``count_by`` are ``COUNT``/``GROUP BY`` in the database; ``facts`` (what reports read,
see :mod:`complaintkit.facts`) is one set-based statement over the complaints, events and labels
tables (:mod:`complaintkit_sql.facts_query`), read as a stream, building no complaint.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import orjson
import sqlalchemy as sa

from complaintkit.errors import (
    ConfigError,
    ConflictError,
    DuplicateComplaintError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from complaintkit.model import (
    OPEN_STATUSES,
    Complaint,
    EscalationLevel,
)
from complaintkit.outbox import Outbox
from complaintkit.plugindata import PluginData
from complaintkit.redact import redact_url
from complaintkit.storage import (
    GROUP_KEYS,
    AddResult,
    ComplaintFilter,
    SortOrder,
    UpdateResult,
    check_page,
    gc_paused,
    parse_url,
    store_path,
)

if TYPE_CHECKING:
    from complaintkit.facts import ComplaintFacts, ComplaintLabels, LabelSummary

    from .attachments import SQLAttachments

from .casework_query import custom_condition, order_by, tag_condition
from .decoding import (
    _CHANNELS,
    _COMPLAINT_FIELDS,
    _EVENT_FIELDS,
    _LABEL_FIELDS,
    _LEVELS,
    _STATUSES,
    _complaint,
    _complaint_data,
    _decoded,
    _naive_utc,
    _remedies,
)
from .failures import storage_error
from .instants import instant_parser, zone_of
from .options import SQLOptions
from .schema import KEY_LENGTH, SCHEMA_VERSION, STEPS, Tables, make_tables

__all__ = [
    "CHUNK",
    "FACTS_PAGE",
    "PAGE",
    "SQLOptions",
    "SQLStore",
    "SchemaStatus",
    "engine_url",
    "open_sql",
]

#: Complaints written per ``executemany`` batch by ``add_many``.
CHUNK = 1000
#: Complaints read per query by ``find``.
PAGE = 500
#: Rows of the facts statement fetched per batch by ``facts``.
FACTS_PAGE = 2000
#: References per ``IN (…)`` list.
IN_CHUNK = 500

T = TypeVar("T")

_DEFAULT_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
#: What ``_version`` returns for complaintkit's tables without ``ck_schema``.
_HALF_MADE = -1

_EXTRAS = {"sqlite": "sql", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL for a store URL: default drivers filled in, SQLite paths absolute.

    A SQLite path follows complaintkit's convention (:func:`complaintkit.storage.store_path`),
    not SQLAlchemy's: ``sqlite:///var/c.db`` is ``/var/c.db`` and ``sqlite://c.db`` is
    ``c.db`` in the working directory.
    """
    scheme, rest = parse_url(url)
    full_scheme = url.partition("://")[0].lower()
    shown = redact_url(url)
    if scheme not in _DEFAULT_DRIVERS:
        raise ConfigError(f"{shown!r} is not a SQL store URL (sqlite, postgresql, mysql, mariadb)")
    if scheme == "sqlite":
        path_text, _, query = rest.partition("?")
        if path_text.strip("/") in ("", ":memory:"):
            raise ConfigError(
                f"store URL {shown!r} names no file; an in-memory SQLite database cannot be "
                "shared between connections. Write e.g. sqlite://complaints.db (in the current "
                "folder) or sqlite:///var/lib/complaints.db"
            )
    try:
        # For SQLite, SQLAlchemy parses only the options; the path is ours (see the docstring).
        parsed = sa.make_url(
            f"{full_scheme}:///placeholder" + (f"?{query}" if query else "")
            if scheme == "sqlite"
            else url
        )
    except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise ConfigError(f"store URL {shown!r} is not a valid database URL: {exc}") from None
    if "+" not in full_scheme:
        parsed = parsed.set(drivername=_DEFAULT_DRIVERS[scheme])
    elif scheme == "postgres":
        parsed = parsed.set(drivername="postgresql+" + full_scheme.partition("+")[2])
    if scheme == "sqlite":
        parsed = parsed.set(database=str(store_path(f"sqlite://{path_text}")))
    elif scheme in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def open_sql(url: str, options: Mapping[str, Any] | None = None) -> SQLStore:
    """Open the store a SQL URL names (the backend's ``open`` function)."""
    return SQLStore(url, options=SQLOptions.from_mapping(options or {}))


@attrs.frozen
class SchemaStatus:
    """Where a database's schema stands: its version, ours, and the steps between them."""

    url: str
    current: int
    latest: int

    @property
    def pending(self) -> tuple[int, ...]:
        """The upgrade steps ``complaintkit db upgrade`` would run."""
        return tuple(range(self.current + 1, self.latest + 1))

    @property
    def state(self) -> str:
        """``empty``, ``current``, ``outdated`` or ``newer`` (written by a newer complaintkit)."""
        if self.current == 0:
            return "empty"
        if self.current == self.latest:
            return "current"
        return "outdated" if self.current < self.latest else "newer"


# --- values between Python and the database ---------------------------------------------


def _split(at: datetime, field: str, reference: str) -> tuple[datetime, int]:
    """An aware datetime as (naive UTC, offset in seconds)."""
    offset = at.utcoffset()
    assert offset is not None  # the model refuses naive datetimes
    if offset % timedelta(seconds=1):
        raise ValidationError(
            f"complaint {reference}", [f"field {field}: UTC offset {offset} is not whole seconds"]
        )
    return (at - offset).replace(tzinfo=None), int(offset.total_seconds())


def _utc(at: datetime) -> datetime:
    """A filter bound as naive UTC, the way instants are stored."""
    return at.astimezone(UTC).replace(tzinfo=None)


def _join(utc: datetime | None, offset: int | None) -> datetime | None:
    if utc is None:
        return None
    zone = zone_of(offset or 0)
    return (utc + timedelta(seconds=offset or 0)).replace(tzinfo=zone)


def _check_key(reference: str, field: str, value: str | None) -> None:
    if value is not None and len(value) > KEY_LENGTH:
        raise ValidationError(
            f"complaint {reference}",
            [f"field {field}: longer than {KEY_LENGTH} characters ({len(value)})"],
        )


_KEY_FIELDS = (
    "reference",
    "product",
    "department",
    "assignee",
    "sla_policy",
    "parent",
)


_Rows = tuple[dict[str, Any], list[Any], list[Any]]


def _encoded(value: Any, reference: str) -> bytes:
    """JSON data encoded once, as the JSON columns take it (see :func:`_json_dumps`)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise ValidationError(
            f"complaint {reference}", [f"cannot be stored as JSON: {exc}"]
        ) from None


_EMPTY_LIST = b"[]"
_EMPTY_OBJECT = b"{}"


def _rows(complaint: Complaint, version: int) -> _Rows:
    """The complaint row, its label rows and its event rows, as dicts by column name.

    The JSON columns hold their JSON already encoded (``bytes`` from ``orjson``): the bulk
    path writes them as they are and the engine's serializer passes them through
    (:func:`_json_dumps`), so every value is encoded once, in C, with no intermediate copy.
    Data JSON cannot hold raises :class:`ValidationError` before anything is written.
    """
    reference = complaint.reference
    who = complaint.complainant
    for name in _KEY_FIELDS:
        _check_key(reference, name, getattr(complaint, name))
    for name in ("customer_id", "phone", "email"):
        _check_key(reference, f"complainant.{name}", getattr(who, name))
    received_utc, received_offset = _split(complaint.received_at, "received_at", reference)
    due_utc, due_offset = (
        _split(complaint.due_at, "due_at", reference) if complaint.due_at else (None, None)
    )
    alert_utc, alert_offset = (
        _split(complaint.alert_at, "alert_at", reference) if complaint.alert_at else (None, None)
    )
    remedies = complaint.remedies
    custom = complaint.custom
    row = {
        "reference": reference,
        "version": version,
        "received_utc": received_utc,
        "received_offset": received_offset,
        "received_month": complaint.received_at.strftime("%Y-%m"),
        "title": complaint.title,
        "text": complaint.text,
        "channel": complaint.channel.value,
        "complainant_name": who.name,
        "customer_id": who.customer_id,
        "phone": who.phone,
        "email": who.email,
        "product": complaint.product,
        "order_ref": complaint.order,
        "remedy_sought": (
            None if complaint.remedy_sought is None else complaint.remedy_sought.value
        ),
        "status": complaint.status.value,
        "escalation_level": int(complaint.escalation_level),
        "department": complaint.department,
        "assignee": complaint.assignee,
        "due_utc": due_utc,
        "due_offset": due_offset,
        "alert_utc": alert_utc,
        "alert_offset": alert_offset,
        "sla_policy": complaint.sla_policy,
        "solution": complaint.solution,
        "remedies": (
            _encoded([r.as_data() for r in remedies], reference) if remedies else _EMPTY_LIST
        ),
        "satisfaction": complaint.satisfaction,
        "parent": complaint.parent,
        "recomplaint_count": complaint.recomplaint_count,
        "tags": _encoded(list(complaint.tags), reference) if complaint.tags else _EMPTY_LIST,
        "custom": _encoded(custom, reference) if custom else _EMPTY_OBJECT,
    }
    labels = []
    for position, (scheme, label) in enumerate(complaint.labels.items()):
        _check_key(reference, f"labels.{scheme}", scheme)
        _check_key(reference, f"labels.{scheme}.label", label.label)
        _check_key(reference, f"labels.{scheme}.classifier", label.classifier)
        labels.append(
            {
                "reference": reference,
                "scheme": scheme,
                "position": position,
                "label": label.label,
                "confidence": label.confidence,
                "evidence": _encoded(list(label.evidence), reference),
                "classifier": label.classifier,
            }
        )
    events = []
    # Events of one intake share their timestamp object: split each distinct one once.
    split: dict[int, tuple[datetime, int]] = {}
    for seq, event in enumerate(complaint.history):
        at = event.at
        found = split.get(id(at))
        if found is None:
            found = split[id(at)] = _split(at, f"history[{seq}].at", reference)
        data = event.data
        events.append(
            {
                "reference": reference,
                "seq": seq,
                "at_utc": found[0],
                "at_offset": found[1],
                "actor": event.actor,
                "action": event.action,
                "reason": event.reason,
                "data": _encoded(data, reference) if data else _EMPTY_OBJECT,
                "digest": event.digest,
            }
        )
    return row, labels, events


#: The complaint columns :meth:`SQLStore.facts` reads.
_FACT_COLUMNS = (
    "reference",
    "received_utc",
    "received_offset",
    "status",
    "channel",
    "department",
    "assignee",
    "product",
    "escalation_level",
    "sla_policy",
    "due_utc",
    "due_offset",
    "satisfaction",
    "parent",
    "recomplaint_count",
    "customer_id",
    "phone",
    "email",
    "remedies",
)
_OPEN = frozenset(OPEN_STATUSES)


def _fact_reader(
    instant: Callable[[Any, int | None], datetime | None],
) -> Callable[[Sequence[Any]], ComplaintFacts]:
    """What reads the facts from a row of :func:`~complaintkit_sql.facts_query.facts_statement`:
    :data:`_FACT_COLUMNS` (instants as ``instant`` reads them, remedies as JSON text) then
    :data:`~complaintkit_sql.facts_rows.AGGREGATES`. The facts machinery is imported here, by
    the queries that need it, not by every command that opens a SQL store."""
    from complaintkit.facts import ComplaintFacts

    from .facts_rows import FLAGS, pauses_of

    def read(row: Sequence[Any]) -> ComplaintFacts:
        (
            reference,
            received_utc,
            received_offset,
            status_value,
            channel,
            department,
            assignee,
            product,
            level,
            sla_policy,
            due_utc,
            due_offset,
            satisfaction,
            parent,
            recomplaint_count,
            customer_id,
            phone,
            email,
            remedies,
            escalations,
            reopened,
            flags,
            breached_other,
            pausing,
            ack_at,
            ack_offset,
            resp_at,
            resp_offset,
            res_at,
            res_offset,
            reopen_at,
            reopen_offset,
            labels,
        ) = row
        received = instant(received_utc, received_offset)
        assert received is not None
        status = _STATUSES[status_value]
        breached, untimed = FLAGS[flags]
        if breached_other is not None:
            # the array holds a null for each event of the complaint that is no such breach
            others = orjson.loads(breached_other)
            breached = breached | frozenset(t for t in others if t is not None)
        # Only a complaint with remedies pays for decoding them (most have none: "[]").
        found = orjson.loads(remedies) if remedies != "[]" else None
        return ComplaintFacts(
            reference=reference,
            received_at=received,
            status=status,
            channel=_CHANNELS[channel],
            department=department,
            assignee=assignee,
            product=product,
            escalation_level=_LEVELS[level],
            labels={} if labels is None else orjson.loads(labels),
            sla_policy=sla_policy,
            due_at=instant(due_utc, due_offset),
            satisfaction=satisfaction,
            parent=parent,
            recomplaint_count=recomplaint_count,
            customer=customer_id or phone or email,
            acknowledged_at=instant(ack_at, ack_offset),
            responded_at=instant(resp_at, resp_offset),
            resolved_at=None if status in _OPEN else instant(res_at, res_offset),
            reopened=int(reopened),
            reopened_at=instant(reopen_at, reopen_offset),
            breached=breached,
            escalations=int(escalations),
            pauses=() if pausing is None else pauses_of(pausing),
            remedies=_remedies(found) if found else (),
            untimed=untimed,
        )

    return read


def _refused_value(cause: BaseException | None) -> bool:
    """Whether a failed write was the database refusing a value of a row (the row's fault,
    not the connection's or another writer's): a DataError, or a value the driver could not
    send."""
    if isinstance(cause, sa.exc.DataError):
        return True
    return isinstance(cause, sa.exc.StatementError) and not isinstance(cause, sa.exc.DBAPIError)


def _json_dumps(value: Any) -> str:
    """The engine's JSON serializer; ``bytes`` are JSON :func:`_rows` encoded already (no
    JSON value is ``bytes``: orjson refuses them), passed through."""
    if type(value) is bytes:
        return value.decode()
    return orjson.dumps(value).decode()


_OPEN_VALUES = sorted(status.value for status in OPEN_STATUSES)
_SLUGS = {int(level): level.slug for level in EscalationLevel}


class SQLStore:
    """A :class:`~complaintkit.storage.Store` in a SQL database, safe between processes.

    Opening connects and checks the schema version, and creates nothing (a SQLite file that
    does not exist is not even connected to): a database without our tables is a store that
    does not exist yet (:meth:`exists` is False), created by :meth:`initialize` or by the first
    operation that needs the tables. On an older schema every operation but
    :meth:`schema_status` and :meth:`upgrade_schema` raises :class:`StorageError` asking for
    ``complaintkit db upgrade``. Thread-safe in the sense of SQLAlchemy's engine (a connection
    pool); one store per process is the usual use.
    """

    def __init__(self, url: str, *, options: SQLOptions | None = None) -> None:
        self.options = options or SQLOptions()
        self.sa_url = engine_url(url)
        self.dialect = self.sa_url.get_backend_name()
        if self.dialect == "sqlite":
            # The path as complaintkit reads it, absolute, in every message.
            scheme = url.partition("://")[0]
            query = url.partition("?")[2]
            self.url = f"{scheme}://{self.sa_url.database}" + (f"?{query}" if query else "")
            self.display_url = self.url
        else:
            self.url = url
            self.display_url = sa.make_url(url).render_as_string(hide_password=True)
        self._closed = False
        self._ready = False
        self.engine = self._make_engine()
        try:
            self.tables = self._make_tables()
            if not self._file_missing():
                # An outdated or newer schema is reported by the first operation, so that
                # ``complaintkit db status`` and ``db upgrade`` can still open the store.
                self._ready = self.schema_status().state == "current"
        except BaseException:
            self.engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"SQLStore({self.display_url!r})"

    # --- connections --------------------------------------------------------------------

    def _make_engine(self) -> sa.Engine:
        kwargs: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
        }
        timeout = self.options.lock_timeout
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": timeout}
        elif self.dialect in ("mysql", "mariadb"):
            kwargs["isolation_level"] = "READ COMMITTED"
            kwargs["pool_pre_ping"] = True
        else:
            kwargs["pool_pre_ping"] = True
        try:
            engine = sa.create_engine(self.sa_url, **kwargs)
        except ImportError as exc:
            extra = _EXTRAS.get(self.dialect, "sql")
            raise ConfigError(
                f"the database driver for {self.display_url} is not installed ({exc}); "
                f"install it with: pip install 'complaintkit[{extra}]'"
            ) from None
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"store URL {self.display_url}: {exc}") from None
        if self.dialect == "sqlite":
            busy_ms = int(timeout * 1000)

            @sa.event.listens_for(engine, "connect")
            def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
                # Transactions are ours to begin (see _sqlite_begin), not the driver's.
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
                dbapi_connection.create_function("ck_lower", 1, _py_lower, deterministic=True)

            @sa.event.listens_for(engine, "begin")
            def _sqlite_begin(conn: sa.Connection) -> None:
                write = conn.get_execution_options().get("ck_write", False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        else:
            lock_ms = int(timeout * 1000)

            @sa.event.listens_for(engine, "connect")
            def _server_connect(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                if self.dialect == "postgresql":
                    cursor.execute(f"SET lock_timeout = {lock_ms}")
                else:
                    cursor.execute(
                        f"SET SESSION innodb_lock_wait_timeout = {max(1, lock_ms // 1000)}"
                    )
                cursor.close()
                if self.dialect == "postgresql":
                    dbapi_connection.commit()

        return engine

    def _make_tables(self) -> Tables:
        if self.dialect not in ("mysql", "mariadb"):
            return make_tables(dialect=self.dialect)
        with self._connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT collation_name FROM information_schema.collations "
                "WHERE collation_name IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')"
            ).scalars()
            names = set(found)
        for name in ("utf8mb4_nopad_bin", "utf8mb4_0900_bin"):
            if name in names:
                return make_tables(name)
        return make_tables("utf8mb4_bin")

    def _failure(self, exc: sa.exc.SQLAlchemyError) -> BaseException:
        """What a database error becomes: a :class:`StorageError` naming the store, or the
        Ctrl-C it happened under. A Ctrl-C that interrupts a driver mid-call leaves the
        connection busy, and the rollback on the way out fails ("can't change 'autocommit'
        now"): that failure must not hide the Ctrl-C, or the command reports a storage error
        instead of saying what was stored and exiting 130."""
        seen: BaseException | None = exc
        while seen is not None:
            if isinstance(seen, KeyboardInterrupt):
                return KeyboardInterrupt()
            seen = seen.__context__
        return storage_error(self.display_url, str(getattr(exc, "orig", None) or exc))

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        """A connection in a read transaction; database errors become StorageError."""
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise self._failure(exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction (BEGIN IMMEDIATE on SQLite)."""
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        try:
            with self.engine.connect() as conn:
                conn.execution_options(ck_write=True)
                with conn.begin():
                    yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise self._failure(exc) from exc

    # --- the schema ---------------------------------------------------------------------

    def _version(self, conn: sa.Connection) -> int:
        """The schema version; ``_HALF_MADE`` when complaintkit's tables exist without
        ``ck_schema``. The table names come from one query, so one snapshot: two queries in
        a READ COMMITTED transaction could see a schema another process commits between them
        as half made."""
        names = set(sa.inspect(conn).get_table_names())
        if "ck_schema" not in names:
            return _HALF_MADE if "ck_complaints" in names else 0
        found = conn.execute(
            sa.select(self.tables.schema.c.version).where(self.tables.schema.c.id == 1)
        ).scalar()
        return int(found or 0)

    def _damaged(self) -> StorageError:
        return StorageError(
            f"{self.display_url} has complaintkit tables but no ck_schema table; "
            "it was not created by complaintkit or was damaged. Nothing was changed"
        )

    def _file_missing(self) -> bool:
        """A SQLite store whose file does not exist (connecting would create it)."""
        return self.dialect == "sqlite" and not os.path.exists(str(self.sa_url.database))

    def exists(self) -> bool:
        """Whether the database holds complaintkit's tables (a missing SQLite file does not)."""
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        if self._ready:
            # Opening found the current schema (or this store created it): no second look,
            # which every command would otherwise pay on a new connection.
            return True
        return not self._file_missing() and self.schema_status().current > 0

    def schema_status(self) -> SchemaStatus:
        """The database's schema version against the one this code needs (reads only)."""
        if self._file_missing():
            return SchemaStatus(self.display_url, 0, SCHEMA_VERSION)
        with self._connect() as conn:
            version = self._version(conn)
        if version == _HALF_MADE and self.dialect != "sqlite":
            # MariaDB commits each CREATE TABLE by itself: another process creating the schema
            # under the schema lock may be between two tables. Wait for it, then look again.
            with self._schema_lock(), self._connect() as conn:
                version = self._version(conn)
        if version == _HALF_MADE:
            raise self._damaged()
        return SchemaStatus(self.display_url, version, SCHEMA_VERSION)

    def _check_schema(self, *, create: bool) -> None:
        status = self.schema_status()
        if status.state in ("empty", "outdated") and create:
            # Another process may be creating the schema right now, between two of its steps:
            # wait for its lock, then look again; only a store still empty is created here.
            with self._schema_lock():
                status = self.schema_status()
            if status.state == "empty":
                self.upgrade_schema()
                status = self.schema_status()
        if status.state == "newer":
            raise StorageError(
                f"{self.display_url} has schema version {status.current}, written by a newer "
                f"complaintkit (this one knows up to version {status.latest}); upgrade complaintkit"
            )
        if status.state == "outdated":
            raise StorageError(
                f"{self.display_url} has schema version {status.current}; this complaintkit "
                f"needs version {status.latest}. Back the database up, then run: "
                f"complaintkit --store '{self.display_url}' db upgrade"
            )
        self._ready = True

    def upgrade_schema(self, target: int = SCHEMA_VERSION) -> list[int]:
        """Run the upgrade steps from the database's version to ``target``; the steps run.

        Several processes may call it at once: a database-wide lock (an advisory lock on
        PostgreSQL, ``GET_LOCK`` on MariaDB, the write lock on SQLite) lets one of them work and
        the others find the work done.
        """
        if not 0 < target <= SCHEMA_VERSION:
            raise ConfigError(f"schema version must be 1 to {SCHEMA_VERSION}, got {target}")
        if self._file_missing():
            # Like the TinyDB store, a new SQLite store may live in a folder not made yet.
            try:
                os.makedirs(os.path.dirname(str(self.sa_url.database)), exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create {self.display_url}: {exc}") from exc
        ran: list[int] = []
        with self._schema_lock():
            if self.dialect == "sqlite":
                # SQLite's DDL is transactional and BEGIN IMMEDIATE is the lock: every step in
                # one transaction, so no other process ever sees a half-made schema.
                with self._writing() as conn:
                    while self._upgrade_step(conn, target, ran):
                        pass
            else:
                # MariaDB commits each DDL statement by itself: one transaction a step, under
                # the database-wide lock that makes other processes wait (``_check_schema``).
                while True:
                    with self._writing() as conn:
                        if not self._upgrade_step(conn, target, ran):
                            break
        if ran and target == SCHEMA_VERSION:
            self._ready = True
        return ran

    def _upgrade_step(self, conn: sa.Connection, target: int, ran: list[int]) -> bool:
        """Take the schema one step towards ``target``; False when it is there."""
        current = self._version(conn)
        if current == _HALF_MADE:
            raise self._damaged()
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"{self.display_url} has schema version {current}, newer than this "
                f"complaintkit knows ({SCHEMA_VERSION}); upgrade complaintkit"
            )
        if current >= target:
            return False
        step = current + 1
        STEPS[step](conn, self.tables)
        schema = self.tables.schema
        if current == 0:
            conn.execute(sa.insert(schema).values(id=1, version=step))
        else:
            conn.execute(sa.update(schema).where(schema.c.id == 1).values(version=step))
        ran.append(step)
        return True

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        if self.dialect == "sqlite":
            yield  # every step runs under BEGIN IMMEDIATE, which is the lock
            return
        try:
            with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_lock(7243101)")
                    conn.commit()
                    try:
                        yield
                    finally:
                        conn.exec_driver_sql("SELECT pg_advisory_unlock(7243101)")
                        conn.commit()
                else:
                    conn.exec_driver_sql("SELECT GET_LOCK('complaintkit_schema', 600)")
                    try:
                        yield
                    finally:
                        conn.exec_driver_sql("SELECT RELEASE_LOCK('complaintkit_schema')")
        except sa.exc.SQLAlchemyError as exc:
            raise self._failure(exc) from exc

    def _check(self) -> None:
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        if not self._ready:
            # A store nobody created yet is created by its first use, as TinyDB's by its first
            # write; the plugin host refuses to open it at all unless asked to create it.
            self._check_schema(create=True)

    def initialize(self) -> None:
        """Create the latest schema in an empty database; idempotent, keeps data."""
        if self._closed:
            raise StorageError(f"the store {self.display_url} is closed")
        self._check_schema(create=True)

    # --- writing ------------------------------------------------------------------------

    def _insert(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows (from :func:`_rows`) on the transaction of ``conn``: ``COPY`` on
        PostgreSQL, the driver's own ``executemany`` elsewhere.

        Both bypass SQLAlchemy's per-row parameter processing, which cost more than the
        database's own work: values go to the driver as the columns take them (JSON text, and
        on SQLite instants as the ``YYYY-MM-DD HH:MM:SS.ffffff`` text SQLAlchemy writes).
        """
        if not rows:
            return
        if self.dialect == "postgresql" and len(rows) < 50:
            # A few rows (one complaint's labels and events): one pipelined INSERT costs one
            # round trip, COPY two.
            conn.execute(sa.insert(table), rows)
            return
        names = [column.name for column in table.columns]
        json_at = [i for i, col in enumerate(table.columns) if isinstance(col.type, sa.JSON)]
        instant_at = (
            [i for i, col in enumerate(table.columns) if isinstance(col.type, sa.DateTime)]
            if self.dialect == "sqlite"
            else []
        )
        get = operator.itemgetter(*names)
        values = []
        for row in rows:
            value = list(get(row))
            for i in json_at:
                found = value[i]
                value[i] = found.decode() if type(found) is bytes else _json_dumps(found)
            for i in instant_at:
                if value[i] is not None:
                    value[i] = value[i].isoformat(" ", "microseconds")
            values.append(value)
        driver = conn.connection.driver_connection
        assert driver is not None
        dbapi = conn.dialect.loaded_dbapi
        if self.dialect == "postgresql":
            # COPY runs on the same driver connection, so inside the same transaction.
            statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        else:
            mark = "?" if self.dialect == "sqlite" else "%s"
            quote = conn.dialect.identifier_preparer.quote
            statement = (
                f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
                f"VALUES ({', '.join([mark] * len(names))})"
            )
        try:
            if self.dialect == "postgresql":
                with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                cursor = driver.cursor()
                try:
                    cursor.executemany(statement, values)
                finally:
                    cursor.close()
        except dbapi.Error as exc:
            # As SQLAlchemy would have wrapped it (a unique violation is an IntegrityError).
            raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error) from exc

    def _insert_children(self, conn: sa.Connection, labels: list[Any], events: list[Any]) -> None:
        self._insert(conn, self.tables.labels, labels)
        self._insert(conn, self.tables.events, events)

    def add(self, complaint: Complaint) -> Complaint:
        """Store a new complaint at version 1 (DuplicateComplaintError if the reference exists)."""
        self._check()
        stored = attrs.evolve(complaint, version=1)
        row, labels, events = _rows(stored, 1)
        c = self.tables.complaints
        try:
            with self._writing() as conn:
                if conn.execute(
                    sa.select(c.c.reference).where(c.c.reference == complaint.reference)
                ).first():
                    raise DuplicateComplaintError(complaint.reference)
                conn.execute(sa.insert(c), [row])
                self._insert_children(conn, labels, events)
        except StorageError as exc:
            if isinstance(exc.__cause__, sa.exc.IntegrityError) and self.existing(
                [complaint.reference]
            ):
                raise DuplicateComplaintError(complaint.reference) from None
            raise
        return stored

    def add_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store new complaints in chunks of :data:`CHUNK` rows with ``executemany``.

        The iterable is consumed as a stream; references already stored, or repeated in the
        stream, are skipped and reported (in stream order). Each chunk is one transaction, so
        an interrupted import keeps every chunk written before the interruption.
        """
        return self._ingest(complaints, keep_version=False)

    def restore_many(self, complaints: Iterable[Complaint]) -> AddResult:
        """Store complaints exactly as given, versions kept (see ``RestorableStore``); like
        :meth:`add_many` otherwise. ``complaintkit migrate`` writes through it."""
        return self._ingest(complaints, keep_version=True)

    def _ingest(self, complaints: Iterable[Complaint], *, keep_version: bool) -> AddResult:
        self._check()
        seen: set[str] = set()
        skipped: list[str] = []
        added = 0
        # (reference, rows or None for a repeat within the stream)
        batch: list[tuple[str, _Rows | None]] = []
        refused: list[tuple[str, str]] = []
        for complaint in complaints:
            reference = complaint.reference
            if reference in seen:
                batch.append((reference, None))
                continue
            seen.add(reference)
            try:
                rows = _rows(complaint, complaint.version if keep_version else 1)
            except ValidationError as exc:  # a value longer than its column: this row only
                refused.append((reference, str(exc)))
                continue
            batch.append((reference, rows))
            if len(batch) >= CHUNK:
                added += self._add_rows(batch, skipped, refused)
                batch = []
        if batch:
            added += self._add_rows(batch, skipped, refused)
        return AddResult(added, tuple(skipped), tuple(refused))

    def _add_rows(
        self,
        batch: list[tuple[str, _Rows | None]],
        skipped: list[str],
        refused: list[tuple[str, str]],
    ) -> int:
        """Write ``batch``; when the database refuses a value in it (NUL on PostgreSQL, a value
        too long for its column), halve the batch until the refused complaints are found alone:
        they go to ``refused`` with the database's reason, every other one is stored."""
        try:
            return self._add_chunk(batch, skipped)
        except StorageError as exc:
            if not _refused_value(exc.__cause__):
                raise
            reason = str(exc)
        except ValueError as exc:  # a driver that cannot encode a value (a lone surrogate)
            reason = f"{self.display_url}: {exc}"
        if sum(rows is not None for _, rows in batch) <= 1:
            refused.extend((ref, reason) for ref, rows in batch if rows is not None)
            skipped.extend(ref for ref, rows in batch if rows is None)
            return 0
        half = len(batch) // 2
        return self._add_rows(batch[:half], skipped, refused) + self._add_rows(
            batch[half:], skipped, refused
        )

    def _add_chunk(self, batch: list[tuple[str, _Rows | None]], skipped: list[str]) -> int:
        c = self.tables.complaints
        references = [reference for reference, rows in batch if rows is not None]
        for attempt in range(5):
            try:
                with self._writing() as conn:
                    known = self._known(conn, references)
                    fresh = [rows for ref, rows in batch if rows is not None and ref not in known]
                    if fresh:
                        self._insert(conn, c, [rows[0] for rows in fresh])
                        self._insert_children(
                            conn,
                            [lb for rows in fresh for lb in rows[1]],
                            [ev for rows in fresh for ev in rows[2]],
                        )
            except StorageError as exc:
                # Another writer inserted one of these references after we looked: look again.
                if attempt < 4 and isinstance(
                    exc.__cause__, sa.exc.IntegrityError | sa.exc.OperationalError
                ):
                    continue
                raise
            skipped.extend(ref for ref, rows in batch if rows is None or ref in known)
            return len(fresh)
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply(self, conn: sa.Connection, complaint: Complaint, row: dict[str, Any]) -> int | None:
        """One optimistic UPDATE with ``row`` (the complaint at version + 1): None if it was
        written, else the version found (NotFoundError if the reference is unknown)."""
        c = self.tables.complaints
        result = conn.execute(
            sa.update(c)
            .where(c.c.reference == complaint.reference, c.c.version == complaint.version)
            .values(row)
        )
        if result.rowcount == 1:
            return None
        found = conn.execute(
            sa.select(c.c.version).where(c.c.reference == complaint.reference)
        ).scalar()
        if found is None:
            raise NotFoundError(complaint.reference)
        return int(found)

    def _replace_children(self, conn: sa.Connection, written: Mapping[str, _Rows]) -> None:
        """Replace the labels and history of the complaints just written."""
        references = list(written)
        t = self.tables
        for start in range(0, len(references), IN_CHUNK):
            part = references[start : start + IN_CHUNK]
            conn.execute(sa.delete(t.labels).where(t.labels.c.reference.in_(part)))
            conn.execute(sa.delete(t.events).where(t.events.c.reference.in_(part)))
        self._insert_children(
            conn,
            [lb for rows in written.values() for lb in rows[1]],
            [ev for rows in written.values() for ev in rows[2]],
        )

    @staticmethod
    def _prepare(complaint: Complaint) -> tuple[Complaint, _Rows]:
        stored = attrs.evolve(complaint, version=complaint.version + 1)
        return stored, _rows(stored, stored.version)

    def update(self, complaint: Complaint) -> Complaint:
        """Replace a complaint if its version is the stored one; return it at version + 1.

        The labels and history rows are replaced with the complaint's, in the same
        transaction as the version-checked UPDATE of its row.
        """
        self._check()
        stored, rows = self._prepare(complaint)  # unstorable data is refused before any write
        with self._writing() as conn:
            found = self._apply(conn, complaint, rows[0])
            if found is not None:
                raise ConflictError(complaint.reference, complaint.version, found)
            self._replace_children(conn, {stored.reference: rows})
        return stored

    def update_many(self, complaints: Iterable[Complaint]) -> UpdateResult:
        """Write every complaint whose version is current, in one transaction; report the rest.

        A reference given twice is applied in order, so the second copy conflicts unless it was
        based on the first. An unknown reference raises NotFoundError and nothing is written.
        """
        self._check()
        prepared = [(complaint, *self._prepare(complaint)) for complaint in complaints]
        if not prepared:
            return UpdateResult((), ())
        updated: list[Complaint] = []
        conflicts: list[str] = []
        with self._writing() as conn:
            written: dict[str, _Rows] = {}
            for complaint, stored, rows in prepared:
                if self._apply(conn, complaint, rows[0]) is None:
                    updated.append(stored)
                    written[stored.reference] = rows
                else:
                    conflicts.append(complaint.reference)
            if written:
                self._replace_children(conn, written)
        return UpdateResult(tuple(updated), tuple(conflicts))

    # --- reading ------------------------------------------------------------------------

    def _read_columns(self, table: sa.Table) -> list[sa.ColumnElement[Any]]:
        """Every column of ``table`` as :func:`_complaint` reads it: on SQLite the instants
        and JSON as the stored text, parsed by :func:`~complaintkit_sql.instants.
        instant_parser` and ``orjson`` (several times faster than SQLAlchemy's conversions);
        elsewhere as the driver gives them."""
        if self.dialect != "sqlite":
            return list(table.c)
        return [
            sa.type_coerce(column, sa.String).label(column.key)
            if isinstance(column.type, sa.JSON | sa.DateTime)
            else column
            for column in table.c
        ]

    def _assemble(self, conn: sa.Connection, rows: Sequence[Any]) -> list[Complaint]:
        return self._build(conn, rows, _complaint)

    def _assemble_data(self, conn: sa.Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
        return self._build(conn, rows, _complaint_data)

    def _build(
        self,
        conn: sa.Connection,
        rows: Sequence[Any],
        make: Callable[
            [
                Sequence[Any],
                Sequence[Any],
                Sequence[Any],
                Callable[[Any, int | None], datetime | None],
                Callable[[Any], Any],
            ],
            T,
        ],
    ) -> list[T]:
        """``make`` of each complaint row of ``rows`` (with its labels and events, read here
        for the whole page): a complaint (:func:`_complaint`) or its data
        (:func:`_complaint_data`)."""
        if not rows:
            return []
        t = self.tables
        references = [row.reference for row in rows]
        labels: dict[str, list[Any]] = {}
        events: dict[str, list[Any]] = {}
        labelled, conds = self._of_page(t.labels, references)
        lb = {column.key: column for column in self._read_columns(t.labels)}
        for reference, *label in conn.execute(
            sa.select(
                *(lb[name] for name in ("reference", *_LABEL_FIELDS)),
            )
            .select_from(labelled)
            .where(*conds)
            .order_by(t.labels.c.reference, t.labels.c.position)
        ).all():
            labels.setdefault(reference, []).append(label)
        happened, conds = self._of_page(t.events, references)
        ev = {column.key: column for column in self._read_columns(t.events)}
        for reference, *event in conn.execute(
            sa.select(
                *(ev[name] for name in ("reference", *_EVENT_FIELDS)),
            )
            .select_from(happened)
            .where(*conds)
            .order_by(t.events.c.reference, t.events.c.seq)
        ).all():
            events.setdefault(reference, []).append(event)
        text = self.dialect == "sqlite"
        instant = instant_parser(text)
        json = orjson.loads if text else _decoded
        at = {name: i for i, name in enumerate(rows[0]._fields)}
        values = operator.itemgetter(*(at[name] for name in _COMPLAINT_FIELDS))
        try:
            return [
                make(
                    values(row),
                    labels.get(reference, ()),
                    events.get(reference, ()),
                    instant,
                    json,
                )
                for row, reference in zip(rows, references, strict=True)
            ]
        except (ValueError, TypeError, KeyError) as exc:
            raise StorageError(f"{self.display_url}: a complaint cannot be read ({exc})") from exc

    def get(self, reference: str) -> Complaint:
        """The complaint with ``reference`` as currently stored (NotFoundError if none)."""
        self._check()
        c = self.tables.complaints
        with self._connect() as conn:
            rows = conn.execute(
                sa.select(*self._read_columns(c)).where(c.c.reference == reference)
            ).all()
            if not rows:
                raise NotFoundError(reference)
            return self._assemble(conn, rows)[0]

    def _one_of(self, column: sa.ColumnElement[str], values: list[str]) -> sa.ColumnElement[bool]:
        """``column IN values``, however many values: past a few hundred they travel as one
        parameter (an array on PostgreSQL, a JSON array on SQLite), since those drivers cap
        the number of parameters of a statement (65,535 and 32,766)."""
        if len(values) <= IN_CHUNK or self.dialect not in ("postgresql", "sqlite"):
            return column.in_(values)
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(sa.String)))
        each = sa.func.json_each(_json_dumps(values)).table_valued("value")
        return column.in_(sa.select(each.c.value))

    def _of_page(
        self, table: sa.FromClause, references: list[str]
    ) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
        """``table`` (labels or events) narrowed to the rows of ``references``: a source to
        select from and conditions. On PostgreSQL and SQLite the references are a table joined
        on the primary key (``unnest`` of one array, ``json_each`` of one JSON array), so the
        database walks the key from each reference instead of scanning the table, even when a
        large import has left it without statistics; elsewhere ``reference IN (…)``, which
        MariaDB and MySQL look up reference by reference."""
        column = table.c.reference
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            page = (
                sa.func.unnest(sa.bindparam(None, references, type_=ARRAY(sa.String)))
                .table_valued("reference")
                .render_derived(name="page")
            )
            return page.join(table, column == page.c.reference), []
        if self.dialect == "sqlite":
            listed = sa.func.json_each(_json_dumps(references)).table_valued("value").alias("page")
            return listed.join(table, column == listed.c.value), []
        return table, [column.in_(references)]

    def _where(self, flt: ComplaintFilter | None) -> list[sa.ColumnElement[bool]]:
        """The filter as SQL conditions on the complaints table."""
        if flt is None:
            return []
        t = self.tables
        c = t.complaints.c
        lb = t.labels
        conds: list[sa.ColumnElement[bool]] = []
        if flt.references:
            conds.append(self._one_of(c.reference, sorted(flt.references)))
        if flt.statuses:
            conds.append(c.status.in_(sorted(s.value for s in flt.statuses)))
        if flt.open_only:
            conds.append(c.status.in_(_OPEN_VALUES))
        if flt.channels:
            conds.append(c.channel.in_(sorted(ch.value for ch in flt.channels)))
        for scheme, label in flt.labels:
            conds.append(
                sa.exists()
                .where(lb.c.reference == c.reference, lb.c.scheme == scheme, lb.c.label == label)
                .correlate(t.complaints)
            )
        if flt.unclassified is not None:
            conds.append(
                ~sa.exists()
                .where(lb.c.reference == c.reference, lb.c.scheme == flt.unclassified)
                .correlate(t.complaints)
            )
        for name in ("department", "assignee", "product"):
            wanted = getattr(flt, name)
            if wanted is not None:
                conds.append(c[name] == wanted)
        if flt.received_from is not None:
            conds.append(c.received_utc >= _utc(flt.received_from))
        if flt.received_until is not None:
            conds.append(c.received_utc < _utc(flt.received_until))
        if flt.min_escalation is not None:
            conds.append(c.escalation_level >= int(flt.min_escalation))
        if flt.due_by is not None:
            conds.append(c.due_utc <= _utc(flt.due_by))
        if flt.alert_by is not None:
            conds.append(c.alert_utc <= _utc(flt.alert_by))
        if flt.complainant is not None:
            who = flt.complainant
            conds.append(sa.or_(c.customer_id == who, c.phone == who, c.email == who))
        for tag in sorted(flt.tags):
            conds.append(tag_condition(self.dialect, t.complaints, tag))
        for key, value in flt.custom:
            collation = "utf8mb4_bin"  # only MariaDB/MySQL compare in a collation named here
            if self.dialect in ("mysql", "mariadb"):
                collation = t.complaints.dialect_options["mysql"]["collate"] or collation
            conds.append(custom_condition(self.dialect, t.complaints, key, value, collation))
        if flt.text:
            needle = flt.text.lower()
            lower = sa.func.ck_lower if self.dialect == "sqlite" else sa.func.lower
            conds.append(
                sa.or_(
                    lower(c.text).contains(needle, autoescape=True),
                    lower(c.title).contains(needle, autoescape=True),
                )
            )
        return conds

    def find(
        self,
        flt: ComplaintFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt``, oldest received first (ties by reference).

        Read in pages of :data:`PAGE`: the first page skips ``offset`` rows, each later one
        continues after the last key seen, so no query re-reads what came before and no
        connection stays open while the caller works on a page.
        """
        check_page(limit, offset)
        self._check()
        return self._pages(
            sa.select(*self._read_columns(self.tables.complaints)),
            self._where(flt),
            limit,
            offset,
            key=self._row_key,
        )

    def _row_key(self, row: Any) -> tuple[datetime, str]:
        """A complaint row's ``(received_utc, reference)``, where the next page starts after."""
        received = _naive_utc(row.received_utc) if self.dialect == "sqlite" else row.received_utc
        assert received is not None  # received_utc is NOT NULL
        return received, row.reference

    def find_data(self, flt: ComplaintFilter | None = None) -> Iterator[dict[str, Any]]:
        """The complaints matching ``flt`` in ``find`` order as plain data, each what
        :func:`~complaintkit.serialization.complaint_to_data` gives for the complaint ``find``
        yields, read the same way (pages by key) but built from the rows directly: what a
        migration copies and compares (see :class:`~complaintkit.storage.DataStore`)."""
        self._check()
        return self._pages(
            sa.select(*self._read_columns(self.tables.complaints)),
            self._where(flt),
            None,
            0,
            build=self._assemble_data,
            key=self._row_key,
        )

    def find_sorted(
        self,
        flt: ComplaintFilter | None,
        order: SortOrder,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt`` in ``order`` (see :class:`~complaintkit.SortOrder`),
        sorted by the database and read in pages of :data:`PAGE` (by offset: a complaint
        changed between two pages in a way that moves it may be seen twice or not at all)."""
        check_page(limit, offset)
        self._check()
        query = self._sorted_query(flt, order)
        remaining = limit
        position = offset
        while remaining is None or remaining > 0:
            step = PAGE if remaining is None else min(PAGE, remaining)
            with self._connect() as conn:
                rows = conn.execute(query.offset(position).limit(step)).all()
                page = self._assemble(conn, rows)
            yield from page
            if len(rows) < step:
                return
            position += len(rows)
            if remaining is not None:
                remaining -= len(rows)

    def _sorted_query(self, flt: ComplaintFilter | None, order: SortOrder) -> sa.Select[Any]:
        """Every complaint matching ``flt`` in ``order``: what ``find_sorted`` pages through.
        Newest first without a filter (``list``'s first page) reads the
        ``ck_complaints_order`` index backwards, sorting nothing."""
        c = self.tables.complaints
        conds = self._where(flt)
        query = sa.select(*self._read_columns(c)).where(*conds).order_by(*order_by(c, order))
        if not conds and order.key == "received_at":
            # MariaDB sorts a small table rather than read the index (as in _page_query)
            for dialect in ("mysql", "mariadb"):
                query = query.with_hint(c, "FORCE INDEX (ck_complaints_order)", dialect)
        return query

    def _pages(
        self,
        select: sa.Select[Any],
        conds: list[sa.ColumnElement[bool]],
        limit: int | None,
        offset: int,
        *,
        size: int = PAGE,
        build: Callable[[sa.Connection, Sequence[Any]], Sequence[T]] | None = None,
        key: Callable[[Any], tuple[datetime, str]] | None = None,
    ) -> Iterator[T]:
        """The rows of ``select`` (on the complaints table) matching ``conds`` in ``find``
        order, read in pages of ``size`` by key and turned into results page by page by
        ``build`` (complaints by default). ``key`` gives a row's ``(received_utc, reference)``
        (by default its attributes of those names)."""
        assemble = build or self._assemble
        remaining = limit
        after: tuple[datetime, str] | None = None
        while remaining is None or remaining > 0:
            step = size if remaining is None else min(size, remaining)
            query = self._page_query(
                conds, after, offset if after is None else 0, step, select=select
            )
            with self._connect() as conn, gc_paused():
                rows = conn.execute(query).all()
                page = assemble(conn, rows)
            yield from page  # type: ignore[misc]
            if len(rows) < step:
                return
            last = rows[-1]
            after = key(last) if key else (last.received_utc, last.reference)
            if remaining is not None:
                remaining -= len(rows)

    def _page_query(
        self,
        conds: list[sa.ColumnElement[bool]],
        after: tuple[datetime, str] | None,
        offset: int,
        size: int,
        *,
        select: sa.Select[Any] | None = None,
    ) -> sa.Select[Any]:
        """One page of ``find``: the first ``size`` rows after the key ``after`` (or after
        ``offset`` rows, on the first page only), in (received, reference) order. ``select``
        chooses the columns (every column of the complaints table by default)."""
        c = self.tables.complaints
        chosen = sa.select(c) if select is None else select
        query = chosen.where(*conds).order_by(c.c.received_utc, c.c.reference)
        if after is not None:
            query = query.where(self._after(*after))
            if not conds:
                # MariaDB would otherwise merge a primary-key range into it and sort
                for dialect in ("mysql", "mariadb"):
                    query = query.with_hint(c, "FORCE INDEX (ck_complaints_order)", dialect)
        if offset:
            query = query.offset(offset)
        return query.limit(size)

    def _after(self, received_utc: datetime, reference: str) -> sa.ColumnElement[bool]:
        """``(received_utc, reference) > (the last row seen)``, in the form each database
        answers with one range of the ``ck_complaints_order`` index, starting at that row.

        PostgreSQL and SQLite compare the row value in the index (``Index Cond: ROW(…) >
        ROW(…)``, ``SEARCH … USING INDEX ck_complaints_order ((received_utc,reference)>(?,?))``);
        MariaDB reads a row value by scanning the index from its start, so there the
        condition is spelled as an ``OR`` of the two ranges, which its range optimizer turns
        into one range on both columns (of that index: when nothing else is filtered, the page
        query names it with ``FORCE INDEX``, as MariaDB would rather merge a primary-key
        range into the plan and sort). Either way a page costs the same at row 130,000 as at
        row 0, even where tens of thousands of complaints share one instant received.
        """
        c = self.tables.complaints.c
        if self.dialect in ("postgresql", "sqlite"):
            return sa.tuple_(c.received_utc, c.reference) > sa.tuple_(
                sa.literal(received_utc, c.received_utc.type),
                sa.literal(reference, c.reference.type),
            )
        return sa.or_(
            c.received_utc > received_utc,
            sa.and_(c.received_utc == received_utc, c.reference > reference),
        )

    def label_summaries(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintLabels]:
        """Each complaint's labels (key, confidence, classifier) in ``find`` order, read from
        the complaints' keys and the labels table by page, building no complaint (see
        :class:`~complaintkit.facts.LabelSummariesStore`): what the review queue selects
        from."""
        self._check()
        wanted = ("reference", "received_utc", "received_offset")
        columns = [col for col in self._read_columns(self.tables.complaints) if col.key in wanted]
        return self._pages(
            sa.select(*columns),
            self._where(flt),
            None,
            0,
            size=FACTS_PAGE,
            build=self._summaries,
            key=self._row_key,
        )

    def _summaries(self, conn: sa.Connection, rows: Sequence[Any]) -> list[ComplaintLabels]:
        """The label summaries of a page of complaint rows (reference, received)."""
        labels = self.tables.labels
        found: dict[str, dict[str, LabelSummary]] = {row.reference: {} for row in rows}
        if not rows:
            return []
        source, conds = self._of_page(labels, list(found))
        for reference, scheme, label, confidence, classifier in conn.execute(
            sa.select(
                labels.c.reference,
                labels.c.scheme,
                labels.c.label,
                labels.c.confidence,
                labels.c.classifier,
            )
            .select_from(source)
            .where(*conds)
            .order_by(labels.c.reference, labels.c.position)
        ):
            found[reference][scheme] = (label, confidence, classifier)
        instant = instant_parser(self.dialect == "sqlite")
        summaries: list[ComplaintLabels] = []
        for row in rows:
            received = instant(row.received_utc, row.received_offset)
            assert received is not None  # received_utc is NOT NULL
            summaries.append((row.reference, received, found[row.reference]))
        return summaries

    # --- facts --------------------------------------------------------------------------

    def facts(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
        """The facts of the complaints matching ``flt``, in ``find`` order, computed in the
        database without building complaints: one statement
        (:func:`~complaintkit_sql.facts_query.facts_statement`: the filter in SQL as in
        ``find``, the events and labels aggregated per complaint), its rows read in batches of
        :data:`FACTS_PAGE` from one read transaction (a server-side cursor on PostgreSQL and
        MariaDB), so memory stays flat however many complaints match. Only remedies that
        exist are decoded from JSON."""
        from .facts_query import facts_statement

        self._check()
        statement = facts_statement(
            self.dialect,
            self._fact_select(_FACT_COLUMNS),
            self._where(flt),
            self.tables.events,
            self.tables.labels,
            self._raw_instant,
        )
        instant = instant_parser(self.dialect == "sqlite")
        return self._stream_facts(statement, _fact_reader(instant))

    def fact_columns(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> Iterator[tuple[Any, ...]]:
        """Some facts of the complaints matching ``flt`` (the ``fields`` of
        :class:`~complaintkit.facts.ComplaintFacts`), one tuple per complaint in ``find``
        order, as :meth:`facts` reads them but computing only what those fields need: the
        complaint columns they are read from and, in the same statement, only the event and
        label aggregates they need, and a ``label:SCHEME`` joined by key
        (:func:`~complaintkit_sql.facts_rows.field_plan`)."""
        from .facts_rows import field_plan, row_reader

        self._check()
        columns, aggregates, schemes = field_plan(fields)
        statement = self.fact_columns_statement(self._where(flt), columns, aggregates, schemes)
        instant = instant_parser(self.dialect == "sqlite")
        read = row_reader(fields, columns, aggregates, schemes, instant, _remedies)
        return self._stream_facts(statement, read)

    def fact_columns_statement(
        self,
        conds: Sequence[sa.ColumnElement[bool]],
        columns: Sequence[str],
        aggregates: Sequence[str],
        schemes: Sequence[str],
    ) -> sa.Select[Any]:
        """The statement :meth:`fact_columns` runs for the plan (``columns``, ``aggregates``,
        ``schemes``) of :func:`~complaintkit_sql.facts_rows.field_plan` and the filter's
        ``conds``; its text is also kept, compiled, for the light path
        (:mod:`complaintkit_sql.facts_texts`)."""
        from .facts_query import facts_statement

        return facts_statement(
            self.dialect,
            self._fact_select(columns),
            conds,
            self.tables.events,
            self.tables.labels,
            self._raw_instant,
            aggregates,
            schemes,
        )

    def _fact_select(self, columns: Sequence[str]) -> sa.Select[Any]:
        """A select of these complaint columns as the facts read them: instants raw (see
        :meth:`_raw_instant`), remedies as JSON text."""
        c = self.tables.complaints.c
        return sa.select(
            *(
                self._raw_instant(c[name])
                if name in ("received_utc", "due_utc")
                else self._json_text(c[name])
                if name == "remedies"
                else c[name]
                for name in columns
            )
        )

    def _stream_facts(
        self, statement: sa.Select[Any], read: Callable[[Sequence[Any]], T]
    ) -> Iterator[T]:
        """The rows of a facts statement, each turned into what ``read`` makes of it."""
        from .facts_rows import read_page

        with self._connect() as conn:
            if self.dialect == "postgresql":
                # Read through a server-side cursor, the statement would be planned for its
                # first tenth of rows (cursor_tuple_fraction): nested loops that aggregate
                # the events again for every complaint, for many minutes at 50,000. All of
                # its rows are read, so plan for all of them. And looking a filter's events
                # up by primary key beats scanning the events table, which PostgreSQL's
                # default cost of a random page (4, for spinning disks) denies; 1.1 is the
                # usual value for SSDs and cached data. Both for this read transaction only.
                conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
                conn.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
            restore = result = None
            if getattr(conn.dialect, "is_mariadb", False):
                # MariaDB joins the per-complaint aggregates (derived tables) to the
                # complaints by a block nested loop at its default join_cache_level (2):
                # every complaint against every aggregate row, 114 s at 20,000 complaints.
                # Level 8 lets it use hashed and key-ordered join buffers: 0.8 s. For this
                # statement only; the connection goes back to the pool as it came.
                restore = conn.exec_driver_sql("SELECT @@SESSION.join_cache_level").scalar()
                conn.exec_driver_sql("SET SESSION join_cache_level = 8")
            try:
                result = conn.execution_options(stream_results=True).execute(statement)
                while rows := result.fetchmany(FACTS_PAGE):
                    yield from read_page(rows, read, self.display_url)
            finally:
                if restore is not None:
                    if result is not None:
                        result.close()
                    conn.exec_driver_sql(f"SET SESSION join_cache_level = {int(restore)}")

    def _raw_instant(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """An instant column read without SQLAlchemy's conversion where that is slow: on SQLite
        the stored text (parsed by :func:`~complaintkit_sql.instants.instant_parser`,
        several times faster)."""
        if self.dialect == "sqlite":
            return sa.type_coerce(column, sa.String).label(column.key)
        return column

    def _json_text(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        """A JSON column as its text, so the caller decides what to decode."""
        if self.dialect == "postgresql":
            return sa.cast(column, sa.Text).label(column.key)
        return sa.type_coerce(column, sa.String).label(column.key)

    def count(self, flt: ComplaintFilter | None = None) -> int:
        """How many complaints match ``flt`` (``SELECT COUNT(*)``)."""
        self._check()
        query = sa.select(sa.func.count()).select_from(self.tables.complaints)
        with self._connect() as conn:
            return int(conn.execute(query.where(*self._where(flt))).scalar_one())

    def count_by(self, key: str, flt: ComplaintFilter | None = None) -> dict[str | None, int]:
        """Counts of matching complaints by ``key`` (``GROUP BY`` in the database)."""
        self._check()
        t = self.tables
        c = t.complaints
        source: sa.FromClause = c
        column: sa.ColumnElement[Any]
        if key.startswith("label:"):
            chosen = t.labels.alias("grouped_label")
            source = c.outerjoin(
                chosen,
                sa.and_(chosen.c.reference == c.c.reference, chosen.c.scheme == key[6:]),
            )
            column = chosen.c.label
        elif key == "month":
            column = c.c.received_month
        elif key in ("status", "channel", "escalation_level", "department", "assignee", "product"):
            column = c.c[key]
        else:
            raise ValueError(f"cannot group by {key!r}; use one of {', '.join(GROUP_KEYS)}")
        query = (
            sa.select(column, sa.func.count())
            .select_from(source)
            .where(*self._where(flt))
            .group_by(column)
        )
        with self._connect() as conn:
            rows = conn.execute(query).all()
        if key == "escalation_level":
            return {_SLUGS[int(value)]: int(n) for value, n in rows}
        return {value: int(n) for value, n in rows}

    def existing(self, references: Iterable[str]) -> set[str]:
        """Which of ``references`` are stored."""
        self._check()
        with self._connect() as conn:
            return self._known(conn, list(set(references)))

    def _known(self, conn: sa.Connection, references: Sequence[str]) -> set[str]:
        """Which of ``references`` are stored, by primary-key look-ups in ``conn``.

        On PostgreSQL one query per call, ``reference = ANY(:array)`` with the array as one
        parameter, planned for this very array (``plan_cache_mode = force_custom_plan`` for
        the transaction): a plan cached by a prepared statement while the table was small
        would keep scanning the whole table for every batch of a large import, which made
        importing 130,000 complaints quadratic. Elsewhere ``IN`` lists of :data:`IN_CHUNK`.
        Either way the primary-key index answers (see ``EXPLAIN`` in the SQL tests).
        """
        if not references:
            return set()
        if self.dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            stored = set(conn.execute(self._known_query(references)).scalars())
            # Only for this query: left on, it also made the server plan afresh each of the
            # foreign-key checks of the rows written next in the transaction (one per label
            # and event), three quarters of an import's time.
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = auto")
            return stored
        found: set[str] = set()
        for start in range(0, len(references), IN_CHUNK):
            part = references[start : start + IN_CHUNK]
            found.update(conn.execute(self._known_query(part)).scalars())
        return found

    def _known_query(self, references: Sequence[str]) -> sa.Select[Any]:
        """The look-up of :meth:`_known`: ``= ANY(array)`` on PostgreSQL, ``IN`` elsewhere."""
        c = self.tables.complaints
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            wanted = sa.bindparam("wanted", list(references), type_=ARRAY(sa.String))
            return sa.select(c.c.reference).where(c.c.reference == sa.any_(wanted))
        return sa.select(c.c.reference).where(c.c.reference.in_(list(references)))

    def __len__(self) -> int:
        return self.count()

    # --- the outbox ---------------------------------------------------------------------

    def outbox(self) -> Outbox:
        """The notification outbox in the same database (table ``ck_outbox``)."""
        from .outbox import SQLOutbox

        self._check()
        return SQLOutbox(self)

    def plugin_data(self) -> PluginData:
        """Plugins' JSON documents in the same database (table ``ck_plugin_data``)."""
        from .plugindata import SQLPluginData

        self._check()
        return SQLPluginData(self)

    # --- attachments --------------------------------------------------------------------

    def attachments(self) -> SQLAttachments:
        """The complaints' attachments in the same database (table ``ck_attachments``)."""
        from .attachments import SQLAttachments

        self._check()
        return SQLAttachments(self)

    # --- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.engine.dispose()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _py_lower(value: str | None) -> str | None:
    """SQLite's LOWER() folds ASCII only; text search folds every letter, as Python does."""
    return None if value is None else value.lower()
