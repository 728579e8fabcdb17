"""complaintkit.audit: the digest of an event, the chain, sealing and the erasure's re-seal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from complaintkit.audit import (
    ERASURE_START,
    Break,
    canonical,
    event_digest,
    first_break,
    genesis,
    is_sealed,
    reseal,
    seal,
    seal_rewrite,
)
from complaintkit.model import Event

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def events(n: int = 4) -> tuple[Event, ...]:
    return tuple(
        Event(T0 + timedelta(minutes=i), f"clerk-{i}", f"step-{i}", f"理由 {i}", {"i": i, "z": [i]})
        for i in range(n)
    )


def test_the_canonical_form_is_sorted_json_in_utc_without_the_digest() -> None:
    e = Event(T0, "张三", "received", None, {"b": 1, "a": {"d": 2, "c": 3}})
    assert (
        canonical(e)
        == (
            '{"action":"received","actor":"张三","at":"2026-03-01T01:00:00.000000Z",'
            '"data":{"a":{"c":3,"d":2},"b":1},"reason":null}'
        ).encode()
    )
    assert canonical(attrs.evolve(e, digest="x")) == canonical(e)
    # The same instant in another offset is the same event.
    assert canonical(attrs.evolve(e, at=T0.astimezone(UTC))) == canonical(e)


def test_the_genesis_ties_a_chain_to_its_complaint() -> None:
    history = seal("A-1", events())
    assert first_break("A-1", history) is None
    moved = first_break("A-2", history)
    assert moved == Break(0, "step-0", event_digest(history[0], genesis("A-2")), history[0].digest)


def test_seal_fills_only_the_trailing_events_without_a_digest() -> None:
    sealed = seal("A-1", events(3))
    assert seal("A-1", sealed) is sealed
    longer = seal("A-1", (*sealed, *events(5)[3:]))
    assert longer[:3] == sealed and first_break("A-1", longer) is None
    # A digest removed in the middle is never put back by a later seal.
    holed = (sealed[0], attrs.evolve(sealed[1], digest=None), sealed[2], events(4)[3])
    resealed = seal("A-1", holed)
    assert resealed[1].digest is None
    broken = first_break("A-1", resealed)
    assert broken is not None and (broken.index, broken.found) == (1, None)


def test_each_kind_of_edit_breaks_the_chain_at_the_edited_event() -> None:
    h = seal("A-1", events(5))
    edited = (*h[:2], attrs.evolve(h[2], reason="changed"), *h[3:])
    assert first_break("A-1", edited) == Break(
        2, "step-2", event_digest(edited[2], h[1].digest or ""), h[2].digest
    )
    deleted = (*h[:1], *h[2:])
    assert first_break("A-1", deleted) is not None
    assert first_break("A-1", deleted).index == 1  # type: ignore[union-attr]
    swapped = (h[0], h[2], h[1], *h[3:])
    assert first_break("A-1", swapped).index == 1  # type: ignore[union-attr]
    data_changed = (*h[:4], attrs.evolve(h[4], data={"i": 4, "z": [5]}))
    assert first_break("A-1", data_changed).index == 4  # type: ignore[union-attr]


def test_an_unsealed_history_is_told_apart() -> None:
    assert not is_sealed(events())
    assert is_sealed(()) and is_sealed(seal("A-1", events()))
    assert first_break("A-1", events()) == Break(
        0, "step-0", event_digest(events()[0], genesis("A-1")), None
    )


def test_reseal_refuses_to_chain_from_nothing() -> None:
    with pytest.raises(ValueError, match="event 0 has no digest"):
        reseal("A-1", events(), 1)
    with pytest.raises(ValueError, match="outside a history of 4 events"):
        reseal("A-1", events(), 5)


def test_an_erasure_reseals_from_the_first_rewritten_event_and_keeps_no_digest_of_the_old() -> None:
    before = seal("A-1", events(5))
    after = tuple(attrs.evolve(e, reason="[erased]") if e.reason == "理由 2" else e for e in before)
    erasure = Event(T0 + timedelta(days=1), "dpo", "person_erased", "request 17", {"fields": 1})
    history = seal_rewrite("A-1", before, after, erasure)
    assert first_break("A-1", history) is None
    assert history[:2] == before[:2]  # events before the rewrite keep their digests
    assert history[2].digest != before[2].digest and history[2].reason == "[erased]"
    closing = history[-1]
    assert closing.action == "person_erased"
    # no digest over the erased data is kept (guesses of it could be tested against one)
    assert closing.data == {"fields": 1, ERASURE_START: 2}
    assert not {e.digest for e in before[2:]} & {str(v) for e in history for v in e.data.values()}
    # Changing what the erasure recorded breaks the chain at the erasure event.
    forged = (*history[:-1], attrs.evolve(closing, data={**closing.data, ERASURE_START: 0}))
    assert first_break("A-1", forged).index == 5  # type: ignore[union-attr]


def test_an_erasure_of_an_unsealed_history_seals_it_whole() -> None:
    before = events(3)
    history = seal_rewrite("A-1", before, before, Event(T0, "dpo", "person_erased"))
    assert first_break("A-1", history) is None
    assert history[-1].data == {ERASURE_START: 0}
    with pytest.raises(ValueError, match="3 events before, 2 after"):
        seal_rewrite("A-1", before, before[:2], Event(T0, "dpo", "person_erased"))


def test_the_desk_writes_only_through_the_sealing_layer() -> None:
    # Sealing happens in one place (complaintkit.desk.sealing); a unit that called the store's
    # writing methods directly would store events without a digest, which `audit verify`
    # then reports as broken. Read through ``self.s.store``, write through ``self.s.writes``.
    import re
    from pathlib import Path

    import complaintkit.desk

    folder = Path(complaintkit.desk.__file__).parent
    direct = re.compile(r"\bstore\.(add|add_many|update|update_many|restore_many)\(")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(folder.glob("*.py"))
        if path.name != "sealing.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if direct.search(line)
    ]
    assert found == []
