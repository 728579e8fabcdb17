"""What the listings print as JSON: classification schemes, reporters, plugins, a sweep, the
SLA clocks of a complaint, an attachment.

The command line (``--format json``) and the HTTP API answer with these same records, so a
script moving from one to the other finds the same shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .attachments import Attachment
    from .desk import SweepResult
    from .host import PluginFailure, PluginHost
    from .reporting import Reporter
    from .sla import Clocks

__all__ = [
    "attachment_record",
    "clock_records",
    "plugin_records",
    "reporter_record",
    "scheme_records",
    "sweep_record",
]


def scheme_records(host: PluginHost) -> list[dict[str, Any]]:
    """Every classification scheme with its labels in English and Chinese (``schemes``)."""
    return [
        {
            "name": s.name,
            "en": s.names.en,
            "zh": s.names.zh,
            "plugin": host.owner("register_classification_schemes", s.name),
            "labels": [
                {
                    "name": lb.name,
                    "en": lb.names.en,
                    "zh": lb.names.zh,
                    "description": lb.description,
                }
                for lb in s.labels
            ],
        }
        for s in host.schemes().values()
    ]


def reporter_record(reporter: Reporter, lang: str) -> dict[str, Any]:
    """One report as ``report --list`` shows it: name, title in ``lang``, description and
    the options it declares (None: it takes any)."""
    from .reporting import reporter_options

    known = reporter_options(reporter)
    return {
        "name": reporter.name,
        "title": reporter.names.get(lang),
        "description": reporter.description,
        "options": dict(known) if known is not None else None,
    }


def plugin_records(
    host: PluginHost, failures: Iterable[PluginFailure] = ()
) -> list[dict[str, Any]]:
    """Every plugin (name, version, hooks, error None) and then every plugin that failed
    (``failures``: name, no version, no hooks, what went wrong)."""
    info: list[dict[str, Any]] = host.plugin_info()
    for item in info:
        item["error"] = None
    info += [
        {"name": f.plugin, "version": None, "hooks": [], "error": f"{f.stage}: {f.error}"}
        for f in failures
    ]
    return info


def sweep_record(result: SweepResult, lang: str) -> dict[str, Any]:
    """What a sweep did, with its notes in ``lang`` (``sweep --format json``)."""
    data = attrs.asdict(result, recurse=False)  # tuples come out as JSON arrays
    data["notes"] = [note.get(lang) for note in result.notes]
    return data


def clock_records(reference: str, clocks: Clocks) -> list[dict[str, Any]]:
    """A complaint's SLA clocks, one record per target (``clocks REF --format json``)."""
    return [
        {
            "reference": reference,
            "policy": clocks.policy,
            "calendar": clocks.calendar,
            "target": clock.target,
            "deadline": clock.deadline,
            "provisional": clock.provisional,
            "outcome": clock.outcome,
            "paused": clock.paused_since is not None,
            "left_seconds": None if clock.left is None else int(clock.left.total_seconds()),
            "met_at": clock.met_at,
            "gap": clock.gap,
        }
        for clock in clocks.targets
    ]


def attachment_record(attachment: Attachment) -> dict[str, Any]:
    """One attachment of a complaint as ``attachments REF --format json`` lists it: what the
    history records of it, and who added it when."""
    return {
        **attachment.as_data(),
        "added_at": attachment.added_at.isoformat(),
        "added_by": attachment.added_by,
    }
