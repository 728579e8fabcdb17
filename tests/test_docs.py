"""Documentation that cannot drift: generated pages are current, every hook is tested."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from complaintkit import hookspecs

REPO = Path(__file__).parents[1]
HOOKS = (
    hookspecs.CONTRIBUTION_HOOKS
    + hookspecs.POLICY_HOOKS
    + hookspecs.LIFECYCLE_HOOKS
    + hookspecs.TASK_HOOKS
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", REPO / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hook_lists_cover_every_hookspec() -> None:
    specs = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "complaintkit_spec")}
    assert specs == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    source = (REPO / "tests" / "test_hooks.py").read_text(encoding="utf-8")
    assert re.search(rf"^def test_hook_{hook}\(", source, re.M), f"no test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    page = (REPO / "docs" / "hooks.md").read_text(encoding="utf-8")
    assert f"\n### {hook}\n" in page
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert ":returns:" in doc, f"{hook} docstring must say how results combine"


@pytest.mark.parametrize("page", ["hooks.md", "cli.md"])
def test_generated_pages_are_current(page: str) -> None:
    generator = _generator()
    expected = generator.PAGES[page]()
    actual = (REPO / "docs" / page).read_text(encoding="utf-8")

    # Compared word by word: a newer click may wrap or pad help text differently.
    def words(text: str) -> list[str]:
        return text.split()

    assert words(actual) == words(expected), f"docs/{page} is stale: run python docs/generate.py"


def test_readme_quick_start_is_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^make \w+$", quick, re.M)
    assert commands == ["make demo", "make test"]
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
