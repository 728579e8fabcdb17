"""TinyDB's own test suite (``tinydb_tests/``, vendored unmodified) with our storage in it.

Every test there that uses TinyDB's ``JSONStorage`` — by name, through the ``db`` fixture's
``json`` variant, or as ``TinyDB``'s default storage — gets
:class:`complaintkit_tinydb.storage.SafeJSONStorage` instead. The tests that check something
only ``JSONStorage`` has are skipped with their reason (shown by ``-ra`` in every run), never
dropped silently; a reason listed for a test that no longer exists stops the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from tinydb import TinyDB

from complaintkit_tinydb.storage import SafeJSONStorage

UPSTREAM = Path(__file__).parent / "tinydb_tests"
#: The TinyDB release the tests in ``tinydb_tests/`` come from (see SOURCE.md).
VENDORED = "4.9.0"

#: ``file::test`` → why the test cannot apply to SafeJSONStorage.
NOT_APPLICABLE = {
    "test_middlewares.py::test_caching_json_write": (
        "asserts JSONStorage's private `_handle` file object is closed; SafeJSONStorage has "
        "no `_handle` (it replaces the file on each write and keeps the last one read open as "
        "a descriptor, released by close()). The whole test, with that release checked, runs "
        "in tests/plugins/tinydb/test_tinydb_contract.py"
    ),
    "test_storages.py::test_create_dirs": (
        "asserts that constructing the storage creates the file; SafeJSONStorage creates the "
        "file (and with create_dirs=True its folders) at the first write, so that opening a "
        "complaintkit store never creates one. Refusing a missing folder without create_dirs, "
        "and creating it with, is tested in tests/plugins/tinydb/test_tinydb_contract.py"
    ),
    "test_tables.py::test_table_repr[json]": (
        "matches the storage's class path `tinydb.storages.JSONStorage` in Table's repr; our "
        "class is complaintkit_tinydb.storage.SafeJSONStorage (the [memory] variant runs)"
    ),
}


def _key(item: pytest.Item) -> str:
    return f"{item.path.name}::{item.name}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the not-applicable upstream tests as skipped, with their reason."""
    ours = [item for item in items if UPSTREAM in item.path.parents]
    collected = {_key(item) for item in ours}
    files = {item.path.name for item in ours}
    missing = [
        key for key in NOT_APPLICABLE if key.split("::")[0] in files and key not in collected
    ]
    if missing:
        raise pytest.UsageError(
            f"{__file__}: NOT_APPLICABLE names tests TinyDB's suite no longer has: "
            f"{', '.join(missing)}; update the list"
        )
    for item in ours:
        reason = NOT_APPLICABLE.get(_key(item))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"not applicable to SafeJSONStorage: {reason}"))


def _upstream_conftest(config: pytest.Config) -> ModuleType | None:
    wanted = UPSTREAM / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and getattr(plugin, "__file__", None) == str(wanted):
            return plugin
    return None


@pytest.fixture(autouse=True)
def safe_json_storage(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """``JSONStorage`` is SafeJSONStorage for this test (its module, the upstream fixtures and
    TinyDB's default storage), and only for this test."""
    monkeypatch.setattr(TinyDB, "default_storage_class", SafeJSONStorage)
    for module in (request.module, _upstream_conftest(request.config)):
        if module is not None and hasattr(module, "JSONStorage"):
            monkeypatch.setattr(module, "JSONStorage", SafeJSONStorage)
    yield
