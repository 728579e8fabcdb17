"""Training a :class:`~complaintkit_ml.model.TextModel` with scikit-learn, and its figures.

scikit-learn (the ``ml`` extra) is used here only, for the fit: a linear support-vector
classifier on sublinear TF-IDF of character and word n-grams, as an NB-SVM or a plain one-vs-rest
SVM, whichever cross-validates better (on the first two folds only above
:data:`COMPARE_ALL_UP_TO` examples; :func:`_fit`). The features are
made by :mod:`complaintkit_ml.features`, the same code prediction uses, and the TF-IDF
arithmetic is done here in numpy exactly as :class:`~complaintkit_ml.model.Predictor` does it,
so a model predicts after training precisely what it predicted while being scored.

The figures come from stratified k-fold cross-validation: every text is predicted by a model
that did not see it (the figures of the weighting kept, on every fold; both weightings' on
the folds compared are in the metadata). The
vocabulary and idf are taken from the whole training set (they use no label); the classifier
and the calibration only ever see the training folds' labels. The out-of-fold scores also set
the calibration: the softmax temperature that makes the probabilities honest (lowest log-loss
on texts the model had not seen).
"""

from __future__ import annotations

import hashlib
import math
import platform
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import numpy as np

from complaintkit.classification import Classification
from complaintkit.errors import ConfigError

from .features import FeatureSpec, batch_grams, language
from .model import NO_VOTE, TextModel

__all__ = ["Figures", "TrainingResult", "figures_of", "training_hash", "train_model"]

#: Regularisation of the linear classifier (chosen on the airline tweets' training part).
C = 0.3
#: Features kept at most (the most frequent), and in at least this many texts.
MAX_FEATURES = 200_000
MIN_DF = 2
#: Smoothing of the naive-Bayes log-count ratios the features are scaled by (:func:`_fit`).
NB_ALPHA = 0.25


@attrs.frozen
class Figures:
    """Accuracy, macro-F1 and recall per label of some predictions, overall and per language."""

    n: int
    accuracy: float
    macro_f1: float
    recall: Mapping[str, float]
    support: Mapping[str, int]
    by_language: Mapping[str, Figures] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the model file's metadata, ``--format json``)."""
        data: dict[str, Any] = {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "recall": {k: round(v, 4) for k, v in self.recall.items()},
            "support": dict(self.support),
        }
        if self.by_language:
            data["by_language"] = {k: v.to_dict() for k, v in self.by_language.items()}
        return data


def _scores(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> Figures:
    n = len(gold)
    pairs = Counter(zip(gold, predicted, strict=True))
    support = Counter(gold)
    made = Counter(predicted)
    recall: dict[str, float] = {}
    f1s = []
    for label in labels:
        if not support[label]:
            continue
        correct = pairs[label, label]
        recall[label] = correct / support[label]
        precision = correct / made[label] if made[label] else 0.0
        both = precision + recall[label]
        f1s.append(2 * precision * recall[label] / both if both else 0.0)
    accuracy = sum(pairs[label, label] for label in support) / n if n else 0.0
    return Figures(
        n=n,
        accuracy=accuracy,
        macro_f1=sum(f1s) / len(f1s) if f1s else 0.0,
        recall=recall,
        support={label: support[label] for label in labels if support[label]},
    )


def figures_of(
    texts: Sequence[str], gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> Figures:
    """The figures of ``predicted`` against ``gold``, with the same per language (zh, en:
    :func:`complaintkit_ml.features.language`) for every language the texts use."""
    overall = _scores(gold, predicted, labels)
    languages = [language(text) for text in texts]
    by_language = {}
    for lang in ("en", "zh"):
        chosen = [i for i, found in enumerate(languages) if found == lang]
        if chosen:
            by_language[lang] = _scores(
                [gold[i] for i in chosen], [predicted[i] for i in chosen], labels
            )
    return attrs.evolve(overall, by_language=by_language)


def training_hash(items: Sequence[tuple[str, str]]) -> str:
    """sha256 of the training set: every text and label, in the order they were read."""
    digest = hashlib.sha256()
    for text, label in items:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
        digest.update(label.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


@attrs.frozen
class TrainingResult:
    """A trained model, its cross-validated figures, and what training had to say."""

    model: TextModel
    figures: Figures
    folds: int
    seconds: float
    notes: tuple[str, ...] = ()
    #: ``(training examples, accuracy, macro-F1)`` cross-validated with each fold's training
    #: part cut to a share of itself (``learning_curve=True``): how accuracy grows with labels.
    curve: tuple[tuple[int, float, float], ...] = ()


#: The shares of each fold's training part the learning curve trains on.
CURVE_SHARES = (0.1, 0.25, 0.5, 0.75, 1.0)


@attrs.frozen
class _Grams:
    """The n-gram count matrix (CSR, characters' columns first) of some texts, and how to name
    a column: a character n-gram is cut from the joined folded texts where it first occurs, so
    only the n-grams kept need a string."""

    matrix: Any
    n_chars: int
    joined: str
    char_starts: Any
    char_lengths: Any
    words: list[str]

    def name(self, column: int) -> str:
        if column < self.n_chars:
            start = int(self.char_starts[column])
            return self.joined[start : start + int(self.char_lengths[column])]
        return self.words[column - self.n_chars]


def _matrix(texts: Sequence[str], spec: FeatureSpec) -> _Grams:
    """The n-gram counts of ``texts``, computed over all of them at once.

    Character n-grams are told apart by the 64-bit hash prediction looks them up by
    (:func:`~complaintkit_ml.features.batch_grams`; a column is a distinct hash), so training
    sees exactly the features prediction will; word n-grams are numbered in one pass over all
    the texts' words.
    """
    import scipy.sparse as sp

    n = len(texts)
    folded = [spec.prepared(text) for text in texts]
    hashes, docs, starts, lengths = batch_grams(folded, spec.char_min, spec.char_max)
    distinct, first, columns = np.unique(hashes, return_index=True, return_inverse=True)
    chars = sp.csr_matrix((np.ones(len(hashes)), (docs, columns.ravel())), shape=(n, len(distinct)))
    chars.sum_duplicates()
    vocabulary: dict[str, int] = {}
    number = vocabulary.setdefault
    word_columns: list[int] = []
    pointers = [0]
    for text in folded:
        grams = spec.word_stream(text)
        word_columns += [number(gram, len(vocabulary)) for gram in grams]
        pointers.append(len(word_columns))
    word_rows = np.repeat(np.arange(n), np.diff(pointers))
    words = sp.csr_matrix(
        (np.ones(len(word_columns)), (word_rows, np.array(word_columns, np.int64))),
        shape=(n, len(vocabulary)),
    )
    words.sum_duplicates()
    return _Grams(
        matrix=sp.hstack([chars, words], format="csr"),
        n_chars=len(distinct),
        joined="".join(folded),
        char_starts=starts[first],
        char_lengths=lengths[first],
        words=list(vocabulary),
    )


def _select(matrix: Any, n_chars: int, max_features: int) -> Any:
    """The columns to keep: in at least MIN_DF texts, the ``max_features`` most frequent."""
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    candidates = np.flatnonzero(df >= MIN_DF)
    if len(candidates) > max_features:
        order = np.argsort(-df[candidates], kind="stable")[:max_features]
        candidates = np.sort(candidates[order])
    return candidates, df


def _tfidf(counts: Any, idf: Any) -> Any:
    """Sublinear TF-IDF rows of unit length, as :class:`~complaintkit_ml.model.Predictor`."""
    matrix = counts.tocsr(copy=True)
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    scale = np.repeat(1.0 / norms, np.diff(matrix.indptr))
    matrix.data *= scale
    return matrix


def _vote_columns(
    votes: Sequence[Classification | None], rule_labels: Sequence[str], weight: float
) -> Any:
    import scipy.sparse as sp

    slots = {label: i for i, label in enumerate(rule_labels)}
    rows = np.arange(len(votes))
    cols = np.array([slots.get(v.label if v else NO_VOTE, slots[NO_VOTE]) for v in votes])
    data = np.array([(v.confidence if v else 1.0) * weight for v in votes])
    return sp.csr_matrix((data, (rows, cols)), shape=(len(votes), len(rule_labels)))


def _log_count_ratio(features: Any, chosen: Any) -> Any:
    """Each feature's naive-Bayes log-count ratio for the rows ``chosen`` against the others
    (Wang & Manning 2012): how much more of its weight falls in those rows, smoothed by
    :data:`NB_ALPHA`."""
    inside = np.asarray(features[chosen].sum(axis=0)).ravel() + NB_ALPHA
    outside = np.asarray(features[~chosen].sum(axis=0)).ravel() + NB_ALPHA
    return np.log(inside / inside.sum()) - np.log(outside / outside.sum())


#: How the features may be weighted before the linear SVM; training keeps the one whose
#: cross-validated accuracy is higher (:func:`_fit`).
WEIGHTINGS = ("nb", "plain")
#: Above this many examples the weightings are compared on :data:`COMPARE_FOLDS` of the folds
#: only, and the one kept is then fitted on the other folds alone: choosing costs two fits more
#: than one weighting would, not k (on 50,000 texts comparing on every fold cost 2.4× the CPU
#: of one weighting). Up to it, where fits are cheap, on every fold: two folds' accuracy is
#: too noisy a judge (on the 5,153 tweets it picked the plain SVM, 0.815 on the unseen fifth,
#: where every fold picks NB-SVM, 0.832).
COMPARE_ALL_UP_TO = 20_000
COMPARE_FOLDS = 2


def _fit(features: Any, targets: Any, n_classes: int, weighting: str) -> tuple[Any, Any]:
    """(coefficients features × classes, intercepts) of a linear SVM on ``features``.

    ``plain``: one-vs-rest linear SVM on the TF-IDF values. ``nb``: an NB-SVM (Wang & Manning
    2012): for each class against the rest, the features scaled by their naive-Bayes
    log-count ratio (:func:`_log_count_ratio`) before the SVM, the scaling then folded into
    the coefficients so that prediction multiplies the plain TF-IDF values by them. NB-SVM is
    the stronger on short texts (unseen airline tweets 0.815 → 0.832, 车质网 summaries 0.930 →
    0.938), the plain SVM on long narratives (CFPB 0.696 against 0.646), so training measures
    both. Classes are weighted by the inverse of their frequency, so a rare label is not
    drowned by a common one (on the 车质网 complaints, 91% product quality, this lifts
    macro-F1 from 0.31 to 0.52).
    """
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    def svm() -> Any:
        return LinearSVC(C=C, dual=True, max_iter=5000, random_state=0, class_weight="balanced")

    if weighting == "plain":
        classifier = svm().fit(features, targets)
        coef, intercept = classifier.coef_.T, classifier.intercept_
    else:
        columns, intercepts = [], []
        for label in [1] if n_classes == 2 else range(n_classes):
            chosen = targets == label
            ratio = _log_count_ratio(features, chosen)
            classifier = svm().fit(features @ sp.diags(ratio), chosen.astype(np.int8))
            columns.append(classifier.coef_.ravel() * ratio)
            intercepts.append(float(classifier.intercept_[0]))
        coef, intercept = np.column_stack(columns), np.array(intercepts)
    if n_classes == 2:  # one decision value d: scores (-d/2, d/2) make softmax the sigmoid of d
        coef = np.hstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef, intercept


def _fit_all(
    features: Any,
    targets: Any,
    n_classes: int,
    jobs: Sequence[tuple[Any, str]],
    done: Callable[[int], None] = lambda _number: None,
) -> list[tuple[Any, Any]]:
    """:func:`_fit` for each ``(rows, weighting)`` (rows ``None``: every row), on as many
    threads as there are cores: liblinear lets go of the GIL while it fits, so the folds fit
    side by side. ``done(k)`` is called as the k-th fit (counting from 1, in the order they
    finish) ends."""
    import os
    from concurrent.futures import ThreadPoolExecutor, as_completed

    def fit(job: tuple[Any, str]) -> tuple[Any, Any]:
        rows, weighting = job
        if rows is None:
            return _fit(features, targets, n_classes, weighting)
        return _fit(features[rows], targets[rows], n_classes, weighting)

    workers = max(1, min(len(jobs), len(os.sched_getaffinity(0)), 4))
    if workers == 1:
        results = []
        for number, job in enumerate(jobs, 1):
            results.append(fit(job))
            done(number)
        return results
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(fit, job): i for i, job in enumerate(jobs)}
        found: dict[int, tuple[Any, Any]] = {}
        for number, future in enumerate(as_completed(futures), 1):
            found[futures[future]] = future.result()
            done(number)
    return [found[i] for i in range(len(jobs))]


def _temperature(scores: Any, targets: Any) -> float:
    """The softmax temperature with the lowest log-loss on out-of-fold scores."""
    best, best_loss = 1.0, math.inf
    for temperature in np.exp(np.linspace(math.log(0.02), math.log(5.0), 80)):
        logits = scores / temperature
        logits = logits - logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        loss = float(np.mean(log_norm - logits[np.arange(len(targets)), targets]))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("complaintkit", "scikit-learn", "numpy", "scipy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def train_model(
    scheme: str,
    labels: Sequence[str],
    items: Sequence[tuple[str, str]],
    *,
    folds: int = 5,
    spec: FeatureSpec | None = None,
    max_features: int = MAX_FEATURES,
    rules: Callable[[str], Classification | None] | None = None,
    rule_labels: Sequence[str] = (),
    source: str = "",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    learning_curve: bool = False,
) -> TrainingResult:
    """Train a model for ``scheme`` (whose labels are ``labels``) on ``(text, label)`` pairs.

    :param folds: k of the k-fold cross-validation (at least 2; fewer when a label has fewer
        examples than that).
    :param rules: for a blend model, the rules' ``classify``; their vote on each text becomes
        features (one per label in ``rule_labels`` and one for no vote).
    :param source: where the training set came from, for the metadata.
    :param learning_curve: also cross-validate with each fold's training part cut to the
        shares of :data:`CURVE_SHARES` (stratified), for :attr:`TrainingResult.curve`.
    :raises ConfigError: a gold label that is not one of ``labels``, or fewer than two labels
        with at least two examples each.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    spec = spec or FeatureSpec()
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got {folds}")
    unknown = sorted({gold for _, gold in items} - set(labels))
    if unknown:
        raise ConfigError(
            f"labels that are not labels of {scheme!r}: {', '.join(unknown[:8])}; "
            f"its labels are {', '.join(labels)} (translate with --map GOLD=LABEL)"
        )
    counts = Counter(gold for _, gold in items)
    notes = []
    too_few = [label for label in labels if 0 < counts[label] < 2]
    if too_few:
        notes.append(
            f"left out (fewer than 2 examples): {', '.join(too_few)}; the model cannot give them"
        )
    classes = tuple(label for label in labels if counts[label] >= 2)
    if len(classes) < 2:
        raise ConfigError(
            f"training {scheme!r} needs at least two labels with two examples or more each; "
            f"found {', '.join(f'{k} {v}' for k, v in counts.items()) or 'no examples'}"
        )
    kept = [(text, gold) for text, gold in items if gold in classes]
    smallest = min(counts[label] for label in classes)
    if smallest < folds:
        notes.append(
            f"{smallest} examples of the rarest label: {smallest} folds instead of {folds}"
        )
        folds = smallest
    texts = [text for text, _ in kept]
    targets = np.array([classes.index(gold) for _, gold in kept])

    say(f"reading the n-grams of {len(texts)} texts")
    grams = _matrix(texts, spec)
    keep, df = _select(grams.matrix, grams.n_chars, max_features)
    counts_matrix = grams.matrix[:, keep]
    n = len(texts)
    idf = np.log((1.0 + n) / (1.0 + df[keep])) + 1.0
    features = _tfidf(counts_matrix, idf)
    n_chars = int(np.searchsorted(keep, grams.n_chars))
    char_vocabulary = tuple(map(grams.name, keep[:n_chars].tolist()))
    word_vocabulary = tuple(map(grams.name, keep[n_chars:].tolist()))
    del grams
    rule_columns: tuple[str, ...] = ()
    if rules is not None:
        import scipy.sparse as sp

        rule_columns = (*rule_labels, NO_VOTE)
        say("asking the rules for their votes")
        votes = [rules(text) for text in texts]
        features = sp.hstack([features, _vote_columns(votes, rule_columns, 1.0)], format="csr")

    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(texts, targets))
    compare = folds if n <= COMPARE_ALL_UP_TO else min(folds, COMPARE_FOLDS)
    say(
        f"{folds}-fold cross-validation; the weightings ({', '.join(WEIGHTINGS)}) compared "
        f"on {compare} of the folds"
    )
    total = len(WEIGHTINGS) * compare + (folds - compare) + 1
    done = 0

    def fitted_one(number: int) -> None:
        say(f"fit {done + number} of {total}")

    first = _fit_all(
        features,
        targets,
        len(classes),
        [(train_rows, weighting) for weighting in WEIGHTINGS for train_rows, _ in splits[:compare]],
        fitted_one,
    )
    done = len(first)
    gold = [gold for _, gold in kept]
    compared_rows = np.concatenate([test_rows for _, test_rows in splits[:compare]])
    measured = []
    for number, weighting in enumerate(WEIGHTINGS):
        fits = first[number * compare : (number + 1) * compare]
        scores = np.zeros((n, len(classes)))
        for (coef, intercept), (_, test_rows) in zip(fits, splits[:compare], strict=True):
            scores[test_rows] = features[test_rows] @ coef + intercept
        guessed = [classes[i] for i in scores[compared_rows].argmax(axis=1)]
        part = _scores([gold[i] for i in compared_rows], guessed, classes)
        measured.append(((part.accuracy, part.macro_f1), weighting, fits))
    # the better weighting by accuracy, then macro-F1; the first listed on a tie
    _, weighting, fits = max(measured, key=lambda found: found[0])
    fits = list(fits) + _fit_all(
        features,
        targets,
        len(classes),
        [(train_rows, weighting) for train_rows, _ in splits[compare:]],
        fitted_one,
    )
    out_of_fold = np.zeros((n, len(classes)))
    for (coef, intercept), (_, test_rows) in zip(fits, splits, strict=True):
        out_of_fold[test_rows] = features[test_rows] @ coef + intercept
    predicted = [classes[i] for i in out_of_fold.argmax(axis=1)]
    say(f"weighting {weighting}; the fit on every example")
    coef, intercept = _fit_all(features, targets, len(classes), [(None, weighting)])[0]
    say(f"fit {total} of {total}")
    temperature = _temperature(out_of_fold, targets)
    figures = figures_of(texts, gold, predicted, classes)
    curve: list[tuple[int, float, float]] = []
    if learning_curve:
        say("learning curve")
        rng = np.random.default_rng(seed)
        for share in CURVE_SHARES:
            scores = np.zeros((n, len(classes)))
            chosen = [
                _stratified_share(train_rows, targets, share, rng) for train_rows, _ in splits
            ]
            sizes = [len(rows) for rows in chosen]
            usable = [i for i, rows in enumerate(chosen) if len(set(targets[rows].tolist())) >= 2]
            curve_fits = _fit_all(
                features, targets, len(classes), [(chosen[i], weighting) for i in usable]
            )
            for i, (curve_coef, curve_intercept) in zip(usable, curve_fits, strict=True):
                test_rows = splits[i][1]
                scores[test_rows] = features[test_rows] @ curve_coef + curve_intercept
            guessed = [classes[i] for i in scores.argmax(axis=1)]
            part = _scores(gold, guessed, classes)
            curve.append((round(sum(sizes) / len(sizes)), part.accuracy, part.macro_f1))

    seconds = time.perf_counter() - started
    model = TextModel(
        scheme=scheme,
        labels=tuple(labels),
        classes=classes,
        spec=spec,
        char_vocabulary=char_vocabulary,
        word_vocabulary=word_vocabulary,
        idf=idf,
        coef=coef,
        intercept=intercept,
        temperature=temperature,
        rule_labels=rule_columns,
        rule_weight=1.0,
        metadata={
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_set": {
                "size": len(kept),
                "sha256": training_hash(kept),
                "source": source,
                "label_counts": {label: counts[label] for label in classes},
            },
            "method": (
                ("NB-SVM" if weighting == "nb" else "linear SVM")
                + f" (C={C}, balanced class weights) on sublinear TF-IDF of character "
                f"{spec.char_min}-{spec.char_max}-grams and word {spec.word_min}-"
                f"{spec.word_max}-grams"
                + (", with the rules' votes" if rules else "")
                + f"; softmax temperature {temperature:.3g} from the cross-validated scores"
            ),
            "cross_validation": {
                "folds": folds,
                **figures.to_dict(),
                "weighting": weighting,
                "by_weighting": {
                    name: {"accuracy": round(found[0], 4), "macro_f1": round(found[1], 4)}
                    for found, name, _ in measured
                },
                "weightings_compared_on_folds": compare,
            },
            "seconds": round(seconds, 1),
            "versions": _versions(),
        },
    )
    return TrainingResult(model, figures, folds, seconds, tuple(notes), tuple(curve))


def _stratified_share(rows: Any, targets: Any, share: float, rng: Any) -> Any:
    """``share`` of ``rows``, the same share of each label (at least one example of each)."""
    if share >= 1.0:
        return rows
    chosen = []
    for label in np.unique(targets[rows]):
        of_label = rows[targets[rows] == label]
        count = max(1, round(len(of_label) * share))
        chosen.append(rng.choice(of_label, size=count, replace=False))
    return np.sort(np.concatenate(chosen))
