"""Training, the model file, its refusal of anything else, and explained predictions."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from ml_support import CAUSE_LABELS, EXAMPLES

from complaintkit.errors import ConfigError
from complaintkit_ml.features import FeatureSpec, fold, gram_hashes, language
from complaintkit_ml.model import Predictor, load_model
from complaintkit_ml.training import train_model, training_hash


@pytest.fixture(scope="module")
def trained() -> object:
    return train_model("cause", CAUSE_LABELS, EXAMPLES, folds=3, source="hand-written")


def test_training_reports_figures_per_language(trained: object) -> None:
    result = trained
    figures = result.figures  # type: ignore[attr-defined]
    assert figures.n == len(EXAMPLES)
    assert set(figures.by_language) == {"en", "zh"}
    assert figures.by_language["zh"].n == figures.by_language["en"].n == 18
    assert set(figures.recall) == {"product_quality", "service_quality", "price"}
    # a label the set does not have is not learnt: the model can never give it
    assert result.model.classes == ("product_quality", "service_quality", "price")  # type: ignore[attr-defined]
    # cross-validated, so better than chance (1/3) but honest: every text was unseen
    assert figures.accuracy > 0.6


def test_model_file_round_trip_predicts_the_same(trained: object, tmp_path: Path) -> None:
    model = trained.model  # type: ignore[attr-defined]
    path = model.save(tmp_path / "models" / "cause.json")
    again = load_model(path, "cause", CAUSE_LABELS)
    before, after = Predictor(model), Predictor(again)
    for text in ("the charger is broken", "客服不回电话", "收费太贵", "nothing related"):
        assert after.classify(text) == before.classify(text)
    meta = again.metadata
    assert meta["training_set"]["size"] == len(EXAMPLES)
    assert meta["training_set"]["sha256"] == training_hash(EXAMPLES)
    assert meta["training_set"]["source"] == "hand-written"
    assert meta["cross_validation"]["folds"] == 3
    assert "by_language" in meta["cross_validation"]
    assert {"scikit-learn", "numpy", "python"} <= set(meta["versions"])
    assert meta["trained_at"][:2] == "20"


def test_prediction_explains_itself_in_the_texts_own_words(trained: object) -> None:
    predictor = Predictor(trained.model)  # type: ignore[attr-defined]
    for text, label in [
        ("My toaster is broken and the plug is defective", "product_quality"),
        ("客服态度恶劣，还挂电话", "service_quality"),
        ("They OVERCHARGED me, far too expensive", "price"),
    ]:
        result = predictor.classify(text)
        assert result.label == label
        assert 0 < result.confidence <= 1
        assert result.evidence, text
        for phrase in result.evidence:
            assert phrase in text  # cut out of the text itself, original case kept
    assert "OVERCHARGED" in predictor.classify("They OVERCHARGED me, far too expensive").evidence


def test_many_at_once_gives_the_same_answers_as_one_by_one(trained: object) -> None:
    predictor = Predictor(trained.model)  # type: ignore[attr-defined]
    texts = [text for text, _ in EXAMPLES] + ["", "   ", "?!", "the agent was rude 😡 @shop"]
    assert predictor.classify_many(texts) == [predictor.classify(text) for text in texts]


def test_confidence_is_a_calibrated_probability(trained: object) -> None:
    import numpy as np

    model = trained.model  # type: ignore[attr-defined]
    predictor = Predictor(model)
    assert model.temperature > 0
    result = predictor.classify("the agent was rude and the screen is broken")
    assert 1 / len(model.classes) <= result.confidence <= 1
    # a text with no known n-gram: the softmax of the calibrated intercepts alone, by hand
    logits = model.intercept / model.temperature
    expected = np.exp(logits - logits.max())
    expected /= expected.sum()
    empty = predictor.classify("")
    assert empty.label == model.classes[int(expected.argmax())]
    assert empty.confidence == pytest.approx(float(expected.max()), abs=1e-3)
    assert empty.evidence == ()


def test_a_model_for_another_scheme_or_other_labels_is_refused(
    trained: object, tmp_path: Path
) -> None:
    path = trained.model.save(tmp_path / "cause.json")  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"cause\.json was trained for scheme 'cause', not"):
        load_model(path, "severity", CAUSE_LABELS)
    with pytest.raises(ConfigError, match=r"cause\.json was trained for the labels"):
        load_model(path, "cause", (*CAUSE_LABELS, "delivery"))


def test_a_pickle_renamed_json_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (Path.write_text, (marker, "code ran"))  # type: ignore[return-value]

    path = tmp_path / "cause.json"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ConfigError, match=r"model file .*cause\.json: not JSON"):
        load_model(path, "cause", CAUSE_LABELS)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="pickle"), "not a complaintkit model file"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d["coef"].update(shape=[1, 1]), "coef: shape"),
        (lambda d: d["idf"].update(base64="!!!"), "idf: not valid base64"),
        (lambda d: d.update(temperature="hot"), "temperature: must be a finite number"),
        (lambda d: d.update(temperature=0), "temperature must be above 0"),
        (lambda d: d.update(classes=["product_quality", "refund"]), "classes"),
        (lambda d: d.update(char_vocabulary=[1, 2]), "char_vocabulary"),
    ],
)
def test_a_damaged_model_file_is_refused_naming_the_field(
    trained: object, tmp_path: Path, change: object, message: str
) -> None:
    path = trained.model.save(tmp_path / "cause.json")  # type: ignore[attr-defined]
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_model(path, "cause", CAUSE_LABELS)


def test_a_missing_model_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="complaintkit train cause"):
        load_model(tmp_path / "nope.json", "cause", CAUSE_LABELS)


def test_character_ngram_hashes_match_their_strings() -> None:
    spec = FeatureSpec()
    for text in ["Flight delayed 3 hours!", "客服态度很差，等了3天", "İstanbul ünïcode 🙂 ok"]:
        folded = spec.prepared(text)
        assert len(folded) == len(text)  # offsets stay aligned with the original
        grams = list(spec.char_stream(folded))
        assert list(spec.char_hashes(folded)) == list(gram_hashes(grams))
        assert len(set(gram_hashes(grams))) == len(set(grams))


def test_folding_blanks_mentions_and_links_and_keeps_offsets() -> None:
    text = "@United lost my bag https://t.co/x1 again"
    folded = fold(text)
    assert len(folded) == len(text)
    assert "united" not in folded and "t.co" not in folded and "lost my bag" in folded


def test_language_by_cjk_characters() -> None:
    assert language("客服不回电话") == "zh"
    assert language("iPhone 屏幕坏了") == "zh"
    assert language("The shop on 王府井 was rude to me again") == "en"
