"""Configuration: ``complaintkit.toml`` plus environment variables, resolved once per command.

Precedence for the store URL: ``--store`` > ``COMPLAINTKIT_STORE`` > ``store`` in the config
file > ``tinydb://complaints.json`` in the working directory. A file store's relative path
(``tinydb://c.json``, ``sqlite://c.db``; see :func:`complaintkit.storage.resolve_url`) inside the
config file is relative to the file, so a project folder can be moved as a whole; given with
``--store`` or the environment it is relative to the working directory. Either way
:attr:`Config.store` holds the absolute path.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from .errors import ConfigError

__all__ = ["CONFIG_FILENAME", "DEFAULT_STORE", "Config", "load_config"]

CONFIG_FILENAME = "complaintkit.toml"
DEFAULT_STORE = "tinydb://complaints.json"
_KNOWN_TOP = {
    "store",
    "lang",
    "timezone",
    "actor",
    "storage",
    "classification",
    "calendars",
    "sla",
    "routing",
    "escalation",
    "recomplaint",
    "remedies",
    "notifications",
    "reports",
}


@attrs.frozen
class Config:
    """The settings in force: the file they came from (if any) and its parsed tables."""

    path: Path | None = None
    data: Mapping[str, Any] = attrs.field(factory=dict)
    store: str = DEFAULT_STORE
    lang: str = "en"
    timezone: str = "UTC"
    actor: str = "cli"

    def section(self, name: str) -> Mapping[str, Any]:
        """A table of the configuration (``{}`` when absent); plugins read their own this way."""
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.where}: {name}: expected a table, got {value!r}")
        return value

    @property
    def where(self) -> str:
        """How to name this configuration in an error message."""
        return str(self.path) if self.path else "the configuration"

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the configuration are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        """A path from the configuration, made absolute relative to the config file."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def tzinfo(self) -> ZoneInfo:
        """The time zone for dates given without one (imports, ``--since``)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{self.where}: unknown time zone {self.timezone!r} (use e.g. Asia/Shanghai or UTC)"
            ) from None


def load_config(
    path: str | Path | None = None,
    *,
    store: str | None = None,
    lang: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Config:
    """Find, read and check the configuration; explicit arguments override the file."""
    from .storage import resolve_url  # the model behind it is not needed to read a file

    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    chosen = path or env.get("COMPLAINTKIT_CONFIG")
    config_path: Path | None = None
    data: dict[str, Any] = {}
    if chosen:
        config_path = Path(chosen)
        if not config_path.exists():
            raise ConfigError(f"configuration file {config_path} does not exist")
    elif (cwd / CONFIG_FILENAME).exists():
        config_path = cwd / CONFIG_FILENAME
    if config_path is not None:
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: {exc}") from None
        unknown = sorted(
            set(data) - _KNOWN_TOP - {k for k, v in data.items() if isinstance(v, dict)}
        )
        if unknown:
            raise ConfigError(
                f"{config_path}: unknown setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_KNOWN_TOP))} and plugin tables"
            )
    base = config_path.parent.resolve() if config_path else cwd
    file_store = data.get("store")
    if file_store is not None and not isinstance(file_store, str):
        raise ConfigError(f"{config_path}: store must be a URL string")
    if store:
        chosen_store = resolve_url(store, cwd)
    elif env.get("COMPLAINTKIT_STORE"):
        chosen_store = resolve_url(env["COMPLAINTKIT_STORE"], cwd)
    elif file_store:
        chosen_store = resolve_url(file_store, base)
    else:
        chosen_store = resolve_url(DEFAULT_STORE, cwd)
    chosen_lang = lang or env.get("COMPLAINTKIT_LANG") or str(data.get("lang", "en"))
    if chosen_lang not in ("en", "zh"):
        where = (
            "COMPLAINTKIT_LANG"
            if not lang and env.get("COMPLAINTKIT_LANG")
            else f"{config_path}: lang"
            if not lang and config_path
            else "--lang"
        )
        raise ConfigError(f"{where}: language must be en or zh, got {chosen_lang!r}")
    config = Config(
        path=config_path,
        data=data,
        store=chosen_store,
        lang=chosen_lang,
        timezone=str(data.get("timezone", "UTC")),
        actor=str(env.get("COMPLAINTKIT_ACTOR") or data.get("actor") or "cli"),
    )
    config.tzinfo  # noqa: B018 - validate the time zone now, not in the middle of an import
    return config
