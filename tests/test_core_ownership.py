"""The core is the contract (issue 14): a module of ``src/complaintkit`` is there because the
core itself needs it or because several packages share it. A module that only one plugin, or
only the command line, uses is that package's implementation and belongs beside it
(docs/architecture.md, "The core, module by module")."""

from __future__ import annotations

import ast
from pathlib import Path

import complaintkit
from conftest import REPO

CORE = REPO / "src" / "complaintkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> str:
    """Who a file belongs to: ``core``, ``testing`` (the kit), a plugin's name or ``cli``."""
    relative = path.relative_to(REPO).parts
    if relative[0] == "plugins":
        return relative[1]
    if relative[0] == "cli":
        return "cli"
    return "testing" if "testing" in relative else "core"


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The core modules ``path`` imports, with ``from complaintkit import Name`` counted for the
    module that defines the name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".") if path.is_relative_to(CORE) else []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here if path.name == "__init__.py" else here[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            for alias in node.names:
                found.add(f"{module}.{alias.name}")
                if module == "complaintkit" and alias.name in complaintkit._WHERE:
                    found.add(f"complaintkit.{complaintkit._WHERE[alias.name]}")
    return found & modules


def _users() -> dict[str, set[str]]:
    """Each core module (the testing kit and ``__init__`` aside), and the packages using it:
    ``core`` when another core module does, the kit, plugins, the CLI."""
    core_files = [p for p in CORE.rglob("*.py") if "testing" not in p.relative_to(CORE).parts]
    modules = {_module_name(p) for p in core_files} - {"complaintkit"}
    users: dict[str, set[str]] = {m: set() for m in modules}
    files = [*CORE.rglob("*.py"), *(REPO / "plugins").rglob("*.py"), *(REPO / "cli").rglob("*.py")]
    for path in files:
        if path == CORE / "__init__.py":  # the export list names everything
            continue
        me = _module_name(path) if path.is_relative_to(CORE) else ""
        for module in _imported_modules(path, modules):
            if module != me:
                users[module].add(_package(path))
    return users


def _owned_by_one(users: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        module: who
        for module, who in users.items()
        if not who & {"core", "testing"} and len(who) < 2
    }


def test_every_core_module_is_the_cores_own_or_shared() -> None:
    users = _users()
    assert len(users) > 40  # the walk found the core
    assert _owned_by_one(users) == {}


def test_the_rule_names_a_module_only_one_plugin_uses() -> None:
    users = {
        "complaintkit.sla": {"core", "complaintkit_reports"},
        "complaintkit.display": {"cli", "complaintkit_reports"},
        "complaintkit.inputs": {"complaintkit_importing"},
        "complaintkit.records": {"cli"},
    }
    assert _owned_by_one(users) == {
        "complaintkit.inputs": {"complaintkit_importing"},
        "complaintkit.records": {"cli"},
    }


def test_the_walk_sees_names_taken_from_the_package_root() -> None:
    users = _users()
    # complaintkit_notify takes NotificationChannel from ``complaintkit``, not the module
    assert "complaintkit_notify" in users["complaintkit.notification"]
    assert "core" in users["complaintkit.desk.rules"]  # relative imports inside desk/
