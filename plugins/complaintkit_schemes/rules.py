"""The keyword-rule engine behind the built-in schemes: bilingual weighted phrases.

:class:`RuleScheme` scores weighted keyword phrases in both languages, matched in one pass of
an Aho-Corasick automaton, so the cost per complaint does not grow with the number of phrases;
several rule schemes classifying together share one automaton (``RuleScheme.combine``, used by
:class:`complaintkit.classification.SchemeSet`). Rule sets are plain data (:class:`RuleSet`),
loadable from TOML and extendable or replaceable from configuration (see
:func:`load_rule_file` and :meth:`RuleSet.merged`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from complaintkit.classification import Classification, ClassificationScheme, LabelDef
from complaintkit.errors import ConfigError
from complaintkit.i18n import Names

__all__ = [
    "KeywordRule",
    "LabelRules",
    "RuleScheme",
    "RuleSet",
    "load_rule_file",
    "rule_set_from_dict",
]


@attrs.frozen
class KeywordRule:
    """A phrase that votes for a label with a weight.

    English phrases match whole words, case-insensitively; a trailing ``*`` matches any word
    ending (``charg*`` matches "charged", "charges"); a phrase that begins or ends with
    punctuation ("!!!", "?!") matches there even right after or before a word ("months!!!").
    Chinese phrases match anywhere.
    """

    phrase: str
    weight: float = 1.0


@attrs.frozen
class LabelRules:
    """A label and the keyword rules that vote for it."""

    label: LabelDef
    rules: tuple[KeywordRule, ...] = ()


_DEFAULT_CONFIDENCE = 0.3


@attrs.frozen
class RuleSet:
    """The data behind a :class:`RuleScheme`.

    ``default`` is the label given when no rule matches (e.g. severity "general"), with
    ``default_confidence``; without a default the scheme returns None on no match.
    ``negations`` are phrases (不错, "not bad") inside which no keyword counts.
    ``min_score`` is the score a label needs to beat the default: with severity, one weak hint
    ("失灵", "malfunction") should not make a complaint serious, two or a strong one should.
    """

    name: str
    names: Names
    labels: tuple[LabelRules, ...]
    default: str | None = None
    default_confidence: float = _DEFAULT_CONFIDENCE
    negations: tuple[str, ...] = ()
    description: str = ""
    min_score: float = 0.0

    def merged(self, other: RuleSet) -> RuleSet:
        """This rule set extended by ``other``: new labels added, shared labels' keywords joined."""
        by_name = {lr.label.name: lr for lr in self.labels}
        for extra in other.labels:
            if extra.label.name in by_name:
                base = by_name[extra.label.name]
                by_name[extra.label.name] = LabelRules(base.label, base.rules + extra.rules)
            else:
                by_name[extra.label.name] = extra
        return attrs.evolve(
            self,
            labels=tuple(by_name.values()),
            negations=self.negations + tuple(n for n in other.negations if n not in self.negations),
            default=other.default or self.default,
            # An extension's thresholds apply when it sets them (the dataclass defaults mean
            # "not set"): extending with `min_score = 3` must not be silently ignored.
            min_score=other.min_score or self.min_score,
            default_confidence=(
                other.default_confidence
                if other.default_confidence != _DEFAULT_CONFIDENCE
                else self.default_confidence
            ),
        )


def _fold(text: str) -> str:
    """Lower-case ``text`` for matching, keeping every offset aligned with the original.

    A typographic apostrophe counts as ``'`` ("doesn’t" matches "doesn't"); the few characters
    whose lower case is longer than one character (e.g. "İ") are left as they are, so evidence
    sliced from the original text at matched offsets is exactly what matched.
    """
    folded = text.lower()
    if len(folded) != len(text):
        folded = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
    return folded.replace("\u2019", "'")


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


class _Matcher:
    """One Aho-Corasick automaton over the phrases of one or more rule sets.

    Sharing one automaton lets several rule-based schemes classify a text in a single pass
    (see :meth:`RuleScheme.combine`); each match carries the index of the rule set it belongs to.
    """

    def __init__(self, rule_sets: Sequence[RuleSet]) -> None:
        import ahocorasick  # imported here: only commands that classify pay for it

        self.size = len(rule_sets)
        entries: dict[str, list[tuple[int, int, float, bool, bool]]] = {}
        for owner, rule_set in enumerate(rule_sets):
            for index, label_rules in enumerate(rule_set.labels):
                for rule in label_rules.rules:
                    phrase = _fold(rule.phrase).strip()
                    prefix = phrase.endswith("*")
                    phrase = phrase.rstrip("*").strip()
                    if phrase:
                        entries.setdefault(phrase, []).append(
                            (owner, index, rule.weight, phrase.isascii(), prefix)
                        )
            for negation in rule_set.negations:
                phrase = _fold(negation).strip()
                if phrase:
                    entries.setdefault(phrase, []).append((owner, -1, 0.0, False, False))
        self._automaton: Any = None
        if entries:
            automaton = ahocorasick.Automaton()
            for phrase, values in entries.items():
                negates = any(v[1] < 0 for v in values)
                automaton.add_word(phrase, (len(phrase), phrase, tuple(values), negates))
            automaton.make_automaton()
            self._automaton = automaton

    def hits(self, text: str) -> list[list[tuple[int, float, str]]]:
        """Per rule set: the (label index, weight, evidence) of every distinct phrase found."""
        result: list[list[tuple[int, float, str]]] = [[] for _ in range(self.size)]
        if self._automaton is None or not text:
            return result
        lowered = _fold(text)
        size = len(lowered)
        found = []
        masks: dict[int, list[tuple[int, int]]] = {}
        for end, (length, phrase, values, negates) in self._automaton.iter(lowered):
            start = end - length + 1
            found.append((start, end, phrase, values))
            if negates:
                for value in values:
                    if value[1] < 0:
                        masks.setdefault(value[0], []).append((start, end))
        seen: set[tuple[int, int, str]] = set()
        for start, end, phrase, values in found:
            for owner, index, weight, english, prefix in values:
                if index < 0:
                    continue
                if (
                    masks
                    and owner in masks
                    and any(ms <= start and end <= me for ms, me in masks[owner])
                ):
                    continue
                # A phrase's edge that is a word character needs a word boundary there; an
                # edge that is punctuation ("!!!", "?!", "$1,") matches right after a word.
                if english:
                    if (
                        start > 0
                        and _is_word_char(lowered[start])
                        and _is_word_char(lowered[start - 1])
                    ):
                        continue
                    if (
                        not prefix
                        and end + 1 < size
                        and _is_word_char(lowered[end])
                        and _is_word_char(lowered[end + 1])
                    ):
                        continue
                key = (owner, index, phrase)
                if key in seen:
                    continue
                seen.add(key)
                stop = end + 1
                if prefix:
                    while stop < size and _is_word_char(lowered[stop]):
                        stop += 1
                result[owner].append((index, weight, text[start:stop]))
        return result


class RuleScheme:
    """A :class:`ClassificationScheme` driven by a :class:`RuleSet`.

    The score of a label is the sum of the weights of the distinct phrases found for it; the
    winner's confidence grows with its own score and with its share of all scores, so one weak
    hit gives a modest confidence and several agreeing hits a high one.
    """

    def __init__(self, rule_set: RuleSet) -> None:
        self.rule_set = rule_set
        self.name = rule_set.name
        self.names = rule_set.names
        self.labels: Sequence[LabelDef] = tuple(lr.label for lr in rule_set.labels)
        known = {label.name for label in self.labels}
        if rule_set.default is not None and rule_set.default not in known:
            raise ConfigError(
                f"scheme {rule_set.name!r}: default label {rule_set.default!r} is not one of "
                f"its labels ({', '.join(sorted(known))})"
            )
        self._matcher = _Matcher([rule_set])
        self._default_result = (
            None
            if rule_set.default is None
            else Classification(rule_set.default, rule_set.default_confidence, ())
        )

    def __repr__(self) -> str:
        return f"<RuleScheme {self.name} labels={[label.name for label in self.labels]}>"

    def classify(self, text: str) -> Classification | None:
        """Score every label by the phrases found in ``text`` and return the best one."""
        return self.score(self._matcher.hits(text)[0])

    def score(self, hits: Sequence[tuple[int, float, str]]) -> Classification | None:
        """The verdict for the phrases found (label index, weight, evidence) in one text."""
        if not hits:
            return self._default()
        scores: dict[int, float] = {}
        evidence: dict[int, list[str]] = {}
        for index, weight, phrase in hits:
            scores[index] = scores.get(index, 0.0) + weight
            evidence.setdefault(index, []).append(phrase)
        # Highest score wins; ties go to the label listed first in the rule set.
        best = max(scores, key=lambda i: (scores[i], -i))
        best_score = scores[best]
        if best_score <= 0 or best_score < self.rule_set.min_score:
            return self._default()
        total = sum(s for s in scores.values() if s > 0)
        confidence = (best_score / total) * (1.0 - math.exp(-best_score / 1.5))
        confidence = round(min(0.99, max(0.05, confidence)), 3)
        return Classification(
            self.labels[best].name, confidence, tuple(dict.fromkeys(evidence[best]))
        )

    def _default(self) -> Classification | None:
        return self._default_result

    def combine(
        self, schemes: Sequence[ClassificationScheme]
    ) -> Callable[[str], list[Classification | None]]:
        """Classify by all of ``schemes`` (rule schemes) in one pass of one shared automaton."""
        members = [s for s in schemes if isinstance(s, RuleScheme)]
        assert len(members) == len(schemes), "combine is given schemes of its own kind"
        matcher = _Matcher([s.rule_set for s in members])

        def together(text: str) -> list[Classification | None]:
            hits = matcher.hits(text)
            return [scheme.score(found) for scheme, found in zip(members, hits, strict=True)]

        return together


def _names(data: Mapping[str, Any], where: str, fallback: str) -> Names:
    en = data.get("en", fallback)
    zh = data.get("zh")
    if not isinstance(en, str) or not isinstance(zh, str) or not zh:
        raise ConfigError(f"{where}: needs both an English name (en) and a Chinese name (zh)")
    return Names(en, zh)


def _rules(values: Iterable[Any], where: str) -> tuple[KeywordRule, ...]:
    rules: list[KeywordRule] = []
    for value in values:
        if isinstance(value, str):
            rules.append(KeywordRule(value))
        elif isinstance(value, Mapping) and isinstance(value.get("phrase"), str):
            weight = value.get("weight", 1.0)
            if not isinstance(weight, (int, float)):
                raise ConfigError(f"{where}: weight of {value['phrase']!r} must be a number")
            rules.append(KeywordRule(value["phrase"], float(weight)))
        else:
            raise ConfigError(
                f"{where}: each keyword is a string or a table with phrase and weight, "
                f"got {value!r}"
            )
    return tuple(rules)


def _number(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    return float(value)


def rule_set_from_dict(data: Mapping[str, Any], where: str) -> RuleSet:
    """Build a :class:`RuleSet` from plain data (a parsed TOML file); errors name ``where``.

    Shape::

        name = "cause"
        en = "Cause"
        zh = "投诉原因"
        default = "service_quality"      # optional
        negations = ["不错", "not bad"]   # optional
        [[labels]]
        name = "price"
        en = "Price"
        zh = "价格"
        keywords = ["overcharg*", "价格", {phrase = "乱收费", weight = 2}]
    """
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: the rule set needs a name")
    labels_data = data.get("labels", [])
    if not isinstance(labels_data, list):
        raise ConfigError(f"{where}: labels must be a list of tables ([[labels]])")
    labels: list[LabelRules] = []
    for position, item in enumerate(labels_data, 1):
        lwhere = f"{where}, label #{position}"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{lwhere}: each label needs a name")
        lwhere = f"{where}, label {item['name']!r}"
        keywords = item.get("keywords", [])
        if not isinstance(keywords, list):
            raise ConfigError(f"{lwhere}: keywords must be a list")
        names = _names(item, lwhere, item["name"]) if "zh" in item else None
        if names is None:
            # An extension may add keywords to an existing label without repeating its names.
            names = Names(item.get("en", item["name"]), item.get("zh", ""))
        labels.append(
            LabelRules(
                LabelDef(item["name"], names, str(item.get("description", ""))),
                _rules(keywords, lwhere),
            )
        )
    negations = data.get("negations", [])
    if not isinstance(negations, list) or not all(isinstance(n, str) for n in negations):
        raise ConfigError(f"{where}: negations must be a list of strings")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{where}: default must be a label name")
    return RuleSet(
        name=name,
        names=Names(str(data.get("en", name)), str(data.get("zh", name))),
        labels=tuple(labels),
        default=default,
        default_confidence=float(data.get("default_confidence", _DEFAULT_CONFIDENCE)),
        min_score=_number(data.get("min_score", 0.0), where, "min_score"),
        negations=tuple(negations),
        description=str(data.get("description", "")),
    )


def load_rule_file(path: str | Path) -> RuleSet:
    """Read a TOML rule file; a syntax or shape error names the file (and line, for syntax)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"rule file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"rule file {path}: {exc}") from None
    return rule_set_from_dict(data, str(path))
