"""The four built-in schemes on complaints nobody tuned them on, in English and Chinese.

Every example here was written by hand for these tests (none comes from a data set): a label is
expected only where a complaint-handling person would give it without hesitation.
"""

from __future__ import annotations

import pytest

from complaintkit.classification import Classification, ClassificationScheme
from complaintkit.config import Config
from complaintkit.host import PluginHost, make_host
from complaintkit_schemes.plugin import BUILTIN_SCHEMES, builtin_rule_set

SCHEME_LABELS = {
    "severity": ["general", "serious"],
    "cause": ["product_quality", "service_quality", "price", "integrity"],
    "behaviour": ["passive", "negative_publicity", "angry_venting", "extreme"],
    "purpose": ["suggestion", "criticism", "accusation"],
}
DEFAULTS = {"severity": "general", "cause": None, "behaviour": "passive", "purpose": "criticism"}

# (scheme, text, expected label, a phrase the evidence must contain)
EXAMPLES: list[tuple[str, str, str, str]] = [
    # cause — product quality
    ("cause", "手机用了三天就黑屏", "product_quality", "黑屏"),
    ("cause", "新买的冰箱不制冷，而且噪音很大", "product_quality", "不制冷"),
    ("cause", "洗衣机第一次用就漏水，做工粗糙", "product_quality", "漏水"),
    (
        "cause",
        "The laptop stopped working after a week and now it won't turn on",
        "product_quality",
        "stopped working",
    ),
    (
        "cause",
        "The chicken in my delivery was undercooked and the rice was stale",
        "product_quality",
        "undercooked",
    ),
    (
        "cause",
        "Since the last update the CRM app keeps crashing and we lost data",
        "product_quality",
        "crashing",
    ),
    # cause — service quality
    ("cause", "The waiter was rude and ignored us", "service_quality", "rude"),
    ("cause", "客服态度恶劣，打了五次电话都没人接", "service_quality", "态度恶劣"),
    ("cause", "快递三天了还没送到，骑手也联系不上", "service_quality", "联系不上"),
    (
        "cause",
        "I was on hold for two hours and then the agent hung up on me",
        "service_quality",
        "hung up",
    ),
    ("cause", "售后一直推诿，踢皮球，没人管", "service_quality", "踢皮球"),
    # cause — price
    ("cause", "这个套餐太贵了，还乱收费", "price", "乱收费"),
    (
        "cause",
        "They overcharged me and the monthly fee is far too expensive",
        "price",
        "overcharged",
    ),
    ("cause", "刚买完就降价了，要求退差价", "price", "差价"),
    ("cause", "Hidden fees everywhere, the room was way overpriced", "price", "overpriced"),
    # cause — integrity
    ("cause", "说好的赠品没有给，虚假宣传", "integrity", "虚假宣传"),
    (
        "cause",
        "The product was not as advertised and the seller lied about the warranty",
        "integrity",
        "not as advertised",
    ),
    ("cause", "买到的是翻新机，跟商家承诺的全新完全不符", "integrity", "翻新机"),
    (
        "cause",
        "It was a bait and switch: the deal they promised never existed",
        "integrity",
        "bait and switch",
    ),
    # severity
    ("severity", "再不解决我就去法院起诉你们", "serious", "起诉"),
    ("severity", "吃了你们的外卖后食物中毒，在医院住了两天", "serious", "食物中毒"),
    ("severity", "The heater caught fire and my son was injured", "serious", "injured"),
    ("severity", "I have contacted my lawyer and will file a lawsuit", "serious", "lawsuit"),
    ("severity", "上菜有点慢，小问题", "general", "小问题"),
    ("severity", "The coffee was a bit cold, just a minor thing", "general", "minor"),
    # behaviour
    ("behaviour", "我要向媒体曝光你们", "negative_publicity", "曝光"),
    (
        "behaviour",
        "I will post this on social media and tell everyone to stay away",
        "negative_publicity",
        "social media",
    ),
    ("behaviour", "气死我了，什么破服务，垃圾！！！", "angry_venting", "气死"),
    ("behaviour", "This is absolutely ridiculous, I am furious", "angry_venting", "furious"),
    ("behaviour", "我在店里跟店员吵起来了，差点动手", "extreme", "吵起来"),
    (
        "behaviour",
        "I won't stop until someone is fired, I will come down there myself",
        "extreme",
        "won't stop until",
    ),
    ("behaviour", "唉，每次都这样，算了", "passive", "每次"),
    ("behaviour", "Once again the bus was late, as usual", "passive", "as usual"),
    # purpose
    ("purpose", "再不解决我就去法院起诉你们", "accusation", "法院"),
    (
        "purpose",
        "I demand a full refund immediately or I will take legal action",
        "accusation",
        "demand",
    ),
    ("purpose", "必须给个说法，要求赔偿", "accusation", "给个说法"),
    ("purpose", "总体不错，建议增加夜间模式", "suggestion", "建议"),
    (
        "purpose",
        "Overall great app, it would be nice to have a dark mode",
        "suggestion",
        "would be nice",
    ),
    ("purpose", "对这次的体验很失望", "criticism", "失望"),
    ("purpose", "I was disappointed with the slow service", "criticism", "disappointed"),
]

# (scheme, text, label or None): the negated keyword must not count
NEGATIONS: list[tuple[str, str, str | None]] = [
    ("cause", "They were rude", "service_quality"),
    ("cause", "They were not rude at all", None),
    ("cause", "It is expensive", "price"),
    ("cause", "It is not expensive", None),
    ("cause", "这个很贵", "price"),
    ("cause", "这个不贵", None),
    ("cause", "价格不贵，就是质量太差", "product_quality"),
    ("cause", "质量不错，价格也不贵", None),
    ("cause", "太慢了", "service_quality"),
    ("cause", "一点也不慢", None),
    ("cause", "The screen is broken", "product_quality"),
    ("cause", "The screen is not broken", None),
    ("severity", "No one was hurt, nothing serious", "general"),
    ("purpose", "我不需要赔偿，只是反映一下", "criticism"),
    ("purpose", "Not asking for compensation, just letting you know", "criticism"),
]


@pytest.fixture(scope="module")
def host() -> PluginHost:
    """A host with the installed plugins, as the CLI builds it."""
    return make_host(Config(), env={})


def _classify(host: PluginHost, scheme: str, text: str) -> Classification | None:
    return host.scheme(scheme).classify(text)


def test_the_four_schemes_are_registered_by_the_plugin(host: PluginHost) -> None:
    schemes = host.schemes()
    for name, labels in SCHEME_LABELS.items():
        scheme = schemes[name]
        assert isinstance(scheme, ClassificationScheme)
        assert [label.name for label in scheme.labels] == labels
        assert host.owner("register_classification_schemes", name) == "schemes"
    assert tuple(SCHEME_LABELS) == BUILTIN_SCHEMES


@pytest.mark.parametrize("name", BUILTIN_SCHEMES)
def test_every_label_has_both_names_and_a_description(host: PluginHost, name: str) -> None:
    scheme = host.scheme(name)
    assert scheme.names.en and scheme.names.zh
    for label in scheme.labels:
        assert label.names.en and label.names.zh, label
        assert len(label.description) > 20, label
        assert label.name == label.name.lower() and " " not in label.name


@pytest.mark.parametrize("name", BUILTIN_SCHEMES)
def test_rule_files_are_bilingual_and_weighted(name: str) -> None:
    rule_set = builtin_rule_set(name)
    assert rule_set.default == DEFAULTS[name]
    for label_rules in rule_set.labels:
        phrases = [rule.phrase for rule in label_rules.rules]
        assert len(phrases) == len(set(phrases)), f"duplicate phrase in {label_rules.label.name}"
        assert any(p.isascii() for p in phrases), label_rules.label.name
        assert any(not p.isascii() for p in phrases), label_rules.label.name
        assert all(rule.weight > 0 for rule in label_rules.rules)
    assert any(n.isascii() for n in rule_set.negations)
    assert any(not n.isascii() for n in rule_set.negations)


@pytest.mark.parametrize(("scheme", "text", "label", "phrase"), EXAMPLES)
def test_unseen_examples(host: PluginHost, scheme: str, text: str, label: str, phrase: str) -> None:
    result = _classify(host, scheme, text)
    assert result is not None
    assert result.label == label, result
    assert any(phrase.lower() in e.lower() for e in result.evidence), result.evidence


@pytest.mark.parametrize(("scheme", "text", "label", "phrase"), EXAMPLES)
def test_evidence_is_quoted_from_the_text_and_confidence_is_a_share(
    host: PluginHost, scheme: str, text: str, label: str, phrase: str
) -> None:
    for name in BUILTIN_SCHEMES:
        result = _classify(host, name, text)
        if result is None:
            continue
        assert 0.0 < result.confidence <= 1.0
        assert result.label in SCHEME_LABELS[name]
        for evidence in result.evidence:
            assert evidence in text, (name, evidence)


@pytest.mark.parametrize(("scheme", "text", "label"), NEGATIONS)
def test_negated_keywords_do_not_count(
    host: PluginHost, scheme: str, text: str, label: str | None
) -> None:
    result = _classify(host, scheme, text)
    assert (result.label if result else None) == label, result


@pytest.mark.parametrize("name", BUILTIN_SCHEMES)
def test_no_match_gives_the_default_or_abstains(host: PluginHost, name: str) -> None:
    for text in ("", "Hello, order 12345 placed on Monday.", "你好，订单号12345"):
        result = _classify(host, name, text)
        if DEFAULTS[name] is None:
            assert result is None
        else:
            assert result is not None
            assert (result.label, result.confidence, result.evidence) == (DEFAULTS[name], 0.3, ())


def test_more_agreeing_evidence_means_more_confidence(host: PluginHost) -> None:
    weak = _classify(host, "cause", "The staff")
    strong = _classify(host, "cause", "The staff were rude, unprofessional and hung up on me")
    assert weak is not None and strong is not None
    assert weak.label == strong.label == "service_quality"
    assert weak.confidence < strong.confidence


def test_typographic_apostrophes_and_case_match(host: PluginHost) -> None:
    curly = _classify(host, "cause", "My new kettle DOESN’T WORK")
    assert curly is not None and curly.label == "product_quality"
    assert curly.evidence == ("DOESN’T WORK",)


def test_english_phrases_match_whole_words_only(host: PluginHost) -> None:
    # "rude" inside "prudent", "fee" inside "coffee": no match.
    assert _classify(host, "cause", "A prudent choice of coffee") is None
    fee = _classify(host, "cause", "The coffee had a fee")
    assert fee is not None and fee.label == "price" and fee.evidence == ("fee",)


def test_title_and_text_are_classified_together(host: PluginHost) -> None:
    # The desk passes title + "\n" + text.
    result = _classify(host, "cause", "投诉：价格问题\n同样的东西比别家贵一倍，而且还涨价了")
    assert result is not None and result.label == "price"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("建议CRM支持批量导入", "general"),  # a feature request, not harm
        ("空调遥控器失灵", "general"),  # one weak hint stays under min_score
        ("刹车失灵差点出车祸", "serious"),
        ("the app malfunctions sometimes", "general"),
    ],
)
def test_severity_needs_more_than_one_weak_hint(text: str, expected: str) -> None:
    from complaintkit import make_host

    result = make_host(env={}).scheme("severity").classify(text)
    assert result is not None and result.label == expected


def test_min_score_is_read_from_rule_files_and_checked() -> None:
    from complaintkit import ConfigError
    from complaintkit_schemes.rules import RuleScheme, rule_set_from_dict

    data = {
        "name": "x",
        "default": "low",
        "min_score": 2,
        "labels": [
            {"name": "low", "en": "Low", "zh": "低"},
            {"name": "high", "en": "High", "zh": "高", "keywords": ["fire", "smoke"]},
        ],
    }
    scheme = RuleScheme(rule_set_from_dict(data, "x.toml"))
    one = scheme.classify("smoke")
    two = scheme.classify("fire and smoke")
    assert one is not None and one.label == "low"
    assert two is not None and two.label == "high"
    with pytest.raises(ConfigError, match="min_score must be a number"):
        rule_set_from_dict({**data, "min_score": "two"}, "x.toml")


def test_extension_thresholds_are_not_ignored() -> None:
    from complaintkit_schemes.rules import rule_set_from_dict

    base = rule_set_from_dict(
        {"name": "x", "labels": [{"name": "a", "en": "A", "zh": "甲", "keywords": ["k"]}]}, "b"
    )
    extension = rule_set_from_dict({"name": "x", "min_score": 3, "default_confidence": 0.5}, "e")
    merged = base.merged(extension)
    assert (merged.min_score, merged.default_confidence) == (3.0, 0.5)
    assert base.merged(rule_set_from_dict({"name": "x"}, "e")).min_score == base.min_score


def test_a_scheme_set_asks_combinable_schemes_together_and_gives_each_ones_verdict(
    ck_host: PluginHost,
) -> None:
    from collections.abc import Callable, Sequence

    from complaintkit import LabelDef, Names, SchemeSet

    class Length:
        """Not combinable: asked alone."""

        name = "length"
        names = Names("Length", "长度")
        labels = (LabelDef("long", Names("long", "长")), LabelDef("short", Names("short", "短")))

        def classify(self, text: str) -> Classification | None:
            return Classification("long" if len(text) > 40 else "short", 1.0)

    combined: list[list[str]] = []

    class Shouting:
        """Combinable: one call classifies by every scheme of this kind."""

        labels = (LabelDef("yes", Names("yes", "是")), LabelDef("no", Names("no", "否")))

        def __init__(self, name: str, marks: str) -> None:
            self.name, self.names, self.marks = name, Names(name, name), marks

        def classify(self, text: str) -> Classification | None:
            found = [m for m in self.marks if m in text]
            return Classification("yes", 0.9, tuple(found)) if found else None

        def combine(
            self, schemes: Sequence[ClassificationScheme]
        ) -> Callable[[str], list[Classification | None]]:
            combined.append([s.name for s in schemes])
            return lambda text: [s.classify(text) for s in schemes]

    builtin = [ck_host.scheme("cause"), ck_host.scheme("severity")]
    schemes = [Shouting("bang", "!"), builtin[0], Length(), Shouting("caps", "ABC"), builtin[1]]
    together = SchemeSet(schemes)
    assert combined == [["bang", "caps"]]
    for text in ("The fee doubled!!! ABC", "冰箱送货延误三天，客服电话打不通", "ok"):
        assert together.classify(text) == [s.classify(text) for s in schemes]
