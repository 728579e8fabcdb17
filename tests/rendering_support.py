"""A store of real complaints for the rendering tests and docs/screenshots.py: tweets to US
airlines (every 4th of the data set, so the daily counts keep their shape, including the
weekend surge of 22–23 February 2015), some handled with remedies, plus one complaint whose
title holds markup (``<script>`` and ``&``) and is the earliest, so the 8D report lists it."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from complaintkit import Complaint, Config, Desk, Party, RemedyKind, make_host
from complaintkit.storage import ComplaintFilter
from complaintkit_importing import read_complaints

#: When the reports are made: the evening of the last day of the data set.
NOW = datetime(2015, 2, 24, 23, 0, tzinfo=UTC)
#: The title with markup that every format must show as written.
NASTY_TITLE = '<script>alert("x")</script> Lost bag & broken <b>seat</b>'
DEPARTMENTS = ("customer_service", "baggage", "flight_ops")
HANDLERS = ("li.na", "wang.qiang", "zhao.min", "chen.jie")
EARLY_WARNING = """
[early_warning]
dimensions = ["label:cause", "product"]
period = "day"
window = 8
baseline = 5
min_count = 5
"""


def config_for(url: str) -> Config:
    """The configuration the reports run with (UTC, a daily early warning over 8 days)."""
    return Config(store=url, data=tomllib.loads(EARLY_WARNING), timezone="UTC")


def build_store(tweets: Path, target: Path, *, every: int = 4) -> Desk:
    """Import every ``every``-th tweet of ``tweets`` into a TinyDB store at ``target`` and
    handle some of them; returns a desk on it (its clock at :data:`NOW`)."""
    host = make_host(config_for(f"tinydb://{target}"), env={})
    desk = Desk(host, host.open_store(), actor="tester", clock=lambda: NOW)
    with read_complaints(tweets, tz=UTC, on_reject=lambda row: None) as reader:
        # the airline-tweets preset takes the Twitter handle as the customer id
        found = list(itertools.islice(reader, 0, None, every))
    first = min(c.received_at for c in found)
    found.append(
        Complaint(
            reference="NASTY-1",
            received_at=first.replace(minute=0, second=0),
            title=NASTY_TITLE,
            text="My bag was lost & the seat was broken <again>.",
            product="United",
            complainant=Party(name="Tom & Jerry", customer_id="tom&jerry"),
        )
    )
    desk.intake_many(found)
    handle(desk, [c.reference for c in desk.find(ComplaintFilter(product="United"))][:90])
    return desk


def handle(
    desk: Desk, references: Sequence[str], *, apologies: bool = False, withdrawals: bool = False
) -> None:
    """Handle real complaints the same deterministic way: the i-th is assigned round-robin to
    a department and a handler; every 3rd is offered a refund, every 4th a coupon it accepts,
    every 6th is closed after the whole process with a score; with ``apologies`` every 5th is
    also offered an apology, with ``withdrawals`` every 7th not closed is withdrawn."""
    for i, ref in enumerate(references):
        desk.assign(ref, department=DEPARTMENTS[i % 3], assignee=HANDLERS[i % 4])
        if i % 3 == 0:
            desk.offer_remedy(ref, RemedyKind.REFUND, amount=50.0 + i, currency="USD")
        if i % 4 == 0:
            desk.offer_remedy(ref, RemedyKind.COUPON, amount=20.0, currency="USD")
            desk.accept_remedy(ref)
        if apologies and i % 5 == 0:
            desk.offer_remedy(ref, RemedyKind.APOLOGY)
        if i % 6 == 0:
            desk.transition(ref, "assess")
            desk.transition(ref, "propose", solution="Refund of the bag fee")
            desk.transition(ref, "accept")
            desk.transition(ref, "implement")
            desk.transition(ref, "resolve")
            desk.transition(ref, "close", satisfaction=1 + i % 5)
        elif withdrawals and i % 7 == 0:
            desk.transition(ref, "withdraw", reason="sorted out on the phone")
