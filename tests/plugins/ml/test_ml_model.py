"""Training, the model file, its refusal of anything else, and explained predictions."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
from ml_support import CAUSE_LABELS, EXAMPLES

from complaintkit.errors import ConfigError
from complaintkit_ml.features import (
    WORD_SEED,
    Batch,
    FeatureSpec,
    batch_words,
    char_windows,
    fold,
    gram_hashes,
    language,
)
from complaintkit_ml.model import Predictor, _hash_table, load_model
from complaintkit_ml.training import _fit, _log_count_ratio, train_model, training_hash


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


#: Texts whose words and n-grams are awkward: apostrophes at either end of a word and doubled,
#: digits, punctuation and several spaces between words, Chinese, an empty text, a one-letter
#: text, a letter whose lower case is longer than itself.
AWKWARD = [
    "Hello World, it's 'quoted' don't'' stop",
    "",
    "''",
    "a",
    "服务 态度 good,bad…  delayed\n\tagain 3 hours",
    "İstanbul flight AA123 o'clock '90s",
    "客服态度很差，等了3天",
    "x y z",
]


def test_word_ngrams_found_in_numpy_are_those_of_the_word_stream() -> None:
    spec = FeatureSpec(word_min=1, word_max=3)
    folded = [spec.prepared(text) for text in AWKWARD]
    hashes, docs, starts, stops = batch_words(Batch.of(folded), 1, 3)
    joined = "".join(folded)
    for number, text in enumerate(folded):
        grams = spec.word_stream(text)
        # the same n-grams, each hashed as the string of its words joined by one space
        assert sorted(hashes[docs == number].tolist()) == sorted(
            gram_hashes(grams, seed=WORD_SEED).tolist()
        )
        # each span runs from its first word to its last, inside its own text
        for start, stop in zip(starts[docs == number], stops[docs == number], strict=True):
            words = re.findall(r"[a-z0][a-z0']*", joined[start:stop])
            assert " ".join(words) in grams
            assert joined[start:stop].startswith(words[0])
            assert joined[start:stop].endswith(words[-1])
    # a word n-gram never has the hash of the character n-gram with the same letters
    assert gram_hashes(["bad"], seed=WORD_SEED)[0] != gram_hashes(["bad"])[0]


def test_character_windows_of_a_batch_are_each_texts_own() -> None:
    spec = FeatureSpec()
    folded = [spec.prepared(text) for text in AWKWARD]
    batch = Batch.of(folded)
    found: dict[int, list[int]] = {}
    for n, hashes in char_windows(batch, spec.char_min, spec.char_max):
        assert len(hashes) == len(batch.codes) - n + 1
        for start in hashes.nonzero()[0].tolist():
            found.setdefault(int(batch.doc[start]), []).append(int(hashes[start]))
    for number, text in enumerate(folded):
        # windows running from one text into the next have the hash 0 (which matches nothing)
        assert sorted(found.get(number, [])) == sorted(spec.char_hashes(text).tolist())


def test_evidence_is_widened_to_whole_words_inside_its_own_text() -> None:
    import numpy as np

    folded = ["the flight was delayed", "delayed again"]
    batch = Batch.of(folded)
    # "laye" inside "delayed"; "ed" at the end of the first text is not widened into the next
    starts, stops = batch.widened(
        np.array([17, 20, 22]), np.array([21, 22, 24]), np.array([0, 0, 1])
    )
    joined = "".join(folded)
    assert [joined[a:b] for a, b in zip(starts, stops, strict=True)] == [
        "delayed",
        "delayed",
        "delayed",
    ]
    assert stops[1] == 22  # the end of its text, not into "delayed again"
    assert starts[2] == 22  # the start of its text


def test_every_ngram_of_the_vocabulary_is_found_and_no_other() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    known = rng.integers(1, 2**63, size=50_000, dtype=np.int64).view(np.uint64)
    # hashes one apart, as n-grams that differ in their last character have, crowd together
    known = np.unique(np.concatenate([known, known[:5_000] + np.uint64(1)]))
    table, shift, spilt_hashes, spilt_features = _hash_table(known)
    predictor = Predictor.__new__(Predictor)
    predictor._table, predictor._shift = table, shift
    predictor._spill_hashes, predictor._spill_features = spilt_hashes, spilt_features
    features, found = predictor._look_up(known)
    assert found.all()
    assert (features == np.arange(len(known))).all()
    assert len(spilt_features)  # some did not fit in their slots and are still found
    unknown = rng.integers(1, 2**63, size=200_000, dtype=np.int64).view(np.uint64)
    unknown = np.setdiff1d(np.concatenate([unknown, known + np.uint64(2)]), known)
    assert not predictor._look_up(unknown)[1].any()


def test_nb_svm_coefficients_score_the_plain_features_as_the_svm_scored_the_scaled_ones() -> None:
    import numpy as np
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    from complaintkit_ml import training

    rng = np.random.default_rng(3)
    features = sp.random(60, 40, density=0.3, format="csr", random_state=4)
    targets = rng.integers(0, 3, size=60)
    coef, intercept = _fit(features, targets, 3, "nb")
    for label in range(3):
        chosen = targets == label
        ratio = _log_count_ratio(features, chosen)
        assert ratio.shape == (40,)
        svm = LinearSVC(
            C=training.C, dual=True, max_iter=5000, random_state=0, class_weight="balanced"
        ).fit(features @ sp.diags(ratio), chosen.astype(np.int8))
        expected = svm.decision_function(features @ sp.diags(ratio))
        assert np.allclose(features @ coef[:, label] + intercept[label], expected)


def test_evidence_gives_no_phrase_twice_nor_a_part_of_another(trained: object) -> None:
    predictor = Predictor(trained.model)  # type: ignore[attr-defined]
    texts = [text for text, _ in EXAMPLES] + ["The delayed flight was delayed, again delayed"]
    for text, result in zip(texts, predictor.classify_many(texts), strict=True):
        assert len(result.evidence) == len(set(result.evidence)) <= 5
        for phrase in result.evidence:
            assert phrase in text
