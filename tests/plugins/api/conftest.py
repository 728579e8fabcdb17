"""The API server for real: uvicorn on a free loopback port in a thread of the test process,
over a real store, with real tokens; tests talk to it with a real HTTP client (httpx)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("fastapi", reason="the api extra is not installed")
pytest.importorskip("httpx", reason="the dev extra is not installed")

import httpx
import uvicorn
from click.testing import CliRunner, Result

from complaintkit import make_host
from complaintkit.config import load_config
from complaintkit.plugindata import plugin_data_of
from complaintkit_api.server import build
from complaintkit_api.tokens import TokenBook
from complaintkit_cli.main import cli

#: Remedy approval limits the tests run with: an agent may offer 200, a supervisor 2000.
CONFIG = """
[remedies]
currency = "CNY"

[remedies.approval]
agent = 200
supervisor = 2000
admin = "unlimited"

[api]
max_body = 65536
max_batch = 50
stale_after = 2
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@attrs.define
class Running:
    """A server running over ``url``: its base address and a secret per role."""

    url: str
    base: str
    secrets: dict[str, str]
    folder: Path
    server: Any
    thread: threading.Thread

    def client(self, role: str | None = "admin", **headers: str) -> httpx.Client:
        """An HTTP client sending the token of ``role`` (None: no token)."""
        if role is not None:
            headers.setdefault("Authorization", f"Bearer {self.secrets[role]}")
        return httpx.Client(base_url=self.base, headers=headers, timeout=60)

    def store(self) -> Any:
        """The store, opened by the test itself (as another process would)."""
        host = make_host(load_config(self.folder / "complaintkit.toml", env={}))
        return host.open_store(self.url, create=False)

    def cli(self, *args: str) -> Result:
        """Run the command line over the server's store and configuration (exit code not
        checked)."""
        return CliRunner().invoke(
            cli, ["--store", self.url, "--config", str(self.folder / "complaintkit.toml"), *args]
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_server(url: str, folder: Path, config: str = CONFIG) -> Running:
    """Create the store and a token per role, start uvicorn on a free port, wait until it
    answers."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "complaintkit.toml").write_text(config, encoding="utf-8")
    host = make_host(load_config(folder / "complaintkit.toml", env={}))
    store = host.open_store(url, create=True)
    book = TokenBook(plugin_data_of(store))
    secrets = {role: book.create(f"{role}-1", role)[1] for role in ("agent", "supervisor", "admin")}
    store.close()
    app, service = build(host, url)
    port = free_port()
    config_ = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config_)

    def run() -> None:
        try:
            server.run()
        finally:
            service.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/openapi.json", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        raise RuntimeError(f"the API server on port {port} did not start")
    return Running(url, base, secrets, folder, server, thread)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start a server over a store URL (stopped at the end of the test)."""
    running: list[Running] = []

    def start(url: str | None = None, config: str = CONFIG) -> Running:
        chosen = url or f"tinydb://{tmp_path / 'store' / 'complaints.json'}"
        server = start_server(chosen, tmp_path / f"server{len(running)}", config)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def api(serve: Callable[..., Running]) -> Running:
    """A server over a fresh TinyDB store."""
    return serve()


def intake(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """Register one complaint through the API; the stored complaint."""
    body = {"text": "快递晚到三天，客服态度差，要求退款", "phone": "13800138000", **fields}
    response = client.post("/complaints", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data
