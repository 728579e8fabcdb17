"""Masks personal data on the way out (``mask_complaint``), declares the custom fields
``[privacy] fields`` names as personal (``register_personal_fields``), erases a person from the
notification outbox and the files attached to their complaints (``erase_personal_data``), and
adds ``complaintkit person`` and ``complaintkit retention``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

    from complaintkit import Complaint, Config, Person, PersonalField, Store

__all__ = [
    "erase_personal_data",
    "mask_complaint",
    "register_commands",
    "register_personal_fields",
]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit person export|erase`` and ``complaintkit retention apply``."""
    from .cli import person_group, retention_group

    cli.add_command(person_group)
    cli.add_command(retention_group)


@hookimpl
def erase_personal_data(store: Store, person: Person, dry_run: bool) -> dict[str, int]:
    """The store's notification outbox: messages about the person's complaints or addressed
    to them or mentioning them are rewritten (``Outbox.rewrite``). The files attached to the
    person's own complaints (photos, invoices, letters: personal data no text scrub can
    reach) are deleted; counted as ``attachments`` when there were any."""
    from .erasure import remove_attachments, scrub_outbox

    counts = {"notifications": scrub_outbox(store, person, dry_run=dry_run)}
    removed = remove_attachments(store, person, dry_run=dry_run)
    if removed:
        counts["attachments"] = removed
    return counts


@hookimpl
def register_personal_fields(register: Callable[[PersonalField], None], config: Config) -> None:
    """Every custom field named in ``[privacy] fields``, with its kind."""
    from complaintkit import PersonalField

    from .complaints import PrivacySettings

    for name, kind in PrivacySettings.from_config(config).fields.items():
        register(PersonalField(f"custom.{name}", kind, "named in [privacy] fields"))


@hookimpl
def mask_complaint(
    complaint: Complaint, fields: list[PersonalField], config: Config
) -> Complaint | None:
    """The complaint with its personal data masked, unless ``[privacy] mask = false``."""
    from .complaints import PrivacySettings
    from .complaints import mask_complaint as masked

    if not PrivacySettings.from_config(config).mask:
        return complaint
    return masked(complaint, fields)
