"""Shared test helpers: where the real data sets live, and the local plugin folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
LOCAL_PLUGINS = TESTS / "local_plugins"
REPO = TESTS.parent


def datasets_dir() -> Path:
    """The shared data sets (``../shared/datasets`` beside the repository, or an env var)."""
    return Path(os.environ.get("COMPLAINTKIT_DATASETS", REPO.parent / "shared" / "datasets"))


def require_dataset(relative: str) -> Path:
    """The path of a data-set file, or skip (fail in CI, where it must be present)."""
    path = datasets_dir() / relative
    if not path.exists():
        if os.environ.get("COMPLAINTKIT_REQUIRE_DATASETS") == "1":
            pytest.fail(f"data set {path} is missing but COMPLAINTKIT_REQUIRE_DATASETS=1")
        pytest.skip(f"data set {path} not available")
    return path


@pytest.fixture
def local_plugins() -> Path:
    """The folder of local plugins the suite loads through --plugins-dir."""
    return LOCAL_PLUGINS
