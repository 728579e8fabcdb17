"""``person erase``: one person anonymised everywhere — their complaints, other complaints
that mention their phone or e-mail, and the notification outbox — with reports unchanged, on
TinyDB, SQLite and PostgreSQL (real stores, real outboxes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from privacy_stores import Clock, store_url

from complaintkit import (
    ERASED,
    ComplaintkitError,
    Config,
    Desk,
    Party,
    Person,
    RemedyKind,
    Store,
    hookimpl,
    make_host,
)
from complaintkit.outbox import MessageStatus, OutboxMessage, outbox_of
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from complaintkit_privacy.person import erase_person

__all__ = ["store_url"]  # the fixture, one test per backend

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
PHONE = "13812345678"
EMAIL = "zhang.sanfeng@example.com"
NAME = "张三丰"
REPORTS = ("summary", "sla", "kpis", "remedies")


@pytest.fixture
def desk(store_url: str, tmp_path: Path) -> Iterator[Desk]:
    config = Config(store=store_url, data={"privacy": {"fields": {"address": "address"}}})
    host = make_host(config, env={})
    store = host.open_store()
    yield Desk(host, store, actor="dpo", clock=Clock(T0))
    store.close()


def close(desk: Desk, reference: str) -> None:
    desk.transition(reference, "acknowledge")
    desk.transition(reference, "assess")
    desk.transition(reference, "investigate", reason=f"called {NAME} on +86 138 1234 5678")
    desk.transition(reference, "propose", solution=f"refund to {NAME}")
    desk.transition(reference, "accept")
    desk.transition(reference, "implement")
    desk.transition(reference, "resolve")
    desk.transition(reference, "close", satisfaction=4)


def seed(desk: Desk) -> dict[str, str]:
    """Two complaints of the person, one of someone else mentioning their phone, one
    unrelated; one closed with a remedy; notifications to and about them."""
    them = Party(name=NAME, phone="+86 138-1234-5678", email=EMAIL, customer_id="C-0042")
    made = {
        "own1": make_complaint(
            "P-1",
            title=f"{NAME}投诉快递",
            text=f"我是{NAME}，快递丢了，请打 138 1234 5678 或发邮件 {EMAIL}",
            complainant=them,
            custom={"address": "朝阳区建国路88号", "order_no": "SO-1"},
        ),
        "own2": make_complaint(
            "P-2",
            text="Parcel lost again, the courier was rude.",
            complainant=Party(phone=PHONE),
        ),
        "other": make_complaint(
            "P-3",
            text="My neighbour (tel. 138-1234-5678) had the same problem, ask 张三丰.",
            complainant=Party(name="李四", phone="13900001111"),
        ),
        "unrelated": make_complaint(
            "P-4", text="Refund is late.", complainant=Party(name="王五", email="w@x.cn")
        ),
    }
    for complaint in made.values():
        desk.intake(complaint)
    desk.offer_remedy("P-1", RemedyKind.REFUND, amount=88.0, currency="CNY", description=NAME)
    close(desk, "P-1")
    outbox_of(desk.store).enqueue(
        [
            OutboxMessage(
                key=f"P-1:received:ack:sms:{PHONE}",
                channel="sms",
                recipient=PHONE,
                body=f"{NAME}您好，您的投诉已受理",
                created_at=T0,
                reference="P-1",
                payload={"complaint": {"complainant": {"name": NAME, "email": EMAIL}}},
            ),
            OutboxMessage(
                key="P-1:received:handler:email:ops@shop.cn",
                channel="email",
                recipient="ops@shop.cn",
                body=f"New complaint from {NAME} ({EMAIL})",
                created_at=T0,
                reference="P-1",
            ),
            OutboxMessage(
                key="P-4:received:ack:email:w@x.cn",
                channel="email",
                recipient="w@x.cn",
                body="王五您好",
                created_at=T0,
                reference="P-4",
            ),
        ]
    )
    return {k: c.reference for k, c in made.items()}


def snapshot(desk: Desk) -> tuple[list[Any], list[OutboxMessage]]:
    converter = desk.host.converter()
    complaints = [converter.unstructure(c) for c in desk.store.find()]
    return complaints, list(outbox_of(desk.store).messages())


def reports(desk: Desk) -> dict[str, Any]:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return {
        name: (report.figures, report.tables, report.sections)
        for name in REPORTS
        for report in [desk.report(name, now=now)]
    }


def leaks(desk: Desk) -> list[str]:
    """Where the person's phone, e-mail or name is still held, in any spelling."""
    converter = desk.host.converter()
    found = []
    person = Person.of(phones=[PHONE], emails=[EMAIL], names=[NAME])
    for complaint in desk.store.find():
        text = json.dumps(converter.unstructure(complaint), ensure_ascii=False)
        if complaint.reference != "P-3" and person.mentioned_in(text):
            found.append(complaint.reference)
        if complaint.reference == "P-3" and person.mentioned_in(text, names=False):
            found.append(complaint.reference)
    for message in outbox_of(desk.store).messages():
        text = json.dumps(attrs.asdict(message), ensure_ascii=False, default=str)
        if person.mentioned_in(text):
            found.append(message.key)
    return found


def test_erase_anonymises_the_person_everywhere_and_keeps_the_reports(desk: Desk) -> None:
    refs = seed(desk)
    before = reports(desk)
    assert leaks(desk)
    done = erase_person(
        desk, phone="138 1234 5678", email=None, customer_id=None, reason="DSR-7", dry_run=False
    )
    assert done.own == ("P-1", "P-2") and done.others == ("P-3",)
    assert done.plugins == {"notifications": 2}
    assert done.written == 3
    assert leaks(desk) == []
    own = desk.get(refs["own1"])
    assert own.complainant == Party(name=ERASED)
    assert own.custom == {"address": ERASED, "order_no": "SO-1"}  # declared personal only
    assert own.text == f"我是{ERASED}，快递丢了，请打 {ERASED} 或发邮件 {ERASED}"
    assert own.title == f"{ERASED}投诉快递"
    assert own.solution == f"refund to {ERASED}"
    assert own.remedies[0].amount == 88.0 and own.remedies[0].description == ERASED
    assert own.status.value == "closed" and own.satisfaction == 4
    erased = own.history[-1]
    assert erased.action == "personal_data_erased" and erased.actor == "dpo"
    assert erased.reason == "DSR-7"
    assert erased.data["scope"] == "person"
    assert "complainant.phone" in erased.data["fields"] and "history" in erased.data["fields"]
    assert "138" not in json.dumps(erased.data) and NAME not in json.dumps(erased.data)
    other = desk.get(refs["other"])
    assert other.complainant == Party(name="李四", phone="13900001111")
    assert other.text == f"My neighbour (tel. {ERASED}) had the same problem, ask 张三丰."
    assert desk.get(refs["unrelated"]).history[-1].action != "personal_data_erased"
    assert reports(desk) == before


def test_erase_rewrites_the_outbox(desk: Desk) -> None:
    seed(desk)
    erase_person(desk, phone=None, email=EMAIL.upper(), customer_id=None, reason="r", dry_run=False)
    messages = {m.reference + ":" + m.recipient: m for m in outbox_of(desk.store).messages()}
    to_them = messages[f"P-1:{ERASED}"]
    assert to_them.key == f"P-1:received:ack:sms:{ERASED}"
    assert to_them.status is MessageStatus.DEAD  # never sent to an erased address
    assert to_them.body == f"{ERASED}您好，您的投诉已受理"
    assert to_them.payload == {"complaint": {"complainant": {"name": ERASED, "email": ERASED}}}
    handler = messages["P-1:ops@shop.cn"]
    assert handler.body == f"New complaint from {ERASED} ({ERASED})"
    assert handler.status is MessageStatus.PENDING
    assert messages["P-4:w@x.cn"].body == "王五您好"


def test_dry_run_says_what_would_change_and_changes_nothing(desk: Desk) -> None:
    seed(desk)
    before = snapshot(desk)
    done = erase_person(
        desk, phone=None, email=None, customer_id="C-0042", reason="r", dry_run=True
    )
    # P-2 has the phone number P-1 gave: the number goes, P-2 is not taken for theirs
    assert (done.own, done.others, done.written) == (("P-1",), ("P-2", "P-3"), 0)
    assert done.plugins == {"notifications": 2}
    assert done.fields["complainant.name"] == 1 and done.fields["complainant.phone"] == 2
    assert snapshot(desk) == before


def test_a_second_erasure_changes_nothing(desk: Desk) -> None:
    seed(desk)
    erase_person(desk, phone=PHONE, email=None, customer_id=None, reason="r", dry_run=False)
    after = snapshot(desk)
    again = erase_person(
        desk, phone=PHONE, email=EMAIL, customer_id="C-0042", reason="r", dry_run=False
    )
    assert (again.own, again.others, again.plugins) == ((), (), {"notifications": 0})
    assert snapshot(desk) == after


def test_a_failing_plugin_stops_the_erasure_before_any_complaint(desk: Desk) -> None:
    class Broken:
        @hookimpl
        def erase_personal_data(self) -> None:
            raise OSError("crm unreachable")

    seed(desk)
    desk.host.register(Broken(), "crm-sync")
    complaints_before = snapshot(desk)[0]
    with pytest.raises(ComplaintkitError, match="crm-sync: OSError: crm unreachable"):
        erase_person(desk, phone=PHONE, email=None, customer_id=None, reason="r", dry_run=False)
    assert snapshot(desk)[0] == complaints_before


def test_person_matches_phone_numbers_in_any_spelling() -> None:
    person = Person.of(phones=["+86 138-1234-5678", "+1 (415) 555-0132"], emails=["A@B.cn"])
    for written in ("13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "(415) 555-0132"):
        assert person.replace(f"call {written}.") == (f"call {ERASED}.", 1), written
    assert person.replace("order 2138123456789 and a@b.cn.") == (
        f"order 2138123456789 and {ERASED}.",
        1,
    )
    assert person.is_identifier("8613812345678") and not person.is_identifier("SO-13812345678")


# --- the command ------------------------------------------------------------------------------


def ck(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["--store", "tinydb://s.json", "--actor", "dpo", *args])
    assert result.exit_code == code, result.output
    return result


def test_the_command_dry_run_then_erase_leaves_nothing_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    ck("init")
    ck("add", "--text", f"{NAME}的快递丢了 {EMAIL}", "--name", NAME, "--phone", PHONE)
    ck("add", "--text", "Another", "--phone", "+86 138 1234 5678", "--email", EMAIL)
    ck("add", "--text", "someone else", "--phone", "13900001111")
    raw = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert PHONE in raw and EMAIL in raw and NAME in raw
    dry = ck("person", "erase", "--phone", PHONE, "--reason", "DSR-1", "--dry-run").stdout
    assert "2 complaint(s) of the person would be anonymised" in dry
    assert "dry run: nothing was changed" in dry
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == raw
    done = ck("person", "erase", "--phone", PHONE, "--reason", "DSR-1").stdout
    assert "2 complaint(s) of the person were anonymised" in done
    raw = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert PHONE not in raw and EMAIL not in raw and NAME not in raw
    assert raw.count("personal_data_erased") == 2
    assert "13900001111" in raw
    assert "name the person" in ck("person", "erase", "--reason", "x", code=2).output
    assert (
        "not a phone number"
        in ck("person", "erase", "--phone", "12", "--reason", "x", code=2).output
    )


def test_erasure_with_a_store_without_outbox(tmp_path: Path) -> None:
    class Plain:
        """A store that keeps no outbox: erasing still works."""

    host = make_host(Config(store=f"tinydb://{tmp_path / 'c.json'}"), env={})
    store: Store = host.open_store()
    counts, failures = host.erase_personal_data(store, Person.of(phones=[PHONE]), dry_run=True)
    assert (counts, failures) == ({"notifications": 0}, [])
    counts, failures = host.erase_personal_data(Plain(), Person.of(phones=[PHONE]), dry_run=True)  # type: ignore[arg-type]
    assert (counts, failures) == ({"notifications": 0}, [])
    store.close()


@pytest.mark.parametrize(
    "text",
    [
        "call 138 1234 5678 2 times",
        "tel:+86-138-1234-5678; or 010-6234-5678",
        "numbers 99 13812345678 and 42",
        "mail ZHANG.SANFENG@Example.com.",
        "(zhang.sanfeng@example.com)",
        "C-0042",
    ],
)
def test_the_index_finds_every_complaint_a_scrub_would_change(text: str) -> None:
    from complaintkit_privacy.erasure import MentionIndex, Scrub, scrub_complaint

    person = Person.of(phones=[PHONE], emails=[EMAIL], customer_ids=["C-0042"])
    complaint = make_complaint("X-1", text="neutral", custom={"note": text})
    complaint = attrs.evolve(
        complaint,
        history=(attrs.evolve(complaint.history[0], data={"v": text}),)
        if complaint.history
        else (),
        title=text,
    )
    index = MentionIndex()
    index.add(complaint)
    assert index.candidates(person) == {"X-1"}
    scrubbed = scrub_complaint(
        complaint, Scrub(person, own=False, fields=()), at=T0, actor="a", reason="r", scope="s"
    )
    assert scrubbed is not complaint and ERASED in (scrubbed.title or "")
    assert index.candidates(Person.of(phones=["13900001111"], emails=["a@b.cn"])) == set()


def test_an_erased_complaint_shows_the_token_unmasked(desk: Desk) -> None:
    seed(desk)
    erase_person(desk, phone=PHONE, email=None, customer_id=None, reason="r", dry_run=False)
    shown = desk.host.mask(desk.get("P-1"))
    assert shown.complainant.name == ERASED
    assert shown.text.startswith(f"我是{ERASED}，") and shown.title == f"{ERASED}投诉快递"
