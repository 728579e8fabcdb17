"""The index beside the TinyDB store's file: reads and small writes through it, and every way it
can be out of date (then the file is parsed, as without it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from tinydb import TinyDB

from complaintkit.errors import ConflictError, DuplicateComplaintError, NotFoundError
from complaintkit.facts import FACT_FIELDS, facts_of, iter_fact_columns, label_summaries_of
from complaintkit.model import Channel, Complaint, Event, Label, Status
from complaintkit.storage import ComplaintFilter, SortOrder
from complaintkit.testing import make_complaint
from complaintkit.testing.conformance import (
    SAMPLE_FILTERS,
    history_complaints,
    rich_complaint,
    sample_complaints,
)
from complaintkit_tinydb.index import index_path
from complaintkit_tinydb.store import TinyDBStore, open_tinydb

Opener = Callable[[], TinyDBStore]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "complaints.json"


@pytest.fixture
def open_store(path: Path) -> Iterator[Opener]:
    opened: list[TinyDBStore] = []

    def open_() -> TinyDBStore:
        store = open_tinydb(f"tinydb://{path}", {"fsync": False})
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


def complaints(count: int) -> list[Complaint]:
    return [
        make_complaint(
            f"I-{number:03d}",
            text=f"complaint {number}",
            channel=Channel.WEB if number % 2 else Channel.PHONE,
            status=Status.ACKNOWLEDGED if number % 3 == 0 else Status.RECEIVED,
            labels={"severity": Label("severity", "serious" if number % 4 else "general")},
        )
        for number in range(count)
    ]


def parsed(store: TinyDBStore) -> bool:
    """Whether the store has parsed its file (rather than only its index) since it opened."""
    return store.storage.parses > 0


def test_the_file_is_plain_tinydb_json_with_each_document_where_the_index_says(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(30))
    raw = path.read_bytes()
    data = orjson.loads(raw)
    assert orjson.dumps(data) == raw  # written from the pieces, byte for byte one encoding
    columns = orjson.loads(index_path(path).read_bytes().split(b"\n")[1])
    for number, doc_id in enumerate(columns["ids"]):
        offset, length = columns["spans"][2 * number : 2 * number + 2]
        assert orjson.loads(raw[offset : offset + length]) == data["complaints"][doc_id]


def test_a_reader_answers_from_the_index_without_parsing_the_file(open_store: Opener) -> None:
    writer = open_store()
    writer.add_many(complaints(40))
    reader = open_store()
    web = ComplaintFilter(channels=frozenset({Channel.WEB}))
    assert reader.get("I-007") == writer.get("I-007")
    assert [c.reference for c in reader.find(limit=3)] == ["I-000", "I-001", "I-002"]
    newest = reader.find_sorted(None, SortOrder("received_at", descending=True), limit=2)
    assert [c.reference for c in newest] == ["I-039", "I-038"]
    by_status = reader.find_sorted(web, SortOrder("status"), limit=40)
    assert [c.reference for c in by_status] == [
        c.reference for c in writer.find_sorted(web, SortOrder("status"))
    ]
    assert reader.count(web) == 20
    assert reader.count_by("label:severity") == {"serious": 30, "general": 10}
    assert reader.existing({"I-001", "nope"}) == {"I-001"}
    assert len(reader) == 40
    with pytest.raises(NotFoundError):
        reader.get("nope")
    # Without a limit, a filter selecting few (as the sweep's) reads those few.
    few = ComplaintFilter(references=frozenset({"I-002", "I-001"}))
    assert [c.reference for c in reader.find(few)] == ["I-001", "I-002"]
    assert not parsed(reader)
    # A text search needs the texts: the file is parsed, and the answer is the same.
    assert reader.count(ComplaintFilter(text="complaint 3")) == 11
    assert parsed(reader)


def test_listing_everything_parses_the_file_once(open_store: Opener) -> None:
    open_store().add_many(complaints(40))
    reader = open_store()
    assert len(list(reader.find())) == 40
    assert len(list(reader.find(ComplaintFilter(channels=frozenset({Channel.WEB}))))) == 20
    assert reader.storage.parses == 1


def test_plugin_data_is_read_from_the_index(open_store: Opener) -> None:
    writer = open_store()
    writer.add(make_complaint("I-1"))
    writer.plugin_data().put("bench", "key", {"value": [1, 2]})
    reader = open_store()
    assert reader.plugin_data().get("bench", "key") == {"value": [1, 2]}
    assert reader.plugin_data().items("bench") == [("key", {"value": [1, 2]})]
    assert not parsed(reader)


def test_one_update_is_spliced_into_the_file_without_parsing_it(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(20))
    store = open_store()
    changed = store.update(attrs.evolve(store.get("I-005"), assignee="alice"))
    added = store.add(make_complaint("I-100", text="新的投诉"))
    assert not parsed(store)
    assert store.storage.writes == 2
    raw = path.read_bytes()
    assert orjson.dumps(orjson.loads(raw)) == raw  # still the one encoding of the data
    with TinyDB(path, access_mode="r") as db:  # stock TinyDB reads the result
        stored = {doc["reference"]: doc for doc in db.table("complaints").all()}
    assert stored["I-005"]["assignee"] == "alice"
    assert stored["I-100"]["text"] == "新的投诉"
    reader = open_store()
    assert reader.get("I-005") == changed
    assert reader.get("I-100") == added
    assert reader.count() == 21
    assert not parsed(reader)


def test_spliced_writes_check_versions_and_references_like_the_others(
    open_store: Opener,
) -> None:
    open_store().add_many(complaints(5))
    store = open_store()
    current = store.get("I-001")
    store.update(attrs.evolve(current, assignee="first"))
    with pytest.raises(ConflictError):
        store.update(attrs.evolve(current, assignee="second"))
    with pytest.raises(DuplicateComplaintError):
        store.add(make_complaint("I-002"))
    with pytest.raises(NotFoundError):
        store.update(make_complaint("nope"))
    result = store.update_many(
        [attrs.evolve(store.get("I-003"), assignee="x"), attrs.evolve(current, assignee="y")]
    )
    assert [c.reference for c in result.updated] == ["I-003"]
    assert result.conflicts == ("I-001",)
    assert store.get("I-001").assignee == "first"
    assert not parsed(store)


def test_an_index_of_an_older_file_is_not_used(path: Path, open_store: Opener) -> None:
    first = open_store()
    first.add_many(complaints(10))
    old_index = index_path(path).read_bytes()
    first.update(attrs.evolve(first.get("I-004"), assignee="new"))
    # As after a crash between writing the file and its index, or a write by an older
    # complaintkit that kept the previous index.
    index_path(path).write_bytes(old_index)
    reader = open_store()
    assert reader.get("I-004").assignee == "new"
    assert parsed(reader)
    # The next write indexes the file again.
    reader.update(attrs.evolve(reader.get("I-004"), assignee="newer"))
    fresh = open_store()
    assert fresh.get("I-004").assignee == "newer"
    assert not parsed(fresh)


@pytest.mark.parametrize("damage", [b"", b"not json", b'{"format": 1}\n[]'])
def test_a_missing_or_torn_index_costs_only_a_parse(
    path: Path, open_store: Opener, damage: bytes
) -> None:
    open_store().add_many(complaints(10))
    if damage:
        index_path(path).write_bytes(damage)
    else:
        index_path(path).unlink()
    reader = open_store()
    assert [c.reference for c in reader.find(limit=2)] == ["I-000", "I-001"]
    assert reader.count() == 10
    assert parsed(reader)


def test_an_index_naming_the_file_but_with_broken_columns_costs_only_a_parse(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(10))
    head, _, projections, records = index_path(path).read_bytes().split(b"\n")
    index_path(path).write_bytes(b"\n".join([head, b'{"ids": ["1"]}', projections, records]))
    reader = open_store()
    assert not parsed(reader)  # opening reads only the first line, which is current
    assert reader.get("I-004").text == "complaint 4"
    assert reader.count() == 10
    assert parsed(reader)


def test_a_document_not_where_the_index_says_is_read_from_the_parsed_file(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(10))
    # Rewrite one reference in place, same length, same modification time: the signature
    # cannot tell, the check of each document read through the index does.
    before = os.stat(path)
    raw = path.read_bytes()
    assert raw.count(b'"I-003"') == 1
    path.write_bytes(raw.replace(b'"I-003"', b'"X-003"'))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    reader = open_store()
    with pytest.raises(NotFoundError):  # found by the index, refused by the check, not parsed
        reader.get("I-003")
    assert parsed(reader)
    assert reader.get("X-003").text == "complaint 3"


def test_a_hand_edited_file_is_parsed_and_indexed_at_the_next_write(
    path: Path, open_store: Opener
) -> None:
    open_store().add_many(complaints(3))
    data = orjson.loads(path.read_bytes())
    data["complaints"]["2"]["assignee"] = "by hand"
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    reader = open_store()
    assert reader.get("I-001").assignee == "by hand"
    assert parsed(reader)
    reader.add(make_complaint("I-999"))
    fresh = open_store()
    assert fresh.get("I-001").assignee == "by hand"
    assert fresh.count() == 4
    assert not parsed(fresh)


def sample_store(open_store: Opener) -> list[Complaint]:
    """The conformance suite's complaints (rich histories, remedies, labels) in the store."""
    complaints = [*sample_complaints(), *history_complaints(), rich_complaint()]
    open_store().add_many(complaints)
    return complaints


def expected_reads(complaints: list[Complaint], flt: ComplaintFilter | None) -> tuple[Any, Any]:
    """The reference definitions over the complaints as given: facts and label summaries."""
    chosen = sorted(
        (c for c in complaints if flt is None or flt.matches(c)),
        key=lambda c: (c.received_at, c.reference),
    )
    return [facts_of(c) for c in chosen], [label_summaries_of(c) for c in chosen]


@pytest.mark.parametrize("name", ["everything", *sorted(SAMPLE_FILTERS)])
def test_facts_and_labels_are_read_from_the_index_as_the_definitions_give_them(
    open_store: Opener, name: str
) -> None:
    complaints = sample_store(open_store)
    flt = None if name == "everything" else SAMPLE_FILTERS[name]
    facts, labels = expected_reads(complaints, flt)
    reader = open_store()
    assert list(reader.facts(flt)) == facts
    for fields in (
        *((field,) for field in FACT_FIELDS),
        ("label:cause", "remedies", "label:nonesuch", "status"),
        tuple(reversed(FACT_FIELDS)),
    ):
        assert list(iter_fact_columns(reader, flt, fields)) == [
            tuple(
                f.label(field[6:]) if field.startswith("label:") else getattr(f, field)
                for field in fields
            )
            for f in facts
        ], fields
    assert list(reader.label_summaries(flt)) == labels
    assert parsed(reader) == (flt is not None and bool(flt.text or flt.custom))


def test_facts_follow_spliced_writes_without_a_parse(open_store: Opener) -> None:
    complaints = sample_store(open_store)
    writer = open_store()
    current = writer.get("H-02")
    changed = attrs.evolve(
        current,
        status=Status.RESOLVED,
        history=(
            *current.history,
            Event(current.received_at + timedelta(days=9), "test", "resolve"),
        ),
        labels={"cause": Label("cause", "staff", 0.25, (), "model")},
        satisfaction=2,
    )
    writer.update(changed)
    assert not parsed(writer)
    complaints = [changed if c.reference == "H-02" else c for c in complaints]
    facts, labels = expected_reads(complaints, None)
    reader = open_store()
    found = list(reader.facts())
    assert found == facts
    assert next(f for f in found if f.reference == "H-02").resolved_at is not None
    assert list(reader.label_summaries()) == labels
    assert not parsed(reader)


@pytest.mark.parametrize("damage", ["stale", "missing", "record", "records"])
def test_facts_from_a_stale_missing_or_broken_index_come_from_the_file(
    path: Path, open_store: Opener, damage: str
) -> None:
    complaints = sample_store(open_store)
    index = index_path(path)
    if damage == "stale":  # the index of the file before a change (as after a crash)
        old = index.read_bytes()
        writer = open_store()
        writer.update(attrs.evolve(writer.get("H-01"), satisfaction=1))
        index.write_bytes(old)
        complaints = [
            attrs.evolve(c, satisfaction=1, version=c.version + 1) if c.reference == "H-01" else c
            for c in complaints
        ]
    elif damage == "missing":
        index.unlink()
    else:
        head, columns, projections, records = index.read_bytes().split(b"\n")
        if damage == "record":  # laid out as written, but one record's pass is cut short
            bad = orjson.loads(records)
            bad[3]["scan"] = bad[3]["scan"][:4]
            columns_data = orjson.loads(columns)
            columns_data["record_lengths"] = [len(orjson.dumps(r)) for r in bad]
            columns, records = orjson.dumps(columns_data), orjson.dumps(bad)
        else:  # the records do not hold together with the columns
            records = b"[]"
        index.write_bytes(b"\n".join([head, columns, projections, records]))
    facts, labels = expected_reads(complaints, None)
    reader = open_store()
    assert list(reader.facts()) == facts
    assert list(reader.label_summaries()) == labels
    assert list(reader.fact_columns(None, ("resolved_at", "label:cause"))) == [
        (f.resolved_at, f.label("cause")) for f in facts
    ]
    assert parsed(reader)


SPLICER = """
    import sys
    import attrs
    from complaintkit.errors import ConflictError
    from complaintkit_tinydb.store import open_tinydb

    url, reference, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.stdin.readline()
    with open_tinydb(url, {"fsync": False}) as store:
        done = reads = 0
        while done < times:
            current = store.get(reference)
            reads += 1
            counter = current.custom["counter"]
            try:
                store.update(attrs.evolve(current, custom={"counter": counter + 1}))
            except ConflictError:
                continue
            done += 1
        # A read between another writer's rename of the data file and its index write finds
        # no matching index and parses the file: correct, and timing-dependent, so counted.
        print(store.storage.parses, reads)
"""

ADDER = """
    import sys
    from complaintkit.testing import make_complaint
    from complaintkit_tinydb.store import open_tinydb

    url, times = sys.argv[1], int(sys.argv[2])
    sys.stdin.readline()
    with open_tinydb(url, {"fsync": False}) as store:
        for number in range(times):
            store.add_many([make_complaint(f"A-{number}-{n}") for n in range(3)])
            list(store.find())  # parses the file: the next add_many writes the usual way
"""


def test_spliced_and_whole_file_writers_in_other_processes_lose_nothing(
    path: Path, open_store: Opener
) -> None:
    store = open_store()
    store.add_many([make_complaint(f"S-{n}", custom={"counter": 0}) for n in range(2)])
    url = f"tinydb://{path}"
    scripts: list[tuple[str, list[Any]]] = [
        (SPLICER, [url, "S-0", 15]),
        (SPLICER, [url, "S-1", 15]),
        (ADDER, [url, 10]),
    ]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *map(str, arguments)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script, arguments in scripts
    ]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    parses = reads = 0
    for worker, (script, _) in zip(workers, scripts, strict=True):
        printed, errors = worker.communicate(timeout=120)
        assert worker.returncode == 0, errors
        if script is SPLICER:
            worker_parses, worker_reads = map(int, printed.split())
            parses, reads = parses + worker_parses, reads + worker_reads
    assert reads >= 30 and parses < reads / 2, (parses, reads)  # the index served most reads
    reader = open_store()
    assert reader.get("S-0").custom["counter"] == 15
    assert reader.get("S-1").custom["counter"] == 15
    assert reader.count() == 2 + 30
    raw = path.read_bytes()
    assert orjson.dumps(orjson.loads(raw)) == raw
