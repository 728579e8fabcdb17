"""English and Chinese names for everything a user reads: statuses, channels, levels, remedies.

Category labels carry their own names (:class:`~complaintkit.classification.LabelDef`); this
module names the fixed vocabularies of the model so that every command can speak either
language (``--lang zh``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

import attrs

from .model import Channel, EscalationLevel, RemedyKind, Status

__all__ = [
    "CHANNEL_NAMES",
    "LEVEL_NAMES",
    "REMEDY_NAMES",
    "STATUS_NAMES",
    "Names",
    "name_of",
    "text_language",
]

#: A CJK ideograph (the basic block, extension A and the compatibility block).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def text_language(text: str) -> str:
    """``zh`` when Chinese characters make up at least a fifth of the text's letters (a
    letter: an ideograph or an ASCII letter), ``en`` otherwise: the one rule by which every
    figure given per language (``evaluate``, ``train``) counts a text.

    An English complaint that quotes a Chinese name stays English ("The shop on 王府井 was
    rude"), and a Chinese complaint that names "iPhone" or a "4S店" stays Chinese.
    """
    han = len(_HAN.findall(text))
    if not han:
        return "en"
    return "zh" if han * 5 >= han + len(_LATIN.findall(text)) else "en"


@attrs.frozen
class Names:
    """A name in both project languages."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        """The name in ``lang`` ("en" or "zh"); English for any other language."""
        return self.zh if lang == "zh" else self.en


STATUS_NAMES: dict[Status, Names] = {
    Status.RECEIVED: Names("received", "已受理"),
    Status.ACKNOWLEDGED: Names("acknowledged", "已确认"),
    Status.ASSESSED: Names("assessed", "已评估"),
    Status.INVESTIGATING: Names("investigating", "调查中"),
    Status.SOLUTION_PROPOSED: Names("solution proposed", "已提出方案"),
    Status.SOLUTION_ACCEPTED: Names("solution accepted", "客户已确认方案"),
    Status.IMPLEMENTING: Names("implementing", "实施中"),
    Status.RESOLVED: Names("resolved", "已解决"),
    Status.CLOSED: Names("closed", "已结案"),
    Status.REOPENED: Names("reopened", "已重新打开"),
    Status.WITHDRAWN: Names("withdrawn", "已撤回"),
    Status.REJECTED: Names("rejected", "不予受理"),
}

CHANNEL_NAMES: dict[Channel, Names] = {
    Channel.PHONE: Names("phone", "电话"),
    Channel.SMS: Names("SMS", "短信"),
    Channel.EMAIL: Names("e-mail", "电子邮件"),
    Channel.WEB: Names("web form", "网站"),
    Channel.IN_PERSON: Names("in person", "现场"),
    Channel.WECHAT: Names("WeChat", "微信"),
    Channel.LETTER: Names("letter", "信函"),
    Channel.SOCIAL_MEDIA: Names("social media", "社交媒体"),
    Channel.REFERRAL: Names("referral", "转介"),
    Channel.OTHER: Names("other", "其他"),
}

LEVEL_NAMES: dict[EscalationLevel, Names] = {
    EscalationLevel.FRONT_LINE: Names("front line", "一线"),
    EscalationLevel.DEPARTMENT: Names("department", "责任部门"),
    EscalationLevel.COMPLAINT_MANAGEMENT: Names("complaint management", "投诉管理部门"),
    EscalationLevel.LEADERSHIP: Names("leadership", "领导层"),
}

REMEDY_NAMES: dict[RemedyKind, Names] = {
    RemedyKind.REFUND: Names("refund", "退款"),
    RemedyKind.REPLACEMENT: Names("replacement", "换货"),
    RemedyKind.REPAIR: Names("repair", "维修"),
    RemedyKind.COUPON: Names("coupon", "优惠券"),
    RemedyKind.APOLOGY: Names("apology", "道歉"),
    RemedyKind.COMPENSATION: Names("compensation", "赔偿"),
    RemedyKind.EXPLANATION: Names("explanation", "解释说明"),
    RemedyKind.OTHER: Names("other", "其他"),
}

_TABLES: dict[type[enum.Enum], Mapping[Any, Names]] = {
    Status: STATUS_NAMES,
    Channel: CHANNEL_NAMES,
    EscalationLevel: LEVEL_NAMES,
    RemedyKind: REMEDY_NAMES,
}


def name_of(member: enum.Enum, lang: str) -> str:
    """The display name of a model enum member in ``lang``."""
    names = _TABLES.get(type(member), {}).get(member)
    return names.get(lang) if names else str(member.value)
