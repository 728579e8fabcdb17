"""The ``[ml.SCHEME]`` tables of ``complaintkit.toml``: how rules and a model work together.

::

    [ml.cause]
    mode = "fallback"             # rules | model | fallback | blend   (default: rules)
    model = "models/cause.json"   # the model file, relative to the configuration file
                                  # (default: models/SCHEME.json)
    fallback_below = 0.5          # fallback: the model decides where the rules abstain or
                                  # are less sure than this (default 0.5)

* ``rules`` — the scheme's rules alone (what happens without an ``[ml.SCHEME]`` table).
* ``model`` — the trained model alone.
* ``fallback`` — the rules, and the model where they abstain or are below ``fallback_below``.
* ``blend`` — the model, with the rules' vote among its features (train it in this mode).

``complaintkit train SCHEME`` writes the model file named here. Every problem — an unknown
key or mode, a confidence outside 0–1, a table for a scheme nobody registered — raises
:class:`~complaintkit.errors.ConfigError` naming the configuration file and the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from complaintkit.config import Config, check_settings
from complaintkit.errors import ConfigError

__all__ = ["MODES", "SECTION", "MlSettings", "ml_settings", "settings_for"]

SECTION = "ml"
#: How a scheme's rules and its model work together.
MODES: tuple[str, ...] = ("rules", "model", "fallback", "blend")
_KEYS = ("mode", "model", "fallback_below")


@attrs.frozen
class MlSettings:
    """One scheme's ``[ml.SCHEME]`` table, checked; ``model`` is an absolute path."""

    scheme: str
    mode: str
    model: Path
    fallback_below: float = 0.5
    where: str = ""


def _one(config: Config, scheme: str, table: object) -> MlSettings:
    where = f"{config.where} [{SECTION}.{scheme}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: must be a table (mode, model, fallback_below)")
    check_settings(table, _KEYS, where)
    mode = table.get("mode", "rules")
    if mode not in MODES:
        raise ConfigError(f"{where}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    model = table.get("model", f"models/{scheme}.json")
    if not isinstance(model, str) or not model.strip():
        raise ConfigError(f'{where}: model must be a file name, e.g. "models/{scheme}.json"')
    below = table.get("fallback_below", 0.5)
    if isinstance(below, bool) or not isinstance(below, (int, float)) or not 0 <= below <= 1:
        raise ConfigError(f"{where}: fallback_below must be a number from 0 to 1, got {below!r}")
    return MlSettings(scheme, mode, config.resolve_path(model), float(below), where)


def ml_settings(config: Config, known: Sequence[str] | None = None) -> dict[str, MlSettings]:
    """Every ``[ml.SCHEME]`` table of ``config``, checked; with ``known`` (the registered
    schemes), a table for another scheme is refused."""
    section = config.section(SECTION)
    found = {name: _one(config, name, table) for name, table in section.items()}
    if known is not None:
        unknown = sorted(set(found) - set(known))
        if unknown:
            raise ConfigError(
                f"{config.where} [{SECTION}.{unknown[0]}]: no classification scheme "
                f"{unknown[0]!r}; known: {', '.join(known)}"
            )
    return found


def settings_for(config: Config, scheme: str) -> MlSettings:
    """The settings of one scheme (the defaults when it has no ``[ml.SCHEME]`` table)."""
    table = config.section(SECTION).get(scheme, {})
    return _one(config, scheme, table)
