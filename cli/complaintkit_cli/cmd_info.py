"""Commands that describe and summarise: report, schemes, plugins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from complaintkit.commands import key_value, output_option

from .completion import complete_reports
from .main import App
from .options import build_filter, check_filter_names, filter_options, parse_when, pop_filters
from .progress import counting_store, progress

if TYPE_CHECKING:
    from complaintkit.reporting import ReportContext, Reporter, ReportFormat

pass_app = click.make_pass_decorator(App)
F = TypeVar("F", bound=Callable[..., Any])


def report_options(func: F) -> F:
    """``--option KEY=VALUE`` (repeatable) and ``--now``, for ``report``."""
    func = click.option(
        "--now",
        "now_text",
        metavar="WHEN",
        help="Make the report as of WHEN (ISO date or date-time; without a zone, in the "
        "configured time zone). Default: now.",
    )(func)
    return click.option(
        "--option",
        "options",
        multiple=True,
        metavar="KEY=VALUE",
        help="An option of the report (repeatable); `report --list` shows each report's.",
    )(func)


def _listed(reporter: Reporter, lang: str) -> dict[str, Any]:
    from complaintkit.records import reporter_record

    return reporter_record(reporter, lang)


def _options_text(reporter: Reporter) -> str:
    from complaintkit.reporting import reporter_options

    known = reporter_options(reporter)
    if known is None:
        return "(any)"
    return "; ".join(f"{k}: {v}" for k, v in known.items()) or "(none)"


def _report_context(
    app: App, reporter: Reporter, items: tuple[str, ...], now_text: str | None
) -> ReportContext:
    """The report's context from ``--option`` and ``--now``; unknown options exit with 2."""
    from complaintkit.errors import ConfigError
    from complaintkit.reporting import check_options

    options: dict[str, str] = {}
    for item in items:
        key, value = key_value(item, "--option")
        options[key] = value.strip()
    try:
        check_options(reporter, options)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--option") from None
    now = parse_when(now_text, app.config.tzinfo, "--now") if now_text else None
    return app.desk.report_context(lang=app.lang, options=options, now=now)


@click.command("report")
@click.argument("name", required=False, default="summary", shell_complete=complete_reports)
@click.option("--list", "list_", is_flag=True, help="List the available reports.")
@filter_options
@click.option(
    "--format",
    "fmt",
    metavar="FORMAT",
    help="table, csv, json, markdown, xlsx, html, or a format a plugin adds "
    "(default: from the --out file's ending, else table).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (atomically) instead of standard output; its ending "
    "(.csv .json .md .xlsx .html) chooses the format when --format is not given.",
)
@report_options
@pass_app
def report_command(
    app: App, /, name: str, list_: bool, fmt: str | None, out: str | None, **opts: Any
) -> None:
    """Run a report (default: summary) over the complaints matching the filters."""
    from .render import text_table, to_json

    lang = app.lang
    options, now_text = opts.pop("options"), opts.pop("now_text")
    if list_:
        reporters = app.host.reporters()
        if fmt == "json":
            click.echo(to_json([_listed(r, lang) for r in reporters.values()]))
        else:
            click.echo(
                text_table(
                    ["report", "title", "description", "options"],
                    [
                        [r.name, r.names.get(lang), r.description, _options_text(r)]
                        for r in reporters.values()
                    ],
                )
            )
        return
    renderer = _choose_format(app, fmt, out)
    if out is not None:
        _check_destination(Path(out))
    reporter = app.host.reporter(name)
    flt = build_filter(app.config.tzinfo, **pop_filters(opts))
    flt = check_filter_names(app.host, flt)
    context = _report_context(app, reporter, options, now_text)
    # A report over many complaints takes seconds: on a terminal, count what it has read.
    with progress(f"report {name}", None, delay=1.0) as bar:
        report = reporter.run(counting_store(app.store, bar), flt, context)
    _emit(renderer.render(report, lang), out)


def _choose_format(app: App, fmt: str | None, out: str | None) -> ReportFormat:
    """The format to render with, checked before any report runs (a usage error, exit 2)."""
    import sys

    from complaintkit.errors import UnknownSchemeError

    try:
        if fmt is not None:
            renderer = app.host.report_format(fmt)
        elif out is not None:
            renderer = app.host.report_format_for_path(out)
        else:
            renderer = app.host.report_format("table")
    except UnknownSchemeError as exc:
        raise click.BadParameter(str(exc), param_hint="--format" if fmt else "--out") from None
    if renderer.binary and out is None and sys.stdout.isatty():
        raise click.UsageError(
            f"the {renderer.name} format is binary and is not written to a terminal: "
            f"use --out FILE{renderer.extensions[0] if renderer.extensions else ''} "
            "or redirect standard output"
        )
    return renderer


def _check_destination(path: Path) -> None:
    """Refuse an ``--out`` file that cannot be written before the report is computed: its
    folder must exist and be writable (a usage error, exit status 2)."""
    import os

    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise click.BadParameter(
            f"cannot write {path}: the folder {folder}{os.sep} {what} (create it first)",
            param_hint="--out",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise click.BadParameter(
            f"cannot write {path}: the folder {folder}{os.sep} is not writable",
            param_hint="--out",
        )


def _emit(rendered: str | bytes, out: str | None) -> None:
    """Write the rendered report to ``out`` atomically, or to standard output (text on a
    terminal without control sequences)."""
    import sys

    if out is None:
        if isinstance(rendered, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(rendered)
            sys.stdout.buffer.flush()
        elif sys.stdout.isatty():
            from .render import echo

            echo(_line(rendered), nl=False)
        else:
            click.echo(_line(rendered), nl=False)
        return
    data = rendered if isinstance(rendered, bytes) else _line(rendered).encode("utf-8")
    try:
        write_atomically(Path(out), data)
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {out}: {exc.strerror or exc} (a file already there is left as it was)"
        ) from None
    click.echo(f"wrote {out}", err=True)


def _line(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: a reader sees the old file or the new one, never half of one. A new file
    gets the usual mode (0o666 less the umask); a replaced one keeps its mode."""
    import os
    import secrets
    from contextlib import suppress

    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            with suppress(FileNotFoundError):
                os.fchmod(handle.fileno(), path.stat().st_mode & 0o7777)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@click.command("schemes")
@output_option("table", "json")
@pass_app
def schemes_command(app: App, fmt: str) -> None:
    """List classification schemes and their labels in English and Chinese."""
    from .render import text_table, to_json

    schemes = app.host.schemes()
    if fmt == "json":
        from complaintkit.records import scheme_records

        click.echo(to_json(scheme_records(app.host)))
        return
    rows = []
    for s in schemes.values():
        for lb in s.labels:
            rows.append([s.name, s.names.get(app.lang), lb.name, lb.names.en, lb.names.zh])
    headers = ["scheme", "scheme name", "label", "English", "中文"]
    click.echo(text_table(headers, rows))


@click.command("plugins")
@output_option("table", "json", "jsonl")
@pass_app
def plugins_command(app: App, fmt: str) -> None:
    """Installed plugins: name, version, hooks, and what each contributes; a broken plugin
    shows its error."""
    import sys

    from complaintkit.display import write_records
    from complaintkit.records import plugin_records

    info = plugin_records(app.host, app.failures_seen)
    columns = [("name", "plugin"), ("version", "version"), ("hooks", "hooks"), ("error", "error")]
    if app.lang == "zh":
        columns = [("name", "插件"), ("version", "版本"), ("hooks", "钩子"), ("error", "错误")]
    write_records(sys.stdout, fmt, columns, info)
