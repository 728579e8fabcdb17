"""``person erase`` on a full store: one customer with many complaints, then a search of the
whole store for them.

Give it stores that already hold the shared data (e.g. the CFPB file imported with
``complaintkit import``). For each store it makes one customer: COMPLAINTS complaints spread
over the store get the customer as complainant, and every third one mentions their phone,
e-mail and name in its text and in a history entry; notifications to and about them are
queued. Then it runs, as a user would::

    complaintkit --store URL person erase --phone "138 1234 5678" --reason … --dry-run
    complaintkit --store URL person erase --phone "138 1234 5678" --reason …

timing each, and searches the store for the phone (in three spellings), the e-mail and the
name: the TinyDB file and its outbox (``sqlite3 .dump``), a SQLite store's ``.dump``, a
PostgreSQL store's ``pg_dump``. Usage::

    python benchmarks/bench_erase.py tinydb:///tmp/cfpb.json sqlite:///tmp/cfpb.db \\
        postgresql://postgres@127.0.0.1:5432/cfpb
"""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import attrs

from complaintkit import Config, Event, Party, make_host
from complaintkit.outbox import OutboxMessage, outbox_of

PHONE = "13812345678"
SPELLINGS = (PHONE, "138 1234 5678", "138-1234-5678")
EMAIL = "qiao.wanshan@example.com"
NAME = "Qiao Wanshan"
COMPLAINTS = 50
CK = str(Path(sys.executable).with_name("complaintkit"))


def prepare(url: str) -> list[str]:
    """Make the customer in COMPLAINTS complaints spread over the store; queue messages."""
    host = make_host(Config(store=url), env={})
    with host.open_store(create=False) as store:
        total = store.count()
        step = max(total // COMPLAINTS, 1)
        chosen = [c for i, c in enumerate(store.find()) if i % step == 0][:COMPLAINTS]
        now = datetime.now(UTC)
        changed = []
        for n, c in enumerate(chosen):
            party = Party(name=NAME, phone="+86 138-1234-5678", email=EMAIL, customer_id="Q-77")
            extra = {}
            if n % 3 == 0:
                extra["text"] = f"{c.text}\nContact {NAME} on 138 1234 5678 or {EMAIL}."
                note = Event(now, "agent", "note", reason=f"called {NAME} back on {PHONE}")
                extra["history"] = (*c.history, note)
            changed.append(attrs.evolve(c, complainant=party, **extra))
        result = store.update_many(changed)
        assert not result.conflicts, result.conflicts
        outbox_of(store).enqueue(
            OutboxMessage(
                key=f"{c.reference}:received:ack:sms:{PHONE}",
                channel="sms",
                recipient=PHONE,
                body=f"Dear {NAME}, we received your complaint {c.reference}.",
                created_at=now,
                reference=c.reference,
            )
            for c in changed
        )
        return [c.reference for c in changed]


def dump(url: str) -> str:
    """The whole store as text: the JSON file and its outbox, or a SQL dump."""
    scheme, _, rest = url.partition("://")
    if scheme == "tinydb":
        path = Path(rest)
        outbox = path.with_name(path.stem + ".outbox.sqlite")
        with sqlite3.connect(outbox) as db:
            return path.read_text("utf-8") + "\n".join(db.iterdump())
    if scheme == "sqlite":
        with sqlite3.connect(rest) as db:
            return "\n".join(db.iterdump())
    done = subprocess.run(
        ["pg_dump", "--no-owner", url], capture_output=True, text=True, check=True
    )
    return done.stdout


def found(text: str) -> dict[str, int]:
    return {value: text.count(value) for value in (*SPELLINGS, EMAIL, NAME)}


def timed(*args: str) -> tuple[str, str]:
    """Wall-clock and CPU time of one command (the machine may be shared: CPU is the
    steadier figure), and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([CK, *args], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return f"{wall:.1f} s ({cpu:.1f} s CPU)", done.stdout


def main(urls: list[str]) -> None:
    for url in urls:
        references = prepare(url)
        before = found(dump(url))
        erase = ["--store", url, "--actor", "dpo", "person", "erase", "--phone", SPELLINGS[1]]
        dry_s, _ = timed(*erase, "--reason", "bench", "--dry-run")
        real_s, out = timed(*erase, "--reason", "bench")
        start = time.perf_counter()
        text = dump(url)
        dump_s = time.perf_counter() - start
        after = found(text)
        print(f"{url}: {len(references)} complaints of the customer")
        print(f"  before erasure, occurrences: {before}")
        print(f"  dry run {dry_s}; erase {real_s}; dump {dump_s:.1f} s")
        print("  " + out.strip().replace("\n", "\n  ")[:600])
        print(f"  after erasure, occurrences: {after}")
        assert not any(after.values()), after


if __name__ == "__main__":
    main(sys.argv[1:])
