"""``Desk.intake_many`` (what ``complaintkit import`` runs) stores what ``Desk.intake`` stores.

The bulk path builds each complaint once from its labels, events and process work; these
tests import the same real rows (the shared data sets, through the importing plugin's reader)
one by one with ``intake`` and in one batch with ``intake_many``, on the same fixed clock, and
compare the stored documents byte for byte, the hook calls, the audit chains, the skipped
references and the rejected rows.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from complaintkit import Desk, hookimpl
from complaintkit.audit import first_break
from complaintkit.errors import DuplicateComplaintError
from complaintkit.model import Party
from complaintkit.serialization import complaint_to_data
from complaintkit.testing import make_complaint
from complaintkit_importing import read_complaints
from conftest import require_dataset
from process_support import SHANGHAI, Clock, close_complaint, make_desk, sh

NOW = sh("2025-09-20 10:00")
#: The phone of the complainant whose earlier complaint is closed in both stores.
REPEATER = "13800138000"
#: The product of that earlier complaint.
FRIDGE = "BCD-520 fridge"
Row = dict[str, str]
COLUMNS = ["reference", "received_at", "channel", "title", "text", "product", "complainant_phone"]


def _dataset(relative: str, encoding: str, row: Callable[[dict[str, str]], Row]) -> list[Row]:
    """The first 200 records of a shared data set's CSV file, each made a row by ``row``."""
    with require_dataset(relative).open(encoding=encoding) as f:
        return [row(r) for r in itertools.islice(csv.DictReader(f), 200)]


def real_rows(n: int) -> list[Row]:
    """``n`` rows of real complaint texts (CFPB narratives or issues, Chinese reviews,
    airline tweets, interleaved) in the native layout."""
    cfpb = _dataset(
        "cfpb_complaints/cfpb_complaints.csv",
        "utf-8",
        lambda r: {
            "title": r["issue"],
            "text": r["consumer_complaint_narrative"]
            or " - ".join(v for v in (r["issue"], r["sub_issue"]) if v),
            "product": r["product"],
        },
    )
    reviews = _dataset(
        "chinese_reviews/chinese_reviews.csv",
        "utf-8-sig",
        lambda r: {"title": "", "text": r["review"], "product": r["cat"]},
    )
    tweets = _dataset(
        "twitter_airline_sentiment/tweets.csv",
        "utf-8",
        lambda r: {"title": "", "text": r["text"], "product": r["airline"]},
    )
    mixed = [
        row
        for group in zip(cfpb, reviews, tweets, strict=False)
        for row in group
        if row["text"].strip()
    ][:n]
    return [
        {
            "reference": f"R-{i:04d}",
            "received_at": "2025-09-19 09:30",
            "channel": "web" if i % 2 else "微信",
            "complainant_phone": REPEATER if i % 10 == 3 else "",
            **row,
            **({"product": FRIDGE} if i % 20 == 3 else {}),  # half of them: the same product
        }
        for i, row in enumerate(mixed)
    ]


def write_input(path: Path, rows: list[Row]) -> None:
    """The import file: the real rows, and the rows every import meets in real files."""
    special = [
        # characters no store can hold: removed and recorded in a characters_removed event
        {**rows[0], "reference": "X-NUL", "text": "the parcel\x00 arrived broken"},
        # the same row twice: the reader skips the second
        rows[1],
        # a phone with too few digits: the reader rejects the row
        {**rows[2], "reference": "X-BAD", "complainant_phone": "n0 ph0ne"},
        # a reference already stored: intake_many skips it
        {**rows[3], "reference": "OLD"},
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows + special)


class Recorder:
    """A plugin recording every complaint_received and complaint_classified call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, Any, Any]] = []

    @hookimpl
    def complaint_received(self, complaint: Any, desk: Any) -> None:
        self.calls.append(("received", orjson.dumps(complaint_to_data(complaint)), None, None))

    @hookimpl
    def complaint_classified(self, complaint: Any, label: Any, previous: Any, desk: Any) -> None:
        data = orjson.dumps(complaint_to_data(complaint))
        self.calls.append(("classified", data, label, previous))


def stored_documents(path: Path) -> dict[str, bytes]:
    """Each stored complaint's document as the TinyDB file holds it, by reference."""
    tables = orjson.loads(path.read_bytes())
    return {doc["reference"]: orjson.dumps(doc) for doc in tables["complaints"].values()}


def _imported(
    tmp_path: Path,
    name: str,
    source: Path,
    data: dict[str, Any] | None,
    store_all: Callable[[Desk, Any], tuple[str, ...]],
) -> tuple[Path, Recorder, list[str], tuple[str, ...]]:
    """Import ``source`` into a new store (with an earlier, closed complaint of the
    repeating complainant) by ``store_all``; the store file, the hooks seen, the rejected
    rows and the skipped references."""
    path = tmp_path / f"{name}.json"
    recorder = Recorder()
    clock = Clock(sh("2025-09-01 10:00"))
    desk, store = make_desk(f"tinydb://{path}", data, clock=clock, plugins=(recorder,))
    rejected: list[str] = []
    with store:
        desk.intake(
            make_complaint(
                "OLD",
                received_at=clock.now,
                text="The fridge stopped cooling / 冰箱不制冷",
                product=FRIDGE,
                complainant=Party(phone=REPEATER),
            )
        )
        close_complaint(desk, "OLD")
        clock.now = NOW
        recorder.calls.clear()
        stream = read_complaints(source, tz=SHANGHAI, on_reject=lambda r: rejected.append(str(r)))
        with stream:
            skipped = store_all(desk, stream)
    return path, recorder, rejected, skipped


def one_by_one(desk: Desk, complaints: Any) -> tuple[str, ...]:
    skipped = []
    for complaint in complaints:
        try:
            desk.intake(complaint)
        except DuplicateComplaintError:
            skipped.append(complaint.reference)
    return tuple(skipped)


def in_bulk(desk: Desk, complaints: Any) -> tuple[str, ...]:
    return desk.intake_many(complaints).skipped


PROCESS_OFF: dict[str, Any] = {"timezone": "Asia/Shanghai"}


@pytest.mark.slow
@pytest.mark.parametrize("data", [PROCESS_OFF, None], ids=["no-process", "example-process"])
def test_intake_many_stores_what_intake_stores(tmp_path: Path, data: dict[str, Any] | None) -> None:
    rows = real_rows(300)
    source = tmp_path / "input.csv"
    write_input(source, rows)
    single, single_hooks, single_rejects, single_skipped = _imported(
        tmp_path, "single", source, data, one_by_one
    )
    bulk, bulk_hooks, bulk_rejects, bulk_skipped = _imported(
        tmp_path, "bulk", source, data, in_bulk
    )
    expected, found = stored_documents(single), stored_documents(bulk)
    assert set(found) == set(expected)
    assert len(found) == len(rows) + 2  # the rows, X-NUL and OLD; X-BAD rejected
    assert single_skipped == bulk_skipped == ("OLD",)
    assert single_rejects == bulk_rejects and len(bulk_rejects) == 1
    assert "n0 ph0ne" in bulk_rejects[0]
    nul = orjson.loads(found["X-NUL"])
    assert [e["action"] for e in nul["history"]][:2] == ["received", "characters_removed"]

    # Repeats: intake links one at intake, intake_many after the batch (a second write),
    # so the link, not the document, is what they share.
    repeats = {r["reference"] for r in rows if r["product"] == FRIDGE}
    linked = {ref for ref in found if orjson.loads(found[ref])["parent"] == "OLD"}
    assert linked == {ref for ref in expected if orjson.loads(expected[ref])["parent"] == "OLD"}
    if data is None:
        assert linked == repeats
    else:
        assert not linked  # no [recomplaint] configured: nothing is linked
    for reference in sorted(found):
        if reference in linked:
            a, b = orjson.loads(expected[reference]), orjson.loads(found[reference])
            fields = ("parent", "recomplaint_count", "escalation_level", "labels", "sla_policy")
            assert {f: a[f] for f in fields} == {f: b[f] for f in fields}
        else:
            assert found[reference] == expected[reference], reference

    # Hooks: the same calls, in the same order, each given the complaint as stored.
    assert len(bulk_hooks.calls) > len(rows)
    unlinked = [c for c in single_hooks.calls if orjson.loads(c[1])["reference"] not in linked]
    assert [c for c in bulk_hooks.calls if orjson.loads(c[1])["reference"] not in linked] == (
        unlinked
    )
    for _, complaint, _, _ in bulk_hooks.calls:
        reference = orjson.loads(complaint)["reference"]
        if reference not in linked:
            assert complaint == found[reference]


@pytest.mark.slow
def test_intake_many_seals_every_history(tmp_path: Path) -> None:
    source = tmp_path / "input.csv"
    write_input(source, real_rows(60))
    path, *_ = _imported(tmp_path, "bulk", source, None, in_bulk)
    desk, store = make_desk(f"tinydb://{path}")
    with store:
        checked = 0
        for complaint in desk.store.find():
            assert complaint.history and all(e.digest for e in complaint.history)
            assert first_break(complaint.reference, complaint.history) is None
            checked += 1
        assert checked == 62


def test_hooks_of_intake_many_receive_the_stored_complaint(tmp_path: Path) -> None:
    recorder = Recorder()
    desk, store = make_desk(
        f"tinydb://{tmp_path / 's.json'}", PROCESS_OFF, clock=Clock(NOW), plugins=(recorder,)
    )
    with store:
        desk.intake_many([make_complaint("H-1", text="快递员态度恶劣，把包裹扔在门口")])
        stored = orjson.dumps(complaint_to_data(desk.get("H-1")))
    assert recorder.calls and all(call[1] == stored for call in recorder.calls)
    received = orjson.loads(stored)
    assert received["version"] == 1 and all(e["digest"] for e in received["history"])
