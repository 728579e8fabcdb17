"""Masking a whole complaint: its personal fields by kind, and every free text in it (the
complaint's words, the solution, history reasons and details, remedy descriptions), where the
complainant's own name, phone and e-mail address are masked wherever they appear too."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from complaintkit import ERASED, Complaint, Config, PersonalField

from .masking import (
    map_strings,
    mask_address,
    mask_card,
    mask_email,
    mask_id_card,
    mask_name,
    mask_phone,
    mask_text,
)
from .retention import RetentionSettings

__all__ = ["PrivacySettings", "mask_complaint"]

_MASKS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "email": mask_email,
    "address": mask_address,
    "id_card": mask_id_card,
    "bank_card": mask_card,
}


#: The configuration last read and its settings (one configuration per process, normally).
_LAST: tuple[Config, PrivacySettings] | None = None

#: The kinds a custom field named in ``[privacy] fields`` may have (PERSONAL_KINDS).
Kind = Literal["name", "phone", "email", "address", "id_card", "bank_card", "text", "identifier"]


@attrs.frozen
class PrivacySettings:
    """``[privacy]``: whether outputs are masked, custom fields that hold personal data, and
    how long personal data is kept (``[privacy.retention]``, see
    :class:`~complaintkit_privacy.retention.RetentionSettings`).

    ::

        [privacy]
        mask = true                                  # the default
        fields = { address = "address", note = "text", "身份证" = "id_card" }

        [privacy.retention]
        anonymise_closed_after = "3y"
    """

    mask: bool = True
    fields: Mapping[str, Kind] = attrs.field(factory=dict)
    retention: RetentionSettings = attrs.field(factory=RetentionSettings)

    @classmethod
    def from_config(cls, config: Config) -> PrivacySettings:
        """``[privacy]`` of ``config``, checked once per configuration (the masking hook asks
        for every complaint it masks); a mistake raises ConfigError naming the key."""
        global _LAST
        if _LAST is None or _LAST[0] is not config:
            from complaintkit import structure_section

            _LAST = (config, structure_section(config, "privacy", cls))
        return _LAST[1]


def _masked_value(value: Any, kind: str, text: Callable[[str], str]) -> Any:
    if not isinstance(value, str) or not value or value == ERASED:
        return value
    if "*" in value and kind != "text":
        return value  # masked already: masking twice must not hide what the first one kept
    if kind == "text":
        return text(value)
    if kind == "identifier":
        return value
    return _MASKS[kind](value)


def mask_complaint(complaint: Complaint, fields: Sequence[PersonalField]) -> Complaint:
    """``complaint`` with every personal field masked by its kind and personal data in every
    free text masked (see :mod:`complaintkit_privacy.masking`)."""
    party = complaint.complainant
    known = [
        (value, mask)
        for value, mask in (
            (party.name, mask_name),
            (party.phone, mask_phone),
            (party.email, mask_email),
        )
        if value and value != ERASED  # an erased party leaves the token, which stays as it is
    ]

    def text(value: str) -> str:
        return mask_text(value, also=known)

    changes: dict[str, Any] = {}
    party_changes: dict[str, Any] = {}
    custom = dict(complaint.custom)
    for field in fields:
        head, _, rest = field.path.partition(".")
        if head == "complainant" and rest in ("name", "phone", "email", "customer_id"):
            party_changes[rest] = _masked_value(getattr(party, rest), field.kind, text)
        elif head == "custom" and rest in custom:
            custom[rest] = _masked_value(custom[rest], field.kind, text)
        elif not rest and head in ("title", "text", "solution", "order"):
            changes[head] = _masked_value(getattr(complaint, head), field.kind, text)
    history = tuple(
        attrs.evolve(
            event,
            reason=text(event.reason) if event.reason else event.reason,
            data=map_strings(event.data, text),
        )
        for event in complaint.history
    )
    remedies = tuple(
        attrs.evolve(r, description=text(r.description) if r.description else r.description)
        for r in complaint.remedies
    )
    return attrs.evolve(
        complaint,
        **changes,
        complainant=attrs.evolve(party, **party_changes),
        custom=custom,
        history=history,
        remedies=remedies,
    )
