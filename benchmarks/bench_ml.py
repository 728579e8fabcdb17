"""The model schemes' speed against the rules, measured in the same run, and training time.

1. **Classifying N complaints** (default 100,000, cycled from the real texts of
   ../shared/datasets: airline tweets, 车质网 summaries, CFPB narratives): the four rule schemes
   in their single shared pass (``SchemeSet``) against the same set with ``cause`` replaced by
   the trained model in each mode (``model``, ``fallback``, ``blend``), one text at a time
   (as the desk classifies one new complaint) and 256 at a time (``SchemeSet.classify_many``,
   as the desk classifies on import and ``classify --all``); and the ``cause``
   model alone. CPU time of this process, best of --repeat. Target (issue 15): the model
   within 3x the rules' pass.
2. **Training** on 50,000 complaints (the first 50,000 of chinese_reviews.csv with their
   category as the label) and on every CFPB narrative with its product as the label: the wall
   time of ``train_model`` with 5-fold cross-validation and the final fit, as ``complaintkit
   train`` does it. Target: under a minute on 2 cores.

Nothing here ships: the tweets and reviews are for testing only (see each SOURCE.md).

    python benchmarks/bench_ml.py --n 100000
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from complaintkit import SchemeSet, make_host
from complaintkit.classification import ClassificationScheme
from complaintkit_ml.model import Predictor, load_model
from complaintkit_ml.scheme import ModelScheme
from complaintkit_ml.settings import MlSettings
from complaintkit_ml.training import train_model

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("COMPLAINTKIT_DATASETS", REPO.parent / "shared" / "datasets"))
PRESET_FILES = {
    "airline": "twitter_airline_sentiment/tweets.csv",
    "chezhiwang": "chezhiwang_car_complaints/car_complaints.csv",
    "cfpb": "cfpb_complaints/cfpb_complaints.csv",
    "asap": "chinese_reviews/asap_sample_aspects.csv",
}


def rows(name: str, text: str, label: str, limit: int | None = None) -> list[tuple[str, str]]:
    csv.field_size_limit(1 << 24)
    found = []
    with (DATASETS / name).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get(text, "").strip() and row.get(label, "").strip():
                found.append((row[text].strip(), row[label].strip()))
                if limit and len(found) >= limit:
                    break
    return found


#: Wall seconds of the best run of each :func:`timed` and :func:`timed_batches`, in order.
WALL: list[float] = []


def timed(classify: Callable[[str], object], texts: Sequence[str], repeat: int) -> float:
    """The best of ``repeat`` runs over ``texts``, one text at a time: CPU seconds of this
    process (the machine's cores are shared, so wall time says more about the neighbours);
    that run's wall seconds go to :data:`WALL`."""
    return _best(lambda: [classify(text) for text in texts], repeat)


def _best(run: Callable[[], object], repeat: int) -> float:
    best, wall = float("inf"), 0.0
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        cpu = time.process_time() - cpu
        if cpu < best:
            best, wall = cpu, time.perf_counter() - started
    WALL.append(wall)
    return best


def timed_batches(
    classify_many: Callable[[Sequence[str]], object], texts: Sequence[str], repeat: int
) -> float:
    """As :func:`timed`, giving the texts ``BATCH`` at a time."""
    return _best(
        lambda: [classify_many(texts[s : s + BATCH]) for s in range(0, len(texts), BATCH)],
        repeat,
    )


def wall(which: int = -1) -> str:
    """The wall seconds of a timing (:data:`WALL`), to print beside its CPU seconds."""
    return f"   (wall {WALL[which]:.2f} s)"


#: What the desk gives a batch-capable scheme at a time on import and ``classify --all``.
BATCH = 256


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="complaints to classify")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the best counts")
    parser.add_argument("--train-n", type=int, default=50_000, help="complaints to train on")
    parser.add_argument(
        "--models",
        type=Path,
        help="folder of the cause model files (model.json, blend.json): read if there, "
        "else trained and written there (to compare two checkouts with the same models)",
    )
    parser.add_argument("--no-training", action="store_true", help="leave out part 2")
    parser.add_argument(
        "--batches-only",
        action="store_true",
        help="leave out one text at a time and the corpora one by one (a quicker before/after)",
    )
    args = parser.parse_args()
    if not DATASETS.is_dir():
        print(f"no data sets at {DATASETS}", file=sys.stderr)
        return 2

    host = make_host()
    datasets = host.labelled_datasets()
    rules: dict[str, ClassificationScheme] = dict(host.schemes())
    cause = rules["cause"]
    labels = [label.name for label in cause.labels]
    labelled: list[tuple[str, str]] = []
    corpora: dict[str, list[str]] = {}
    for preset, path in PRESET_FILES.items():
        found = list(datasets[preset].read(str(DATASETS / path)))
        labelled += found
        corpora[preset] = [text for text, _ in found]
    print(
        f"cause model: learning from {len(labelled)} labelled complaints "
        f"({', '.join(f'{k} {len(v)}' for k, v in corpora.items())})"
    )
    models = {}
    for blend in (False, True):
        kept = args.models / ("blend.json" if blend else "model.json") if args.models else None
        if kept is not None and kept.exists():
            models[blend] = load_model(kept, "cause", labels)
            print(f"  {'blend' if blend else 'model'}: read from {kept}")
            continue
        started = time.perf_counter()
        result = train_model(
            "cause",
            labels,
            labelled,
            rules=cause.classify if blend else None,
            rule_labels=labels if blend else (),
        )
        models[blend] = result.model
        if kept is not None:
            result.model.save(kept)
        f = result.figures
        print(
            f"  {'blend' if blend else 'model'}: trained in {time.perf_counter() - started:.1f} s; "
            f"{result.folds}-fold CV accuracy {f.accuracy:.3f}, macro-F1 {f.macro_f1:.3f}"
            + "".join(f"; {lang} {x.accuracy:.3f} (n={x.n})" for lang, x in f.by_language.items())
        )

    folder = Path(tempfile.mkdtemp(prefix="bench_ml_"))
    variants: dict[str, ModelScheme] = {}
    for mode in ("model", "fallback", "blend"):
        path = models[mode == "blend"].save(folder / f"{mode}.json")
        variants[mode] = ModelScheme(cause, MlSettings("cause", mode, path, 0.5, "bench"))
        variants[mode].predictor()  # read the file now, not inside the timing

    mixed = [text for group in itertools.zip_longest(*corpora.values()) for text in group if text]
    texts = list(itertools.islice(itertools.cycle(mixed), args.n))
    print(
        f"\nclassifying {len(texts)} complaints (cycled from {len(mixed)} real texts, "
        f"mean {sum(map(len, mixed)) / len(mixed):.0f} characters), best of {args.repeat}:"
    )
    baseline = timed(SchemeSet(list(rules.values())).classify, texts, args.repeat)
    print(f"  4 rule schemes, one shared pass           {baseline:7.2f} s   1.00x{wall()}")
    for mode, scheme in variants.items():
        together = SchemeSet([scheme if s.name == "cause" else s for s in rules.values()])
        if not args.batches_only:
            seconds = timed(together.classify, texts, args.repeat)
            print(
                f"  3 rules + cause {mode:<9} one by one     {seconds:7.2f} s   "
                f"{seconds / baseline:.2f}x{wall()}"
            )
        seconds = timed_batches(together.classify_many, texts, args.repeat)
        print(
            f"  3 rules + cause {mode:<9} {BATCH} at a time  {seconds:7.2f} s   "
            f"{seconds / baseline:.2f}x{wall()}"
        )
    alone = timed(cause.classify, texts, args.repeat)
    predictor = Predictor(models[False])
    model_alone = timed_batches(predictor.classify_many, texts, args.repeat)
    print(f"  cause rules alone                         {alone:7.2f} s{wall(-2)}")
    print(
        f"  cause model alone, {BATCH} at a time         {model_alone:7.2f} s   "
        f"{model_alone / baseline:.2f}x the rules' pass{wall()}"
    )
    for name, corpus in () if args.batches_only else corpora.items():
        sample = list(itertools.islice(itertools.cycle(corpus), min(args.n, 20_000)))
        r = timed(SchemeSet(list(rules.values())).classify, sample, args.repeat)
        m = timed_batches(predictor.classify_many, sample, args.repeat)
        print(
            f"    {name:<11} {len(sample)} texts: rules' pass {r:6.2f} s, model {m:6.2f} s "
            f"({m / r:.2f}x)"
        )

    print(f"load average while measuring: {os.getloadavg()[0]:.1f}")
    if args.no_training:
        return 0
    print("\ntraining time (5-fold cross-validation and the final fit):")
    for title, data in (
        (
            f"chinese_reviews (zh), first {args.train_n}, label = category",
            rows("chinese_reviews/chinese_reviews.csv", "review", "cat", args.train_n),
        ),
        (
            "cfpb narratives (en), label = product",
            rows("cfpb_complaints/cfpb_complaints.csv", "consumer_complaint_narrative", "product"),
        ),
    ):
        names = sorted({label for _, label in data})
        started, cpu = time.perf_counter(), time.process_time()
        result = train_model("bench", names, data)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"  {title}: n={len(data)}, {len(names)} labels, {seconds:.1f} s wall, "
            f"{cpu:.1f} s CPU, CV accuracy {result.figures.accuracy:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
