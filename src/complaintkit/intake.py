"""What a new complaint may hold: one set of parsers and checks for every way in.

``complaintkit add``, ``complaintkit import``, the list/report filters and any API call the
same functions, so a value one door accepts no other door refuses, and every store holds the
same thing:

* **Vocabularies** — :func:`parse_channel`, :func:`parse_remedy`, :func:`parse_status` and
  :func:`parse_level` take our own value (``wechat``), the display name in English or Chinese
  (``WeChat``, ``微信``) or a common alias (``hotline``, ``热线``, ``e-mail``), case and
  spacing aside; anything else raises ``ValueError`` naming the known values.
* **Contacts** — :func:`party_problems` checks a complainant's phone (at least five digits) and
  e-mail (``name@domain.tld``); :func:`contact_value` turns the placeholders real exports put in
  empty contact cells (``n/a``, ``-``, ``无`` …) into no value.
* **Characters no store can hold** — NUL (U+0000), which PostgreSQL refuses in text, and lone
  surrogates (U+D800–U+DFFF), which no UTF-8 database or JSON file can encode, are removed:
  :func:`clean_complaint` removes them from every text of a complaint and says how many it
  removed from which field; :class:`~complaintkit.desk.Desk` does this to every new complaint
  and records it in its history (a ``characters_removed`` event), ``import`` reports the
  line, and ``migrate`` applies the same rule to complaints a store held from before it
  existed. Every other character is kept exactly: other control characters (a terminal
  escape, a form feed) are storable everywhere, and every output makes them inert itself
  (:func:`complaintkit.rendering.terminal.terminal_safe`, the CSV and XLSX writers).
* **The whole complaint** — :func:`complaint_problems` lists what is wrong with a complaint as
  (field, reason) pairs: wrong types (a list or a boolean where text belongs), empty text,
  contacts, indexed fields longer than :data:`MAX_KEY_LENGTH`, custom values that are not
  JSON; :func:`check_complaint` raises :class:`~complaintkit.errors.ValidationError` with them.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

import attrs
import orjson

from .errors import ValidationError
from .i18n import CHANNEL_NAMES, LEVEL_NAMES, REMEDY_NAMES, STATUS_NAMES, Names
from .model import Channel, Complaint, EscalationLevel, Party, RemedyKind, Status

__all__ = [
    "CHANNEL_WORDS",
    "CHARACTERS_REMOVED",
    "MAX_KEY_LENGTH",
    "REMEDY_WORDS",
    "STATUS_WORDS",
    "check_complaint",
    "clean_complaint",
    "clean_text",
    "complaint_problems",
    "contact_value",
    "describe_removed",
    "known_values",
    "parse_channel",
    "parse_level",
    "parse_remedy",
    "parse_status",
    "party_problems",
]

E = TypeVar("E", bound=enum.Enum)

#: Longest value of a field stores index (reference, product, department, assignee, the
#: complainant's phone, e-mail and customer id, …): SQL databases index at most this many
#: characters, so no store takes a longer one.
MAX_KEY_LENGTH: Final = 255

#: The action of the history event that records characters removed from a new complaint.
CHARACTERS_REMOVED: Final = "characters_removed"

_KEY_FIELDS: Final = frozenset({"product", "department", "assignee", "sla_policy", "parent"})
_TEXT_FIELDS: Final = (
    "title", "product", "order", "department", "assignee", "solution", "sla_policy", "parent",
)  # fmt: skip
_NOBODY: Final = Party()


# --- vocabularies ------------------------------------------------------------------------------


def _key(value: str) -> str:
    return re.sub(r"[\s\-_]+", "_", value.strip().casefold())


def _vocabulary(names: Mapping[E, Names], aliases: Mapping[str, E]) -> dict[str, E]:
    """Every way of writing a member: its value, its names in both languages, the aliases."""
    table: dict[str, E] = {}
    for member, member_names in names.items():
        for word in (str(member.value), member.name, member_names.en, member_names.zh):
            table[_key(word)] = member
    for alias, member in aliases.items():
        table[_key(alias)] = member
    return table


CHANNEL_WORDS: Final = _vocabulary(
    CHANNEL_NAMES,
    {
        "telephone": Channel.PHONE, "hotline": Channel.PHONE, "call": Channel.PHONE,
        "phone call": Channel.PHONE, "电话": Channel.PHONE, "热线": Channel.PHONE,
        "来电": Channel.PHONE, "客服电话": Channel.PHONE,
        "text message": Channel.SMS, "短信": Channel.SMS,
        "e-mail": Channel.EMAIL, "mail": Channel.EMAIL, "邮件": Channel.EMAIL,
        "电子邮件": Channel.EMAIL, "邮箱": Channel.EMAIL,
        "website": Channel.WEB, "web form": Channel.WEB, "online": Channel.WEB,
        "internet": Channel.WEB, "app": Channel.WEB, "网站": Channel.WEB, "网页": Channel.WEB,
        "官网": Channel.WEB, "在线": Channel.WEB, "网上": Channel.WEB, "网络": Channel.WEB,
        "in person": Channel.IN_PERSON, "walk-in": Channel.IN_PERSON, "store": Channel.IN_PERSON,
        "counter": Channel.IN_PERSON, "现场": Channel.IN_PERSON, "到店": Channel.IN_PERSON,
        "门店": Channel.IN_PERSON, "当面": Channel.IN_PERSON, "柜台": Channel.IN_PERSON,
        "weixin": Channel.WECHAT, "微信": Channel.WECHAT, "公众号": Channel.WECHAT,
        "post": Channel.LETTER, "postal mail": Channel.LETTER, "信件": Channel.LETTER,
        "来信": Channel.LETTER, "信函": Channel.LETTER,
        "social": Channel.SOCIAL_MEDIA, "twitter": Channel.SOCIAL_MEDIA,
        "weibo": Channel.SOCIAL_MEDIA, "社交媒体": Channel.SOCIAL_MEDIA,
        "微博": Channel.SOCIAL_MEDIA, "抖音": Channel.SOCIAL_MEDIA,
        "转介": Channel.REFERRAL, "转办": Channel.REFERRAL,
        "其他": Channel.OTHER, "其它": Channel.OTHER,
    },
)  # fmt: skip
"""Every accepted way of writing a channel (keys normalised by case and spacing)."""

REMEDY_WORDS: Final = _vocabulary(
    REMEDY_NAMES,
    {
        "money back": RemedyKind.REFUND, "退货退款": RemedyKind.REFUND, "退钱": RemedyKind.REFUND,
        "exchange": RemedyKind.REPLACEMENT, "更换": RemedyKind.REPLACEMENT,
        "换新": RemedyKind.REPLACEMENT,
        "fix": RemedyKind.REPAIR, "修理": RemedyKind.REPAIR,
        "voucher": RemedyKind.COUPON, "代金券": RemedyKind.COUPON,
        "sorry": RemedyKind.APOLOGY, "致歉": RemedyKind.APOLOGY,
        "compensate": RemedyKind.COMPENSATION, "补偿": RemedyKind.COMPENSATION,
        "赔付": RemedyKind.COMPENSATION,
        "解释": RemedyKind.EXPLANATION, "说明": RemedyKind.EXPLANATION,
        "答复": RemedyKind.EXPLANATION,
        "其它": RemedyKind.OTHER,
    },
)  # fmt: skip
"""Every accepted way of writing a remedy."""

STATUS_WORDS: Final = _vocabulary(STATUS_NAMES, {})
"""Every accepted way of writing a status (``closed``, ``已结案``, ``solution proposed`` …)."""
_LEVEL_WORDS: Final = _vocabulary(LEVEL_NAMES, {"front-line": EscalationLevel.FRONT_LINE})


def known_values(members: Iterable[enum.Enum]) -> str:
    """The members' stored values, comma-separated (``phone, sms, …``), for messages."""
    return ", ".join(
        member.slug if isinstance(member, EscalationLevel) else str(member.value)
        for member in members
    )


def _parse(value: str, words: Mapping[str, E], what: str, members: Iterable[enum.Enum]) -> E:
    found = words.get(_key(value))
    if found is None:
        raise ValueError(f"unknown {what} {value!r} (known: {known_values(members)})")
    return found


def parse_channel(value: str) -> Channel:
    """The channel ``value`` names: ``wechat``, ``WeChat``, ``微信``, ``weixin`` … (ValueError
    listing the known values otherwise)."""
    return _parse(value, CHANNEL_WORDS, "channel", Channel)


def parse_remedy(value: str) -> RemedyKind:
    """The remedy ``value`` names: ``refund``, ``退款``, ``money back`` …"""
    return _parse(value, REMEDY_WORDS, "remedy", RemedyKind)


def parse_status(value: str) -> Status:
    """The status ``value`` names: ``closed``, ``已结案``, ``solution proposed`` …"""
    return _parse(value, STATUS_WORDS, "status", Status)


def parse_level(value: str) -> EscalationLevel:
    """The escalation level ``value`` names: ``leadership``, ``领导层``, ``front line`` …"""
    return _parse(value, _LEVEL_WORDS, "escalation level", EscalationLevel)


# --- contacts ----------------------------------------------------------------------------------

# Placeholders for "nothing" in contact columns of real exports; not worth a reject.
_NOTHING: Final = frozenset(
    {"n/a", "na", "none", "null", "nil", "-", "--", "—", "无", "暂无", "没有"}
)
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def contact_value(value: str | None) -> str | None:
    """A contact value as given (stripped), None for nothing or a placeholder (``n/a``, ``无``)."""
    if value is None:
        return None
    value = value.strip()
    return None if not value or value.casefold() in _NOTHING else value


def phone_problem(phone: str) -> str | None:
    """Why ``phone`` is not a phone number, or None when it is one."""
    if sum(c.isdigit() for c in phone) < 5:
        return f"{phone!r} is not a phone number (expected digits, e.g. 138 0013 8000)"
    return None


def email_problem(email: str) -> str | None:
    """Why ``email`` is not an e-mail address, or None when it is one."""
    if not _EMAIL.fullmatch(email):
        return f"{email!r} is not an e-mail address (expected e.g. li.lei@example.com)"
    return None


def party_problems(complainant: Party) -> list[tuple[str, str]]:
    """What is wrong with a complainant's contacts, as (field, reason) pairs."""
    party: Any = complainant  # an API body may hold anything where text belongs
    problems: list[tuple[str, str]] = []
    for field, value in (
        ("complainant_name", party.name),
        ("complainant_phone", party.phone),
        ("complainant_email", party.email),
        ("customer_id", party.customer_id),
    ):
        if value is not None and not isinstance(value, str):
            problems.append((field, f"expected text, got {_kind(value)}"))
    if isinstance(party.phone, str) and (reason := phone_problem(party.phone)):
        problems.append(("complainant_phone", reason))
    if isinstance(party.email, str) and (reason := email_problem(party.email)):
        problems.append(("complainant_email", reason))
    for field, value in (
        ("complainant_phone", party.phone),
        ("complainant_email", party.email),
        ("customer_id", party.customer_id),
    ):
        if isinstance(value, str) and len(value) > MAX_KEY_LENGTH:
            problems.append((field, _too_long(value)))
    return problems


# --- characters no store can hold --------------------------------------------------------------

#: NUL and lone surrogates: what some store (PostgreSQL; any UTF-8 encoder) cannot hold.
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> tuple[str, int]:
    """``value`` without the characters no store can hold, and how many were removed."""
    if _UNSTORABLE.search(value) is None:
        return value, 0
    return _UNSTORABLE.subn("", value)


def describe_removed(value: str) -> str:
    """The characters :func:`clean_text` would remove from ``value``, e.g. ``U+0000 ×2``."""
    counts: dict[str, int] = {}
    for char in _UNSTORABLE.findall(value):
        code = f"U+{ord(char):04X}"
        counts[code] = counts.get(code, 0) + 1
    return ", ".join(f"{code} ×{n}" if n > 1 else code for code, n in counts.items())


def _clean(value: Any, removed: list[int]) -> Any:
    """``value`` with every string in it cleaned; the same object when nothing changed."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value) is None:
            return value
        cleaned, count = _UNSTORABLE.subn("", value)
        removed[0] += count
        return cleaned
    if isinstance(value, tuple | list):
        items = [_clean(item, removed) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        pairs = [(_clean(k, removed), _clean(v, removed)) for k, v in value.items()]
        if all(k is ok and v is ov for (k, v), (ok, ov) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    if attrs.has(type(value)):
        changes = {}
        for field in attrs.fields(type(value)):
            old = getattr(value, field.name)
            new = _clean(old, removed)
            if new is not old:
                changes[field.name] = new
        return attrs.evolve(value, **changes) if changes else value
    return value


def clean_complaint(complaint: Complaint) -> tuple[Complaint, dict[str, int]]:
    """``complaint`` without characters no store can hold, and how many were removed by field.

    Every text is cleaned: the complaint's own fields, the complainant (``complainant.phone``),
    tags, custom fields (``custom.<name>``, keys and values), remedies, labels and history. The
    complaint is returned unchanged (the same object) when it holds none.
    """
    if not _may_hold_unstorable(complaint):
        return complaint, {}
    removed: dict[str, int] = {}
    changes: dict[str, Any] = {}
    for field in attrs.fields(Complaint):
        name = field.name
        old = getattr(complaint, name)
        if name == "custom" and isinstance(old, dict):
            cleaned: dict[Any, Any] = {}
            dirty = False
            for key, value in old.items():
                count = [0]
                new_key, new_value = _clean(key, count), _clean(value, count)
                if count[0]:
                    dirty = True
                    removed[f"custom.{new_key}"] = removed.get(f"custom.{new_key}", 0) + count[0]
                cleaned[new_key] = new_value
            if dirty:
                changes[name] = cleaned
            continue
        if name == "complainant" and isinstance(old, Party):
            parts: dict[str, Any] = {}
            for part in attrs.fields(Party):
                count = [0]
                value = getattr(old, part.name)
                new = _clean(value, count)
                if count[0]:
                    removed[f"complainant.{part.name}"] = count[0]
                    parts[part.name] = new
            if parts:
                changes[name] = attrs.evolve(old, **parts)
            continue
        count = [0]
        new = _clean(old, count)
        if count[0]:
            removed[name] = count[0]
            changes[name] = new
    if not changes:
        return complaint, {}
    return attrs.evolve(complaint, **changes), removed


def _unstorable_in(value: str) -> bool:
    # NUL by memchr; a surrogate is never in an ASCII string (isascii reads a flag).
    return "\x00" in value or (not value.isascii() and _UNSTORABLE.search(value) is not None)


def _may_hold_unstorable(c: Complaint) -> bool:
    """False when ``c`` certainly holds no character to remove: the fast path of every intake.

    The texts of a plain complaint are joined and searched at once, in C; anything unusual (a
    value that is not text, labels, history) is looked at closely.
    """
    party = c.complainant
    custom = c.custom
    fields = (
        c.reference, c.text, c.title, c.product, c.order, c.department, c.assignee,
        c.sla_policy, c.solution, c.parent,
        party.name, party.phone, party.email, party.customer_id,
    )  # fmt: skip
    try:
        joined = "\x1f".join([value for value in fields if value is not None])
        joined += "\x1f".join(c.tags) + "\x1f".join(custom)
    except TypeError:  # a value that is not text
        return True
    if _unstorable_in(joined):
        return True
    try:
        values = "\x1f".join(custom.values())
    except TypeError:  # JSON numbers, lists, objects among the custom values
        if any(_dirty(value) for value in custom.values()):
            return True
    else:
        if _unstorable_in(values):
            return True
    if c.remedies and _dirty(c.remedies):
        return True
    return bool(c.labels or c.history) and _parts_may_hold_unstorable(c)


_NUL_IN_JSON: Final = b"\\u0000"


def _parts_may_hold_unstorable(c: Complaint) -> bool:
    """Whether the labels or the history may hold a character to remove: their texts joined
    and searched at once, their event data encoded by orjson in C (which refuses surrogates and
    writes NUL as an escape). Anything unusual (a value of another type, a literal
    backslash-u0000) is looked at closely with :func:`_dirty`; only a clean answer is fast."""
    texts: list[str] = []
    data: list[dict[str, Any]] = []
    for key, label in c.labels.items():
        texts += (key, label.scheme, label.label, label.classifier)
        texts += label.evidence
    for event in c.history:
        texts += (event.actor, event.action)
        if event.reason is not None:
            texts.append(event.reason)
        if event.data:
            data.append(event.data)
    try:
        if _unstorable_in("\x1f".join(texts)):
            return True
        if not data or _NUL_IN_JSON not in orjson.dumps(data):
            return False
    except TypeError:  # a value that is not text, or data orjson refuses (surrogates)
        pass
    return _dirty(c.labels) or _dirty(c.history)


def _dirty(value: Any) -> bool:
    """True when ``value`` holds a string :func:`clean_text` would change (no copies made)."""
    if isinstance(value, str):
        return _unstorable_in(value)
    if isinstance(value, tuple | list):
        return any(_dirty(item) for item in value)
    if isinstance(value, dict):
        return any(_dirty(k) or _dirty(v) for k, v in value.items())
    if attrs.has(type(value)):
        return any(_dirty(getattr(value, f.name)) for f in attrs.fields(type(value)))
    return False


# --- the whole complaint -----------------------------------------------------------------------


def _kind(value: Any) -> str:
    """A value's type in JSON words, for messages."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return type(value).__name__


def _too_long(value: str) -> str:
    return (
        f"{len(value):,} characters, longer than the {MAX_KEY_LENGTH} a store can index "
        f"({value[:40]!r}…)"
    )


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a custom value cannot be stored as JSON the same way by every store, or None."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if depth > 32:
        return "nested too deeply"
    if isinstance(value, list | tuple):
        return next((p for item in value if (p := _json_problem(item, depth + 1))), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"a key that is not text ({key!r})"
            if problem := _json_problem(item, depth + 1):
                return problem
        return None
    return f"{_kind(value)} is not a JSON value"


def complaint_problems(complaint: Complaint) -> list[tuple[str | None, str]]:
    """Everything that keeps ``complaint`` out of a store, as (field, reason) pairs.

    Empty when it may be stored. Types are checked as well as values, since an API hands over
    whatever a JSON body held: text where text belongs, a list of texts for tags, JSON values
    in custom fields. Every import row passes through here twice (the reader and the Desk), so
    the common case is a few attribute reads.
    """
    # Any: the annotations say what the fields should hold; an API body may hold anything.
    c: Any = complaint
    problems: list[tuple[str | None, str]] = []
    reference, text = c.reference, c.text
    if reference.__class__ is not str or not reference.strip():
        problems.append(("reference", f"expected a non-empty text, got {reference!r}"))
    elif len(reference) > MAX_KEY_LENGTH:
        problems.append(("reference", _too_long(reference)))
    if text.__class__ is not str:
        problems.append(("text", f"expected text, got {_kind(text)}"))
    elif not text.strip():
        problems.append(("text", "empty, but the complaint text is required"))
    for field in _TEXT_FIELDS:
        value = getattr(c, field)
        if value is None:
            continue
        if value.__class__ is not str:
            problems.append((field, f"expected text, got {_kind(value)}"))
        elif len(value) > MAX_KEY_LENGTH and field in _KEY_FIELDS:
            problems.append((field, _too_long(value)))
    if c.channel.__class__ is not Channel:
        problems.append(("channel", f"expected a channel, got {c.channel!r}"))
    tags = c.tags
    if tags.__class__ is not tuple or not all(t.__class__ is str for t in tags):
        problems.append(("tags", f"expected a list of texts, got {tags!r}"))
    party = c.complainant
    if party.__class__ is not Party:
        problems.append(("complainant", f"expected a party, got {_kind(party)}"))
    elif party != _NOBODY:
        problems.extend(party_problems(party))
    custom = c.custom
    if custom.__class__ is not dict:
        problems.append(("custom", f"expected an object, got {_kind(custom)}"))
    else:
        for key, value in custom.items():
            if key.__class__ is not str:
                problems.append(("custom", f"a custom field name must be text, got {key!r}"))
            elif value.__class__ is not str and (problem := _json_problem(value)):
                problems.append((f"custom.{key}", problem))
    return problems


def check_complaint(complaint: Complaint) -> None:
    """Raise :class:`~complaintkit.errors.ValidationError` listing :func:`complaint_problems`."""
    problems = complaint_problems(complaint)
    if problems:
        raise ValidationError(
            f"complaint {complaint.reference}",
            [f"field {field}: {reason}" if field else reason for field, reason in problems],
        )
