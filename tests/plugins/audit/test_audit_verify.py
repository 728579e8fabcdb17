"""`complaintkit audit`: hand edits of a TinyDB file and of SQL rows are found and named, an
untouched store verifies clean, old stores are sealed once, and heads kept elsewhere catch an
attacker who recomputes every digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from complaintkit import Config, Desk, Event, make_host
from complaintkit.audit import first_break, genesis, head, seal_rewrite
from complaintkit.storage import Store
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli

REFS = ("A-1", "A-2", "A-3")


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--store", url, *args], catch_exceptions=False)


def filled(url: str) -> None:
    """Three complaints handled through the desk, each a history of four events: received,
    acknowledged, assigned, investigating."""
    host = make_host(Config(store=url), env={})
    store = host.open_store()
    try:
        desk = Desk(host, store, actor="clerk")
        for i, reference in enumerate(REFS):
            complaint = make_complaint(
                reference,
                text=f"投诉 {i}: 快递延误，包裹破损",
                received_at=datetime(2026, 3, 1 + i, 9, 0, tzinfo=UTC),
            )
            desk.intake(complaint, classify=False)
            desk.transition(reference, "acknowledge", reason="收到")
            desk.assign(reference, department="物流部", reason="物流问题")
            desk.assign(reference, assignee="王芳", reason="指派")
    finally:
        store.close()


def open_store(url: str) -> Store:
    return make_host(Config(store=url), env={}).open_store(create=False)


def history_of(url: str, reference: str) -> tuple[Event, ...]:
    store = open_store(url)
    try:
        return store.get(reference).history
    finally:
        store.close()


def verify_json(url: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(url, "audit", "verify", "--format", "json", *args)
    return result.exit_code, json.loads(result.output)


# --- every backend ----------------------------------------------------------------------


def test_desk_writes_seal_every_event_and_an_untouched_store_verifies_clean(
    store_url: str,
) -> None:
    filled(store_url)
    for reference in REFS:
        history = history_of(store_url, reference)
        assert len(history) >= 4 and all(e.digest for e in history)
        assert first_break(reference, history) is None
    result = run(store_url, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert f"checked 3 complaints, {3 * len(history)} events: every chain holds" in result.output
    code, data = verify_json(store_url, "--reference", "A-2")
    assert (code, data["ok"], data["complaints"], data["findings"]) == (0, True, 1, [])


# --- TinyDB: the JSON file edited by hand -------------------------------------------------


def edit_tinydb(path: Path, reference: str, change: Any) -> list[dict[str, Any]]:
    """Apply ``change`` to the stored history (a list of event dicts) of ``reference``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    (doc,) = [d for d in data["complaints"].values() if d["reference"] == reference]
    change(doc["history"])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    history: list[dict[str, Any]] = doc["history"]
    return history


@pytest.fixture
def tinydb_store(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "complaints.json"
    url = f"tinydb://{path}"
    filled(url)
    return url, path


def only_finding(url: str) -> dict[str, Any]:
    code, data = verify_json(url)
    assert code == 1 and data["ok"] is False and data["broken"] == 1
    (finding,) = data["findings"]
    return dict(finding)


def test_a_reason_changed_in_the_tinydb_file_is_named(tinydb_store: tuple[str, Path]) -> None:
    url, path = tinydb_store
    before = history_of(url, "A-2")

    def change(history: list[dict[str, Any]]) -> None:
        history[2]["reason"] = "客户无理取闹"

    edit_tinydb(path, "A-2", change)
    finding = only_finding(url)
    assert finding == {
        "reference": "A-2",
        "kind": "broken",
        "index": 2,
        "action": before[2].action,
        "expected": finding["expected"],
        "found": before[2].digest,
    }
    assert finding["expected"] != before[2].digest
    text = run(url, "audit", "verify")
    assert text.exit_code == 1
    assert f"A-2: broken at event 2 ({before[2].action}): expected " in text.output
    assert "1 broken, 0 unsealed" in text.output


def test_an_event_deleted_from_the_tinydb_file_is_named(tinydb_store: tuple[str, Path]) -> None:
    url, path = tinydb_store
    before = history_of(url, "A-1")
    edit_tinydb(path, "A-1", lambda history: history.pop(1))
    finding = only_finding(url)
    # Event 1 is now what was event 2: its digest chains from the deleted one, not event 0.
    assert (finding["reference"], finding["index"], finding["action"]) == (
        "A-1",
        1,
        before[2].action,
    )
    assert finding["found"] == before[2].digest


def test_two_events_swapped_in_the_tinydb_file_are_named(tinydb_store: tuple[str, Path]) -> None:
    url, path = tinydb_store
    before = history_of(url, "A-3")

    def swap(history: list[dict[str, Any]]) -> None:
        history[1], history[2] = history[2], history[1]

    edit_tinydb(path, "A-3", swap)
    finding = only_finding(url)
    assert (finding["reference"], finding["index"], finding["action"]) == (
        "A-3",
        1,
        before[2].action,
    )


def test_the_last_event_deleted_is_caught_by_the_anchor_only(
    tinydb_store: tuple[str, Path], tmp_path: Path
) -> None:
    # Truncating a chain leaves a chain that holds: only a head kept elsewhere shows it.
    url, path = tinydb_store
    anchor = tmp_path / "heads.jsonl"
    assert run(url, "audit", "head", "--output", str(anchor)).exit_code == 0
    edit_tinydb(path, "A-1", lambda history: history.pop())
    assert run(url, "audit", "verify").exit_code == 0
    code, data = verify_json(url, "--anchor", str(anchor))
    assert code == 1 and data["anchor_mismatches"] == 1
    (finding,) = data["findings"]
    assert finding["reference"] == "A-1" and finding["kind"] == "anchor"
    assert "the anchor kept" in finding["detail"]


def test_an_attacker_who_recomputes_every_digest_is_caught_by_the_anchor(
    tinydb_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = tinydb_store
    anchor = tmp_path / "heads.jsonl"
    printed = run(url, "audit", "head", "--output", str(anchor)).output.splitlines()[0]

    def rewrite(history: list[dict[str, Any]]) -> None:
        history[1]["actor"] = "mallory"
        previous = genesis("A-2")
        from complaintkit.audit import event_digest

        for event in history:
            event["digest"] = previous = event_digest(
                Event(
                    datetime.fromisoformat(event["at"]),
                    event["actor"],
                    event["action"],
                    event["reason"],
                    event["data"],
                ),
                previous,
            )

    edit_tinydb(path, "A-2", rewrite)
    assert run(url, "audit", "verify").exit_code == 0  # the chain itself holds again
    code, data = verify_json(url, "--anchor", str(anchor))
    assert code == 1 and data["anchored"] == 3
    assert data["anchor"]["digest"] == printed  # the line to compare with the kept copy
    (finding,) = data["findings"]
    assert (finding["reference"], finding["kind"], finding["index"]) == ("A-2", "anchor", 3)
    # And a new head digest differs from the one printed before.
    assert run(url, "audit", "head").output.splitlines()[0] != printed


def test_an_anchor_file_edited_to_match_is_refused(
    tinydb_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = tinydb_store
    anchor = tmp_path / "heads.jsonl"
    run(url, "audit", "head", "--output", str(anchor))
    lines = anchor.read_text().splitlines()
    lines[0] = lines[0].replace('"events":4', '"events":3')
    anchor.write_text("\n".join(lines) + "\n")
    result = run(url, "audit", "verify", "--anchor", str(anchor))
    assert result.exit_code != 0
    assert "the anchor file itself was changed" in result.output


def test_an_erasure_reseals_and_an_anchor_taken_before_lists_it(
    tinydb_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, _ = tinydb_store
    anchor = tmp_path / "heads.jsonl"
    run(url, "audit", "head", "--output", str(anchor))
    store = open_store(url)
    try:
        c = store.get("A-1")
        anonymised = tuple(
            attrs.evolve(e, reason=None) if e.reason == "物流问题" else e for e in c.history
        )
        erasure = Event(datetime(2026, 4, 1, tzinfo=UTC), "dpo", "person_erased", "GDPR art. 17")
        history = seal_rewrite(c.reference, c.history, anonymised, erasure)
        store.update(attrs.evolve(c, history=history))
        old_head = head(c.history)
    finally:
        store.close()
    stored = history_of(url, "A-1")
    assert old_head not in {str(v) for v in stored[-1].data.values()}
    code, data = verify_json(url, "--anchor", str(anchor))
    # The chain holds, erasure included; the anchored head was rewritten legitimately, which
    # is listed (a new anchor is taken after erasures), not reported as broken.
    assert (code, data["ok"], data["erasures"], data["rewritten_since_anchor"]) == (
        0,
        True,
        1,
        ["A-1"],
    )
    assert "re-sealed by an erasure" in run(url, "audit", "verify").output


# --- SQL: a row changed by hand ------------------------------------------------------------


def sql_execute(url: str, statement: str, **params: Any) -> int:
    from complaintkit_sql.store import engine_url

    engine = sa.create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            return conn.execute(sa.text(statement), params).rowcount
    finally:
        engine.dispose()


def test_an_update_of_an_event_row_is_named(sql_store_url: str) -> None:
    filled(sql_store_url)
    before = history_of(sql_store_url, "A-3")
    changed = sql_execute(
        sql_store_url,
        "UPDATE ck_events SET reason = :why WHERE reference = :ref AND seq = 1",
        why="客户撤诉",
        ref="A-3",
    )
    assert changed == 1
    finding = only_finding(sql_store_url)
    assert (finding["reference"], finding["index"], finding["action"], finding["found"]) == (
        "A-3",
        1,
        before[1].action,
        before[1].digest,
    )


def test_a_deleted_event_row_and_a_changed_actor_are_named(sql_store_url: str) -> None:
    filled(sql_store_url)
    before = history_of(sql_store_url, "A-1")
    sql_execute(sql_store_url, "DELETE FROM ck_events WHERE reference = 'A-1' AND seq = 2")
    sql_execute(
        sql_store_url,
        "UPDATE ck_events SET actor = 'mallory' WHERE reference = 'A-2' AND seq = 0",
    )
    code, data = verify_json(sql_store_url)
    assert code == 1 and data["broken"] == 2
    found = {(f["reference"], f["index"], f["action"]) for f in data["findings"]}
    assert found == {("A-1", 2, before[3].action), ("A-2", 0, "received")}


# --- stores written before sealing -----------------------------------------------------------


def strip_digests(path: Path, only: str | None = None, keep_first: bool = False) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    for doc in data["complaints"].values():
        if only is None or doc["reference"] == only:
            for event in doc["history"][1 if keep_first else 0 :]:
                event.pop("digest", None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_an_old_store_is_unsealed_until_audit_seal_then_verifies(
    tinydb_store: tuple[str, Path],
) -> None:
    url, path = tinydb_store
    strip_digests(path)  # as a store written before Event.digest existed
    result = run(url, "audit", "verify")
    assert result.exit_code == 1
    assert "A-1: unsealed (4 events, no digest); run complaintkit audit seal" in result.output
    sealed = run(url, "--actor", "admin", "audit", "seal")
    assert sealed.exit_code == 0, sealed.output
    assert "sealed 3 histories; 0 were sealed already" in sealed.output
    history = history_of(url, "A-1")
    assert history[-1].action == "audit_sealed" and history[-1].actor == "admin"
    assert history[-1].data == {"unsealed_events": 4}
    verified = run(url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "3 histories were sealed after the fact" in verified.output
    again = run(url, "audit", "seal")
    assert "sealed 0 histories; 3 were sealed already" in again.output


def test_seal_never_launders_a_history_missing_only_some_digests(
    tinydb_store: tuple[str, Path],
) -> None:
    url, path = tinydb_store
    strip_digests(path, only="A-2", keep_first=True)
    result = run(url, "audit", "seal")
    assert result.exit_code == 1
    assert "A-2: some events carry a digest and some not: not sealed" in result.output
    assert history_of(url, "A-2")[1].digest is None
    finding = only_finding(url)
    assert (finding["reference"], finding["index"], "found" in finding) == ("A-2", 1, False)


def test_a_desk_write_seals_an_old_history_whole(tinydb_store: tuple[str, Path]) -> None:
    url, path = tinydb_store
    strip_digests(path, only="A-3")
    assert run(url, "transition", "A-3", "withdraw", "--reason", "已和解").exit_code == 0
    history = history_of(url, "A-3")
    assert all(e.digest for e in history) and first_break("A-3", history) is None


# --- migration -------------------------------------------------------------------------------


def test_migrate_keeps_every_digest_and_the_chains_verify(
    tinydb_store: tuple[str, Path], sql_store_url: str
) -> None:
    url, _ = tinydb_store
    migrated = run(url, "migrate", url, sql_store_url)
    assert migrated.exit_code == 0, migrated.output
    verified = run(sql_store_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    # The same heads on both sides: one digest over them all.
    assert (
        run(url, "audit", "head").output.splitlines()[0]
        == (run(sql_store_url, "audit", "head").output.splitlines()[0])
    )
    back = url.replace("complaints.json", "back.json")
    assert run(url, "migrate", sql_store_url, back).exit_code == 0
    assert run(back, "audit", "verify").exit_code == 0


def test_verify_names_an_unknown_reference(tinydb_store: tuple[str, Path]) -> None:
    url, _ = tinydb_store
    result = CliRunner().invoke(cli, ["--store", url, "audit", "verify", "--reference", "Z-9"])
    assert result.exit_code == 2 and "no complaint Z-9 in the store" in result.output


def test_verify_speaks_chinese(tinydb_store: tuple[str, Path]) -> None:
    url, path = tinydb_store
    edit_tinydb(path, "A-1", lambda history: history.pop(1))
    result = run(url, "--lang", "zh", "audit", "verify")
    assert result.exit_code == 1
    assert "A-1: 第 1 个事件" in result.output and "1 条链断裂" in result.output


def test_every_kind_of_desk_write_leaves_a_whole_chain(tmp_path: Path) -> None:
    # Batch intake, batch classification, a label, a remedy, a disclosure, a store swapped
    # under the desk: each writes through the sealing layer.
    from complaintkit import RemedyKind

    url = f"tinydb://{tmp_path / 'c.json'}"
    host = make_host(Config(store=url), env={})
    store = host.open_store()
    other = host.open_store(f"tinydb://{tmp_path / 'other.json'}")
    try:
        desk = Desk(host, store, actor="clerk")
        texts = ["快递延误三天，包裹破损", "The refund never arrived, charged twice"]
        batch = [make_complaint(f"B-{i}", text=t) for i, t in enumerate(texts)]
        assert desk.intake_many(batch, classify=False).added == 2
        assert desk.classify_many()[1] == 2
        desk.transition("B-0", "acknowledge")
        desk.offer_remedy("B-0", RemedyKind.REFUND, amount=20.0, description="运费")
        desk.record_disclosure(["B-0", "B-1"], reason="subject access request 7")
        desk.store = other
        desk.intake(make_complaint("B-9"), classify=False)
        actions = [e.action for e in store.get("B-0").history]
        assert actions[:2] == ["received", "classify"] and "remedy_offered" in actions
        for s, references in ((store, ("B-0", "B-1")), (other, ("B-9",))):
            for reference in references:
                history = s.get(reference).history
                assert history and all(e.digest for e in history)
                assert first_break(reference, history) is None
    finally:
        store.close()
        other.close()


def test_person_erase_leaves_every_chain_whole_and_records_the_old_head(
    store_url: str,
) -> None:
    # The erasure rewrites text inside past events (the person's phone in a reason here):
    # the history is re-sealed from there and the erasure event is a link of the chain.
    from complaintkit import Party

    host = make_host(Config(store=store_url), env={})
    store = host.open_store()
    try:
        desk = Desk(host, store, actor="clerk")
        who = Party(name="王小明", phone="13812345678")
        desk.intake(make_complaint("E-1", text="快递丢了", complainant=who), classify=False)
        desk.transition("E-1", "acknowledge", reason="已致电 13812345678")
        desk.intake(make_complaint("E-2", text="another one"), classify=False)
        before = store.get("E-1").history
    finally:
        store.close()
    erased = run(store_url, "person", "erase", "--phone", "13812345678", "--reason", "DSR-1")
    assert erased.exit_code == 0, erased.output
    history = history_of(store_url, "E-1")
    assert "13812345678" not in (history[1].reason or "")
    assert history[0] == before[0]  # not rewritten: keeps its digest
    assert history[1].digest != before[1].digest
    closing = history[-1]
    assert closing.action == "personal_data_erased"
    assert closing.data["resealed_from"] == 1
    assert head(before) not in {str(v) for v in closing.data.values()}
    code, data = verify_json(store_url)
    assert (code, data["ok"], data["erasures"]) == (0, True, 1)
