"""The sharpened rules (issue 15 item 5): serious severity, integrity, extreme and English
behaviour — measured on a hand-labelled bilingual set, and kept precise.

``labelled/sharper.csv`` was written before the rules were sharpened, ``sharper_holdout.csv``
after (see labelled/README.md); the floors are what the sharpened rules reach. The rules before
reached, on sharper.csv, severity 0.65 (serious recall 0.43), behaviour 0.83 (English 0.79,
extreme recall 0.60) and cause 0.60 (integrity recall 0.58); on sharper_holdout.csv severity
0.54, behaviour 0.71 and cause 0.42. The fourth round (see test_unseen_rules.py) raised cause to
0.81 on sharper.csv and 0.71 on sharper_holdout.csv, and severity there to 0.92.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from complaintkit.config import Config
from complaintkit.host import PluginHost, make_host
from complaintkit_schemes.evaluation import evaluate

LABELLED = Path(__file__).parent / "labelled"
FILES = ("sharper.csv", "sharper_holdout.csv")

# (file, scheme, language or "all") -> accuracy floor
ACCURACY = {
    ("sharper.csv", "severity", "all"): 0.89,
    ("sharper.csv", "severity", "zh"): 0.83,
    ("sharper.csv", "severity", "en"): 0.95,
    ("sharper.csv", "behaviour", "all"): 1.0,
    ("sharper.csv", "behaviour", "en"): 1.0,
    ("sharper.csv", "cause", "all"): 0.79,
    ("sharper_holdout.csv", "severity", "all"): 0.91,
    ("sharper_holdout.csv", "behaviour", "all"): 1.0,
    ("sharper_holdout.csv", "behaviour", "en"): 1.0,
    ("sharper_holdout.csv", "cause", "all"): 0.7,
}
# (file, scheme, label) -> recall floor
RECALL = {
    ("sharper.csv", "severity", "serious"): 0.83,
    ("sharper.csv", "behaviour", "extreme"): 1.0,
    ("sharper.csv", "cause", "integrity"): 0.91,
    ("sharper_holdout.csv", "severity", "serious"): 0.78,
    ("sharper_holdout.csv", "behaviour", "extreme"): 1.0,
    ("sharper_holdout.csv", "cause", "integrity"): 0.83,
}


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return make_host(Config(), env={})


def _rows(file: str) -> list[dict[str, str]]:
    with (LABELLED / file).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("file", FILES)
def test_the_set_is_bilingual_and_covers_every_label(file: str) -> None:
    rows = _rows(file)
    assert {r["lang"] for r in rows} == {"zh", "en"}
    assert {r["severity"] for r in rows} == {"general", "serious"}
    assert {r["behaviour"] for r in rows} == {
        "passive",
        "negative_publicity",
        "angry_venting",
        "extreme",
    }
    assert {r["cause"] for r in rows} == {
        "product_quality",
        "service_quality",
        "price",
        "integrity",
    }


@pytest.mark.parametrize(("file", "scheme", "lang"), sorted(ACCURACY))
def test_accuracy_floor(host: PluginHost, file: str, scheme: str, lang: str) -> None:
    items = [(r["text"], r[scheme]) for r in _rows(file) if lang in ("all", r["lang"])]
    result = evaluate(host.scheme(scheme), items)
    assert result.accuracy >= ACCURACY[(file, scheme, lang)], result.render()


@pytest.mark.parametrize(("file", "scheme", "label"), sorted(RECALL))
def test_recall_floor(host: PluginHost, file: str, scheme: str, label: str) -> None:
    result = evaluate(host.scheme(scheme), [(r["text"], r[scheme]) for r in _rows(file)])
    assert result.per_label[label].recall >= RECALL[(file, scheme, label)], result.render()
    # Precision is kept too: what the rules call this label mostly is.
    assert result.per_label[label].precision >= 0.9, result.render()


# --- precision: a mention is not a grave complaint ---------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The delivery fee went up by $2, a bit annoying.",
        "I was charged $5 more than the menu price.",
        "这家店的奶茶涨价了三块钱，有点贵",
        "I recall the old app was easier to use.",
        "快递放在门口了，没有打电话通知我",
        "发票金额和订单对不上，麻烦核对一下",
    ],
)
def test_money_and_everyday_words_alone_are_not_serious(host: PluginHost, text: str) -> None:
    result = host.scheme("severity").classify(text)
    assert result is not None and result.label == "general", result


@pytest.mark.parametrize(
    "text",
    [
        "The collector threatened legal action if I did not pay by Friday.",
        "I filed a police report for the stolen card, as the bank asked.",
        "客服电话没完没了地打过来推销",
        "My package didn't show up at the store.",
        "我和朋友一起去吃饭，菜上得很慢",
        "I went to your office to pay the bill and had to wait until someone came back.",
        "The security guard at the entrance was unfriendly.",
    ],
)
def test_the_company_s_threats_and_routine_words_are_not_extreme(
    host: PluginHost, text: str
) -> None:
    result = host.scheme("behaviour").classify(text)
    assert result is not None and result.label != "extreme", result


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("If this is not fixed I will be at your office every day until it is fixed.", "until"),
        ("我已经委托律师了，法庭上见", "委托律师"),
        ("We are not leaving until we get a refund. This is a sit-in.", "not leaving until"),
        ("我们明天就去你们公司门口拉横幅，这事没完", "这事没完"),
    ],
)
def test_extreme_behaviour(host: PluginHost, text: str, phrase: str) -> None:
    result = host.scheme("behaviour").classify(text)
    assert result is not None and result.label == "extreme", result
    assert any(phrase in e for e in result.evidence), result.evidence


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("The ad said unlimited data, but they throttle me after 10GB.", "ad said"),
        ("宣传说是纯棉，实际是化纤，商家还不认账", "宣传说"),
        ("The fee was buried in the terms and conditions; nobody told me.", "buried in"),
        ("4S店出售有维修痕迹的车却不告知", "维修痕迹"),
    ],
)
def test_integrity_cause(host: PluginHost, text: str, phrase: str) -> None:
    result = host.scheme("cause").classify(text)
    assert result is not None and result.label == "integrity", result
    assert phrase in result.evidence, result.evidence
