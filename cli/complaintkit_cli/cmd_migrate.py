"""``complaintkit migrate``: copy a store into another backend, resumable and verified."""

from __future__ import annotations

import click

from .main import App
from .progress import progress

pass_app = click.make_pass_decorator(App)


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
@pass_app
def migrate_command(
    app: App, source_url: str, dest_url: str, batch_size: int, verify_only: bool, resume: bool
) -> None:
    """Copy every complaint from SOURCE_URL to DEST_URL and verify both sides.

    Works between any two backends, e.g. tinydb://complaints.json to
    postgresql://user@host/db and back. Complaints arrive exactly as they are (version and
    full history kept). The copy streams in batches; if it is interrupted, run the same
    command again and it continues. A destination that holds a different complaint under the
    same reference is refused, never overwritten. At the end both stores are read again and
    compared: counts, a checksum of every record, and the first differing references; any
    difference exits with status 1. Pending notifications stay in the source.
    """
    from complaintkit.errors import MigrationError
    from complaintkit.migrate import VerificationFailed, copy_store, verify_stores

    zh = app.lang == "zh"
    source = app.host.open_store(source_url)
    try:
        destination = app.host.open_store(dest_url)
        try:
            total = source.count()
            if total == 0 and not verify_only:
                raise MigrationError(
                    f"the source {source.url} holds no complaints: nothing to migrate (is the "
                    "URL right? a TinyDB file that does not exist is an empty store)"
                )
            if not verify_only:
                with progress("copying", total) as bar:
                    done = copy_store(
                        source,
                        destination,
                        batch_size=batch_size,
                        resume=resume,
                        progress=bar.update,
                    )
                if zh:
                    line = f"已复制 {done.copied:,} 条投诉到 {destination.url}"
                    if done.already_there:
                        line += f"（{done.already_there:,} 条已在目标库中，与源一致）"
                else:
                    line = f"copied {done.copied:,} complaints to {destination.url}"
                    if done.already_there:
                        line += f" ({done.already_there:,} already there and equal)"
                click.echo(line)
            with progress("verifying", total + destination.count()) as bar:
                result = verify_stores(
                    source, destination, batch_size=batch_size, progress=bar.update
                )
        finally:
            destination.close()
    finally:
        source.close()
    if not result.ok:
        raise VerificationFailed(result)
    if zh:
        click.echo(
            f"校验通过：两边各 {result.source_count:,} 条投诉，校验和均为 {result.source_checksum}"
        )
    else:
        click.echo(result.describe())
