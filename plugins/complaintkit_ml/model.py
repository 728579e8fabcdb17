"""A trained text model as data only, and predicting with it in numpy.

A model file is one JSON document. Its fitted parameters are plain lists of strings and
numbers, and arrays of 32-bit floats written as base64 text: reading one can never run code
(there is no pickle anywhere; a pickle renamed ``.json`` is refused as "not JSON"). Every
field is checked when the file is read, and a file whose scheme or labels differ from the
configured scheme is refused (:func:`load_model`), naming the file.

Prediction (:class:`Predictor`) needs numpy only, not scikit-learn: the n-grams of the text
(:mod:`complaintkit_ml.features`) are looked up in the vocabulary, weighted by sublinear TF-IDF
(``(1 + ln tf) · idf``, the row scaled to unit length), multiplied by the coefficients, and the
scores turned into calibrated probabilities by a softmax with the temperature learnt from the
cross-validated scores. A *blend* model has extra features: the rules' vote (one column per
rule label, worth the rules' confidence, and one for "the rules abstained").
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import orjson

from complaintkit.classification import Classification
from complaintkit.errors import ConfigError

from .features import FeatureSpec, batch_hashes, gram_hashes, locate

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "NO_VOTE",
    "Predictor",
    "TextModel",
    "load_model",
    "model_from_dict",
]

#: What a model file says it is, and the layout version this code reads.
FORMAT = "complaintkit-ml/linear-text-model"
FORMAT_VERSION = 1
#: The blend feature for "the rules gave no label".
NO_VOTE = "(none)"
#: How many phrases a prediction gives as evidence, at most.
EVIDENCE = 5
_MAX_FILE = 512 * 1024 * 1024


def _pack(array: Any) -> dict[str, Any]:
    values = np.ascontiguousarray(array, dtype="<f4")
    return {
        "dtype": "float32-le",
        "shape": list(values.shape),
        "base64": base64.b64encode(values.tobytes()).decode("ascii"),
    }


def _unpack(value: Any, shape: tuple[int, ...], where: str) -> Any:
    if not isinstance(value, Mapping) or value.get("dtype") != "float32-le":
        raise ConfigError(f"{where}: expected {{dtype = float32-le, shape, base64}}")
    if list(value.get("shape", ())) != list(shape):
        raise ConfigError(f"{where}: shape {value.get('shape')} does not match {list(shape)}")
    text = value.get("base64")
    if not isinstance(text, str):
        raise ConfigError(f"{where}: base64 must be text")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise ConfigError(f"{where}: not valid base64") from None
    if len(raw) != 4 * math.prod(shape):
        raise ConfigError(f"{where}: {len(raw)} bytes for shape {list(shape)}")
    array = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{where}: holds a value that is not a finite number")
    return array


@attrs.frozen(eq=False)
class TextModel:
    """A fitted linear text model: vocabulary, idf, coefficients, calibration, metadata.

    ``labels`` are all the labels of the scheme it was trained for, in the scheme's order;
    ``classes`` the ones it learnt to tell apart (those the training set had). ``coef`` has one
    row per feature (character n-grams, then word n-grams, then the rules' votes for a blend
    model) and one column per class. ``metadata`` holds the training set's size and sha256,
    the date, the cross-validated figures and the library versions.
    """

    scheme: str
    labels: tuple[str, ...]
    classes: tuple[str, ...]
    spec: FeatureSpec
    char_vocabulary: tuple[str, ...]
    word_vocabulary: tuple[str, ...]
    idf: Any  # numpy array (features,)
    coef: Any  # numpy array (features + rule features, classes)
    intercept: Any  # numpy array (classes,)
    temperature: float
    rule_labels: tuple[str, ...] = ()
    rule_weight: float = 1.0
    metadata: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def n_text_features(self) -> int:
        """How many n-gram features the model reads."""
        return len(self.char_vocabulary) + len(self.word_vocabulary)

    @property
    def blends_rules(self) -> bool:
        """True when the rules' votes are among the model's features."""
        return bool(self.rule_labels)

    def to_dict(self) -> dict[str, Any]:
        """The model file's content (plain data)."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "scheme": self.scheme,
            "labels": list(self.labels),
            "classes": list(self.classes),
            "features": self.spec.to_dict(),
            "char_vocabulary": list(self.char_vocabulary),
            "word_vocabulary": list(self.word_vocabulary),
            "idf": _pack(self.idf),
            "coef": _pack(self.coef),
            "intercept": _pack(self.intercept),
            "temperature": self.temperature,
            "rule_labels": list(self.rule_labels),
            "rule_weight": self.rule_weight,
            "metadata": dict(self.metadata),
        }

    def save(self, path: str | Path) -> Path:
        """Write the model file (through a temporary file, so a reader never sees half of it)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(orjson.dumps(self.to_dict()))
        temporary.replace(path)
        return path


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: must be a list of strings")
    return tuple(value)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: must be a finite number, got {value!r}")
    return float(value)


def model_from_dict(data: Any, where: str) -> TextModel:
    """Check a model file's parsed content field by field; errors name ``where`` and the field."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ConfigError(f"{where}: not a complaintkit model file (no format = {FORMAT!r})")
    if data.get("version") != FORMAT_VERSION:
        raise ConfigError(
            f"{where}: model file version {data.get('version')!r}; this complaintkit reads "
            f"version {FORMAT_VERSION} (train the model again)"
        )
    scheme = data.get("scheme")
    if not isinstance(scheme, str) or not scheme:
        raise ConfigError(f"{where}: scheme must be a scheme name")
    labels = _strings(data.get("labels"), f"{where}: labels")
    classes = _strings(data.get("classes"), f"{where}: classes")
    if len(classes) < 2 or len(set(classes)) != len(classes) or not set(classes) <= set(labels):
        raise ConfigError(f"{where}: classes must be two or more distinct labels of the scheme")
    features = data.get("features")
    if not isinstance(features, Mapping) or not all(
        isinstance(features.get(f.name), int) and not isinstance(features.get(f.name), bool)
        for f in attrs.fields(FeatureSpec)
    ):
        raise ConfigError(
            f"{where}: features must give " + ", ".join(f.name for f in attrs.fields(FeatureSpec))
        )
    try:
        spec = FeatureSpec(**{f.name: features[f.name] for f in attrs.fields(FeatureSpec)})
    except ValueError as exc:
        raise ConfigError(f"{where}: features: {exc}") from None
    chars = _strings(data.get("char_vocabulary"), f"{where}: char_vocabulary")
    words = _strings(data.get("word_vocabulary"), f"{where}: word_vocabulary")
    rule_labels = _strings(data.get("rule_labels", []), f"{where}: rule_labels")
    n_features = len(chars) + len(words)
    idf = _unpack(data.get("idf"), (n_features,), f"{where}: idf")
    coef = _unpack(
        data.get("coef"), (n_features + len(rule_labels), len(classes)), f"{where}: coef"
    )
    intercept = _unpack(data.get("intercept"), (len(classes),), f"{where}: intercept")
    temperature = _number(data.get("temperature"), f"{where}: temperature")
    if temperature <= 0:
        raise ConfigError(f"{where}: temperature must be above 0")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise ConfigError(f"{where}: metadata must be a table")
    return TextModel(
        scheme=scheme,
        labels=labels,
        classes=classes,
        spec=spec,
        char_vocabulary=chars,
        word_vocabulary=words,
        idf=idf,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        rule_labels=rule_labels,
        rule_weight=_number(data.get("rule_weight", 1.0), f"{where}: rule_weight"),
        metadata=metadata,
    )


def load_model(path: str | Path, scheme: str, labels: Sequence[str]) -> TextModel:
    """Read and check a model file for ``scheme`` with exactly ``labels``.

    :raises ConfigError: naming the file, when it is missing, too large, not JSON (a pickle or
        any other binary is never executed, only refused), not a model file, damaged, or made
        for another scheme or another set of labels.
    """
    path = Path(path)
    where = f"model file {path}"
    try:
        size = path.stat().st_size
        if size > _MAX_FILE:
            raise ConfigError(f"{where}: {size} bytes is larger than any model this writes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{where} does not exist; train it with: complaintkit train {scheme}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where} cannot be read: {exc}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{where}: not JSON, so not a complaintkit model file") from None
    model = model_from_dict(data, where)
    if model.scheme != scheme:
        raise ConfigError(
            f"{where} was trained for scheme {model.scheme!r}, not {scheme!r}; "
            f"train one with: complaintkit train {scheme}"
        )
    if tuple(model.labels) != tuple(labels):
        raise ConfigError(
            f"{where} was trained for the labels {', '.join(model.labels)} of {scheme!r}, "
            f"which now has {', '.join(labels)}; train it again with: complaintkit train {scheme}"
        )
    return model


class Predictor:
    """Classifies texts with a :class:`TextModel`, explaining each answer.

    Built once per model (the vocabulary becomes a dictionary); safe to share between threads,
    as ``classify`` keeps no state between calls.
    """

    def __init__(self, model: TextModel) -> None:
        self.model = model
        self.spec = model.spec
        offset = len(model.char_vocabulary)
        # Character n-grams are looked up by a 64-bit hash of their code points, computed for
        # a whole text at once in numpy (a wrong match needs a hash collision: about one in
        # 10**14 n-grams for a vocabulary of 200,000).
        hashes = gram_hashes(model.char_vocabulary)
        self._char_order = np.argsort(hashes, kind="stable").astype(np.int64)
        self._char_hashes = hashes[self._char_order]
        if not len(self._char_hashes):
            self._char_hashes = np.array([np.uint64(0)], dtype=np.uint64)
            self._char_order = np.array([-1], dtype=np.int64)
        # ...found through a direct-address table on the hash's low bits (about 8 slots a
        # gram, so a lookup is one read); the few slots two grams share are marked, and a
        # text's n-gram landing in one is looked up by binary search instead.
        size = 1 << max(16, (8 * len(self._char_hashes) - 1).bit_length())
        self._mask = np.uint64(size - 1)
        slots = (self._char_hashes & self._mask).astype(np.int64)
        self._table = np.full(size, -1, np.int32)
        self._table[slots] = np.arange(len(slots), dtype=np.int32)
        self._shared = np.bincount(slots, minlength=size) > 1
        self._words = {gram: offset + i for i, gram in enumerate(model.word_vocabulary)}
        self._grams = (*model.char_vocabulary, *model.word_vocabulary)
        self._offset = offset
        # Which features can be evidence: n-grams with a letter, digit or ideograph in them
        # (and the rules' vote, whose phrases are).
        self._wordy = [any(ch.isalnum() for ch in gram) for gram in self._grams] + [True] * (
            len(model.rule_labels) + 1
        )
        self._idf = model.idf
        self._coef = model.coef / model.temperature  # calibrated once, not per text
        self._intercept = model.intercept / model.temperature
        # each class's coefficients in one contiguous row: gathering a text's features from
        # it is twice as fast as from a column of the features × classes matrix
        self._by_class = np.ascontiguousarray(self._coef.T)
        # How much each feature pushes toward a class rather than the others on average.
        n_classes = model.coef.shape[1]
        others = (model.coef.sum(axis=1, keepdims=True) - model.coef) / (n_classes - 1)
        self._push = model.coef - others
        self._rule_slots = {
            label: model.n_text_features + i for i, label in enumerate(model.rule_labels)
        }

    def _look_up(self, hashes: Any) -> tuple[Any, Any]:
        """(where in the sorted vocabulary hashes, found or not) for each of ``hashes``."""
        table = self._char_hashes
        slots = (hashes & self._mask).astype(np.int64)
        places = self._table[slots]
        hit = places >= 0
        hit[hit] = table[places[hit]] == hashes[hit]
        again = np.flatnonzero(~hit & self._shared[slots])
        if len(again):
            found = np.minimum(np.searchsorted(table, hashes[again]), len(table) - 1)
            good = table[found] == hashes[again]
            places[again[good]] = found[good]
            hit[again[good]] = True
        return places, hit

    def classify(self, text: str, vote: Classification | None = None) -> Classification:
        """The most probable label, its calibrated probability, and the n-grams (in the text's
        own words) that pushed hardest toward it — plus the rules' phrases when their vote did."""
        return self.classify_many((text,), (vote,))[0]

    def _phrases(
        self,
        text: str,
        folded: str,
        candidates: Sequence[int],
        pushes: Sequence[float],
        vote: Classification | None,
    ) -> tuple[str, ...]:
        """The text's own words for the features ``candidates`` (strongest first)."""
        found: list[str] = []
        spans: list[tuple[int, int]] = []
        n_text = self.model.n_text_features
        for index, pushed in zip(candidates, pushes, strict=True):
            if pushed <= 0 or len(found) >= EVIDENCE:
                break
            if not self._wordy[index]:
                continue  # spaces and punctuation are no evidence
            if index >= n_text:  # the rules' vote: their own phrases are the evidence
                for phrase in vote.evidence if vote is not None else ():
                    if phrase not in found:
                        found.append(phrase)
                continue
            span = locate(folded, self._grams[index], word=index >= self._offset)
            if span is None or any(s <= span[0] and span[1] <= e for s, e in spans):
                continue  # a part of a phrase already given
            phrase = text[span[0] : span[1]].strip()
            if phrase:
                # a longer phrase replaces the parts of it given before
                inside = [i for i, (s, e) in enumerate(spans) if span[0] <= s and e <= span[1]]
                for i in reversed(inside):
                    del spans[i], found[i]
                spans.append(span)
                found.append(phrase)
        return tuple(found[:EVIDENCE])

    def classify_many(
        self, texts: Sequence[str], votes: Sequence[Classification | None] | None = None
    ) -> list[Classification]:
        """:meth:`classify` for many texts at once, with the same answers: the n-grams of all
        the texts are looked up and scored together in numpy, which costs a fraction of
        classifying them one by one. ``votes`` are the rules' votes (a blend model)."""
        count = len(texts)
        if not count:
            return []
        folded = [self.spec.prepared(text) for text in texts]
        hashes, docs = batch_hashes(folded, self.spec.char_min, self.spec.char_max)
        places, hit = self._look_up(hashes)
        char_ids = self._char_order[places[hit]]
        char_docs = docs[hit]
        word_ids: list[int] = []
        word_docs: list[int] = []
        get = self._words.get
        for number, one in enumerate(folded):
            found = [i for i in map(get, self.spec.word_stream(one), repeat(-1)) if i >= 0]
            word_ids += found
            word_docs += [number] * len(found)
        width = self.model.n_text_features + len(self._rule_slots) + 1
        keys = np.concatenate(
            [
                char_docs * width + char_ids,
                np.array(word_docs, np.int64) * width + np.array(word_ids, np.int64),
            ]
        )
        keys, tf = np.unique(keys, return_counts=True)
        doc, feature = np.divmod(keys, width)
        values = (1.0 + np.log(tf)) * self._idf[feature]
        norms = np.sqrt(np.bincount(doc, weights=values * values, minlength=count))
        norms[norms == 0] = 1.0
        values /= norms[doc]
        if self._rule_slots:
            given = list(votes) if votes is not None else [None] * count
            slots = [
                self._rule_slots.get(v.label if v else NO_VOTE, self._rule_slots[NO_VOTE])
                for v in given
            ]
            worth = [(v.confidence if v else 1.0) * self.model.rule_weight for v in given]
            doc = np.concatenate([doc, np.arange(count)])
            feature = np.concatenate([feature, np.array(slots, np.int64)])
            values = np.concatenate([values, np.array(worth)])
        logits = np.empty((count, len(self._by_class)))
        for column, weights in enumerate(self._by_class):
            logits[:, column] = np.bincount(
                doc, weights=values * weights.take(feature), minlength=count
            )
        logits += self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(count), best]
        # evidence: each text's features by how hard they pushed toward its answer; one sort
        # of the features that pushed at all, by text and then by push (strongest first)
        push = values * self._push[feature, best[doc]]
        pushing = np.flatnonzero(push > 0)
        scale = float(push[pushing].max()) + 1.0 if len(pushing) else 1.0
        order = pushing[np.argsort(doc[pushing] * scale - push[pushing], kind="stable")]
        doc_sorted = doc[order]
        group = np.searchsorted(doc_sorted, np.arange(count + 1))
        rank = np.arange(len(order)) - group[doc_sorted]
        keep = order[rank < 2 * EVIDENCE]
        bounds = np.searchsorted(doc[keep], np.arange(count + 1)).tolist()
        kept_features = feature[keep].tolist()
        kept_push = push[keep].tolist()
        classes = self.model.classes
        results = []
        for number, text in enumerate(texts):
            start, stop = bounds[number], bounds[number + 1]
            results.append(
                Classification(
                    classes[int(best[number])],
                    round(min(1.0, max(0.0, float(confidence[number]))), 3),
                    self._phrases(
                        text,
                        folded[number],
                        kept_features[start:stop],
                        kept_push[start:stop],
                        votes[number] if votes is not None else None,
                    ),
                )
            )
        return results
