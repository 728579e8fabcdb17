"""The OpenAPI 3.1 description: generated, served at /openapi.json, published in docs/."""

from __future__ import annotations

import json

from click.testing import CliRunner

from complaintkit_api.server import openapi_document, openapi_text
from complaintkit_cli.main import cli
from conftest import REPO

from .conftest import Running


def test_the_published_description_is_the_generated_one() -> None:
    published = (REPO / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert published == openapi_text(), (
        "docs/openapi.json is out of date: complaintkit serve --openapi > docs/openapi.json"
    )


def test_it_is_openapi_3_1_and_every_operation_needs_a_token() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), f"{method.upper()} {path} has no security"
            assert "401" in operation["responses"], f"{method.upper()} {path}"


def test_the_server_serves_it_and_the_command_prints_it(api: Running) -> None:
    with api.client(None) as client:
        assert client.get("/openapi.json").json() == openapi_document()
    printed = CliRunner().invoke(cli, ["serve", "--openapi"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == openapi_document()
