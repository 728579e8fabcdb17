"""Which fields of a complaint hold personal data, and masking them on the way out.

The core names the personal fields of its own model (:data:`CORE_FIELDS`); plugins add theirs
with the ``register_personal_fields`` hook (a custom field an import fills, say). What a
masked value looks like is a plugin's choice, through the ``mask_complaint`` hook (the
privacy plugin masks phone numbers, e-mail addresses, names, ID and card numbers, in fields
and in free text); :meth:`~complaintkit.host.PluginHost.mask` applies it, and without any
implementation gives the complaint back unchanged.

Erasing a person (``complaintkit person erase``) replaces what identifies them with
:data:`ERASED`; :class:`Person` says who they are, and finds and replaces their phone numbers
(in any spelling), e-mail addresses and names in any text, so that a plugin keeping data of
its own (the ``erase_personal_data`` hook) erases exactly what the core does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import attrs

__all__ = ["CORE_FIELDS", "ERASED", "PERSONAL_KINDS", "Person", "PersonalField", "phone_digits"]

#: What an erased value is replaced with, in fields and in free text.
ERASED = "[erased]"

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


def phone_digits(phone: str) -> str:
    """A phone number's digits without China's country code: ``+86 138-1234-5678``,
    ``0086 13812345678`` and ``13812345678`` are the same number."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0086") and len(digits) > 11:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


# Between two digits of a phone number as people write it: spaces, dashes, dots, brackets.
_GAP = r"[\s.()\-]{0,3}"
# A phone number may be written with its country code in front (+86, 0086, 86; +1).
_COUNTRY = r"(?:(?:\+|00)?86" + _GAP + r"|\+?1" + _GAP + r")?"
_EMAIL_CHARS = r"A-Za-z0-9._%+\-"


def _phone_pattern(digits: str) -> str:
    head = ""
    if len(digits) == 11 and digits[0] == "1":
        # A North-American number is written with or without the 1 before its area code.
        head, digits = "(?:1" + _GAP + ")?", digits[1:]
    return r"(?<![\d+])" + _COUNTRY + r"\(?" + head + _GAP.join(digits) + r"(?!\d)"


@attrs.frozen
class Person:
    """Who is being erased: their phone numbers (digits, as :func:`phone_digits` gives),
    e-mail addresses (lower case), names and customer ids, and the references of the
    complaints they made (which the erasure found by those identifiers).

    :meth:`replace` finds them in a text: a phone number in any spacing, with or without its
    country code (``+86 138 1234 5678``); an e-mail address in any case; a name as written (any
    case for a Latin name, as a whole word), only when at least two characters long. A
    customer id is replaced only where a whole value equals it (:meth:`is_identifier`): short
    ids look like order numbers and amounts inside text.
    """

    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    references: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        names: Iterable[str] = (),
        customer_ids: Iterable[str] = (),
        references: Iterable[str] = (),
    ) -> Person:
        """A person from identifiers as written: phones to digits (fewer than 7 digits are
        no phone number and are dropped), e-mails to lower case, blanks dropped, duplicates
        removed (order kept)."""

        def unique(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(v for v in values if v))

        return cls(
            phones=unique(d for d in map(phone_digits, phones) if len(d) >= 7),
            emails=unique(e.strip().casefold() for e in emails),
            names=unique(n.strip() for n in names if len(n.strip()) >= 2),
            customer_ids=unique(c.strip() for c in customer_ids),
            references=frozenset(references),
        )

    def pattern(self, *, names: bool = True) -> re.Pattern[str] | None:
        """One regular expression finding any of the person's phone numbers, e-mail addresses
        and (with ``names``) names; None when there is nothing to find."""
        return _compiled(self.phones, self.emails, self.names if names else ())

    def replace(self, text: str, token: str = ERASED, *, names: bool = True) -> tuple[str, int]:
        """``text`` with every phone number, e-mail address and (with ``names``) name of the
        person replaced by ``token``, and how many were replaced.

        Names are not unique (many people are called 张伟), so an erasure replaces them only
        in what belongs to the person (their complaints, the messages about those) and
        passes ``names=False`` elsewhere."""
        pattern = self.pattern(names=names)
        if pattern is None or not text:
            return text, 0
        return pattern.subn(token, text)

    def mentioned_in(self, text: str, *, names: bool = True) -> bool:
        """Whether ``text`` holds one of the person's phone numbers, e-mail addresses or
        (with ``names``) names."""
        pattern = self.pattern(names=names)
        return bool(pattern is not None and text and pattern.search(text))

    def is_identifier(self, value: str) -> bool:
        """Whether ``value`` is, as a whole, one of the person's identifiers: a phone number
        (any spelling), an e-mail address (any case) or a customer id."""
        stripped = value.strip()
        if not stripped or len(stripped) > 64:  # a text, not an identifier
            return False
        digits = phone_digits(stripped)
        return (
            stripped in self.customer_ids
            or stripped.casefold() in self.emails
            or (
                len(digits) >= 7
                and digits in self.phones
                and not re.search(r"[^\d\s.()+\-]", stripped)
            )
        )


@functools.lru_cache(maxsize=64)
def _compiled(
    phones: tuple[str, ...], emails: tuple[str, ...], names: tuple[str, ...]
) -> re.Pattern[str] | None:
    parts = [_phone_pattern(p) for p in phones]
    # An address ends where no address character follows (a full stop ends a sentence).
    parts += [
        rf"(?<![{_EMAIL_CHARS}]){re.escape(e)}(?![A-Za-z0-9_%+\-]|\.[A-Za-z0-9])" for e in emails
    ]
    # Longest first, so that "Zhang San" is replaced whole before "Zhang" alone.
    for name in sorted(names, key=len, reverse=True):
        escaped = re.escape(name)
        parts.append(rf"(?<!\w){escaped}(?!\w)" if name.isascii() else escaped)
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)
