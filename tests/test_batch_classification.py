"""A scheme that is faster in batches (``BatchScheme``) is given many texts at once when the
desk classifies many complaints, with exactly the labels one by one would give."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from complaintkit import (
    BatchScheme,
    Classification,
    Desk,
    LabelDef,
    Names,
    SchemeSet,
    Store,
    ValidationError,
    hookimpl,
)
from complaintkit.testing import make_complaint


class Lengths:
    """Labels a text ``long`` or ``short``, counting how it was asked."""

    name = "length"
    names = Names(en="Length", zh="长度")
    labels = (
        LabelDef("short", Names(en="Short", zh="短")),
        LabelDef("long", Names(en="Long", zh="长")),
    )

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.singles = 0

    def _one(self, text: str) -> Classification | None:
        if "?" in text:
            return None
        return Classification("long" if len(text) > 40 else "short", 0.9, (text[:5],))

    def classify(self, text: str) -> Classification | None:
        self.singles += 1
        return self._one(text)

    def classify_many(self, texts: Sequence[str]) -> list[Classification | None]:
        self.batches.append(len(texts))
        return [self._one(text) for text in texts]


class Registers:
    def __init__(self, scheme: Lengths) -> None:
        self.scheme = scheme

    @hookimpl
    def register_classification_schemes(self, register: Any) -> None:
        register(self.scheme)


@pytest.fixture
def lengths(ck_register: Callable[..., str]) -> Lengths:
    scheme = Lengths()
    ck_register(Registers(scheme), "lengths")
    return scheme


def _text(i: int) -> str:
    return "short one" if i % 3 else f"a much longer complaint text about order {i} that ran late"


def test_it_is_a_batch_scheme_and_a_scheme_set_gives_it_all_texts_at_once() -> None:
    scheme = Lengths()
    assert isinstance(scheme, BatchScheme)
    texts = [_text(i) for i in range(10)] + ["why?"]
    together = SchemeSet([scheme]).classify_many(texts)
    assert scheme.batches == [11]
    assert scheme.singles == 0
    assert together == [[scheme._one(text)] for text in texts]
    assert together[-1] == [None]


def test_an_import_gives_the_scheme_batches_and_stores_the_one_by_one_labels(
    lengths: Lengths, ck_desk: Desk, ck_store: Store
) -> None:
    result = ck_desk.intake_many(make_complaint(f"B-{i}", text=_text(i)) for i in range(600))
    assert result.added == 600
    assert lengths.singles == 0
    assert lengths.batches == [256, 256, 88]
    stored = {c.reference: c for c in ck_store.find()}
    for i in (0, 1, 2, 3, 599):
        label = stored[f"B-{i}"].labels["length"]
        assert label.label == ("short" if i % 3 else "long")
        assert label.evidence == (_text(i)[:5],)
    # one received and one classify event, as one by one
    assert [e.action for e in stored["B-7"].history] == ["received", "classify"]


def test_classify_all_gives_batches_and_changes_what_one_by_one_would(
    lengths: Lengths, ck_desk: Desk, ck_store: Store
) -> None:
    ck_desk.intake_many(
        (make_complaint(f"C-{i}", text=_text(i)) for i in range(300)), classify=False
    )
    assert lengths.batches == []
    examined, changed = ck_desk.classify_many(schemes=["length"])
    assert (examined, changed) == (300, 300)
    assert lengths.batches == [256, 44]
    assert lengths.singles == 0
    one = ck_store.get("C-3")
    assert one.labels["length"].label == "long"
    lengths.batches.clear()
    preview = ck_desk.preview_classification(schemes=["length"])
    assert lengths.batches == [256, 44]
    assert (preview.examined, preview.changed) == (300, 0)


def test_a_bad_complaint_in_a_batch_stops_the_import_after_the_ones_before_it(
    lengths: Lengths, ck_desk: Desk, ck_store: Store
) -> None:
    complaints = [make_complaint(f"D-{i}", text=_text(i)) for i in range(10)]
    complaints[6] = make_complaint("D-6", text="   ")  # no text: refused
    with pytest.raises(ValidationError):
        ck_desk.intake_many(iter(complaints))
    # the six before it were prepared, classified together and handed to the store first
    assert lengths.batches == [6]
    assert ck_store.existing(f"D-{i}" for i in range(10)) <= {f"D-{i}" for i in range(6)}
