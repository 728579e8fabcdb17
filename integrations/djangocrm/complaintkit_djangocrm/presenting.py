"""What the CRM's pages show of a complaintkit complaint: plain rows for the templates.

Statuses, channels, levels, schemes and labels carry both their English and Chinese names;
times are shown in the CRM's time zone (Django's ``TIME_ZONE``); the texts are the customer's
own words and are escaped by Django's templates like everything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from complaintkit import (
    ClassificationScheme,
    Complaint,
    Desk,
    Names,
    Party,
    label_names,
    name_of,
)
from complaintkit.lifecycle import allowed_actions, transition_for
from complaintkit.sla import OUTCOME_NAMES, TARGET_NAMES

from .texts import action_name

__all__ = [
    "both",
    "both_enum",
    "complaint_rows",
    "deadline_rows",
    "history_rows",
    "label_choices",
    "label_rows",
    "local",
    "next_actions",
    "party_text",
    "summary",
]


def both(names: Names) -> str:
    """``english · 中文`` (one name when they are the same)."""
    return names.en if names.en == names.zh else f"{names.en} · {names.zh}"


def both_enum(member: Any) -> str:
    """A model enum member's (status, channel, level, remedy) names as :func:`both` shows them."""
    return both(Names(name_of(member, "en"), name_of(member, "zh")))


def local(at: Any) -> str:
    """A timestamp in the CRM's time zone, to the minute; empty for None."""
    if at is None:
        return ""
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def party_text(party: Party) -> str:
    """The complainant in one line: name, phone, e-mail."""
    return ", ".join(v for v in (party.name, party.phone, party.email) if v)


def summary(c: Complaint) -> dict[str, str]:
    """What a list row shows of a complaint."""
    return {
        "title": c.title or c.text[:80],
        "status": both_enum(c.status),
        "status_key": c.status.value,
        "due_at": local(c.due_at),
        "complainant": party_text(c.complainant),
    }


def complaint_rows(c: Complaint, t: Mapping[str, str]) -> list[tuple[str, str]]:
    """The complaint's facts as (name, value) rows, empty values left out."""
    rows = [
        (t["reference"], c.reference),
        (t["status"], both_enum(c.status)),
        (t["level"], both_enum(c.escalation_level)),
        (t["received"], local(c.received_at)),
        (t["channel"], both_enum(c.channel)),
        (t["complainant"], party_text(c.complainant)),
        (t["customer_id"], c.complainant.customer_id or ""),
        (t["product"], c.product or ""),
        (t["order"], c.order or ""),
        (t["remedy_sought"], both_enum(c.remedy_sought) if c.remedy_sought else ""),
        (t["department"], c.department or ""),
        (t["assignee"], c.assignee or ""),
        (t["due_at"], local(c.due_at)),
        (t["sla_policy"], c.sla_policy or ""),
        (t["solution"], c.solution or ""),
        (t["satisfaction"], str(c.satisfaction) if c.satisfaction else ""),
    ]
    return [(k, v) for k, v in rows if v]


def deadline_rows(desk: Desk, c: Complaint) -> list[dict[str, str]]:
    """Each SLA target's clock: deadline, when it was met, and the verdict (none without a
    policy)."""
    clocks = desk.clocks(c)
    if clocks is None:
        return []
    return [
        {
            "target": both(TARGET_NAMES[t.target]) if t.target in TARGET_NAMES else t.target,
            "deadline": local(t.deadline) or (t.gap or ""),
            "met": local(t.met_at),
            "outcome": both(OUTCOME_NAMES[t.outcome]) if t.outcome in OUTCOME_NAMES else t.outcome,
        }
        for t in clocks.targets
    ]


def label_rows(c: Complaint, schemes: Mapping[str, ClassificationScheme]) -> list[dict[str, str]]:
    """The complaint's labels with their schemes' and their own names in both languages."""
    rows = []
    for scheme_name, label in c.labels.items():
        scheme = schemes.get(scheme_name)
        names = label_names(scheme, label.label)
        rows.append(
            {
                "scheme": both(scheme.names) if scheme else scheme_name,
                "label": both(names),
                "label_en": names.en,
                "label_zh": names.zh,
                "confidence": f"{label.confidence:.2f}",
                "evidence": ", ".join(label.evidence),
                "by": label.classifier,
            }
        )
    return rows


def label_choices(schemes: Mapping[str, ClassificationScheme]) -> list[tuple[str, str]]:
    """Every (``scheme:label``, display name) a person may set, scheme by scheme."""
    return [
        (f"{name}:{item.name}", f"{both(scheme.names)} — {both(item.names)}")
        for name, scheme in schemes.items()
        for item in scheme.labels
    ]


def next_actions(c: Complaint) -> list[dict[str, Any]]:
    """The lifecycle's actions allowed from the complaint's status, with what each needs."""
    found = []
    for action in allowed_actions(c):
        transition = transition_for(action)
        found.append(
            {
                "action": action,
                "name": action_name(action),
                "description": transition.description,
                "requires": list(transition.requires),
                "satisfaction": action == "close",
            }
        )
    return found


def _detail(data: Mapping[str, Any]) -> str:
    """A change in one line: ``from → to`` (a status), ``scheme: from → to`` per label."""
    if "from" in data and "to" in data:
        return f"{data['from']} → {data['to']}"
    moves = [
        f"{key}: {value.get('from') or '–'} → {value.get('to')}"
        for key, value in data.items()
        if isinstance(value, Mapping) and "to" in value
    ]
    return "; ".join(moves)


def history_rows(c: Complaint) -> list[dict[str, str]]:
    """The append-only history, oldest first."""
    rows = []
    for e in c.history:
        detail = _detail(e.data)
        rows.append(
            {
                "at": local(e.at),
                "actor": e.actor,
                "action": e.action,
                "reason": e.reason or "",
                "detail": detail,
            }
        )
    return rows
