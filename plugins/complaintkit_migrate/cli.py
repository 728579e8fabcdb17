"""``complaintkit migrate``: copy a store into another backend, resumable and verified."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

from complaintkit.commands import INTERRUPTED, CommandContext, quietly, same_command

if TYPE_CHECKING:
    from complaintkit.storage import Store

    from .copying import CopyResult

__all__ = ["migrate_command"]


def echo(text: str, *, err: bool = False) -> None:
    """Print a line that may quote a complaint's reference or a database's words, inert."""
    from complaintkit.display import terminal_safe

    click.echo(terminal_safe(text), err=err)


@click.command("migrate")
@click.argument("source_url", metavar="SOURCE_URL")
@click.argument("dest_url", metavar="DEST_URL")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Complaints read and written per batch (one write at the destination each).",
)
@click.option(
    "--verify-only",
    is_flag=True,
    help="Copy nothing: compare both stores (counts, checksum, differing references).",
)
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Continue an interrupted migration: complaints already at the destination (and "
    "equal to the source's) are kept. --no-resume refuses a non-empty destination.",
)
@click.pass_obj
def migrate_command(
    app: CommandContext,
    source_url: str,
    dest_url: str,
    batch_size: int,
    verify_only: bool,
    resume: bool,
) -> None:
    """Copy every complaint from SOURCE_URL to DEST_URL and verify both sides.

    Works between any two backends, e.g. tinydb://complaints.json to
    postgresql://user@host/db and back. The source must exist; the destination store is
    created when it does not (a PostgreSQL or MariaDB database must exist: CREATE DATABASE
    first; complaintkit creates the tables). Complaints arrive exactly as they are (version and
    full history kept). The copy streams in batches; if it is interrupted, run the same
    command again and it continues. Ctrl-C stops it cleanly: it says how many complaints are
    at the destination (whole batches only) and exits with status 130. A destination that
    holds a different complaint under the same reference is refused, never overwritten. At
    the end both stores are read again and compared: counts, a checksum of every record, and
    the first differing references; any difference exits with status 1. Attachments are
    copied after the complaints and compared too (name, size, type, SHA-256). Pending
    notifications stay in the source.
    """
    from complaintkit.errors import MigrationError, StoreNotFoundError
    from complaintkit.redact import redact_url
    from complaintkit.storage import resolve_url

    from .attachments import copy_attachments, verify_attachments
    from .copying import VerificationFailed, copy_store, verify_stores

    zh = app.lang == "zh"
    try:
        source = app.host.open_store(resolve_url(source_url), create=False)
    except StoreNotFoundError as exc:
        raise MigrationError(
            f"the source {redact_url(exc.url)} does not exist: nothing to migrate "
            "(is the URL right?)"
        ) from None
    try:
        total = source.count()
        if total == 0 and not verify_only:
            raise MigrationError(
                f"the source {redact_url(source.url)} holds no complaints: nothing to migrate "
                "(is the URL right?)"
            )
        # The destination is what migrate makes: created if missing (verify-only creates none).
        destination = app.host.open_store(resolve_url(dest_url), create=not verify_only)
        try:
            copying = not verify_only
            try:
                if copying:
                    with app.progress("copying", total) as bar:
                        done = copy_store(
                            source,
                            destination,
                            batch_size=batch_size,
                            resume=resume,
                            progress=bar.update,
                        )
                    copying = False
                    if zh:
                        line = f"已复制 {done.copied:,} 条投诉到 {redact_url(destination.url)}"
                        if done.already_there:
                            line += f"（{done.already_there:,} 条已在目标库中，与源一致）"
                    else:
                        line = f"copied {done.copied:,} complaints to {redact_url(destination.url)}"
                        if done.already_there:
                            line += f" ({done.already_there:,} already there and equal)"
                    click.echo(line)
                    _say_changes(done, zh)
                    carried = copy_attachments(source, destination)
                    if carried is not None and (carried.copied or carried.already_there):
                        click.echo(
                            f"已复制 {carried.copied:,} 个附件"
                            f"（{carried.already_there:,} 个已在目标库中）"
                            if zh
                            else f"copied {carried.copied:,} attachments "
                            f"({carried.already_there:,} already there and equal)"
                        )
                with app.progress("verifying", total + destination.count()) as bar:
                    result = verify_stores(
                        source, destination, batch_size=batch_size, progress=bar.update
                    )
                differing = verify_attachments(source, destination)
            except KeyboardInterrupt:
                _interrupted(app, destination, total, copying=copying)
        finally:
            destination.close()
    finally:
        source.close()
    if not result.ok:
        raise VerificationFailed(result)
    if differing:
        raise MigrationError("; ".join(differing))
    if zh:
        click.echo(
            f"校验通过：两边各 {result.source_count:,} 条投诉，校验和均为 {result.source_checksum}"
        )
    else:
        click.echo(result.describe())


def _say_changes(done: CopyResult, zh: bool) -> None:
    """Name the complaints copied without characters no store can hold, and those the
    destination refused (with its reason)."""
    if done.cleaned_count:
        shown = ", ".join(done.cleaned)
        more = done.cleaned_count - len(done.cleaned)
        rest = (f" 等 {more:,} 条" if zh else f" and {more:,} more") if more > 0 else ""
        if zh:
            echo(f"已删除存储无法保存的字符（NUL、孤立代理项）：{shown}{rest}", err=True)
        else:
            echo(
                f"removed characters no store can hold (NUL, lone surrogates) from "
                f"{done.cleaned_count:,} complaint{'' if done.cleaned_count == 1 else 's'}, "
                f"as intake does: {shown}{rest}",
                err=True,
            )
    for reference, reason in done.refused:
        echo(
            f"{'目标库拒收' if zh else 'refused by the destination'}: {reference}: {reason}",
            err=True,
        )
    if done.refused_count > len(done.refused):
        more = done.refused_count - len(done.refused)
        click.echo(f"… {more:,} {'条更多' if zh else 'more refused'}", err=True)


def _interrupted(app: CommandContext, destination: Store, total: int, *, copying: bool) -> NoReturn:
    """Ctrl-C: say what the destination holds and how to go on, then exit with status 130.

    Every batch is one transaction (or one atomic file write) at the destination, so the
    batch being written when Ctrl-C came is either wholly there or not at all; running the
    same command again resumes after the last complete batch.
    """
    held = quietly(destination.count)
    again = same_command()
    zh = app.lang == "zh"
    if copying:
        if zh:
            where = (
                "（未能读取目标库条数）"
                if held is None
                else f"目标库现有 {held:,} / {total:,} 条投诉"
            )
            message = (
                f"已中断：{where}；已写入的每一批都是完整的。再次运行同一命令即可从中断处继续："
            )
        else:
            where = (
                "the destination could not be counted"
                if held is None
                else f"{held:,} of {total:,} complaints are at the destination"
            )
            message = (
                f"interrupted: {where} (every batch written is complete, none half-written). "
                "Run the same command again to resume where it stopped:"
            )
    elif zh:
        message = "校验时已中断：复制已完成。再次运行同一命令即可重新校验（不会重复复制）："
    else:
        message = (
            "interrupted while verifying: the copy is complete. Run the same command again "
            "to verify (nothing is copied twice):"
        )
    click.echo(f"{message}\n  {again}", err=True)
    sys.exit(INTERRUPTED)
