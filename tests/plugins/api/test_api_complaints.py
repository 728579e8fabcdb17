"""The API over a real server: intake (one, many, idempotent), reading, listing with
filters and cursors, handling with If-Match; bodies are what the command line prints."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Running, intake


def cli_json(api: Running, *args: str) -> Any:
    """What ``complaintkit … --format json`` prints over the same store, parsed."""
    result = api.cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cli_error(api: Running, *args: str) -> str:
    """The message the command line prints after ``Error:`` for the same request."""
    result = api.cli(*args)
    assert result.exit_code != 0
    return result.output.strip().removeprefix("Error: ")


def test_intake_answers_201_with_the_complaint_as_show_prints_it(api: Running) -> None:
    with api.client("agent") as client:
        response = client.post(
            "/complaints",
            json={
                "text": "屏幕碎了，要求退款",
                "phone": "13800138000",
                "channel": "wechat",
                "fields": {"crm_id": "A-17"},
                "tags": ["vip"],
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        reference = body["reference"]
        assert response.headers["ETag"] == '"1"'
        assert response.headers["Location"] == f"/complaints/{reference}"
        assert body["complainant"]["phone"] == "138****8000"  # masked, as the CLI shows it
        assert body["history"][0]["actor"] == "agent-1"  # the token's name is the actor
        assert client.get(f"/complaints/{reference}").json() == body
    assert cli_json(api, "show", reference) == body


def test_an_idempotent_retry_returns_the_first_answer_and_stores_nothing_new(
    api: Running,
) -> None:
    body = {"text": "电视无法开机", "customer_id": "C-1"}
    with api.client("agent", **{"Idempotency-Key": "crm-42"}) as client:
        first = client.post("/complaints", json=body)
        again = client.post("/complaints", json=body)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        other = client.post("/complaints", json={**body, "text": "another complaint"})
        assert other.status_code == 422
        assert other.headers["content-type"] == "application/problem+json"
        assert "was used for a different request" in other.json()["detail"]
    with api.store() as store:
        assert store.count() == 1
    # Keys belong to a token: another token's same key is another request.
    with api.client("supervisor", **{"Idempotency-Key": "crm-42"}) as client:
        assert (
            client.post("/complaints", json=body).json()["reference"] != first.json()["reference"]
        )


def test_batch_intake_is_idempotent_too(api: Running) -> None:
    batch = {
        "complaints": [{"text": f"投诉 {i}", "reference": f"B-{i}"} for i in range(3)]
        + [{"text": "no reference given"}]
    }
    with api.client("agent", **{"Idempotency-Key": "batch-1"}) as client:
        first = client.post("/complaints/batch", json=batch)
        assert first.status_code == 200, first.text
        data = first.json()
        assert data["added"] == 4 and data["skipped"] == [] and data["refused"] == []
        assert data["references"][:3] == ["B-0", "B-1", "B-2"]
        again = client.post("/complaints/batch", json=batch)
        assert again.json() == data
    with api.client("agent") as client:  # without a key a re-send skips what is stored
        plain = client.post("/complaints/batch", json=batch).json()
        assert plain["skipped"] == ["B-0", "B-1", "B-2"] and plain["added"] == 1
    with api.store() as store:
        assert store.count() == 5


def test_batch_with_a_bad_item_stores_nothing_and_names_it(api: Running) -> None:
    with api.client("agent") as client:
        response = client.post(
            "/complaints/batch",
            json={"complaints": [{"text": "fine"}, {"text": "x", "phone": "abc"}]},
        )
        assert response.status_code == 422
        assert response.json()["errors"] == [
            "complaints.1: complainant_phone: 'abc' is not a phone number (expected digits, "
            "e.g. 138 0013 8000)"
        ]
        too_many = client.post("/complaints/batch", json={"complaints": [{"text": "t"}] * 51})
        assert too_many.status_code == 422 and "at most 50" in too_many.json()["detail"]
    with api.store() as store:
        assert store.count() == 0


def test_list_filters_and_pages_with_a_cursor(api: Running) -> None:
    with api.client("agent") as client:
        for i in range(7):
            intake(
                client,
                reference=f"L-{i}",
                channel="email" if i % 2 else "phone",
                received_at=f"2026-11-0{i + 1}T09:00:00+08:00",
            )
        emails = client.get("/complaints", params={"channel": "email"}).json()
        # Newest first, as the CLI lists them.
        assert [c["reference"] for c in emails] == ["L-5", "L-3", "L-1"]
        assert emails == cli_json(api, "list", "--channel", "email")
        oldest = client.get("/complaints", params={"channel": "email", "sort": "received_at"})
        assert oldest.json() == cli_json(api, "list", "--channel", "email", "--sort", "received_at")
        for sort, expected in (
            ("-received_at", [f"L-{i}" for i in reversed(range(7))]),
            ("received_at", [f"L-{i}" for i in range(7)]),
        ):
            seen: list[str] = []
            params: dict[str, Any] = {"limit": 3, "sort": sort}
            while True:
                page = client.get("/complaints", params=params)
                assert page.status_code == 200
                seen += [c["reference"] for c in page.json()]
                if "Next-Cursor" not in page.headers:
                    break
                assert 'rel="next"' in page.headers["Link"]
                params["cursor"] = page.headers["Next-Cursor"]
            assert seen == expected, sort
        since = client.get("/complaints", params={"since": "2026-11-05", "status": "received"})
        assert [c["reference"] for c in since.json()] == ["L-6", "L-5", "L-4"]
        bad = client.get("/complaints", params={"cursor": "nonsense"})
        assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
        unknown = client.get("/complaints", params={"label": "cause=prize"})
        assert unknown.status_code == 400
        assert unknown.json()["detail"] == cli_error(api, "list", "--label", "cause=prize")


def test_changes_need_if_match_and_refuse_a_stale_version(api: Running) -> None:
    with api.client("agent") as client:
        reference = intake(client)["reference"]
        path = f"/complaints/{reference}/transitions"
        missing = client.post(path, json={"action": "acknowledge"})
        assert missing.status_code == 428
        assert "If-Match" in missing.json()["detail"]
        done = client.post(path, json={"action": "acknowledge"}, headers={"If-Match": '"1"'})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "acknowledged" and done.headers["ETag"] == '"2"'
        assert done.json()["history"][-1]["actor"] == "agent-1"
        stale = client.post(path, json={"action": "assess"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        assert stale.headers["ETag"] == '"2"'
        assert "you had version 1, the store has version 2" in stale.json()["detail"]
        assert client.get(f"/complaints/{reference}").json()["status"] == "acknowledged"
        weak = client.post(path, json={"action": "assess"}, headers={"If-Match": 'W/"2"'})
        assert weak.status_code == 400


def test_a_refused_transition_has_the_command_lines_words(api: Running) -> None:
    with api.client("agent") as client:
        reference = intake(client)["reference"]
        response = client.post(
            f"/complaints/{reference}/transitions",
            json={"action": "resolve"},
            headers={"If-Match": '"1"'},
        )
    assert response.status_code == 409
    assert response.json()["detail"] == cli_error(api, "transition", reference, "resolve")


def test_assign_label_remedy_and_satisfaction(api: Running) -> None:
    with api.client("agent") as client:
        c = intake(client)
        ref, version = c["reference"], c["version"]

        def put(path: str, body: dict[str, Any], method: str = "PUT") -> dict[str, Any]:
            nonlocal version
            response = client.request(
                method, f"/complaints/{ref}{path}", json=body, headers={"If-Match": f'"{version}"'}
            )
            assert response.status_code == 200, response.text
            version = response.json()["version"]
            data: dict[str, Any] = response.json()
            return data

        assert (
            put("/assignment", {"department": "售后部", "assignee": "li.lei"})["assignee"]
            == "li.lei"
        )
        labelled = put("/labels/cause", {"label": "价格", "reason": "checked by phone"})
        assert labelled["labels"]["cause"]["label"] == "price"
        over = client.post(
            f"/complaints/{ref}/remedies",
            json={"kind": "refund", "amount": 500},
            headers={"If-Match": f'"{version}"'},
        )
        assert over.status_code == 403
        assert over.json()["detail"] == (
            "a agent may offer at most 200 CNY, this offer is 500 CNY; ask a supervisor or "
            "admin to offer it"
        )
        for action in ("acknowledge", "assess", "investigate"):
            put("/transitions", {"action": action}, "POST")
        put("/remedies", {"kind": "refund", "amount": 150, "customer_loss": 300}, "POST")
    with api.client("supervisor") as client:
        response = client.post(
            f"/complaints/{ref}/remedies",
            json={"kind": "compensation", "amount": 500},
            headers={"If-Match": f'"{version}"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["remedies"][-1]["approved_by"] == "supervisor"
        version = response.json()["version"]
        accepted = client.post(
            f"/complaints/{ref}/remedies/2/acceptance", headers={"If-Match": f'"{version}"'}
        )
        assert accepted.status_code == 200, accepted.text
        version = accepted.json()["version"]
        for action, extra in (
            ("propose", {"solution": "refund 500"}),
            ("accept", {}),
            ("implement", {}),
            ("resolve", {}),
        ):
            step = client.post(
                f"/complaints/{ref}/transitions",
                json={"action": action, **extra},
                headers={"If-Match": f'"{version}"'},
            )
            assert step.status_code == 200, step.text
            version = step.json()["version"]
        closed = client.put(
            f"/complaints/{ref}/satisfaction",
            json={"score": 4},
            headers={"If-Match": f'"{version}"'},
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed" and closed.json()["satisfaction"] == 4
    assert cli_json(api, "show", ref) == closed.json()


def test_unmasked_needs_a_supervisor_and_a_reason_and_is_recorded(api: Running) -> None:
    with api.client("agent") as client:
        reference = intake(client)["reference"]
        refused = client.get(
            f"/complaints/{reference}", params={"unmasked": True, "reason": "call back"}
        )
        assert refused.status_code == 403
    with api.client("supervisor") as client:
        assert client.get(f"/complaints/{reference}", params={"unmasked": True}).status_code == 400
        shown = client.get(
            f"/complaints/{reference}", params={"unmasked": True, "reason": "call back"}
        ).json()
        assert shown["complainant"]["phone"] == "13800138000"
        assert shown["history"][-1]["action"] == "personal_data_disclosed"
        assert shown["history"][-1]["actor"] == "supervisor-1"
