"""The four built-in schemes' rules on ``labelled/rules_unseen_2.csv`` (issue 15 item 5).

The file was written and committed before the fourth round of rule changes, labelled by the
definitions of ``../shared/domain.md`` §1, and split by a fixed hash of each story's ``pair`` id
into a development half (looked at while the rules were improved) and a held-back half (scored
once, after the rules froze). Each English story has a Chinese counterpart with the same
``pair`` id, so a story and its translation always fall in the same half.

The floors are the figures measured then, less a small margin (about one complaint overall, two
per language), so a regression that loses a few of them fails here. Before → after on the
held-back half is in labelled/README.md.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from complaintkit.config import Config
from complaintkit.host import PluginHost, make_host
from complaintkit_schemes.evaluation import evaluate

FILE = Path(__file__).parent / "labelled" / "rules_unseen_2.csv"
SCHEMES = ("severity", "cause", "behaviour", "purpose")
LABELS = {
    "severity": {"general", "serious"},
    "cause": {"product_quality", "service_quality", "price", "integrity"},
    "behaviour": {"passive", "negative_publicity", "angry_venting", "extreme"},
    "purpose": {"suggestion", "criticism", "accusation"},
}
WEAK = {
    "severity": "serious",
    "cause": "integrity",
    "behaviour": "extreme",
    "purpose": "suggestion",
}

# (half, scheme, language or "all") -> accuracy floor. Measured on the held-back half, once:
# severity 0.81 (en 0.77, zh 0.86), cause 0.91 (en 0.89, zh 0.94), behaviour 0.97 (0.97, 0.97),
# purpose 0.96 (en 0.91, zh 1.00); the rules before scored 0.76, 0.60, 0.89 and 0.87 there.
ACCURACY: dict[tuple[str, str, str], float] = {
    ("dev", "behaviour", "all"): 0.97,
    ("dev", "behaviour", "en"): 0.93,
    ("dev", "behaviour", "zh"): 0.95,
    ("dev", "cause", "all"): 0.86,
    ("dev", "cause", "en"): 0.82,
    ("dev", "cause", "zh"): 0.84,
    ("dev", "purpose", "all"): 0.97,
    ("dev", "purpose", "en"): 0.93,
    ("dev", "purpose", "zh"): 0.95,
    ("dev", "severity", "all"): 0.94,
    ("dev", "severity", "en"): 0.91,
    ("dev", "severity", "zh"): 0.91,
    ("held", "behaviour", "all"): 0.95,
    ("held", "behaviour", "en"): 0.91,
    ("held", "behaviour", "zh"): 0.91,
    ("held", "cause", "all"): 0.9,
    ("held", "cause", "en"): 0.82,
    ("held", "cause", "zh"): 0.88,
    ("held", "purpose", "all"): 0.94,
    ("held", "purpose", "en"): 0.85,
    ("held", "purpose", "zh"): 0.94,
    ("held", "severity", "all"): 0.8,
    ("held", "severity", "en"): 0.71,
    ("held", "severity", "zh"): 0.8,
}
# (half, scheme) -> recall floor of the scheme's weak label (held-back, measured: serious 0.65,
# integrity 1.00, extreme 1.00, suggestion 1.00; before: 0.53, 0.44, 0.80, 0.88)
RECALL: dict[tuple[str, str], float] = {
    ("dev", "behaviour"): 0.9,
    ("dev", "cause"): 0.93,
    ("dev", "purpose"): 0.93,
    ("dev", "severity"): 0.88,
    ("held", "behaviour"): 0.9,
    ("held", "cause"): 0.93,
    ("held", "purpose"): 0.87,
    ("held", "severity"): 0.61,
}
# half -> coverage floor of cause, the one scheme that abstains (held-back: 0.70 -> 0.91)
CAUSE_COVERAGE: dict[str, float] = {"dev": 0.95, "held": 0.9}


def half_of(pair: str) -> str:
    """``dev`` or ``held``: the fixed split (first byte of sha256("rules_unseen_2:" + pair))."""
    digest = hashlib.sha256(f"rules_unseen_2:{pair}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "held"


def rows(half: str | None = None) -> list[dict[str, str]]:
    with FILE.open(encoding="utf-8", newline="") as handle:
        every = list(csv.DictReader(handle))
    return [r for r in every if half is None or half_of(r["pair"]) == half]


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return make_host(Config(), env={})


def test_the_set_is_paired_bilingual_and_labelled_on_every_scheme() -> None:
    every = rows()
    assert len(every) == 160
    by_pair: dict[str, set[str]] = {}
    for row in every:
        by_pair.setdefault(row["pair"], set()).add(row["lang"])
        for scheme in SCHEMES:
            assert row[scheme] in LABELS[scheme], row
    assert len(by_pair) == 80 and all(langs == {"zh", "en"} for langs in by_pair.values())


def test_the_split_is_fixed_and_both_halves_hold_every_label() -> None:
    assert (len(rows("dev")), len(rows("held"))) == (90, 70)
    for half in ("dev", "held"):
        part = rows(half)
        assert {r["lang"] for r in part} == {"zh", "en"}
        for scheme in SCHEMES:
            assert {r[scheme] for r in part} == LABELS[scheme], (half, scheme)


@pytest.mark.parametrize(("half", "scheme", "lang"), sorted(ACCURACY))
def test_accuracy_floor(host: PluginHost, half: str, scheme: str, lang: str) -> None:
    items = [(r["text"], r[scheme]) for r in rows(half) if lang in ("all", r["lang"])]
    result = evaluate(host.scheme(scheme), items)
    assert result.accuracy >= ACCURACY[(half, scheme, lang)], result.render()


@pytest.mark.parametrize(("half", "scheme"), sorted(RECALL))
def test_weak_label_recall_floor(host: PluginHost, half: str, scheme: str) -> None:
    result = evaluate(host.scheme(scheme), [(r["text"], r[scheme]) for r in rows(half)])
    weak = result.per_label[WEAK[scheme]]
    assert weak.recall >= RECALL[(half, scheme)], result.render()
    # The weak label is found without flooding: what the rules call it mostly is.
    assert weak.precision >= 0.8, result.render()


@pytest.mark.parametrize("half", sorted(CAUSE_COVERAGE))
def test_cause_coverage_floor(host: PluginHost, half: str) -> None:
    result = evaluate(host.scheme("cause"), [(r["text"], r["cause"]) for r in rows(half)])
    assert result.coverage >= CAUSE_COVERAGE[half], result.render()


# --- precision: the ordinary uses of the new phrases -------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "They keep calling me about a debt.",
        "I'm not leaving a tip next time.",
        "I'm going to the store tomorrow to return it.",
        "The phone won't stop ringing with spam.",
        "I use this app every single day and it keeps freezing.",
        "I waited on hold until someone finally picked up.",
        "I didn't know until you sent the bill.",
        "I had to file a police report for the stolen card.",
        "到目前为止还没有收到货。",
        "然后我就去了另一家店买。",
        "我们在拼多多拼了一单，结果发错货了。",
        "快递放在公司门口了，没人通知我。",
        "They pushed me toward a more expensive model.",
    ],
)
def test_stories_and_routine_phrases_are_not_extreme(host: PluginHost, text: str) -> None:
    result = host.scheme("behaviour").classify(text)
    assert result is not None and result.label != "extreme", result


@pytest.mark.parametrize(
    "text",
    [
        "I want to use the app but it crashes.",
        "I had to pay for the upgrade myself.",
        "The waiter forgot the drinks. Not what I expect from you.",
        "客服电话没完没了地打过来。",
    ],
)
def test_wishes_and_disappointment_are_not_accusations(host: PluginHost, text: str) -> None:
    result = host.scheme("purpose").classify(text)
    assert result is not None and result.label != "accusation", result


@pytest.mark.parametrize(
    "text", ["I rent a car from you every month.", "The rent for the storage unit went up."]
)
def test_rent_alone_is_not_serious(host: PluginHost, text: str) -> None:
    result = host.scheme("severity").classify(text)
    assert result is not None and result.label == "general", result


@pytest.mark.parametrize(
    ("scheme", "text", "label", "phrase"),
    [
        (
            "behaviour",
            "Third recall in a year!!! I am done with this brand.",
            "angry_venting",
            "!!!",
        ),
        (
            "behaviour",
            "你们不给我解决，我就每个小时打一次电话，一直打到解决为止。",
            "extreme",
            "为止",
        ),
        (
            "behaviour",
            "If this isn't fixed, you'll be hearing from my lawyer.",
            "extreme",
            "hearing from my lawyer",
        ),
        (
            "severity",
            "Someone used my card for $2,340 at a store I've never been to.",
            "serious",
            "used my card",
        ),
        (
            "cause",
            "You told me on the phone the cancellation was free.",
            "integrity",
            "You told me",
        ),
        ("cause", "卖家没经过我同意就给我换了别的型号。", "integrity", "没经过我同意"),
        (
            "purpose",
            "Great app, but an option to export to PDF would help.",
            "suggestion",
            "an option to",
        ),
    ],
)
def test_general_phrasings(
    host: PluginHost, scheme: str, text: str, label: str, phrase: str
) -> None:
    result = host.scheme(scheme).classify(text)
    assert result is not None and result.label == label, result
    assert any(phrase in e for e in result.evidence), result.evidence
