"""The one façade applications use: intake, classify, transition, assign, escalate, query.

The desk stores every change through the :class:`~complaintkit.storage.Store` with an
optimistic version check, retries a change that lost a race (re-reading the complaint and
re-applying the change, so no update is lost), and fires the lifecycle hooks after the change
is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from . import lifecycle
from .errors import ConflictError, TransitionRejected
from .model import Complaint, EscalationLevel, Event, Label, Status
from .storage import AddResult, ComplaintFilter, Store

if TYPE_CHECKING:
    from .classification import ClassificationScheme, SchemeSet
    from .host import PluginHost
    from .reporting import Report

__all__ = ["Desk", "new_reference", "utcnow"]

MANUAL = "manual"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_reference(at: datetime) -> str:
    """A fresh complaint reference such as ``CK-20261123-5F3A9C1D``."""
    return f"CK-{at:%Y%m%d}-{secrets.token_hex(4).upper()}"


@attrs.frozen
class _Change:
    complaint: Complaint
    fire: tuple[tuple[str, dict[str, Any]], ...] = ()


class Desk:
    """Complaint handling on one store with one set of plugins, on behalf of one actor."""

    def __init__(
        self,
        host: PluginHost,
        store: Store,
        *,
        actor: str = "system",
        clock: Callable[[], datetime] = utcnow,
        retries: int = 8,
    ) -> None:
        self.host = host
        self.store = store
        self.actor = actor
        self.clock = clock
        self.retries = retries
        self._scheme_sets: dict[tuple[int, ...], tuple[SchemeSet, tuple[str, ...]]] = {}
        if "notifications" in host.config.data:
            # Notification channels, rules and templates are checked now, so a mistake in
            # them stops the work before any change instead of silently losing a message.
            host.channels()

    # --- reading ------------------------------------------------------------------------

    def get(self, reference: str) -> Complaint:
        """The complaint with ``reference`` (raises NotFoundError)."""
        return self.store.get(reference)

    def find(
        self, flt: ComplaintFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt``, oldest first."""
        return self.store.find(flt, limit=limit, offset=offset)

    # --- classification -----------------------------------------------------------------

    def _schemes(self, names: Sequence[str] | None) -> list[ClassificationScheme]:
        if names is None:
            return list(self.host.schemes().values())
        return [self.host.scheme(name) for name in names]

    def _scheme_set(
        self, schemes: Sequence[ClassificationScheme]
    ) -> tuple[SchemeSet, tuple[str, ...]]:
        """The combined matcher for ``schemes`` and, per scheme, the plugin that registered it
        (recorded on its labels). Schemes are fixed for the life of a host: built once."""
        key = tuple(id(s) for s in schemes)
        found = self._scheme_sets.get(key)
        if found is None:
            from .classification import SchemeSet

            scheme_set = SchemeSet(schemes)
            classifiers = tuple(
                self.host.owner("register_classification_schemes", name) or "rules"
                for name in scheme_set.names
            )
            found = self._scheme_sets[key] = (scheme_set, classifiers)
        return found

    def _labelled(
        self,
        complaint: Complaint,
        schemes: Sequence[ClassificationScheme],
        at: datetime,
        *,
        force: bool = False,
        extra_events: tuple[Event, ...] = (),
    ) -> tuple[Complaint, list[tuple[Label, Label | None]]]:
        """Classify by ``schemes``; manual labels are kept unless ``force``.

        All label changes of one pass go into one ``classify`` event whose data maps each
        changed scheme to ``{"from", "to", "confidence", "evidence"}``, so the old label of a
        re-classified complaint stays in its history.
        """
        text = f"{complaint.title}\n{complaint.text}" if complaint.title else complaint.text
        labels = dict(complaint.labels)
        data: dict[str, Any] = {}
        changes: list[tuple[Label, Label | None]] = []
        scheme_set, classifiers = self._scheme_set(schemes)
        for name, classifier, result in zip(
            scheme_set.names, classifiers, scheme_set.classify(text), strict=True
        ):
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
        events = extra_events
        if data:
            events += (Event(at=at, actor=self.actor, action="classify", reason=None, data=data),)
        if not events and labels == complaint.labels:
            return complaint, []
        return (
            attrs.evolve(complaint, labels=labels, history=complaint.history + events),
            changes,
        )

    def classify(
        self, reference: str, *, schemes: Sequence[str] | None = None, force: bool = False
    ) -> Complaint:
        """(Re-)classify one stored complaint; a changed label keeps the old one in history."""
        chosen = self._schemes(schemes)

        def change(c: Complaint) -> _Change:
            new, changes = self._labelled(c, chosen, self.clock(), force=force)
            return _Change(new, self._classified_fires(changes))

        return self._mutate(reference, change)

    def label(self, reference: str, scheme: str, label: str, *, reason: str | None) -> Complaint:
        """Set a label by hand; automatic re-classification will not override it."""
        self.host.check_label(scheme, label)

        def change(c: Complaint) -> _Change:
            previous = c.labels.get(scheme)
            new_label = Label(scheme, label, 1.0, (), MANUAL)
            event = Event(
                at=self.clock(),
                actor=self.actor,
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
            new = attrs.evolve(
                c, labels={**c.labels, scheme: new_label}, history=c.history + (event,)
            )
            return _Change(new, self._classified_fires([(new_label, previous)]))

        return self._mutate(reference, change)

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
        chosen = self._schemes(schemes)
        examined = changed = 0
        batch: list[tuple[Complaint, list[tuple[Label, Label | None]]]] = []
        fire = self.host.has_implementations("complaint_classified")

        def flush() -> None:
            nonlocal changed
            if not batch:
                return
            stored = self.store.update_many([c for c, _ in batch])
            changed += len(stored.updated)
            if fire:
                by_ref = {c.reference: c for c in stored.updated}
                for complaint, changes in batch:
                    if complaint.reference in by_ref:
                        self._fire_all(by_ref[complaint.reference], self._classified_fires(changes))
            for reference in stored.conflicts:
                self.classify(reference, schemes=schemes, force=force)
                changed += 1
            batch.clear()

        at = self.clock()
        for complaint in list(self.store.find(flt)):
            examined += 1
            new, changes = self._labelled(complaint, chosen, at, force=force)
            if new is not complaint:
                batch.append((new, changes))
                if batch_size is not None and len(batch) >= batch_size:
                    flush()
            if progress is not None:
                progress(1)
        flush()
        return examined, changed

    @staticmethod
    def _classified_fires(
        changes: Iterable[tuple[Label, Label | None]],
    ) -> tuple[tuple[str, dict[str, Any]], ...]:
        return tuple(
            ("complaint_classified", {"label": label, "previous": previous})
            for label, previous in changes
        )

    # --- intake -------------------------------------------------------------------------

    def prepare(
        self, complaint: Complaint, schemes: Sequence[ClassificationScheme] = ()
    ) -> tuple[Complaint, list[tuple[Label, Label | None]]]:
        """A new complaint with its ``received`` event and, if ``schemes`` given, its labels."""
        at = self.clock()
        received: tuple[Event, ...] = ()
        if not complaint.history:
            received = (
                Event(
                    at=at,
                    actor=self.actor,
                    action="received",
                    reason=None,
                    data={"channel": complaint.channel.value},
                ),
            )
        if schemes:
            return self._labelled(complaint, schemes, at, extra_events=received)
        if received:
            return attrs.evolve(complaint, history=received), []
        return complaint, []

    def intake(self, complaint: Complaint, *, classify: bool = True) -> Complaint:
        """Store a new complaint (classified by every scheme unless ``classify`` is False)."""
        prepared, changes = self.prepare(complaint, self._schemes(None) if classify else ())
        stored = self.store.add(prepared)
        self._fire_all(stored, (("complaint_received", {}),) + self._classified_fires(changes))
        return stored

    def intake_many(
        self,
        complaints: Iterable[Complaint],
        *,
        classify: bool = True,
        schemes: Sequence[str] | None = None,
    ) -> AddResult:
        """Store many new complaints as one streamed batch; existing references are skipped.

        ``complaints`` is consumed lazily, so a large import never holds the input in memory.
        Lifecycle hooks fire after the batch is written, and only if a plugin observes them.
        """
        chosen = self._schemes(schemes) if classify else []
        observe = self.host.has_implementations("complaint_received") or (
            bool(chosen) and self.host.has_implementations("complaint_classified")
        )
        prepared: list[tuple[Complaint, list[tuple[Label, Label | None]]]] = []

        def stream() -> Iterator[Complaint]:
            for complaint in complaints:
                ready, changes = self.prepare(complaint, chosen)
                if observe:
                    prepared.append((ready, changes))
                yield ready

        result = self.store.add_many(stream())
        if observe:
            skipped = set(result.skipped)
            for complaint, changes in prepared:
                if complaint.reference in skipped:
                    continue
                stored = attrs.evolve(complaint, version=1)
                self._fire_all(
                    stored, (("complaint_received", {}),) + self._classified_fires(changes)
                )
        return result

    # --- lifecycle ----------------------------------------------------------------------

    def transition(
        self,
        reference: str,
        action: str,
        *,
        reason: str | None = None,
        solution: str | None = None,
        satisfaction: int | None = None,
    ) -> Complaint:
        """Move a complaint through the handling process (see :mod:`complaintkit.lifecycle`)."""

        def change(c: Complaint) -> _Change:
            new, events = lifecycle.apply(
                c,
                action,
                actor=self.actor,
                at=self.clock(),
                reason=reason,
                solution=solution,
                satisfaction=satisfaction,
            )
            fires: list[tuple[str, dict[str, Any]]] = [
                ("complaint_transitioned", {"event": events[0]})
            ]
            fires += [
                ("complaint_escalated", {"event": e}) for e in events[1:] if e.action == "escalate"
            ]
            if new.status is Status.CLOSED:
                fires.append(("complaint_closed", {}))
            return _Change(new, tuple(fires))

        return self._mutate(reference, change)

    def assign(
        self,
        reference: str,
        *,
        department: str | None = None,
        assignee: str | None = None,
        reason: str | None = None,
    ) -> Complaint:
        """Give a complaint to a department and/or a person; the history records who had it."""
        if department is None and assignee is None:
            raise TransitionRejected("assign needs a department, an assignee, or both")

        def change(c: Complaint) -> _Change:
            changes: dict[str, Any] = {}
            data: dict[str, Any] = {}
            if department is not None:
                changes["department"] = department
                data["department"] = {"from": c.department, "to": department}
            if assignee is not None:
                changes["assignee"] = assignee
                data["assignee"] = {"from": c.assignee, "to": assignee}
            event = Event(
                at=self.clock(), actor=self.actor, action="assign", reason=reason, data=data
            )
            return _Change(attrs.evolve(c, **changes, history=c.history + (event,)))

        return self._mutate(reference, change)

    def escalate(
        self, reference: str, *, to: EscalationLevel | None = None, reason: str
    ) -> Complaint:
        """Raise the escalation level (one level up by default); lowering it is refused."""
        if not reason:
            raise TransitionRejected("escalate needs a reason")

        def change(c: Complaint) -> _Change:
            target = (
                to
                if to is not None
                else EscalationLevel(min(c.escalation_level + 1, EscalationLevel.LEADERSHIP))
            )
            if target <= c.escalation_level:
                raise TransitionRejected(
                    f"cannot escalate complaint {c.reference} to {target.slug}: it is already at "
                    f"{c.escalation_level.slug}"
                )
            if not c.is_open:
                raise TransitionRejected(
                    f"cannot escalate complaint {c.reference}: it is {c.status.value}"
                )
            event = Event(
                at=self.clock(),
                actor=self.actor,
                action="escalate",
                reason=reason,
                data={"from": c.escalation_level.slug, "to": target.slug},
            )
            new = attrs.evolve(c, escalation_level=target, history=c.history + (event,))
            return _Change(new, (("complaint_escalated", {"event": event}),))

        return self._mutate(reference, change)

    # --- reports ------------------------------------------------------------------------

    def report(self, name: str, flt: ComplaintFilter | None = None, *, lang: str = "en") -> Report:
        """Run a registered reporter over the complaints matching ``flt``."""
        from .reporting import ReportContext

        reporter = self.host.reporter(name)
        return reporter.run(
            self.store, flt or ComplaintFilter(), ReportContext(self.host.schemes(), lang)
        )

    # --- plumbing -----------------------------------------------------------------------

    def _mutate(self, reference: str, change: Callable[[Complaint], _Change]) -> Complaint:
        """Read, change, write with a version check; on a lost race, read again and redo."""
        for attempt in range(self.retries + 1):
            current = self.store.get(reference)
            result = change(current)
            if result.complaint is current:
                return current
            try:
                stored = self.store.update(result.complaint)
            except ConflictError:
                if attempt == self.retries:
                    raise
                continue
            self._fire_all(stored, result.fire)
            return stored
        raise AssertionError("unreachable")  # pragma: no cover

    def _fire_all(self, complaint: Complaint, fires: Iterable[tuple[str, dict[str, Any]]]) -> None:
        for hook_name, kwargs in fires:
            self.host.fire(hook_name, complaint=complaint, desk=self, **kwargs)
