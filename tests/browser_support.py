"""Headless Chromium (Debian's ``chromium``) for looking at HTML reports as a person would:
a screenshot and the DOM the browser built. Used by tests/test_rendering_browser.py and
docs/screenshots.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["FLAGS", "chromium", "dump_dom", "screenshot"]

#: Run as root, offline, with nothing kept between runs.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def chromium() -> str | None:
    """The Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(html: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    browser = chromium()
    if browser is None:
        raise FileNotFoundError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="ck-chromium-") as profile:
        return subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *extra, html.resolve().as_uri()],
            capture_output=True,
            timeout=timeout,
            check=True,
            env={**os.environ, "HOME": profile},
        )


def screenshot(html: Path, png: Path, *, width: int = 1200, height: int = 2400) -> Path:
    """A PNG of the page as a ``width`` × ``height`` window shows it."""
    png.unlink(missing_ok=True)
    _run(html, f"--window-size={width},{height}", f"--screenshot={png.resolve()}")
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {html}")
    return png


def dump_dom(html: Path) -> str:
    """The page's DOM, serialised by the browser after parsing it."""
    return _run(html, "--dump-dom").stdout.decode("utf-8")
