"""Twenty clients at once on the same complaints, over HTTP, on SQLite and PostgreSQL: no
update is lost (a stale write is refused with 412 and the client reads again and retries),
and twenty copies of one intake with the same Idempotency-Key store one complaint."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sql.conftest import empty, postgres_database  # noqa: F401 - the fixture, for PostgreSQL

from .conftest import Running, intake

CLIENTS = 20
ROUNDS = 6  # changes per client
LABELS = ("price", "service_quality", "integrity", "product_quality")


def _client_work(
    api: Running, number: int, references: list[str], results: list[Any], start: threading.Barrier
) -> None:
    """One client: an idempotent intake, then ROUNDS changes (assign or label), each retried
    after a 412 until it is written or refused for another reason."""
    written: list[tuple[str, str]] = []  # (reference, reason) of each change that was written
    stale = 0
    with api.client("agent") as client:
        start.wait()
        same = {"text": "同一个投诉，CRM 重试了二十次", "customer_id": "CRM-7"}
        while True:
            first = client.post("/complaints", json=same, headers={"Idempotency-Key": "crm-7"})
            if first.status_code != 409:  # 409: the first copy is still being stored
                break
            time.sleep(0.02)
        assert first.status_code == 201, first.text
        for round_ in range(ROUNDS):
            reference = references[(number + round_) % len(references)]
            reason = f"client {number} round {round_}"
            while True:
                current = client.get(f"/complaints/{reference}")
                version = current.json()["version"]
                if round_ % 2:
                    label = LABELS[(number + round_) % len(LABELS)]
                    response = client.put(
                        f"/complaints/{reference}/labels/cause",
                        json={"label": label, "reason": reason},
                        headers={"If-Match": f'"{version}"'},
                    )
                else:
                    response = client.put(
                        f"/complaints/{reference}/assignment",
                        json={"assignee": f"agent-{number}-{round_}", "reason": reason},
                        headers={"If-Match": f'"{version}"'},
                    )
                if response.status_code == 412:
                    stale += 1
                    continue
                assert response.status_code == 200, response.text
                if response.json()["version"] > version:
                    written.append((reference, reason))
                break
    results.append((first.json()["reference"], written, stale))


def run_clients(api: Running, references: list[str]) -> tuple[list[Any], float]:
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(CLIENTS)

    def guarded(number: int) -> None:
        try:
            _client_work(api, number, references, results, start)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    return results, time.perf_counter() - began


@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_twenty_clients_lose_no_update_and_store_one_intake(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, serve: Callable[..., Running]
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'complaints.db'}"
    else:
        url = empty(request.getfixturevalue("postgres_database"))
    api = serve(url)
    with api.client("agent") as client:
        references = [intake(client, reference=f"SAME-{i}")["reference"] for i in range(3)]
    results, seconds = run_clients(api, references)
    assert len(results) == CLIENTS
    # One complaint for twenty copies of the same intake, and each client was told its reference.
    assert len({reference for reference, _, _ in results}) == 1
    with api.store() as store:
        assert store.count() == len(references) + 1
        written = Counter(ref for _, changes, _ in results for ref, _ in changes)
        for reference in references:
            c = store.get(reference)
            reasons = [e.reason for e in c.history if e.reason and e.reason.startswith("client")]
            expected = sorted(
                reason for _, changes, _ in results for ref, reason in changes if ref == reference
            )
            assert sorted(reasons) == expected  # every written change is in the history
            assert c.version == 1 + written[reference]  # and nothing else wrote
            assert all(e.actor == "agent-1" for e in c.history[1:])
    stale = sum(s for _, _, s in results)
    assert stale > 0  # the clients did race each other
    changes = sum(len(changes) for _, changes, _ in results)
    print(
        f"\n{backend}: {CLIENTS} clients, {CLIENTS * ROUNDS} changes asked, {changes} written "
        f"(a label already set changes nothing) in {seconds:.1f} s, "
        f"{stale} stale writes refused with 412 and retried"
    )
