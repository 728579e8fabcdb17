"""``complaintkit import``: bring a file of complaints into the store, losing nothing."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click
from click.shell_completion import CompletionItem

from complaintkit.commands import INTERRUPTED, CommandContext, quietly, same_command

if TYPE_CHECKING:
    from complaintkit.host import PluginHost
    from complaintkit.inputs import InputFormat
    from complaintkit.model import Complaint
    from complaintkit.storage import Store

    from .reader import CleanedRow, RejectedRow

__all__ = ["import_command"]

SHOWN_REJECTS = 10


def _host(ctx: click.Context | None) -> PluginHost:
    """The invocation's plugin host (the command line's context object has it)."""
    context = ctx or click.get_current_context()
    app: CommandContext = context.find_root().obj
    return app.host


class _InputFormatChoice(click.Choice[str]):
    """The names of the registered input formats (the built-in ones and every plugin's),
    asked of the plugin host when they are needed: for --help, checking and completion."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        try:
            return tuple(_host(None).input_formats())
        except Exception:  # noqa: BLE001 - no host (a broken configuration): the built-in ones
            # imported only now: --help of complaintkit itself stays light
            from .formats import FORMATS

            return FORMATS

    @choices.setter
    def choices(self, value: tuple[str, ...]) -> None:
        """click sets the choices it is given; the registered formats replace them."""


def _complete_schemes(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Classification scheme names (``--scheme <TAB>``)."""
    try:
        schemes = _host(ctx).schemes()
    except Exception:  # noqa: BLE001 - completion must never print a traceback into a shell
        return []
    return [
        CompletionItem(name, help=f"{scheme.names.en} / {scheme.names.zh}")
        for name, scheme in schemes.items()
        if name.startswith(incomplete)
    ]


def _spoken(names: list[str]) -> str:
    """``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=_InputFormatChoice(),
    help="File format (default: from the file name; required when PATH is - for standard input).",
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
@click.option(
    "--scheme",
    "schemes",
    multiple=True,
    shell_complete=_complete_schemes,
    help="Classify only by this scheme.",
)
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
@click.pass_obj
def import_command(
    app: CommandContext,
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
    original content to a rejects file; good rows are kept. A row that repeats an earlier row
    of the file exactly is skipped (and counted), not rejected. Importing the same file again
    adds nothing twice, so an import stopped half-way (Ctrl-C, a full disk) continues when the
    same command is run again; it says how many complaints it stored. Exits with status 1 when
    any row was rejected or a write failed, 130 after Ctrl-C.
    """
    from complaintkit.errors import StorageError

    from .formats import detect_format
    from .mapping import ColumnMapping
    from .reader import RejectedRow, count_records, read_complaints

    host = app.host
    if path == "-":
        if fmt is None:
            raise click.UsageError(
                "reading standard input (PATH -) needs --format: "
                + _spoken(list(host.input_formats()))
            )
        source = _spooled_stdin(fmt)
    else:
        source = Path(path)
    if fmt is not None:
        input_format = host.input_format(fmt)
    else:
        # A format claiming the file name's ending, else our detection: .txt is sniffed, and
        # an ending nobody reads is refused with the advice to give --format.
        input_format = host.input_format_for_path(source) or host.input_format(
            detect_format(source)
        )
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
            column_mapping = _detected_mapping(source, input_format, tz, encoding)
        column_mapping = column_mapping.with_overrides(overrides)

    # The store first: a store that does not exist is refused before the file is read.
    store = app.store
    before = None if dry_run else store.count()
    rejects: list[RejectedRow] = []
    repeats: list[tuple[int, int]] = []
    repeated = 0
    reject_file = (
        Path(rejects_path) if rejects_path else Path.cwd() / f"{source.name}.rejects.jsonl"
    )
    writer = _RejectWriter(reject_file)

    def on_reject(row: RejectedRow) -> None:
        if len(rejects) < SHOWN_REJECTS:
            rejects.append(row)
        writer.write(row)

    cleaned: list[CleanedRow] = []
    cleaned_count = 0

    def on_clean(row: CleanedRow) -> None:
        nonlocal cleaned_count
        cleaned_count += 1
        if len(cleaned) < SHOWN_REJECTS:
            cleaned.append(row)

    def on_duplicate(line: int, first: int) -> None:
        nonlocal repeated
        repeated += 1
        if len(repeats) < SHOWN_REJECTS:
            repeats.append((line, first))

    complaints = read_complaints(
        source,
        mapping=column_mapping,
        fmt=input_format,
        tz=tz,
        on_reject=on_reject,
        on_duplicate=on_duplicate,
        encoding=encoding,
        on_clean=on_clean,
    )
    if not complaints.mapping.is_native:
        click.echo(f"using column mapping {complaints.mapping.name}", err=True)
    total = count_records(source, input_format)
    read = 0
    statuses: Counter[str] = Counter()

    def counted(items: Iterator[Complaint], bar: Any) -> Iterator[Complaint]:
        nonlocal read
        for complaint in items:
            read += 1
            if complaint.history:
                statuses[complaint.status.value] += 1
            bar.update(1)
            yield complaint
        # The line count is an estimate (quoted fields may span lines): end the bar at 100%.
        bar.update(max((total or 0) - read, 0))

    added = 0
    skipped: tuple[str, ...] = ()
    try:
        try:
            with complaints, app.progress("importing", total) as bar:
                stream = counted(complaints, bar)
                if dry_run:
                    references = [complaint.reference for complaint in stream]
                    skipped = tuple(store.existing(references))
                    added = len(references) - len(skipped)
                else:
                    chosen = list(schemes) or None
                    result = app.desk.intake_many(stream, classify=not no_classify, schemes=chosen)
                    added, skipped = result.added, result.skipped
                    for reference, reason in result.refused:
                        # The database refused this row alone; the rest of its batch is kept.
                        on_reject(
                            RejectedRow(
                                str(source),
                                complaints.line_of(reference) or 0,
                                None,
                                f"the store refused complaint {reference}: {reason}",
                                {"reference": reference},
                                complaints.unit,
                            )
                        )
        finally:
            writer.close()
    except KeyboardInterrupt:
        _stopped(app, store, source, before, writer, None)
    except (StorageError, OSError) as exc:
        _stopped(app, store, source, before, writer, exc)
    if writer.count == 0 and reject_file.exists():
        # The rejects file always describes the last import of this file, never an older one.
        reject_file.unlink()

    for row in rejects:
        _echo(f"rejected: {row}", err=True)  # the row's values come from the file: made inert
    if writer.count > len(rejects):
        click.echo(f"… and {writer.count - len(rejects)} more rejected rows", err=True)
    for note in cleaned:
        _echo(f"cleaned: {note}", err=True)
    if cleaned_count > len(cleaned):
        click.echo(f"… and {cleaned_count - len(cleaned)} more cleaned records", err=True)
    unit = complaints.unit
    for line, first in repeats:
        click.echo(f"skipped: {source}, {unit} {line}: the same as {unit} {first}", err=True)
    if repeated > len(repeats):
        click.echo(f"… and {repeated - len(repeats)} more repeated rows skipped", err=True)
    left_out = complaints.left_out
    records = read + writer.count + repeated + left_out
    kept = "; ".join(f.describe() for f in complaints.mapping.filters) if left_out else ""
    counts = _Counts(
        source.name, records, left_out, kept, added, len(skipped), unit, repeated,
        cleaned_count, writer.count, reject_file, dry_run,
    )  # fmt: skip
    click.echo(_summary(counts, app.lang))
    if statuses:
        from complaintkit import Status, name_of

        # in the order of the handling process, with the history each brought along
        shown = ", ".join(
            f"{name_of(status, app.lang)} {statuses[status.value]}"
            for status in Status
            if statuses[status.value]
        )
        click.echo(f"{'历史状态' if app.lang == 'zh' else 'with their history'}: {shown}")
    if writer.count:
        sys.exit(1)


_UNITS_ZH = {"line": "行", "row": "行", "item": "项"}


@attrs.frozen
class _Counts:
    """What the line that ends an import reports."""

    name: str
    records: int
    left_out: int
    kept: str
    added: int
    skipped: int
    unit: str
    repeated: int
    cleaned: int
    rejected: int
    reject_file: Path
    dry_run: bool


def _summary(c: _Counts, lang: str) -> str:
    """The line that ends an import, in English or Chinese: the same counts either way."""
    zh = lang == "zh"
    parts: list[str] = []

    def say(en: str, cn: str) -> None:
        parts.append(cn if zh else en)

    say(f"read {c.records} record{'' if c.records == 1 else 's'} from {c.name}",
        f"从 {c.name} 读取 {c.records} 条记录")  # fmt: skip
    if c.left_out:
        say(f"left out {c.left_out} by the mapping's filter (keeping rows where {c.kept})",
            f"按映射的筛选条件排除 {c.left_out} 条（保留：{c.kept}）")  # fmt: skip
    if c.dry_run:
        say(f"{c.added} would be imported (dry run: nothing stored)",
            f"可导入 {c.added} 条（试运行：未存储）")  # fmt: skip
        if c.skipped:
            say(f"{c.skipped} already in the store", f"{c.skipped} 条已在库中")
    else:
        say(f"imported {c.added}", f"导入 {c.added} 条")
        if c.skipped:
            say(f"skipped {c.skipped} already in the store", f"跳过已在库中的 {c.skipped} 条")
    if c.repeated:
        say(f"skipped {c.repeated} repeating an earlier {c.unit} of the file",
            f"跳过与文件中前面某{_UNITS_ZH.get(c.unit, c.unit)}相同的 {c.repeated} 条")  # fmt: skip
    if c.cleaned and c.dry_run:
        say(f"would remove NUL characters from {c.cleaned}",
            f"将从 {c.cleaned} 条中移除 NUL 字符")  # fmt: skip
    elif c.cleaned:
        say(f"removed NUL characters from {c.cleaned} "
            f"(recorded in {'their' if c.cleaned > 1 else 'its'} history)",
            f"已从 {c.cleaned} 条中移除 NUL 字符（已记入历史）")  # fmt: skip
    if c.rejected:
        say(f"rejected {c.rejected} (kept in {c.reject_file})",
            f"拒绝 {c.rejected} 条（已保存到 {c.reject_file}）")  # fmt: skip
    return ("，" if zh else ", ").join(parts)


def _stopped(
    app: CommandContext,
    store: Store,
    source: Path,
    before: int | None,
    writer: _RejectWriter,
    error: BaseException | None,
) -> NoReturn:
    """The import stopped half-way: Ctrl-C (``error`` None) or a write that failed (a full
    disk). Say how many complaints this run stored and that running it again continues;
    exit with 130 after Ctrl-C, else 1.

    Every batch the store writes is whole (one transaction, or one atomic file write), and
    running the same import again skips what is stored, so nothing is lost or doubled.
    """
    from complaintkit.errors import StorageError

    after = None if before is None else quietly(store.count)
    zh = app.lang == "zh"
    if before is None:
        stored = "试运行：未存储任何投诉" if zh else "dry run: nothing was stored"
    elif after is None:
        stored = "未能读取存储中的条数" if zh else "the store could not be counted"
    elif zh:
        stored = f"本次已存储 {after - before:,} 条投诉（{source.name}），每一批都是完整的"
    else:
        stored = (
            f"{after - before:,} complaints from {source.name} were stored by this run "
            "(whole batches only)"
        )
    kept = ""
    if writer.count and writer.path.exists():
        kept = (
            f"；已拒绝的 {writer.count:,} 行在 {writer.path}"
            if zh
            else f"; the {writer.count:,} rows rejected so far are in {writer.path}"
        )
    again = same_command()
    if error is None:
        head = "已中断" if zh else "interrupted"
    else:
        reason = str(error) if isinstance(error, StorageError) else _os_reason(error)
        head = f"错误：导入已停止：{reason}" if zh else f"Error: import stopped: {reason}"
    if zh:
        fix = "腾出空间（或排除故障）后，" if error is not None else ""
        click.echo(
            f"{head}。{stored}{kept}。{fix}再次运行同一命令即可继续（已存储的投诉会跳过）：\n"
            f"  {again}",
            err=True,
        )
    else:
        fix = "Free some space (or fix the cause), then run" if error is not None else "Run"
        click.echo(
            f"{head}. {stored}{kept}. {fix} the same command again to continue (complaints "
            f"already stored are skipped):\n  {again}",
            err=True,
        )
    sys.exit(INTERRUPTED if error is None else 1)


def _os_reason(error: BaseException) -> str:
    """An OSError as one line: what failed, on which file (no traceback)."""
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error)


def _detected_mapping(source: Path, fmt: InputFormat, tz: Any, encoding: str) -> Any:
    """The mapping ``read_complaints`` would choose for this file, read from its header;
    the native layout when nothing fits yet (the --map options may be what makes it fit)."""
    from complaintkit import ConfigError

    from .mapping import ColumnMapping
    from .reader import read_complaints

    try:
        with read_complaints(
            source, fmt=fmt, tz=tz, on_reject=lambda row: None, encoding=encoding
        ) as probe:
            return probe.mapping
    except ConfigError:
        return ColumnMapping.native()


class _RejectWriter:
    """Appends rejected rows to a JSON Lines file, created only if a row is rejected.

    A write that fails (a full disk) removes the file, so no empty or cut-off rejects file is
    left behind, and raises: the import stops rather than lose track of a rejected row.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: Any = None

    def write(self, row: RejectedRow) -> None:
        # "line", "item" (JSON array) or "row" (XLSX): the key says what the number counts.
        record = {
            "source": row.source,
            row.unit: row.line,
            "field": row.field,
            "reason": row.reason,
            "raw": row.raw,
        }
        try:
            text = json.dumps(record, ensure_ascii=False, default=str)
            text.encode("utf-8")
        except UnicodeEncodeError:
            # An undecodable byte of the file, kept as a surrogate: escaped, so it is not lost.
            text = json.dumps(record, ensure_ascii=True, default=str)
        try:
            if self._handle is None:
                self._handle = self.path.open("w", encoding="utf-8")
            self._handle.write(text + "\n")
        except OSError as exc:
            self._discard()
            raise OSError(
                exc.errno, f"cannot write the rejects file: {exc.strerror}", str(self.path)
            ) from exc
        self.count += 1

    def close(self) -> None:
        """Write out what is buffered; a failure removes the file and raises."""
        if self._handle is None:
            return
        try:
            self._handle.close()
        except OSError as exc:
            self._discard()
            raise OSError(
                exc.errno, f"cannot write the rejects file: {exc.strerror}", str(self.path)
            ) from exc
        self._handle = None

    def _discard(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with suppress(OSError):
                handle.close()
        with suppress(OSError):
            self.path.unlink()
        self.count = 0


def _echo(text: str, *, err: bool = False) -> None:
    """Print ``text`` without any control sequence: it quotes the file's values."""
    from complaintkit.display import terminal_safe

    click.echo(terminal_safe(text), err=err)


def _spooled_stdin(fmt: str) -> Path:
    """Standard input copied, as it comes, into ``stdin.<fmt>`` in a folder of its own that
    is removed when the command ends: the import reads a file twice (to count, then to store)
    and names it in every message, and a pipe can be read only once."""
    import tempfile

    context = click.get_current_context()
    folder = Path(context.with_resource(tempfile.TemporaryDirectory(prefix="complaintkit-stdin-")))
    target = folder / f"stdin.{fmt}"
    stream = sys.stdin.buffer
    with target.open("wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
    return target
