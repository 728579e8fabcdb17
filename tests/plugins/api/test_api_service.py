"""Reports in every format, listings, tokens and roles, and bad requests: each a clear 4xx
problem document, never a 5xx."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from complaintkit import make_host
from complaintkit_cli.main import cli

from .conftest import Running, intake
from .test_api_complaints import cli_json


def test_every_report_in_every_format(api: Running) -> None:
    host = make_host()
    with api.client("agent") as client:
        for i in range(3):
            intake(client, channel="email" if i else "phone")
        reports = client.get("/reports").json()
        assert reports == cli_json(api, "report", "--list")
        for report in reports:
            for fmt, renderer in host.report_formats().items():
                response = client.get(f"/reports/{report['name']}", params={"format": fmt})
                assert response.status_code == 200, (report["name"], fmt, response.text)
                assert response.content, (report["name"], fmt)
                if renderer.binary:
                    assert not response.headers["content-type"].startswith("text/")
                else:
                    assert response.text.strip()
        summary = client.get("/reports/summary").json()  # JSON when no format is asked for
        printed = CliRunner().invoke(
            cli, ["--store", api.url, "report", "summary", "--format", "json"]
        )
        assert printed.exit_code == 0, printed.output
        assert summary.keys() == json.loads(printed.stdout).keys()
        assert summary["tables"] == json.loads(printed.stdout)["tables"]
        html = client.get("/reports/summary", headers={"Accept": "text/html"})
        assert html.headers["content-type"] == "text/html; charset=utf-8"
        assert "<html" in html.text.lower()
        csv = client.get("/reports/summary", headers={"Accept": "text/csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        zh = client.get("/reports/summary", params={"format": "csv", "lang": "zh"})
        assert zh.text != csv.text
        assert client.get("/reports/summary", headers={"Accept": "image/png"}).status_code == 406
        assert client.get("/reports/nope").status_code == 404
        bad = client.get("/reports/summary", params={"option": "colour=red"})
        assert bad.status_code == 400


def test_schemes_and_plugins_are_the_command_lines(api: Running) -> None:
    with api.client("agent") as client:
        assert client.get("/schemes").json() == cli_json(api, "schemes")
        assert client.get("/plugins").status_code == 403
    with api.client("admin") as client:
        names = [p["name"] for p in client.get("/plugins").json()]
        assert "api" in names and "tinydb" in names


def test_sweep_is_for_admins_and_answers_as_the_cli(api: Running) -> None:
    with api.client("supervisor") as client:
        assert client.post("/sweep", json={}).status_code == 403
    with api.client("admin") as client:
        intake(client)
        done = client.post("/sweep", json={"dry_run": True})
        assert done.status_code == 200
        assert set(done.json()) == set(cli_json(api, "sweep", "--dry-run"))
        future = client.post("/sweep", json={"now": "2999-01-01T00:00:00+00:00"})
        assert future.status_code == 422 and "later than the real time" in future.json()["detail"]


def test_tokens_no_token_bad_token_and_revocation(api: Running) -> None:
    with api.client(None) as client:
        none = client.get("/complaints")
        assert none.status_code == 401 and none.headers["WWW-Authenticate"] == "Bearer"
        assert none.headers["content-type"] == "application/problem+json"
        assert client.get("/openapi.json").status_code == 200  # the description is public
    with api.client(None, Authorization="Bearer ck_not-a-real-token") as client:
        bad = client.get("/complaints")
        assert bad.status_code == 401 and "unknown or has been revoked" in bad.json()["detail"]
    with api.client("admin") as admin:
        created = admin.post("/tokens", json={"name": "crm.bot", "role": "agent"})
        assert created.status_code == 201
        secret = created.json()["secret"]
        listed = admin.get("/tokens").json()
        assert [t["name"] for t in listed] == ["admin-1", "agent-1", "crm.bot", "supervisor-1"]
        assert secret not in json.dumps(listed) and all("secret" not in t for t in listed)
        duplicate = admin.post("/tokens", json={"name": "crm.bot", "role": "agent"})
        assert duplicate.status_code == 422 and "exists already" in duplicate.json()["detail"]
        with api.client(None, Authorization=f"Bearer {secret}") as bot:
            assert intake(bot)["history"][0]["actor"] == "crm.bot"
            assert bot.get("/tokens").status_code == 403
            # Revoked with the command line, as another process: refused at once.
            result = CliRunner().invoke(cli, ["--store", api.url, "token", "revoke", "crm.bot"])
            assert result.exit_code == 0, result.output
            revoked = bot.get("/complaints")
            assert revoked.status_code == 401
        assert admin.delete("/tokens/crm.bot").status_code == 404
    with api.store() as store:
        text = store.path.read_text(encoding="utf-8")
    for secret in api.secrets.values():
        assert secret not in text  # only hashes are stored


@pytest.mark.parametrize(
    ("content", "headers", "status", "words"),
    [
        (b'{"text": "unterminated', {}, 400, "not valid JSON"),
        (b'{"text": 42}', {}, 422, "body.text: Input should be a valid string"),
        (
            b'{"text": "ok", "colour": "red"}',
            {},
            422,
            "body.colour: Extra inputs are not permitted",
        ),
        (b'{"text": "ok", "channel": "pigeon"}', {}, 422, "body.channel"),
        (b"[1, 2]", {}, 422, "body"),
        (b'{"text": "ok"}', {"Content-Type": "text/plain"}, 415, "must be JSON"),
        (b'{"text": "a\\u0000b"}', {}, 400, "NUL"),
        (b'{"text": "a\\ud800b"}', {}, 400, "surrogate"),
        (b'{"text": "' + b"x" * 70_000 + b'"}', {}, 413, "larger than 65,536 bytes"),
        (b'{"text": "ok", "received_at": "0001-01-01T00:00:00"}', {}, 400, "1900-2999"),
        (b'{"text": "   "}', {}, 422, "body.text: String should match pattern"),
    ],
)
def test_bad_bodies_get_a_clear_4xx_problem(
    api: Running, content: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    with api.client("agent") as client:
        sent = {"Content-Type": "application/json", **headers}
        response = client.post("/complaints", content=content, headers=sent)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and words in problem["detail"]
    assert problem["type"].startswith("urn:complaintkit:problem:")
    with api.store() as store:
        assert store.count() == 0


def test_a_body_streamed_past_the_limit_is_refused(api: Running) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"text": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    with api.client("agent") as client:
        response = client.post(
            "/complaints", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413


def test_unknown_paths_and_methods_are_problems_too(api: Running) -> None:
    with api.client("agent") as client:
        missing = client.get("/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.delete("/complaints").status_code == 405
        nul = client.get("/complaints", params={"department": "a\x00b"})
        assert nul.status_code == 400
        ref = client.get("/complaints/CK-NOPE")
        assert ref.status_code == 404
        assert ref.json()["detail"] == "no complaint with reference 'CK-NOPE'"


def test_role_table_is_enforced(api: Running) -> None:
    with api.client("agent") as client:
        assert client.post("/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    with httpx.Client(base_url=api.base) as anonymous:
        assert anonymous.post("/complaints", json={"text": "x"}).status_code == 401


def test_an_idempotency_key_is_kept_for_keep_keys_then_freed_and_pruned(tmp_path: Path) -> None:
    from complaintkit_api.service import ApiSettings, Idempotency, Replay, Service
    from complaintkit_api.tokens import NAMESPACE, Token

    url = f"tinydb://{tmp_path / 'c.json'}"
    host = make_host()
    host.open_store(url, create=True).close()
    service = Service(host, url, settings=ApiSettings(keep_keys=60))
    keys = Idempotency(service)
    alice = Token("alice", "agent", "2026-12-07T00:00:00+00:00", "abcd")
    calls: list[list[str]] = []

    def work(references: list[str]) -> Replay:
        calls.append(references)
        return Replay(201, {"call": len(calls)})

    first, replayed = keys.run(alice, "k1", "body-1", ["C-1"], work)
    assert (first, replayed) == (Replay(201, {"call": 1}), False)
    again, replayed = keys.run(alice, "k1", "body-1", ["C-2"], work)
    assert (again, replayed) == (first, True) and calls == [["C-1"]]

    data = service.data()

    def age(name: str, seconds: float) -> None:
        document = data.get(NAMESPACE, name)
        assert document is not None and document["state"] == "done"
        data.put(NAMESPACE, name, {**document, "finished": document["finished"] - seconds})

    age("idem:alice:k1", 59)  # kept 59 s of 60: still replayed
    assert keys.run(alice, "k1", "body-1", ["C-3"], work)[1] is True
    age("idem:alice:k1", 2)  # now kept 61 s: the key is free for any request
    third, replayed = keys.run(alice, "k1", "body-2", ["C-3"], work)
    assert (third, replayed) == (Replay(201, {"call": 2}), False) and calls[-1] == ["C-3"]

    for key in ("k2", "k3", "k4"):
        keys.run(alice, key, "body", [f"C-{key}"], work)
    age("idem:alice:k2", 120)
    age("idem:alice:k3", 120)
    data.put(NAMESPACE, "token:someone", {"role": "agent"})  # not a key: never pruned
    assert keys.prune() == 0  # this process pruned moments ago (at the first request)
    keys._pruned_at = 0.0
    assert keys.prune() == 2
    left = {name for name, _ in data.items(NAMESPACE)}
    assert left == {"idem:alice:k1", "idem:alice:k4", "token:someone"}
    service.close()
