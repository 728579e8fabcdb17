"""``complaintkit import``: bring a file of complaints into the store, losing nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .main import App
from .progress import progress

if TYPE_CHECKING:
    from complaintkit.importing import RejectedRow
    from complaintkit.model import Complaint

pass_app = click.make_pass_decorator(App)
SHOWN_REJECTS = 10


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "tsv", "json", "jsonl", "xlsx"]),
    help="File format (default: from the file name).",
)
@click.option(
    "--mapping",
    metavar="PRESET|FILE",
    help="Column mapping: a preset name (e.g. cfpb) or a mapping TOML file. "
    "Default: our own column names, or a preset recognised from the header.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Take FIELD from COLUMN, on top of the mapping (repeatable).",
)
@click.option("--no-classify", is_flag=True, help="Store without classifying.")
@click.option("--scheme", "schemes", multiple=True, help="Classify only by this scheme.")
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False),
    help="Where rejected rows go (default: ./<file>.rejects.jsonl).",
)
@click.option("--dry-run", is_flag=True, help="Check every row, report, store nothing.")
@click.option(
    "--encoding",
    default="utf-8-sig",
    show_default=True,
    help="Text encoding of CSV/TSV/JSON files (e.g. gb18030 for older Chinese exports).",
)
@pass_app
def import_command(
    app: App,
    path: str,
    fmt: str | None,
    mapping: str | None,
    maps: tuple[str, ...],
    no_classify: bool,
    schemes: tuple[str, ...],
    rejects_path: str | None,
    dry_run: bool,
    encoding: str,
) -> None:
    """Import complaints from CSV, TSV, JSON, JSON Lines or Excel (.xlsx).

    Bad rows are reported with their line number, field and reason, and written with their
    original content to a rejects file; good rows are kept. Importing the same file again adds
    nothing twice. Exits with status 1 when any row was rejected.
    """
    from complaintkit.importing import (
        ColumnMapping,
        count_records,
        detect_format,
        read_complaints,
    )

    source = Path(path)
    fmt = fmt or detect_format(source)
    column_mapping = ColumnMapping.load(mapping) if mapping else None
    overrides: dict[str, str] = {}
    for item in maps:
        field, sep, column = item.partition("=")
        if not sep or not field.strip():
            raise click.BadParameter(
                f"{item!r} is not FIELD=COLUMN (FIELD= with no column drops the field)",
                param_hint="--map",
            )
        overrides[field.strip()] = column.strip()
    tz = app.config.tzinfo
    if overrides:
        if column_mapping is None:
            # --map adjusts the mapping the file would get anyway (native or a detected preset).
            column_mapping = _detected_mapping(source, fmt, tz, encoding)
        column_mapping = column_mapping.with_overrides(overrides)

    rejects: list[RejectedRow] = []
    reject_file = (
        Path(rejects_path) if rejects_path else Path.cwd() / f"{source.name}.rejects.jsonl"
    )
    writer = _RejectWriter(reject_file)

    def on_reject(row: RejectedRow) -> None:
        if len(rejects) < SHOWN_REJECTS:
            rejects.append(row)
        writer.write(row)

    complaints = read_complaints(
        source, mapping=column_mapping, fmt=fmt, tz=tz, on_reject=on_reject, encoding=encoding
    )
    if not complaints.mapping.is_native:
        click.echo(f"using column mapping {complaints.mapping.name}", err=True)
    total = count_records(source, fmt)
    read = 0

    def counted(items: Iterator[Complaint], bar: Any) -> Iterator[Complaint]:
        nonlocal read
        for complaint in items:
            read += 1
            if read % 500 == 0:
                bar.update(500)
            yield complaint
        # The line count is an estimate (quoted fields may span lines): end the bar at 100%.
        bar.update(max(read % 500, (total or 0) - read + read % 500))

    added = 0
    skipped: tuple[str, ...] = ()
    try:
        with complaints, progress("importing", total) as bar:
            stream = counted(complaints, bar)
            if dry_run:
                references = [complaint.reference for complaint in stream]
                skipped = tuple(app.store.existing(references))
                added = len(references) - len(skipped)
            else:
                chosen = list(schemes) or None
                result = app.desk.intake_many(stream, classify=not no_classify, schemes=chosen)
                added, skipped = result.added, result.skipped
    finally:
        writer.close()
    if writer.count == 0 and reject_file.exists():
        # The rejects file always describes the last import of this file, never an older one.
        reject_file.unlink()

    from .render import echo

    for row in rejects:
        echo(f"rejected: {row}", err=True)  # the row's values come from the file: made inert
    if writer.count > len(rejects):
        click.echo(f"… and {writer.count - len(rejects)} more rejected rows", err=True)
    records = read + writer.count
    parts = [f"read {records} record{'' if records == 1 else 's'} from {source.name}"]
    if dry_run:
        parts.append(f"{added} would be imported (dry run: nothing stored)")
        if skipped:
            parts.append(f"{len(skipped)} already in the store")
    else:
        parts.append(f"imported {added}")
        if skipped:
            parts.append(f"skipped {len(skipped)} already in the store")
    if writer.count:
        parts.append(f"rejected {writer.count} (kept in {reject_file})")
    click.echo(", ".join(parts))
    if writer.count:
        sys.exit(1)


def _detected_mapping(source: Path, fmt: str, tz: Any, encoding: str) -> Any:
    """The mapping ``read_complaints`` would choose for this file, read from its header;
    the native layout when nothing fits yet (the --map options may be what makes it fit)."""
    from complaintkit import ConfigError
    from complaintkit.importing import ColumnMapping, read_complaints

    try:
        with read_complaints(
            source, fmt=fmt, tz=tz, on_reject=lambda row: None, encoding=encoding
        ) as probe:
            return probe.mapping
    except ConfigError:
        return ColumnMapping.native()


class _RejectWriter:
    """Appends rejected rows to a JSON Lines file, created only if a row is rejected."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: Any = None

    def write(self, row: RejectedRow) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8")
        record = {
            "source": row.source,
            "line": row.line,
            "field": row.field,
            "reason": row.reason,
            "raw": row.raw,
        }
        self._handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
