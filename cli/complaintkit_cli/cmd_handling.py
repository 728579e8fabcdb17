"""Commands that move complaints through the handling process."""

from __future__ import annotations

from typing import Any

import click

from complaintkit.commands import output_option

from .completion import complete_schemes
from .main import App
from .options import (
    LEVEL_CHOICES,
    WordChoice,
    build_filter,
    check_filter_names,
    filter_options,
    pop_filters,
)
from .progress import progress
from .render import echo, echo_complaint

pass_app = click.make_pass_decorator(App)


@click.command("classify")
@click.argument("references", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Classify every complaint matching the filters.")
@click.option(
    "--scheme",
    "schemes",
    multiple=True,
    shell_complete=complete_schemes,
    help="Only this scheme (repeatable).",
)
@click.option("--force", is_flag=True, help="Also replace labels that were set by hand.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing: show how labels would move (counts per scheme and label, with "
    "example references) and each label's count before and after.",
)
@filter_options
@output_option("table", "json")
@pass_app
def classify_command(
    app: App,
    /,
    references: tuple[str, ...],
    all_: bool,
    schemes: tuple[str, ...],
    force: bool,
    dry_run: bool,
    fmt: str,
    **opts: Any,
) -> None:
    """(Re-)classify complaints by every scheme, or by --scheme.

    Give references, or --all (with the usual filters, e.g. --unclassified cause).
    A changed label keeps the old one in the complaint's history. --dry-run shows what a
    rule or model change would change before anything is written. --format json prints the
    counts (or each named complaint's labels) for a script.
    """
    from complaintkit.display import json_text

    from .cmd_records import label_display

    chosen = list(schemes) or None
    if chosen:
        for name in chosen:
            app.host.scheme(name)
    filters = pop_filters(opts)
    if references and (all_ or any(v for v in filters.values())):
        raise click.UsageError("give either references or --all with filters, not both")
    if not references and not all_:
        raise click.UsageError("name complaints to classify, or use --all (with filters)")
    if dry_run:
        flt = (
            None
            if references
            else check_filter_names(app.host, build_filter(app.config.tzinfo, **filters))
        )
        total = len(references) if references else app.store.count(flt)
        with progress("previewing", total) as bar:
            preview = app.desk.preview_classification(
                flt, references=references, schemes=chosen, force=force, progress=bar.update
            )
        _show_preview(app, preview, fmt)
        return
    if references:
        classified = [
            app.desk.classify(reference, schemes=chosen, force=force) for reference in references
        ]
        if fmt == "json":
            click.echo(
                json_text(
                    [
                        {
                            "reference": complaint.reference,
                            "labels": {
                                scheme: label.label for scheme, label in complaint.labels.items()
                            },
                        }
                        for complaint in classified
                    ]
                )
            )
            return
        for complaint in classified:
            echo(f"{complaint.reference}  {label_display(app.host, complaint, app.lang)}")
        return
    flt = build_filter(app.config.tzinfo, **filters)
    flt = check_filter_names(app.host, flt)
    total = app.store.count(flt)
    with progress("classifying", total) as bar:
        examined, changed = app.desk.classify_many(
            flt, schemes=chosen, force=force, progress=bar.update
        )
    if fmt == "json":
        click.echo(json_text({"examined": examined, "rewritten": changed}))
        return
    # "rewrote", not "labels changed": the count includes labels whose confidence or evidence
    # alone was refreshed, which the dry run counts apart from the labels that move
    click.echo(
        f"检查 {examined:,} 条，重写 {changed:,} 条（含仅置信度或依据更新的）"
        if app.lang == "zh"
        else f"examined {examined:,}; rewrote {changed:,} (confidence or evidence refreshed "
        "included; --dry-run shows how many labels move)"
    )


def _show_preview(app: App, preview: Any, fmt: str) -> None:
    """Print a :class:`~complaintkit.ClassificationPreview` as a table or as JSON."""
    from complaintkit import label_names
    from complaintkit.display import json_text, table_text

    schemes = app.host.schemes()
    lang = app.lang
    zh = lang == "zh"

    def shown(scheme: str, label: str | None) -> str:
        if label is None:
            return "-"
        found = schemes.get(scheme)
        return label_names(found, label).get(lang) if found else label

    def scheme_name(scheme: str) -> str:
        found = schemes.get(scheme)
        return found.names.get(lang) if found else scheme

    moves = sorted(preview.moves.items(), key=lambda item: (item[0][0], -item[1], item[0][1:]))
    if fmt == "json":
        data = {
            "examined": preview.examined,
            "changed": preview.changed,
            "updated": preview.updated,
            "moves": [
                {
                    "scheme": scheme,
                    "from": old,
                    "to": new,
                    "complaints": count,
                    "examples": list(preview.examples.get((scheme, old, new), ())),
                }
                for (scheme, old, new), count in moves
            ],
            "labels": [
                {
                    "scheme": scheme,
                    "label": label,
                    "before": preview.before.get((scheme, label), 0),
                    "after": preview.after.get((scheme, label), 0),
                }
                for scheme, label in sorted(set(preview.before) | set(preview.after))
            ],
        }
        click.echo(json_text(data))
        return
    click.echo(
        f"试运行：检查 {preview.examined:,} 条，{preview.changed:,} 条的标签会改变，"
        f"共 {preview.updated:,} 条会被重写（含仅置信度或依据更新的；未写入）"
        if zh
        else f"dry run: examined {preview.examined:,}, labels would change on "
        f"{preview.changed:,}; {preview.updated:,} would be rewritten, confidence or evidence "
        "refreshed included (nothing written)"
    )
    if moves:
        headers = (
            ["方案", "原标签", "新标签", "投诉数", "示例"]
            if zh
            else ["scheme", "from", "to", "complaints", "examples"]
        )
        rows = [
            [
                scheme_name(scheme),
                shown(scheme, old),
                shown(scheme, new),
                f"{count:,}",
                ", ".join(preview.examples.get((scheme, old, new), ())),
            ]
            for (scheme, old, new), count in moves
        ]
        click.echo()
        click.echo(table_text(headers, rows))
    changed_labels = [
        key
        for key in sorted(set(preview.before) | set(preview.after))
        if preview.before.get(key, 0) != preview.after.get(key, 0)
    ]
    if changed_labels:
        headers = (
            ["方案", "标签", "之前", "之后", "变化"]
            if zh
            else ["scheme", "label", "before", "after", "change"]
        )
        rows = []
        for scheme, label in changed_labels:
            old, new = preview.before.get((scheme, label), 0), preview.after.get((scheme, label), 0)
            rows.append(
                [
                    scheme_name(scheme),
                    shown(scheme, label),
                    f"{old:,}",
                    f"{new:,}",
                    f"{new - old:+,}",
                ]
            )
        click.echo()
        click.echo(table_text(headers, rows))


@click.command("label")
@click.argument("reference")
@click.argument("scheme")
@click.argument("label")
@click.option("--reason", help="Why the label is set by hand.")
@output_option("table", "json", "jsonl")
@pass_app
def label_command(
    app: App, reference: str, scheme: str, label: str, reason: str | None, fmt: str
) -> None:
    """Set a label by hand; automatic re-classification keeps it.

    Example: complaintkit label CK-1 severity serious --reason "injury reported"
    """
    from .cmd_records import label_display

    complaint = app.desk.label(reference, scheme, label, reason=reason)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  {label_display(app.host, complaint, app.lang)}",
    )


class _TransitionCommand(click.Command):
    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Actions"):
            from complaintkit.lifecycle import ACTION_NAMES, TRANSITIONS

            formatter.write_dl(
                [
                    (
                        f"{t.action} ({ACTION_NAMES[t.action].zh})",
                        f"{'/'.join(sorted(s.value for s in t.sources))} → {t.target.value}: "
                        f"{t.description}"
                        + (f" (needs --{', --'.join(t.requires)})" if t.requires else ""),
                    )
                    for t in TRANSITIONS
                ]
            )


@click.command("transition", cls=_TransitionCommand)
@click.argument("reference")
@click.argument("action")
@click.option("--reason", help="Why (required to decline, reopen, withdraw or reject).")
@click.option("--solution", help="The solution offered (required to propose).")
@click.option(
    "--satisfaction", type=click.IntRange(1, 5), help="Customer satisfaction 1-5 (close)."
)
@output_option("table", "json", "jsonl")
@pass_app
def transition_command(
    app: App,
    reference: str,
    action: str,
    reason: str | None,
    solution: str | None,
    satisfaction: int | None,
    fmt: str,
) -> None:
    """Move a complaint through the handling process (see Actions; an action's Chinese
    name works too: 受理 for acknowledge).

    Example: complaintkit transition CK-1 propose --solution "replace the handset"
    """
    from complaintkit import name_of
    from complaintkit.lifecycle import action_key

    complaint = app.desk.transition(
        reference, action_key(action), reason=reason, solution=solution, satisfaction=satisfaction
    )
    level = name_of(complaint.escalation_level, app.lang)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  {name_of(complaint.status, app.lang)}  ({level})",
    )


@click.command("assign")
@click.argument("reference")
@click.option("--department", help="Responsible department.")
@click.option("--assignee", help="Responsible person.")
@click.option("--reason", help="Why.")
@output_option("table", "json", "jsonl")
@pass_app
def assign_command(
    app: App,
    reference: str,
    department: str | None,
    assignee: str | None,
    reason: str | None,
    fmt: str,
) -> None:
    """Give a complaint to a department and/or a person."""
    complaint = app.desk.assign(reference, department=department, assignee=assignee, reason=reason)
    who = " / ".join(v for v in (complaint.department, complaint.assignee) if v)
    echo_complaint(app, fmt, complaint, f"{complaint.reference}  → {who}")


@click.command("escalate")
@click.argument("reference")
@click.option(
    "--to",
    "to",
    type=WordChoice(LEVEL_CHOICES, "parse_level"),
    help="Target level (default: next).",
)
@click.option("--reason", required=True, help="Why it is escalated.")
@output_option("table", "json", "jsonl")
@pass_app
def escalate_command(app: App, reference: str, to: str | None, reason: str, fmt: str) -> None:
    """Raise a complaint to a higher level of management."""
    from complaintkit import EscalationLevel, name_of

    level = EscalationLevel[to.upper()] if to else None
    complaint = app.desk.escalate(reference, to=level, reason=reason)
    echo_complaint(
        app,
        fmt,
        complaint,
        f"{complaint.reference}  → {name_of(complaint.escalation_level, app.lang)}",
    )
