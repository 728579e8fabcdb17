"""The request bodies (pydantic models: unknown fields refused) and the JSON schemas of the
responses, as the OpenAPI description states them.

Response bodies are the records the command line prints with ``--format json`` (a complaint
is ``host.converter().unstructure(host.mask(complaint))``, as ``show --format json``); their
schemas here describe those records, they do not make another shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from complaintkit.model import Channel, RemedyKind

__all__ = [
    "AssignBody",
    "BatchBody",
    "CLOCK_SCHEMA",
    "ClassifyBody",
    "EscalateBody",
    "PauseBody",
    "RespondBody",
    "ResumeBody",
    "ReviewDecisionsBody",
    "ATTACHMENT_SCHEMA",
    "COMPLAINT_SCHEMA",
    "EditBody",
    "IntakeBody",
    "LabelBody",
    "MergeBody",
    "NOTE_SCHEMA",
    "NoteBody",
    "PROBLEM_SCHEMA",
    "RemedyBody",
    "SatisfactionBody",
    "SweepBody",
    "TokenBody",
    "TransitionBody",
]

Text = Annotated[str, Field(max_length=100_000)]
Flag = Annotated[bool, Strict()]


def _iso_text(value: object) -> object:
    if not isinstance(value, str | datetime):
        raise ValueError("expected a date-time as ISO 8601 text, e.g. 2026-11-23T09:00:00+08:00")
    return value


When = Annotated[datetime, BeforeValidator(_iso_text)]
Score = Annotated[int, Strict(), Field(ge=1, le=5)]
Amount = Annotated[float, Strict(), Field(ge=0, le=1e12)]
Short = Annotated[str, Field(max_length=255)]


class _Body(BaseModel):
    # Unknown fields are refused; NaN and infinities are not numbers. Flags and numbers are
    # strict (below): 0 is not false and "3" is not 3.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class IntakeBody(_Body):
    """One new complaint: the options of ``complaintkit add``."""

    text: Annotated[str, Field(max_length=100_000, pattern=r"\S")] = Field(
        description="What the customer said (not blank)."
    )
    title: Text | None = None
    channel: Channel = Channel.OTHER
    name: Short | None = Field(None, description="Complainant's name.")
    phone: Short | None = None
    email: Short | None = None
    customer_id: Short | None = Field(None, description="Complainant's id in the CRM.")
    product: Short | None = None
    order: Short | None = None
    remedy: RemedyKind | None = Field(None, description="What the customer asks for.")
    reference: Short | None = Field(None, description="Default: a new CK-… reference.")
    received_at: When | None = Field(None, description="Default: now. With a time zone.")
    tags: list[Short] = Field(default_factory=list, max_length=100)
    fields: dict[Short, Text] = Field(
        default_factory=dict, description="Custom fields.", max_length=100
    )
    classify: Flag = True


class BatchBody(_Body):
    """Many new complaints at once (``complaintkit import``)."""

    complaints: list[IntakeBody] = Field(min_length=1)
    classify: Flag = True


class TransitionBody(_Body):
    """``complaintkit transition``: an action and what it needs."""

    action: Short = Field(description="acknowledge, assess, investigate, propose, accept, …")
    reason: Text | None = None
    solution: Text | None = None
    satisfaction: Score | None = None


class AssignBody(_Body):
    """``complaintkit assign``."""

    department: Short | None = None
    assignee: Short | None = None
    reason: Text | None = None


class LabelBody(_Body):
    """``complaintkit label``: the label in the path's scheme, set by hand."""

    label: Short
    reason: Text | None = None


class RemedyBody(_Body):
    """``complaintkit remedy``: a remedy offered, within the token role's approval limit."""

    kind: RemedyKind
    amount: Amount | None = None
    currency: Short | None = None
    description: Text | None = None
    customer_loss: Amount | None = None
    complaint_cost: Amount | None = None


class SatisfactionBody(_Body):
    """``complaintkit satisfaction``."""

    score: Score


class EditBody(_Body):
    """``complaintkit edit``: new values, values removed, tags added or removed, and why.

    The values are checked by the desk (:meth:`Desk.edit <complaintkit.desk.Desk.edit>`): an
    unknown field, a value of the wrong type or an invalid one is refused (422) naming the
    field, with the words of the command line.
    """

    set: dict[Annotated[str, Field(max_length=255)], Any] = Field(
        default_factory=dict,
        max_length=100,
        description="FIELD: new value. Fields: name, phone, email, customer_id, product, "
        "order, title, channel, tags (a list: replaces them all), custom.KEY (any JSON value).",
    )
    unset: list[Short] = Field(
        default_factory=list, max_length=100, description="Fields whose value is removed."
    )
    add_tags: list[Short] = Field(default_factory=list, max_length=100)
    remove_tags: list[Short] = Field(default_factory=list, max_length=100)
    reason: Annotated[str, Field(max_length=10_000, pattern=r"\S")] = Field(
        description="Why the fields are changed (recorded; not blank)."
    )


class NoteBody(_Body):
    """``complaintkit note``: an internal note, never sent to the customer."""

    text: Annotated[str, Field(max_length=100_000, pattern=r"\S")]


class MergeBody(_Body):
    """``complaintkit merge KEEP DUPLICATE``: the path names the complaint kept."""

    duplicate: Short = Field(description="The complaint merged into this one (it is rejected).")
    reason: Annotated[str, Field(max_length=10_000, pattern=r"\S")] = Field(
        description="Why they are the same case (recorded on both)."
    )


Reason = Annotated[str, Field(max_length=10_000, pattern=r"\S")]


class EscalateBody(_Body):
    """``complaintkit escalate``: a higher level (default: the next) and why."""

    to: Annotated[
        str | None,
        Field(
            max_length=255,
            description="front_line, department, complaint_management or leadership (the "
            "English or Chinese name is understood too); default: the next level.",
        ),
    ] = None
    reason: Reason = Field(description="Why it is escalated (recorded; not blank).")


class PauseBody(_Body):
    """``complaintkit pause``: what we are waiting for from the customer."""

    reason: Reason = Field(description="What we are waiting for (recorded; not blank).")


class ResumeBody(_Body):
    """``complaintkit resume``."""

    reason: Text | None = Field(None, description="Why the clocks run again.")


class RespondBody(_Body):
    """``complaintkit respond``: the response given to the complainant."""

    message: Annotated[str, Field(max_length=100_000, pattern=r"\S")]


class ClassifyBody(_Body):
    """``complaintkit classify REF``: classify one complaint again."""

    schemes: list[Short] = Field(
        default_factory=list, max_length=100, description="Only these schemes (default: all)."
    )
    force: Flag = Field(False, description="Also replace labels that were set by hand.")


class ReviewDecision(_Body):
    """One decision of ``complaintkit review --decisions FILE``: the label a person chose."""

    reference: Short
    scheme: Short = Field(description="By key or English or Chinese name.")
    label: Short = Field(description="By key or English or Chinese name.")
    note: Text | None = Field(None, description="Recorded with this decision.")


class ReviewDecisionsBody(_Body):
    """``complaintkit review --decisions FILE``: the rows of the file, and ``--note``."""

    decisions: list[ReviewDecision] = Field(min_length=1)
    note: Text | None = Field(None, description="Recorded with every decision.")


class SweepBody(_Body):
    """``complaintkit sweep``."""

    now: When | None = Field(None, description="Pretend it is this instant (with a zone).")
    dry_run: Flag = False
    allow_future: Flag = False


class TokenBody(_Body):
    """``complaintkit token create``."""

    name: Short
    role: Short = Field(description="agent, supervisor or admin")


ATTACHMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An attachment as `complaintkit attachments --format json` lists it "
    "(`attach --format json` adds the reference; added_at and added_by are in listings).",
    "required": ["name", "size", "sha256", "type"],
    "properties": {
        "reference": {"type": "string"},
        "name": {"type": "string"},
        "size": {"type": "integer"},
        "sha256": {"type": "string"},
        "type": {"type": "string"},
        "added_at": {"type": "string"},
        "added_by": {"type": "string"},
    },
}

NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An internal note: a `note` event of the history (data.text; a note "
    "carried over by a merge also has data.author, data.written_at and data.merged_from).",
    "required": ["at", "actor", "action", "data"],
    "properties": {
        "at": {"type": "string"},
        "actor": {"type": "string"},
        "action": {"type": "string"},
        "data": {"type": "object"},
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; detail has the words of the command line.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}

_NULLABLE_STRING = {"type": ["string", "null"]}

COMPLAINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A complaint as `complaintkit show --format json` prints it (personal "
    "data masked).",
    "required": [
        "reference",
        "received_at",
        "text",
        "channel",
        "complainant",
        "labels",
        "status",
        "escalation_level",
        "remedies",
        "tags",
        "custom",
        "history",
        "version",
    ],
    "properties": {
        "reference": {"type": "string"},
        "received_at": {"type": "string"},
        "text": {"type": "string"},
        "title": _NULLABLE_STRING,
        "channel": {"type": "string"},
        "complainant": {"type": "object"},
        "product": _NULLABLE_STRING,
        "order": _NULLABLE_STRING,
        "remedy_sought": _NULLABLE_STRING,
        "labels": {"type": "object"},
        "status": {"type": "string"},
        "escalation_level": {"type": "integer"},
        "department": _NULLABLE_STRING,
        "assignee": _NULLABLE_STRING,
        "due_at": _NULLABLE_STRING,
        "alert_at": _NULLABLE_STRING,
        "sla_policy": _NULLABLE_STRING,
        "solution": _NULLABLE_STRING,
        "remedies": {"type": "array", "items": {"type": "object"}},
        "satisfaction": {"type": ["integer", "null"]},
        "parent": _NULLABLE_STRING,
        "recomplaint_count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "custom": {"type": "object"},
        "history": {"type": "array", "items": {"type": "object"}},
        "version": {"type": "integer"},
    },
}


#: One SLA target's clock (``complaintkit clocks REF --format json``).
CLOCK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reference": {"type": "string"},
        "policy": {"type": "string"},
        "calendar": {"type": "string"},
        "target": {"type": "string"},
        "deadline": {"type": ["string", "null"], "format": "date-time"},
        "provisional": {"type": "boolean"},
        "outcome": {"type": "string"},
        "paused": {"type": "boolean"},
        "left_seconds": {"type": ["integer", "null"]},
        "met_at": {"type": ["string", "null"], "format": "date-time"},
        "gap": {"type": ["string", "null"]},
    },
    "required": [
        "reference",
        "policy",
        "calendar",
        "target",
        "deadline",
        "provisional",
        "outcome",
        "paused",
        "left_seconds",
        "met_at",
        "gap",
    ],
}


#: One label due for review (``complaintkit review --format json``).
REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reference": {"type": "string"},
        "scheme": {"type": "string"},
        "label": {"type": ["string", "null"]},
        "confidence": {"type": ["number", "null"]},
        "classifier": {"type": ["string", "null"]},
        "evidence": {"type": "array", "items": {"type": "string"}},
        "text": {"type": "string"},
    },
    "required": ["reference", "scheme", "label", "confidence", "classifier", "evidence", "text"],
}
