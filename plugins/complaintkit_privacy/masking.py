"""Masking personal data in text: phone numbers, e-mail addresses, ID-card numbers (身份证号)
and bank-card numbers, wherever they stand in a complaint's free text, and contact fields.

Each kind keeps just enough to recognise the value by a person who already knows it:

=================  =====================================  ==============================
kind               found                                  masked as
=================  =====================================  ==============================
``phone``          Chinese mobiles (+86 optional), land-  ``138****5678``,
                   lines with an area code, North-         ``(***) ***-4567``; any other
                   American and other international        number: every digit but the
                   numbers written with ``+``              last four
``email``          ``local@domain.tld``                   ``z***@example.com``
``id_card``        18-character resident ID numbers whose  ``110***********123X``
                   check digit (ISO 7064 MOD 11-2) and
                   birth date are valid; 15-digit old ones
``bank_card``      13–19 digits (spaces or dashes between  ``**** **** **** 1234`` (the
                   groups allowed) passing the Luhn check, digits written as they were)
                   with a card network's leading digit
=================  =====================================  ==============================

A number that fails its check (an order number, a tracking number, an amount) is left alone:
the checks are what keeps false hits rare. Every function is pure and works on any text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any

import attrs

__all__ = [
    "KINDS",
    "Finding",
    "find_personal_data",
    "mask_address",
    "mask_card",
    "mask_email",
    "mask_id_card",
    "mask_name",
    "mask_phone",
    "mask_text",
]

#: The kinds of personal data found in free text, in the order they are looked for.
KINDS = ("email", "id_card", "bank_card", "phone")


@attrs.frozen
class Finding:
    """One piece of personal data in a text: its kind, where it is, and its masked form."""

    kind: str
    start: int
    end: int
    masked: str


# --- e-mail ------------------------------------------------------------------------------------

_EMAIL = re.compile(
    # ASCII boundaries: a Chinese character right before or after an address ends it.
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![A-Za-z0-9-])"
)


def mask_email(value: str) -> str:
    """``zhang.san@example.com`` → ``z***@example.com`` (the domain stays: it says which
    mailbox provider, not who)."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


# --- ID cards ----------------------------------------------------------------------------------

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{15})(?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _valid_birth(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


#: The provinces' codes, the first two digits of every resident ID number.
_PROVINCES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)


def _valid_id18(number: str) -> bool:
    if number[:2] not in _PROVINCES or not _valid_birth(
        int(number[6:10]), int(number[10:12]), int(number[12:14])
    ):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _valid_id15(number: str) -> bool:
    return number[:2] in _PROVINCES and _valid_birth(
        1900 + int(number[6:8]), int(number[8:10]), int(number[10:12])
    )


def mask_id_card(number: str) -> str:
    """``11010519491231002X`` → ``110***********002X``: the first three and last four kept."""
    number = number.strip()
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def mask_card(number: str) -> str:
    """A card number with every digit but the last four hidden, spaces and dashes kept."""
    return _keep_last(number)


# --- bank cards --------------------------------------------------------------------------------

# Written in groups the way cards are printed (4-4-4-4, 4-4-4-4-3, Amex 4-6-5), or as one run
# of digits right after a word that says it is a card or an account.
_CARD_GROUPED = re.compile(
    r"(?<![\d-])(\d{4}([ -])\d{4}\2\d{4}\2\d{4}(?:\2\d{1,3})?|\d{4}([ -])\d{6}\3\d{5})(?![\d-])"
)
_CARD_RUN = re.compile(
    r"(?i)(?:卡|账|帐|card|account|acct|bank|visa|master|amex|unionpay|credit|debit)"
    r"[^\d\n]{0,12}?(?<!\d)(\d{13,19})(?!\d)"
)


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _keep_last(written: str, keep: int = 4) -> str:
    """``written`` with every digit but the last ``keep`` hidden, spaces and dashes kept
    (``6222 0212 3456 7890`` → ``**** **** **** 7890``)."""
    left = sum(char.isdigit() for char in written) - keep
    out = []
    for char in written:
        if char.isdigit() and left > 0:
            out.append("*")
            left -= 1
        else:
            out.append(char)
    return "".join(out)


def _is_card(digits: str) -> bool:
    """A card network's number: Visa (4: 13, 16 or 19 digits), Mastercard (51-55, 22-27: 16),
    Amex (34, 37: 15), JCB (35: 16-19), Discover (6011, 65: 16-19), UnionPay 银联 (62: 16-19),
    and its Luhn check digit right."""
    n = len(digits)
    networks = (
        digits[0] == "4" and n in (13, 16, 19),
        (digits[:2] in ("51", "52", "53", "54", "55") or "22" <= digits[:2] <= "27") and n == 16,
        digits[:2] in ("34", "37") and n == 15,
        digits[:2] in ("35", "62", "65") and 16 <= n <= 19,
        digits[:4] == "6011" and 16 <= n <= 19,
    )
    return any(networks) and _luhn(digits)


# --- phone numbers -----------------------------------------------------------------------------

_CN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d([ -]?)\d{4}\2\d{4})(?![\d-])")
# Area codes: 010 and 02x (three digits, eight-digit numbers), 0[3-9]xx (four, seven or eight).
_CN_LANDLINE = re.compile(
    r"(?<![\d+])(?:(010|02\d)[ -]?(\d{8})|(0[3-9]\d{2})[ -]?(\d{7,8}))(?![\d-])"
)
_NANP = re.compile(
    r"(?<![\d+])(?:\+?1[ .-]?)?(?:\((\d{3})\)\s?|(\d{3})[ .-])(\d{3})[ .-](\d{4})(?![\d-])"
)
_INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9_+])\+\d{1,3}(?:[ .-]?\(?\d+\)?){2,6}(?!\d)")


def mask_phone(value: str) -> str:
    """A phone number with every digit but the last four hidden; a Chinese mobile keeps its
    first three too (``138****5678``), as Chinese services print it."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


# A run of digits that only the words before it make a phone number ("call me on 8587981023",
# "联系电话13800138000" is found anyway): order and case numbers look the same without them.
_SAID_PHONE = re.compile(
    r"(?i)(?:call|contact|phone|tel\b|mobile|cell|reach me|text me|whatsapp"
    r"|电话|手机|联系|致电|打给|微信)"
    r"[^\d\n]{0,20}?(?<![\d+])(\+?\d{10,13})(?!\d)"
)

#: Toll-free prefixes (North America; 400 and 800 in China): businesses' numbers, not people's.
_TOLL_FREE = frozenset({"400", "800", "833", "844", "855", "866", "877", "888"})


def _mask_nanp(match: re.Match[str]) -> str:
    return f"(***) ***-{match.group(4)}"


# --- names -------------------------------------------------------------------------------------


def _has_han(text: str) -> bool:
    """Whether ``text`` has a Chinese character (CJK Unified Ideographs and Extension A): a
    comparison per character of a short name, where the equivalent character-class pattern
    took two milliseconds of every masking command to compile."""
    return any("\u3400" <= ch <= "\u4dbf" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def mask_address(value: str) -> str:
    """``朝阳区建国路88号`` → ``朝阳区*****``: the first three characters (a district, a house
    number) kept, the rest hidden."""
    address = value.strip()
    return address[:3] + "*" * max(len(address) - 3, 0)


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``, ``Zhang San`` → ``Z**** S**``: the first character of each
    part, so a handler who knows the customer can still tell, and nobody else can."""
    name = value.strip()
    if not name:
        return name
    if _has_han(name):
        return name[0] + "*" * (len(name) - 1)
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


# --- finding and masking -----------------------------------------------------------------------


#: What every kind needs somewhere in a text: an ``@`` (e-mail) or a digit (the others; ``\d``
#: as they spell it). Most texts of a history (actions' details, short reasons) have neither,
#: and are passed over by this one search instead of the ten patterns.
_CANDIDATE = re.compile(r"[@\d]")


def _findings(text: str) -> Iterator[Finding]:
    if _CANDIDATE.search(text) is None:
        return
    for match in _EMAIL.finditer(text):
        yield Finding("email", match.start(), match.end(), mask_email(match.group(0)))
    for match in _ID18.finditer(text):
        if _valid_id18(match.group(1)):
            yield Finding("id_card", match.start(1), match.end(1), mask_id_card(match.group(1)))
    for match in _ID15.finditer(text):
        if _valid_id15(match.group(1)):
            yield Finding("id_card", match.start(1), match.end(1), mask_id_card(match.group(1)))
    for pattern in (_CARD_GROUPED, _CARD_RUN):
        for match in pattern.finditer(text):
            digits = re.sub(r"\D", "", match.group(1))
            if _is_card(digits):
                masked = _keep_last(match.group(1))
                yield Finding("bank_card", match.start(1), match.end(1), masked)
    for match in _CN_MOBILE.finditer(text):
        yield Finding("phone", match.start(), match.end(), mask_phone(match.group(0)))
    for match in _CN_LANDLINE.finditer(text):
        area = match.group(1) or match.group(3)
        masked = f"{area}-****{match.group(0)[-4:]}"
        yield Finding("phone", match.start(), match.end(), masked)
    for match in _NANP.finditer(text):
        if (match.group(1) or match.group(2)) not in _TOLL_FREE:
            yield Finding("phone", match.start(), match.end(), _mask_nanp(match))
    for match in _SAID_PHONE.finditer(text):
        yield Finding("phone", match.start(1), match.end(1), _keep_last(match.group(1)))
    for match in _INTERNATIONAL.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 8 <= len(digits) <= 15:
            yield Finding("phone", match.start(), match.end(), _keep_last(match.group(0)))


def find_personal_data(text: str, kinds: Iterable[str] = KINDS) -> list[Finding]:
    """The personal data in ``text`` of the given ``kinds``, in order, never overlapping (an
    e-mail or ID number found first is not also read as a phone or a card number)."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    taken: list[Finding] = []
    for finding in _findings(text):
        if finding.kind not in wanted:
            continue
        if any(finding.start < t.end and t.start < finding.end for t in taken):
            continue
        taken.append(finding)
    return sorted(taken, key=lambda f: f.start)


def map_strings(value: Any, change: Callable[[str], Any]) -> Any:
    """``value`` (an event's details, a payload) with ``change`` applied to every string in it,
    through mappings, lists and tuples; anything else is kept as it is."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {key: map_strings(item, change) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_strings(item, change) for item in value)
    return value


def mask_text(
    text: str,
    kinds: Iterable[str] = KINDS,
    *,
    also: Iterable[tuple[str, Callable[[str], str]]] = (),
) -> str:
    """``text`` with every piece of personal data of ``kinds`` masked; ``also`` adds literal
    values to mask wherever they appear (e.g. the complainant's own name), each with its mask."""
    findings = find_personal_data(text, kinds)
    out: list[str] = []
    position = 0
    for finding in findings:
        out.append(text[position : finding.start])
        out.append(finding.masked)
        position = finding.end
    out.append(text[position:])
    masked = "".join(out)
    for value, mask in also:
        if value and len(value.strip()) >= 2:
            masked = masked.replace(value, mask(value))
    return masked
