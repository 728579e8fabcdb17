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
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import orjson

from complaintkit.classification import Classification
from complaintkit.errors import ConfigError

from .features import WORD_SEED, Batch, FeatureSpec, batch_words, char_windows, gram_hashes

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


_FINGERPRINT_SHIFT = np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)
#: The low bit of a fingerprint (always set, so that no entry is 0), where it is in an entry.
_FIRST_FINGERPRINT_BIT = np.uint64(1 << 32)
#: Fibonacci hashing: the n-gram hashes of a polynomial hash that differ in the last
#: character differ in their low bits only; times this odd number, every bit of a hash
#: reaches the product's high bits, which give the slot.
_MIX = np.uint64(0x9E3779B97F4A7C15)
#: The low half of a table entry: the feature number, and the flag that some n-gram whose
#: slot this is did not fit in the table (look it up among the spilt ones).
_FEATURE_BITS = np.uint64(0x7FFFFFFF)
_SPILT = np.uint64(0x80000000)


def _hash_table(hashes: Any) -> tuple[Any, Any, Any, Any]:
    """The lookup table of the n-gram ``hashes`` (feature ``i`` has ``hashes[i]``):
    ``(table, shift of the slot bits, spilt hashes, spilt features)``.

    Each hash is first multiplied by :data:`_MIX` (a bijection). An n-gram lives in the
    slot of the product's high bits (about six slots a gram), or, when an n-gram is there
    already, in the next slot if that is free; the entry holds the product's low 32 bits (the
    last one set, so an empty entry matches nothing) and the feature number. The few n-grams
    that fit in neither are kept apart, sorted by hash, and their slot's entry says so. A match
    so checks about 50 bits of the hash: an n-gram the model does not know is mistaken for
    one it knows about once in 10**9 (a few times in a million complaints, each time one
    n-gram among hundreds).
    """
    if len(hashes) >= 1 << 31:
        raise ConfigError(f"{len(hashes)} features are more than a model can have")
    bits = max(16, (6 * len(hashes) - 1).bit_length())
    size = 1 << bits
    table = np.zeros(size + 1, np.uint64)
    mixed = hashes * _MIX
    entries = ((mixed & _LOW) | np.uint64(1)) << _FINGERPRINT_SHIFT
    entries |= np.arange(len(hashes), dtype=np.uint64)
    shift = np.uint64(64 - bits)
    slots = (mixed >> shift).astype(np.int64)
    order = np.argsort(slots, kind="stable")
    sorted_slots = slots[order]
    head = np.concatenate([[True], sorted_slots[1:] != sorted_slots[:-1]])
    first = order[head]  # the first n-gram of each slot stays in it
    table[slots[first]] = entries[first]
    taken = np.zeros(size + 1, bool)
    taken[slots[first]] = True
    # the second n-gram of a slot takes the next slot when no n-gram's own slot is there
    second_of = head[:-1] & ~head[1:]
    second = order[1:][second_of]
    fits = ~taken[slots[second] + 1]
    table[slots[second[fits]] + 1] = entries[second[fits]]
    placed = np.zeros(len(hashes), bool)
    placed[first] = True
    placed[second[fits]] = True
    spilt = np.flatnonzero(~placed)
    table[slots[spilt]] |= _SPILT
    spill_order = np.argsort(hashes[spilt])
    spill_hashes = hashes[spilt][spill_order]
    if not len(spill_hashes):
        spill_hashes = np.zeros(1, np.uint64)  # matches only a spilt slot's hash 0: none
    return table, shift, spill_hashes, spilt[spill_order].astype(np.int64)


class Predictor:
    """Classifies texts with a :class:`TextModel`, explaining each answer.

    Built once per model (the vocabulary becomes a dictionary); safe to share between threads,
    as ``classify`` keeps no state between calls.
    """

    def __init__(self, model: TextModel) -> None:
        self.model = model
        self.spec = model.spec
        offset = len(model.char_vocabulary)
        # Every n-gram is looked up by a 64-bit hash of its code points (word n-grams' hashes
        # start from another seed, so the two kinds stay apart), computed for a whole batch of
        # texts at once in numpy (a wrong match needs a hash collision: about one in 10**14
        # n-grams for a vocabulary of 200,000).
        hashes = np.concatenate(
            [
                gram_hashes(model.char_vocabulary),
                gram_hashes(model.word_vocabulary, seed=WORD_SEED),
            ]
        )
        # a window that crosses from one text into the next has the hash 0
        # (:func:`~complaintkit_ml.features.char_windows`): no n-gram may match it
        hashes[hashes == 0] = 1
        self._table, self._shift, self._spill_hashes, self._spill_features = _hash_table(hashes)
        self._offset = offset
        n_rules = len(model.rule_labels)
        # Which features can be evidence: n-grams with a letter, digit or ideograph in them
        # (and the rules' vote, whose phrases are); how long each character n-gram is, and
        # how many words each word n-gram has (to find its end from its first word).
        grams = (*model.char_vocabulary, *model.word_vocabulary)
        wordy = np.array([any(ch.isalnum() for ch in gram) for gram in grams] + [True] * n_rules)
        self._size = np.array(
            [len(gram) for gram in model.char_vocabulary]
            + [gram.count(" ") + 1 for gram in model.word_vocabulary]
            + [0] * n_rules,
            np.int64,
        )
        self._idf = model.idf
        self._coef = model.coef / model.temperature  # calibrated once, not per text
        self._coef_rows = np.ascontiguousarray(self._coef.T)  # one row a class
        self._intercept = model.intercept / model.temperature
        # How much each feature pushes toward a class rather than the others on average (0 for
        # those that cannot be evidence), one row a class.
        n_classes = model.coef.shape[1]
        others = (model.coef.sum(axis=1, keepdims=True) - model.coef) / (n_classes - 1)
        self._push = np.ascontiguousarray((model.coef - others).T)
        self._push[:, ~wordy] = 0.0
        self._rule_slots = {
            label: model.n_text_features + i for i, label in enumerate(model.rule_labels)
        }

    def _look_up(self, hashes: Any) -> tuple[Any, Any]:
        """(feature numbers, found or not) of ``hashes``; a feature number is only meaningful
        where found. One read of the table a hash (and one of the slot after it, most often
        in the same cache line): the reads, not the arithmetic, are what a lookup costs."""
        table = self._table
        mixed = hashes * _MIX
        slots = (mixed >> self._shift).view(np.int64)
        # an entry XOR the fingerprint wanted (in the high half) is below 2**32 where they
        # match, and is then the entry's low half: the feature number and the spill flag
        wanted = mixed << _FINGERPRINT_SHIFT
        wanted |= _FIRST_FINGERPRINT_BIT
        first = table.take(slots)
        in_first = first ^ wanted
        in_second = table.take(slots + 1)
        in_second ^= wanted
        features = np.where(in_first <= _LOW, in_first, in_second)
        found = features <= _LOW
        features &= _FEATURE_BITS
        features = features.view(np.int64)
        spilt = np.flatnonzero(~found & ((first & _SPILT) != 0))
        if len(spilt):
            spill = self._spill_hashes
            at = np.minimum(np.searchsorted(spill, hashes[spilt]), len(spill) - 1)
            good = spill[at] == hashes[spilt]
            features[spilt[good]] = self._spill_features[at[good]]
            found[spilt[good]] = True
        return features, found

    def classify(self, text: str, vote: Classification | None = None) -> Classification:
        """The most probable label, its calibrated probability, and the n-grams (in the text's
        own words) that pushed hardest toward it — plus the rules' phrases when their vote did."""
        return self.classify_many((text,), (vote,))[0]

    def _features(self, batch: Batch) -> tuple[Any, Any, Any, Any]:
        """(text numbers, features, counts, first starts) of the n-grams of ``batch`` that
        the model knows, one row per text and feature, sorted by text and then feature; a
        first start is where the feature first occurs (in the batch's joined texts)."""
        spec = self.spec
        # all the n-grams looked up at once: character n-grams of each length (their start
        # is their position in their array), then word n-grams
        all_hashes, all_starts = [], []
        for _, hashes in char_windows(batch, spec.char_min, spec.char_max):
            all_hashes.append(hashes)
            all_starts.append(np.arange(len(hashes)))
        word_hashes, _, word_starts, _ = batch_words(batch, max(spec.word_min, 1), spec.word_max)
        all_hashes.append(word_hashes)
        all_starts.append(word_starts)
        features, hit = self._look_up(np.concatenate(all_hashes))
        hit = np.flatnonzero(hit)
        feature = features.take(hit)
        starts = np.concatenate(all_starts).take(hit)
        width = self.model.n_text_features
        keys = batch.doc.take(starts)
        keys *= width
        keys += feature
        if not len(keys):
            return keys, keys, keys, keys
        # A feature's occurrences all come from one kind and length of n-gram, in the order
        # of their starts: sorted by (text, feature) keeping that order, the first of each
        # run is where the feature first occurs.
        if len(batch.lengths) * width <= 1 << 32:
            # two passes of numpy's radix sort (16 bits each), much faster than a sort of
            # 64-bit keys
            order = np.argsort(keys.astype(np.uint16), kind="stable")
            high = (keys >> 16).astype(np.uint16)
            order = order.take(np.argsort(high.take(order), kind="stable"))
        else:
            order = np.argsort(keys, kind="stable")
        keys = keys.take(order)
        bounds = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1], [True]]))
        heads = bounds[:-1]
        doc, feature = np.divmod(keys.take(heads), width)
        return doc, feature, np.diff(bounds), starts.take(order.take(heads))

    @staticmethod
    def _phrases(
        text: str, spans: Sequence[tuple[int, int]], vote: Classification | None
    ) -> tuple[str, ...]:
        """The text's own words at ``spans`` (a start of -1: the rules' vote, whose own
        phrases are then given), at most :data:`EVIDENCE`."""
        found = [text[start:stop].strip() if start >= 0 else "" for start, stop in spans[:EVIDENCE]]
        if "" in found:  # the rules' vote pushed: their phrases stand in its place
            phrases: list[str] = []
            for phrase in found:
                for one in (phrase,) if phrase else vote.evidence if vote is not None else ():
                    if one not in phrases:
                        phrases.append(one)
            found = phrases
        return tuple(found[:EVIDENCE])

    def classify_many(
        self, texts: Sequence[str], votes: Sequence[Classification | None] | None = None
    ) -> list[Classification]:
        """:meth:`classify` for many texts at once, with the same answers: the n-grams of all
        the texts are found, looked up and scored together in numpy, and so is the evidence,
        which costs a fraction of classifying them one by one. ``votes`` are the rules'
        votes (a blend model)."""
        count = len(texts)
        if not count:
            return []
        batch = self.spec.batch(texts)
        doc, feature, tf, first = self._features(batch)
        values = (1.0 + np.log(tf)) * self._idf[feature]
        norms = np.sqrt(np.bincount(doc, weights=values * values, minlength=count))
        norms[norms == 0] = 1.0
        values /= norms[doc]
        # each text's scores: its features' rows of coefficients (one read a feature) times
        # their values, summed over the text's run of features (they come sorted by text)
        # (one class a row: numpy's sums along a contiguous row are what they were along
        # the columns of one feature a row, in a fifth of the time)
        logits = np.zeros((count, len(self._intercept)))
        if len(doc):
            heads = np.searchsorted(doc, np.arange(count + 1))
            some = heads[:-1] < heads[1:]
            weighted = self._coef_rows.take(feature, axis=1)
            weighted *= values
            logits[some] = np.add.reduceat(weighted, heads[:-1][some], axis=1).T
        if self._rule_slots:
            given = list(votes) if votes is not None else [None] * count
            slots = np.array(
                [
                    self._rule_slots.get(v.label if v else NO_VOTE, self._rule_slots[NO_VOTE])
                    for v in given
                ],
                np.int64,
            )
            worth = np.array([(v.confidence if v else 1.0) * self.model.rule_weight for v in given])
            logits += self._coef[slots] * worth[:, None]
            doc = np.concatenate([doc, np.arange(count)])
            feature = np.concatenate([feature, slots])
            values = np.concatenate([values, worth])
            first = np.concatenate([first, np.full(count, -1, np.int64)])
        logits += self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(count), best]
        spans, bounds = self._evidence(batch, doc, feature, values, first, best)
        labels = [self.model.classes[number] for number in best.tolist()]
        confidences = np.clip(confidence, 0.0, 1.0).tolist()
        phrases = self._phrases
        rule_votes: Sequence[Classification | None] = votes if votes is not None else [None] * count
        return [
            Classification(label, round(sure, 3), phrases(text, spans[start:stop], vote))
            for label, sure, text, start, stop, vote in zip(
                labels, confidences, texts, bounds[:-1], bounds[1:], rule_votes, strict=True
            )
        ]

    def _evidence(
        self, batch: Batch, doc: Any, feature: Any, values: Any, first: Any, best: Any
    ) -> tuple[list[tuple[int, int]], list[int]]:
        """The spans (in each text, widened to whole words) of the features that pushed each
        text hardest toward its answer, strongest first, of the strongest twice
        :data:`EVIDENCE` a text those that are not part of another; ``(-1, s)`` for the rules'
        vote; and where each text's spans begin in that list."""
        count = len(best)
        push = values * self._push.take(best[doc] * self._push.shape[1] + feature)
        pushing = np.flatnonzero(push > 0)
        # only each text's strongest few need sorting: where a text has more than enough
        # features above its mean push, the ones below it cannot be among its strongest
        keep = 2 * EVIDENCE
        strength = push[pushing]
        texts = doc[pushing]
        total = np.bincount(texts, weights=strength, minlength=count)
        number = np.bincount(texts, minlength=count)
        mean = total / np.maximum(number, 1)
        above = np.bincount(texts, weights=strength >= mean[texts], minlength=count)
        floor = np.where(above >= keep, mean, 0.0)
        pushing = pushing[strength >= floor[texts]]
        strength, texts = push[pushing], doc[pushing]
        scale = float(strength.max()) + 1.0 if len(pushing) else 1.0
        order = pushing[np.argsort(texts * scale - strength, kind="stable")]
        doc_sorted = doc[order]
        group = np.searchsorted(doc_sorted, np.arange(count + 1))
        rank = np.arange(len(order)) - group[doc_sorted]
        chosen = order[rank < keep]
        chosen_docs = doc[chosen]
        starts = first[chosen]
        features = feature[chosen]
        is_word = features >= self._offset
        stops = starts + self._size[features]
        words = np.flatnonzero(is_word & (starts >= 0))
        if len(words):
            word_starts, word_stops = batch.words()
            at = np.searchsorted(word_starts, starts[words])
            stops[words] = word_stops[at + self._size[features[words]] - 1]
        chars = np.flatnonzero(~is_word)
        if len(chars):
            left, right = batch.widened(starts[chars], stops[chars], chosen_docs[chars])
            starts[chars], stops[chars] = left, right
        # a phrase inside another of the same text's phrases (or the same phrase again, from
        # a weaker feature) is left out: "delayed" once, not as "del", "ela" and "yed"
        rank = rank[rank < keep]
        spans = np.full((count, keep, 2), -1, np.int64)
        spans[chosen_docs, rank, 0] = starts
        spans[chosen_docs, rank, 1] = stops
        left, right = spans[:, :, None, 0], spans[:, :, None, 1]  # the phrase…
        outer_left, outer_right = spans[:, None, :, 0], spans[:, None, :, 1]  # …inside this one
        stronger = np.tri(keep, k=-1, dtype=bool).T[None]  # the outer one ranks before it
        within = (outer_left <= left) & (right <= outer_right) & (left >= 0) & (outer_left >= 0)
        inside = (within & ((outer_left != left) | (outer_right != right) | stronger)).any(axis=2)
        # a phrase ranks as the strongest feature inside it: "to blast" where "blast" was
        place = within.argmax(axis=1)[chosen_docs, rank]
        given = ~inside[chosen_docs, rank]
        order = np.flatnonzero(given)
        order = order[np.argsort(chosen_docs[order] * keep + place[order], kind="stable")]
        starts, stops, chosen_docs = starts[order], stops[order], chosen_docs[order]
        starts -= np.where(starts >= 0, batch.offsets[chosen_docs], 0)
        stops -= np.where(starts >= 0, batch.offsets[chosen_docs], 0)
        bounds = np.searchsorted(chosen_docs, np.arange(count + 1)).tolist()
        return list(zip(starts.tolist(), stops.tolist(), strict=True)), bounds
