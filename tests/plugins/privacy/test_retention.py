"""``complaintkit retention apply``: complaints finished longer ago than
``[privacy.retention] anonymise_closed_after`` are anonymised, once, on TinyDB, SQLite and
PostgreSQL; open ones and recent ones are left alone, and reports do not change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from privacy_stores import Clock, store_url

from complaintkit import ERASED, Config, Desk, Party, make_host
from complaintkit.outbox import OutboxMessage, outbox_of
from complaintkit.testing import make_complaint
from complaintkit_cli.main import cli
from complaintkit_privacy.retention import Period, apply_retention, finished_at, parse_period

__all__ = ["store_url"]  # the fixture, one test per backend

T0 = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
THREE_YEARS = Period(3, "years", "3y")


@pytest.fixture
def desk(store_url: str) -> Iterator[Desk]:
    config = Config(store=store_url, data={"privacy": {"fields": {"address": "address"}}})
    host = make_host(config, env={})
    store = host.open_store()
    yield Desk(host, store, actor="retention", clock=Clock(T0))
    store.close()


def seed(desk: Desk) -> None:
    """OLD closed in January 2023, OLD-W withdrawn then, RECENT closed in 2024, OPEN never
    finished (received in 2023)."""
    for ref, name in (("OLD", "张三"), ("OLD-W", "Li Si"), ("RECENT", "王五"), ("OPEN", "赵六")):
        desk.intake(
            make_complaint(
                ref,
                received_at=T0 - timedelta(days=1),
                text=f"{name}: call me on 13812345678, my ID 11010519491231002X, "
                "card 6222 0212 3456 7890 128",
                complainant=Party(name=name, phone="13812345678", email=f"{ref}@example.com"),
                custom={"address": "朝阳区建国路88号"},
            )
        )
    for ref in ("OLD", "RECENT"):
        if ref == "RECENT":
            assert isinstance(desk.clock, Clock)
            desk.clock.now = datetime(2024, 5, 1, tzinfo=UTC)
        for action in ("acknowledge", "assess", "investigate"):
            desk.transition(ref, action)
        desk.transition(ref, "propose", solution="refund, told 张三 on 13812345678")
        for action in ("accept", "implement", "resolve"):
            desk.transition(ref, action)
        desk.transition(ref, "close", satisfaction=5)
    assert isinstance(desk.clock, Clock)
    desk.clock.now = T0
    desk.transition("OLD-W", "withdraw", reason="Li Si withdrew by phone")
    outbox_of(desk.store).enqueue(
        [
            OutboxMessage(
                key="OLD:closed:email:OLD@example.com",
                channel="email",
                recipient="OLD@example.com",
                body="张三您好, 13812345678",
                created_at=T0,
                reference="OLD",
            )
        ]
    )


def reports(desk: Desk) -> dict[str, Any]:
    return {
        name: (report.figures, report.tables, report.sections)
        for name in ("summary", "sla", "kpis")
        for report in [desk.report(name, now=NOW)]
    }


def test_retention_anonymises_finished_complaints_once(desk: Desk) -> None:
    seed(desk)
    before = reports(desk)
    dry = apply_retention(desk, THREE_YEARS, now=NOW, dry_run=True)
    assert (dry.due, dry.changed, dry.notifications) == (2, ("OLD", "OLD-W"), 1)
    assert desk.get("OLD").complainant.name == "张三"  # the dry run changed nothing
    done = apply_retention(desk, THREE_YEARS, now=NOW, dry_run=False)
    assert (done.due, done.changed, done.notifications) == (2, ("OLD", "OLD-W"), 1)
    old = desk.get("OLD")
    assert old.complainant == Party(name=ERASED)
    assert old.custom == {"address": ERASED}
    assert old.text == (
        f"{ERASED}: call me on {ERASED}, my ID 110***********002X, card **** **** **** ***0 128"
    )
    assert old.solution == f"refund, told {ERASED} on {ERASED}"
    assert old.history[-1].action == "personal_data_erased"
    assert old.history[-1].data["scope"] == "retention"
    assert old.status.value == "closed" and old.satisfaction == 5
    withdrawn = desk.get("OLD-W")
    assert withdrawn.history[-2].reason == f"{ERASED} withdrew by phone"
    assert desk.get("RECENT").complainant.name == "王五"
    assert desk.get("OPEN").complainant.phone == "13812345678"
    (message,) = outbox_of(desk.store).messages()
    assert (message.recipient, message.body) == (ERASED, f"{ERASED}您好, {ERASED}")
    assert reports(desk) == before
    again = apply_retention(desk, THREE_YEARS, now=NOW, dry_run=False)
    assert (again.due, again.changed, again.notifications) == (2, (), 0)


def test_finished_at_is_when_the_complaint_got_to_its_status(desk: Desk) -> None:
    seed(desk)
    old = desk.get("OLD")
    assert finished_at(old) == old.history[-1].at
    assert finished_at(desk.get("OPEN")) is None


@pytest.mark.parametrize(
    ("written", "cutoff"),
    [
        ("3y", datetime(2023, 6, 1, tzinfo=UTC)),
        ("3年", datetime(2023, 6, 1, tzinfo=UTC)),
        ("18 months", datetime(2024, 12, 1, tzinfo=UTC)),
        ("90d", datetime(2026, 3, 3, tzinfo=UTC)),
        ("2 weeks", datetime(2026, 5, 18, tzinfo=UTC)),
    ],
)
def test_periods(written: str, cutoff: datetime) -> None:
    period = parse_period(written)
    assert period is not None and period.before(NOW) == cutoff


def test_a_month_back_from_the_end_of_march_is_the_end_of_february() -> None:
    assert Period(1, "months", "1mo").before(datetime(2026, 3, 31, tzinfo=UTC)) == datetime(
        2026, 2, 28, tzinfo=UTC
    )


# --- the command ------------------------------------------------------------------------------


def test_the_command_on_a_cron_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("COMPLAINTKIT_STORE", "COMPLAINTKIT_LANG", "COMPLAINTKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def ck(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--store", "tinydb://s.json", *args])
        assert result.exit_code == code, result.output
        return result.output

    ck("init")
    ref = ck("add", "--text", "call 13812345678", "--phone", "13812345678", "--format", "json")
    reference = __import__("json").loads(ref)["reference"]
    ck("transition", reference, "withdraw", "--reason", "no longer needed")
    assert "no retention policy" in ck("retention", "apply", code=2)
    toml = tmp_path / "complaintkit.toml"
    toml.write_text('[privacy.retention]\nanonymise_closed_after = "3 parsecs"\n', "utf-8")
    assert "privacy.retention.anonymise_closed_after: expected a period" in ck(
        "retention", "apply", code=2
    )
    toml.write_text('[privacy.retention]\nanonymise_closed_afte = "3y"\n', "utf-8")
    assert "did you mean anonymise_closed_after?" in ck("retention", "apply", code=2)
    toml.write_text('[privacy.retention]\nanonymise_closed_after = "30d"\n', "utf-8")
    assert "0 were anonymised" in ck("retention", "apply")
    later = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    dry = ck("retention", "apply", "--dry-run", "--now", later)
    assert "1 would be anonymised" in dry and "dry run: nothing was changed" in dry
    assert "13812345678" in (tmp_path / "s.json").read_text("utf-8")
    assert "1 were anonymised" in ck("retention", "apply", "--now", later)
    assert "13812345678" not in (tmp_path / "s.json").read_text("utf-8")
    again = ck("retention", "apply", "--now", later)
    assert "0 were anonymised, 1 had nothing left to anonymise" in again
    assert "needs a time zone" in ck("retention", "apply", "--now", "2030-01-01", code=2)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachments_of_finished_complaints_expire_by_when_they_were_attached(desk: Desk) -> None:
    seed(desk)
    assert isinstance(desk.clock, Clock)
    desk.clock.now = datetime(2023, 3, 1, tzinfo=UTC)
    for ref in ("OLD", "RECENT", "OPEN"):
        desk.attach(ref, "receipt.png", PNG)
    desk.clock.now = datetime(2026, 1, 1, tzinfo=UTC)
    desk.attach("OLD", "later.png", PNG)  # attached five months before NOW: kept
    one_year = Period(1, "years", "1y")
    from complaintkit_privacy.retention import apply_attachment_retention

    dry = apply_attachment_retention(desk, one_year, now=NOW, dry_run=True)
    assert dry.cutoff == datetime(2025, 6, 1, tzinfo=UTC)
    # RECENT was closed in 2024 and its file attached in 2023; OPEN is still being handled
    assert dry.deleted == (("OLD", "receipt.png"), ("RECENT", "receipt.png"))
    assert dry.complaints == 2
    assert [a.name for a in desk.attachments("OLD")] == ["receipt.png", "later.png"]

    done = apply_attachment_retention(desk, one_year, now=NOW, dry_run=False)
    assert done.deleted == dry.deleted
    assert [a.name for a in desk.attachments("OLD")] == ["later.png"]
    assert desk.attachments("RECENT") == []
    assert [a.name for a in desk.attachments("OPEN")] == ["receipt.png"]
    last = desk.get("RECENT").history[-1]
    assert (last.action, last.reason) == ("detach", "retention: attached more than 1y ago")
    assert last.data["name"] == "receipt.png"
    again = apply_attachment_retention(desk, one_year, now=NOW, dry_run=False)
    assert again.deleted == ()


def test_the_command_applies_both_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "complaintkit.toml").write_text(
        '[privacy.retention]\ndelete_attachments_after = "1y"\n', encoding="utf-8"
    )
    (tmp_path / "a.png").write_bytes(PNG)

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--store", "tinydb://s.json", *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("add", "--text", "broken on arrival", "--reference", "F-1")
    run("attach", "F-1", "a.png")
    run("transition", "F-1", "reject", "--reason", "not ours")
    later = "2030-01-01T00:00:00+00:00"
    out = run("retention", "apply", "--dry-run", "--now", later)
    assert "1 attachment(s) of 1 finished complaint(s)" in out and "would be deleted" in out
    assert "dry run: nothing was changed" in out
    out = run("retention", "apply", "--now", later)
    assert "1 attachment(s) of 1 finished complaint(s)" in out and "were deleted" in out
    assert "0 attachment(s)" in run("retention", "apply", "--now", later)
    assert "detach" in run("show", "F-1")
