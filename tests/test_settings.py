"""Configuration sections structured by complaintkit.settings: types, paths and messages."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from typing import Literal

import attrs
import pytest
from click.testing import CliRunner

from complaintkit import (
    Channel,
    ConfigError,
    Duration,
    EscalationLevel,
    InvalidSetting,
    load_config,
    structure_section,
    structure_settings,
)
from complaintkit.escalation import load_escalation_config
from complaintkit.process import load_process_config
from complaintkit.routing import load_routing_config
from complaintkit.sla import load_sla_config
from complaintkit_cli.main import cli


def _smaller_than_top(table: Window, _: object, value: int) -> None:
    if value >= table.top:
        raise InvalidSetting(f"must be smaller than top ({table.top}), got {value}", "low")


@attrs.frozen
class Window:
    top: int = 10
    low: int = attrs.field(default=1, validator=_smaller_than_top)


@attrs.frozen
class Sample:
    """A plugin's settings, using every simple type the converter reads."""

    every: Duration | None = None
    opens: time | None = None
    day: date | None = None
    channels: frozenset[Channel] = frozenset()
    level: EscalationLevel | None = None
    labels: tuple[tuple[str, str], ...] = ()
    period: Literal["day", "week"] = "day"
    lam: float = attrs.field(default=0.3, metadata={"key": "lambda"})
    sender: str | None = attrs.field(default=None, metadata={"key": "from"})
    windows: dict[str, Window] = attrs.field(factory=dict)
    rules: tuple[Window, ...] = ()


def structure(table: dict[str, object]) -> Sample:
    return structure_settings(table, Sample, where="plugin.toml", path="sample")


def problem(table: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        structure(table)
    return str(info.value)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "process.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_simple_types_read_from_their_toml_spelling() -> None:
    sample = structure(
        {
            "every": "3个工作日",
            "opens": "09:30",
            "day": date(2026, 10, 9),
            "channels": ["微信", "phone"],
            "level": "领导层",
            "labels": "severity=serious",
            "period": "week",
            "lambda": 1,
            "from": "ck@example.cn",
        }
    )
    assert sample.every == Duration(timedelta(days=3), "days", "3个工作日")
    assert (sample.opens, sample.day) == (time(9, 30), date(2026, 10, 9))
    assert sample.channels == {Channel.WECHAT, Channel.PHONE}
    assert sample.level is EscalationLevel.LEADERSHIP
    assert sample.labels == (("severity", "serious"),)
    assert (sample.period, sample.lam, sample.sender) == ("week", 1.0, "ck@example.cn")


def test_a_keyword_key_is_read_under_its_toml_name_and_refused_under_the_field_name() -> None:
    assert structure({"lambda": 0.5}).lam == 0.5
    assert structure({"from": "a@b.cn"}).sender == "a@b.cn"
    message = problem({"lam": 0.5})
    assert message.startswith("plugin.toml: sample: unknown setting(s) lam (did you mean lambda?)")
    assert "known: every, opens, day, channels, level, labels, period, lambda, from, windows" in (
        message
    )


def test_unknown_key_at_a_nested_path_names_the_path_and_the_known_keys() -> None:
    assert problem({"windows": {"night shift": {"top": 5, "lw": 1}}}) == (
        'plugin.toml: sample.windows."night shift": unknown setting(s) lw (did you mean low?); '
        "known: top, low"
    )
    assert problem({"rules": [{}, {"tp": 3}]}) == (
        "plugin.toml: sample.rules[2]: unknown setting(s) tp (did you mean top?); known: top, low"
    )


def test_wrong_type_at_a_nested_path() -> None:
    assert problem({"windows": {"day": {"top": "ten"}}}) == (
        "plugin.toml: sample.windows.day.top: expected a whole number, got 'ten'"
    )
    assert problem({"windows": {"day": {"top": True}}}) == (
        "plugin.toml: sample.windows.day.top: expected a whole number, got True"
    )
    assert problem({"windows": {"day": 3}}) == (
        "plugin.toml: sample.windows.day: expected a table, got 3"
    )
    assert problem({"rules": {"top": 3}}) == (
        "plugin.toml: sample.rules: expected an array of tables ([[...]]), got a table"
    )


def test_every_problem_is_one_line() -> None:
    lines = problem(
        {"every": "soon", "opens": "25:00", "channels": ["fax"], "period": "month", "colour": 1}
    ).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "sample.every",
        "sample.opens",
        "sample.channels[1]",
        "sample.period",
        "sample",
    ]
    assert all(line.startswith("plugin.toml: ") for line in lines)
    assert "'soon' is not a duration; write e.g. '3 working days'" in lines[0]
    assert lines[1].endswith("expected a time of day such as 09:00, got '25:00'")
    assert "unknown channel 'fax' (known: phone, sms," in lines[2]
    assert lines[3].endswith("expected one of day, week, got 'month'")


def test_a_rule_across_fields_names_its_key() -> None:
    assert problem({"windows": {"w": {"top": 3, "low": 3}}}) == (
        "plugin.toml: sample.windows.w.low: must be smaller than top (3), got 3"
    )


def test_structure_section_names_the_configuration_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[sample.windows.w]\ntop = 2.5\n")
    with pytest.raises(ConfigError) as info:
        structure_section(load_config(path, env={}), "sample", Sample)
    assert str(info.value) == f"{path}: sample.windows.w.top: expected a whole number, got 2.5"
    assert structure_section(load_config(path, env={}), "absent", Window) == Window()


@attrs.frozen
class Required:
    name: str
    size: int = 1


@attrs.frozen
class BadDefault:
    low: int = attrs.field(default=5, validator=_smaller_than_top)
    top: int = 3


def test_an_empty_table_is_the_defaults_or_the_problems_they_have() -> None:
    # The empty table skips the converter (most sections of most configurations are absent),
    # and must still read as structuring it would: the defaults, a missing required setting,
    # a default its own validator refuses.
    assert structure_settings({}, Sample, where="plugin.toml", path="sample") == Sample()
    with pytest.raises(ConfigError) as info:
        structure_settings({}, Required, where="plugin.toml", path="req")
    assert str(info.value) == "plugin.toml: req.name: missing (this setting is required)"
    with pytest.raises(ConfigError) as info:
        structure_settings({}, BadDefault, where="plugin.toml", path="bad")
    assert str(info.value) == "plugin.toml: bad.low: must be smaller than top (3), got 5"


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'routing = "quality"\n')
    with pytest.raises(ConfigError) as info:
        load_routing_config(load_config(path, env={}))
    assert str(info.value) == f"{path}: routing: expected a table, got 'quality'"


def test_the_sla_section_names_file_and_nested_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[sla.policies.urgent]\nacknowledge = "soon"\nrespnd = "4h"\n'
        "[sla.policies.standard]\nresolve = 3\n",
    )
    with pytest.raises(ConfigError) as info:
        load_sla_config(load_config(path, env={}))
    assert str(info.value).splitlines() == [
        f"{path}: sla.policies.urgent.acknowledge: 'soon' is not a duration; write e.g. "
        "'3 working days', '4 working hours', '24 hours', '2d', '90m', '3个工作日', "
        "'4个工作小时' or '24小时'",
        f"{path}: sla.policies.urgent: unknown setting(s) respnd (did you mean respond?); "
        "known: acknowledge, respond, resolve, calendar, warn_before, match, description",
        f'{path}: sla.policies.standard.resolve: expected a duration such as "3 working days" '
        'or "4h", got 3',
    ]


def test_process_sections_read_words_in_both_languages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[routing.rules]]\nmatch = { channels = "微信" }\ndepartment = "wechat-team"\n'
        '[escalation.fast_channel]\nmatch = { tags = ["vip"] }\nlevel = "领导层"\n'
        "[escalation.levels.\"责任部门\"]\nassignee = 'li.lei'\n",
    )
    config = load_config(path, env={})
    (rule,) = load_routing_config(config).rules
    assert rule.match.channels == {Channel.WECHAT} and rule.name == "rule 1"
    escalation = load_escalation_config(config)
    assert escalation.fast_level is EscalationLevel.LEADERSHIP
    assert escalation.owner(EscalationLevel.DEPARTMENT).assignee == "li.lei"


def test_the_examples_still_load() -> None:
    from complaintkit_notify.settings import load_settings as notify_settings
    from complaintkit_reports.spike_detection import load_settings as early_warning

    examples = Path(__file__).parent.parent / "examples"
    process = load_process_config(load_config(examples / "process.toml", env={}))
    assert process.sla is not None and process.escalation.fast_channel is not None
    notify = notify_settings(load_config(examples / "notifications.toml", env={}))
    assert notify.rules and notify.channels
    config = load_config(examples / "early-warning.toml", env={})
    assert early_warning(config.section("early_warning"), config.where).dimensions


def test_a_configuration_mistake_exits_with_status_2_naming_file_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPLAINTKIT_STORE", raising=False)
    write(tmp_path, '[[routing.rules]]\ndepartment = "a"\n[[routing.rules]]\ndept = "b"\n')
    runner = CliRunner()
    store = ["--config", "process.toml", "--store", "tinydb://store.json"]
    assert runner.invoke(cli, [*store, "init"]).exit_code == 0
    result = runner.invoke(cli, [*store, "add", "--text", "Rude staff"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "Error: process.toml: routing.rules[2]: unknown setting(s) dept; "
        "known: name, match, department, assignee\n"
    )
