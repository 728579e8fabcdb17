"""``complaintkit db``: the schema of a SQL store — where it stands, and upgrading it."""

from __future__ import annotations

from typing import Any

import click

from complaintkit.commands import CommandContext

__all__ = ["db_group"]


def _schema_store(app: CommandContext) -> Any:
    """The configured store as it is (nothing created), if it has a versioned schema (SQL
    stores do)."""
    from complaintkit import ConfigError

    store = app.open_store(create=None)
    app.use_store(store)
    if not callable(getattr(store, "schema_status", None)) or not callable(
        getattr(store, "upgrade_schema", None)
    ):
        raise ConfigError(
            f"the store {store.url} has no versioned database schema; `complaintkit db` "
            "manages SQL stores (sqlite://, postgresql://, mysql://). TinyDB files upgrade "
            "themselves"
        )
    return store


@click.group("db")
def db_group() -> None:
    """The database schema of a SQL store: status and upgrade."""


@db_group.command("status")
@click.pass_obj
def status_command(app: CommandContext) -> None:
    """Show the store's schema version, the version this complaintkit needs, and the steps
    an upgrade would run."""
    status = _schema_store(app).schema_status()
    zh = app.lang == "zh"
    import shlex

    init = shlex.join(["complaintkit", "--store", status.url, "init"])
    states = {
        "empty": (
            f"empty: no complaintkit tables yet (create them with: {init})",
            f"空：尚无 complaintkit 表（创建：{init}）",
        ),
        "current": ("current", "最新"),
        "outdated": (
            "outdated: run complaintkit db upgrade",
            "需要升级：请运行 complaintkit db upgrade",
        ),
        "newer": (
            "newer than this complaintkit: upgrade complaintkit",
            "比本程序新：请升级 complaintkit",
        ),
    }
    label = states[status.state][1 if zh else 0]
    pending = ", ".join(str(step) for step in status.pending) or "-"
    if zh:
        click.echo(f"存储: {status.url}")
        click.echo(f"数据库模式版本: {status.current}（本程序需要 {status.latest}）")
        click.echo(f"状态: {label}")
        click.echo(f"待执行的升级步骤: {pending}")
    else:
        click.echo(f"store: {status.url}")
        click.echo(f"schema version: {status.current} (this complaintkit needs {status.latest})")
        click.echo(f"state: {label}")
        click.echo(f"pending upgrade steps: {pending}")


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(app: CommandContext) -> None:
    """Upgrade the store's schema to the version this complaintkit needs (back it up first).

    Safe to run from several machines at once: one runs the steps, the others find them done.
    """
    import shlex

    from complaintkit.errors import StoreNotFoundError

    store = _schema_store(app)
    before = store.schema_status()
    if before.state == "empty":
        # Creating the store is init's job: an upgrade of a mistyped database would make one.
        raise StoreNotFoundError(
            before.url,
            "create it with: " + shlex.join(["complaintkit", "--store", before.url, "init"]),
        )
    ran = store.upgrade_schema()
    zh = app.lang == "zh"
    if not ran:
        click.echo(
            f"数据库模式已是最新（版本 {before.latest}）"
            if zh
            else f"schema already current (version {before.latest})"
        )
        return
    steps = ", ".join(str(step) for step in ran)
    if zh:
        click.echo(f"已将数据库模式从版本 {before.current} 升级到 {ran[-1]}（步骤 {steps}）")
    else:
        click.echo(f"upgraded schema from version {before.current} to {ran[-1]} (steps {steps})")
