"""Case work over the real server: edit, internal notes, attachments, merge, reopen, and
lists sorted and filtered by tags and custom fields; bodies and error words are the command
line's, every change is in the history with the token's name as the actor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import CONFIG, Running, intake
from .test_api_complaints import cli_error, cli_json

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def version(response: httpx.Response) -> dict[str, str]:
    """The If-Match header for the version ``response`` carries."""
    return {"If-Match": response.headers["ETag"]}


def current(client: httpx.Client, reference: str) -> dict[str, str]:
    return version(client.get(f"/complaints/{reference}"))


def test_edit_changes_fields_with_the_command_lines_checks(api: Running) -> None:
    with api.client("agent") as client:
        made = client.post(
            "/complaints",
            json={"text": "屏幕碎了", "phone": "13800138000", "reference": "E-1", "tags": ["a"]},
        )
        edited = client.patch(
            "/complaints/E-1",
            json={
                "set": {"phone": "13900139000", "product": "手机", "custom.region": "华东"},
                "add_tags": ["vip"],
                "reason": "客户来电更正",
            },
            headers=version(made),
        )
        assert edited.status_code == 200, edited.text
        assert edited.headers["ETag"] == '"2"'
        body = edited.json()
        shown = cli_json(api, "show", "E-1")
        assert body == shown
        assert body["product"] == "手机" and body["custom"] == {"region": "华东"}
        assert body["tags"] == ["a", "vip"]
        event = body["history"][-1]
        assert event["action"] == "edit" and event["actor"] == "agent-1"
        assert event["reason"] == "客户来电更正"
        assert event["data"]["product"] == {"from": None, "to": "手机"}
        with api.store() as store:
            assert store.get("E-1").complainant.phone == "13900139000"

        # Unknown field and wrong type: the desk's words, as the command line prints them.
        unknown = client.patch(
            "/complaints/E-1",
            json={"set": {"colour": "red"}, "reason": "x"},
            headers=version(edited),
        )
        assert unknown.status_code == 422
        assert unknown.json()["detail"] == cli_error(
            api, "edit", "E-1", "--set", "colour=red", "--reason", "x"
        )
        wrong = client.patch(
            "/complaints/E-1",
            json={"set": {"product": 5}, "reason": "x"},
            headers=version(edited),
        )
        assert wrong.status_code == 422
        assert "field product: expected text, got int 5" in wrong.json()["detail"]
        both = client.patch(
            "/complaints/E-1",
            json={"set": {"order": "O-1"}, "unset": ["order"], "reason": "x"},
            headers=version(edited),
        )
        assert both.status_code == 422 and "order is both set and unset" in both.json()["detail"]
        extra = client.patch(
            "/complaints/E-1",
            json={"set": {"product": "x"}, "reason": "x", "colour": "red"},
            headers=version(edited),
        )
        assert extra.status_code == 422 and "colour" in extra.json()["detail"]
        no_reason = client.patch(
            "/complaints/E-1", json={"set": {"product": "x"}}, headers=version(edited)
        )
        assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
        missing = client.patch("/complaints/E-1", json={"set": {"product": "x"}, "reason": "x"})
        assert missing.status_code == 428
        stale = client.patch(
            "/complaints/E-1",
            json={"unset": ["product"], "reason": "x"},
            headers=version(made),
        )
        assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
        gone = client.patch(
            "/complaints/NOPE", json={"set": {"product": "x"}, "reason": "x"}, headers=version(made)
        )
        assert gone.status_code == 404
    with api.store() as store:
        kept = store.get("E-1")
        assert kept.version == 2 and kept.product == "手机"  # nothing refused was written


def test_notes_are_added_and_listed(api: Running) -> None:
    with api.client("agent") as client:
        made = intake(client, reference="N-1")
        added = client.post(
            "/complaints/N-1/notes",
            json={"text": "客户情绪激动，回电前先查物流"},
            headers={"If-Match": f'"{made["version"]}"'},
        )
        assert added.status_code == 201, added.text
        assert added.json() == cli_json(api, "show", "N-1")
        notes = client.get("/complaints/N-1/notes")
        assert notes.status_code == 200 and notes.headers["ETag"] == added.headers["ETag"]
        [note] = notes.json()
        assert note["action"] == "note" and note["actor"] == "agent-1"
        assert note["data"]["text"] == "客户情绪激动，回电前先查物流"
        blank = client.post("/complaints/N-1/notes", json={"text": "  "}, headers=version(added))
        assert blank.status_code == 422
        stale = client.post(
            "/complaints/N-1/notes", json={"text": "again"}, headers={"If-Match": '"1"'}
        )
        assert stale.status_code == 412
        assert len(client.get("/complaints/N-1/notes").json()) == 1
        assert client.get("/complaints/NOPE/notes").status_code == 404


@pytest.mark.parametrize("backend", ["tinydb", "sqlite"])
def test_attachments_upload_list_download_and_remove(
    serve: Callable[..., Running], tmp_path: Path, backend: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'complaints.db'}"
        if backend == "sqlite"
        else f"tinydb://{tmp_path / 'store' / 'complaints.json'}"
    )
    api = serve(url, CONFIG + "\n[attachments]\nmax_size = 1000\n")
    with api.client("agent") as client:
        made = client.post("/complaints", json={"text": "包装破损", "reference": "A-1"})
        path = "/complaints/A-1/attachments"
        text = "物流单号 SF123，外箱破损。\n".encode()
        up = client.post(
            path,
            params={"name": "../../etc/passwd"},
            content=text,
            headers={**version(made), "Content-Type": "application/octet-stream"},
        )
        assert up.status_code == 201, up.text
        stored = up.json()
        assert stored["reference"] == "A-1" and stored["name"] == "passwd"
        assert stored["type"] == "text/plain" and stored["size"] == len(text)
        assert up.headers["ETag"] == '"2"'
        assert up.headers["Location"] == "/complaints/A-1/attachments/passwd"
        assert not (tmp_path / "etc").exists()
        # Binary content (NUL bytes) is a file, not a JSON body: it passes.
        png = client.post(path, params={"name": "photo.png"}, content=PNG, headers=version(up))
        assert png.status_code == 201, png.text
        assert png.json()["type"] == "image/png"

        listed = client.get(path)
        assert listed.status_code == 200
        assert [a["name"] for a in listed.json()] == ["passwd", "photo.png"]
        assert listed.json() == cli_json(api, "attachments", "A-1")
        assert {a["added_by"] for a in listed.json()} == {"agent-1"}
        got = client.get(f"{path}/passwd")
        assert got.status_code == 200 and got.content == text
        assert got.headers["content-type"].startswith("text/plain")
        assert got.headers["content-disposition"].startswith('attachment; filename="passwd"')
        assert got.headers["x-content-type-options"] == "nosniff"
        assert client.get(f"{path}/photo.png").content == PNG
        history = client.get("/complaints/A-1").json()["history"]
        assert [e["action"] for e in history[-2:]] == ["attach", "attach"]
        assert history[-2]["data"]["given_name"] == "../../etc/passwd"

        head = current(client, "A-1")
        too_big = client.post(path, params={"name": "big.txt"}, content=b"x" * 1001, headers=head)
        assert too_big.status_code == 413
        assert "1,000 bytes" in too_big.json()["detail"]
        assert "[attachments] max_size" in too_big.json()["detail"]
        program = client.post(
            path, params={"name": "setup.bin"}, content=b"MZ\x90\x00" + bytes(60), headers=head
        )
        assert program.status_code == 415
        assert "is not allowed ([attachments] allowed_types" in program.json()["detail"]
        liar = client.post(path, params={"name": "invoice.pdf"}, content=b"hello", headers=head)
        assert liar.status_code == 415
        assert (
            "the name says application/pdf (.pdf) but the content is text/plain"
            in (liar.json()["detail"])
        )
        empty = client.post(path, params={"name": "e.txt"}, content=b"", headers=head)
        assert empty.status_code == 422 and "the file is empty" in empty.json()["detail"]
        again = client.post(path, params={"name": "passwd"}, content=b"other", headers=head)
        assert again.status_code == 409 and "already has an attachment" in again.json()["detail"]
        stale = client.post(path, params={"name": "n.txt"}, content=b"new", headers=version(made))
        assert stale.status_code == 412
        dots = client.post(path, params={"name": "../.."}, content=b"abc", headers=head)
        assert dots.status_code == 422 and dots.json()["detail"].startswith("attachment")
        nameless = client.post(path, content=b"abc", headers=head)
        assert nameless.status_code == 422 and "name" in nameless.json()["detail"]
        assert [a["name"] for a in client.get(path).json()] == ["passwd", "photo.png"]
        assert client.get(f"{path}/nothing.txt").status_code == 404

        refused = client.delete(f"{path}/passwd", headers=head)
        assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    with api.client("supervisor") as client:
        removed = client.delete(
            f"{path}/passwd", params={"reason": "传错了文件"}, headers=current(client, "A-1")
        )
        assert removed.status_code == 200, removed.text
        event = removed.json()["history"][-1]
        assert event["action"] == "detach" and event["actor"] == "supervisor-1"
        assert event["reason"] == "传错了文件" and event["data"]["name"] == "passwd"
        assert client.get(f"{path}/passwd").status_code == 404
        assert [a["name"] for a in client.get(path).json()] == ["photo.png"]


def test_merge_and_reopen(api: Running) -> None:
    with api.client("agent") as client:
        keep = intake(client, reference="M-1", tags=["vip"])
        intake(client, reference="M-2", tags=["物流"])
        dup = client.get("/complaints/M-2")
        noted = client.post(
            "/complaints/M-2/notes", json={"text": "同一订单"}, headers=version(dup)
        )
        assert noted.status_code == 201
        body = {"duplicate": "M-2", "reason": "同一客户同一订单"}
        forbidden = client.post(
            "/complaints/M-1/merge", json=body, headers={"If-Match": f'"{keep["version"]}"'}
        )
        assert forbidden.status_code == 403
    with api.client("supervisor") as client:
        stale = client.post("/complaints/M-1/merge", json=body, headers={"If-Match": '"9"'})
        assert stale.status_code == 412
        merged = client.post(
            "/complaints/M-1/merge", json=body, headers={"If-Match": f'"{keep["version"]}"'}
        )
        assert merged.status_code == 200, merged.text
        kept = merged.json()
        assert kept == cli_json(api, "show", "M-1")
        assert kept["tags"] == ["vip", "物流"]
        assert any(
            e["action"] == "merged" and e["actor"] == "supervisor-1" for e in kept["history"]
        )
        assert [n["data"]["text"] for n in client.get("/complaints/M-1/notes").json()] == [
            "同一订单"
        ]
        gone = client.get("/complaints/M-2").json()
        assert gone["status"] == "rejected" and gone["parent"] == "M-1"
        into_itself = client.post(
            "/complaints/M-1/merge",
            json={"duplicate": "M-1", "reason": "x"},
            headers=version(merged),
        )
        assert into_itself.status_code == 409
        assert into_itself.json()["detail"] == cli_error(
            api, "merge", "M-1", "M-1", "--reason", "x"
        )
        # A merged duplicate cannot be reopened; a wrongly rejected complaint can.
        reopen = {"action": "reopen", "reason": "驳回有误"}
        refused = client.post(
            "/complaints/M-2/transitions", json=reopen, headers=current(client, "M-2")
        )
        assert refused.status_code == 409 and "merged into M-1" in refused.json()["detail"]
        other = intake(client, reference="M-3")
        rejected = client.post(
            "/complaints/M-3/transitions",
            json={"action": "reject", "reason": "不属于投诉"},
            headers={"If-Match": f'"{other["version"]}"'},
        )
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        reopened = client.post(
            "/complaints/M-3/transitions", json=reopen, headers=version(rejected)
        )
        assert reopened.status_code == 200, reopened.text
        assert reopened.json()["status"] == "reopened"
        assert reopened.json()["history"][-1]["actor"] == "supervisor-1"


def test_lists_sorted_and_filtered_by_tags_and_custom_fields(api: Running) -> None:
    with api.client("agent") as client:
        for i in range(6):
            intake(
                client,
                reference=f"S-{5 - i}",
                received_at=f"2026-11-0{i + 1}T09:00:00+08:00",
                tags=["vip"] if i % 2 else [],
                fields={"region": "华东" if i < 3 else "华南", "level": str(i)},
            )
        vip = client.get("/complaints", params={"tag": "vip"}).json()
        assert [c["reference"] for c in vip] == ["S-0", "S-2", "S-4"]
        assert vip == cli_json(api, "list", "--tag", "vip")
        east = client.get(
            "/complaints", params=[("custom", "region=华东"), ("custom", "level=1")]
        ).json()
        assert [c["reference"] for c in east] == ["S-4"]
        assert east == cli_json(api, "list", "--custom", "region=华东", "--custom", "level=1")
        assert client.get("/complaints", params=[("tag", "vip"), ("tag", "x")]).json() == []
        for sort in ("reference", "-reference", "status", "-due_at", "escalation_level"):
            seen: list[dict[str, Any]] = []
            params: dict[str, Any] = {"sort": sort, "limit": 4}
            while True:
                page = client.get("/complaints", params=params)
                assert page.status_code == 200, page.text
                seen += page.json()
                if "Next-Cursor" not in page.headers:
                    break
                params["cursor"] = page.headers["Next-Cursor"]
            assert seen == cli_json(api, "list", "--sort", sort), sort
        by_reference = client.get("/complaints", params={"sort": "reference"}).json()
        assert [c["reference"] for c in by_reference] == [f"S-{i}" for i in range(6)]

        # A complaint added before the cursor's place meanwhile shifts nothing.
        first_page = client.get("/complaints", params={"sort": "reference", "limit": 3})
        assert [c["reference"] for c in first_page.json()] == ["S-0", "S-1", "S-2"]
        intake(client, reference="S-0a")
        rest = client.get(
            "/complaints",
            params={"sort": "reference", "cursor": first_page.headers["Next-Cursor"]},
        )
        assert [c["reference"] for c in rest.json()] == ["S-3", "S-4", "S-5"]
        bad = client.get("/complaints", params={"sort": "colour"})
        assert bad.status_code == 400 and "cannot sort by 'colour'" in bad.json()["detail"]
        first = client.get("/complaints", params={"sort": "reference", "limit": 2})
        mixed = client.get(
            "/complaints", params={"sort": "-reference", "cursor": first.headers["Next-Cursor"]}
        )
        assert mixed.status_code == 400 and "sort=reference" in mixed.json()["detail"]
        misspelt = client.get("/complaints", params={"stauts": "closed"})
        assert misspelt.status_code == 400
        assert "unknown query parameter(s) 'stauts'" in misspelt.json()["detail"]
        not_pair = client.get("/complaints", params={"custom": "region"})
        assert not_pair.status_code == 400 and "KEY=VALUE" in not_pair.json()["detail"]
        report = client.get("/reports/summary", params={"tag": "vip", "format": "json"})
        assert report.status_code == 200
        assert report.json() == cli_json(api, "report", "summary", "--tag", "vip")


def test_a_reason_over_its_limit_is_refused_by_name(api: Running) -> None:
    # A reason is at most 1,000 characters on every route (schemathesis sent 10,000 four-byte
    # characters to the one route that allowed them, a 130 KiB request line, and the
    # connection was dropped instead of answered).
    wide = "\U00010000"
    url = f"/complaints/{wide * 255}/attachments/{wide * 255}"
    with api.client("supervisor", **{"If-Match": '"1"'}) as client:
        response = client.delete(url, params={"reason": wide * 1001})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert "reason" in response.text
        response = client.delete(url, params={"reason": wide * 1000})
        assert response.status_code == 404
