"""``complaintkit person``: what is held about one person (``export``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from complaintkit.commands import CommandContext

__all__ = ["person_group", "retention_group"]


#: How a command names the person: any of these, at least one.
_PERSON_OPTIONS = (
    click.option("--phone", help="The person's phone number (any spacing; +86 or not)."),
    click.option("--email", help="The person's e-mail address."),
    click.option("--customer-id", help="The person's customer id in the CRM."),
)


def _person_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--phone``, ``--email`` and ``--customer-id`` on a command."""
    for option in reversed(_PERSON_OPTIONS):
        func = option(func)
    return func


def _named_person(phone: str | None, email: str | None, customer_id: str | None) -> list[str]:
    """The person's identifiers (:func:`.person.identifiers`); a usage error when none is given."""
    from .person import identifiers

    values = identifiers(phone=phone, email=email, customer_id=customer_id)
    if not values:
        raise click.UsageError("name the person: --phone, --email or --customer-id")
    return values


@click.group("person")
def person_group() -> None:
    """What is held about one person: their complaints, histories and notifications."""


@person_group.command("export")
@_person_options
@click.option(
    "--reason",
    required=True,
    metavar="WHY",
    help="Why (e.g. the request's number); recorded in every complaint exported.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the JSON here instead of standard output.",
)
@click.pass_obj
def export_command(
    app: CommandContext,
    phone: str | None,
    email: str | None,
    customer_id: str | None,
    reason: str,
    out: str | None,
) -> None:
    """Everything held about one person, as JSON: every complaint they made, in full and with
    its whole history, and the notifications about those complaints or sent to them (a
    subject access request). The export is recorded in each complaint's history
    (personal_data_disclosed, with --reason)."""
    from complaintkit.display import json_text

    from .person import person_complaints, person_data

    values = _named_person(phone, email, customer_id)
    complaints = list(
        person_complaints(app.store, phone=phone, email=email, customer_id=customer_id)
    )
    if complaints:
        app.desk.record_disclosure(
            [c.reference for c in complaints], reason=f"subject access export: {reason}"
        )
    data = person_data(app.host, app.store, values, complaints)
    text = json_text(data) + "\n"
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(
            f"{len(complaints)} complaint(s) and {len(data['notifications'])} notification(s) "
            f"written to {out}",
            err=True,
        )
    else:
        click.echo(text, nl=False)


def _erasure_lines(done: Any, dry_run: bool) -> list[str]:
    verb = "would be" if dry_run else "were"
    lines = [
        f"{len(done.own)} complaint(s) of the person {verb} anonymised"
        + (f": {', '.join(done.own)}" if done.own else ""),
        f"{len(done.others)} other complaint(s) mentioning their phone or e-mail {verb} "
        "rewritten" + (f": {', '.join(done.others)}" if done.others else ""),
    ]
    for kind, n in sorted(done.plugins.items()):
        lines.append(f"{n} {kind} {verb} rewritten")
    if done.fields:
        lines.append(
            "fields (complaints each): " + ", ".join(f"{f} {n}" for f, n in done.fields.items())
        )
    if dry_run:
        lines.append("dry run: nothing was changed")
    return lines


@person_group.command("erase")
@_person_options
@click.option(
    "--reason",
    required=True,
    metavar="WHY",
    help="Why (e.g. the request's number); recorded in every complaint changed.",
)
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
@click.pass_obj
def erase_command(
    app: CommandContext,
    phone: str | None,
    email: str | None,
    customer_id: str | None,
    reason: str,
    dry_run: bool,
) -> None:
    """Anonymise one person everywhere (a deletion request): their complaints' complainant
    (name, phone, e-mail, customer id) and personal custom fields; their name, phone and
    e-mail wherever they appear in those complaints' texts and histories; their phone and
    e-mail in any other complaint; and the notifications queued or sent to them or about
    them. Labels, times, status and remedies' figures stay, so reports stay right. Each
    complaint changed records a personal_data_erased event with --reason, the fields changed
    and how many values, never the values. Run with --dry-run first."""
    from complaintkit import phone_digits

    from .person import erase_person

    _named_person(phone, email, customer_id)
    if phone and len(phone_digits(phone)) < 7:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--phone")
    if not reason.strip():
        raise click.BadParameter("say why (e.g. the request's number)", param_hint="--reason")
    total = app.store.count()
    with app.progress("erasing", total) as bar:

        def progress(stage: str, n: int) -> None:
            if stage == "reading":
                bar.update(n)

        done = erase_person(
            app.desk,
            phone=phone,
            email=email,
            customer_id=customer_id,
            reason=reason.strip(),
            dry_run=dry_run,
            progress=progress,
        )
    for line in _erasure_lines(done, dry_run):
        click.echo(line)


@click.group("retention")
def retention_group() -> None:
    """How long personal data is kept ([privacy.retention] in complaintkit.toml)."""


@retention_group.command("apply")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
@click.option(
    "--now",
    metavar="ISO",
    help="Apply the policy as of this instant (default: now), e.g. 2029-01-01T00:00:00+08:00.",
)
@click.pass_obj
def retention_apply_command(app: CommandContext, dry_run: bool, now: str | None) -> None:
    """Apply [privacy.retention]: anonymise the complaints finished (closed, withdrawn or
    rejected) longer ago than anonymise_closed_after allows (the complainant, personal custom
    fields, and personal data in every text and history entry: the complainant's own name,
    phone and e-mail erased; other phone, e-mail, ID and card numbers masked; and the
    notifications about them), and delete the files attached to finished complaints longer
    ago than delete_attachments_after allows (each deletion in the history). Run it from
    cron; a second run changes nothing. Prints how much it changed."""
    from datetime import datetime

    from .complaints import PrivacySettings
    from .retention import apply_attachment_retention, apply_retention

    policy = PrivacySettings.from_config(app.config).retention
    period = policy.anonymise_closed_after
    files_period = policy.delete_attachments_after
    if period is None and files_period is None:
        raise click.UsageError(
            "no retention policy: set [privacy.retention] anonymise_closed_after and/or "
            'delete_attachments_after in complaintkit.toml (e.g. "3y", "1y")'
        )
    if now is None:
        at = app.desk.clock()
    else:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(
                f"{now!r} is not an ISO date-time", param_hint="--now"
            ) from None
        if at.tzinfo is None:
            raise click.BadParameter(
                f"{now!r} needs a time zone (e.g. +08:00 or Z)", param_hint="--now"
            )
    verb = "would be" if dry_run else "were"
    if period is not None:
        with app.progress("retention", None) as bar:
            done = apply_retention(app.desk, period, now=at, dry_run=dry_run, progress=bar.update)
        changed = len(done.changed)
        click.echo(
            f"{done.due} complaint(s) finished before {done.cutoff.isoformat()} "
            f"({period.text} before {at.isoformat()}); {changed} {verb} anonymised, "
            f"{done.due - changed} had nothing left to anonymise; {done.notifications} "
            f"notification(s) {verb} "
            "rewritten"
        )
    if files_period is not None:
        with app.progress("attachments", None) as bar:
            files = apply_attachment_retention(
                app.desk, files_period, now=at, dry_run=dry_run, progress=bar.update
            )
        click.echo(
            f"{len(files.deleted)} attachment(s) of {files.complaints} finished complaint(s) "
            f"attached before {files.cutoff.isoformat()} ({files_period.text} before "
            f"{at.isoformat()}) {verb} deleted"
        )
    if dry_run:
        click.echo("dry run: nothing was changed")
