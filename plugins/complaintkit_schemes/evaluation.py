"""Scoring a classification scheme against a file of complaints with known labels.

Three pieces:

* :func:`read_labelled` streams ``(text, gold label)`` pairs out of a CSV, TSV, JSON Lines or
  JSON file, translating the file's own label values through a mapping; rows without text or
  whose label maps to nothing are skipped and counted (:class:`LabelledRows`).
* :func:`evaluate` classifies every text with a scheme and compares: accuracy, coverage,
  per-label precision / recall / F1 / support, macro-F1, the majority-class baseline and the
  confusion matrix (gold × predicted, with a ``(none)`` column for abstentions).
* :data:`DATASET_PRESETS` describes the layouts of the real labelled data sets the project tests
  against (which column is the text, how the gold label is derived, how it maps onto a scheme's
  labels), so ``complaintkit evaluate --preset airline FILE`` needs nothing else::

      preset = DATASET_PRESETS["airline"]
      rows = preset.read(path)
      result = evaluate(host.scheme(preset.scheme), rows)
      print(result.render())

The mappings in the presets are judgements (documented in each data set's SOURCE.md and on the
preset), not part of the data.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from complaintkit.classification import ClassificationScheme
from complaintkit.errors import ConfigError
from complaintkit.i18n import text_language

__all__ = [
    "DATASET_PRESETS",
    "NONE",
    "DatasetPreset",
    "EvaluationResult",
    "LabelScore",
    "LabelledRows",
    "evaluate",
    "language_of",
    "read_labelled",
]

#: The predicted-label column of the confusion matrix for texts the scheme abstained on.
NONE = "(none)"
#: A gold label taken from a row: a column name, or a function of the whole row.
LabelSource = str | Callable[[Mapping[str, str]], str | None]


# --- scoring ---------------------------------------------------------------------------------


@attrs.frozen
class LabelScore:
    """How one label fared: precision, recall, F1 (0 when undefined), gold and predicted counts."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    correct: int


@attrs.frozen
class EvaluationResult:
    """The outcome of :func:`evaluate`.

    ``labels`` lists the scheme's labels in its order, then any gold or predicted label the scheme
    does not declare. ``confusion[gold][predicted]`` counts texts; its columns are ``labels`` plus
    :data:`NONE`. An abstention counts as a wrong answer for accuracy and recall. ``skipped`` is
    the number of rows :func:`read_labelled` left out (no text, or no gold label).
    """

    scheme: str
    n: int
    correct: int
    abstained: int
    labels: tuple[str, ...]
    per_label: Mapping[str, LabelScore]
    confusion: Mapping[str, Mapping[str, int]]
    skipped: int = 0
    unknown_gold: tuple[str, ...] = ()
    #: The same figures for the texts of each language (``zh``, ``en``), see :func:`language_of`.
    by_language: Mapping[str, EvaluationResult] = attrs.field(factory=dict)

    @property
    def accuracy(self) -> float:
        """Share of texts whose predicted label is the gold one (0 for an empty evaluation)."""
        return self.correct / self.n if self.n else 0.0

    @property
    def coverage(self) -> float:
        """Share of texts the scheme gave a label to (did not abstain on)."""
        return (self.n - self.abstained) / self.n if self.n else 0.0

    @property
    def abstention_rate(self) -> float:
        """Share of texts the scheme left without a label (1 - coverage)."""
        return self.abstained / self.n if self.n else 0.0

    @property
    def covered_accuracy(self) -> float:
        """Accuracy on the texts the scheme did label."""
        covered = self.n - self.abstained
        return self.correct / covered if covered else 0.0

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the labels that occur in the gold data (support > 0)."""
        scores = [s.f1 for s in self.per_label.values() if s.support > 0]
        return sum(scores) / len(scores) if scores else 0.0

    @property
    def majority_label(self) -> str | None:
        """The most frequent gold label (first in ``labels`` order on a tie), or None."""
        best: str | None = None
        for label in self.labels:
            support = self.per_label[label].support
            if support and (best is None or support > self.per_label[best].support):
                best = label
        return best

    @property
    def majority_baseline(self) -> float:
        """Accuracy of always answering :attr:`majority_label`."""
        label = self.majority_label
        return self.per_label[label].support / self.n if label is not None and self.n else 0.0

    @property
    def majority_macro_f1(self) -> float:
        """Macro-F1 of always answering :attr:`majority_label` (the baseline for macro-F1)."""
        gold = [s for s in self.per_label.values() if s.support > 0]
        if not gold or not self.n:
            return 0.0
        share = self.majority_baseline
        return (2 * share / (1 + share)) / len(gold)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON output): every figure, per-label scores and the confusion matrix."""
        return {
            "scheme": self.scheme,
            "n": self.n,
            "skipped": self.skipped,
            "correct": self.correct,
            "abstained": self.abstained,
            "accuracy": self.accuracy,
            "coverage": self.coverage,
            "abstention_rate": self.abstention_rate,
            "covered_accuracy": self.covered_accuracy,
            "macro_f1": self.macro_f1,
            "majority_label": self.majority_label,
            "majority_baseline": self.majority_baseline,
            "majority_macro_f1": self.majority_macro_f1,
            "labels": list(self.labels),
            "unknown_gold": list(self.unknown_gold),
            "per_label": {
                label: attrs.asdict(score, filter=lambda a, _: a.name != "label")
                for label, score in self.per_label.items()
            },
            "confusion": {gold: dict(row) for gold, row in self.confusion.items()},
            "by_language": {
                lang: {
                    key: value
                    for key, value in result.to_dict().items()
                    if key not in ("labels", "unknown_gold", "confusion", "by_language")
                }
                for lang, result in self.by_language.items()
            },
        }

    def render(self) -> str:
        """A plain-text report: the headline figures, a per-label table and the confusion matrix."""
        majority = f" ({self.majority_label})" if self.majority_label else ""
        lines = [
            f"scheme {self.scheme}: n={self.n} (skipped {self.skipped}), "
            f"coverage {self.coverage:.3f}",
            f"accuracy {self.accuracy:.3f} (on labelled texts {self.covered_accuracy:.3f}); "
            f"majority baseline {self.majority_baseline:.3f}{majority}",
            f"abstained {self.abstained} ({self.abstention_rate:.3f})",
            f"macro-F1 {self.macro_f1:.3f}; majority baseline {self.majority_macro_f1:.3f}",
            "",
        ]
        if len(self.by_language) > 1 or (
            self.by_language and next(iter(self.by_language.values())).n != self.n
        ):
            lines.append("language      n  accuracy  abstained  macro-F1  majority baseline")
            for lang, part in sorted(self.by_language.items()):
                lines.append(
                    f"{lang:<8}  {part.n:5d}  {part.accuracy:8.3f}  {part.abstention_rate:9.3f}"
                    f"  {part.macro_f1:8.3f}  {part.majority_baseline:17.3f}"
                )
            lines.append("")
        width = max([len(label) for label in self.labels] + [len(NONE), 5])
        lines.append(f"{'label':<{width}}  precision  recall     F1  support  predicted")
        for label in self.labels:
            s = self.per_label[label]
            lines.append(
                f"{label:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}"
                f"  {s.support:7d}  {s.predicted:9d}"
            )
        columns = [*self.labels, NONE]
        lines += ["", "confusion (rows: gold, columns: predicted)"]
        col_width = max(len(c) for c in columns)
        lines.append(" " * width + "  " + "  ".join(f"{c:>{col_width}}" for c in columns))
        for gold in self.labels:
            if self.per_label[gold].support == 0:
                continue
            row = self.confusion.get(gold, {})
            cells = "  ".join(f"{row.get(c, 0):>{col_width}d}" for c in columns)
            lines.append(f"{gold:<{width}}  {cells}")
        return "\n".join(lines)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def language_of(text: str) -> str:
    """``zh`` or ``en``: which language's figures a text counts in
    (:func:`complaintkit.text_language`, the rule ``train`` uses too)."""
    return text_language(text)


def evaluate(scheme: ClassificationScheme, items: Iterable[tuple[str, str]]) -> EvaluationResult:
    """Classify every ``(text, gold)`` pair with ``scheme`` and score the answers.

    ``items`` is any iterable of pairs, typically :func:`read_labelled`'s rows (whose skip count
    is then carried into the result). Nothing is stored or changed; the only calls made are
    ``scheme.classify(text)``. A gold label the scheme does not declare is kept (it can only be
    missed) and listed in :attr:`EvaluationResult.unknown_gold`, which usually means a mapping
    names a label wrongly. The figures are also given per language
    (:attr:`EvaluationResult.by_language`).
    """
    declared = [label.name for label in scheme.labels]
    cells: Counter[tuple[str, str]] = Counter()
    per_language: dict[str, Counter[tuple[str, str]]] = {}
    for text, gold in items:
        result = scheme.classify(text)
        cell = (gold, result.label if result is not None else NONE)
        cells[cell] += 1
        per_language.setdefault(language_of(text), Counter())[cell] += 1
    skipped = items.skipped if isinstance(items, LabelledRows) else 0
    return attrs.evolve(
        _scored(scheme.name, declared, cells, skipped),
        by_language={
            lang: _scored(scheme.name, declared, part, 0)
            for lang, part in sorted(per_language.items())
        },
    )


def _scored(
    scheme: str, declared: Sequence[str], cells: Counter[tuple[str, str]], skipped: int
) -> EvaluationResult:
    """The figures of a confusion count ``cells[gold, predicted]``."""
    golds = {gold for gold, _ in cells}
    predicted = {pred for _, pred in cells if pred != NONE}
    extra = sorted((golds | predicted) - set(declared))
    labels = (*declared, *extra)
    confusion: dict[str, dict[str, int]] = {}
    for (gold, pred), count in cells.items():
        confusion.setdefault(gold, {})[pred] = count
    per_label: dict[str, LabelScore] = {}
    for label in labels:
        support = sum(confusion.get(label, {}).values())
        predicted_count = sum(count for (_, pred), count in cells.items() if pred == label)
        correct = cells.get((label, label), 0)
        precision = _ratio(correct, predicted_count)
        recall = _ratio(correct, support)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = LabelScore(
            label, precision, recall, f1, support, predicted_count, correct
        )
    return EvaluationResult(
        scheme=scheme,
        n=sum(cells.values()),
        correct=sum(score.correct for score in per_label.values()),
        abstained=sum(count for (_, pred), count in cells.items() if pred == NONE),
        labels=labels,
        per_label=per_label,
        confusion=confusion,
        skipped=skipped,
        unknown_gold=tuple(sorted(golds - set(declared))),
    )


# --- reading labelled files ------------------------------------------------------------------

_FORMATS = ("csv", "tsv", "jsonl", "json")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
_FIELD_LIMIT = 1 << 24


def _detect_format(path: Path, head: str) -> str:
    suffix = path.suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    text = head.lstrip("\ufeff \t\r\n")
    if text.startswith("["):
        return "json"
    if text.startswith("{"):
        return "jsonl"
    return "tsv" if "\t" in text.split("\n", 1)[0] else "csv"


def _delimiter(header_line: str) -> str:
    """The delimiter a CSV header uses: the most frequent of , ; tab and |."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


class LabelledRows(Iterator[tuple[str, str]]):
    """The ``(text, gold)`` pairs of a labelled file, read lazily, with what was skipped.

    The counters fill in as the rows are read: ``read`` rows in all, ``skipped_no_text`` (every
    text column empty), ``skipped_no_label`` (the gold value is empty or maps to nothing), and
    ``unmapped`` — how often each such gold value occurred (``""`` for an empty one).
    """

    def __init__(
        self,
        path: Path,
        text_columns: tuple[str, ...],
        label: LabelSource,
        mapping: Mapping[str, str] | None,
        fmt: str,
        delimiter: str | None,
        encoding: str,
    ) -> None:
        self.path = path
        self.text_columns = text_columns
        self.label = label
        self.mapping = mapping
        self.format = fmt
        self.delimiter = delimiter
        self.encoding = encoding
        self.read = 0
        self.skipped_no_text = 0
        self.skipped_no_label = 0
        self.unmapped: Counter[str] = Counter()
        self._rows = self._generate()

    @property
    def skipped(self) -> int:
        """Rows left out so far, for either reason."""
        return self.skipped_no_text + self.skipped_no_label

    def __iter__(self) -> LabelledRows:
        return self

    def __next__(self) -> tuple[str, str]:
        return next(self._rows)

    def _check_columns(self, columns: Sequence[str], where: str) -> None:
        needed = list(self.text_columns)
        if isinstance(self.label, str):
            needed.append(self.label)
        missing = [c for c in needed if c not in columns]
        if missing:
            raise ConfigError(
                f"{where}: no column(s) {', '.join(map(repr, missing))}; "
                f"the file has: {', '.join(columns)}"
            )

    def _pair(self, row: Mapping[str, str]) -> tuple[str, str] | None:
        self.read += 1
        parts = [row.get(c, "").strip() for c in self.text_columns]
        text = "\n".join(p for p in parts if p)
        if not text:
            self.skipped_no_text += 1
            return None
        raw = row.get(self.label, "") if isinstance(self.label, str) else self.label(row)
        raw = (raw or "").strip()
        gold = raw if self.mapping is None else self.mapping.get(raw, "")
        if not gold:
            self.skipped_no_label += 1
            self.unmapped[raw] += 1
            return None
        return text, gold

    def _generate(self) -> Iterator[tuple[str, str]]:
        if self.format in ("csv", "tsv"):
            records = self._csv_records()
        elif self.format == "jsonl":
            records = self._jsonl_records()
        else:
            records = self._json_records()
        for row in records:
            pair = self._pair(row)
            if pair is not None:
                yield pair

    def _csv_records(self) -> Iterator[Mapping[str, str]]:
        if csv.field_size_limit() < _FIELD_LIMIT:
            # Long complaint narratives exceed csv's default 128 KiB per field.
            csv.field_size_limit(_FIELD_LIMIT)
        with self.path.open(encoding=self.encoding, newline="") as handle:
            delimiter = self.delimiter
            if delimiter is None:
                first = handle.readline()
                handle.seek(0)
                delimiter = "\t" if self.format == "tsv" else _delimiter(first)
            reader = csv.DictReader(handle, delimiter=delimiter)
            columns = [c.strip() for c in reader.fieldnames or []]
            reader.fieldnames = columns
            self._check_columns(columns, str(self.path))
            for record in reader:
                yield {k: v or "" for k, v in record.items() if isinstance(k, str)}

    def _jsonl_records(self) -> Iterator[Mapping[str, str]]:
        checked = False
        with self.path.open(encoding=self.encoding) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{self.path}, line {number}: not JSON ({exc})") from None
                if not isinstance(value, dict):
                    raise ConfigError(f"{self.path}, line {number}: not a JSON object")
                if not checked:
                    self._check_columns(list(value), f"{self.path}, line {number}")
                    checked = True
                yield {str(k): _cell(v) for k, v in value.items()}

    def _json_records(self) -> Iterator[Mapping[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding=self.encoding))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self.path}: not JSON ({exc})") from None
        if not isinstance(data, list) or not all(isinstance(v, dict) for v in data):
            raise ConfigError(f"{self.path}: a JSON file must hold an array of objects")
        if data:
            self._check_columns(list(data[0]), str(self.path))
        for value in data:
            yield {str(k): _cell(v) for k, v in value.items()}


def read_labelled(
    path: str | Path,
    text_column: str | Sequence[str],
    label_column: LabelSource,
    mapping: Mapping[str, str] | None = None,
    *,
    format: str = "auto",
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
) -> LabelledRows:
    """Stream ``(text, gold)`` pairs from a labelled CSV, TSV, JSON Lines or JSON file.

    :param text_column: the column holding the text, or several, joined by a newline (empty ones
        left out) — e.g. ``("title", "text")``.
    :param label_column: the column holding the gold value, or a function deriving it from the
        row (a dict of column → string).
    :param mapping: translates gold values (after stripping spaces) to the scheme's labels; a
        value it does not list, or maps to ``""``, is skipped and counted. Without a mapping the
        value is the label, and only empty values are skipped.
    :param format: ``auto`` (from the extension: .csv .tsv .jsonl .ndjson .json; otherwise
        sniffed), ``csv``, ``tsv``, ``jsonl`` or ``json``.
    :param delimiter: the CSV delimiter; by default the most frequent of , ; tab | in the header.
    :param encoding: the file's encoding (``utf-8-sig`` reads UTF-8 with or without a BOM).
    :returns: a lazy :class:`LabelledRows`; its counters are final once it is exhausted.
    :raises ConfigError: the file is missing or unreadable, the format is unknown, or a named
        column does not exist (raised now for a missing file, on the first row otherwise).
    """
    file = Path(path)
    columns = (text_column,) if isinstance(text_column, str) else tuple(text_column)
    if not columns:
        raise ConfigError("read_labelled needs at least one text column")
    if format not in ("auto", *_FORMATS):
        raise ConfigError(f"unknown format {format!r}; use auto, {', '.join(_FORMATS)}")
    try:
        with file.open(encoding=encoding, errors="replace") as handle:
            head = handle.read(4096)
    except FileNotFoundError:
        raise ConfigError(f"labelled file {file} does not exist") from None
    except (OSError, LookupError) as exc:
        raise ConfigError(f"labelled file {file} cannot be read: {exc}") from None
    fmt = _detect_format(file, head) if format == "auto" else format
    return LabelledRows(file, columns, label_column, mapping, fmt, delimiter, encoding)


# --- presets for the real data sets ----------------------------------------------------------


@attrs.frozen
class DatasetPreset:
    """Where a real labelled data set keeps its text and gold label, and how it maps to a scheme.

    ``path`` is the file's place inside the shared data-set folder (``../shared/datasets``
    beside the repository); ``label`` is a column name or a function of the row; ``mapping``
    translates its values to ``scheme``'s labels (values it does not list are skipped).
    """

    name: str
    scheme: str
    path: str
    text_columns: tuple[str, ...]
    label: LabelSource
    mapping: Mapping[str, str] | None
    description: str

    def read(self, path: str | Path) -> LabelledRows:
        """The ``(text, gold)`` pairs of ``path`` (a file in this preset's layout)."""
        return read_labelled(path, self.text_columns, self.label, self.mapping)


_AIRLINE = {
    "Customer Service Issue": "service_quality",
    "Flight Attendant Complaints": "service_quality",
    "Flight Booking Problems": "service_quality",
    "longlines": "service_quality",
    "Late Flight": "product_quality",
    "Cancelled Flight": "product_quality",
    "Bad Flight": "product_quality",
    "Lost Luggage": "product_quality",
    "Damaged Luggage": "product_quality",
}

_ASAP_GROUPS = {"service": "service_quality", "price": "price", "dish": "product_quality"}


def _asap_gold(row: Mapping[str, str]) -> str | None:
    """The aspect groups (service, price, dish) with a negative (-1) aspect, joined by "+"."""
    groups = sorted(
        {
            column.split("_", 1)[0]
            for column, value in row.items()
            if value.strip() == "-1" and column.split("_", 1)[0] in _ASAP_GROUPS
        }
    )
    return "+".join(groups) or None


_CAR_LETTERS = {
    **dict.fromkeys("ABCDEFGH", "product_quality"),
    **dict.fromkeys("IJN", "service_quality"),
    "K": "price",
    "L": "integrity",
    "M": "integrity",
}


def _car_gold(row: Mapping[str, str]) -> str | None:
    """The letter of the first problem code (``H155,M279`` → ``H``)."""
    first = row.get("problem_codes", "").split(",", 1)[0].strip()
    return first[:1].upper() or None


_CFPB = {
    # price
    "Fees or interest": "price",
    "Charged fees or interest you didn't expect": "price",
    "Charged fees or interest I didn't expect": "price",
    "Problem with fees": "price",
    "Late fee": "price",
    "APR or interest rate": "price",
    "Other fee": "price",
    "Unexpected or other fees": "price",
    "Unexpected fees": "price",
    "Billing disputes": "price",
    "Problems caused by my funds being low": "price",
    "Problem caused by your funds being low": "price",
    # integrity
    "False statements or representation": "integrity",
    "Confusing or misleading advertising or marketing": "integrity",
    "Didn't receive advertised or promotional terms": "integrity",
    "Advertising and marketing, including promotional offers": "integrity",
    "Attempts to collect debt not owed": "integrity",
    "Cont'd attempts collect debt not owed": "integrity",
    "Taking/threatening an illegal action": "integrity",
    "Took or threatened to take negative or legal action": "integrity",
    "Fraud or scam": "integrity",
    # service quality
    "Communication tactics": "service_quality",
    "Customer service / Customer relations": "service_quality",
    "Problem with customer service": "service_quality",
    "Dealing with your lender or servicer": "service_quality",
    "Dealing with my lender or servicer": "service_quality",
    "Problem with a credit reporting company's investigation into an existing problem": (
        "service_quality"
    ),
    "Problem with a company's investigation into an existing problem": "service_quality",
    "Problem with a company's investigation into an existing issue": "service_quality",
    "Credit reporting company's investigation": "service_quality",
    "Loan servicing, payments, escrow account": "service_quality",
    "Loan modification,collection,foreclosure": "service_quality",
    "Managing an account": "service_quality",
    "Account opening, closing, or management": "service_quality",
    "Closing/Cancelling account": "service_quality",
    "Closing an account": "service_quality",
    "Closing your account": "service_quality",
    "Improper contact or sharing of info": "service_quality",
    "Written notification about debt": "service_quality",
    "Disclosure verification of debt": "service_quality",
    "Trouble during payment process": "service_quality",
    "Managing the loan or lease": "service_quality",
    "Application, originator, mortgage broker": "service_quality",
    # product quality
    "Incorrect information on your report": "product_quality",
    "Incorrect information on credit report": "product_quality",
    "Improper use of your report": "product_quality",
    "Improper use of my credit report": "product_quality",
    "Unable to get credit report/credit score": "product_quality",
    "Unable to get your credit report or credit score": "product_quality",
    "Deposits and withdrawals": "product_quality",
    "Problem with a purchase shown on your statement": "product_quality",
    "Other transaction issues": "product_quality",
    "Other transaction problem": "product_quality",
}

#: The real labelled data sets, by the name ``complaintkit evaluate --preset NAME`` takes.
DATASET_PRESETS: Mapping[str, DatasetPreset] = {
    "airline": DatasetPreset(
        name="airline",
        scheme="cause",
        path="twitter_airline_sentiment/tweets.csv",
        text_columns=("text",),
        label="negativereason",
        mapping=_AIRLINE,
        description=(
            "Twitter US Airline Sentiment (en): negative tweets, negativereason → cause. "
            "Service quality ← Customer Service Issue, Flight Attendant Complaints, Flight "
            "Booking Problems, longlines; product quality ← Late Flight, Cancelled Flight, Bad "
            "Flight, Lost Luggage, Damaged Luggage; Can't Tell and non-negative tweets skipped."
        ),
    ),
    "asap": DatasetPreset(
        name="asap",
        scheme="cause",
        path="chinese_reviews/asap_sample_aspects.csv",
        text_columns=("reviewbody",),
        label=_asap_gold,
        mapping=_ASAP_GROUPS,
        description=(
            "ASAP restaurant reviews (zh): the aspect groups with a negative (-1) aspect → "
            "cause: service_* → service quality, price_* → price, dish_* → product quality. "
            "Rows with negatives in more than one group (e.g. dish+service) are skipped, as are "
            "rows with none (location and environment aspects have no cause)."
        ),
    ),
    "chezhiwang": DatasetPreset(
        name="chezhiwang",
        scheme="cause",
        path="chezhiwang_car_complaints/car_complaints.csv",
        text_columns=("summary",),
        label=_car_gold,
        mapping=_CAR_LETTERS,
        description=(
            "车质网 car complaints (zh): the letter of the FIRST problem code → cause: A–H "
            "(engine … body/electrics) → product quality; I (service), J (repair), N (parts) → "
            "service quality; K (charges) → price; L (broken promises), M (sales/advertising) → "
            "integrity; O, P, Q and rows without codes skipped. The letter legend is inferred."
        ),
    ),
    "cfpb": DatasetPreset(
        name="cfpb",
        scheme="cause",
        path="cfpb_complaints/cfpb_complaints.csv",
        text_columns=("consumer_complaint_narrative",),
        label="issue",
        mapping=_CFPB,
        description=(
            "CFPB consumer complaints (en): rows with a narrative, issue → cause by the mapping "
            "in SOURCE.md, plus the renamed CFPB issues that mean the same (e.g. 'Closing your "
            "account', 'Problem caused by your funds being low'); other issues skipped."
        ),
    ),
}
