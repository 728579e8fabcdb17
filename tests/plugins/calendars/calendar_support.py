"""Helpers the calendar tests share: instants in Shanghai, and a host from a configuration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from complaintkit.config import load_config
from complaintkit.host import PluginHost, make_host

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def host_with(tmp_path: Path, text: str) -> PluginHost:
    path = tmp_path / "complaintkit.toml"
    path.write_text(text, encoding="utf-8")
    return make_host(load_config(path, env={}), env={})
