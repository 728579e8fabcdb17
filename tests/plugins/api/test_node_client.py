"""A CRM-side client in another language: examples/clients/node/exchange.mjs (Node.js, no
packages) runs against the real server on loopback with a token made by the command line, and
the store afterwards holds what the exchange should have left: one complaint for the retried
intake, moved and labelled by the token's name, and the batch.

Skipped when ``node`` (18 or later, for its built-in fetch) is not on PATH, unless
COMPLAINTKIT_REQUIRE_SERVICES=1, where it fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from complaintkit.storage import ComplaintFilter
from conftest import REPO

from .conftest import Running

EXAMPLE = REPO / "examples" / "clients" / "node"


def node_executable() -> str:
    """``node`` if it is on PATH and new enough, else skip (fail under
    COMPLAINTKIT_REQUIRE_SERVICES=1)."""
    found = shutil.which("node")
    message = "node (Node.js 18 or later) is not on PATH"
    if found is not None:
        version = subprocess.run(
            [found, "--version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout.strip()
        major = re.match(r"v(\d+)\.", version)
        if major is not None and int(major.group(1)) >= 18:
            return found
        message = f"node at {found} is {version or 'of unknown version'}; 18 or later is needed"
    if os.environ.get("COMPLAINTKIT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} but COMPLAINTKIT_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture
def node() -> str:
    return node_executable()


def create_token(api: Running, name: str, role: str) -> str:
    """``complaintkit token create`` over the server's store, as an integrator runs it: the
    secret it prints."""
    result = api.cli("token", "create", "--name", name, "--role", role)
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("ck_"), result.stdout
    return secret


def run_exchange(node: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(EXAMPLE / "exchange.mjs")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


def test_the_node_client_does_a_crm_exchange_and_the_store_shows_it(
    node: str, serve: Callable[..., Running], tmp_path: Path
) -> None:
    api = serve(f"sqlite://{tmp_path / 'crm.db'}")
    secret = create_token(api, "wukongcrm", "agent")
    case = "WK-4711"

    done = run_exchange(
        node,
        {
            "COMPLAINTKIT_URL": api.base,
            "COMPLAINTKIT_TOKEN": secret,
            "COMPLAINTKIT_CRM_CASE": case,
        },
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    # The exchange is shown: the replayed retry, the problems, the cursor, the CSV.
    assert "idempotent-replayed: true" in out
    assert "← 412 Precondition Failed   content-type: application/problem+json" in out
    assert "urn:complaintkit:problem:stale" in out
    assert "← 401 Unauthorized   content-type: application/problem+json" in out
    assert "next-cursor: " in out
    assert "table,item,count,share" in out
    assert secret not in out  # the secret is never printed whole
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1].removeprefix("RESULT "))
    assert result["crm_case"] == case and result["actor"] == "wukongcrm"
    assert result["listed"] == 4

    with api.store() as store:
        assert store.count() == 4  # the retried intake + a batch of three
        (complaint,) = store.find(ComplaintFilter(custom=(("crm_case", case),)))
        assert complaint.reference == result["reference"]
        assert complaint.status.value == "assessed"
        assert complaint.version == 4 and result["etag"] == '"4"'
        cause = complaint.labels["cause"]
        assert cause.label == "product_quality" and cause.classifier == "manual"
        assert [e.action for e in complaint.history].count("received") == 1
        assert {e.actor for e in complaint.history} == {"wukongcrm"}
        backlog = sorted(c.reference for c in store.find() if c.reference != complaint.reference)
        assert backlog == sorted(result["backlog"])
        assert {c.custom["crm_case"] for c in store.find()} == {
            case,
            f"{case}-1",
            f"{case}-2",
            f"{case}-3",
        }


def test_a_crm_job_run_twice_registers_its_case_once(
    node: str, serve: Callable[..., Running]
) -> None:
    api = serve()
    env = {
        "COMPLAINTKIT_URL": api.base,
        "COMPLAINTKIT_TOKEN": create_token(api, "suitecrm", "agent"),
        "COMPLAINTKIT_CRM_CASE": "SC-1",
    }
    assert run_exchange(node, env).returncode == 0
    again = run_exchange(node, env)
    assert again.returncode == 1
    assert "CRM case SC-1 was already registered" in again.stderr
    assert "idempotent-replayed: true" in again.stdout
    with api.store() as store:
        assert store.count() == 4  # nothing stored by the second run
        (complaint,) = store.find(ComplaintFilter(custom=(("crm_case", "SC-1"),)))
        assert complaint.status.value == "assessed"  # the replay changed nothing


def test_the_node_client_without_a_token_says_how_to_make_one(node: str) -> None:
    done = run_exchange(node, {"COMPLAINTKIT_URL": "http://127.0.0.1:9"})
    assert done.returncode == 2
    assert "complaintkit token create --name wukongcrm --role agent" in done.stderr
    assert done.stdout == ""
