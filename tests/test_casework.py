"""Case work through the desk, on a TinyDB file and a SQLite database: editing fields,
internal notes, attachments, merging duplicates, reopening a rejected complaint."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from complaintkit import (
    AttachmentNotFound,
    Channel,
    Complaint,
    ConflictError,
    Desk,
    EscalationLevel,
    NotFoundError,
    Party,
    Status,
    Store,
    TransitionRejected,
    ValidationError,
    attachments_of,
)
from complaintkit.attachments import MAX_NAME, AttachmentSettings, safe_name, sniff
from complaintkit.config import Config
from complaintkit.facts import facts_of
from complaintkit.host import make_host
from complaintkit.testing import make_complaint
from complaintkit.testing.fixtures import TickingClock

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64)


@pytest.fixture(params=["tinydb", "sqlite"])
def ck_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test here runs on a TinyDB file and on a SQLite database."""
    if request.param == "tinydb":
        return f"tinydb://{tmp_path / 'complaints.json'}"
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture
def desk(ck_desk: Desk) -> Desk:
    ck_desk.intake(
        make_complaint(
            "CK-1",
            complainant=Party(name="王小明", phone="138 0013 8000"),
            product="BCD-520",
            tags=("fridge",),
            custom={"region": "华东"},
        ),
        classify=False,
    )
    return ck_desk


def unchanged(store: Store, before: Complaint) -> bool:
    return store.get(before.reference) == before


# --- editing --------------------------------------------------------------------------------


def test_an_edit_records_old_and_new_value_of_every_field_changed(desk: Desk) -> None:
    changed = desk.edit(
        "CK-1",
        {"phone": "139 0000 1111", "product": "BCD-521", "custom.store": "S-9", "channel": "微信"},
        add_tags=["vip"],
        reason="customer called back",
        actor="李雷",
    )
    assert changed.complainant == Party(name="王小明", phone="139 0000 1111")
    assert (changed.product, changed.channel, changed.tags) == (
        "BCD-521",
        Channel.WECHAT,
        ("fridge", "vip"),
    )
    assert changed.custom == {"region": "华东", "store": "S-9"}
    event = changed.history[-1]
    assert (event.action, event.actor, event.reason) == ("edit", "李雷", "customer called back")
    assert event.data == {
        "complainant.phone": {"from": "138 0013 8000", "to": "139 0000 1111"},
        "product": {"from": "BCD-520", "to": "BCD-521"},
        "custom.store": {"from": None, "to": "S-9"},
        "channel": {"from": "other", "to": "wechat"},
        "tags": {"from": ["fridge"], "to": ["fridge", "vip"]},
    }
    assert desk.get("CK-1") == changed


def test_unset_removes_a_value_and_remove_tag_a_tag(desk: Desk) -> None:
    changed = desk.edit(
        "CK-1", {"custom.region": None, "phone": None}, remove_tags=["fridge"], reason="wrong"
    )
    assert (changed.custom, changed.complainant.phone, changed.tags) == ({}, None, ())
    assert changed.history[-1].data["custom.region"] == {"from": "华东", "to": None}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"product": 5}, "field product: expected text, got int"),
        ({"tags": "vip"}, "field tags: expected a list of texts"),
        ({"channel": "pigeon"}, "field channel"),
        ({"phone": "12"}, "field complainant.phone: '12' is not a phone number"),
        ({"email": "nobody"}, "field complainant.email: 'nobody' is not an e-mail address"),
        ({"title": "   "}, "field title: empty; to remove the value, unset it"),
        ({"order": "O-1\x00"}, "field order: contains characters no store can hold (U+0000)"),
        ({"custom.x": float("nan")}, "field custom.x: nan is not a finite number"),
        ({"product": "P" * 300}, "field product: 300 characters, longer than the 255"),
    ],
)
def test_a_bad_edit_names_the_field_and_writes_nothing(
    desk: Desk, ck_store: Store, changes: dict[str, object], message: str
) -> None:
    before = ck_store.get("CK-1")
    with pytest.raises(ValidationError, match="edit of complaint CK-1") as info:
        desk.edit("CK-1", changes, reason="fix")
    assert message in str(info.value)
    assert unchanged(ck_store, before)


def test_an_edit_needs_a_reason_and_something_to_change(desk: Desk, ck_store: Store) -> None:
    before = ck_store.get("CK-1")
    with pytest.raises(ValidationError, match="a reason is required"):
        desk.edit("CK-1", {"product": "X"}, reason=" ")
    with pytest.raises(ValidationError, match="nothing to change"):
        desk.edit("CK-1", {}, reason="fix")
    with pytest.raises(ValidationError, match="it has no tag 'vip'"):
        desk.edit("CK-1", {}, remove_tags=["vip"], reason="fix")
    assert unchanged(ck_store, before)


def test_an_edit_to_the_values_already_stored_writes_nothing(desk: Desk, ck_store: Store) -> None:
    before = ck_store.get("CK-1")
    assert desk.edit("CK-1", {"product": "BCD-520"}, add_tags=["fridge"], reason="x") == before
    assert unchanged(ck_store, before)


def test_a_stale_expected_version_is_refused(desk: Desk, ck_store: Store) -> None:
    seen = ck_store.get("CK-1").version
    desk.add_note("CK-1", "someone else got there first")
    before = ck_store.get("CK-1")
    with pytest.raises(ConflictError, match=f"you had version {seen}"):
        desk.edit("CK-1", {"product": "X"}, reason="fix", expected_version=seen)
    assert unchanged(ck_store, before)
    changed = desk.edit("CK-1", {"product": "X"}, reason="fix", expected_version=before.version)
    assert changed.version == before.version + 1


def test_editing_an_unknown_complaint_is_not_found(desk: Desk) -> None:
    with pytest.raises(NotFoundError):
        desk.edit("NOPE", {"product": "X"}, reason="fix")


# --- notes ----------------------------------------------------------------------------------


def test_notes_are_recorded_with_their_author_and_listed(desk: Desk) -> None:
    desk.add_note("CK-1", "  customer is hard of hearing; call slowly  ")
    desk.add_note("CK-1", "第二条备注", actor="李雷")
    notes = desk.notes(desk.get("CK-1"))
    assert [(n.actor, n.data["text"]) for n in notes] == [
        ("tester", "customer is hard of hearing; call slowly"),
        ("李雷", "第二条备注"),
    ]


def test_an_empty_note_is_refused(desk: Desk, ck_store: Store) -> None:
    before = ck_store.get("CK-1")
    with pytest.raises(ValidationError, match="the note is empty"):
        desk.add_note("CK-1", " \n ")
    assert unchanged(ck_store, before)


# --- attachments ----------------------------------------------------------------------------


def test_an_attachment_is_stored_and_recorded(desk: Desk) -> None:
    complaint, stored = desk.attach("CK-1", "invoice.pdf", PDF, actor="李雷")
    assert (stored.name, stored.size, stored.media_type) == (
        "invoice.pdf",
        len(PDF),
        "application/pdf",
    )
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    event = complaint.history[-1]
    assert (event.action, event.actor) == ("attach", "李雷")
    assert event.data == {
        "name": "invoice.pdf",
        "size": len(PDF),
        "sha256": stored.sha256,
        "type": "application/pdf",
    }
    assert desk.attachments("CK-1") == [stored]
    assert desk.attachment("CK-1", "invoice.pdf") == (stored, PDF)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\notes.txt", "notes.txt"),
        ("a\x00b.txt", "a_b.txt"),
        ("..\\..\\x.txt", "x.txt"),
        ("line\nbreak.txt", "line_break.txt"),
        ("CON.txt", "_CON.txt"),
        ("  .hidden.txt  ", "hidden.txt"),
    ],
)
def test_names_cannot_leave_the_folder(
    desk: Desk, ck_store_url: str, tmp_path: Path, given: str, kept: str
) -> None:
    _, stored = desk.attach("CK-1", given, b"plain text\n")
    assert stored.name == kept
    assert desk.attachment("CK-1", kept)[1] == b"plain text\n"
    assert desk.get("CK-1").history[-1].data["given_name"] == given
    # A name never becomes a path: no file anywhere under the store's folder is called so,
    # and the store wrote only its own files (with their lock and journal files) there.
    assert not [p for p in tmp_path.rglob("*") if p.name in (kept, Path(given).name)]
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*")}
    assert {name.split(".")[0] for name in written} == {"complaints"}


def test_a_very_long_name_is_cut_keeping_its_extension() -> None:
    name = safe_name("报告" * 200 + ".pdf")
    assert len(name) == MAX_NAME and name.endswith(".pdf")
    for hopeless in ("..", "", "/", "\x00"):
        with pytest.raises(ValidationError, match="no usable file name"):
            safe_name(hopeless)


def test_a_file_over_the_size_limit_is_refused_whole(
    ck_store_url: str, ck_store: Store, ck_clock: TickingClock
) -> None:
    host = make_host(Config(store=ck_store_url, data={"attachments": {"max_size": "1 KB"}}), env={})
    desk = Desk(host, ck_store, actor="tester", clock=ck_clock)
    desk.intake(make_complaint("CK-1"), classify=False)
    before = ck_store.get("CK-1")
    with pytest.raises(ValidationError, match="1,001 bytes, more than the 1,000 allowed"):
        desk.attach("CK-1", "big.txt", b"x" * 1001)
    assert unchanged(ck_store, before)
    assert desk.attachments("CK-1") == []
    desk.attach("CK-1", "fits.txt", b"x" * 1000)


def test_the_type_comes_from_the_content(desk: Desk, ck_store: Store) -> None:
    before = ck_store.get("CK-1")
    program = b"MZ\x90\x00" + bytes(200)
    with pytest.raises(ValidationError, match=r"name says application/pdf .* content is app"):
        desk.attach("CK-1", "invoice.pdf", program)
    with pytest.raises(ValidationError, match="type application/x-msdownload is not allowed"):
        desk.attach("CK-1", "setup.exe", program)
    with pytest.raises(ValidationError, match="name says image/png"):
        desk.attach("CK-1", "photo.png", PDF)
    with pytest.raises(ValidationError, match="application/octet-stream is not allowed"):
        desk.attach("CK-1", "data.bin", bytes(range(256)))
    with pytest.raises(ValidationError, match="the file is empty"):
        desk.attach("CK-1", "empty.txt", b"")
    assert unchanged(ck_store, before)
    assert desk.attachments("CK-1") == []


def test_the_allow_list_comes_from_the_configuration(
    ck_store_url: str, ck_store: Store, ck_clock: TickingClock
) -> None:
    config = Config(store=ck_store_url, data={"attachments": {"allowed_types": ["image/png"]}})
    desk = Desk(make_host(config, env={}), ck_store, actor="tester", clock=ck_clock)
    desk.intake(make_complaint("CK-1"), classify=False)
    with pytest.raises(ValidationError, match=r"application/pdf is not allowed .*image/png"):
        desk.attach("CK-1", "invoice.pdf", PDF)
    assert desk.attach("CK-1", "photo", PNG)[1].media_type == "image/png"


def test_attachment_settings_name_a_mistake() -> None:
    from complaintkit import ConfigError

    for section, message in [
        ({"max_size": "lots"}, 'max_size: expected e.g. "10 MB"'),
        ({"max_size": 0}, "max_size: must be more than 0"),
        ({"allowed_types": "image/png"}, "allowed_types: expected a list"),
        ({"max_sise": 5}, "unknown key(s) max_sise"),
    ]:
        with pytest.raises(ConfigError, match=r"\[attachments\]") as info:
            AttachmentSettings.from_config(Config(data={"attachments": section}))
        assert message in str(info.value)
    assert AttachmentSettings.from_config(Config()).max_size == 10_000_000
    size = AttachmentSettings.from_config(Config(data={"attachments": {"max_size": "2 MiB"}}))
    assert size.max_size == 2 * 1024 * 1024


def test_sniffing_common_types() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0" + bytes(20)) == "image/jpeg"
    assert sniff(b"GIF89a" + bytes(20)) == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff("中文投诉记录\n".encode()) == "text/plain"
    assert sniff(b"\x7fELF" + bytes(20)) == "application/x-executable"
    assert sniff(b"PK\x03\x04" + bytes(30)) == "application/octet-stream"  # a broken zip
    assert sniff(b"text with a bell \a") == "application/octet-stream"


def test_detach_removes_it_and_the_history_keeps_what_it_was(desk: Desk) -> None:
    _, stored = desk.attach("CK-1", "invoice.pdf", PDF)
    complaint = desk.detach("CK-1", "invoice.pdf", reason="wrong customer's invoice")
    assert desk.attachments("CK-1") == []
    event = complaint.history[-1]
    assert (event.action, event.reason, event.data["sha256"]) == (
        "detach",
        "wrong customer's invoice",
        stored.sha256,
    )
    with pytest.raises(AttachmentNotFound, match=r"no attachment named 'invoice\.pdf'"):
        desk.detach("CK-1", "invoice.pdf")


def test_attaching_to_an_unknown_complaint_stores_nothing(desk: Desk, ck_store: Store) -> None:
    with pytest.raises(NotFoundError):
        desk.attach("NOPE", "invoice.pdf", PDF)
    assert list(attachments_of(ck_store).references()) == []


def test_a_name_taken_is_refused_without_a_history_entry(desk: Desk, ck_store: Store) -> None:
    from complaintkit import AttachmentExistsError

    desk.attach("CK-1", "invoice.pdf", PDF)
    before = ck_store.get("CK-1")
    with pytest.raises(AttachmentExistsError):
        desk.attach("CK-1", "invoice.pdf", PDF + b"\n")
    assert unchanged(ck_store, before)


def test_an_attach_stopped_before_its_event_is_finished_by_attaching_again(
    desk: Desk, ck_store: Store
) -> None:
    from complaintkit import AttachmentExistsError
    from complaintkit.attachments import Attachment

    # What a crash between keeping the file and writing its event leaves: a file, no event.
    digest = hashlib.sha256(PDF).hexdigest()
    files = attachments_of(ck_store)
    at = ck_store.get("CK-1").received_at
    files.put(Attachment("CK-1", "invoice.pdf", len(PDF), digest, "application/pdf", at, "a"), PDF)
    with pytest.raises(AttachmentExistsError):  # other content under that name: refused
        desk.attach("CK-1", "invoice.pdf", PDF + b"\n")
    complaint, stored = desk.attach("CK-1", "invoice.pdf", PDF)
    assert [(e.action, e.data["sha256"]) for e in complaint.history if e.action == "attach"] == [
        ("attach", digest)
    ]
    assert stored.sha256 == digest and [a.name for a in desk.attachments("CK-1")] == ["invoice.pdf"]
    before = ck_store.get("CK-1")
    with pytest.raises(AttachmentExistsError):  # now recorded: the name is taken
        desk.attach("CK-1", "invoice.pdf", PDF)
    assert unchanged(ck_store, before)


# --- merging --------------------------------------------------------------------------------


@pytest.fixture
def twins(desk: Desk) -> Desk:
    desk.intake(
        make_complaint("CK-2", tags=("fridge", "repeat")),
        classify=False,
    )
    desk.add_note("CK-2", "same fridge as CK-1", actor="王芳")
    desk.attach("CK-2", "photo.png", PNG)
    desk.attach("CK-1", "photo.png", PNG + b"1")
    return desk


def test_merge_carries_tags_notes_and_attachments_and_both_histories_say_so(twins: Desk) -> None:
    kept, dup = twins.merge("CK-1", "CK-2", reason="the same case")
    assert (dup.status, dup.parent) == (Status.REJECTED, "CK-1")
    merge = dup.history[-1]
    assert (merge.action, merge.reason, merge.data) == (
        "merge",
        "the same case",
        {"from": "received", "to": "rejected", "into": "CK-1"},
    )
    assert kept.tags == ("fridge", "repeat")
    merged = next(e for e in kept.history if e.action == "merged")
    assert merged.data["duplicate"] == "CK-2" and merged.data["notes"] == 1
    assert merged.data["tags"] == ["repeat"]
    # The kept complaint had its own photo.png: the duplicate's comes under another name.
    assert [a["name"] for a in merged.data["attachments"]] == ["photo-CK-2.png"]
    assert [a.name for a in twins.attachments("CK-1")] == ["photo.png", "photo-CK-2.png"]
    assert twins.attachment("CK-1", "photo-CK-2.png")[1] == PNG
    (note,) = twins.notes(kept)
    assert note.data["text"] == "same fridge as CK-1"
    assert (note.data["author"], note.data["merged_from"]) == ("王芳", "CK-2")
    assert kept.status is Status.RECEIVED  # the kept one goes on as it was
    # The duplicate's clocks ended with the merge, as a rejection ends them.
    assert facts_of(dup).resolved_at == merge.at


def test_a_merged_complaint_cannot_be_reopened(twins: Desk) -> None:
    twins.merge("CK-1", "CK-2", reason="the same case")
    with pytest.raises(TransitionRejected, match="merged into CK-1; work on CK-1 instead"):
        twins.transition("CK-2", "reopen", reason="customer insists")


@pytest.mark.parametrize(
    ("keep", "duplicate", "message"),
    [
        ("CK-1", "CK-1", "into itself"),
        ("CK-1", "CK-3", "it is closed"),
        ("CK-4", "CK-2", "cannot merge into complaint CK-4: it is rejected"),
        ("CK-1", "NOPE", "no complaint"),
    ],
)
def test_a_merge_that_cannot_be_is_refused_before_anything_is_written(
    twins: Desk, ck_store: Store, keep: str, duplicate: str, message: str
) -> None:
    twins.intake(make_complaint("CK-3", status=Status.CLOSED), classify=False)
    twins.intake(make_complaint("CK-4", status=Status.REJECTED), classify=False)
    before = {c.reference: c for c in ck_store.find()}
    files = {r: twins.attachments(r) for r in before}
    with pytest.raises((TransitionRejected, NotFoundError), match=message):
        twins.merge(keep, duplicate, reason="same")
    assert {c.reference: c for c in ck_store.find()} == before
    assert {r: twins.attachments(r) for r in before} == files


def test_merge_needs_a_reason(twins: Desk) -> None:
    with pytest.raises(TransitionRejected, match="a reason is required"):
        twins.merge("CK-1", "CK-2", reason="")


def test_the_merge_action_is_not_a_plain_transition(twins: Desk) -> None:
    with pytest.raises(TransitionRejected, match="complaintkit merge KEEP DUPLICATE"):
        twins.transition("CK-2", "merge", reason="same")


# --- reopening a rejected complaint ----------------------------------------------------------


def test_a_wrongly_rejected_complaint_is_reopened_without_escalation(desk: Desk) -> None:
    desk.transition("CK-1", "reject", reason="looked like spam")
    reopened = desk.transition("CK-1", "reopen", reason="it was a real complaint")
    assert reopened.status is Status.REOPENED
    assert reopened.escalation_level is EscalationLevel.FRONT_LINE
    assert reopened.recomplaint_count == 0
    assert [e.action for e in reopened.history[-2:]] == ["reject", "reopen"]
    assert reopened.history[-1].data == {"from": "rejected", "to": "reopened"}
    assert facts_of(reopened).resolved_at is None  # its resolve clock runs again


def test_reopening_a_rejected_complaint_needs_a_reason(desk: Desk, ck_store: Store) -> None:
    desk.transition("CK-1", "reject", reason="spam")
    before = ck_store.get("CK-1")
    with pytest.raises(TransitionRejected, match="a reason is required"):
        desk.transition("CK-1", "reopen")
    assert unchanged(ck_store, before)


def test_desk_find_sorts_newest_first_when_asked(desk: Desk) -> None:
    for i in range(3):
        desk.intake(
            make_complaint(
                f"S-{i}", received_at=desk.get("CK-1").received_at.replace(year=2020 + i)
            ),
            classify=False,
        )
    newest = [c.reference for c in desk.find(sort="-received_at")]
    assert newest[-3:] == ["S-2", "S-1", "S-0"]
    assert [c.reference for c in desk.find(sort="received_at", limit=2)] == ["S-0", "S-1"]


def test_a_merge_stopped_between_its_two_writes_is_finished_by_running_it_again(
    twins: Desk, ck_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = type(ck_store).update

    def lost_after_the_first_write(self: Store, complaint: Complaint) -> Complaint:
        if complaint.reference == "CK-2":
            raise OSError("the connection was lost")
        return real(self, complaint)  # type: ignore[arg-type]

    monkeypatch.setattr(type(ck_store), "update", lost_after_the_first_write)
    with pytest.raises(OSError, match="connection was lost"):
        twins.merge("CK-1", "CK-2", reason="the same case")
    monkeypatch.undo()
    assert ck_store.get("CK-2").status is Status.RECEIVED  # the second write did not happen
    assert [e.action for e in ck_store.get("CK-1").history].count("merged") == 1

    kept, dup = twins.merge("CK-1", "CK-2", reason="the same case")
    assert (dup.status, dup.parent) == (Status.REJECTED, "CK-1")
    assert [e.action for e in kept.history].count("merged") == 1  # carried once, not twice
    assert len(twins.notes(kept)) == 1
    assert kept.tags == ("fridge", "repeat")
    assert [a.name for a in twins.attachments("CK-1")] == ["photo.png", "photo-CK-2.png"]
