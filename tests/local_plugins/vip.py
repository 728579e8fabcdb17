"""A local plugin loaded by the test suite through --plugins-dir.

It adds a classification scheme (``vip``), a CLI command (``vip-count``) and writes every
lifecycle hook call to the file named by ``VIP_PLUGIN_LOG`` (one JSON object per line).
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from complaintkit import ComplaintFilter, LabelDef, Names, hookimpl
from complaintkit_schemes.rules import KeywordRule, LabelRules, RuleScheme, RuleSet

VIP_RULES = RuleSet(
    name="vip",
    names=Names("Customer tier", "客户等级"),
    labels=(
        LabelRules(
            LabelDef("vip", Names("VIP customer", "VIP客户")),
            (KeywordRule("vip"), KeywordRule("platinum"), KeywordRule("会员"), KeywordRule("金卡")),
        ),
        LabelRules(LabelDef("regular", Names("Regular customer", "普通客户"))),
    ),
    default="regular",
)


@hookimpl
def register_classification_schemes(register: Any) -> None:
    register(RuleScheme(VIP_RULES))


@hookimpl
def register_commands(cli: click.Group) -> None:
    @cli.command("vip-count")
    @click.pass_obj
    def vip_count(app: Any) -> None:
        """How many complaints come from VIP customers."""
        count = app.store.count(ComplaintFilter(labels=(("vip", "vip"),)))
        click.echo(f"VIP complaints: {count}")


def _log(hook: str, **data: Any) -> None:
    path = os.environ.get("VIP_PLUGIN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"hook": hook, **data}, ensure_ascii=False) + "\n")


@hookimpl
def complaint_received(complaint: Any) -> None:
    _log("complaint_received", reference=complaint.reference)


@hookimpl
def complaint_classified(complaint: Any, label: Any, previous: Any) -> None:
    _log(
        "complaint_classified",
        reference=complaint.reference,
        scheme=label.scheme,
        to=label.label,
        previous=previous.label if previous else None,
    )


@hookimpl
def complaint_transitioned(complaint: Any, event: Any) -> None:
    _log("complaint_transitioned", reference=complaint.reference, action=event.action)


@hookimpl
def complaint_escalated(complaint: Any, event: Any) -> None:
    _log("complaint_escalated", reference=complaint.reference, to=event.data["to"])


@hookimpl
def complaint_closed(complaint: Any) -> None:
    _log("complaint_closed", reference=complaint.reference, satisfaction=complaint.satisfaction)
