"""One validation for every door: `add`, `import`, the filters and the Desk (any API) accept and
refuse the same values, and every store holds the same text (complaintkit.intake)."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result

from complaintkit import (
    Channel,
    Desk,
    Event,
    Label,
    Party,
    RemedyKind,
    Status,
    ValidationError,
)
from complaintkit.intake import (
    CHARACTERS_REMOVED,
    MAX_KEY_LENGTH,
    clean_complaint,
    complaint_problems,
    parse_channel,
    parse_level,
    parse_remedy,
    parse_status,
)
from complaintkit.model import EscalationLevel
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli


def run(store: Path, *args: str, code: int = 0, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, ["--store", f"tinydb://{store}", *args], input=input)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a rejects file without --rejects lands here
    path = tmp_path / "store.json"
    run(path, "init")
    return path


# --- the vocabularies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("wechat", Channel.WECHAT),
        ("WeChat", Channel.WECHAT),  # the English display name `list` prints
        ("微信", Channel.WECHAT),  # the Chinese display name
        ("热线", Channel.PHONE),  # an alias an import always accepted
        ("web form", Channel.WEB),
        ("In-Person", Channel.IN_PERSON),
    ],
)
def test_a_channel_is_understood_by_value_name_or_alias(word: str, channel: Channel) -> None:
    assert parse_channel(word) is channel


def test_other_vocabularies_take_their_chinese_names() -> None:
    assert parse_status("已结案") is Status.CLOSED
    assert parse_status("solution proposed") is Status.SOLUTION_PROPOSED
    assert parse_level("领导层") is EscalationLevel.LEADERSHIP
    assert parse_remedy("解释说明") is RemedyKind.EXPLANATION


def test_an_unknown_word_names_the_known_values() -> None:
    with pytest.raises(ValueError, match=r"unknown channel 'fax' \(known: phone, sms, "):
        parse_channel("fax")


# --- what a complaint may hold ------------------------------------------------------------------


def test_nul_and_lone_surrogates_are_removed_and_counted_by_field() -> None:
    dirty = make_complaint(
        "R-1",
        text="bad \x00 byte",
        complainant=Party(name="Li\udce9"),
        custom={"note": "a\x00b\x00"},
        tags=("x\x00",),
    )
    clean, removed = clean_complaint(dirty)
    assert clean.text == "bad  byte"
    assert clean.complainant.name == "Li"
    assert clean.custom == {"note": "ab"}
    assert clean.tags == ("x",)
    assert removed == {"text": 1, "complainant.name": 1, "custom.note": 2, "tags": 1}


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("event data", {"note": "a\x00b"}),
        ("nested event data", {"items": [{"k\x00": 1}]}),
        ("event data surrogate", {"note": "Li\udce9"}),
        ("event reason", None),
        ("label evidence", None),
    ],
)
def test_nul_and_surrogates_in_labels_and_history_are_found(where: str, value: object) -> None:
    # The fast check (texts joined, event data encoded in C) must find them everywhere.
    base = make_complaint("R-1")
    event = Event(at=base.received_at, actor="a", action="note", data={"ok": 1})
    label = Label("cause", "product", evidence=("fine",))
    if where == "event reason":
        event = attrs.evolve(event, reason="why\x00")
    elif where == "label evidence":
        label = attrs.evolve(label, evidence=("fine", "bad\udce9"))
    else:
        event = attrs.evolve(event, data=value)
    dirty = attrs.evolve(base, labels={"cause": label}, history=(event,))
    clean, removed = clean_complaint(dirty)
    assert removed, where
    assert "\x00" not in repr(clean) and "\\udce9" not in ascii(clean)


def test_a_literal_backslash_u0000_is_kept() -> None:
    # JSON writes NUL as \u0000; the same six characters typed by a person are not NUL.
    base = make_complaint("R-1")
    event = Event(at=base.received_at, actor="a", action="note", data={"note": "C:\\u0000"})
    complaint = attrs.evolve(base, history=(event,))
    clean, removed = clean_complaint(complaint)
    assert clean is complaint and removed == {}


def test_other_control_characters_are_kept_exactly() -> None:
    # Storable everywhere; every output makes them inert itself (terminal_safe, CSV, XLSX).
    complaint = make_complaint(text="tab\tform feed\x0c escape\x1b[2J")
    clean, removed = clean_complaint(complaint)
    assert clean is complaint and removed == {}


def test_wrong_types_from_an_api_body_are_problems_not_stringified() -> None:
    complaint = make_complaint(text=["a", "b"], title=True, tags=("ok", 3), custom={"x": 1e999})
    assert complaint_problems(complaint) == [
        ("text", "expected text, got a list"),
        ("title", "expected text, got a boolean (true)"),
        ("tags", "expected a list of texts, got ('ok', 3)"),
        ("custom.x", "inf is not a finite number"),
    ]


def test_an_indexed_field_longer_than_every_store_indexes_is_a_problem() -> None:
    (problem,) = complaint_problems(make_complaint(product="p" * (MAX_KEY_LENGTH + 1)))
    assert problem[0] == "product" and "longer than the 255 a store can index" in problem[1]


def test_the_desk_refuses_what_an_import_would_reject(ck_desk: Desk) -> None:
    with pytest.raises(ValidationError) as caught:
        ck_desk.intake(make_complaint("R-1", complainant=Party(email="not-an-email", phone="12")))
    assert caught.value.problems == [
        "field complainant_phone: '12' is not a phone number (expected digits, e.g. 138 0013 8000)",
        "field complainant_email: 'not-an-email' is not an e-mail address "
        "(expected e.g. li.lei@example.com)",
    ]
    assert ck_desk.store.count() == 0


def test_the_desk_removes_nul_and_records_it_in_the_history(ck_desk: Desk) -> None:
    stored = ck_desk.intake(make_complaint("R-1", text="late\x00 again"), classify=False)
    assert stored.text == "late again"
    (event,) = [e for e in stored.history if e.action == CHARACTERS_REMOVED]
    assert event.data == {"text": 1}
    assert [e.action for e in stored.history] == ["received", CHARACTERS_REMOVED]


def test_a_label_is_named_by_key_or_by_either_language(ck_desk: Desk) -> None:
    host = ck_desk.host
    assert host.resolve_label("cause", "price") == ("cause", "price")
    assert host.resolve_label("cause", "价格") == ("cause", "price")
    assert host.resolve_label("投诉原因", "价格") == ("cause", "price")
    assert host.resolve_label("Cause", "Price") == ("cause", "price")


# --- the doors of the command line ---------------------------------------------------------------


def test_add_refuses_the_contacts_import_refuses(store: Path) -> None:
    result = run(store, "add", "--text", "broken", "--email", "not-an-email", code=2)
    assert "Invalid value for --email: 'not-an-email' is not an e-mail address" in result.output
    result = run(store, "add", "--text", "broken", "--phone", "12", code=2)
    assert "Invalid value for --phone: '12' is not a phone number" in result.output
    assert json.loads(run(store, "list", "--format", "json").stdout) == []


def test_add_takes_the_channel_names_import_takes(store: Path) -> None:
    out = run(store, "add", "--text", "没人接电话", "--channel", "热线", "--format", "json")
    assert json.loads(out.stdout)["channel"] == "phone"
    out = run(store, "add", "--text", "退款太慢", "--channel", "WeChat", "--remedy", "退款")
    reference = out.stdout.split()[0]
    shown = json.loads(run(store, "show", reference, "--format", "json").stdout)
    assert (shown["channel"], shown["remedy_sought"]) == ("wechat", "refund")


def test_list_filters_by_the_names_list_prints(store: Path) -> None:
    run(store, "add", "--text", "公众号没人回复", "--channel", "wechat", "--no-classify")
    run(store, "add", "--text", "电话打不通", "--channel", "phone", "--no-classify")
    printed = run(store, "list").stdout
    assert "WeChat" in printed
    for word in ("WeChat", "微信", "wechat"):
        found = json.loads(run(store, "list", "--channel", word, "--format", "json").stdout)
        assert [c["channel"] for c in found] == ["wechat"]
    refused = run(store, "list", "--channel", "fax", code=2)
    assert "nor the English or Chinese name of one" in refused.output


def test_a_chinese_label_filter_selects_what_the_english_one_does(store: Path) -> None:
    run(store, "add", "--text", "价格太贵了，比别家贵一倍，收费不合理")
    english = run(store, "list", "--label", "cause=price", "--format", "json").stdout
    assert len(json.loads(english)) == 1
    for label in ("cause=价格", "投诉原因=价格"):
        chinese = run(store, "--lang", "zh", "list", "--label", label, "--format", "json").stdout
        assert chinese == english
    refused = run(store, "--lang", "zh", "list", "--label", "cause=价钱", code=2)
    assert "price (价格)" in refused.output
    unclassified = run(store, "list", "--unclassified", "投诉原因", "--format", "json").stdout
    assert json.loads(unclassified) == []


def test_add_says_it_removed_a_nul(store: Path) -> None:
    result = run(store, "add", "--text", "-", "--no-classify", input="late\x00 again")
    assert "note: removed characters no store can hold (NUL) from text (1)" in result.stderr


# --- import: NUL, wrong JSON types, undecodable bytes --------------------------------------------


def test_a_nul_in_a_row_is_removed_reported_with_its_line_and_recorded(
    store: Path, tmp_path: Path
) -> None:
    source = tmp_path / "nul.csv"
    rows = [f"N-{i},2026-11-01T10:00:00+08:00,complaint {i}" for i in range(1, 6)]
    rows[2] = "N-3,2026-11-01T10:00:00+08:00,bad \x00 byte"
    source.write_text("reference,received_at,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dry = run(store, "import", str(source), "--no-classify", "--dry-run")
    assert (
        "5 would be imported" in dry.stdout and "would remove NUL characters from 1" in dry.stdout
    )
    result = run(store, "import", str(source), "--no-classify")
    assert "cleaned: " in result.stderr and "nul.csv, line 4: removed characters" in result.stderr
    assert "(text: U+0000)" in result.stderr
    assert "imported 5, removed NUL characters from 1 (recorded in its history)" in result.stdout
    shown = json.loads(run(store, "show", "N-3", "--format", "json").stdout)
    assert shown["text"] == "bad  byte"
    assert [e["data"] for e in shown["history"] if e["action"] == CHARACTERS_REMOVED] == [
        {"text": 1}
    ]


def test_wrong_json_types_are_rejected_with_their_item_number(store: Path, tmp_path: Path) -> None:
    records = [
        {"received_at": "2026-11-01", "text": ["a", "b"]},
        {"received_at": "2026-11-01", "text": "fine", "title": {"x": 1}},
        {"received_at": "2026-11-01", "text": True},
        {"received_at": "2026-11-01", "text": "fine too", "title": 1e300},
        {"received_at": "2026-11-01", "text": "tags as a list", "tags": ["late", "rude"]},
        {"received_at": "2026-11-01", "text": "bad tags", "tags": [["nested"]]},
        {"received_at": "2026-11-01", "text": 12345, "title": 2026},
    ]
    source = tmp_path / "types.json"
    source.write_text(json.dumps(records), encoding="utf-8")
    rejects = tmp_path / "types.rejects.jsonl"
    result = run(store, "import", str(source), "--no-classify", "--rejects", str(rejects), code=1)
    assert "imported 2, rejected 5" in result.stdout
    found = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["item"], r["field"], r["reason"]) for r in found] == [
        (1, "text", "expected text, got a list"),
        (2, "title", "expected text, got an object"),
        (3, "text", "expected text, got a boolean (true)"),
        (
            4,
            "title",
            "expected text, got a number too large to be exact (1e+300); write it as text "
            "(in quotes) if it is an id",
        ),
        (6, "tags", "item 1: expected text, got a list"),
    ]
    assert all("line" not in r for r in found)
    stored = {c["text"]: c for c in json.loads(run(store, "list", "--format", "json").stdout)}
    assert stored["tags as a list"]["tags"] == ["late", "rude"]
    assert stored["12345"]["title"] == "2026"


def test_an_undecodable_byte_rejects_its_row_only(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "latin.csv"
    lines = [b"received_at,text"] + [b"2026-11-01,row %d" % i for i in range(1, 201)]
    lines[150] = b"2026-11-01,caf\xe9 au lait"
    source.write_bytes(b"\n".join(lines) + b"\n")
    rejects = tmp_path / "latin.rejects.jsonl"
    result = run(store, "import", str(source), "--no-classify", "--rejects", str(rejects), code=1)
    assert "imported 199, rejected 1" in result.stdout
    assert "latin.csv, line 151, field text: byte 0xE9 is not valid UTF-8" in result.stderr
    (reject,) = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    # The byte is kept in the rejects file (as the escape Python decodes it to), not lost.
    assert reject["raw"]["text"] == "caf\udce9 au lait"
    assert b"caf\xe9" in reject["raw"]["text"].encode("utf-8", "surrogateescape")


def test_an_undecodable_byte_in_json_lines_rejects_its_line(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    good = [b'{"received_at": "2026-11-01", "text": "row %d"}' % i for i in range(1, 4)]
    source.write_bytes(
        b"\n".join([good[0], b'{"received_at": "2026-11-01", "text": "\xff"}', *good[1:]])
    )
    result = run(store, "import", str(source), "--no-classify", "--rejects", "r.jsonl", code=1)
    assert "imported 3, rejected 1" in result.stdout
    assert "bad.jsonl, line 2: byte 0xFF is not valid UTF-8" in result.stderr


def test_an_undecodable_byte_in_a_json_array_names_its_line(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_bytes(b'[\n{"received_at": "2026-11-01",\n "text": "caf\xe9"}\n]\n')
    result = run(store, "import", str(source), code=2)
    assert "is not valid utf-8-sig (invalid continuation byte, line 3, near byte" in result.output
    assert "a JSON array is read whole, so nothing was imported" in result.output


def test_a_file_in_another_encoding_is_still_refused_whole(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "gbk.csv"
    source.write_bytes("received_at,text\n2026-11-23,快递员态度恶劣\n".encode("gbk"))
    result = run(store, "import", str(source), code=2)
    assert "line 2, near byte" in result.output and "--encoding gb18030" in result.output
