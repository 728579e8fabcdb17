"""Early warning on real complaints: a spike injected into the CFPB data is flagged by both the
EWMA and the CUSUM chart, the data as published has no warning for that series, the limits agree
with an independent computation (pandas), the ``spike_detected`` hook fires once per warning
however often the sweep runs, and a notification rule queues one message per warning in the
SQLite outbox, in English and in Chinese."""

from __future__ import annotations

import math
import shutil
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from complaintkit import Complaint, Config, ConfigError, Desk, hookimpl, make_host
from complaintkit.outbox import outbox_of
from complaintkit.reporting import ReportContext
from complaintkit.spikes import SpikeWarning
from complaintkit.storage import ComplaintFilter
from complaintkit_cli.main import cli
from complaintkit_importing import read_complaints
from complaintkit_reports.spike_detection import (
    EarlyWarningSettings,
    announce_spikes,
    baseline_stats,
    check,
    cusum_chart,
    ewma_chart,
    load_settings,
    settings_of,
)
from conftest import require_dataset

#: The window checked: 28 days of CFPB complaints ending on Saturday 2015-02-14.
NOW = datetime(2015, 2, 14, 23, 0, tzinfo=UTC)
SPIKE_DAY = date(2015, 2, 14)
FIRST = datetime(2015, 1, 18, tzinfo=UTC)
#: How many extra price complaints the spike adds on SPIKE_DAY.
INJECTED = 60
DIMENSIONS = ["label:cause", "product", "channel"]


def _config(store: str, extra: str = "", method: str = "ewma") -> Config:
    text = f"""
[early_warning]
dimensions = {DIMENSIONS!r}
method = "{method}"
{extra}
"""
    return Config(store=store, data=tomllib.loads(text), timezone="UTC")


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CFPB complaints of the window (about 10k), imported and classified once."""
    path = require_dataset("cfpb_complaints/cfpb_complaints.csv")
    folder = tmp_path_factory.mktemp("cfpb")
    target = folder / "cfpb.json"
    with read_complaints(path, tz=UTC, on_reject=lambda row: None) as reader:
        found = [c for c in reader if FIRST <= c.received_at <= NOW]
    host = make_host(_config(f"tinydb://{target}"), env={})
    store = host.open_store()
    Desk(host, store).intake_many(found)
    store.close()
    return target


def _copy(base: Path, tmp_path: Path) -> str:
    target = tmp_path / "complaints.json"
    shutil.copy(base, target)
    return f"tinydb://{target}"


class Spy:
    """A plugin that records every ``spike_detected`` call."""

    def __init__(self) -> None:
        self.calls: list[tuple[SpikeWarning, Complaint]] = []

    @hookimpl
    def spike_detected(self, warning: SpikeWarning, complaint: Complaint, desk: Desk) -> None:
        self.calls.append((warning, complaint))


def _desk(
    url: str, *, extra: str = "", method: str = "ewma", plugins: tuple[object, ...] = ()
) -> Desk:
    host = make_host(_config(url, extra, method), env={}, plugins=plugins)
    return Desk(host, host.open_store(), actor="tester", clock=lambda: NOW)


def _inject(desk: Desk, n: int = INJECTED) -> list[str]:
    """Copies of real price complaints from earlier days, received on SPIKE_DAY."""
    earlier = desk.store.find(
        ComplaintFilter(labels=(("cause", "price"),), received_until=FIRST + timedelta(days=20))
    )
    copies = []
    for i, c in enumerate(earlier):
        if len(copies) == n:
            break
        copies.append(
            Complaint(
                reference=f"SPIKE-{i:03d}",
                received_at=datetime(2015, 2, 14, 9, 0, tzinfo=UTC) + timedelta(minutes=i),
                text=c.text,
                title=c.title,
                channel=c.channel,
                product=c.product,
            )
        )
    assert len(copies) == n
    desk.intake_many(copies)
    return [c.reference for c in copies]


def _price_counts(desk: Desk) -> list[int]:
    """Complaints labelled price per day of the window, counted independently with pandas."""
    rows = [
        {"day": c.received_at.astimezone(UTC).date(), "cause": c.label("cause")}
        for c in desk.store.find(ComplaintFilter(received_from=FIRST, received_until=NOW))
    ]
    frame = pd.DataFrame(rows)
    days = pd.date_range(FIRST.date(), SPIKE_DAY, freq="D").date
    counts = frame[frame.cause == "price"].groupby("day").size().reindex(days, fill_value=0)
    return [int(n) for n in counts]


# --- on the data as published --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ewma", "cusum"])
def test_real_data_has_no_price_warning_and_an_injected_spike_is_flagged(
    base_store: Path, tmp_path: Path, method: str
) -> None:
    desk = _desk(_copy(base_store, tmp_path), method=method)
    before = check(desk, now=NOW)
    assert len(before.periods) == 28 and before.periods[0] == FIRST.date()
    assert not [w for w in before.warnings if w.dimension == "label:cause" and w.value == "price"]
    price = next(s for s in before.series if s.dimension == "label:cause" and s.value == "price")
    assert [p.count for p in price.points] == _price_counts(desk)

    _inject(desk)
    after = check(desk, now=NOW)
    flagged = [w for w in after.warnings if w.dimension == "label:cause" and w.value == "price"]
    assert [(w.period_start, w.method) for w in flagged] == [(SPIKE_DAY, method)]
    (warning,) = flagged
    assert warning.observed == _price_counts(desk)[-1] == price.points[-1].count + INJECTED
    assert warning.observed > warning.upper > warning.expected
    assert warning.value_names.zh == "价格" and warning.dimension_names.zh == "投诉原因"
    assert warning.id == f"{method}:day:2015-02-14:label:cause=price"


@pytest.mark.slow
def test_ewma_limits_agree_with_pandas(base_store: Path, tmp_path: Path) -> None:
    desk = _desk(_copy(base_store, tmp_path))
    _inject(desk)
    counts = _price_counts(desk)
    settings = load_settings({"lambda": 0.3, "L": 3})
    points = ewma_chart(counts, settings.baseline, lam=0.3, L=3.0, min_count=5)
    head = pd.Series(counts[: settings.baseline], dtype=float)
    mu = head.mean()
    sigma = max(head.std(ddof=1), math.sqrt(mu), 1.0)
    assert baseline_stats(counts, settings.baseline) == pytest.approx((mu, sigma))
    # z_t from pandas: an exponentially weighted mean started at mu (no earlier alarm resets it).
    z = pd.Series([mu, *counts[settings.baseline :]], dtype=float).ewm(alpha=0.3, adjust=False)
    z_values = z.mean().tolist()[1:]
    monitored = points[settings.baseline :]
    assert [p.flagged for p in monitored] == [False] * 6 + [True]
    assert [p.statistic for p in monitored] == pytest.approx(z_values)
    for t, p in enumerate(monitored, start=1):
        ucl = mu + 3 * sigma * math.sqrt(0.3 / 1.7 * (1 - 0.7 ** (2 * t)))
        previous = z_values[t - 2] if t > 1 else mu
        assert p.upper == pytest.approx((ucl - 0.7 * previous) / 0.3)
        assert p.flagged == (z_values[t - 1] > ucl)


@pytest.mark.slow
def test_cusum_agrees_with_a_hand_computation(base_store: Path, tmp_path: Path) -> None:
    desk = _desk(_copy(base_store, tmp_path))
    _inject(desk)
    counts = _price_counts(desk)
    head = pd.Series(counts[:21], dtype=float)
    mu, sigma = head.mean(), max(head.std(ddof=1), math.sqrt(head.mean()), 1.0)
    points = cusum_chart(counts, 21, k=0.5, h=4.0, min_count=5)
    s = 0.0
    for x, p in zip(counts[21:], points[21:], strict=True):
        assert p.upper == pytest.approx(mu + sigma * (4.5 - s))
        s = max(0.0, s + (x - mu) / sigma - 0.5)
        assert p.statistic == pytest.approx(s)
        assert p.flagged == (s > 4.0)
        if p.flagged:
            s = 0.0
    assert points[-1].flagged and not any(p.flagged for p in points[:-1])


def test_min_count_keeps_tiny_series_quiet() -> None:
    tiny = [0] * 21 + [0, 0, 0, 0, 0, 0, 5]
    assert not any(p.flagged for p in ewma_chart(tiny, 21, lam=0.3, L=3, min_count=6))
    assert not any(p.flagged for p in cusum_chart(tiny, 21, k=0.5, h=4, min_count=6))
    assert ewma_chart(tiny, 21, lam=0.3, L=3, min_count=5)[-1].flagged
    assert cusum_chart(tiny, 21, k=0.5, h=4, min_count=5)[-1].flagged
    # After an alarm the chart restarts: one spike, one warning.
    steady = [10, 12, 9, 11, 10, 8, 12, 11, 10, 9] + [60, 11, 10]
    assert [p.flagged for p in ewma_chart(steady, 10, lam=0.3, L=3, min_count=5)[10:]] == [
        True,
        False,
        False,
    ]


# --- the hook and the sweep --------------------------------------------------------------------


@pytest.mark.slow
def test_spike_detected_once_per_warning_on_real_data(base_store: Path, tmp_path: Path) -> None:
    url = _copy(base_store, tmp_path)
    spy = Spy()
    desk = _desk(url, plugins=(spy,))
    injected = _inject(desk)
    found = check(desk, now=NOW).warnings
    assert found
    announced = announce_spikes(desk, now=NOW)
    assert announced == list(found)
    assert [w for w, _ in spy.calls] == list(found)
    assert len({w.id for w, _ in spy.calls}) == len(spy.calls)
    price = next(c for w, c in spy.calls if w.value == "price")
    # Recorded in the oldest complaint of the flagged day and series.
    assert price.received_at.date() == SPIKE_DAY and price.label("cause") == "price"
    assert price.history[-1].action == "spike_detected"
    assert price.history[-1].data["id"] == "ewma:day:2015-02-14:label:cause=price"
    assert price.reference not in injected or price.received_at.hour >= 9

    # A second sweep, by another desk on the same store, announces nothing.
    again = Spy()
    second = _desk(url, plugins=(again,))
    assert announce_spikes(second, now=NOW) == [] and again.calls == []
    assert len(spy.calls) == len(found)


@pytest.mark.slow
def test_sweep_command_announces_new_spikes_once(base_store: Path, tmp_path: Path) -> None:
    url = _copy(base_store, tmp_path)
    _inject(_desk(url))
    config = tmp_path / "complaintkit.toml"
    config.write_text(
        f'store = "{url}"\ntimezone = "UTC"\n[early_warning]\ndimensions = ["label:cause"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    args = ["--config", str(config), "sweep", "--now", "2015-02-14 23:00"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "early warning: 1 new spike warnings" in first.output
    assert "2015-02-14 Cause=Price: 69" in first.output
    second = runner.invoke(cli, ["--lang", "zh", *args])
    assert second.exit_code == 0, second.output
    assert "突增预警：新发现 0 个投诉突增" in second.output


# --- notifications -------------------------------------------------------------------------------


NOTIFY = """
[notifications]
lang = "en"

[notifications.channels.mail]
type = "email"
host = "127.0.0.1"
from = "complaints@example.cn"

[notifications.recipients.departments.quality]
name = "Quality"
email = "quality@example.cn"

[notifications.recipients.people."wang.qiang"]
email = "wangq@example.cn"

[[notifications.rules]]
name = "spike-en"
event = "spike"
channel = "mail"
recipients = ["department:quality"]

[[notifications.rules]]
name = "spike-zh"
event = "spike"
channel = "mail"
recipients = ["person:wang.qiang"]
lang = "zh"
"""


@pytest.mark.slow
def test_a_spike_rule_queues_one_message_per_warning_in_en_and_zh(
    base_store: Path, tmp_path: Path
) -> None:
    url = _copy(base_store, tmp_path)
    desk = _desk(url, extra=NOTIFY)
    _inject(desk)
    announced = announce_spikes(desk, now=NOW)
    assert announced
    outbox = outbox_of(desk.store)
    messages = [m for m in outbox.messages() if m.event == "spike"]
    assert len(messages) == 2 * len(announced)
    by_rule: dict[str, list[Any]] = {}
    for m in messages:
        by_rule.setdefault(m.key.split(":")[-3], []).append(m)
    assert sorted(by_rule) == ["spike-en", "spike-zh"]
    price = next(w for w in announced if w.value == "price")
    (en,) = [m for m in by_rule["spike-en"] if price.id in m.key]
    (zh,) = [m for m in by_rule["spike-zh"] if price.id in m.key]
    assert en.recipient == "quality@example.cn" and en.lang == "en"
    assert en.subject == "Complaint spike: Cause Price (2015-02-14)"
    assert f"{price.observed} complaints with Cause" in en.body
    assert zh.recipient == "wangq@example.cn" and zh.lang == "zh"
    assert zh.subject == "投诉突增预警：投诉原因“价格”（2015-02-14）"
    assert f"共 {price.observed} 件" in zh.body

    # Sweeping again queues nothing more, also when the record in the history is ignored:
    # the outbox key is the warning's id.
    again = _desk(url, extra=NOTIFY)
    assert announce_spikes(again, now=NOW) == []
    from complaintkit_notify.plugin import notifier

    found = notifier(again.host)
    assert found is not None
    assert outbox_of(again.store).enqueue(found.spike_messages(price, NOW)) == 0
    assert len([m for m in outbox_of(again.store).messages() if m.event == "spike"]) == len(
        messages
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('recipients = ["assignee"]', "means nobody; name them"),
        ('recipients = ["department:quality"]\nmin_level = "department"', "no complaint to filter"),
    ],
)
def test_spike_rules_must_name_their_recipients(tmp_path: Path, rule: str, message: str) -> None:
    text = NOTIFY.split("[[notifications.rules]]")[0] + (
        f'[[notifications.rules]]\nevent = "spike"\nchannel = "mail"\n{rule}\n'
    )
    with pytest.raises(ConfigError, match=message):
        _desk(f"tinydb://{tmp_path / 'c.json'}", extra=text)


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"windw": 28},
            "ck.toml: early_warning: unknown setting\\(s\\) windw \\(did you mean window",
        ),
        ({"period": "month"}, "early_warning.period: expected one of day, week, got 'month'"),
        ({"method": "shewhart"}, "early_warning.method: expected one of ewma, cusum"),
        (
            {"window": 10, "baseline": 10},
            "early_warning.baseline: must be smaller than window \\(10\\)",
        ),
        ({"lambda": 1.5}, "early_warning.lambda: must be between 0.01 and 1, got 1.5"),
        ({"lam": 0.5}, "early_warning: unknown setting\\(s\\) lam \\(did you mean lambda\\?\\)"),
        ({"dimensions": ["colour"]}, "early_warning.dimensions: 'colour' is not a dimension"),
        ({"dimensions": []}, "early_warning.dimensions: must be a non-empty list"),
        ({"min_count": 0}, "early_warning.min_count: must be at least 1"),
        ({"h": "high"}, "early_warning.h: expected a number, got 'high'"),
        ({"k": float("nan")}, "early_warning.k: must be between 0 and 5, got nan"),
    ],
)
def test_settings_are_checked(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(table, "ck.toml")


def test_the_lambda_key_is_read_into_lam() -> None:
    assert load_settings({"lambda": 0.5, "window": 10}).lam == 0.5


def test_settings_defaults_and_strings_from_the_command_line() -> None:
    assert load_settings({}) == EarlyWarningSettings()
    weekly = load_settings({"period": "week", "window": "16", "L": "2.5"})
    assert (weekly.window, weekly.baseline, weekly.L) == (16, 13, 2.5)


def test_unknown_scheme_is_named(tmp_path: Path) -> None:
    desk = _desk(f"tinydb://{tmp_path / 'c.json'}", extra="")
    host = make_host(
        Config(
            store=f"tinydb://{tmp_path / 'c.json'}",
            data={"early_warning": {"dimensions": ["label:colour"]}},
        ),
        env={},
    )
    with pytest.raises(ConfigError, match="no classification scheme 'colour'"):
        check(Desk(host, desk.store), now=NOW)


# --- the report ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_early_warning_report(base_store: Path, tmp_path: Path, lang: str) -> None:
    desk = _desk(_copy(base_store, tmp_path))
    _inject(desk)
    reporter = desk.host.reporter("early-warning")
    context = ReportContext(desk.host.schemes(), lang, NOW, desk.host.config, {"method": "cusum"})
    report = reporter.run(desk.store, ComplaintFilter(), context)
    assert report.parameters["method"] == "cusum"
    warnings = report.table("warnings").as_dicts()
    price = [w for w in warnings if w["value"] == ("Price" if lang == "en" else "价格")]
    assert len(price) == 1 and price[0]["period"] == "2015-02-14"
    assert price[0]["count"] == _price_counts(desk)[-1]
    series = report.table("series:label:cause=price")
    assert series.chart is not None and series.chart.kind == "control"
    assert series.chart.flag == "flagged"
    assert series.values("count") == _price_counts(desk)
    assert series.values("flagged") == [False] * 27 + [True]
    assert report.figure("warnings") == len(warnings)
    overview = report.table("series").as_dicts()
    assert sum(
        r["total"] for r in overview if r["dimension"] == ("channel" if lang == "en" else "渠道")
    ) == desk.store.count(ComplaintFilter(received_from=FIRST, received_until=NOW))


def test_the_example_configuration_loads(tmp_path: Path) -> None:
    from complaintkit import load_config

    example = Path(__file__).parents[3] / "examples" / "early-warning.toml"
    config = load_config(example, store=f"tinydb://{tmp_path / 'c.json'}")
    host = make_host(config, env={})
    desk = Desk(host, host.open_store())  # checks [notifications], spike rule included
    settings = settings_of(desk)
    assert settings.dimensions == ("label:cause", "product", "channel")
    assert (settings.window, settings.baseline, settings.method) == (28, 21, "ewma")
    context = ReportContext(host.schemes(), "zh", NOW, host.config)
    report = host.reporter("early-warning").run(desk.store, ComplaintFilter(), context)
    assert report.parameters["method"] == "cusum" and report.notes[0] == "没有发现突增。"
