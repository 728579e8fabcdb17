"""The HTTP API against the SDK in one process: intake, get and transition.

For SQLite (and PostgreSQL when its server answers), in a fresh store each:

* **HTTP**: ``complaintkit serve`` started as a real process on a free loopback port; one
  client (httpx, keep-alive) sends the requests one after another: ``POST /complaints``,
  ``GET /complaints/{reference}``, ``POST /complaints/{reference}/transitions``
  (``acknowledge``, with ``If-Match``);
* **SDK**: the same operations through :class:`~complaintkit.desk.Desk` in this process
  (``intake``, ``get``, ``transition``), on another store of the same backend.

Each operation runs ``--n`` times (default 300) after a warm-up; the table shows requests (or
calls) per second, the median and 99th percentile latency, and how many times faster the SDK
is. Both measure the same work: the same complaint text (classified by every scheme), the same
store backend, the same machine, in the same run.

    python benchmarks/bench_api.py
    python benchmarks/bench_api.py --n 1000 --backend sqlite
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_storage import Database, available, opened

TEXT = "快递晚到三天，客服态度差，要求退款并道歉"
OPERATIONS = ("intake", "get", "transition")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def timed(n: int, call: Callable[[int], object]) -> list[float]:
    """Seconds each of ``n`` calls took."""
    times = []
    for i in range(n):
        began = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - began)
    return times


def summary(times: list[float]) -> tuple[float, float, float]:
    """Calls per second, median and 99th percentile in milliseconds."""
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(times) / sum(times), statistics.median(ordered) * 1000, p99 * 1000


def measure_http(url: str, n: int, work: Path) -> dict[str, list[float]]:
    """The three operations over HTTP against ``complaintkit serve`` in its own process."""
    import httpx

    from complaintkit.plugindata import plugin_data_of
    from complaintkit_api.tokens import TokenBook

    with opened(url) as (_host, store):
        secret = TokenBook(plugin_data_of(store)).create("bench", "admin")[1]
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "complaintkit"),
        "--store",
        url,
        "serve",
        "--port",
        str(port),
    ]
    log = (work / f"serve-{port}.log").open("w")
    env = {**os.environ, "COMPLAINTKIT_CONFIG": str(work / "none.toml")}
    (work / "none.toml").write_text("", encoding="utf-8")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the server did not start: see {log.name}") from None
                time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}) as client:
            references: list[str] = []

            def intake(i: int) -> None:
                response = client.post("/complaints", json={"text": TEXT, "reference": f"H-{i}"})
                assert response.status_code == 201, response.text
                references.append(response.json()["reference"])

            def get(i: int) -> None:
                response = client.get(f"/complaints/{references[i]}")
                assert response.status_code == 200, response.text

            def transition(i: int) -> None:
                response = client.post(
                    f"/complaints/{references[i]}/transitions",
                    json={"action": "acknowledge"},
                    headers={"If-Match": '"1"'},
                )
                assert response.status_code == 200, response.text

            for i in range(20):  # warm-up: connections, caches, the first classification
                client.post("/complaints", json={"text": TEXT, "reference": f"W-{i}"})
            return {
                "intake": timed(n, intake),
                "get": timed(n, get),
                "transition": timed(n, transition),
            }
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def measure_sdk(url: str, n: int) -> dict[str, list[float]]:
    """The same operations through a Desk in this process."""
    from complaintkit import Complaint, Desk, utcnow

    with opened(url) as (host, store):
        desk = Desk(host, store, actor="bench")
        for i in range(20):
            desk.intake(Complaint(reference=f"W-{i}", received_at=utcnow(), text=TEXT))

        def intake(i: int) -> None:
            desk.intake(Complaint(reference=f"S-{i}", received_at=utcnow(), text=TEXT))

        def get(i: int) -> None:
            host.converter().unstructure(host.mask(store.get(f"S-{i}")))

        def transition(i: int) -> None:
            desk.transition(f"S-{i}", "acknowledge")

        return {
            "intake": timed(n, intake),
            "get": timed(n, get),
            "transition": timed(n, transition),
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="calls of each operation")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    args = parser.parse_args(argv)
    backends = args.backend or [b for b in ("sqlite", "postgresql") if available(b) is None]
    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for backend in backends:
            dbs = [
                Database(backend, work, f"ck_bench_api_{uuid.uuid4().hex[:8]}") for _ in range(2)
            ]
            try:
                http = measure_http(dbs[0].url, args.n, work)
                sdk = measure_sdk(dbs[1].url, args.n)
            finally:
                for db in dbs:
                    db.drop()
            for op in OPERATIONS:
                h, s = summary(http[op]), summary(sdk[op])
                rows.append([backend, op, *h, *s, s[0] / h[0]])
    header = (
        "| backend | operation | HTTP req/s | HTTP p50 ms | HTTP p99 ms | SDK calls/s "
        "| SDK p50 ms | SDK p99 ms | SDK ÷ HTTP |"
    )
    print(f"{args.n} calls of each operation, one client, one after another\n")
    print(header)
    print("|" + "---|" * 9)
    for backend, op, hr, h50, h99, sr, s50, s99, ratio in rows:
        print(
            f"| {backend} | {op} | {hr:,.0f} | {h50:.1f} | {h99:.1f} | {sr:,.0f} | {s50:.1f} "
            f"| {s99:.1f} | {ratio:.1f}× |"
        )


if __name__ == "__main__":
    main()
