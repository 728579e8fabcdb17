"""Case work: edit a complaint's fields, internal notes, attachments, merging duplicates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from complaintkit.commands import key_value, output_option

from .main import App
from .render import echo, echo_complaint

pass_app = click.make_pass_decorator(App)


@click.command("edit")
@click.argument("reference")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Give a field a new value (repeatable): name, phone, email, customer_id, product, "
    "order, title, channel, tags (comma-separated, replaces them all), custom.KEY.",
)
@click.option(
    "--unset", "unset", multiple=True, metavar="FIELD", help="Remove a field's value (repeatable)."
)
@click.option("--add-tag", "add_tags", multiple=True, metavar="TAG", help="Add a tag (repeatable).")
@click.option(
    "--remove-tag", "remove_tags", multiple=True, metavar="TAG", help="Remove a tag (repeatable)."
)
@click.option("--reason", required=True, help="Why the fields are changed (recorded).")
@click.option(
    "--expected-version",
    type=click.IntRange(min=0),
    help="Refuse the edit if the complaint is no longer at this version (someone changed it).",
)
@output_option("table", "json", "jsonl")
@pass_app
def edit_command(
    app: App,
    reference: str,
    assignments: tuple[str, ...],
    unset: tuple[str, ...],
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    reason: str,
    expected_version: int | None,
    fmt: str,
) -> None:
    """Correct a complaint's fields; the history records each old and new value.

    Example: complaintkit edit CK-1 --set phone="138 0013 8000" --set custom.region=华东
    --add-tag vip --reason "customer called with the right number"
    """
    changes: dict[str, Any] = {}
    for text in assignments:
        field, value = key_value(text, "--set", "FIELD=VALUE")
        if field == "tags":
            changes[field] = [t.strip() for t in value.split(",") if t.strip()]
        else:
            changes[field] = value
    for field in unset:
        changes[field] = None
    before = app.store.get(reference)
    complaint = app.desk.edit(
        reference,
        changes,
        reason=reason,
        expected_version=expected_version,
        add_tags=add_tags,
        remove_tags=remove_tags,
    )
    if complaint.version == before.version:
        line = f"{complaint.reference}  nothing changed (the values are already so)"
    else:
        fields = ", ".join(complaint.history[-1].data)
        line = f"{complaint.reference}  edited: {fields}  (version {complaint.version})"
    echo_complaint(app, fmt, complaint, line)


@click.command("note")
@click.argument("reference")
@click.argument("text")
@output_option("table", "json", "jsonl")
@pass_app
def note_command(app: App, reference: str, text: str, fmt: str) -> None:
    """Add an internal note to a complaint (TEXT, or - to read it from standard input).

    Notes are for the people handling the complaint: they are listed by show and never sent
    to the customer (no notification or webhook carries them).
    """
    if text == "-":
        text = sys.stdin.read()
    complaint = app.desk.add_note(reference, text)
    count = len(app.desk.notes(complaint))
    echo_complaint(app, fmt, complaint, f"{complaint.reference}  note added ({count} in all)")


@click.command("merge")
@click.argument("keep")
@click.argument("duplicate")
@click.option("--reason", required=True, help="Why they are the same case (recorded on both).")
@output_option("table", "json", "jsonl")
@pass_app
def merge_command(app: App, keep: str, duplicate: str, reason: str, fmt: str) -> None:
    """Merge DUPLICATE into KEEP: the same case, complained about twice.

    DUPLICATE is rejected by the lifecycle's merge action and linked to KEEP (its parent); its
    tags, notes and attachments are carried to KEEP; both histories say so.
    """
    kept, dup = app.desk.merge(keep, duplicate, reason=reason)
    carried = next(e for e in reversed(kept.history) if e.action == "merged").data
    line = (
        f"{dup.reference} merged into {kept.reference}: {len(carried.get('tags', []))} tag(s), "
        f"{carried.get('notes', 0)} note(s), {len(carried.get('attachments', []))} "
        "attachment(s) carried"
    )
    echo_complaint(app, fmt, kept, line)


# --- attachments ---------------------------------------------------------------------------


def _read_file(path: str, limit: int) -> tuple[str, bytes]:
    """The name and bytes of ``path`` (``-``: standard input), reading at most one byte past
    ``limit`` so that a huge file is refused without being read whole."""
    if path == "-":
        return "", sys.stdin.buffer.read(limit + 1)
    source = Path(path)
    if not source.is_file():
        raise click.BadParameter(f"{path}: no such file", param_hint="FILE")
    with source.open("rb") as stream:
        return source.name, stream.read(limit + 1)


@click.command("attach")
@click.argument("reference")
@click.argument("file", metavar="FILE")
@click.option("--name", help="The name to keep it under (default: the file's name).")
@output_option("table", "json")
@pass_app
def attach_command(app: App, reference: str, file: str, name: str | None, fmt: str) -> None:
    """Attach FILE (or - for standard input, with --name) to a complaint.

    The type is read from the content and must be allowed by [attachments] allowed_types; the
    size must be within [attachments] max_size (default 10 MB).
    """
    from complaintkit.attachments import AttachmentSettings
    from complaintkit.display import json_text, terminal_safe

    limit = AttachmentSettings.from_config(app.host.config).max_size
    given, content = _read_file(file, limit)
    if not (name or given):
        raise click.UsageError("reading standard input needs --name NAME")
    _, stored = app.desk.attach(reference, name or given, content)
    if fmt == "json":
        click.echo(json_text({"reference": reference, **stored.as_data()}))
        return
    echo(
        f"{reference}  attached {terminal_safe(stored.name, multiline=False)} "
        f"({stored.size:,} bytes, {stored.media_type}, sha256 {stored.sha256[:12]}…)"
    )


@click.command("attachments")
@click.argument("reference")
@output_option("table", "json")
@pass_app
def attachments_command(app: App, reference: str, fmt: str) -> None:
    """List the attachments of a complaint."""
    from complaintkit.display import json_text
    from complaintkit.records import attachment_record

    from .cmd_records import local_time
    from .render import text_table

    found = app.desk.attachments(reference)
    if fmt == "json":
        click.echo(json_text([attachment_record(a) for a in found]))
        return
    if not found:
        echo(f"{reference} has no attachments" if app.lang == "en" else f"{reference} 没有附件")
        return
    zh = app.lang == "zh"
    headers = (
        ["名称", "大小", "类型", "添加时间", "添加人", "SHA-256"]
        if zh
        else ["name", "size", "type", "added", "by", "sha256"]
    )
    rows = [
        [
            a.name,
            f"{a.size:,}",
            a.media_type,
            local_time(a.added_at, app.config.tzinfo),
            a.added_by,
            a.sha256[:16],
        ]
        for a in found
    ]
    click.echo(text_table(headers, rows))


@click.group("attachment")
def attachment_group() -> None:
    """Read one attachment of a complaint."""


@attachment_group.command("get")
@click.argument("reference")
@click.argument("name")
@click.option(
    "--out",
    "out",
    required=True,
    metavar="FILE",
    help="Where to write it (- for standard output, when that is not a terminal).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_app
def attachment_get_command(app: App, reference: str, name: str, out: str, force: bool) -> None:
    """Write attachment NAME of a complaint to --out FILE."""
    found, content = app.desk.attachment(reference, name)
    if out == "-":
        if sys.stdout.isatty():
            raise click.UsageError("will not write a file to the terminal; give --out FILE")
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    target = Path(out)
    if target.exists() and not force:
        raise click.UsageError(f"{out} exists; use --force to overwrite it")
    target.write_bytes(content)
    echo(f"wrote {found.size:,} bytes to {out}", err=True)


@click.command("detach")
@click.argument("reference")
@click.argument("name")
@click.option("--reason", help="Why it is removed (recorded).")
@output_option("table", "json", "jsonl")
@pass_app
def detach_command(app: App, reference: str, name: str, reason: str | None, fmt: str) -> None:
    """Remove attachment NAME from a complaint (the history keeps what it was)."""
    from complaintkit.display import terminal_safe

    complaint = app.desk.detach(reference, name, reason=reason)
    echo_complaint(
        app, fmt, complaint, f"{reference}  removed {terminal_safe(name, multiline=False)}"
    )
