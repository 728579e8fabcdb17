"""Escalation, SLA clocks (pause, resume, read), responses, routing, classifying one complaint
again, and the review of automatic labels, over the real server: bodies are the command
line's JSON, refusals its words, every change needs If-Match and is the token's in the
history."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .conftest import CONFIG, Running, intake
from .test_api_casework import current, version
from .test_api_complaints import cli_error, cli_json

EXAMPLES = Path(__file__).parents[3] / "examples" / "complaints.csv"

PROCESS = (
    CONFIG
    + """
[sla]
default = "standard"
calendar = "cn"
warn_before = "4h"

[sla.policies.standard]
acknowledge = "4 working hours"
respond = "1 working day"
resolve = "3 working days"

[[routing.rules]]
name = "pre-sale"
match = { has_order = false }
department = "product"
"""
)

NOW = "2026-12-07T10:00:00+08:00"


def test_escalate_needs_if_match_and_records_the_token(api: Running) -> None:
    with api.client("agent") as client:
        made = intake(client, reference="X-1")
        body = {"reason": "客户要求找领导"}
        missing = client.post("/complaints/X-1/escalation", json=body)
        assert missing.status_code == 428
        stale = client.post("/complaints/X-1/escalation", json=body, headers={"If-Match": '"9"'})
        assert stale.status_code == 412 and stale.headers["ETag"] == f'"{made["version"]}"'
        unknown = client.post("/complaints/NOPE/escalation", json=body, headers={"If-Match": '"1"'})
        assert unknown.status_code == 404
        blank = client.post(
            "/complaints/X-1/escalation", json={"reason": " "}, headers=current(client, "X-1")
        )
        assert blank.status_code == 422
        bad_level = client.post(
            "/complaints/X-1/escalation",
            json={"to": "ceo", "reason": "x"},
            headers=current(client, "X-1"),
        )
        assert bad_level.status_code == 422
        assert "unknown escalation level 'ceo'" in bad_level.json()["detail"]

        up = client.post("/complaints/X-1/escalation", json=body, headers=current(client, "X-1"))
        assert up.status_code == 200, up.text
        assert up.json() == cli_json(api, "show", "X-1")
        assert up.json()["escalation_level"] == 1
        event = up.json()["history"][-1]
        assert event["actor"] == "agent-1" and event["reason"] == "客户要求找领导"

        top = client.post(
            "/complaints/X-1/escalation",
            json={"to": "领导层", "reason": "升级"},
            headers=version(up),
        )
        assert top.status_code == 200 and top.json()["escalation_level"] == 3
        down = client.post(
            "/complaints/X-1/escalation",
            json={"to": "department", "reason": "x"},
            headers=version(top),
        )
        assert down.status_code == 409, down.text
        assert down.json()["detail"] == cli_error(
            api, "escalate", "X-1", "--to", "department", "--reason", "x"
        )
    with api.client(None) as anonymous:
        assert anonymous.post("/complaints/X-1/escalation", json=body).status_code == 401


def test_pause_resume_respond_route_and_clocks(serve: Callable[..., Running]) -> None:
    api = serve(config=PROCESS)
    with api.client("agent") as client:
        made = intake(client, reference="P-1", received_at="2026-12-07T09:00:00+08:00")
        clocks = client.get("/complaints/P-1/clocks", params={"now": NOW})
        assert clocks.status_code == 200, clocks.text
        assert clocks.json() == cli_json(api, "clocks", "P-1", "--now", NOW)
        assert {c["target"] for c in clocks.json()} == {"acknowledge", "respond", "resolve"}
        assert clocks.headers["ETag"] == f'"{made["version"]}"'
        assert client.get("/complaints/NOPE/clocks").status_code == 404

        assert (
            client.post("/complaints/P-1/pause", json={"reason": "等客户补充照片"}).status_code
            == 428
        )
        paused = client.post(
            "/complaints/P-1/pause", json={"reason": "等客户补充照片"}, headers=version(clocks)
        )
        assert paused.status_code == 200, paused.text
        assert paused.json() == cli_json(api, "show", "P-1")
        event = paused.json()["history"][-1]
        assert (event["action"], event["actor"]) == ("pause", "agent-1")
        seen = client.get("/complaints/P-1/clocks", params={"now": NOW}).json()
        assert seen == cli_json(api, "clocks", "P-1", "--now", NOW)
        assert all(c["paused"] for c in seen if c["outcome"] == "pending")
        again = client.post("/complaints/P-1/pause", json={"reason": "x"}, headers=version(paused))
        assert again.status_code == 409
        assert again.json()["detail"] == cli_error(api, "pause", "P-1", "--reason", "x")

        resumed = client.post(
            "/complaints/P-1/resume", json={"reason": "照片已收到"}, headers=version(paused)
        )
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["history"][-1]["action"] == "resume"
        assert resumed.json()["history"][-1]["actor"] == "agent-1"
        assert not any(
            c["paused"] for c in client.get("/complaints/P-1/clocks", params={"now": NOW}).json()
        )

        responded = client.post(
            "/complaints/P-1/responses",
            json={"message": "您好，已为您安排换货"},
            headers=version(resumed),
        )
        assert responded.status_code == 200, responded.text
        assert responded.json() == cli_json(api, "show", "P-1")
        assert responded.json()["history"][-1]["actor"] == "agent-1"
        assert (
            client.post(
                "/complaints/P-1/responses", json={"message": ""}, headers=version(responded)
            ).status_code
            == 422
        )
        met = {c["target"]: c for c in client.get("/complaints/P-1/clocks").json()}
        assert met["respond"]["met_at"] is not None

        stale = client.post("/complaints/P-1/routing", headers=version(resumed))
        assert stale.status_code == 412
        routed = client.post("/complaints/P-1/routing", headers=version(responded))
        assert routed.status_code == 200, routed.text
        assert routed.json()["department"] == "product"
        assert routed.json() == cli_json(api, "show", "P-1")
        assert routed.json()["history"][-1]["actor"] == "agent-1"

        ordered = intake(client, reference="P-2", order="O-9")
        unrouted = client.post("/complaints/P-2/routing", headers={"If-Match": '"1"'})
        assert unrouted.status_code == 409, unrouted.text
        assert unrouted.json()["detail"] == cli_error(api, "route", "P-2")
        assert ordered["version"] == 1


def test_clocks_without_an_sla_policy_say_so_as_the_command_line(api: Running) -> None:
    with api.client("agent") as client:
        intake(client, reference="C-1")
        answer = client.get("/complaints/C-1/clocks")
        assert answer.status_code == 404
        assert answer.json()["detail"] == cli_error(api, "clocks", "C-1")


def test_classify_one_complaint_again(api: Running) -> None:
    with api.client("agent") as client:
        made = intake(client, reference="K-1", text="手机屏幕碎了，质量太差，要求退款")
        labelled = client.put(
            "/complaints/K-1/labels/cause",
            json={"label": "price", "reason": "看错了"},
            headers=version(client.get("/complaints/K-1")),
        )
        assert labelled.status_code == 200, labelled.text
        kept = client.post(
            "/complaints/K-1/classification", json={"schemes": ["cause"]}, headers=version(labelled)
        )
        assert kept.status_code == 200, kept.text
        assert kept.json()["labels"]["cause"]["label"] == "price"  # set by hand: kept
        forced = client.post(
            "/complaints/K-1/classification",
            json={"schemes": ["cause"], "force": True},
            headers=version(kept),
        )
        assert forced.status_code == 200, forced.text
        assert forced.json() == cli_json(api, "show", "K-1")
        assert forced.json()["labels"]["cause"]["label"] == made["labels"]["cause"]["label"]
        assert forced.json()["labels"]["cause"]["classifier"] != "manual"
        unknown = client.post(
            "/complaints/K-1/classification", json={"schemes": ["nope"]}, headers=version(forced)
        )
        assert unknown.status_code == 400, unknown.text
        assert unknown.json()["detail"] == cli_error(api, "classify", "K-1", "--scheme", "nope")
        assert client.post("/complaints/K-1/classification", json={}).status_code == 428


def test_review_queue_and_decisions_as_the_command_line(api: Running, tmp_path: Path) -> None:
    assert api.cli("import", str(EXAMPLES)).exit_code == 0
    with api.client("agent") as client:
        queue = client.get("/review", params={"scheme": "cause"})
        assert queue.status_code == 200, queue.text
        items = queue.json()
        assert items and items == cli_json(api, "review", "--scheme", "cause")
        higher = client.get("/review", params={"scheme": "投诉原因", "below": 0.9, "limit": 3})
        assert higher.json() == cli_json(
            api, "review", "--scheme", "投诉原因", "--below", "0.9", "--limit", "3"
        )
        assert len(higher.json()) == 3
        assert client.get("/review", params={"open": True}).json() == cli_json(
            api, "review", "--open"
        )
        unknown = client.get("/review", params={"scheme": "nope"})
        assert unknown.status_code == 400
        assert unknown.json()["detail"] == cli_error(api, "review", "--scheme", "nope")
        assert client.get("/review", params={"below": 2}).status_code == 422

        first, second = items[0], items[1]
        other = "price" if second["label"] != "price" else "integrity"
        rows: list[dict[str, Any]] = [
            {"reference": first["reference"], "scheme": "cause", "label": first["label"]},
            {"reference": second["reference"], "scheme": "cause", "label": other, "note": "T-7"},
            {"reference": first["reference"], "scheme": "cause", "label": "no-such-label"},
            {"reference": "NOPE", "scheme": "cause", "label": "price"},
            {"reference": first["reference"], "scheme": "", "label": "price"},
        ]
        decided = client.post("/review/decisions", json={"decisions": rows, "note": "周检"})
        assert decided.status_code == 200, decided.text
        result = decided.json()
        assert result["applied"] == {"accepted": 1, "corrected": 1}
        assert [p.split(":", 1)[0] for p in result["problems"]] == [
            "decisions.2",
            "decisions.3",
            "decisions.4",
        ]
        # The command line's words for the same rows (which it cannot apply either).
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(rows[2:]), encoding="utf-8")
        run = api.cli("review", "--decisions", str(path))
        assert run.exit_code == 1
        cli_problems = [
            line.split(": ", 1)[1]
            for line in run.stderr.splitlines()
            if line.startswith(f"{path}:")
        ]
        assert [p.split(": ", 1)[1] for p in result["problems"]] == cli_problems

        accepted = client.get(f"/complaints/{first['reference']}").json()
        label = accepted["labels"]["cause"]
        assert (label["label"], label["classifier"]) == (first["label"], "manual")
        event = accepted["history"][-1]
        assert event["actor"] == "agent-1"
        assert event["reason"].startswith("review: accepted") and event["reason"].endswith("周检")
        corrected = client.get(f"/complaints/{second['reference']}").json()
        assert corrected["labels"]["cause"]["label"] == other
        assert corrected["history"][-1]["reason"].startswith("review: corrected from")
        assert corrected["history"][-1]["reason"].endswith("周检; T-7")
        left = {
            item["reference"] for item in client.get("/review", params={"scheme": "cause"}).json()
        }
        assert first["reference"] not in left and second["reference"] not in left

        again = client.post("/review/decisions", json={"decisions": rows[:1]})
        assert again.json() == {"applied": {"unchanged": 1}, "problems": []}
        assert client.post("/review/decisions", json={"decisions": []}).status_code == 422
        extra = client.post("/review/decisions", json={"decisions": [{**rows[0], "x": 1}]})
        assert extra.status_code == 422
    with api.client(None) as anonymous:
        assert anonymous.get("/review").status_code == 401


def test_every_new_action_is_in_the_role_table(api: Running) -> None:
    from complaintkit_api.roles import ACTIONS

    for action in ("escalate", "pause", "respond", "route", "classify", "review"):
        assert ACTIONS[action] == "agent"
    text = (Path(__file__).parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    for route in (
        "/complaints/{reference}/escalation",
        "/complaints/{reference}/pause",
        "/complaints/{reference}/resume",
        "/complaints/{reference}/responses",
        "/complaints/{reference}/routing",
        "/complaints/{reference}/classification",
        "/complaints/{reference}/clocks",
        "/review/decisions",
    ):
        assert route in text, route
    with httpx.Client(base_url=api.base) as client:
        spec = client.get("/openapi.json").json()
    assert "/review" in spec["paths"] and "/complaints/{reference}/clocks" in spec["paths"]
