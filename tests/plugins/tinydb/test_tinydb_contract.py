"""SafeJSONStorage keeps TinyDB's ``JSONStorage`` contract: its arguments, its exceptions, and
a first write that needs no read. TinyDB's own suite runs against it too (``upstream/``); these
are the cases found by that suite, and what it cannot check for our storage."""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

import pytest
from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import JSONStorage
from upstream.conftest import VENDORED

from complaintkit.errors import StorageError
from complaintkit_tinydb.storage import NotJSONError, SafeJSONStorage, UnserialisableError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "db.json"


def test_the_vendored_suite_is_for_the_installed_tinydb() -> None:
    installed = version("tinydb")
    assert installed.split(".")[:2] == VENDORED.split(".")[:2], (
        f"tests/plugins/tinydb/upstream holds TinyDB {VENDORED}'s tests but TinyDB {installed} "
        "is installed: refresh them as SOURCE.md there says"
    )


def test_a_fresh_instance_may_start_with_a_write(path: Path) -> None:
    with TinyDB(path, storage=SafeJSONStorage) as db:
        db.insert({"x": 1})
    # drop_tables() writes without reading: nothing was read, so nothing can be stale.
    with TinyDB(path, storage=SafeJSONStorage) as db:
        db.drop_tables()
        db.insert_multiple({"x": i} for i in range(3))
        assert [doc["x"] for doc in db.all()] == [0, 1, 2]
    assert json.loads(path.read_bytes()) == {
        "_default": {"1": {"x": 0}, "2": {"x": 1}, "3": {"x": 2}}
    }


def test_a_write_based_on_a_stale_read_is_still_refused(path: Path) -> None:
    with (
        TinyDB(path, storage=SafeJSONStorage) as mine,
        TinyDB(path, storage=SafeJSONStorage) as theirs,
    ):
        mine.insert({"x": 1})
        storage = mine.storage
        stale = storage.read()
        assert stale is not None
        theirs.insert({"x": 2})
        with pytest.raises(StorageError, match="changed by another process"):
            storage.write(stale)
        assert len(mine) == 2


def test_a_document_json_cannot_hold_is_a_type_error_and_nothing_changes(path: Path) -> None:
    with TinyDB(path, storage=SafeJSONStorage) as db:
        db.insert_multiple([{"int": 1}, {"int": 2}])
        before = path.read_bytes()
        with pytest.raises(TypeError) as info:
            db.insert({"int": db})
        # Also a StorageError, so complaintkit's commands report it like any storage failure.
        assert isinstance(info.value, UnserialisableError | StorageError)
        assert "it was not modified" in str(info.value)
        assert path.read_bytes() == before
        assert db.all() == [{"int": 1}, {"int": 2}]
        db.insert({"int": 3})
        assert len(db) == 3


def test_caching_middleware_writes_on_close_and_the_file_is_released(path: Path) -> None:
    with TinyDB(path, storage=CachingMiddleware(SafeJSONStorage)) as db:
        db.insert({"key": "value"})
        assert not path.exists()  # cached until close
        storage = db.storage.storage
    assert path.stat().st_size > 0
    # Closed: the descriptor kept open to pin the file's inode is gone.
    assert storage._pinned is None and not storage.lock.held
    with TinyDB(path, storage=CachingMiddleware(SafeJSONStorage)) as db:
        assert db.all() == [{"key": "value"}]


def test_a_missing_folder_is_refused_unless_create_dirs(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "db.json"
    with pytest.raises(FileNotFoundError, match="create_dirs=True"):
        SafeJSONStorage(target)
    storage = SafeJSONStorage(target, create_dirs=True)
    assert not (tmp_path / "a").exists()  # nothing is created before the first write
    storage.write({"_default": {"1": {"x": 1}}})
    storage.close()
    assert json.loads(target.read_bytes()) == {"_default": {"1": {"x": 1}}}


def test_read_only_access_mode(path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        TinyDB(path, storage=SafeJSONStorage, access_mode="r")
    assert not path.exists()
    with TinyDB(path, storage=SafeJSONStorage) as db:
        db.insert({"a": 1})
    before = path.read_bytes()
    with TinyDB(path, storage=SafeJSONStorage, access_mode="r") as db:
        assert db.all() == [{"a": 1}]
        with pytest.raises(OSError, match="access_mode 'r'"):
            db.insert({"b": 2})
    assert path.read_bytes() == before


def test_other_access_modes_warn_as_in_tinydb_and_never_truncate(path: Path) -> None:
    with TinyDB(path, storage=SafeJSONStorage) as db:
        db.insert({"a": 1})
    with (
        pytest.warns(UserWarning, match="Using an `access_mode` other than"),
        TinyDB(path, storage=SafeJSONStorage, access_mode="w") as db,
    ):
        assert db.all() == [{"a": 1}]


def test_json_dumps_options_shape_the_file_as_json_storage_does(tmp_path: Path) -> None:
    options = {"sort_keys": True, "indent": 4, "separators": (",", ": "), "ensure_ascii": True}
    for name, storage in (("ours.json", SafeJSONStorage), ("theirs.json", JSONStorage)):
        with TinyDB(tmp_path / name, storage=storage, **options) as db:
            db.insert({"b": 1, "a": "投诉"})
    assert (tmp_path / "ours.json").read_text() == (tmp_path / "theirs.json").read_text()
    assert '"\\u6295\\u8bc9"' in (tmp_path / "ours.json").read_text()


def test_options_orjson_can_honour_keep_it(path: Path) -> None:
    with TinyDB(path, storage=SafeJSONStorage, sort_keys=True, indent=2, ensure_ascii=False) as db:
        db.insert({"b": 1, "a": "投诉"})
    expected = json.dumps(
        {"_default": {"1": {"a": "投诉", "b": 1}}}, indent=2, sort_keys=True, ensure_ascii=False
    )
    assert path.read_text(encoding="utf-8") == expected


def test_an_unknown_keyword_is_refused_at_once(path: Path) -> None:
    with pytest.raises(TypeError, match="unexpected keyword arguments indnet"):
        SafeJSONStorage(path, indnet=2)


def test_encoding(path: Path) -> None:
    doc = {"_default": {"1": {"text": "こんにちは世界"}}}
    storage = SafeJSONStorage(path, encoding="cp936")
    storage.write(doc)
    storage.close()
    assert json.loads(path.read_bytes().decode("cp936")) == doc
    assert SafeJSONStorage(path, encoding="cp936").read() == doc
    with pytest.raises(json.JSONDecodeError) as info:
        SafeJSONStorage(path, encoding="utf-16").read()
    assert isinstance(info.value, NotJSONError | StorageError)
    assert str(path) in str(info.value) and "not modified" in str(info.value)


def test_a_file_that_is_not_json_is_a_json_decode_error_and_a_storage_error(path: Path) -> None:
    path.write_bytes(b'{"_default": {"1": ')
    with pytest.raises(json.JSONDecodeError) as info:
        TinyDB(path, storage=SafeJSONStorage).all()
    assert isinstance(info.value, StorageError)
    assert info.value.pos == 19 and info.value.lineno == 1
    assert "is not valid JSON" in str(info.value)


def test_nan_written_by_json_storage_is_read(path: Path) -> None:
    with TinyDB(path, storage=JSONStorage) as db:
        db.insert({"score": float("inf")})
    with TinyDB(path, storage=SafeJSONStorage) as db:
        assert db.all() == [{"score": float("inf")}]


def test_the_store_still_refuses_a_table_that_is_not_an_object(path: Path) -> None:
    from complaintkit_tinydb.store import open_tinydb

    path.write_bytes(b'{"complaints": {}, "notes": [1]}')
    with pytest.raises(StorageError, match="table 'notes' is not a JSON object"):
        open_tinydb(f"tinydb://{path}")
    # A plain TinyDB user's storage reads whatever object the file holds, as JSONStorage does.
    assert SafeJSONStorage(path).read() == {"complaints": {}, "notes": [1]}
    assert os.path.getsize(path) == len(b'{"complaints": {}, "notes": [1]}')
