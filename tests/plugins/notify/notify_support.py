"""Real servers on loopback for the notification tests: SMTP (aiosmtpd) and HTTP, and a project
folder with notifications configured (fixtures in conftest.py)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from complaintkit import Config, Desk, PluginHost, load_config, make_host
from complaintkit.outbox import Outbox, outbox_of
from complaintkit.storage import Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpHandler:
    """Keeps every accepted mail; refuses recipients listed in ``reject`` with that reply."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.reject: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.reject:
            return self.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that a test can stop and start again."""

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.port = free_port()
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.handler = SmtpHandler()
        self.auth = auth
        self.logins: list[str] = []
        self.controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if (
            isinstance(data, LoginPassword)
            and (
                data.login.decode(),
                data.password.decode(),
            )
            == self.auth
        ):
            self.logins.append(data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.auth is not None:
            kwargs = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        if self.tls is not None and self.implicit_tls:
            kwargs["ssl_context"] = self.tls
        elif self.tls is not None:
            kwargs.update(tls_context=self.tls, require_starttls=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "AUTH without TLS": on loopback, on purpose
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")
    return cert, key


@attrs.define
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    delay: float = 0.0


@attrs.define
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpServer:
    """A real HTTP server recording requests; ``replies`` are served in order, then ``default``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = []
        self.default = Reply()
        #: when set, a request it refuses is answered 401 (e.g. a bad signature)
        self.check: Callable[[Received], bool] | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = outer.replies.pop(0) if outer.replies else outer.default
                received = Received(self.command, self.path, dict(self.headers.items()), body)
                outer.requests.append(received)
                if outer.check is not None and not outer.check(received):
                    reply = Reply(401, b'{"error": "bad signature"}')
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout test)

            do_POST = _serve
            do_GET = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http() -> Iterator[HttpServer]:
    server = HttpServer()
    yield server
    server.close()


class Clock:
    """A settable clock (UTC)."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@attrs.define
class Project:
    """A project folder with complaintkit.toml, its host, store, desk and outbox."""

    path: Path
    config: Config
    host: PluginHost
    store: Store
    desk: Desk
    clock: Clock

    @property
    def outbox(self) -> Outbox:
        return outbox_of(self.store)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Callable[[str], Project]]:
    """``project(toml)``: write complaintkit.toml (store beside it) and open everything."""
    opened: list[Store] = []

    def make(toml: str) -> Project:
        path = tmp_path / "complaintkit.toml"
        path.write_text('store = "tinydb://complaints.json"\n' + toml, encoding="utf-8")
        config = load_config(path, env={})
        host = make_host(config, env={})
        store = host.open_store()
        opened.append(store)
        clock = Clock()
        desk = Desk(host, store, actor="tester", clock=clock)
        return Project(tmp_path, config, host, store, desk, clock)

    yield make
    for store in opened:
        store.close()
