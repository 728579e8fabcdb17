"""Batch prediction on real complaints against a plain computation of the same definition.

The batch path (:meth:`Predictor.classify_many`) folds, hashes, looks up, counts and scores
thousands of n-grams at once in numpy. Here a model is trained on real labelled texts of three
presets and every answer on a few thousand of them is checked against the model's definition
written out with strings and dictionaries (:meth:`FeatureSpec.analyse`: the n-grams of one
text; sublinear TF-IDF, unit length, coefficients, calibrated softmax); the evidence, against
classifying each text alone (no batch neighbours, no other text's n-grams).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from complaintkit import make_host
from complaintkit_ml.features import Batch, FeatureSpec, fold
from complaintkit_ml.model import Predictor, TextModel
from complaintkit_ml.training import train_model
from conftest import require_dataset

pytestmark = pytest.mark.slow

PRESETS = ("airline", "chezhiwang", "cfpb")


@pytest.fixture(scope="module")
def corpus() -> tuple[list[tuple[str, str]], list[str]]:
    """(rows to learn from, texts to classify): the presets' rows interleaved."""
    from complaintkit_schemes.evaluation import DATASET_PRESETS

    datasets = make_host().labelled_datasets()
    per_preset = [
        list(datasets[p].read(str(require_dataset(DATASET_PRESETS[p].path)))) for p in PRESETS
    ]
    rows = [row for group in itertools.zip_longest(*per_preset) for row in group if row]
    return rows[:2400], [text for text, _ in rows[:4000]]


@pytest.fixture(scope="module")
def model(corpus: tuple[list[tuple[str, str]], list[str]]) -> TextModel:
    learn, _ = corpus
    labels = ("product_quality", "service_quality", "price", "integrity")
    return train_model("cause", labels, learn, folds=2).model


def reference(model: TextModel, text: str) -> tuple[str, float, float]:
    """(label, probability, margin to the runner-up) from the definition, one text."""
    chars, words = model.spec.analyse(text)
    index = {gram: i for i, gram in enumerate(model.char_vocabulary)}
    word_index = {gram: len(index) + i for i, gram in enumerate(model.word_vocabulary)}
    weights: dict[int, float] = {}
    for counts, vocabulary in ((chars, index), (words, word_index)):
        for gram, tf in counts.items():
            if gram in vocabulary:
                feature = vocabulary[gram]
                weights[feature] = (1.0 + math.log(tf)) * float(model.idf[feature])
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    logits = np.array(model.intercept, dtype=float)
    for feature, value in weights.items():
        logits = logits + model.coef[feature] * (value / norm)
    logits = logits / model.temperature
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    ranked = np.sort(probabilities)
    best = int(probabilities.argmax())
    return model.classes[best], float(probabilities[best]), float(ranked[-1] - ranked[-2])


def test_labels_and_confidences_are_those_of_the_definition(
    model: TextModel, corpus: tuple[list[tuple[str, str]], list[str]]
) -> None:
    _, texts = corpus
    predictor = Predictor(model)
    answers = [
        a for s in range(0, len(texts), 256) for a in predictor.classify_many(texts[s : s + 256])
    ]
    assert len(answers) == len(texts) >= 3000
    for text, answer in zip(texts, answers, strict=True):
        label, probability, margin = reference(model, text)
        if margin > 1e-9:  # a tie is decided by the order of the sums' last bits
            assert answer.label == label, text
        # the sums are added in another order: the last bits may differ, not the third decimal
        assert abs(answer.confidence - probability) <= 0.0005 + 1e-9, text


def test_evidence_in_a_batch_is_that_of_each_text_alone(
    model: TextModel, corpus: tuple[list[tuple[str, str]], list[str]]
) -> None:
    _, texts = corpus
    predictor = Predictor(model)
    sample = texts[:1500]
    together = [
        a for s in range(0, len(sample), 256) for a in predictor.classify_many(sample[s : s + 256])
    ]
    alone = [predictor.classify(text) for text in sample]
    assert together == alone
    with_evidence = [answer for answer in together if answer.evidence]
    assert len(with_evidence) > 0.9 * len(sample)
    for text, answer in zip(sample, together, strict=True):
        for phrase in answer.evidence:
            assert phrase and phrase in text


def test_a_batch_folds_each_text_as_fold_does(
    corpus: tuple[list[tuple[str, str]], list[str]],
) -> None:
    _, texts = corpus
    spec = FeatureSpec()
    sample = [*texts[:2000], "", "İstanbul  ÇAĞRI 2024", "@united https://t.co/x 123\u3000ok\xa0\t"]
    batch = spec.batch(sample)
    expected = Batch.of([fold(text[: spec.max_chars]) for text in sample])
    assert np.array_equal(batch.codes, expected.codes)
    assert np.array_equal(batch.lengths, expected.lengths)
    assert np.array_equal(batch.kind, expected.kind)
