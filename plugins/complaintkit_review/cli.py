"""``complaintkit review``: the labels due for review, and a person's decisions on them.

* ``complaintkit review`` lists what needs review, least confident first (``--format``);
* ``complaintkit review --interactive`` shows each one on the terminal and asks: accept,
  correct (pick the right label), skip or quit;
* ``complaintkit review --decisions FILE`` applies decisions from a CSV, JSON or JSON Lines
  file with the columns ``reference``, ``scheme``, ``label`` and optionally ``note``;
  a row that cannot be applied is reported with its line and field, the others are applied.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from complaintkit.commands import CommandContext, output_option
from complaintkit.errors import ComplaintkitError

if TYPE_CHECKING:
    from .queue import ReviewItem

__all__ = ["review_command"]

_COLUMNS = (
    ("reference", "reference"),
    ("scheme", "scheme"),
    ("label", "label"),
    ("confidence", "confidence"),
    ("classifier", "classifier"),
    ("evidence", "evidence"),
    ("text", "text"),
)
_ZH_TITLES = {
    "reference": "编号",
    "scheme": "分类方案",
    "label": "标签",
    "confidence": "置信度",
    "classifier": "分类器",
    "evidence": "依据",
    "text": "内容",
}


class DecisionError(ComplaintkitError):
    """Rows of a decisions file that could not be applied (the others were)."""

    exit_code = 1


@click.command("review")
@click.option(
    "--scheme",
    "schemes",
    multiple=True,
    help="Only this scheme, by key or English or Chinese name (repeatable; default: all).",
)
@click.option(
    "--below",
    type=click.FloatRange(0, 1),
    help="Review labels below this confidence, whatever [review] says.",
)
@click.option("--open", "open_only", is_flag=True, help="Only complaints still open.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    help="At most this many labels (default 50 for the table, all otherwise; 0 = all).",
)
@click.option(
    "--interactive",
    "-i",
    is_flag=True,
    help="Go through them one by one on the terminal: accept, correct, skip or quit.",
)
@click.option(
    "--decisions",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply decisions from a CSV, JSON or JSON Lines file "
    "(columns: reference, scheme, label, optionally note).",
)
@click.option("--note", help="A note recorded with every decision (e.g. a ticket number).")
@output_option("table", "json", "jsonl", "csv", "csv-raw")
@click.pass_obj
def review_command(
    app: CommandContext,
    schemes: tuple[str, ...],
    below: float | None,
    open_only: bool,
    limit: int | None,
    interactive: bool,
    decisions: str | None,
    note: str | None,
    fmt: str,
) -> None:
    """Labels due for review: automatic labels below their scheme's confidence threshold
    ([review] in complaintkit.toml, 0.5 by default), least confident first.

    A decision (accept or correct) sets the label by hand: it is recorded in the complaint's
    history with who decided and why, automatic re-classification keeps it, and `complaintkit
    train` learns from it.
    """
    from complaintkit import ComplaintFilter
    from complaintkit.display import write_records

    from .queue import ReviewSettings, queue, review_record

    if interactive and decisions:
        raise click.UsageError("use --interactive or --decisions, not both")
    desk = app.desk
    settings = ReviewSettings.from_config(app.config, app.host)
    chosen = [app.host.resolve_scheme(name) for name in schemes] or sorted(app.host.schemes())
    if decisions:
        _apply_file(app, Path(decisions), note)
        return
    flt = ComplaintFilter(open_only=open_only) if open_only else None
    if limit is None:
        limit = 50 if fmt == "table" and not interactive else 0
    unlabelled: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    items = queue(
        desk,
        settings,
        chosen,
        flt,
        below=below,
        unlabelled=unlabelled,
        limit=limit or None,
        counts=counts,
    )
    if interactive:
        _interactive(app, items, note)
        return
    zh = app.lang == "zh"
    columns = [(key, _ZH_TITLES[key] if zh else title) for key, title in _COLUMNS]
    write_records(
        sys.stdout,
        fmt,
        columns,
        (review_record(item) for item in items),
        table=lambda record: _row(app, record),
    )
    if fmt == "table":

        def named(counts: Mapping[str, int]) -> str:
            """``Cause 1,770, Purpose 3`` (``投诉原因 1,770``): schemes as the table names them."""
            return ", ".join(
                f"{app.host.scheme(scheme).names.get(app.lang)} {n:,}"
                for scheme, n in sorted(counts.items())
            )

        if not items:
            click.echo("无待复核的标签" if zh else "nothing to review", err=True)
        else:
            # the whole queue, not only the page shown: how much is left is the point
            total = named(counts)
            if len(items) < counts.total():
                total += f"（显示前 {len(items):,} 条）" if zh else f" (showing {len(items):,})"
            click.echo(f"{'待复核' if zh else 'to review'}: {total}", err=True)
        if unlabelled:
            # a new user's biggest gap (46% without a cause after an import) is not in the
            # queue by default: say so, and how to add it
            missing = named(unlabelled)
            listed = ", ".join(f'"{scheme}"' for scheme in sorted(unlabelled))
            click.echo(
                f"未分类、不在此队列中：{missing}"
                f"（在 [review] 中设 unlabelled = [{listed}] 即可加入）"
                if zh
                else f"without a label, not in this queue: {missing} "
                f"(add them with [review] unlabelled = [{listed}])",
                err=True,
            )


def _row(app: CommandContext, record: Mapping[str, Any]) -> list[Any]:
    from complaintkit import label_names
    from complaintkit.display import terminal_safe

    scheme = app.host.scheme(record["scheme"])
    label = record["label"]
    shown = label_names(scheme, label).get(app.lang) if label is not None else None
    text = terminal_safe(" ".join(str(record["text"]).split()), multiline=False)
    return [
        record["reference"],
        scheme.names.get(app.lang),
        shown if shown is not None else "-",
        "-" if record["confidence"] is None else f"{record['confidence']:.2f}",
        record["classifier"] or "-",
        terminal_safe(", ".join(record["evidence"]), multiline=False),
        text if len(text) <= 60 else text[:59] + "…",
    ]


#: The counts ``review --interactive`` ends with, in Chinese.
_ZH_DECISIONS = {"accepted": "接受", "corrected": "更正", "skipped": "跳过"}


def _interactive(app: CommandContext, items: list[ReviewItem], note: str | None) -> None:

    zh = app.lang == "zh"
    done: Counter[str] = Counter()
    try:
        _decide_each(app, items, note, done)
    finally:  # also after Ctrl-C or the end of the input: what was decided is kept, say so
        summary = ("，" if zh else ", ").join(
            f"{_ZH_DECISIONS[k] if zh else k} {v}" for k, v in sorted(done.items())
        ) or ("未做任何决定" if zh else "nothing decided")
        click.echo(summary, err=True)


def _decide_each(
    app: CommandContext, items: list[ReviewItem], note: str | None, done: Counter[str]
) -> None:
    """Ask about each item in turn, recording every decision at once (counted in ``done``)."""
    from complaintkit import label_names
    from complaintkit.display import terminal_safe

    from .queue import decide

    zh = app.lang == "zh"
    for position, item in enumerate(items, 1):
        scheme = app.host.scheme(item.scheme)
        labels = list(scheme.labels)
        click.echo("")
        click.echo(
            f"[{position}/{len(items)}] {item.complaint.reference} · {scheme.names.get(app.lang)}"
        )
        click.echo(terminal_safe(item.complaint.text))
        proposed = item.label
        if proposed is not None:
            shown = label_names(scheme, proposed.label).get(app.lang)
            evidence = terminal_safe(", ".join(proposed.evidence), multiline=False) or "-"
            click.echo(
                f"{'建议' if zh else 'proposed'}: {shown} ({proposed.confidence:.2f}; "
                f"{'依据' if zh else 'evidence'}: {evidence})"
            )
        else:
            click.echo("未分类" if zh else "no label")
        for number, label in enumerate(labels, 1):
            click.echo(f"  {number}. {label.name} — {label.names.get(app.lang)}")
        choices = "a/c/s/q" if proposed is not None else "c/s/q"
        prompt = (
            "接受(a) / 更正(c) / 跳过(s) / 退出(q)"
            if zh
            else "accept (a), correct (c), skip (s), quit (q)"
        )
        answer = click.prompt(
            prompt,
            type=click.Choice(choices.split("/")),
            show_choices=False,
            default="s",
        )
        if answer == "q":
            break
        if answer == "s":
            done["skipped"] += 1
            continue
        if answer == "a" and proposed is not None:
            chosen: str | None = proposed.label
        else:
            chosen = _pick(app, item.scheme, labels)
        if chosen is None:
            done["skipped"] += 1
            continue
        decide(app.desk, item, chosen, note=note)
        kind = "accepted" if proposed is not None and chosen == proposed.label else "corrected"
        done[kind] += 1
        shown = label_names(scheme, chosen).get(app.lang)
        what = _ZH_DECISIONS[kind] if zh else kind
        click.echo(f"→ {'已记录' if zh else 'recorded'}: {shown} ({what})")


def _pick(app: CommandContext, scheme: str, labels: list[Any]) -> str | None:
    """Ask for the right label, by its number in the list or a name (``resolve_label``);
    None when the person just presses Enter (skip this one after all)."""
    from complaintkit.display import terminal_safe

    zh = app.lang == "zh"
    names = ", ".join(str(label.name) for label in labels)
    while True:
        answer = click.prompt(
            "正确的标签（编号或名称；直接回车跳过）"
            if zh
            else "the right label (number or name; Enter to skip)",
            default="",
            show_default=False,
        )
        answer = answer.strip()
        if not answer:
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(labels):
            return str(labels[int(answer) - 1].name)
        try:
            return app.host.resolve_label(scheme, answer)[1]
        except ComplaintkitError:
            click.echo(
                f"没有这个标签：{terminal_safe(answer)}；请输入 1–{len(labels)} 或名称：{names}"
                if zh
                else f"no such label: {terminal_safe(answer)}; give 1–{len(labels)} or a name: "
                f"{names}"
            )


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, row) of a decisions file: JSON Lines (.jsonl, .ndjson), a JSON array (.json,
    numbered by position) or CSV (anything else, numbered by the line a row starts on)."""
    from .queue import UNREADABLE

    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open(encoding="utf-8-sig") as handle:
                for line, text in enumerate(handle, 1):
                    if text.strip():
                        try:
                            yield line, json.loads(text)
                        except ValueError as exc:
                            yield line, {UNREADABLE: f"not JSON ({exc})"}
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            if not isinstance(data, list):
                raise ComplaintkitError(f"{path}: a JSON decisions file must hold a list")
            yield from enumerate(data, 1)
        else:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                start = 2
                for row in reader:
                    yield start, row
                    start = reader.line_num + 1
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        raise ComplaintkitError(f"{path}: cannot be read ({exc})") from None


def _apply_file(app: CommandContext, path: Path, note: str | None) -> None:
    from complaintkit.display import terminal_safe

    from .queue import apply_decisions

    zh = app.lang == "zh"
    rows = [(f"{path}:{line}", row) for line, row in _rows(path)]
    with app.progress("applying", len(rows)) as bar:
        outcome = apply_decisions(app.desk, rows, note, progress=bar.update)
    problems = outcome.problems
    summary = ", ".join(f"{k} {v}" for k, v in outcome.applied.items()) or "nothing applied"
    click.echo(f"{'已应用' if zh else 'applied'}: {summary}")
    for problem in problems:
        click.echo(terminal_safe(problem), err=True)
    if problems:
        raise DecisionError(
            f"{len(problems)} row(s) of {path} could not be applied (listed above); the others were"
        )
