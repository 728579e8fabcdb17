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

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs

from complaintkit import InvalidSetting, structure_settings
from complaintkit.config import Config
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


def _fraction(_: object, __: object, value: float) -> None:
    if not 0 <= value <= 1:
        raise InvalidSetting(f"must be a number from 0 to 1, got {value!r}", "fallback_below")


def _a_file(_: object, __: object, value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidSetting('must be a file name, e.g. "models/cause.json"', "model")


@attrs.frozen
class _MlTable:
    mode: Literal["rules", "model", "fallback", "blend"] = "rules"
    model: str | None = attrs.field(default=None, validator=_a_file)
    fallback_below: float = attrs.field(default=0.5, validator=_fraction)


def _one(config: Config, scheme: str, table: object) -> MlSettings:
    where = f"{config.where} [{SECTION}.{scheme}]"
    found = structure_settings(table, _MlTable, where=config.where, path=f"{SECTION}.{scheme}")
    model = found.model or f"models/{scheme}.json"
    return MlSettings(
        scheme, found.mode, config.resolve_path(model), float(found.fallback_below), where
    )


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
