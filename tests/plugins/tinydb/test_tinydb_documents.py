"""Filtering and grouping raw documents gives exactly what the model's own semantics give.

The store filters and groups the stored JSON documents without building complaints; these
properties check that against ``ComplaintFilter.matches`` and ``storage.group_value``.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintkit.facts import facts_of
from complaintkit.model import Channel, Complaint, EscalationLevel, Label, Party, Status
from complaintkit.serialization import make_converter
from complaintkit.storage import ComplaintFilter, group_value
from complaintkit.testing import make_complaint
from complaintkit.testing.conformance import (
    SAMPLE_GROUP_KEYS,
    history_complaints,
    sample_complaints,
)
from complaintkit_tinydb.index import project
from complaintkit_tinydb.store import (
    document_facts,
    document_group_value,
    document_matcher,
    open_tinydb,
)

CONVERTER = make_converter(checking=False)
SCHEMES = ["severity", "cause"]
LABELS = ["high", "low"]
REFERENCES = [f"R-{n}" for n in range(6)]
# Keys with a default in the model: a hand-edited document may lack them.
OPTIONAL_KEYS = [
    "title",
    "channel",
    "labels",
    "status",
    "escalation_level",
    "department",
    "assignee",
    "product",
    "due_at",
    "alert_at",
]

zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=8)),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=45)),
    ]
)
# Years below 1000 included: strftime does not zero-pad them, the ISO string does.
times = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones)
near_times = st.datetimes(
    min_value=datetime(2025, 12, 31), max_value=datetime(2026, 1, 2), timezones=zones
)
words = st.text(alphabet="aAbB延误 ", max_size=5)
names = st.sampled_from(["logistics", "service", "alice", "P-1"])
TAGS = ["vip", "VIP", "双十一"]
CUSTOM_KEYS = ["region", "store_no", 'odd "key"']
custom_values = st.one_of(
    st.sampled_from(["华东", "12", "true", "2.5"]),
    st.sampled_from([12, 2.5, True, False, None]),
    st.just(["华东"]),
    st.just({"region": "华东"}),
)


@st.composite
def complaints(draw: st.DrawFn, reference: str | None = None) -> Complaint:
    schemes = draw(st.lists(st.sampled_from(SCHEMES), unique=True))
    complaint: Complaint = make_complaint(
        reference or draw(st.sampled_from(REFERENCES)),
        received_at=draw(st.one_of(times, near_times)),
        text=draw(words),
        title=draw(st.none() | words),
        channel=draw(st.sampled_from(list(Channel))),
        labels={s: Label(s, draw(st.sampled_from(LABELS))) for s in schemes},
        status=draw(st.sampled_from(list(Status))),
        escalation_level=draw(st.sampled_from(list(EscalationLevel))),
        department=draw(st.none() | names),
        assignee=draw(st.none() | names),
        product=draw(st.none() | names),
        due_at=draw(st.none() | times | near_times),
        complainant=Party(
            customer_id=draw(st.none() | st.just("C-1")),
            email=draw(st.none() | st.just("a@b.c")),
            phone=draw(st.none() | st.just("+1 555")),
        ),
        alert_at=draw(st.none() | times | near_times),
        tags=tuple(draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))),
        custom=draw(st.dictionaries(st.sampled_from(CUSTOM_KEYS), custom_values, max_size=3)),
    )
    return complaint


FILTER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "statuses": st.frozensets(st.sampled_from(list(Status)), min_size=1, max_size=6),
    "channels": st.frozensets(st.sampled_from(list(Channel)), min_size=1, max_size=5),
    "labels": st.lists(
        st.tuples(st.sampled_from([*SCHEMES, "other"]), st.sampled_from(LABELS)),
        min_size=1,
        max_size=2,
    ).map(tuple),
    "unclassified": st.sampled_from([*SCHEMES, "other"]),
    "department": names,
    "assignee": names,
    "product": names,
    "received_from": times | near_times,
    "received_until": times | near_times,
    "text": st.text(alphabet="aAbB延误 ", max_size=2),
    "min_escalation": st.sampled_from(list(EscalationLevel)),
    "open_only": st.booleans(),
    "references": st.frozensets(st.sampled_from(REFERENCES), min_size=1, max_size=3),
    "due_by": times | near_times,
    "complainant": st.sampled_from(["C-1", "a@b.c", "+1 555"]),
    "alert_by": times | near_times,
    "tags": st.frozensets(st.sampled_from(TAGS), min_size=1, max_size=2),
    "custom": st.lists(
        st.tuples(
            st.sampled_from(CUSTOM_KEYS), st.sampled_from(["华东", "12", "true", "2.5", "null"])
        ),
        min_size=1,
        max_size=2,
    ).map(tuple),
}


@st.composite
def filters(draw: st.DrawFn, fields: tuple[str, ...] = tuple(FILTER_FIELDS)) -> ComplaintFilter:
    """A filter setting one to three fields: more would rarely let anything through."""
    chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True))
    return ComplaintFilter(**{name: draw(FILTER_FIELDS[name]) for name in chosen})


def stored_document(complaint: Complaint, drop: set[str]) -> dict[str, Any]:
    """The document as it comes back from the file, without the keys in ``drop``."""
    doc: dict[str, Any] = orjson.loads(orjson.dumps(CONVERTER.unstructure(complaint)))
    for key in drop:
        del doc[key]
    return doc


@settings(max_examples=400)
@given(complaints(), filters(), st.sets(st.sampled_from(OPTIONAL_KEYS)))
@pytest.mark.heavy
def test_document_matcher_agrees_with_the_filter(
    complaint: Complaint, flt: ComplaintFilter, drop: set[str]
) -> None:
    doc = stored_document(complaint, drop)
    # What the store would load from this document (defaults for the dropped keys).
    loaded = CONVERTER.structure(doc, Complaint)
    assert document_matcher(flt)(doc) == flt.matches(loaded)


@settings(max_examples=400)
@given(
    complaints(),
    filters(tuple(name for name in FILTER_FIELDS if name not in ("text", "custom"))),
    st.sets(st.sampled_from(OPTIONAL_KEYS)),
)
@pytest.mark.heavy
def test_the_index_projection_answers_every_filter_but_text_and_custom(
    complaint: Complaint, flt: ComplaintFilter, drop: set[str]
) -> None:
    doc = stored_document(complaint, drop)
    loaded = CONVERTER.structure(doc, Complaint)
    projection = orjson.loads(orjson.dumps(project(doc)))  # as the index file gives it back
    assert document_matcher(flt)(projection) == flt.matches(loaded)
    for key in SAMPLE_GROUP_KEYS:
        assert document_group_value(projection, key) == group_value(loaded, key), key


@settings(max_examples=300)
@given(complaints(), st.sets(st.sampled_from(OPTIONAL_KEYS)))
@pytest.mark.heavy
def test_document_group_values_agree_with_group_value(complaint: Complaint, drop: set[str]) -> None:
    doc = stored_document(complaint, drop)
    loaded = CONVERTER.structure(doc, Complaint)
    for key in SAMPLE_GROUP_KEYS:
        assert document_group_value(doc, key) == group_value(loaded, key), key


# Keys facts are read from that a hand-edited document may also lack.
FACT_KEYS = [
    *OPTIONAL_KEYS,
    "complainant",
    "history",
    "remedies",
    "satisfaction",
    "parent",
    "recomplaint_count",
    "sla_policy",
]


@settings(max_examples=300)
@given(
    st.sampled_from([*sample_complaints(), *history_complaints()]),
    st.sets(st.sampled_from(FACT_KEYS)),
)
def test_document_facts_agree_with_facts_of(complaint: Complaint, drop: set[str]) -> None:
    doc = stored_document(complaint, drop)
    loaded = CONVERTER.structure(doc, Complaint)
    assert document_facts(doc) == facts_of(loaded)


@settings(max_examples=200)
@given(complaints(), st.sets(st.sampled_from(FACT_KEYS)))
@pytest.mark.heavy
def test_document_facts_of_generated_complaints(complaint: Complaint, drop: set[str]) -> None:
    doc = stored_document(complaint, drop)
    assert document_facts(doc) == facts_of(CONVERTER.structure(doc, Complaint))


def test_unknown_group_key_is_refused_like_group_value() -> None:
    doc = stored_document(make_complaint("Z-1"), set())
    with pytest.raises(ValueError, match="cannot group by 'colour'") as ours:
        document_group_value(doc, "colour")
    with pytest.raises(ValueError) as reference:
        group_value(make_complaint("Z-1"), "colour")
    assert str(ours.value) == str(reference.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 10**6), min_size=0, max_size=12, unique=True).flatmap(
        lambda numbers: st.tuples(*(complaints(f"N-{n}") for n in numbers))
    ),
    filters(tuple(name for name in FILTER_FIELDS if name != "references")),
    st.integers(0, 4),
    st.none() | st.integers(0, 5),
)
def test_store_queries_agree_with_the_model(
    samples: tuple[Complaint, ...], flt: ComplaintFilter, offset: int, limit: int | None
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"tinydb://{Path(folder) / 'c.json'}"
        with open_tinydb(url, {"fsync": False}) as store:
            store.add_many(samples)
            matching = sorted(
                (c for c in samples if flt.matches(c)), key=lambda c: (c.received_at, c.reference)
            )
            end = None if limit is None else offset + limit
            got = [c.reference for c in store.find(flt, offset=offset, limit=limit)]
            assert got == [c.reference for c in matching[offset:end]]
            assert store.count(flt) == len(matching)
            for key in ("month", "label:severity", "escalation_level"):
                assert store.count_by(key, flt) == dict(
                    Counter(group_value(c, key) for c in matching)
                )
        # A store that did not write the file answers from its index (when there is one).
        with open_tinydb(url, {"fsync": False}) as reader:
            got = [c.reference for c in reader.find(flt, offset=offset, limit=limit)]
            assert got == [c.reference for c in matching[offset:end]]
            assert reader.count(flt) == len(matching)
            assert reader.count_by("label:severity", flt) == dict(
                Counter(group_value(c, "label:severity") for c in matching)
            )
