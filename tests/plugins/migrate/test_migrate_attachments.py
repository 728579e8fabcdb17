"""``complaintkit migrate`` carries the attachments with the complaints, between any two
backends, resumes without copying a file twice, and refuses a different file of the same name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from complaintkit import Config, Desk, MigrationError, make_host
from complaintkit.attachments import attachments_of
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from complaintkit_migrate.attachments import copy_attachments, verify_attachments

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


def _source(path: Path) -> str:
    url = f"tinydb://{path}"
    host = make_host(Config(store=url), env={})
    with host.open_store(create=True) as store:
        desk = Desk(host, store, actor="李雷")
        for reference in ("CK-1", "CK-2", "CK-3"):
            desk.intake(make_complaint(reference), classify=False)
        desk.attach("CK-1", "invoice.pdf", PDF)
        desk.attach("CK-1", "photo.png", PNG)
        desk.attach("CK-3", "same.pdf", PDF)
    return url


def migrate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["migrate", *args])


def _files(url: str) -> dict[str, list[tuple[str, str, bytes]]]:
    with make_host(Config(store=url), env={}).open_store() as store:
        files = attachments_of(store)
        return {
            reference: [
                (a.name, a.added_by, files.content(reference, a.name))
                for a in files.list(reference)
            ]
            for reference in files.references()
        }


def test_tinydb_to_sqlite_and_back_carries_every_file(tmp_path: Path) -> None:
    source = _source(tmp_path / "a.json")
    middle = f"sqlite:///{tmp_path / 'b.db'}"
    result = migrate(source, middle)
    assert result.exit_code == 0, result.output
    assert "copied 3 attachments (0 already there and equal)" in result.output
    assert _files(middle) == _files(source)
    assert _files(middle)["CK-1"][0] == ("invoice.pdf", "李雷", PDF)
    back = f"tinydb://{tmp_path / 'c.json'}"
    assert migrate(middle, back).exit_code == 0
    assert _files(back) == _files(source)
    again = migrate(source, middle)  # resumed: nothing copied twice
    assert again.exit_code == 0 and "copied 0 attachments (3 already there" in again.output


def test_tinydb_to_postgresql_carries_every_file(tmp_path: Path, postgres_url: str) -> None:
    source = _source(tmp_path / "a.json")
    result = migrate(source, postgres_url)
    assert result.exit_code == 0, result.output
    assert _files(postgres_url) == _files(source)


def test_a_different_file_of_the_same_name_is_refused(tmp_path: Path) -> None:
    source = _source(tmp_path / "a.json")
    middle = f"sqlite:///{tmp_path / 'b.db'}"
    assert migrate(source, middle).exit_code == 0
    with make_host(Config(store=middle), env={}).open_store() as store:
        files = attachments_of(store)
        files.remove("CK-1", "photo.png")
        (kept,) = [a for a in attachments_of(store).list("CK-1")]
        desk = Desk(make_host(Config(store=middle), env={}), store)
        desk.attach("CK-1", "photo.png", PNG + b"other")
    with (
        make_host(Config(store=source), env={}).open_store() as a,
        make_host(Config(store=middle), env={}).open_store() as b,
    ):
        assert verify_attachments(a, b) == ["attachments of CK-1 differ: photo.png"]
        with pytest.raises(MigrationError, match=r"another file as attachment 'photo\.png'"):
            copy_attachments(a, b)
    assert kept.name == "invoice.pdf"
