"""Rows of the complaint tables back into complaints, or into their plain data, without
SQLAlchemy: shared by the store (:mod:`complaintkit_sql.store`) and the light reading path
(:mod:`complaintkit_sql.light`), so both decode every row the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from complaintkit.model import (
    Channel,
    Complaint,
    EscalationLevel,
    Event,
    Label,
    Party,
    Remedy,
    RemedyKind,
    Status,
)

__all__ = [
    "SCHEMA_VERSION",
    "_CHANNELS",
    "_COMPLAINT_FIELDS",
    "_EVENT_FIELDS",
    "_LABEL_FIELDS",
    "_LEVELS",
    "_REMEDY_KINDS",
    "_STATUSES",
    "_complaint",
    "_complaint_data",
    "_decoded",
    "_naive_utc",
    "_remedies",
]

#: The schema version this code reads and writes (see :mod:`complaintkit_sql.schema`): the
#: layout these functions decode.
SCHEMA_VERSION = 5

_STATUSES = {status.value: status for status in Status}
_CHANNELS = {channel.value: channel for channel in Channel}
_LEVELS = {int(level): level for level in EscalationLevel}


def _remedies(data: Sequence[Mapping[str, Any]]) -> tuple[Remedy, ...]:
    """The remedies from the JSON of the ``remedies`` column."""
    return tuple(
        Remedy(
            kind=RemedyKind(r["kind"]),
            amount=r.get("amount"),
            currency=r.get("currency"),
            description=r.get("description"),
            accepted=bool(r.get("accepted", False)),
            customer_loss=r.get("customer_loss"),
            complaint_cost=r.get("complaint_cost"),
            offered_by=r.get("offered_by"),
            approved_by=r.get("approved_by"),
            offered_at=(
                None if r.get("offered_at") is None else datetime.fromisoformat(r["offered_at"])
            ),
        )
        for r in data
    )


#: The label and event columns in the order the decoders unpack them (after the reference).
_LABEL_FIELDS = ("scheme", "label", "confidence", "evidence", "classifier")
_EVENT_FIELDS = ("at_utc", "at_offset", "actor", "action", "reason", "data", "digest")

#: The complaint columns in the order :func:`_complaint` unpacks them.
_COMPLAINT_FIELDS = (
    "reference",
    "received_utc",
    "received_offset",
    "text",
    "title",
    "channel",
    "complainant_name",
    "phone",
    "email",
    "customer_id",
    "product",
    "order_ref",
    "remedy_sought",
    "status",
    "escalation_level",
    "department",
    "assignee",
    "due_utc",
    "due_offset",
    "alert_utc",
    "alert_offset",
    "sla_policy",
    "solution",
    "remedies",
    "satisfaction",
    "parent",
    "recomplaint_count",
    "tags",
    "custom",
    "version",
)
_REMEDY_KINDS = {kind.value: kind for kind in RemedyKind}


def _complaint(
    values: Sequence[Any],
    labels: Sequence[Any],
    events: Sequence[Any],
    instant: Callable[[Any, int | None], datetime | None],
    json: Callable[[Any], Any],
) -> Complaint:
    """A complaint from its row's ``values`` (in :data:`_COMPLAINT_FIELDS` order), its labels
    as ``(scheme, label, confidence, evidence, classifier)`` and its events as ``(at_utc,
    at_offset, actor, action, reason, data, digest)`` (in history order), instants as
    ``instant`` reads them and JSON columns as ``json`` decodes them (see
    :meth:`SQLStore._read_columns`). Unpacked by position: a page builds thousands, and
    reading a row's columns by name costs more than building the complaint."""
    (
        reference,
        received_utc,
        received_offset,
        text,
        title,
        channel,
        complainant_name,
        phone,
        email,
        customer_id,
        product,
        order_ref,
        remedy_sought,
        status,
        escalation_level,
        department,
        assignee,
        due_utc,
        due_offset,
        alert_utc,
        alert_offset,
        sla_policy,
        solution,
        remedies,
        satisfaction,
        parent,
        recomplaint_count,
        tags,
        custom,
        version,
    ) = values
    received = instant(received_utc, received_offset)
    assert received is not None
    return Complaint(
        reference=reference,
        received_at=received,
        text=text,
        title=title,
        channel=_CHANNELS[channel],
        complainant=Party(name=complainant_name, phone=phone, email=email, customer_id=customer_id),
        product=product,
        order=order_ref,
        remedy_sought=None if remedy_sought is None else _REMEDY_KINDS[remedy_sought],
        labels={
            scheme: Label(scheme, label, confidence, tuple(json(evidence)), classifier)
            for scheme, label, confidence, evidence, classifier in labels
        },
        status=_STATUSES[status],
        escalation_level=_LEVELS[escalation_level],
        department=department,
        assignee=assignee,
        due_at=None if due_utc is None else instant(due_utc, due_offset),
        alert_at=None if alert_utc is None else instant(alert_utc, alert_offset),
        sla_policy=sla_policy,
        solution=solution,
        remedies=_remedies(json(remedies)),
        satisfaction=satisfaction,
        parent=parent,
        recomplaint_count=recomplaint_count,
        tags=tuple(json(tags)),
        custom=json(custom),
        history=tuple(
            Event(instant(at_utc, at_offset), actor, action, reason, json(data), digest)  # type: ignore[arg-type]
            for at_utc, at_offset, actor, action, reason, data, digest in events
        ),
        version=version,
    )


def _complaint_data(
    values: Sequence[Any],
    labels: Sequence[Any],
    events: Sequence[Any],
    instant: Callable[[Any, int | None], datetime | None],
    json: Callable[[Any], Any],
) -> dict[str, Any]:
    """What :func:`~complaintkit.serialization.complaint_to_data` gives for the complaint
    :func:`_complaint` builds from the same arguments, built without the model objects (and
    checked as their validators would: enum values, confidence, satisfaction)."""
    (
        reference,
        received_utc,
        received_offset,
        text,
        title,
        channel,
        complainant_name,
        phone,
        email,
        customer_id,
        product,
        order_ref,
        remedy_sought,
        status,
        escalation_level,
        department,
        assignee,
        due_utc,
        due_offset,
        alert_utc,
        alert_offset,
        sla_policy,
        solution,
        remedies,
        satisfaction,
        parent,
        recomplaint_count,
        tags,
        custom,
        version,
    ) = values
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        raise ValueError(f"satisfaction must be 1 to 5, got {satisfaction}")
    for *_, confidence, _evidence, _classifier in labels:
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    received = instant(received_utc, received_offset)
    assert received is not None
    # Events of one intake share an instant: format each distinct one once.
    stamps: dict[tuple[Any, int], str] = {}
    history = []
    for at_utc, at_offset, actor, action, reason, data, digest in events:
        stamp = stamps.get((at_utc, at_offset))
        if stamp is None:
            at = instant(at_utc, at_offset)
            assert at is not None  # at_utc is NOT NULL
            stamp = stamps[at_utc, at_offset] = at.isoformat()
        history.append(
            {
                "at": stamp,
                "actor": actor,
                "action": action,
                "reason": reason,
                "data": json(data),
                "digest": digest,
            }
        )
    return {
        "reference": reference,
        "received_at": received.isoformat(),
        "text": text,
        "title": title,
        "channel": _CHANNELS[channel].value,
        "complainant": {
            "name": complainant_name,
            "phone": phone,
            "email": email,
            "customer_id": customer_id,
        },
        "product": product,
        "order": order_ref,
        "remedy_sought": None if remedy_sought is None else _REMEDY_KINDS[remedy_sought].value,
        "labels": {
            scheme: {
                "scheme": scheme,
                "label": label,
                "confidence": confidence,
                "evidence": list(json(evidence)),
                "classifier": classifier,
            }
            for scheme, label, confidence, evidence, classifier in labels
        },
        "status": _STATUSES[status].value,
        "escalation_level": _LEVELS[escalation_level].value,
        "department": department,
        "assignee": assignee,
        "due_at": None if due_utc is None else instant(due_utc, due_offset).isoformat(),  # type: ignore[union-attr]
        "alert_at": None if alert_utc is None else instant(alert_utc, alert_offset).isoformat(),  # type: ignore[union-attr]
        "sla_policy": sla_policy,
        "solution": solution,
        "remedies": [r.as_data() for r in _remedies(json(remedies))],
        "satisfaction": satisfaction,
        "parent": parent,
        "recomplaint_count": recomplaint_count,
        "tags": list(json(tags)),
        "custom": json(custom),
        "history": history,
        "version": version,
    }


def _decoded(value: Any) -> Any:
    """A JSON column the driver already decoded."""
    return value


def _naive_utc(value: str | None) -> datetime | None:
    """An instant as SQLite stores it (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC) as a datetime."""
    return None if value is None else datetime.fromisoformat(value)
