"""``complaintkit person``: what is held about one person (``export``)."""

from __future__ import annotations

import click

from complaintkit.commands import CommandContext

__all__ = ["person_group"]


@click.group("person")
def person_group() -> None:
    """What is held about one person: their complaints, histories and notifications."""


@person_group.command("export")
@click.option("--phone", help="The person's phone number (any spacing; +86 or not).")
@click.option("--email", help="The person's e-mail address.")
@click.option("--customer-id", help="The person's customer id in the CRM.")
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

    from .person import identifiers, person_complaints, person_data

    values = identifiers(phone=phone, email=email, customer_id=customer_id)
    if not values:
        raise click.UsageError("name the person: --phone, --email or --customer-id")
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
