"""Classification: labelling complaints by the registered schemes (automatically, or by hand
with a manual label automatic passes keep), and the ``classify`` events that keep old labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from ..errors import NotFoundError
from ..model import Complaint, Event, Label
from ..storage import ComplaintFilter
from .clocks import SLAClocks
from .state import Change, DeskState
from .writing import Writer

if TYPE_CHECKING:
    from ..classification import Classification, ClassificationScheme, SchemeSet

__all__ = ["MANUAL", "ClassificationPreview", "Classifier", "LabelPass", "classified_fires"]

MANUAL = "manual"


def classified_fires(
    changes: Iterable[tuple[Label, Label | None]],
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The ``complaint_classified`` calls for a pass's label changes."""
    return tuple(
        ("complaint_classified", {"label": label, "previous": previous})
        for label, previous in changes
    )


@attrs.frozen
class ClassificationPreview:
    """What a classification pass would change, computed without writing anything.

    ``changed`` counts the complaints that would get a different label, ``updated`` those the
    pass would write at all (a moved label, or a label whose confidence or evidence the rules
    now see differently: what ``classify_many`` reports as changed).
    ``moves[(scheme, from, to)]`` counts the complaints whose label would move (``from`` is
    None for a complaint the scheme had not labelled), with up to ``examples`` references of
    each in ``examples``; ``before`` and ``after`` count the labels per ``(scheme, label)``
    over the examined complaints, so a rule or model change shows how each label's share
    moves.
    """

    examined: int
    changed: int
    #: Complaints the pass would write: a label moved, or only its confidence or evidence.
    updated: int
    moves: Mapping[tuple[str, str | None, str], int]
    examples: Mapping[tuple[str, str | None, str], tuple[str, ...]]
    before: Mapping[tuple[str, str], int]
    after: Mapping[tuple[str, str], int]


class LabelPass(NamedTuple):
    """What one classification pass gives a complaint: all its labels after the pass, the
    changes (new label, previous label) that fire ``complaint_classified``, and the
    ``classify`` event recording them (none when no label moved)."""

    labels: dict[str, Label]
    changes: list[tuple[Label, Label | None]]
    events: tuple[Event, ...]


#: Complaints classified together when the desk classifies many (an import, ``classify
#: --all``): enough for a model to score in one numpy pass, few enough to stream.
BATCH = 256


def text_of(complaint: Complaint) -> str:
    """What a scheme classifies: the title and the text, joined by a newline."""
    return f"{complaint.title}\n{complaint.text}" if complaint.title else complaint.text


class Classifier:
    """Classifies one desk's complaints."""

    def __init__(self, state: DeskState, deadlines: SLAClocks, writer: Writer) -> None:
        self.s = state
        self.deadlines = deadlines
        self.writer = writer
        self._scheme_sets: dict[tuple[int, ...], tuple[SchemeSet, tuple[str, ...]]] = {}

    def schemes(self, names: Sequence[str] | None) -> list[ClassificationScheme]:
        """The schemes ``names`` names (every registered one for None)."""
        if names is None:
            return list(self.s.host.schemes().values())
        # A scheme may be named by key or by its English or Chinese name (投诉原因).
        return [self.s.host.scheme(self.s.host.resolve_scheme(name)) for name in names]

    def _scheme_set(
        self, schemes: Sequence[ClassificationScheme]
    ) -> tuple[SchemeSet, tuple[str, ...]]:
        """The combined matcher for ``schemes`` and, per scheme, the plugin that registered it
        (recorded on its labels). Schemes are fixed for the life of a host: built once."""
        key = tuple(id(s) for s in schemes)
        found = self._scheme_sets.get(key)
        if found is None:
            from ..classification import SchemeSet

            scheme_set = SchemeSet(schemes)
            classifiers = tuple(
                self.s.host.owner("register_classification_schemes", name) or "rules"
                for name in scheme_set.names
            )
            found = self._scheme_sets[key] = (scheme_set, classifiers)
        return found

    def labelled(
        self,
        complaint: Complaint,
        schemes: Sequence[ClassificationScheme],
        at: datetime,
        *,
        force: bool = False,
        extra_events: tuple[Event, ...] = (),
        verdicts: Sequence[Classification | None] | None = None,
    ) -> tuple[Complaint, list[tuple[Label, Label | None]]]:
        """Classify by ``schemes``; manual labels are kept unless ``force``.

        All label changes of one pass go into one ``classify`` event whose data maps each
        changed scheme to ``{"from", "to", "confidence", "evidence"}``, so the old label of a
        re-classified complaint stays in its history. ``verdicts``: the schemes' verdicts on
        the complaint's text, when they were already asked (:meth:`labelled_many`).
        """
        scheme_set, classifiers = self._scheme_set(schemes)
        if verdicts is None:
            verdicts = scheme_set.classify(text_of(complaint))
        found = self._pass(complaint, scheme_set.names, classifiers, verdicts, at, force)
        events = extra_events + found.events
        if not events and found.labels == complaint.labels:
            return complaint, []
        return (
            attrs.evolve(complaint, labels=found.labels, history=complaint.history + events),
            found.changes,
        )

    def passes(
        self,
        complaints: Sequence[Complaint],
        schemes: Sequence[ClassificationScheme],
        at: datetime,
    ) -> list[LabelPass]:
        """What :meth:`labelled` would give each of ``complaints`` (a batch: the schemes are
        asked all their texts at once, so keep it about :data:`BATCH` long), as labels,
        changes and events, without building the labelled complaints: for a caller that
        builds each complaint once with more changes than these (a bulk import)."""
        scheme_set, classifiers = self._scheme_set(schemes)
        verdicts = scheme_set.classify_many([text_of(c) for c in complaints])
        names = scheme_set.names
        return [
            self._pass(c, names, classifiers, found, at, False)
            for c, found in zip(complaints, verdicts, strict=True)
        ]

    def _pass(
        self,
        complaint: Complaint,
        names: Sequence[str],
        classifiers: Sequence[str],
        verdicts: Sequence[Classification | None],
        at: datetime,
        force: bool,
    ) -> LabelPass:
        """One classification pass over ``complaint`` given the schemes' ``verdicts``."""
        labels = dict(complaint.labels)
        data: dict[str, Any] = {}
        changes: list[tuple[Label, Label | None]] = []
        for name, classifier, result in zip(names, classifiers, verdicts, strict=True):
            previous = labels.get(name)
            if result is None or (
                previous is not None and previous.classifier == MANUAL and not force
            ):
                continue
            label = Label(name, result.label, result.confidence, result.evidence, classifier)
            labels[name] = label
            if previous is not None and previous.label == label.label:
                continue
            changes.append((label, previous))
            data[name] = {
                "from": previous.label if previous else None,
                "to": label.label,
                "confidence": label.confidence,
                "evidence": list(label.evidence),
            }
        if not data:
            return LabelPass(labels, changes, ())
        event = Event(at=at, actor=self.s.actor, action="classify", reason=None, data=data)
        return LabelPass(labels, changes, (event,))

    def labelled_many(
        self,
        complaints: Iterable[Complaint],
        schemes: Sequence[ClassificationScheme],
        at: datetime,
        *,
        force: bool = False,
    ) -> Iterator[tuple[Complaint, Complaint, list[tuple[Label, Label | None]]]]:
        """``(complaint, labelled, changes)`` of :meth:`labelled` for each of ``complaints``,
        in order, asking the schemes :data:`BATCH` texts at a time so that a scheme faster in
        batches (:class:`~complaintkit.classification.BatchScheme`) gets them together.
        ``complaints`` is read lazily, a batch at a time."""
        scheme_set, _ = self._scheme_set(schemes)
        source = iter(complaints)
        while batch := list(islice(source, BATCH)):
            verdicts = scheme_set.classify_many([text_of(c) for c in batch])
            for complaint, found in zip(batch, verdicts, strict=True):
                new, changes = self.labelled(complaint, schemes, at, force=force, verdicts=found)
                yield complaint, new, changes

    def classify(
        self, reference: str, *, schemes: Sequence[str] | None = None, force: bool = False
    ) -> Complaint:
        """(Re-)classify one stored complaint; a changed label keeps the old one in history."""
        chosen = self.schemes(schemes)

        def change(c: Complaint) -> Change:
            new, changes = self.labelled(c, chosen, self.s.clock(), force=force)
            return Change(new, classified_fires(changes))

        return self.writer.mutate(reference, change)

    def label(self, reference: str, scheme: str, label: str, *, reason: str | None) -> Complaint:
        """Set a label by hand; automatic re-classification will not override it.

        ``scheme`` and ``label`` may be keys or names in English or Chinese."""
        scheme, label = self.s.host.resolve_label(scheme, label)
        return self.writer.mutate(
            reference, lambda c: self._by_hand(c, scheme, label, reason, self.s.clock())
        )

    def _by_hand(
        self, c: Complaint, scheme: str, label: str, reason: str | None, at: datetime
    ) -> Change:
        """``c`` with ``label`` set by hand for ``scheme`` (both resolved), and its event."""
        previous = c.labels.get(scheme)
        new_label = Label(scheme, label, 1.0, (), MANUAL)
        event = Event(
            at=at,
            actor=self.s.actor,
            action="classify",
            reason=reason,
            data={
                scheme: {
                    "from": previous.label if previous else None,
                    "to": label,
                    "confidence": 1.0,
                    "evidence": [],
                }
            },
        )
        new = attrs.evolve(c, labels={**c.labels, scheme: new_label}, history=c.history + (event,))
        return Change(new, classified_fires([(new_label, previous)]))

    def label_many(
        self,
        decisions: Iterable[tuple[str, str, str, str | None]],
        *,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """:meth:`label` for many ``(reference, scheme, label, reason)`` decisions, written
        ``batch_size`` complaints at a time with ``update_many`` (on a file store each write
        rewrites the file, so 400 decisions cost one write instead of 400). Decisions on one
        complaint are applied in order. A complaint changed by someone else meanwhile is
        labelled again on its new version, one by one. Returns the decisions applied.

        :raises NotFoundError: a reference not in the store (nothing of its batch is written).
        """
        resolve = self.s.host.resolve_label
        applied = 0
        pending = iter(decisions)
        while chunk := list(islice(pending, batch_size)):
            resolved = [(ref, *resolve(scheme, label), why) for ref, scheme, label, why in chunk]
            wanted = {ref for ref, *_ in resolved}
            current = {
                c.reference: c
                for c in self.s.store.find(ComplaintFilter(references=frozenset(wanted)))
            }
            missing = sorted(wanted - set(current))
            if missing:
                raise NotFoundError(missing[0])
            at = self.s.clock()
            fires: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            changed: dict[str, Complaint] = {}
            for ref, scheme, label, why in resolved:
                change = self._by_hand(changed.get(ref, current[ref]), scheme, label, why, at)
                changed[ref] = change.complaint
                fires.setdefault(ref, []).extend(change.fire)
            ready = [self.deadlines.with_sla(c) for c in changed.values()]
            stored = self.s.writes.update_many(ready)
            for complaint in stored.updated:
                self.writer.fire_all(complaint, fires[complaint.reference])
            for reference in stored.conflicts:
                for ref, scheme, label, why in resolved:
                    if ref == reference:
                        self.label(ref, scheme, label, reason=why)
            applied += len(chunk)
            if progress is not None:
                progress(len(chunk))
        return applied

    def classify_many(
        self,
        flt: ComplaintFilter | None = None,
        *,
        schemes: Sequence[str] | None = None,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
        batch_size: int | None = None,
    ) -> tuple[int, int]:
        """Classify every complaint matching ``flt``; returns (examined, changed).

        Changes are written with one ``update_many`` (or one per ``batch_size`` complaints):
        on a file store each write rewrites the file, so fewer is faster.
        """
        chosen = self.schemes(schemes)
        examined = changed = 0
        batch: list[tuple[Complaint, list[tuple[Label, Label | None]]]] = []
        fire = self.s.host.has_implementations("complaint_classified")

        def flush() -> None:
            nonlocal changed
            if not batch:
                return
            stored = self.s.writes.update_many([c for c, _ in batch])
            changed += len(stored.updated)
            if fire:
                by_ref = {c.reference: c for c in stored.updated}
                for complaint, changes in batch:
                    if complaint.reference in by_ref:
                        self.writer.fire_all(by_ref[complaint.reference], classified_fires(changes))
            for reference in stored.conflicts:
                self.classify(reference, schemes=schemes, force=force)
                changed += 1
            batch.clear()

        at = self.s.clock()
        found = list(self.s.store.find(flt))
        for complaint, new, changes in self.labelled_many(found, chosen, at, force=force):
            examined += 1
            if new is not complaint:
                new = self.deadlines.with_sla(new)
                batch.append((new, changes))
                if batch_size is not None and len(batch) >= batch_size:
                    flush()
            if progress is not None:
                progress(1)
        flush()
        return examined, changed

    def preview(
        self,
        complaints: Iterable[Complaint],
        *,
        schemes: Sequence[str] | None = None,
        force: bool = False,
        examples: int = 3,
        progress: Callable[[int], None] | None = None,
    ) -> ClassificationPreview:
        """What classifying ``complaints`` would change (``classify --dry-run``); nothing is
        written and no hook is called."""
        chosen = self.schemes(schemes)
        names = {scheme.name for scheme in chosen}
        moves: Counter[tuple[str, str | None, str]] = Counter()
        shown: dict[tuple[str, str | None, str], list[str]] = {}
        before: Counter[tuple[str, str]] = Counter()
        after: Counter[tuple[str, str]] = Counter()
        examined = changed = updated = 0
        at = self.s.clock()
        for complaint, new, changes in self.labelled_many(complaints, chosen, at, force=force):
            examined += 1
            for name in names:
                if name in complaint.labels:
                    before[name, complaint.labels[name].label] += 1
                if name in new.labels:
                    after[name, new.labels[name].label] += 1
            if changes:
                changed += 1
            if new is not complaint:
                updated += 1
            for label, previous in changes:
                key = (label.scheme, previous.label if previous else None, label.label)
                moves[key] += 1
                if len(shown.setdefault(key, [])) < examples:
                    shown[key].append(complaint.reference)
            if progress is not None:
                progress(1)
        return ClassificationPreview(
            examined=examined,
            changed=changed,
            updated=updated,
            moves=dict(moves),
            examples={key: tuple(refs) for key, refs in shown.items()},
            before=dict(before),
            after=dict(after),
        )
