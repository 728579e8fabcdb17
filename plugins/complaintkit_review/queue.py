"""Which automatic labels a person should look at, and recording what the person decided.

A label set by a classifier (rules or a model) with a confidence below its scheme's threshold
is *due for review*; so, for the schemes listed in ``unlabelled``, is a complaint the scheme
left without a label. A person's decision, accepted or corrected, is a hand-set label
(``classifier = "manual"``, confidence 1): automatic re-classification keeps it, it leaves the
queue, and it is the training data a model learns from. Every decision is an event in the
complaint's history, by the acting person, with the reason ``review: accepted …`` or
``review: corrected …``.

Configuration (``complaintkit.toml``)::

    [review]
    threshold = 0.5                     # every scheme (the default)
    thresholds = { severity = 0.8 }     # per scheme, by key or by English or Chinese name
    unlabelled = ["cause"]              # schemes whose missing label needs review too
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from complaintkit import (
    Complaint,
    ComplaintkitError,
    ConfigError,
    InvalidSetting,
    Label,
    structure_section,
)
from complaintkit.facts import (
    ComplaintLabels,
    LabelSummariesStore,
    LabelSummary,
    label_summaries_of,
)
from complaintkit.storage import (
    gc_paused,
)

if TYPE_CHECKING:
    from complaintkit import ComplaintFilter, Config, Desk, PluginHost

__all__ = [
    "DEFAULT_THRESHOLD",
    "MANUAL",
    "ReviewItem",
    "DecisionOutcome",
    "ReviewSettings",
    "UNREADABLE",
    "apply_decisions",
    "decide",
    "decision_reason",
    "due_for_review",
    "queue",
    "review_record",
    "review_records",
]

#: The classifier of a label set by a person (a label's default).
MANUAL = str(attrs.fields(Label).classifier.default)

#: The threshold of every scheme the configuration does not name.
DEFAULT_THRESHOLD = 0.5


def _fraction(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0 <= value <= 1:
        raise InvalidSetting(f"must be a number from 0 to 1, got {value!r}", attribute.name)


def _fractions(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    for name, number in value.items():
        if not 0 <= number <= 1:
            raise InvalidSetting(
                f"must be a number from 0 to 1, got {number!r}", (attribute.name, name)
            )


@attrs.frozen
class _ReviewTable:
    """``[review]`` as written (scheme names not yet resolved)."""

    threshold: float = attrs.field(default=DEFAULT_THRESHOLD, validator=_fraction)
    thresholds: dict[str, float] = attrs.field(factory=dict, validator=_fractions)
    unlabelled: tuple[str, ...] = ()


@attrs.frozen
class ReviewSettings:
    """The ``[review]`` section: thresholds per scheme and schemes whose abstention counts."""

    threshold: float = DEFAULT_THRESHOLD
    thresholds: Mapping[str, float] = attrs.field(factory=dict)
    unlabelled: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Config, host: PluginHost) -> ReviewSettings:
        """Read and check ``[review]`` (:func:`complaintkit.structure_section`: every mistake
        named by file and key); scheme names are resolved against the host's schemes."""
        table = structure_section(config, "review", _ReviewTable)

        def scheme(name: str, key: str) -> str:
            try:
                return host.resolve_scheme(name)
            except ComplaintkitError as exc:  # an unknown scheme
                raise ConfigError(f"{config.where}: review.{key}: {exc}") from None

        thresholds = {
            scheme(name, f"thresholds.{name}"): value for name, value in table.thresholds.items()
        }
        unlabelled = frozenset(
            scheme(name, f"unlabelled[{i}]") for i, name in enumerate(table.unlabelled, 1)
        )
        return cls(table.threshold, thresholds, unlabelled)

    def threshold_of(self, scheme: str) -> float:
        """The confidence below which an automatic label of ``scheme`` needs review."""
        return self.thresholds.get(scheme, self.threshold)


@attrs.frozen
class ReviewItem:
    """One label due for review: the complaint, the scheme, and the automatic label (None when
    the scheme left the complaint without one)."""

    complaint: Complaint
    scheme: str
    label: Label | None

    @property
    def confidence(self) -> float:
        """The label's confidence (0 for a missing label)."""
        return self.label.confidence if self.label is not None else 0.0


def due_for_review(
    complaints: Iterable[Complaint],
    schemes: Iterable[str],
    settings: ReviewSettings,
    *,
    below: float | None = None,
) -> Iterator[ReviewItem]:
    """The labels of ``complaints`` due for review in ``schemes``, in the complaints' order.

    ``below`` replaces every scheme's threshold (the ``--below`` option). Hand-set labels are
    never due: a person already decided them.
    """
    chosen = tuple(schemes)
    limits = _limits(chosen, settings, below)
    for complaint in complaints:
        for scheme in chosen:
            label = complaint.labels.get(scheme)
            if _is_due(_summary(label), limits[scheme], scheme in settings.unlabelled):
                yield ReviewItem(complaint, scheme, label)


def _limits(
    schemes: Iterable[str], settings: ReviewSettings, below: float | None
) -> dict[str, float]:
    """Each scheme's confidence below which an automatic label is due."""
    return {scheme: settings.threshold_of(scheme) if below is None else below for scheme in schemes}


def _summary(label: Label | None) -> LabelSummary | None:
    return None if label is None else (label.label, label.confidence, label.classifier)


def _is_due(label: LabelSummary | None, limit: float, unlabelled: bool) -> bool:
    """Whether a complaint's label in a scheme (None: it has none) is due for review:
    ``limit`` is the scheme's threshold, ``unlabelled`` whether its abstentions count."""
    if label is None:
        return unlabelled
    _key, confidence, classifier = label
    return classifier != MANUAL and confidence < limit


def queue(
    desk: Desk,
    settings: ReviewSettings,
    schemes: Iterable[str],
    flt: ComplaintFilter | None = None,
    *,
    below: float | None = None,
    unlabelled: Counter[str] | None = None,
    limit: int | None = None,
    counts: Counter[str] | None = None,
) -> list[ReviewItem]:
    """The labels due for review in the store, least confident first (then oldest first):
    all of them, or the first ``limit``.

    The queue is selected from each complaint's labels alone (a
    :class:`~complaintkit.facts.LabelSummariesStore` gives them: the TinyDB store reads them
    from its index), and only the complaints of the labels returned are then read whole; from
    another store the complaints are read once, as before, and those due kept. ``unlabelled``,
    when given, counts per scheme the complaints left without a label that the queue does not
    hold (the scheme is not in ``[review] unlabelled``), and ``counts`` the labels due per
    scheme in the whole queue, in the same pass.
    """
    from complaintkit import ComplaintFilter

    chosen = tuple(schemes)
    limits = _limits(chosen, settings, below)
    asked = [(scheme, limits[scheme], scheme in settings.unlabelled) for scheme in chosen]
    due: list[tuple[float, datetime, int, str, str]] = []
    store = desk.store
    found_in: Iterable[tuple[ComplaintLabels, Complaint | None]]
    pushed = isinstance(store, LabelSummariesStore)
    if isinstance(store, LabelSummariesStore):
        found_in = ((summary, None) for summary in store.label_summaries(flt))
    else:
        found_in = ((label_summaries_of(complaint), complaint) for complaint in desk.find(flt))
    kept: dict[str, Complaint] = {}
    # tens of thousands of small tuples, none in a cycle (when no complaint is built meanwhile)
    with gc_paused() if pushed else nullcontext():
        for (reference, received_at, labels), complaint in found_in:
            before = len(due)
            for scheme, threshold, counted in asked:
                found = labels.get(scheme)
                if _is_due(found, threshold, counted):
                    confidence = 0.0 if found is None else found[1]
                    due.append((confidence, received_at, len(due), reference, scheme))
                elif found is None and unlabelled is not None:
                    unlabelled[scheme] += 1
            if complaint is not None and len(due) > before:
                kept[reference] = complaint
        due.sort()  # ties keep the order found: the complaints' order, then the schemes'
    if counts is not None:
        counts.update(scheme for *_, scheme in due)
    due = due[:limit]
    if not due:
        return []
    complaints = kept
    if pushed:
        wanted = frozenset(reference for *_, reference, _scheme in due)
        # (the complaints due matched ``flt``: its other conditions only read them again)
        read = attrs.evolve(flt or ComplaintFilter(), references=wanted)
        complaints = {complaint.reference: complaint for complaint in desk.find(read)}
    items = []
    for *_, reference, scheme in due:
        complaint = complaints.get(reference)
        if complaint is None:  # changed by another process between the two reads
            continue
        label = complaint.labels.get(scheme)
        if _is_due(_summary(label), limits[scheme], scheme in settings.unlabelled):
            items.append(ReviewItem(complaint, scheme, label))
    return items


def decision_reason(item: ReviewItem, chosen: str, note: str | None = None) -> str:
    """What the history says of a person's decision on ``item`` (``chosen``: a label key):
    whether the automatic label was accepted or corrected, and what it was."""
    was = item.label
    if was is None:
        reason = "review: labelled (the scheme had left it without a label)"
    elif was.label == chosen:
        reason = f"review: accepted ({was.classifier}, confidence {was.confidence:.2f})"
    else:
        reason = (
            f"review: corrected from {was.label} ({was.classifier}, "
            f"confidence {was.confidence:.2f})"
        )
    return f"{reason}; {note}" if note else reason


def decide(desk: Desk, item: ReviewItem, label: str, *, note: str | None = None) -> Complaint:
    """Record a person's decision on ``item``: ``label`` (a key or a name in either language)
    is kept by hand, with :func:`decision_reason` as the reason."""
    scheme, chosen = desk.host.resolve_label(item.scheme, label)
    return desk.label(
        item.complaint.reference, scheme, chosen, reason=decision_reason(item, chosen, note)
    )


def review_record(item: ReviewItem) -> dict[str, Any]:
    """One label due for review as ``review --format json`` prints it (and the API answers)."""
    label = item.label
    return {
        "reference": item.complaint.reference,
        "scheme": item.scheme,
        "label": label.label if label else None,
        "confidence": round(label.confidence, 3) if label else None,
        "classifier": label.classifier if label else None,
        "evidence": list(label.evidence) if label else [],
        "text": item.complaint.text,
    }


def review_records(
    desk: Desk,
    schemes: Sequence[str],
    below: float | None,
    open_only: bool,
    limit: int | None,
) -> list[dict[str, Any]]:
    """The queue as records (:func:`review_record`): ``schemes`` by key or English or Chinese
    name (none: all), ``below`` replacing the thresholds, ``open_only`` complaints still
    open, at most ``limit`` labels; an unknown scheme or a bad ``[review]`` section is refused
    with the error naming it."""
    from complaintkit import ComplaintFilter

    host = desk.host
    settings = ReviewSettings.from_config(host.config, host)
    chosen = [host.resolve_scheme(name) for name in schemes] or sorted(host.schemes())
    flt = ComplaintFilter(open_only=open_only) if open_only else None
    items = queue(desk, settings, chosen, flt, below=below, limit=limit)
    return [review_record(item) for item in items]


#: The key of a row that could not be read (its value says why), in :func:`apply_decisions`.
UNREADABLE = "__unreadable__"


@attrs.frozen
class DecisionOutcome:
    """What :func:`apply_decisions` did: how many decisions were ``accepted``, ``corrected``
    or ``unchanged`` (already decided so by hand), and each row it could not apply, named by
    where it came from and the field."""

    applied: Mapping[str, int]
    problems: tuple[str, ...]

    def record(self) -> dict[str, Any]:
        """As JSON: ``{"applied": {...}, "problems": [...]}``."""
        return {"applied": dict(self.applied), "problems": list(self.problems)}


def apply_decisions(
    desk: Desk,
    rows: Iterable[tuple[str, Any]],
    note: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> DecisionOutcome:
    """Apply decisions ``(where, row)``: a row is a mapping with ``reference``, ``scheme``,
    ``label`` and optionally ``note`` (``{UNREADABLE: why}`` for a row that could not be
    read). A row that cannot be applied is reported as ``where: field F: why``; the others
    are written together (:meth:`Desk.label_many`), each with :func:`decision_reason` (and
    ``note`` and the row's note) as the reason."""
    host = desk.host
    applied: Counter[str] = Counter()
    problems: list[str] = []
    decisions: list[tuple[str, str, str, str | None]] = []
    for where, row in rows:
        if not isinstance(row, Mapping) or UNREADABLE in row:
            detail = row.get(UNREADABLE) if isinstance(row, Mapping) else "not an object"
            problems.append(f"{where}: {detail}")
            continue
        missing = [f for f in ("reference", "scheme", "label") if not str(row.get(f) or "").strip()]
        if missing:
            problems.append(f"{where}: field {missing[0]}: missing")
            continue
        reference = str(row["reference"]).strip()
        try:
            complaint = desk.get(reference)
        except ComplaintkitError:
            problems.append(f"{where}: field reference: no complaint {reference!r}")
            continue
        try:
            scheme = host.resolve_scheme(str(row["scheme"]))
        except ComplaintkitError as exc:
            problems.append(f"{where}: field scheme: {exc}")
            continue
        try:
            scheme, label = host.resolve_label(scheme, str(row["label"]))
        except ComplaintkitError as exc:
            problems.append(f"{where}: field label: {exc}")
            continue
        current = complaint.labels.get(scheme)
        item = ReviewItem(complaint, scheme, current)
        if current is not None and current.classifier == MANUAL and current.label == label:
            applied["unchanged"] += 1
            continue
        row_note = str(row.get("note") or "").strip() or None
        notes = "; ".join(n for n in (note, row_note) if n) or None
        decisions.append((reference, scheme, label, decision_reason(item, label, notes)))
        verdict = "accepted" if current is not None and current.label == label else "corrected"
        applied[verdict] += 1
    # every decision in one batch of writes: a file store is rewritten once, not once a row
    desk.label_many(decisions, progress=progress)
    return DecisionOutcome(dict(sorted(applied.items())), tuple(problems))
