"""Checking, sealing and anchoring the hash chains of a whole store, one complaint at a time.

Every function here reads the store through ``Store.find`` (which streams on every backend:
SQL reads pages, TinyDB builds each complaint as it is consumed), so only one complaint and the
findings are held at a time, never the whole store. The digest computation itself is the
core's (:mod:`complaintkit.audit`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from complaintkit.audit import ERASURE_START, first_break, head, is_sealed, reseal
from complaintkit.errors import ConfigError
from complaintkit.model import Complaint, Event

if TYPE_CHECKING:
    from complaintkit.storage import ComplaintFilter, Store

__all__ = [
    "KEPT",
    "SEALED_ACTION",
    "AnchorHead",
    "Finding",
    "SealResult",
    "Verification",
    "read_anchor",
    "seal_store",
    "verify_store",
    "write_heads",
]

#: How many findings of each kind a verification keeps to show (all are counted).
KEPT = 1000

#: The history action ``complaintkit audit seal`` appends to a history it sealed after the fact.
SEALED_ACTION = "audit_sealed"

#: Complaints written per batch by :func:`seal_store`.
SEAL_BATCH = 5000

Progress = Callable[[int], None]


@attrs.frozen
class Finding:
    """A complaint whose chain does not hold: the first broken link (event ``index``, its
    ``action``, the digest it should carry and the one it carries), or, for ``kind``
    ``"unsealed"``, a history with no digest at all, or for ``"anchor"`` a chain that no
    longer reaches the head kept in an anchor file (``detail`` says how)."""

    reference: str
    kind: str
    index: int | None = None
    action: str | None = None
    expected: str | None = None
    found: str | None = None
    detail: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The finding as JSON data (keys with no value left out)."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.define
class Verification:
    """What :func:`verify_store` found: counts, and the first :data:`KEPT` findings."""

    complaints: int = 0
    events: int = 0
    sealed_after_the_fact: int = 0
    erasures: int = 0
    broken_count: int = 0
    unsealed_count: int = 0
    anchor_count: int = 0
    anchored: int = 0
    rewritten_since_anchor: list[str] = attrs.field(factory=list)
    findings: list[Finding] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """True when every chain holds (and reaches its anchored head, if anchored)."""
        return not (self.broken_count or self.unsealed_count or self.anchor_count)

    def add(self, finding: Finding) -> None:
        """Count ``finding`` and keep it while fewer than :data:`KEPT` are kept."""
        if finding.kind == "broken":
            self.broken_count += 1
        elif finding.kind == "unsealed":
            self.unsealed_count += 1
        else:
            self.anchor_count += 1
        if len(self.findings) < KEPT:
            self.findings.append(finding)

    def as_data(self) -> dict[str, Any]:
        """The verification as JSON data."""
        return {
            "ok": self.ok,
            "complaints": self.complaints,
            "events": self.events,
            "broken": self.broken_count,
            "unsealed": self.unsealed_count,
            "anchor_mismatches": self.anchor_count,
            "anchored": self.anchored,
            "rewritten_since_anchor": self.rewritten_since_anchor,
            "sealed_after_the_fact": self.sealed_after_the_fact,
            "erasures": self.erasures,
            "findings": [f.as_data() for f in self.findings],
        }


@attrs.frozen
class AnchorHead:
    """One complaint's head as an anchor file kept it: its number of events and last digest."""

    events: int
    head: str | None


def verify_store(
    store: Store,
    flt: ComplaintFilter | None = None,
    *,
    anchor: dict[str, AnchorHead] | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Check the chain of every complaint of ``store`` matching ``flt``; with ``anchor``
    (reference → head, from :func:`read_anchor`), also that each anchored complaint's chain
    still passes through the head it had then (the entries found are taken out of
    ``anchor``; what is left names anchored complaints the store no longer has)."""
    result = Verification()
    for c in store.find(flt):
        result.complaints += 1
        result.events += len(c.history)
        _check(c, result)
        if anchor is not None:
            kept = anchor.pop(c.reference, None)
            if kept is not None:
                result.anchored += 1
                _check_anchor(c, kept, result)
        if progress is not None:
            progress(1)
    if anchor:
        # Anchored complaints the store no longer has (with a filter, only those it selects).
        for reference in sorted(anchor):
            if flt is None or not flt.references or reference in flt.references:
                result.add(Finding(reference, "anchor", detail="anchored, but not in the store"))
    return result


def _check(c: Complaint, result: Verification) -> None:
    history = c.history
    if not history:
        return
    if not is_sealed(history):
        result.add(Finding(c.reference, "unsealed", detail=f"{len(history)} events, no digest"))
        return
    broken = first_break(c.reference, history)
    if broken is not None:
        result.add(
            Finding(
                c.reference,
                "broken",
                index=broken.index,
                action=broken.action,
                expected=broken.expected,
                found=broken.found,
            )
        )
        return
    if any(e.action == SEALED_ACTION for e in history):
        result.sealed_after_the_fact += 1
    if any(ERASURE_START in e.data for e in history):
        result.erasures += 1


def _check_anchor(c: Complaint, kept: AnchorHead, result: Verification) -> None:
    n = kept.events
    history = c.history
    if n == 0:
        return
    if len(history) >= n and history[n - 1].digest == kept.head:
        return
    # An erasure since the anchor that re-sealed from an event at or before the anchored head
    # rewrote that head legitimately: it is listed (take a new anchor after erasures).
    for index in range(n, len(history)):
        start = history[index].data.get(ERASURE_START)
        if isinstance(start, int) and start < n:
            result.rewritten_since_anchor.append(c.reference)
            return
    if len(history) < n:
        detail = f"the anchor kept {n} events, the store has {len(history)}"
    else:
        detail = f"event {n - 1} no longer carries the anchored head {kept.head}"
    result.add(
        Finding(
            c.reference,
            "anchor",
            index=n - 1,
            action=history[n - 1].action if len(history) >= n else None,
            expected=kept.head,
            found=history[n - 1].digest if len(history) >= n else None,
            detail=detail,
        )
    )


@attrs.frozen
class SealResult:
    """What :func:`seal_store` did: complaints sealed, already sealed, skipped as damaged (a
    history with some digests: ``verify`` names its broken link), and version conflicts."""

    sealed: int
    already: int
    damaged: tuple[str, ...]
    conflicts: tuple[str, ...]


def seal_store(
    store: Store,
    *,
    actor: str,
    at: Callable[[], datetime],
    progress: Progress | None = None,
) -> SealResult:
    """Seal every history of ``store`` that has no digest at all (written before sealing
    existed): an ``audit_sealed`` event is appended, recording how many events were there
    unsealed, and the whole history is sealed from the complaint's genesis. Histories that are
    sealed are left alone; histories with only some digests are never sealed (that would
    launder a removed digest) and are listed."""
    sealed = already = 0
    damaged: list[str] = []
    conflicts: list[str] = []
    batch: list[Complaint] = []

    def flush() -> None:
        nonlocal sealed
        if batch:
            result = store.update_many(batch)
            sealed += len(result.updated)
            conflicts.extend(result.conflicts)
            batch.clear()

    for c in store.find():
        if progress is not None:
            progress(1)
        if not c.history or c.history[-1].digest is not None:
            already += 1
            continue
        if is_sealed(c.history):
            damaged.append(c.reference)
            continue
        mark = Event(
            at=at(),
            actor=actor,
            action=SEALED_ACTION,
            reason=(
                "history sealed after the fact: the events before this one were stored "
                "before complaintkit sealed histories"
            ),
            data={"unsealed_events": len(c.history)},
        )
        batch.append(attrs.evolve(c, history=reseal(c.reference, (*c.history, mark), 0)))
        if len(batch) >= SEAL_BATCH:
            flush()
    flush()
    return SealResult(sealed, already, tuple(damaged), tuple(conflicts))


def _head_line(reference: str, events: int, digest: str | None) -> bytes:
    return orjson.dumps({"reference": reference, "events": events, "head": digest}) + b"\n"


def heads(store: Store, progress: Progress | None = None) -> Iterator[bytes]:
    """One JSON line per complaint of ``store`` (reference, number of events, head), in
    ``find`` order."""
    for c in store.find():
        if progress is not None:
            progress(1)
        yield _head_line(c.reference, len(c.history), head(c.history))


def write_heads(
    store: Store, out: Path | None, progress: Progress | None = None
) -> tuple[int, str]:
    """The number of complaints and the digest over all their heads (SHA-256 of the lines
    :func:`heads` gives); the lines are written to ``out`` when given, with the digest as the
    file's last line, so a copy of that one line kept elsewhere vouches for the file."""
    total = hashlib.sha256()
    count = 0
    handle = out.open("wb") if out is not None else None
    try:
        for line in heads(store, progress):
            total.update(line)
            count += 1
            if handle is not None:
                handle.write(line)
        digest = total.hexdigest()
        if handle is not None:
            handle.write(orjson.dumps({"complaints": count, "digest": digest}) + b"\n")
    finally:
        if handle is not None:
            handle.close()
    return count, digest


def read_anchor(path: Path) -> tuple[dict[str, AnchorHead], str]:
    """The heads an anchor file (:func:`write_heads`) kept, and its digest; a file whose lines
    no longer hash to the digest on its last line is refused, naming the file."""
    total = hashlib.sha256()
    kept: dict[str, AnchorHead] = {}
    closing: dict[str, Any] | None = None
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if closing is not None:
                    raise ConfigError(f"{path}, line {number}: text after the closing digest")
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise ConfigError(f"{path}, line {number}: not JSON ({exc})") from None
                if isinstance(record, dict) and "digest" in record:
                    closing = record
                    continue
                if not (
                    isinstance(record, dict)
                    and isinstance(record.get("reference"), str)
                    and isinstance(record.get("events"), int)
                    and (record.get("head") is None or isinstance(record.get("head"), str))
                ):
                    raise ConfigError(f"{path}, line {number}: expected reference, events and head")
                total.update(line if line.endswith(b"\n") else line + b"\n")
                kept[record["reference"]] = AnchorHead(record["events"], record["head"])
    except OSError as exc:
        raise ConfigError(f"cannot read the anchor {path}: {exc.strerror}") from None
    if closing is None:
        raise ConfigError(f"{path}: no closing digest line; is it a file `audit head` wrote?")
    digest = total.hexdigest()
    if closing.get("digest") != digest or closing.get("complaints") != len(kept):
        raise ConfigError(
            f"{path}: its heads hash to {digest} ({len(kept)} complaints), not to the digest "
            f"on its last line ({closing.get('digest')}, {closing.get('complaints')}): the "
            "anchor file itself was changed"
        )
    return kept, digest
