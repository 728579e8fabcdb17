"""Notification cost during a batch import: enqueueing must stay cheap per message.

Imports N synthetic complaints (each with an e-mail address and a department) into a fresh
TinyDB store three times:

* **no rules**: ``[notifications]`` absent — the plain import;
* **rules**: two rules on ``received`` (an acknowledgement to the complainant by e-mail and a
  webhook to the department), so 2 × N messages are rendered and queued in the outbox;

and reports the extra time per queued message. Then it drains the outbox into a console
channel writing to /dev/null to show the delivery-side overhead per message (no network).

    python benchmarks/bench_notify.py --n 10000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaintkit import Desk, Party, load_config, make_host
from complaintkit.outbox import MessageStatus, outbox_of
from complaintkit.testing import make_complaint

RULES = """
[notifications]
lang = "zh"

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
from = "complaints@example.cn"

[notifications.channels.ops]
type = "log"
path = "/dev/null"

[[notifications.rules]]
name = "ack"
event = "received"
channel = "mail"
recipients = ["complainant"]

[[notifications.rules]]
name = "ops"
event = "received"
channel = "ops"
recipients = ["department"]

[notifications.recipients.departments.logistics]
name = "物流部"
"""


def complaints(n: int):  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    for i in range(n):
        yield make_complaint(
            f"B-{i:06d}",
            received_at=start + timedelta(minutes=i),
            title=f"快递延误 {i}",
            text="我的快递延误了三天，外包装破损，客服电话一直打不通，要求赔偿运费。",
            department="logistics",
            complainant=Party(name=f"客户{i}", email=f"c{i}@example.cn"),
        )


def run(n: int, rules: bool) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "complaintkit.toml"
        config_path.write_text(
            'store = "tinydb://complaints.json"\n[storage]\nfsync = false\n'
            + (RULES if rules else ""),
            encoding="utf-8",
        )
        config = load_config(config_path, env={})
        host = make_host(config, env={})
        store = host.open_store()
        desk = Desk(host, store)
        started = time.perf_counter()
        desk.intake_many(complaints(n), classify=False)
        elapsed = time.perf_counter() - started
        queued = outbox_of(store).counts()[MessageStatus.PENDING] if rules else 0
        if rules:
            from complaintkit_notify.engine import drain
            from complaintkit_notify.plugin import notifier

            found = notifier(host)
            assert found is not None
            channels = {"mail": found.channels["ops"], "ops": found.channels["ops"]}
            t0 = time.perf_counter()
            result = drain(outbox_of(store), channels, found.settings, worker="bench")
            drained = time.perf_counter() - t0
            assert result.sent == queued, result
            print(
                f"  drain {queued} messages to a log channel: {drained:.2f} s "
                f"({drained / queued * 1e6:.0f} µs/message)"
            )
        store.close()
        return elapsed, queued


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.pop("COMPLAINTKIT_CONFIG", None)
    plain, _ = run(args.n, rules=False)
    print(f"import {args.n}: no rules {plain:.2f} s")
    with_rules, queued = run(args.n, rules=True)
    extra = with_rules - plain
    print(
        f"import {args.n}: with rules {with_rules:.2f} s, {queued} messages queued, "
        f"+{extra:.2f} s = {extra / queued * 1e6:.0f} µs per queued message"
    )


if __name__ == "__main__":
    main()
