"""The model on real labelled data it has not seen, against the rules and the majority label.

Split (stated, fixed): a row is *unseen* when ``int(sha1(text stripped and lower-cased)[:8],
16) % 5 == 0`` (about 20%; :func:`complaintkit.commands.in_split`, what ``--split`` of
``train`` and ``evaluate`` applies); the model learns from the other rows only, and is scored
on the unseen ones. The ASAP preset is left out: its 57 labelled rows leave 9 unseen, too few
to tell anything apart (docs/ml.md gives its cross-validated figures instead).
"""

from __future__ import annotations

from collections import Counter

import pytest

from complaintkit import make_host
from complaintkit.commands import in_split
from complaintkit_ml.model import Predictor
from complaintkit_ml.training import train_model
from conftest import require_dataset

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("preset", "model_floor"),
    [
        # measured on the 1,260 unseen tweets (complaintkit train, 5 folds, NB-SVM kept): model
        # 0.832, blend 0.827 (rules 0.458, majority 0.506); the target of 0.85 is not
        # reached (see docs/ml.md). 车质网, 355 unseen (plain SVM kept): model 0.930, blend
        # 0.938 (rules 0.859, majority 0.915). CFPB narratives, 240 unseen (plain SVM kept):
        # model 0.696, blend 0.658 (rules 0.358, majority 0.446)
        ("airline", 0.80),
        ("chezhiwang", 0.90),
        ("cfpb", 0.65),
    ],
)
def test_model_and_blend_beat_rules_and_majority_on_unseen_rows(
    preset: str, model_floor: float
) -> None:
    host = make_host()
    dataset = host.labelled_datasets()[preset]
    from complaintkit_schemes.evaluation import DATASET_PRESETS  # where the file lives

    path = require_dataset(DATASET_PRESETS[preset].path)
    rows = list(dataset.read(str(path)))
    train = [row for row in rows if in_split(row[0], "train")]
    test = [row for row in rows if in_split(row[0], "test")]
    rules = host.scheme(dataset.scheme)
    labels = [label.name for label in rules.labels]

    def accuracy(answers: list[str | None]) -> float:
        return sum(a == gold for a, (_, gold) in zip(answers, test, strict=True)) / len(test)

    votes = [rules.classify(text) for text, _ in test]
    rules_accuracy = accuracy([v.label if v else None for v in votes])
    majority = Counter(gold for _, gold in test).most_common(1)[0][1] / len(test)

    plain = Predictor(train_model(dataset.scheme, labels, train, folds=2).model)
    model_accuracy = accuracy([plain.classify(text).label for text, _ in test])
    blended = Predictor(
        train_model(
            dataset.scheme, labels, train, folds=2, rules=rules.classify, rule_labels=labels
        ).model
    )
    blend_accuracy = accuracy(
        [blended.classify(text, vote).label for (text, _), vote in zip(test, votes, strict=True)]
    )
    print(
        f"{preset}: {len(train)} learnt, {len(test)} unseen; rules {rules_accuracy:.3f}, "
        f"majority {majority:.3f}, model {model_accuracy:.3f}, blend {blend_accuracy:.3f}"
    )
    assert model_accuracy >= model_floor
    # the bar: the model or the blend above the rules and the majority label
    assert max(model_accuracy, blend_accuracy) > max(rules_accuracy, majority)
