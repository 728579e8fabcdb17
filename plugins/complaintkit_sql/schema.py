"""The SQL schema, its version number, and the ordered steps that upgrade an older one.

Why not Alembic: the schema has a handful of tables whose names we own, and every step must run
from ``complaintkit db upgrade`` inside an installed package, on SQLite, PostgreSQL and MariaDB
alike. Alembic would add a dependency, a script directory and an ``env.py`` to ship, and its
autogenerate cannot be trusted for dialect variants anyway. So the store keeps its version in a
one-row table ``ck_schema`` and this module lists the steps from one version to the next; each
step is a function of a connection, run in its own transaction together with the version bump
(PostgreSQL and SQLite roll a failed step back entirely; MariaDB commits DDL implicitly, so a
step there is written to be safely re-runnable).

Layout (version 5):

``ck_complaints``
    one row per complaint: the columns users filter and group on, indexed; instants as UTC
    (``*_utc``, timezone-less, microseconds) plus the original UTC offset in seconds
    (``*_offset``) so a complaint reads back with exactly the offset it was written with;
    ``received_month`` is the ``YYYY-MM`` of ``received_at`` in its own offset (what
    ``count_by("month")`` groups on); remedies, tags and custom data as JSON.
``ck_labels``
    one row per (complaint, scheme), indexed on (scheme, label); ``position`` keeps the order
    of the complaint's labels.
``ck_events``
    the history, one row per event, numbered from 0 per complaint (``seq``); ``digest`` (version
    5) is the event's link in the complaint's hash chain (:mod:`complaintkit.audit`), NULL for
    events stored before version 5 until ``complaintkit audit seal``.
``ck_outbox``
    notification messages (version 2; see :mod:`complaintkit_sql.outbox`).
``ck_plugin_data``
    plugins' own JSON documents by (namespace, key) (version 3; see
    :mod:`complaintkit_sql.plugindata`): the HTTP API's tokens and idempotency keys.
``ck_attachments``
    files attached to complaints, their content in the row (version 4; see
    :mod:`complaintkit_sql.attachments`).
``ck_schema``
    the schema version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from .decoding import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "STEPS",
    "Tables",
    "make_tables",
]

#: Longest value of an indexed text column (references, departments, labels, …).
KEY_LENGTH = 255


def _key(length: int = KEY_LENGTH) -> sa.types.TypeEngine[str]:
    """An indexed string compared and ordered byte by byte, as Python compares strings."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _complaint_reference() -> sa.Column[str]:
    """The ``reference`` key of a table whose rows belong to a complaint: the first column of
    its primary key, deleted with the complaint (``ON DELETE CASCADE``)."""
    return sa.Column(
        "reference",
        _key(),
        sa.ForeignKey("ck_complaints.reference", ondelete="CASCADE"),
        primary_key=True,
    )


def _instant(mysql: bool) -> sa.types.TypeEngine[Any]:
    """A UTC instant without zone, to the microsecond on every database."""
    if not mysql:
        return sa.DateTime()
    from sqlalchemy.dialects.mysql import DATETIME

    return sa.DateTime().with_variant(DATETIME(fsp=6), "mysql", "mariadb")


def _long_text(mysql: bool) -> sa.types.TypeEngine[str]:
    if not mysql:
        return sa.Text()
    from sqlalchemy.dialects.mysql import LONGTEXT

    return sa.Text().with_variant(LONGTEXT(), "mysql", "mariadb")


def _blob(mysql: bool) -> sa.types.TypeEngine[bytes]:
    if not mysql:
        return sa.LargeBinary()
    from sqlalchemy.dialects.mysql import LONGBLOB

    # MariaDB's BLOB holds 64 KB; LONGBLOB holds any attachment the size limit lets in.
    return sa.LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")


def _json() -> sa.types.TypeEngine[Any]:
    # ``json``, not ``jsonb``, on PostgreSQL: it keeps the keys in the order they were written,
    # so a complaint reads back (and prints) exactly as stored. Cast to jsonb to query it.
    return sa.JSON()


class Tables:
    """The tables of one store, built for the database's string collation."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata
        self.schema = metadata.tables["ck_schema"]
        self.complaints = metadata.tables["ck_complaints"]
        self.labels = metadata.tables["ck_labels"]
        self.events = metadata.tables["ck_events"]
        self.outbox = metadata.tables["ck_outbox"]
        self.plugin_data = metadata.tables["ck_plugin_data"]
        self.attachments = metadata.tables["ck_attachments"]


def make_tables(mysql_collation: str = "utf8mb4_bin", *, dialect: str | None = None) -> Tables:
    """The tables at the latest version. On MySQL/MariaDB every table uses ``mysql_collation``
    (binary and, where the server has one, no-pad), so equality and grouping are exact.

    ``dialect`` is the database the tables are for (``sqlite``, ``postgresql``, …); for one
    that is not MySQL/MariaDB the MySQL column types and table options are left out, which
    leaves the DDL and the statements for that database as they are, without importing
    SQLAlchemy's MySQL dialect (about 30 ms of every command). None: for every database.
    """
    mysql = dialect in (None, "mysql", "mariadb")
    md = sa.MetaData()
    table_kw: dict[str, Any] = (
        {"mysql_charset": "utf8mb4", "mysql_collate": mysql_collation} if mysql else {}
    )
    sa.Table(
        "ck_schema",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        **table_kw,
    )
    sa.Table(
        "ck_complaints",
        md,
        sa.Column("reference", _key(), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("received_utc", _instant(mysql), nullable=False),
        sa.Column("received_offset", sa.Integer, nullable=False),
        sa.Column("received_month", sa.String(16), nullable=False),
        sa.Column("title", _long_text(mysql)),
        sa.Column("text", _long_text(mysql), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("complainant_name", _long_text(mysql)),
        sa.Column("customer_id", _key()),
        sa.Column("phone", _key()),
        sa.Column("email", _key()),
        sa.Column("product", _key()),
        sa.Column("order_ref", _long_text(mysql)),
        sa.Column("remedy_sought", sa.String(32)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("escalation_level", sa.Integer, nullable=False),
        sa.Column("department", _key()),
        sa.Column("assignee", _key()),
        sa.Column("due_utc", _instant(mysql)),
        sa.Column("due_offset", sa.Integer),
        sa.Column("alert_utc", _instant(mysql)),
        sa.Column("alert_offset", sa.Integer),
        sa.Column("sla_policy", _key()),
        sa.Column("solution", _long_text(mysql)),
        sa.Column("remedies", _json(), nullable=False),
        sa.Column("satisfaction", sa.Integer),
        sa.Column("parent", _key()),
        sa.Column("recomplaint_count", sa.Integer, nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("custom", _json(), nullable=False),
        sa.Index("ck_complaints_order", "received_utc", "reference"),
        sa.Index("ck_complaints_status", "status"),
        sa.Index("ck_complaints_channel", "channel"),
        sa.Index("ck_complaints_department", "department"),
        sa.Index("ck_complaints_assignee", "assignee"),
        sa.Index("ck_complaints_product", "product"),
        sa.Index("ck_complaints_level", "escalation_level"),
        sa.Index("ck_complaints_month", "received_month"),
        sa.Index("ck_complaints_due", "due_utc"),
        sa.Index("ck_complaints_alert", "alert_utc"),
        sa.Index("ck_complaints_sla", "sla_policy"),
        sa.Index("ck_complaints_customer", "customer_id"),
        sa.Index("ck_complaints_phone", "phone"),
        sa.Index("ck_complaints_email", "email"),
        sa.Index("ck_complaints_satisfaction", "satisfaction"),
        sa.Index("ck_complaints_parent", "parent"),
        **table_kw,
    )
    sa.Table(
        "ck_labels",
        md,
        _complaint_reference(),
        sa.Column("scheme", _key(), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("label", _key(), nullable=False),
        sa.Column("confidence", sa.Double, nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("classifier", _key(), nullable=False),
        sa.Index("ck_labels_scheme_label", "scheme", "label"),
        **table_kw,
    )
    sa.Table(
        "ck_events",
        md,
        _complaint_reference(),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at_utc", _instant(mysql), nullable=False),
        sa.Column("at_offset", sa.Integer, nullable=False),
        sa.Column("actor", _long_text(mysql), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("reason", _long_text(mysql)),
        sa.Column("data", _json(), nullable=False),
        sa.Column("digest", sa.String(64)),
        sa.Index("ck_events_action", "action", "at_utc"),
        **table_kw,
    )
    sa.Table(
        "ck_outbox",
        md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("msg_key", _key(), nullable=False, unique=True),
        sa.Column("channel", _key(), nullable=False),
        sa.Column("recipient", _long_text(mysql), nullable=False),
        sa.Column("subject", _long_text(mysql)),
        sa.Column("body", _long_text(mysql), nullable=False),
        sa.Column("event", _key(), nullable=False),
        sa.Column("reference", _key()),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_utc", _instant(mysql), nullable=False),
        sa.Column("created_offset", sa.Integer, nullable=False),
        sa.Column("next_attempt_utc", _instant(mysql)),
        sa.Column("next_attempt_offset", sa.Integer),
        sa.Column("last_error", _long_text(mysql)),
        sa.Column("sent_utc", _instant(mysql)),
        sa.Column("sent_offset", sa.Integer),
        sa.Column("lease_utc", _instant(mysql)),
        sa.Column("lease_offset", sa.Integer),
        sa.Column("claimed_by", _key()),
        sa.Index("ck_outbox_due", "status", "next_attempt_utc"),
        sa.Index("ck_outbox_order", "created_utc", "id"),
        **table_kw,
    )
    sa.Table(
        "ck_plugin_data",
        md,
        sa.Column("namespace", _key(), primary_key=True),
        sa.Column("doc_key", _key(), primary_key=True),
        sa.Column("value", _json(), nullable=False),
        **table_kw,
    )
    sa.Table(
        "ck_attachments",
        md,
        _complaint_reference(),
        sa.Column("name", _key(), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(KEY_LENGTH), nullable=False),
        sa.Column("added_utc", _instant(mysql), nullable=False),
        sa.Column("added_offset", sa.Integer, nullable=False),
        sa.Column("added_by", _long_text(mysql), nullable=False),
        sa.Column("content", _blob(mysql), nullable=False),
        **table_kw,
    )
    return Tables(md)


# --- upgrade steps ---------------------------------------------------------------------
#
# STEPS[n] takes a schema at version n - 1 (0: an empty database) to version n. A step creates
# tables from the latest metadata only when they appeared in that version and never changed
# since; a later change to a table gets its own step with explicit DDL.

Step = Callable[[sa.Connection, Tables], None]


def _create(*names: str) -> Step:
    def step(conn: sa.Connection, tables: Tables) -> None:
        chosen = [tables.metadata.tables[name] for name in names]
        tables.metadata.create_all(conn, tables=chosen, checkfirst=True)

    return step


def _create_attachments(conn: sa.Connection, tables: Tables) -> None:
    """Version 4: ``ck_attachments``. On MariaDB/MySQL its key takes the collation of the
    existing ``ck_complaints.reference`` (a foreign key needs equal collations, and a
    database made by an older complaintkit may have another than this server's best)."""
    chosen = tables
    if conn.dialect.name in ("mysql", "mariadb"):
        found = conn.exec_driver_sql(
            "SELECT collation_name FROM information_schema.columns WHERE table_schema = "
            "DATABASE() AND table_name = 'ck_complaints' AND column_name = 'reference'"
        ).scalar()
        if found and found != tables.attachments.dialect_options["mysql"]["collate"]:
            chosen = make_tables(str(found))
    chosen.metadata.create_all(conn, tables=[chosen.attachments], checkfirst=True)


def _add_event_digest(conn: sa.Connection, tables: Tables) -> None:
    """Version 5: ``ck_events.digest``. Re-runnable (MariaDB commits the DDL before the version
    bump): the column is added only when the table lacks it. Existing rows keep NULL."""
    if "digest" in {column["name"] for column in sa.inspect(conn).get_columns("ck_events")}:
        return
    conn.execute(sa.text("ALTER TABLE ck_events ADD COLUMN digest VARCHAR(64)"))


#: Version 1: complaints, labels and history. Version 2: the notification outbox. Version 3:
#: plugin data. Version 4: attachments. Version 5: the digest of each event (the audit hash
#: chain).
STEPS: dict[int, Step] = {
    1: _create("ck_schema", "ck_complaints", "ck_labels", "ck_events"),
    2: _create("ck_outbox"),
    3: _create("ck_plugin_data"),
    4: _create_attachments,
    5: _add_event_digest,
}

assert sorted(STEPS) == list(range(1, SCHEMA_VERSION + 1))
