"""``complaintkit token``: the secret is printed once, listed never, stored only hashed."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from complaintkit_cli.main import cli


def run(store: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--store", store, *args])
    return result.exit_code, result.stdout, result.stderr


def test_create_list_revoke(tmp_path: Path) -> None:
    store = f"tinydb://{tmp_path / 'c.json'}"
    assert run(store, "init")[0] == 0
    code, secret, said = run(store, "token", "create", "--name", "crm.bot", "--role", "agent")
    assert code == 0 and secret.startswith("ck_") and len(secret.strip()) > 40
    assert "shown only now" in said
    code, listed, _ = run(store, "token", "list", "--format", "json")
    tokens = json.loads(listed)
    assert [(t["name"], t["role"]) for t in tokens] == [("crm.bot", "agent")]
    assert secret.strip() not in listed
    assert secret.strip() not in (tmp_path / "c.json").read_text(encoding="utf-8")
    code, _, said = run(store, "token", "create", "--name", "crm.bot", "--role", "admin")
    assert code != 0
    code, out, _ = run(store, "token", "revoke", "crm.bot")
    assert code == 0 and "revoked" in out
    assert json.loads(run(store, "token", "list", "--format", "json")[1]) == []
    code, out, said = run(store, "token", "revoke", "crm.bot")
    assert code != 0 and "no token named 'crm.bot'" in out + said


def test_bad_names_and_roles_are_refused(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'c.db'}"
    assert run(store, "init")[0] == 0
    code, out, said = run(store, "token", "create", "--name", "has space", "--role", "agent")
    assert code != 0 and "must be 1-64 letters" in out + said
    code, out, said = run(store, "token", "create", "--name", "x", "--role", "boss")
    assert code == 2 and "boss" in out + said
