"""Masks personal data on the way out (``mask_complaint``) and declares the custom fields
``[privacy] fields`` names as personal (``register_personal_fields``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    import click

    from complaintkit import Complaint, Config, PersonalField

__all__ = ["mask_complaint", "register_commands", "register_personal_fields"]


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit person export``."""
    from .cli import person_group

    cli.add_command(person_group)


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
