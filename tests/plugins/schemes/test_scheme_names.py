"""The built-in schemes are registered from their names table and read their rules only when
they first classify: a command that shows labels (``list``, ``show``) reads no rule file."""

from __future__ import annotations

import pytest

from complaintkit.config import Config
from complaintkit.errors import ConfigError
from complaintkit.host import make_host
from complaintkit.i18n import Names
from complaintkit_schemes.names import builtin_names, names_table, table_text
from complaintkit_schemes.plugin import BUILTIN_SCHEMES, OPTIONAL_SCHEMES, builtin_rule_set
from complaintkit_schemes.rules import RuleScheme, rule_set_from_dict

TEXTS = [
    "The waiter was rude and the food was cold; I want a refund or I will post it online",
    "手机用了三天就黑屏，客服态度恶劣，我要投诉到消费者协会",
    "Just a suggestion: the app could remember my address",
    "",
]


def test_the_names_table_is_what_the_rule_files_say() -> None:
    from importlib import resources

    shipped = resources.files("complaintkit_schemes").joinpath("rules/names.json")
    assert shipped.read_text(encoding="utf-8") == table_text(), (
        "rules/names.json is out of date: run python -m complaintkit_schemes.names"
    )
    assert list(names_table()) == [*BUILTIN_SCHEMES, *OPTIONAL_SCHEMES]


@pytest.mark.parametrize("name", BUILTIN_SCHEMES + OPTIONAL_SCHEMES)
def test_a_scheme_from_the_table_names_what_its_rules_name(name: str) -> None:
    eager = RuleScheme(builtin_rule_set(name))
    names, labels = builtin_names(name)
    assert (names, labels) == (eager.names, tuple(eager.labels))


def test_showing_labels_reads_no_rule_file_and_classifying_reads_each_once() -> None:
    builtin_rule_set.cache_clear()
    enabled = Config(data={"classification": {"enable": ["motive"]}})
    schemes = make_host(enabled, env={}).schemes()
    assert list(schemes) == [*BUILTIN_SCHEMES, "motive"]
    assert [label.name for label in schemes["cause"].labels] == [
        "product_quality",
        "service_quality",
        "price",
        "integrity",
    ]
    assert builtin_rule_set.cache_info().misses == 0
    schemes["severity"].classify(TEXTS[0])
    assert builtin_rule_set.cache_info().misses == 1
    for scheme in schemes.values():
        scheme.classify(TEXTS[1])
    assert builtin_rule_set.cache_info().misses == len(schemes)


@pytest.mark.parametrize("name", BUILTIN_SCHEMES + OPTIONAL_SCHEMES)
def test_a_deferred_scheme_classifies_as_the_rules_do(name: str) -> None:
    enabled = Config(data={"classification": {"enable": list(OPTIONAL_SCHEMES)}})
    deferred = make_host(enabled, env={}).scheme(name)
    eager = RuleScheme(builtin_rule_set(name))
    assert [deferred.classify(text) for text in TEXTS] == [eager.classify(t) for t in TEXTS]


def test_the_schemes_classify_together_as_alone() -> None:
    from complaintkit.classification import SchemeSet

    schemes = list(make_host(Config(), env={}).schemes().values())
    together = SchemeSet(schemes)
    eager = [RuleScheme(builtin_rule_set(s.name)) for s in schemes]
    for text in TEXTS:
        assert together.classify(text) == [s.classify(text) for s in eager]


def test_rules_that_name_other_labels_than_registered_are_refused() -> None:
    rule_set = rule_set_from_dict(
        {"name": "x", "labels": [{"name": "a", "en": "A", "zh": "甲"}]}, "x.toml"
    )
    (label,) = rule_set.labels
    other = RuleScheme.deferred("x", Names("x", "x"), [label.label, label.label], lambda: rule_set)
    assert [item.name for item in other.labels] == ["a", "a"]
    with pytest.raises(ConfigError, match="other names or labels"):
        other.classify("text")
    same = RuleScheme.deferred("x", Names("x", "x"), [label.label], lambda: rule_set)
    assert same.classify("text") is None
    assert same.rule_set is rule_set
