"""Which fields of a complaint hold personal data, and masking them on the way out.

The core names the personal fields of its own model (:data:`CORE_FIELDS`); plugins add theirs
with the ``register_personal_fields`` hook (a custom field an import fills, say). What a
masked value looks like is a plugin's choice, through the ``mask_complaint`` hook (the
privacy plugin masks phone numbers, e-mail addresses, names, ID and card numbers, in fields
and in free text); :meth:`~complaintkit.host.PluginHost.mask` applies it, and without any
implementation gives the complaint back unchanged.
"""

from __future__ import annotations

import attrs

__all__ = ["CORE_FIELDS", "PERSONAL_KINDS", "PersonalField"]

#: What a personal field holds: a person's ``name``, ``phone``, ``email``, ``address``,
#: ``id_card`` or ``bank_card`` number, ``text`` in which any of those may appear, or an
#: ``identifier`` that points at a person in another system (kept by masking, removed by
#: erasure).
PERSONAL_KINDS = (
    "name",
    "phone",
    "email",
    "address",
    "id_card",
    "bank_card",
    "text",
    "identifier",
)


def _kind(_: object, __: attrs.Attribute[str], value: str) -> None:
    if value not in PERSONAL_KINDS:
        raise ValueError(f"unknown kind of personal data {value!r}; known: {PERSONAL_KINDS}")


@attrs.frozen
class PersonalField:
    """A field of a complaint that may hold personal data.

    ``path`` is the field as ``show --format json`` names it, dotted for nested values
    (``complainant.phone``, ``custom.address``); ``kind`` is one of :data:`PERSONAL_KINDS`.
    """

    path: str
    kind: str = attrs.field(validator=_kind)
    description: str = ""


#: The personal fields of complaintkit's own complaint model.
CORE_FIELDS = (
    PersonalField("complainant.name", "name", "the complainant's name"),
    PersonalField("complainant.phone", "phone", "the complainant's phone number"),
    PersonalField("complainant.email", "email", "the complainant's e-mail address"),
    PersonalField("complainant.customer_id", "identifier", "the customer's id in the CRM"),
    PersonalField("title", "text", "the complaint's title"),
    PersonalField("text", "text", "the complaint in the customer's words"),
    PersonalField("solution", "text", "the solution given"),
)
