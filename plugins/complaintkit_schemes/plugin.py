"""The classification schemes of the source documents, as bilingual keyword rules.

Registered by default (label keys in brackets; the default is given when no rule matches):

* ``severity`` 严重程度 — general 一般投诉 [``general``, default] · serious 严重投诉 [``serious``]
* ``cause`` 投诉原因 — product quality 产品质量 [``product_quality``] · service quality 服务质量
  [``service_quality``] · price 价格 [``price``] · integrity 诚信 [``integrity``]; no default:
  the scheme abstains (returns None) when nothing matches
* ``behaviour`` 投诉行为 — passive complaining 消极抱怨型 [``passive``, default] · negative
  publicity 负面宣传型 [``negative_publicity``] · angry venting 愤怒发泄型 [``angry_venting``] ·
  extreme/radical 极端激进型 [``extreme``]
* ``purpose`` 投诉目的 — suggestion 建议性 [``suggestion``] · criticism 批评性 [``criticism``,
  default] · accusation 控告性 [``accusation``]

Built in but off until configuration switches them on (:data:`OPTIONAL_SCHEMES`):

* ``temperament`` 性格 — perfectionist 完美型 [``perfectionist``] · powerful 力量型
  [``powerful``] · lively 活泼型 [``lively``] · peaceful 和平型 [``peaceful``]; abstains when
  nothing matches
* ``motive`` 心理动机 — vent 求发泄 [``vent``, default] · respect 求尊重 [``respect``] ·
  compensation 求补偿 [``compensation``] · recognition 求认同 [``recognition``] · self-display
  求表现 [``self_display``] · revenge 求报复 [``revenge``]
* ``crm_system`` CRM系统投诉类型 — system failure 系统功能故障 [``system_failure``] · data error
  数据错误 [``data_error``] · poor usability 用户体验不佳 [``poor_usability``] · slow service
  response 服务响应不及时 [``slow_response``]; abstains when nothing matches

The rules are data: ``rules/<scheme>.toml`` in this package, in the shape documented by
:func:`complaintkit_schemes.rules.rule_set_from_dict`, scored by
:class:`complaintkit_schemes.rules.RuleScheme`. The names of the schemes and their labels are
also in ``rules/names.json`` (:mod:`complaintkit_schemes.names`, regenerated from the rule
files), so that commands that only show labels read no rule file.

Configuration, in ``complaintkit.toml``::

    [classification]
    schemes = ["severity", "cause"]       # optional: register only these built-in schemes
    enable = ["motive", "temperament"]    # optional: switch on built-in schemes that are off

    [[classification.rules]]
    file = "rules/cause-extra.toml"        # relative to the config file
    mode = "extend"                        # "extend" (the default) or "replace"

* ``schemes`` — the built-in schemes to register (the four default ones when absent); it may
  name the optional ones too.
* ``enable`` — optional built-in schemes to register as well as those ``schemes`` chose
  (``enable = ["motive"]`` keeps the four default schemes and adds motive).
* Each ``[[classification.rules]]`` entry names a rule file; its ``name`` says which scheme it is
  about. ``mode = "extend"`` adds its labels and keywords (and negations) to the scheme of that
  name — a label it shares with the scheme gets the extra keywords, a new label is added and
  needs ``en`` and ``zh`` names; it may also set a new ``default``. ``mode = "replace"`` uses the
  file instead of the built-in scheme of that name. A name that is not a built-in scheme (and
  not defined by an earlier entry) defines a new scheme, whatever the mode. Entries apply in
  order, so a later file can extend a scheme an earlier file defined.
* Extending a default built-in scheme that ``schemes`` leaves out is an error (use ``replace``
  to supply it in full instead). An optional scheme that is not switched on is not there to be
  extended: a rule file of that name defines a scheme of its own, as any new name does.

Every problem — a missing or unreadable rule file, bad TOML, a bad mode, an unknown built-in
scheme, a label without a Chinese name, a default that is not a label — raises
:class:`complaintkit.errors.ConfigError` naming the configuration file and the rule file.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Literal

import attrs
import click

from complaintkit import InvalidSetting, hookimpl, structure_section
from complaintkit.classification import ClassificationScheme, LabelledDataset
from complaintkit.config import Config
from complaintkit.errors import ConfigError

if TYPE_CHECKING:  # the engine is imported when schemes are built, not by --help
    from .rules import RuleScheme, RuleSet

__all__ = [
    "BUILTIN_SCHEMES",
    "MODES",
    "OPTIONAL_SCHEMES",
    "builtin_rule_set",
    "configured_rule_sets",
    "register_classification_schemes",
    "register_commands",
    "register_labelled_datasets",
]

#: The built-in schemes registered by default, in the order they are registered.
BUILTIN_SCHEMES: tuple[str, ...] = ("severity", "cause", "behaviour", "purpose")
#: Built-in schemes that are off until ``[classification] enable`` (or ``schemes``) names them;
#: registered after the default ones, in this order.
OPTIONAL_SCHEMES: tuple[str, ...] = ("temperament", "motive", "crm_system")
_ALL_BUILTIN: tuple[str, ...] = BUILTIN_SCHEMES + OPTIONAL_SCHEMES
#: What a ``[[classification.rules]]`` entry may do with a scheme.
MODES: tuple[str, ...] = ("extend", "replace")


@functools.cache
def builtin_rule_set(name: str) -> RuleSet:
    """The rule set of one built-in scheme, read once from this package's ``rules`` folder."""
    from .rules import rule_set_from_dict

    if name not in _ALL_BUILTIN:
        raise ConfigError(
            f"unknown built-in classification scheme {name!r}; built in: {', '.join(_ALL_BUILTIN)}"
        )
    resource = resources.files(__package__ or "complaintkit_schemes") / "rules" / f"{name}.toml"
    where = f"built-in rule file rules/{name}.toml"
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return rule_set_from_dict(data, where)


def _check_names(rule_set: RuleSet, where: str) -> None:
    """Every label of a finished scheme needs both names (the parser lets extensions omit them)."""
    for label_rules in rule_set.labels:
        names = label_rules.label.names
        if not names.zh or not names.en:
            raise ConfigError(
                f"{where}: label {label_rules.label.name!r} of scheme {rule_set.name!r} needs "
                f"both an English name (en) and a Chinese name (zh)"
            )


def _built(rule_set: RuleSet, where: str) -> RuleScheme:
    from .rules import RuleScheme

    _check_names(rule_set, where)
    try:
        return RuleScheme(rule_set)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _deferred(name: str) -> RuleScheme:
    """A built-in scheme as shipped, its rules read (and checked) when first needed."""
    from .names import builtin_names
    from .rules import RuleScheme

    def load() -> RuleSet:
        rule_set = builtin_rule_set(name)
        _check_names(rule_set, f"built-in rule file rules/{name}.toml")
        return rule_set

    names, labels = builtin_names(name)
    return RuleScheme.deferred(name, names, labels, load)


def _builtin_names(_: object, __: object, value: tuple[str, ...] | None) -> None:
    unknown = [n for n in value or () if n not in _ALL_BUILTIN]
    if unknown:
        raise InvalidSetting(
            f"unknown built-in scheme(s) {', '.join(map(repr, unknown))}; "
            f"built in: {', '.join(_ALL_BUILTIN)}",
            "schemes",
        )


def _optional_names(_: object, __: object, value: tuple[str, ...]) -> None:
    unknown = [n for n in value if n not in OPTIONAL_SCHEMES]
    if unknown:
        raise InvalidSetting(
            f"{', '.join(map(repr, unknown))} is not an optional built-in scheme; optional: "
            f"{', '.join(OPTIONAL_SCHEMES)} (the default ones are on unless schemes leaves "
            "them out)",
            "enable",
        )


def _a_file(_: object, __: object, value: str) -> None:
    if not value:
        raise InvalidSetting('needs file = "path/to/rules.toml"', "file")


@attrs.frozen
class _RulesEntry:
    file: str = attrs.field(validator=_a_file)
    mode: Literal["extend", "replace"] = "extend"


@attrs.frozen
class _ClassificationTable:
    schemes: tuple[str, ...] | None = attrs.field(default=None, validator=_builtin_names)
    enable: tuple[str, ...] = attrs.field(default=(), validator=_optional_names)
    rules: tuple[_RulesEntry, ...] = ()


def _chosen_builtins(section: _ClassificationTable) -> tuple[str, ...]:
    """The built-in schemes ``[classification] schemes`` and ``enable`` switch on, in order."""
    names = list(BUILTIN_SCHEMES if section.schemes is None else section.schemes)
    names += section.enable
    return tuple(n for n in _ALL_BUILTIN if n in names)


def configured_rule_sets(config: Config) -> list[tuple[RuleSet, str]]:
    """The rule sets ``config`` asks for, in registration order, each with where it came from.

    Applies ``[classification] schemes`` and ``enable`` and every ``[[classification.rules]]``
    entry (see the module docstring); raises :class:`ConfigError` naming the configuration and
    rule files.
    """
    from .rules import load_rule_file

    section = structure_section(config, "classification", _ClassificationTable)
    chosen = _chosen_builtins(section)
    schemes: dict[str, tuple[RuleSet, str]] = {
        name: (builtin_rule_set(name), f"built-in scheme {name!r}") for name in chosen
    }
    for position, entry in enumerate(section.rules, 1):
        ewhere = f"{config.where}: classification.rules[{position}]"
        file, mode = entry.file, entry.mode
        path = config.resolve_path(file)
        fwhere = f"{ewhere}, rule file {path}"
        try:
            extra = load_rule_file(path)
        except ConfigError as exc:
            raise ConfigError(f"{ewhere}: {exc}") from None
        current = schemes.get(extra.name)
        if current is None and extra.name in BUILTIN_SCHEMES and mode == "extend":
            raise ConfigError(
                f"{fwhere}: extends built-in scheme {extra.name!r}, which [classification] "
                f'schemes leaves out; add it there or use mode = "replace"'
            )
        if current is None or mode == "replace":
            schemes[extra.name] = (extra, str(path))
        else:
            base, origin = current
            schemes[extra.name] = (_merged(base, extra), f"{origin} + {path}")
    return list(schemes.values())


def _merged(base: RuleSet, extra: RuleSet) -> RuleSet:
    """``base`` extended by ``extra``; a shared label keeps the base's names and description."""
    merged = base.merged(extra)
    if extra.description and not base.description:
        merged = attrs.evolve(merged, description=extra.description)
    return merged


@hookimpl
def register_classification_schemes(
    register: Callable[[ClassificationScheme], None], config: Config
) -> None:
    """Register severity, cause, behaviour and purpose (and the optional schemes switched on),
    adjusted by ``[classification]``.

    Every scheme is built before any is registered, so a configuration error registers nothing.
    Without ``[[classification.rules]]`` the built-in schemes are registered by their names
    and labels alone (:mod:`complaintkit_schemes.names`), their rules read when they first
    classify: a command that only shows labels reads no rule file.
    """
    section = structure_section(config, "classification", _ClassificationTable)
    schemes: list[ClassificationScheme]
    if section.rules:
        schemes = [
            _built(rule_set, f"{config.where}: {origin}")
            for rule_set, origin in configured_rule_sets(config)
        ]
    else:
        schemes = [_deferred(name) for name in _chosen_builtins(section)]
    for scheme in schemes:
        register(scheme)


@hookimpl
def register_labelled_datasets(register: Callable[[LabelledDataset], None]) -> None:
    """The layouts of the real labelled data sets (airline, asap, chezhiwang, cfpb)."""
    from .evaluation import DATASET_PRESETS

    for preset in DATASET_PRESETS.values():
        register(preset)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit evaluate``: score a scheme against a labelled file."""
    from .cli import evaluate_command

    cli.add_command(evaluate_command)
