"""``[classification]`` in a real complaintkit.toml: choose, extend, replace and add schemes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from complaintkit.config import Config, load_config
from complaintkit.errors import ConfigError
from complaintkit.host import PluginHost, make_host
from complaintkit_schemes.plugin import (
    BUILTIN_SCHEMES,
    configured_rule_sets,
    register_classification_schemes,
)

CAUSE_EXTRA = """
name = "cause"
negations = ["sla met"]

[[labels]]
name = "service_quality"
keywords = ["工单超时", {phrase = "sla breach*", weight = 3}]

[[labels]]
name = "safety"
en = "Safety"
zh = "安全"
description = "The product endangered someone."
keywords = [{phrase = "起火", weight = 5}, {phrase = "caught fire", weight = 5}]
"""

CAUSE_REPLACEMENT = """
name = "cause"
en = "Cause"
zh = "投诉原因"

[[labels]]
name = "billing"
en = "Billing"
zh = "账务"
keywords = ["invoice", "发票"]

[[labels]]
name = "delivery"
en = "Delivery"
zh = "配送"
keywords = ["courier", "快递"]
"""

# The CRM-system complaint types of seed 002, as a scheme of its own.
CRM_SYSTEM = """
name = "crm_system"
en = "CRM system complaint"
zh = "CRM系统投诉类型"
default = "system_failure"

[[labels]]
name = "system_failure"
en = "System failure"
zh = "系统功能故障"
keywords = ["崩溃", "crash*"]

[[labels]]
name = "data_error"
en = "Data error"
zh = "数据错误"
keywords = ["数据错误", {phrase = "duplicate record*", weight = 2}]

[[labels]]
name = "poor_usability"
en = "Poor usability"
zh = "用户体验不佳"
keywords = ["不好用", "confusing"]

[[labels]]
name = "slow_response"
en = "Slow service response"
zh = "服务响应不及时"
keywords = ["响应慢", "no reply"]
"""


def _project(tmp_path: Path, config: str, files: dict[str, str] | None = None) -> Config:
    """Write complaintkit.toml (and rule files) into ``tmp_path`` and load it as the CLI does."""
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "complaintkit.toml").write_text(config, encoding="utf-8")
    return load_config(tmp_path / "complaintkit.toml", env={})


def _host(config: Config) -> PluginHost:
    return make_host(config, env={})


def test_no_configuration_registers_all_four(tmp_path: Path) -> None:
    host = _host(_project(tmp_path, 'store = "tinydb://c.json"\n'))
    assert list(host.schemes()) == list(BUILTIN_SCHEMES)
    assert host.failures == []


def test_schemes_chooses_built_in_schemes(tmp_path: Path) -> None:
    config = _project(tmp_path, '[classification]\nschemes = ["cause", "severity"]\n')
    host = _host(config)
    assert set(host.schemes()) == {"severity", "cause"}


def test_extend_adds_keywords_labels_and_negations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _project(
        tmp_path,
        '[[classification.rules]]\nfile = "rules/cause-extra.toml"\nmode = "extend"\n',
        {"rules/cause-extra.toml": CAUSE_EXTRA},
    )
    # Relative to the config file, not to the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cause = _host(config).scheme("cause")
    labels = [label.name for label in cause.labels]
    assert labels == ["product_quality", "service_quality", "price", "integrity", "safety"]
    safety = next(label for label in cause.labels if label.name == "safety")
    assert (safety.names.en, safety.names.zh) == ("Safety", "安全")
    service = next(label for label in cause.labels if label.name == "service_quality")
    assert service.names.zh == "服务质量"  # the built-in label keeps its names
    result = cause.classify("工单超时三天")
    assert result is not None and result.label == "service_quality"
    assert "工单超时" in result.evidence
    fire = cause.classify("The charger caught fire")
    assert fire is not None and fire.label == "safety"
    breach = cause.classify("Another SLA breach this week")
    assert breach is not None and breach.evidence == ("SLA breach",)
    assert cause.classify("The SLA met all targets") is None
    # built-in rules still work
    rude = cause.classify("The waiter was rude")
    assert rude is not None and rude.label == "service_quality"


def test_extend_is_the_default_mode(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        '[[classification.rules]]\nfile = "cause-extra.toml"\n',
        {"cause-extra.toml": CAUSE_EXTRA},
    )
    assert "safety" in [label.name for label in _host(config).scheme("cause").labels]


def test_extend_can_set_a_default(tmp_path: Path) -> None:
    extra = 'name = "cause"\ndefault = "service_quality"\n'
    config = _project(tmp_path, '[[classification.rules]]\nfile = "x.toml"\n', {"x.toml": extra})
    result = _host(config).scheme("cause").classify("nothing to see")
    assert result is not None and result.label == "service_quality"


def test_replace_uses_the_file_instead(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        '[[classification.rules]]\nfile = "cause.toml"\nmode = "replace"\n',
        {"cause.toml": CAUSE_REPLACEMENT},
    )
    host = _host(config)
    cause = host.scheme("cause")
    assert [label.name for label in cause.labels] == ["billing", "delivery"]
    assert cause.classify("The waiter was rude") is None
    result = cause.classify("快递丢件")
    assert result is not None and result.label == "delivery"
    assert list(host.schemes()) == list(BUILTIN_SCHEMES)


def test_replace_may_supply_a_scheme_left_out_of_schemes(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        '[classification]\nschemes = ["severity"]\n'
        '[[classification.rules]]\nfile = "cause.toml"\nmode = "replace"\n',
        {"cause.toml": CAUSE_REPLACEMENT},
    )
    host = _host(config)
    assert set(host.schemes()) == {"severity", "cause"}
    assert [label.name for label in host.scheme("cause").labels] == ["billing", "delivery"]


def test_a_new_name_defines_a_new_scheme(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        '[[classification.rules]]\nfile = "crm.toml"\n'
        '[[classification.rules]]\nfile = "crm-more.toml"\nmode = "extend"\n',
        {
            "crm.toml": CRM_SYSTEM,
            "crm-more.toml": 'name = "crm_system"\n[[labels]]\nname = "data_error"\n'
            'keywords = ["客户信息不对"]\n',
        },
    )
    host = _host(config)
    assert list(host.schemes()) == [*BUILTIN_SCHEMES, "crm_system"]
    crm = host.scheme("crm_system")
    assert crm.names.zh == "CRM系统投诉类型"
    assert [label.name for label in crm.labels] == [
        "system_failure",
        "data_error",
        "poor_usability",
        "slow_response",
    ]
    result = crm.classify("导出时提示数据错误，客户信息不对")
    assert result is not None and result.label == "data_error"
    assert set(result.evidence) == {"数据错误", "客户信息不对"}
    default = crm.classify("hello")
    assert default is not None and default.label == "system_failure"
    assert host.owner("register_classification_schemes", "crm_system") == "schemes"


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "files", "message"),
    [
        ('[[classification.rules]]\nfile = "missing.toml"\n', {}, "missing.toml does not exist"),
        (
            '[[classification.rules]]\nfile = "x.toml"\nmode = "merge"\n',
            {},
            "classification.rules[1].mode: expected one of extend, replace, got 'merge'",
        ),
        (
            '[[classification.rules]]\nfile = "bad.toml"\n',
            {"bad.toml": 'name = "cause"\n[[labels]\n'},
            "bad.toml",
        ),
        (
            '[classification]\nschemes = ["cause", "mood"]\n',
            {},
            "classification.schemes: unknown built-in scheme(s) 'mood'; built in: severity,",
        ),
        ("[classification]\nschemes = 3\n", {}, "classification.schemes: expected an array [...]"),
        (
            '[classification]\nscheme = ["cause"]\n',
            {},
            "classification: unknown setting(s) scheme (did you mean schemes?); known: schemes",
        ),
        (
            '[[classification.rules]]\nfile = "x.toml"\npath = "x.toml"\n',
            {},
            "classification.rules[1]: unknown setting(s) path; known: file, mode",
        ),
        (
            '[[classification.rules]]\nmode = "extend"\n',
            {},
            "classification.rules[1].file: missing (this setting is required)",
        ),
        (
            '[[classification.rules]]\nfile = "x.toml"\n',
            {"x.toml": 'name = "cause"\n[[labels]]\nname = "safety"\nkeywords = ["fire"]\n'},
            "label 'safety' of scheme 'cause' needs both an English name (en) and a Chinese",
        ),
        (
            '[[classification.rules]]\nfile = "x.toml"\n',
            {"x.toml": 'name = "cause"\ndefault = "nonsense"\n'},
            "default label 'nonsense' is not one of its labels",
        ),
        (
            '[classification]\nschemes = ["severity"]\n[[classification.rules]]\nfile = "x.toml"\n',
            {"x.toml": CAUSE_EXTRA},
            "extends built-in scheme 'cause', which [classification] schemes leaves out",
        ),
    ],
)
def test_errors_name_the_files_and_the_problem(
    tmp_path: Path, config: str, files: dict[str, str], message: str
) -> None:
    loaded = _project(tmp_path, config, files)
    host = _host(loaded)
    # A configuration error stops the command: carrying on would silently classify nothing.
    with pytest.raises(ConfigError) as info:
        host.schemes()
    assert message in str(info.value)
    assert str(tmp_path / "complaintkit.toml") in str(info.value)
    if files:
        assert next(iter(files)) in str(info.value)
    # Called directly, the hook implementation raises ConfigError.
    with pytest.raises(ConfigError, match=re.escape(message)):
        register_classification_schemes(lambda scheme: None, loaded)


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    config = _project(
        tmp_path,
        '[[classification.rules]]\nfile = "bad.toml"\n',
        {"bad.toml": 'name = "cause"\n\n[[labels]\n'},
    )
    with pytest.raises(ConfigError, match=r"bad\.toml.*line 3"):
        configured_rule_sets(config)
