"""Routing rules from configuration: first match wins; the SOP's defaults as the example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from complaintkit import Config, ConfigError, TransitionRejected
from complaintkit.routing import load_routing_config
from complaintkit.testing import make_complaint
from process_support import example_data, make_desk


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"tinydb://{tmp_path / 'c.json'}"


def test_quality_problems_go_to_the_quality_department(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        c = desk.intake(make_complaint("Q-1", text="冰箱质量太差，用了两天就坏了", order="O-1"))
        assert c.label("cause") == "product_quality"
        assert c.department == "quality"
        assign = next(e for e in c.history if e.action == "assign")
        assert assign.data["rule"] == "quality"
        assert assign.reason is not None and "cause=product_quality" in assign.reason


def test_pre_sale_and_after_sale(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        pre = desk.intake(make_complaint("P-1", text="The price on the website is misleading"))
        after = desk.intake(
            make_complaint("A-1", text="The price on the invoice is wrong", order="O-9")
        )
        assert pre.department == "product"
        assert after.department == "customer_service"


def test_a_complaint_already_assigned_is_not_rerouted_at_intake(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        c = desk.intake(make_complaint("D-1", text="price", department="billing"))
        assert c.department == "billing"
        assert not [e for e in c.history if e.action == "assign"]


def test_route_command_reroutes_after_reclassification(url: str) -> None:
    desk, store = make_desk(url)
    with store:
        desk.intake(make_complaint("R-1", text="The invoice amount is wrong", order="O-1"))
        desk.label("R-1", "cause", "product_quality", reason="the unit was faulty")
        c, route = desk.route("R-1")
        assert (c.department, route.rule) == ("quality", "quality")


def test_no_matching_rule_is_a_clear_refusal(url: str) -> None:
    data = example_data()
    data["routing"] = {"rules": [{"match": {"channels": ["letter"]}, "department": "post"}]}
    desk, store = make_desk(url, data)
    with store:
        c = desk.intake(make_complaint("N-1", text="late"))
        assert c.department is None
        with pytest.raises(TransitionRejected, match="no routing rule matches"):
            desk.route("N-1")


def test_rules_are_tried_in_order() -> None:
    rules = [
        {"name": "first", "match": {"channels": ["phone"]}, "department": "a"},
        {"name": "second", "match": {"channels": ["phone", "email"]}, "department": "b"},
    ]
    config = load_routing_config(Config(data={"routing": {"rules": rules}}))
    route = config.route(make_complaint(channel="phone"))
    assert route is not None and route.department == "a"
    route = config.route(make_complaint(channel="email"))
    assert route is not None and route.rule == "second"
    assert config.route(make_complaint(channel="web")) is None


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"rules": [{"match": {}}]}, "rules[1]: give a department, an assignee, or both"),
        (
            {"rules": [{"department": "x"}, {"department": "x", "dept": "y"}]},
            "rules[2]: unknown setting(s) dept; known: name, match, department, assignee",
        ),
        ({"rules": {"department": "x"}}, "rules: expected an array of tables ([[...]])"),
        (
            {"rules": [{"department": "x", "match": {"color": "red"}}]},
            "rules[1].match: unknown setting(s) color; known: labels, channels, products, tags",
        ),
    ],
)
def test_bad_routing_configuration(routing: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_routing_config(Config(data={"routing": routing}))
    assert str(info.value).startswith(f"the configuration: routing.{message}")
