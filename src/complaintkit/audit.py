"""The hash chain that makes a complaint's history tamper-evident.

Each :class:`~complaintkit.model.Event` carries a ``digest``: the SHA-256 (hex) of the digest
of the event before it, a newline, and the event's canonical form (:func:`canonical`: ``at`` in
UTC, ``actor``, ``action``, ``reason`` and ``data`` as JSON with sorted keys). The first event
chains from :func:`genesis`, a value fixed by the complaint's reference, so a history cannot be
moved to another complaint unnoticed. Changing, removing or reordering an event breaks the link
at that event; :func:`first_break` names it.

The desk seals every event it stores (:func:`seal`), so every writer gets it. The one
legitimate rewrite of past events is an erasure of personal data: :func:`seal_rewrite` re-seals
the history from the first rewritten event and appends the erasure event, which records the
head (last digest) the chain had before the rewrite. :func:`reseal` is the primitive under it.

What this detects and what it does not is in ``docs/audit.md``: anyone who can write the store
can also recompute every digest (there is no secret); only a head kept elsewhere
(``complaintkit audit head``) catches that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC

import attrs
import orjson

from .model import Event

__all__ = [
    "ERASURE_START",
    "Break",
    "canonical",
    "event_digest",
    "first_break",
    "genesis",
    "head",
    "is_sealed",
    "reseal",
    "seal",
    "seal_rewrite",
]

#: The version tag hashed into every genesis value; a new canonical form would change it.
_SCHEME = b"complaintkit-audit-v1"

#: The erasure event's ``data`` key holding the index of the first event re-sealed.
ERASURE_START = "resealed_from"


def genesis(reference: str) -> str:
    """The value the first event of complaint ``reference`` chains from."""
    return hashlib.sha256(_SCHEME + b"\0" + reference.encode("utf-8")).hexdigest()


def canonical(event: Event) -> bytes:
    """The bytes an event's digest covers: JSON with sorted keys of ``at`` (UTC, microseconds,
    ``Z``), ``actor``, ``action``, ``reason`` and ``data``; the digest itself is not included.

    ``data`` is encoded by orjson, as the stores encode it, so an event hashes the same before
    it is stored and after it is read back from any backend.
    """
    at = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps(
        {
            "action": event.action,
            "actor": event.actor,
            "at": at,
            "data": event.data,
            "reason": event.reason,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def event_digest(event: Event, previous: str) -> str:
    """The digest of ``event`` following an event whose digest is ``previous``."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(event)).hexdigest()


def head(history: Sequence[Event]) -> str | None:
    """The chain's head: the digest of the last event (None for an empty or unsealed one)."""
    return history[-1].digest if history else None


def is_sealed(history: Sequence[Event]) -> bool:
    """True when any event of ``history`` carries a digest (an empty history counts as sealed:
    there is nothing to seal)."""
    return not history or any(e.digest is not None for e in history)


def seal(reference: str, history: tuple[Event, ...]) -> tuple[Event, ...]:
    """``history`` with digests on the events at its end that have none (events just added).

    Only the trailing run of events without a digest is sealed, chained from the last event that
    has one (or from :func:`genesis` when none has), so sealing never repairs a digest removed
    from the middle of a chain. A history whose last event is sealed is returned as it is.
    """
    if not history or history[-1].digest is not None:
        return history
    start = len(history)
    while start > 0 and history[start - 1].digest is None:
        start -= 1
    return reseal(reference, history, start)


def reseal(reference: str, history: tuple[Event, ...], start: int) -> tuple[Event, ...]:
    """``history`` with the digests of events ``start`` onward computed anew, chained from the
    digest of event ``start - 1`` (or from :func:`genesis` when ``start`` is 0).

    This rewrites the chain: use it only through :func:`seal_rewrite` (an erasure, which
    records the head it replaces) or to seal events that have no digest yet.
    """
    if not 0 <= start <= len(history):
        raise ValueError(f"start {start} is outside a history of {len(history)} events")
    if start > 0 and history[start - 1].digest is None:
        raise ValueError(f"event {start - 1} has no digest to chain event {start} from")
    previous = genesis(reference) if start == 0 else history[start - 1].digest
    assert previous is not None
    events = list(history[:start])
    for event in history[start:]:
        digest = event_digest(event, previous)
        events.append(event if event.digest == digest else attrs.evolve(event, digest=digest))
        previous = digest
    return tuple(events)


def seal_rewrite(
    reference: str,
    before: Sequence[Event],
    after: Sequence[Event],
    erasure: Event,
) -> tuple[Event, ...]:
    """The history of an erasure: ``after`` (``before`` with personal data rewritten inside
    its events, same length and order) re-sealed from the first event that changed, followed
    by ``erasure``, whose ``data`` gains :data:`ERASURE_START` (the index re-sealed from).

    The chain stays whole (``first_break`` finds nothing), and the erasure is part of it.
    The head before the rewrite is deliberately *not* recorded: it is a digest over the erased
    data, against which guesses of that data (a phone number is about 10**9 of them) could be
    tested, so keeping it would keep the data in another form.
    """
    if len(after) != len(before):
        raise ValueError(
            f"an erasure rewrites events in place: {len(before)} events before, {len(after)} after"
        )
    start = next(
        (i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new),
        len(after),
    )
    if any(e.digest is None for e in before[:start]):
        start = 0  # nothing sealed to chain from: seal the whole rewritten history
    rewritten = tuple(attrs.evolve(e, digest=None) for e in after[start:])
    data = {**erasure.data, ERASURE_START: start}
    closing = attrs.evolve(erasure, data=data, digest=None)
    return reseal(reference, (*after[:start], *rewritten, closing), start)


@attrs.frozen
class Break:
    """The first link of a chain that does not hold: the event at ``index`` (its ``action``)
    should carry digest ``expected`` and carries ``found`` (None: no digest at all)."""

    index: int
    action: str
    expected: str
    found: str | None


def first_break(reference: str, history: Sequence[Event]) -> Break | None:
    """The first event of complaint ``reference`` whose digest does not follow from the events
    before it, or None when the whole chain holds.

    A history with no digest at all is reported as broken at event 0 (``found`` None); tell an
    unsealed history from a damaged one with :func:`is_sealed`.
    """
    previous = genesis(reference)
    for index, event in enumerate(history):
        expected = event_digest(event, previous)
        if event.digest != expected:
            return Break(index, event.action, expected, event.digest)
        previous = expected
    return None
