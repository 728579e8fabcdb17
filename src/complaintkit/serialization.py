"""The cattrs converters that turn model objects into plain data and back.

Two converters are built from the same ``configure_*`` functions:

* a *checking* converter for untrusted input (files, the CLI, plugins' data): it refuses unknown
  keys and reports every problem at once, as readable lines naming the field and what was expected;
* a *trusted* converter for data the store wrote itself: no detailed validation, so that loading a
  large store stays fast.

Plugins extend both through the ``configure_converter`` hook; the host builds them after plugins
load.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeVar

import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn
from cattrs.preconf.orjson import make_converter as make_orjson_converter

from .errors import ValidationError
from .model import (
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

__all__ = ["MODEL_CLASSES", "complaint_to_data", "make_converter", "structure_checked"]

T = TypeVar("T")

MODEL_CLASSES: tuple[type, ...] = (Party, Label, Remedy, Event, Complaint)


def _structure_datetime(value: Any, _type: type) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 date-time, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 date-time string, got {type(value).__name__}")
    if parsed.tzinfo is None:
        raise ValueError(f"date-time {value!r} has no time zone (add e.g. +08:00 or Z)")
    return parsed


def configure_datetimes(converter: cattrs.Converter) -> None:
    """ISO 8601 strings with an offset; a naive time is an error, never a silent guess."""
    converter.register_unstructure_hook(datetime, lambda dt: dt.isoformat())
    converter.register_structure_hook(datetime, _structure_datetime)


def configure_enums(converter: cattrs.Converter) -> None:
    """Enums travel as their plain values, so stored data is readable by any JSON or SQL tool."""
    for cls in (Status, Channel, EscalationLevel, RemedyKind):
        converter.register_unstructure_hook(cls, _enum_value)


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def configure_tuples(converter: cattrs.Converter) -> None:
    """Tuples travel as JSON arrays and come back as tuples."""
    converter.register_unstructure_hook(tuple, list)


def configure_strict_models(converter: cattrs.Converter, *, forbid_extra_keys: bool) -> None:
    """Model classes refuse unknown keys on the checking converter."""
    for cls in MODEL_CLASSES:
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=forbid_extra_keys),
        )


def make_converter(*, checking: bool = True) -> cattrs.Converter:
    """Build a converter for the model; ``checking`` selects the untrusted-input variant."""
    converter = make_orjson_converter(
        detailed_validation=checking, forbid_extra_keys=checking, prefer_attrib_converters=False
    )
    configure_datetimes(converter)
    configure_enums(converter)
    configure_tuples(converter)
    configure_strict_models(converter, forbid_extra_keys=checking)
    return converter


def structure_checked(converter: cattrs.Converter, data: Any, cls: type[T], where: str) -> T:
    """Structure untrusted ``data`` or raise :class:`ValidationError` listing every problem.

    ``where`` names the record for the user, e.g. ``"complaints.json, record 12"``.
    """
    try:
        return converter.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = cattrs.transform_error(exc, path="", format_exception=_describe)
        else:
            problems = [str(exc)]
        raise ValidationError(where, [_tidy(p) for p in problems]) from exc


def _describe(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ValueError) and not isinstance(exc, cattrs.BaseValidationError):
        name = getattr(type_, "__name__", None) or str(type_)
        detail = str(exc)
        if detail and not detail.startswith("invalid literal"):
            return f"{detail} (expected {name})"
    return cattrs.v.format_exception(exc, type_)


def _tidy(problem: str) -> str:
    # cattrs says "... @ $.complainant.email"; users read "field complainant.email: ...".
    if " @ " in problem:
        message, _, path = problem.rpartition(" @ ")
        path = path.removeprefix("$").lstrip(".") or "(record)"
        return f"field {path}: {message}"
    return problem


def _json_copy(value: Any) -> Any:
    """A detached copy of JSON data (custom fields, event data), made by orjson in C.

    Values JSON cannot hold raise TypeError naming the problem; orjson writes datetimes and
    enums the way the converter does (ISO 8601 strings, plain values).
    """
    if not value:
        return {}
    try:
        return orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:
        raise TypeError(str(exc)) from None


def _event_data(history: tuple[Event, ...]) -> list[dict[str, Any]]:
    """Detached copies of the events' data: one orjson round trip for the whole history."""
    if not history:
        return []
    if len(history) == 1:
        return [_json_copy(history[0].data)]
    copies: list[dict[str, Any]] = _json_copy([e.data for e in history])
    return copies


def complaint_to_data(c: Complaint) -> dict[str, Any]:
    """Plain JSON data for a complaint, equal to the converters' ``unstructure`` but several
    times faster; stores use it on their write path. ``tests/test_model.py`` checks the two
    agree. Custom fields and event data must be JSON data (strings, numbers, booleans, None,
    lists, string-keyed dicts); anything else raises TypeError.
    """
    p = c.complainant
    received = c.received_at.isoformat()
    # Events of one intake share a timestamp object; format each distinct one once.
    stamps: dict[int, str] = {}

    def stamp(at: datetime) -> str:
        key = id(at)
        found = stamps.get(key)
        if found is None:
            found = stamps[key] = at.isoformat()
        return found

    return {
        "reference": c.reference,
        "received_at": received,
        "text": c.text,
        "title": c.title,
        "channel": c.channel.value,
        "complainant": {
            "name": p.name,
            "phone": p.phone,
            "email": p.email,
            "customer_id": p.customer_id,
        },
        "product": c.product,
        "order": c.order,
        "remedy_sought": None if c.remedy_sought is None else c.remedy_sought.value,
        "labels": {
            key: {
                "scheme": lb.scheme,
                "label": lb.label,
                "confidence": lb.confidence,
                "evidence": list(lb.evidence),
                "classifier": lb.classifier,
            }
            for key, lb in c.labels.items()
        },
        "status": c.status.value,
        "escalation_level": c.escalation_level.value,
        "department": c.department,
        "assignee": c.assignee,
        "due_at": None if c.due_at is None else c.due_at.isoformat(),
        "alert_at": None if c.alert_at is None else c.alert_at.isoformat(),
        "sla_policy": c.sla_policy,
        "solution": c.solution,
        "remedies": [r.as_data() for r in c.remedies],
        "satisfaction": c.satisfaction,
        "parent": c.parent,
        "recomplaint_count": c.recomplaint_count,
        "tags": list(c.tags),
        "custom": _json_copy(c.custom),
        "history": [
            {
                "at": stamp(e.at),
                "actor": e.actor,
                "action": e.action,
                "reason": e.reason,
                "data": data,
                "digest": e.digest,
            }
            for e, data in zip(c.history, _event_data(c.history), strict=True)
        ],
        "version": c.version,
    }
