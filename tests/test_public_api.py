"""One public API, enforced: the core's single export list, and plugins and the CLI importing
only public names (import-linter, in ``make lint``, keeps the layers apart)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

import complaintkit
from conftest import REPO

INIT = REPO / "src" / "complaintkit" / "__init__.py"
CONSUMERS = sorted([*(REPO / "plugins").rglob("*.py"), *(REPO / "cli").rglob("*.py")])


def _type_checking_imports() -> dict[str, tuple[str, ...]]:
    """What ``if TYPE_CHECKING:`` in complaintkit/__init__.py imports, by module."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.level == 1, ast.dump(item)
                assert all(a.asname == a.name for a in item.names), "write `X as X`"
                found[item.module or ""] = tuple(a.name for a in item.names)
    return found


def test_the_export_list_is_the_one_the_type_checkers_see() -> None:
    exports = {module: tuple(names) for module, names in complaintkit._EXPORTS.items()}
    assert {m: sorted(n) for m, n in _type_checking_imports().items()} == {
        m: sorted(n) for m, n in exports.items()
    }
    assert sorted(complaintkit.__all__) == sorted(
        ["hookimpl", *(n for names in exports.values() for n in names)]
    )
    assert len(set(complaintkit.__all__)) == len(complaintkit.__all__)


@pytest.mark.parametrize("name", sorted(complaintkit.__all__))
def test_every_exported_name_is_what_its_module_defines(name: str) -> None:
    value = getattr(complaintkit, name)
    module = complaintkit._WHERE.get(name)
    if module is not None:
        source = importlib.import_module(f"complaintkit.{module}")
        assert value is getattr(source, name)
        assert name in getattr(source, "__all__", ()), f"{name} is not in {source.__name__}"


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every ``from complaintkit… import name`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.level == 0
        and node.module
        and (node.module == "complaintkit" or node.module.startswith("complaintkit."))
        for alias in node.names
    ]


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def test_plugins_and_the_cli_import_only_public_names() -> None:
    private: list[str] = []
    for path in CONSUMERS:
        for line, module, name in _imports(path):
            parts = module.split(".")
            public = (
                set(complaintkit.__all__)
                if module == "complaintkit"
                else set(getattr(importlib.import_module(module), "__all__", ()))
            )
            submodule = _is_module(f"{module}.{name}")
            if any(p.startswith("_") for p in [*parts, name]) or not (name in public or submodule):
                private.append(f"{path.relative_to(REPO)}:{line}: {module}.{name}")
    assert private == []


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from complaintkit.host import _describe\nfrom complaintkit import Desk\n",
        encoding="utf-8",
    )
    found = [(m, n) for _, m, n in _imports(sneaky)]
    assert found == [("complaintkit.host", "_describe"), ("complaintkit", "Desk")]
    assert "_describe" not in complaintkit.host.__all__


def test_one_language_rule_for_every_figure_given_per_language() -> None:
    from complaintkit import text_language
    from complaintkit_ml.features import language
    from complaintkit_schemes.evaluation import language_of

    cases = {
        "The courier lost my parcel": "en",
        "快递丢了": "zh",
        "iPhone 15 Pro Max 屏幕坏了": "zh",
        "Order ORD-1 for 张三 was late and nobody called back": "en",
        "The shop on 王府井 was rude to me again": "en",
        "我在北京王府井大街的店里买的 MacBook Pro 坏了": "zh",
        "": "en",
    }
    for text, expected in cases.items():
        assert text_language(text) == expected, text
        assert language(text) == language_of(text) == expected, text


def test_no_module_of_the_core_is_over_600_lines() -> None:
    """Issue 14's limit: a core module that grows past it is split by concern (the desk's
    case-work methods went to ``desk/casefile.py`` when ``desk/__init__.py`` reached 668)."""
    core = REPO / "src" / "complaintkit"
    sizes = {
        str(path.relative_to(core)): len(path.read_text(encoding="utf-8").splitlines())
        for path in core.rglob("*.py")
        if "testing" not in path.relative_to(core).parts
    }
    assert len(sizes) > 40  # the walk found the core
    assert {name: n for name, n in sizes.items() if n > 600} == {}
