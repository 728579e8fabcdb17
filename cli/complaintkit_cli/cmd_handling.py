"""Commands that move complaints through the handling process."""

from __future__ import annotations

from typing import Any

import click

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
from .render import echo

pass_app = click.make_pass_decorator(App)


@click.command("classify")
@click.argument("references", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Classify every complaint matching the filters.")
@click.option("--scheme", "schemes", multiple=True, help="Only this scheme (repeatable).")
@click.option("--force", is_flag=True, help="Also replace labels that were set by hand.")
@filter_options
@pass_app
def classify_command(
    app: App,
    /,
    references: tuple[str, ...],
    all_: bool,
    schemes: tuple[str, ...],
    force: bool,
    **opts: Any,
) -> None:
    """(Re-)classify complaints by every scheme, or by --scheme.

    Give references, or --all (with the usual filters, e.g. --unclassified cause).
    A changed label keeps the old one in the complaint's history.
    """
    from .cmd_records import label_display

    chosen = list(schemes) or None
    if chosen:
        for name in chosen:
            app.host.scheme(name)
    filters = pop_filters(opts)
    if references and (all_ or any(v for v in filters.values())):
        raise click.UsageError("give either references or --all with filters, not both")
    if references:
        for reference in references:
            complaint = app.desk.classify(reference, schemes=chosen, force=force)
            echo(f"{complaint.reference}  {label_display(app.host, complaint, app.lang)}")
        return
    if not all_:
        raise click.UsageError("name complaints to classify, or use --all (with filters)")
    flt = build_filter(app.config.tzinfo, **filters)
    flt = check_filter_names(app.host, flt)
    total = app.store.count(flt)
    with progress("classifying", total) as bar:
        examined, changed = app.desk.classify_many(
            flt, schemes=chosen, force=force, progress=bar.update
        )
    click.echo(f"examined {examined}, labels changed on {changed}")


@click.command("label")
@click.argument("reference")
@click.argument("scheme")
@click.argument("label")
@click.option("--reason", help="Why the label is set by hand.")
@pass_app
def label_command(app: App, reference: str, scheme: str, label: str, reason: str | None) -> None:
    """Set a label by hand; automatic re-classification keeps it.

    Example: complaintkit label CK-1 severity serious --reason "injury reported"
    """
    from .cmd_records import label_display

    complaint = app.desk.label(reference, scheme, label, reason=reason)
    echo(f"{complaint.reference}  {label_display(app.host, complaint, app.lang)}")


class _TransitionCommand(click.Command):
    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Actions"):
            from complaintkit.lifecycle import TRANSITIONS

            formatter.write_dl(
                [
                    (
                        t.action,
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
@pass_app
def transition_command(
    app: App,
    reference: str,
    action: str,
    reason: str | None,
    solution: str | None,
    satisfaction: int | None,
) -> None:
    """Move a complaint through the handling process (see Actions).

    Example: complaintkit transition CK-1 propose --solution "replace the handset"
    """
    from complaintkit import name_of

    complaint = app.desk.transition(
        reference, action, reason=reason, solution=solution, satisfaction=satisfaction
    )
    level = name_of(complaint.escalation_level, app.lang)
    echo(f"{complaint.reference}  {name_of(complaint.status, app.lang)}  ({level})")


@click.command("assign")
@click.argument("reference")
@click.option("--department", help="Responsible department.")
@click.option("--assignee", help="Responsible person.")
@click.option("--reason", help="Why.")
@pass_app
def assign_command(
    app: App, reference: str, department: str | None, assignee: str | None, reason: str | None
) -> None:
    """Give a complaint to a department and/or a person."""
    complaint = app.desk.assign(reference, department=department, assignee=assignee, reason=reason)
    who = " / ".join(v for v in (complaint.department, complaint.assignee) if v)
    echo(f"{complaint.reference}  → {who}")


@click.command("escalate")
@click.argument("reference")
@click.option(
    "--to",
    "to",
    type=WordChoice(LEVEL_CHOICES, "parse_level"),
    help="Target level (default: next).",
)
@click.option("--reason", required=True, help="Why it is escalated.")
@pass_app
def escalate_command(app: App, reference: str, to: str | None, reason: str) -> None:
    """Raise a complaint to a higher level of management."""
    from complaintkit import EscalationLevel, name_of

    level = EscalationLevel[to.upper()] if to else None
    complaint = app.desk.escalate(reference, to=level, reason=reason)
    echo(f"{complaint.reference}  → {name_of(complaint.escalation_level, app.lang)}")
