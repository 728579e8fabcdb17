"""Erasing a person deletes the files attached to their own complaints (photos, invoices:
personal data no text scrub reaches), on every backend; other complaints keep theirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from privacy_stores import store_url

from complaintkit import Config, Desk, Party, make_host
from complaintkit.testing import make_complaint
from complaintkit_privacy.person import erase_person

__all__ = ["store_url"]  # the fixture, one test per backend

PHONE = "13812345678"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def desk(store_url: str, tmp_path: Path) -> Iterator[Desk]:
    host = make_host(Config(store=store_url), env={})
    store = host.open_store()
    yield Desk(host, store, actor="dpo")
    store.close()


def test_erase_deletes_the_files_of_the_persons_complaints(desk: Desk) -> None:
    desk.intake(make_complaint("P-1", complainant=Party(phone=PHONE)), classify=False)
    desk.intake(make_complaint("P-2", complainant=Party(phone="13900001111")), classify=False)
    desk.attach("P-1", "id-card.png", PNG)
    desk.attach("P-1", "letter.txt", b"my phone is 13812345678\n")
    desk.attach("P-2", "photo.png", PNG)
    dry = erase_person(desk, phone=PHONE, email=None, customer_id=None, reason="r", dry_run=True)
    assert dry.plugins["attachments"] == 2
    assert len(desk.attachments("P-1")) == 2  # a dry run deletes nothing
    done = erase_person(
        desk, phone=PHONE, email=None, customer_id=None, reason="DSR-9", dry_run=False
    )
    assert done.plugins["attachments"] == 2
    assert desk.attachments("P-1") == []
    assert [a.name for a in desk.attachments("P-2")] == ["photo.png"]
    again = erase_person(desk, phone=PHONE, email=None, customer_id=None, reason="r", dry_run=False)
    assert "attachments" not in again.plugins  # nothing left to delete
