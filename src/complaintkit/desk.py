"""The one façade applications use: intake, classify, transition, assign, escalate, query.

The desk stores every change through the :class:`~complaintkit.storage.Store` with an
optimistic version check, retries a change that lost a race (re-reading the complaint and
re-applying the change after a random pause, so no update is lost; see
:class:`~complaintkit.retry.RetryPolicy`), and fires the lifecycle hooks after the change is
stored.
"""

from __future__ import annotations

import functools
import logging
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import attrs

from . import lifecycle, sla
from .errors import ConfigError, TransitionRejected
from .i18n import Names
from .intake import CHARACTERS_REMOVED, check_complaint, clean_complaint
from .model import Complaint, EscalationLevel, Event, Label, Party, Remedy, RemedyKind, Status
from .retry import RetryPolicy
from .spikes import SPIKE_ACTION, SpikeWarning
from .storage import AddResult, ComplaintFilter, Store

if TYPE_CHECKING:
    from .calendars import BusinessCalendar
    from .classification import ClassificationScheme, SchemeSet
    from .host import PluginHost
    from .process import ProcessConfig
    from .reporting import Report, ReportContext
    from .routing import Route

__all__ = ["Desk", "RecomputeResult", "SLAWarning", "SweepResult", "new_reference", "utcnow"]

log = logging.getLogger(__name__)


class SLAWarning(UserWarning):
    """A complaint could not get SLA deadlines (its calendar does not know the dates)."""


P = ParamSpec("P")
R = TypeVar("R")


def _batched(method: Callable[Concatenate[Desk, P], R]) -> Callable[Concatenate[Desk, P], R]:
    """Run one of the desk's batch operations inside :meth:`Desk.batch`."""

    @functools.wraps(method)
    def wrapper(self: Desk, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.batch():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools._Wrapped is this callable


MANUAL = "manual"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_reference(at: datetime) -> str:
    """A fresh complaint reference such as ``CK-20261123-5F3A9C1D``."""
    return f"CK-{at:%Y%m%d}-{secrets.token_hex(4).upper()}"


Fires = tuple[tuple[str, dict[str, Any]], ...]
_NOBODY = Party()


@attrs.frozen
class _Change:
    complaint: Complaint
    fire: Fires = ()


@attrs.frozen
class SweepResult:
    """What one sweep found and did (with ``dry_run``, what it would have done)."""

    examined: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0
    changed: tuple[str, ...] = ()
    dry_run: bool = False
    #: complaints another process (another sweep) changed between this sweep's read and its
    #: write: each was read again and decided again, so what it did is recorded once
    redecided: int = 0
    #: what plugins did at the end of the sweep (``sweep_finished``: the early warning's
    #: spikes), as lines for people in both languages
    notes: tuple[Names, ...] = ()


#: What :meth:`Desk.recompute` counts: the kinds of change it makes to a complaint.
RECOMPUTE_KINDS = ("policy", "route", "deadlines", "exact", "provisional", "past_breaches")


@attrs.frozen
class RecomputeResult:
    """What one recompute changed (with ``dry_run``, what it would have changed).

    ``counts`` has one entry per :data:`RECOMPUTE_KINDS`: complaints whose policy was set or
    changed, that were routed again, whose deadlines moved, whose deadlines became exact or
    provisional, and the breaches of deadlines already past recorded as historical.
    ``changes`` lists ``(reference, [what changed, …])`` for every changed complaint.
    """

    examined: int
    changed: int
    counts: dict[str, int]
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dry_run: bool = False
    redecided: int = 0


class Desk:
    """Complaint handling on one store with one set of plugins, on behalf of one actor.

    A change that another process wrote first is read again and re-applied, as ``retry`` says
    (default :class:`~complaintkit.retry.RetryPolicy`: random pauses that grow, for up to 30 s);
    ``retries`` additionally bounds how many times it is re-applied after the first try.
    """

    #: How many complaints the sweep writes at once.
    SWEEP_BATCH = 500

    def __init__(
        self,
        host: PluginHost,
        store: Store,
        *,
        actor: str = "system",
        clock: Callable[[], datetime] = utcnow,
        retries: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.host = host
        self.store = store
        self.actor = actor
        self.clock = clock
        self.retry = retry or RetryPolicy()
        if retries is not None:
            self.retry = attrs.evolve(self.retry, max_tries=retries + 1)
        self._scheme_sets: dict[tuple[int, ...], tuple[SchemeSet, tuple[str, ...]]] = {}
        if host.has_implementations("register_notification_channels"):
            # Notification channels (and whatever their plugin checks with them: rules,
            # templates) are built now, so a mistake in them stops the work before any change
            # instead of silently losing a message.
            host.channels()
        self._process: ProcessConfig | None = None
        self._batch_depth = 0
        self._after_batch: dict[str, Callable[[], None]] = {}

    # --- batches ------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the follow-up work of many changes (an import, a sweep) into one flush.

        While a batch is open, lifecycle-hook implementations may defer work with
        :meth:`after_batch` (the notification plugin queues a whole import's messages in one
        transaction this way). Deferred callbacks run once when the outermost batch closes,
        also when it closes by an error: changes already stored still get their follow-up.
        ``intake_many``, ``classify_many`` and ``sweep`` open a batch themselves; batches nest.
        """
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self._run_after_batch()

    def _run_after_batch(self) -> None:
        callbacks, self._after_batch = self._after_batch, {}
        for key, callback in callbacks.items():
            try:
                callback()
            except Exception as exc:  # noqa: BLE001 - like lifecycle hooks: isolated, logged
                from .host import PluginFailure

                failure = PluginFailure(key, "after_batch", f"{type(exc).__name__}: {exc}")
                self.host.hook_errors.append(failure)
                log.warning("%s", failure)

    @property
    def in_batch(self) -> bool:
        """True while :meth:`batch` is open."""
        return self._batch_depth > 0

    def after_batch(self, key: str, callback: Callable[[], None]) -> bool:
        """Run ``callback`` once when the open batch closes; False (nothing deferred) if none.

        ``key`` (e.g. the plugin's name) makes registering the same flush twice harmless: the
        first callback registered under a key is the one that runs.
        """
        if not self._batch_depth:
            return False
        self._after_batch.setdefault(key, callback)
        return True

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
        # A scheme may be named by key or by its English or Chinese name (投诉原因).
        return [self.host.scheme(self.host.resolve_scheme(name)) for name in names]

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
        """Set a label by hand; automatic re-classification will not override it.

        ``scheme`` and ``label`` may be keys or names in English or Chinese."""
        scheme, label = self.host.resolve_label(scheme, label)

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

    @_batched
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
                new = self._with_sla(new)
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
        """A new complaint with its ``received`` event and, if ``schemes`` given, its labels.

        Every door comes through here, so every new complaint gets the same checks
        (:mod:`complaintkit.intake`): characters no store can hold are removed and recorded
        (a ``characters_removed`` event naming the fields and counts), then anything else
        wrong raises :class:`~complaintkit.errors.ValidationError` before the store sees it.
        """
        complaint, removed = clean_complaint(complaint)
        check_complaint(complaint)
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
        if removed:
            received += (
                Event(
                    at=at,
                    actor=self.actor,
                    action=CHARACTERS_REMOVED,
                    reason="characters no store can hold (NUL, lone surrogates)",
                    data=dict(removed),
                ),
            )
        if schemes:
            return self._labelled(complaint, schemes, at, extra_events=received)
        if received:
            return attrs.evolve(complaint, history=complaint.history + received), []
        return complaint, []

    def intake(self, complaint: Complaint, *, classify: bool = True) -> Complaint:
        """Store a new complaint: classified by every scheme (unless ``classify`` is False),
        routed, linked to the complaint it repeats, fast-channel escalated and given its SLA
        deadlines, as configured (docs/process.md)."""
        prepared, changes = self.prepare(complaint, self._schemes(None) if classify else ())
        prepared, process_fires = self._process_new(prepared, lookup=True)
        stored = self.store.add(prepared)
        if not lifecycle.is_imported(stored):
            self._fire_all(
                stored,
                (("complaint_received", {}),) + self._classified_fires(changes) + process_fires,
            )
        return stored

    @_batched
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
        Each complaint gets the checks of :meth:`prepare`; one that fails them raises
        :class:`~complaintkit.errors.ValidationError` and stops the stream (the store keeps the
        batches written before it), so a caller that wants to skip bad complaints filters them
        with :func:`complaintkit.intake.complaint_problems` first, as ``read_complaints`` does.

        A complaint that brings its history from another system (its first event is by
        :data:`~complaintkit.lifecycle.IMPORT_ACTOR`, as an import with a status or step times
        makes it) notifies and escalates nobody: no lifecycle hook fires for it, the fast
        channel and the re-complaint link do not raise it, and the SLA warnings and breaches
        its clocks reached before now are recorded as historical
        (:meth:`record_past_alerts`), so the sweep does not announce them.
        """
        chosen = self._schemes(schemes) if classify else []
        observe = self.host.has_implementations("complaint_received") or (
            bool(chosen) and self.host.has_implementations("complaint_classified")
        )
        process = self.process
        active = self._process_active()
        if active:
            observe = observe or self.host.has_implementations("complaint_escalated")
        recomplaint = process.recomplaint
        prepared: list[tuple[Complaint, Fires]] = []
        repeat_candidates: list[Complaint] = []

        def stream() -> Iterator[Complaint]:
            for complaint in complaints:
                ready, changes = self.prepare(complaint, chosen)
                fires = self._classified_fires(changes)
                if active:
                    ready, more = self._process_new(ready, lookup=False)
                    fires += more
                imported = lifecycle.is_imported(ready)
                if observe and not imported:
                    prepared.append((ready, fires))
                if recomplaint is not None and ready.complainant != _NOBODY and not imported:
                    repeat_candidates.append(ready)
                yield ready

        result = self.store.add_many(stream())
        skipped = set(result.skipped)
        if observe:
            for complaint, fires in prepared:
                if complaint.reference in skipped:
                    continue
                stored = attrs.evolve(complaint, version=1)
                self._fire_all(stored, (("complaint_received", {}),) + fires)
        if repeat_candidates:
            self._link_repeats([c for c in repeat_candidates if c.reference not in skipped])
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
            new, event = self._raised(c, target, reason, self.clock())
            return _Change(new, (("complaint_escalated", {"event": event}),))

        return self._mutate(reference, change)

    # --- process engine: SLA, routing, escalation, re-complaints, remedies ----------------

    @property
    def process(self) -> ProcessConfig:
        """The process configuration (``[sla]``, ``[routing]``, …), read once per desk."""
        if self._process is None:
            from .process import load_process_config

            self._process = load_process_config(self.host.config)
        return self._process

    def _process_active(self) -> bool:
        p = self.process
        return (
            p.sla is not None
            or bool(p.routing.rules)
            or p.escalation.fast_channel is not None
            or self.host.has_implementations("route_complaint")
        )

    def calendar(self, name: str | None) -> BusinessCalendar:
        """The business calendar ``name``, or the default one (``[calendars] default``)."""
        return self.host.calendar(name) if name else self.host.default_calendar()

    def policy_for(self, complaint: Complaint) -> str | None:
        """The SLA policy for ``complaint``: the ``choose_sla_policy`` hook, else the
        configured selection (first matching policy, else the default)."""
        config = self.process.sla
        if config is None:
            return None
        if self.host.has_implementations("choose_sla_policy"):
            chosen = self.host.first_result(
                "choose_sla_policy", complaint=complaint, policies=list(config.policies), desk=self
            )
            if chosen is not None:
                if chosen not in config.policies:
                    raise ConfigError(
                        f"choose_sla_policy returned {chosen!r}, which is not a configured "
                        f"policy; known: {', '.join(config.policies)}"
                    )
                return str(chosen)
        return config.select(complaint)

    def clocks(
        self, complaint: Complaint | str, *, now: datetime | None = None, with_left: bool = True
    ) -> sla.Clocks | None:
        """The SLA clocks of a complaint (or reference) at ``now``; None without a policy."""
        c = self.get(complaint) if isinstance(complaint, str) else complaint
        config = self.process.sla
        name = c.sla_policy or self.policy_for(c)
        if config is None or name is None or name not in config.policies:
            return None
        policy = config.policies[name]
        calendar = self.calendar(policy.calendar)
        return sla.compute_clocks(c, policy, calendar, now or self.clock(), with_left=with_left)

    def _with_sla(self, c: Complaint) -> Complaint:
        """``c`` with its SLA policy, ``due_at`` and ``alert_at`` recomputed from its history
        (the same object when nothing changed)."""
        config = self.process.sla
        if config is None:
            return c
        name = self.policy_for(c)
        if name is None:
            if c.sla_policy is None and c.due_at is None and c.alert_at is None:
                return c
            return attrs.evolve(c, sla_policy=None, due_at=None, alert_at=None)
        policy = config.policies[name]
        calendar = self.calendar(policy.calendar)
        clocks = sla.compute_clocks(c, policy, calendar, c.received_at, with_left=False)
        gap = next((t.gap for t in clocks.targets if t.gap is not None), None)
        if gap is not None:
            return self._without_deadlines(c, name, gap)
        due, alert = sla.schedule(c, clocks)
        history = self._exactness_noted(c, calendar, clocks, due)
        if (name, due, alert, history) == (c.sla_policy, c.due_at, c.alert_at, c.history):
            return c
        if c.sla_policy is not None and c.sla_policy != name:
            history += (
                Event(
                    at=history[-1].at if history else c.received_at,
                    actor=self.actor,
                    action="sla_policy",
                    reason="policy chosen again after a change",
                    data={"from": c.sla_policy, "to": name},
                ),
            )
        return attrs.evolve(c, sla_policy=name, due_at=due, alert_at=alert, history=history)

    def _exactness_noted(
        self,
        c: Complaint,
        calendar: BusinessCalendar,
        clocks: sla.Clocks,
        due: datetime | None,
    ) -> tuple[Event, ...]:
        """``c``'s history, with ``sla_provisional`` added when its deadlines rest on
        provisional calendar years (not already noted for those years), or ``sla_exact`` when
        deadlines noted provisional are exact now (the year's arrangement was given). Both
        record the targets' deadlines (``sla_exact``: from the provisional ones noted, to the
        exact ones)."""
        years = clocks.provisional_years
        noted = sla.provisional_state(c.history)
        if years == noted:
            return c.history
        last = c.history[-1].at if c.history else c.received_at
        at = max(last, self.clock())
        listed = ", ".join(str(y) for y in (years or noted))
        if years:
            from datetime import date

            basis_of = getattr(calendar, "basis", None)
            basis = basis_of(date(years[0], 12, 31)).en if basis_of is not None else "its fallback"
            reason = (
                f"deadlines provisional: calendar {calendar.name!r} has no official arrangement "
                f"for {listed}; computed on its provisional fallback: {basis}"
            )
            event = Event(
                at=at,
                actor=self.actor,
                action=sla.PROVISIONAL,
                reason=reason,
                data={
                    "calendar": calendar.name,
                    "years": list(years),
                    "deadlines": sla.deadlines_of(clocks),
                },
            )
        else:
            before = sla.noted_deadlines(c.history)
            after = sla.deadlines_of(clocks)
            event = Event(
                at=at,
                actor=self.actor,
                action=sla.EXACT,
                reason=f"deadlines exact: calendar {calendar.name!r} now knows {listed} exactly",
                data={
                    "calendar": calendar.name,
                    "years": list(noted),
                    "deadlines": {
                        t: {"from": before.get(t), "to": after.get(t)}
                        for t in dict.fromkeys([*before, *after])
                    },
                },
            )
        return c.history + (event,)

    def record_past_alerts(self, c: Complaint, now: datetime) -> Complaint:
        """``c`` with the SLA warnings and breaches due before ``now`` recorded as historical.

        For a complaint whose history happened elsewhere (an import): each alert the sweep
        would record at ``now`` is appended as its ``sla_warning`` / ``sla_breach`` event by
        :data:`~complaintkit.lifecycle.IMPORT_ACTOR`, at ``now``, with ``"historical": true``
        in its data, and nothing fires and nothing escalates. The sweep then finds them
        recorded, and the reports count the breaches as missed targets. Returns ``c`` itself
        when it has no policy or nothing was due.
        """
        if not c.is_open:  # a finished complaint has no alert to record (and clocks cost)
            return c
        clocks = self.clocks(c, now=now, with_left=False)
        alerts = sla.pending_alerts(c, clocks) if clocks is not None else []
        if not alerts:
            return c
        events = tuple(
            Event(
                at=now,
                actor=lifecycle.IMPORT_ACTOR,
                action=kind,
                reason="due before the import: recorded as history, nobody notified",
                data={"target": target, "deadline": deadline.isoformat(), "historical": True},
            )
            for kind, target, deadline in alerts
        )
        return attrs.evolve(c, history=c.history + events)

    def _without_deadlines(self, c: Complaint, policy: str, reason: str) -> Complaint:
        """The complaint stored without deadlines when its calendar lacks the dates.

        Losing the complaint (or a whole import) over a calendar's range would be worse than
        storing it without a clock; the history says why, and a warning tells the admin to
        give the calendar the year's arrangement (docs/calendars.md) and run ``recompute``.
        """
        warnings.warn(f"complaint {c.reference} has no SLA deadlines: {reason}", SLAWarning, 2)
        noted = any(e.action == "sla_unavailable" and e.reason == reason for e in c.history)
        history = c.history
        if not noted:
            at = history[-1].at if history else c.received_at
            event = Event(at=at, actor=self.actor, action="sla_unavailable", reason=reason)
            history += (event,)
        if (c.sla_policy, c.due_at, c.alert_at, history) == (policy, None, None, c.history):
            return c
        return attrs.evolve(c, sla_policy=policy, due_at=None, alert_at=None, history=history)

    def _route_for(self, c: Complaint) -> Route | None:
        if self.host.has_implementations("route_complaint"):
            found = self.host.first_result("route_complaint", complaint=c, desk=self)
            if found is not None:
                return found  # type: ignore[no-any-return]
        return self.process.routing.route(c)

    def _routed(self, c: Complaint, route: Route, at: datetime) -> Complaint:
        changes: dict[str, Any] = {}
        data: dict[str, Any] = {"rule": route.rule}
        for key in ("department", "assignee"):
            value = getattr(route, key)
            if value is not None and value != getattr(c, key):
                changes[key] = value
                data[key] = {"from": getattr(c, key), "to": value}
        if not changes:
            return c
        event = Event(at=at, actor=self.actor, action="assign", reason=route.reason, data=data)
        return attrs.evolve(c, **changes, history=c.history + (event,))

    def _raised(
        self,
        c: Complaint,
        level: EscalationLevel,
        reason: str,
        at: datetime,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Complaint, Event]:
        """``c`` raised to ``level``, handed to that level's configured owner."""
        owner = self.process.escalation.owner(level)
        data: dict[str, Any] = {"from": c.escalation_level.slug, "to": level.slug, **(extra or {})}
        changes: dict[str, Any] = {"escalation_level": level}
        for key in ("department", "assignee"):
            value = getattr(owner, key)
            if value is not None and value != getattr(c, key):
                changes[key] = value
                data[key] = {"from": getattr(c, key), "to": value}
        event = Event(at=at, actor=self.actor, action="escalate", reason=reason, data=data)
        return attrs.evolve(c, **changes, history=c.history + (event,)), event

    def _process_new(self, c: Complaint, *, lookup: bool) -> tuple[Complaint, Fires]:
        """Routing, re-complaint link (when ``lookup``: it reads the store), fast channel and
        SLA for a complaint about to be stored. A complaint with an imported history is only
        routed (while open) and given its SLA, with the alerts it reached before now recorded
        as historical: nothing that happened before the import escalates it."""
        imported = lifecycle.is_imported(c)
        if imported:
            if not self._process_active():
                return c, ()
            now = self.clock()
            routing = self.process.routing
            if routing.at_intake and c.is_open and c.department is None and c.assignee is None:
                route = self._route_for(c)
                if route is not None:
                    c = self._routed(c, route, now)
            return self._with_sla(self.record_past_alerts(c, now)), ()
        if not (lookup and self.process.recomplaint is not None) and not self._process_active():
            return c, ()
        at = c.history[-1].at if c.history else self.clock()
        fires: list[tuple[str, dict[str, Any]]] = []
        routing = self.process.routing
        if routing.at_intake and c.department is None and c.assignee is None:
            route = self._route_for(c)
            if route is not None:
                c = self._routed(c, route, at)
        if lookup and self.process.recomplaint is not None:
            from .recomplaint import complainant_keys

            earlier: dict[str, Complaint] = {}
            for key in complainant_keys(c):
                flt = ComplaintFilter(
                    complainant=key, statuses=frozenset({Status.RESOLVED, Status.CLOSED})
                )
                earlier.update((e.reference, e) for e in self.store.find(flt))
            c, more = self._linked(c, earlier.values())
            fires += more
        escalation = self.process.escalation
        fast = escalation.fast_channel
        if fast is not None and fast.matches(c) and c.escalation_level < escalation.fast_level:
            c, event = self._raised(
                c,
                escalation.fast_level,
                f"fast channel (快速通道): {fast.describe()}",
                at,
                {"fast_channel": True},
            )
            fires.append(("complaint_escalated", {"event": event}))
        return self._with_sla(c), tuple(fires)

    def _linked(self, c: Complaint, earlier: Iterable[Complaint]) -> tuple[Complaint, Fires]:
        """``c`` linked to the complaint it repeats, one level above it (or unchanged)."""
        from .recomplaint import find_parent

        config = self.process.recomplaint
        if config is None or c.parent is not None:
            return c, ()
        found = find_parent(c, earlier, config)
        if found is None:
            return c, ()
        parent, why = found
        at = c.history[-1].at if c.history else c.received_at
        link = Event(
            at=at,
            actor=self.actor,
            action="recomplaint",
            reason=f"repeats {parent.reference}: {why}",
            data={"parent": parent.reference, "match": why},
        )
        c = attrs.evolve(
            c,
            parent=parent.reference,
            recomplaint_count=parent.recomplaint_count + 1,
            history=c.history + (link,),
        )
        fires: list[tuple[str, dict[str, Any]]] = [("complaint_recomplaint", {"previous": parent})]
        target = EscalationLevel(min(parent.escalation_level + 1, EscalationLevel.LEADERSHIP))
        if target > c.escalation_level:
            c, event = self._raised(
                c,
                target,
                f"re-complaint (复投诉) of {parent.reference}",
                at,
                {"parent": parent.reference},
            )
            fires.append(("complaint_escalated", {"event": event}))
        return c, tuple(fires)

    def _link_repeats(self, new: list[Complaint]) -> None:
        """Link a batch's repeat complaints with one scan of the resolved and closed ones."""
        from .recomplaint import complainant_keys

        keys = {k for c in new for k in complainant_keys(c)}
        if not keys:
            return
        closed = ComplaintFilter(statuses=frozenset({Status.RESOLVED, Status.CLOSED}))
        by_key: dict[str, list[Complaint]] = {}
        for old in self.store.find(closed):
            for key in complainant_keys(old):
                if key in keys:
                    by_key.setdefault(key, []).append(old)
        changed: list[tuple[Complaint, Fires]] = []
        for c in new:
            candidates = {o.reference: o for k in complainant_keys(c) for o in by_key.get(k, [])}
            if not candidates:
                continue
            current = attrs.evolve(c, version=1)
            linked, fires = self._linked(current, candidates.values())
            if linked is not current:
                changed.append((self._with_sla(linked), fires))
        if not changed:
            return
        result = self.store.update_many([c for c, _ in changed])
        stored = {c.reference: c for c in result.updated}
        for complaint, fires in changed:
            if complaint.reference in stored:
                self._fire_all(stored[complaint.reference], fires)

    def route(self, reference: str) -> tuple[Complaint, Route]:
        """Route a complaint now (the ``route_complaint`` hook, else ``[[routing.rules]]``).

        Raises :class:`TransitionRejected` when no rule matches.
        """
        decided: list[Route] = []

        def change(c: Complaint) -> _Change:
            route = self._route_for(c)
            if route is None:
                raise TransitionRejected(
                    f"no routing rule matches complaint {c.reference}; add a [[routing.rules]] "
                    "entry or assign it by hand (complaintkit assign)"
                )
            decided[:] = [route]
            return _Change(self._routed(c, route, self.clock()))

        return self._mutate(reference, change), decided[0]

    def _note(
        self,
        reference: str,
        action: str,
        reason: str | None,
        check: Callable[[Complaint], str | None],
        data: dict[str, Any] | None = None,
    ) -> Complaint:
        def change(c: Complaint) -> _Change:
            problem = check(c)
            if problem:
                raise TransitionRejected(f"cannot {action} complaint {c.reference}: {problem}")
            event = Event(
                at=self.clock(), actor=self.actor, action=action, reason=reason, data=data or {}
            )
            return _Change(attrs.evolve(c, history=c.history + (event,)))

        return self._mutate(reference, change)

    @staticmethod
    def is_paused(c: Complaint) -> bool:
        """True while the complaint's clocks are paused (waiting on the customer)."""
        for event in reversed(c.history):
            if event.action in (sla.PAUSE, sla.RESUME):
                return event.action == sla.PAUSE
        return False

    def pause(self, reference: str, *, reason: str) -> Complaint:
        """Stop the SLA clocks while waiting on the customer (a ``pause`` event)."""
        if not reason:
            raise TransitionRejected("pause needs a reason (what are we waiting for?)")

        def check(c: Complaint) -> str | None:
            if not c.is_open:
                return f"it is {c.status.value}"
            return "its clocks are already paused" if self.is_paused(c) else None

        return self._note(reference, sla.PAUSE, reason, check)

    def resume(self, reference: str, *, reason: str | None = None) -> Complaint:
        """Restart the SLA clocks (a ``resume`` event); paused time is added to the deadlines."""
        return self._note(
            reference,
            sla.RESUME,
            reason,
            lambda c: None if self.is_paused(c) else "its clocks are not paused",
        )

    def respond(self, reference: str, message: str) -> Complaint:
        """Record a response to the complainant (meets the ``respond`` target)."""
        if not message:
            raise TransitionRejected("respond needs the message given to the complainant")
        return self._note(
            reference,
            sla.RESPOND,
            message,
            lambda c: None if c.is_open else f"it is {c.status.value}",
        )

    def offer_remedy(
        self,
        reference: str,
        kind: RemedyKind,
        *,
        amount: float | None = None,
        currency: str | None = None,
        description: str | None = None,
        customer_loss: float | None = None,
        complaint_cost: float | None = None,
        role: str | None = None,
    ) -> tuple[Complaint, list[str]]:
        """Record a remedy offered to the complainant; returns the complaint and warnings.

        Refused with :class:`~complaintkit.errors.ApprovalError` when ``amount`` is above the
        limit of ``role`` (or of the actor's role in ``[remedies.roles]``). A remedy worth
        less than the customer's loss plus the cost of complaining (V2 < V1 + C) is recorded
        with a warning.
        """
        from .remedies import value_warning

        config = self.process.remedies
        if amount is not None and amount < 0:
            raise TransitionRejected("a remedy amount cannot be negative")
        approved = config.check_approval(amount, role, self.actor)
        warnings: list[str] = []

        def change(c: Complaint) -> _Change:
            if c.status in (Status.CLOSED, Status.WITHDRAWN, Status.REJECTED):
                raise TransitionRejected(
                    f"cannot offer a remedy on complaint {c.reference}: it is {c.status.value}"
                )
            at = self.clock()
            remedy = Remedy(
                kind=kind,
                amount=amount,
                currency=currency or (config.currency if amount is not None else None),
                description=description,
                customer_loss=customer_loss,
                complaint_cost=complaint_cost
                if complaint_cost is not None
                else config.complaint_cost,
                offered_by=self.actor,
                approved_by=approved,
                offered_at=at,
            )
            warning = value_warning(remedy, config.complaint_cost)
            warnings[:] = [warning] if warning else []
            data: dict[str, Any] = {
                "index": len(c.remedies),
                "kind": kind.value,
                "amount": amount,
                "currency": remedy.currency,
                "approved_by": approved,
            }
            if warning:
                data["warning"] = warning
            event = Event(
                at=at, actor=self.actor, action="remedy_offered", reason=description, data=data
            )
            return _Change(
                attrs.evolve(c, remedies=c.remedies + (remedy,), history=c.history + (event,))
            )

        return self._mutate(reference, change), warnings

    def accept_remedy(self, reference: str, index: int = -1) -> Complaint:
        """Record that the complainant accepted remedy ``index`` (default: the latest)."""

        def change(c: Complaint) -> _Change:
            if not c.remedies:
                raise TransitionRejected(f"complaint {c.reference} has no remedy offered")
            try:
                remedy = c.remedies[index]
            except IndexError:
                # People number remedies from 1 (`remedy --accept N`, `show`); index is 0-based.
                count = len(c.remedies)
                which = f"#{index + 1}" if index >= 0 else f"at position {index}"
                raise TransitionRejected(
                    f"complaint {c.reference} has {count} remed{'y' if count == 1 else 'ies'} "
                    f"(#1 to #{count}); there is no remedy {which}"
                ) from None
            position = index % len(c.remedies)
            if remedy.accepted:
                return _Change(c)
            remedies = list(c.remedies)
            remedies[position] = attrs.evolve(remedy, accepted=True)
            event = Event(
                at=self.clock(),
                actor=self.actor,
                action="remedy_accepted",
                reason=None,
                data={"index": position, "kind": remedy.kind.value, "amount": remedy.amount},
            )
            return _Change(attrs.evolve(c, remedies=tuple(remedies), history=c.history + (event,)))

        return self._mutate(reference, change)

    def record_satisfaction(self, reference: str, score: int) -> Complaint:
        """Record satisfaction 1-5: closes a resolved complaint with it, or sets it on a
        closed one (a ``satisfaction`` event keeps any earlier score)."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise TransitionRejected(
                f"satisfaction must be a whole number from 1 to 5, got {score!r}"
            )
        current = self.get(reference)
        if current.status is Status.RESOLVED:
            return self.transition(reference, "close", satisfaction=score)

        def change(c: Complaint) -> _Change:
            if c.status is not Status.CLOSED:
                raise TransitionRejected(
                    f"cannot record satisfaction on complaint {c.reference}: it is "
                    f"{c.status.value}; satisfaction is collected at closure"
                )
            event = Event(
                at=self.clock(),
                actor=self.actor,
                action="satisfaction",
                reason=None,
                data={"from": c.satisfaction, "to": score},
            )
            return _Change(attrs.evolve(c, satisfaction=score, history=c.history + (event,)))

        return self._mutate(reference, change)

    @_batched
    def sweep(
        self,
        *,
        now: datetime | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> SweepResult:
        """Record due SLA warnings and breaches and escalate on breaches, as of ``now``.

        Looks only at open complaints whose ``alert_at`` has come; then runs the plugins'
        ``sweep_finished`` work (early warning), whose lines end up in ``notes``. Idempotent:
        whether a warning or breach for (target, deadline) is already recorded is read from the
        history, and every change is written with a version check (a complaint changed by a
        concurrent sweep is re-read and re-decided), so two sweeps at once never escalate twice.
        """
        now = now or self.clock()
        flt = ComplaintFilter(alert_by=now, open_only=True)
        found = list(self.store.find(flt))
        totals = {"warnings": 0, "breaches": 0, "escalations": 0, "redecided": 0}
        changed: list[str] = []
        batch: list[tuple[_Change, dict[str, int]]] = []

        def count(reference: str, done: dict[str, int]) -> None:
            if done:
                changed.append(reference)
            for key, value in done.items():
                totals[key] += value

        def flush() -> None:
            # One write per batch (a file store rewrites its file per write); a complaint
            # changed meanwhile by someone else (another sweep) is re-read and re-decided.
            if not batch:
                return
            result = self.store.update_many([change.complaint for change, _ in batch])
            stored = {c.reference: c for c in result.updated}
            for change, done in batch:
                reference = change.complaint.reference
                if reference in stored:
                    self._fire_all(stored[reference], change.fire)
                    count(reference, done)
            for reference in result.conflicts:
                totals["redecided"] += 1
                redone: dict[str, int] = {}
                self._mutate(reference, functools.partial(self._sweep_one, now=now, done=redone))
                count(reference, redone)
            batch.clear()

        for complaint in found:
            done: dict[str, int] = {}
            change = self._sweep_one(complaint, now, done)
            if dry_run:
                count(complaint.reference, done)
            elif change.complaint is not complaint:
                batch.append(
                    (attrs.evolve(change, complaint=self._with_sla(change.complaint)), done)
                )
                if len(batch) >= self.SWEEP_BATCH:
                    flush()
            if progress is not None:
                progress(1)
        flush()
        notes = self.host.collect("sweep_finished", desk=self, now=now, dry_run=dry_run)
        return SweepResult(
            examined=len(found),
            warnings=totals["warnings"],
            breaches=totals["breaches"],
            escalations=totals["escalations"],
            changed=tuple(changed),
            dry_run=dry_run,
            redecided=totals["redecided"],
            notes=tuple(line for lines in notes for line in lines),
        )

    def _sweep_one(self, c: Complaint, now: datetime, done: dict[str, int]) -> _Change:
        """The sweep's change to one complaint; ``done`` counts what it records."""
        done.clear()
        escalation = self.process.escalation
        clocks = self.clocks(c, now=now, with_left=False)
        alerts = sla.pending_alerts(c, clocks) if clocks is not None else []
        if not alerts:
            return _Change(self._with_sla(c))
        fires: list[tuple[str, dict[str, Any]]] = []
        escalations: list[tuple[str, dict[str, Any]]] = []
        new = c
        for kind, target, deadline in alerts:
            event = Event(
                at=now,
                actor=self.actor,
                action=kind,
                reason=None,
                data={"target": target, "deadline": deadline.isoformat()},
            )
            new = attrs.evolve(new, history=new.history + (event,))
            hook = "complaint_sla_warning" if kind == sla.WARNING else "complaint_sla_breached"
            fires.append((hook, {"target": target, "deadline": deadline}))
            key = "warnings" if kind == sla.WARNING else "breaches"
            done[key] = done.get(key, 0) + 1
            if (
                kind == sla.BREACH
                and target in escalation.escalate_on
                and new.escalation_level < EscalationLevel.LEADERSHIP
            ):
                new, raised = self._raised(
                    new,
                    EscalationLevel(new.escalation_level + 1),
                    f"SLA breach: {target} was due {deadline.isoformat()}",
                    now,
                    {"target": target, "deadline": deadline.isoformat()},
                )
                escalations.append(("complaint_escalated", {"event": raised}))
                done["escalations"] = done.get("escalations", 0) + 1
        return _Change(new, tuple(fires + escalations))

    # --- recompute after a configuration change -------------------------------------------

    #: How many complaints a recompute writes at once, and reads at once (a page).
    RECOMPUTE_BATCH = 500
    RECOMPUTE_PAGE = 5000

    @_batched
    def recompute(
        self,
        *,
        dry_run: bool = False,
        past_breaches: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> RecomputeResult:
        """Derive policy, route and deadlines again for stored complaints, from their history
        and the configuration as it is now (e.g. after ``[sla]`` or ``[routing]`` was set up
        for complaints imported before, or a calendar year's arrangement was given).

        Nothing is notified and nothing escalated: no lifecycle hook fires. Routing is
        re-derived only where every change of department or assignee so far was made by routing
        (a manual ``assign`` or an escalation's hand-over is kept). With ``past_breaches``, a
        deadline of an open complaint that has already passed is recorded as a historical
        ``sla_breach`` (``data["historical"]``) so that the next sweep does not announce and
        escalate breaches that happened before; without it, the sweep records them as usual.
        Complaints are read a page at a time (``find`` order, which a recompute never
        changes) and written in batches with a version check; a complaint changed meanwhile is
        re-read and recomputed. With ``dry_run`` nothing is written and the result says what
        would be.
        """
        now = self.clock()
        examined = 0
        counts = dict.fromkeys(RECOMPUTE_KINDS, 0)
        changes: list[tuple[str, tuple[str, ...]]] = []
        batch: list[tuple[Complaint, tuple[str, ...], dict[str, int]]] = []
        redecided = 0

        def note(reference: str, what: tuple[str, ...], kinds: dict[str, int]) -> None:
            changes.append((reference, what))
            for kind, n in kinds.items():
                counts[kind] += n

        def again(c: Complaint, outcome: list[tuple[tuple[str, ...], dict[str, int]]]) -> _Change:
            new, what, kinds = self._recomputed(c, now, past_breaches)
            outcome[:] = [(what, kinds)] if new is not c else []
            return _Change(new)

        def flush() -> None:
            nonlocal redecided
            if not batch:
                return
            result = self.store.update_many([c for c, _, _ in batch])
            stored = {c.reference for c in result.updated}
            for complaint, what, kinds in batch:
                if complaint.reference in stored:
                    note(complaint.reference, what, kinds)
            for reference in result.conflicts:
                # Changed meanwhile (by a sweep, a handler): read again and recompute.
                redecided += 1
                outcome: list[tuple[tuple[str, ...], dict[str, int]]] = []
                self._mutate(reference, functools.partial(again, outcome=outcome))
                if outcome:
                    note(reference, *outcome[0])
            batch.clear()

        while True:
            page = list(self.store.find(limit=self.RECOMPUTE_PAGE, offset=examined))
            if not page:
                break
            examined += len(page)
            for complaint in page:
                new, what, kinds = self._recomputed(complaint, now, past_breaches)
                if new is not complaint:
                    if dry_run:
                        note(complaint.reference, what, kinds)
                    else:
                        batch.append((new, what, kinds))
                        if len(batch) >= self.RECOMPUTE_BATCH:
                            flush()
                if progress is not None:
                    progress(1)
            flush()
        return RecomputeResult(
            examined=examined,
            changed=len(changes),
            counts=counts,
            changes=tuple(changes),
            dry_run=dry_run,
            redecided=redecided,
        )

    def _rerouteable(self, c: Complaint) -> bool:
        """True when routing may decide ``c``'s department and assignee again: routing at
        intake is on, and they are unset or were set by routing only."""
        if not self.process.routing.at_intake:
            return False
        routed = False
        for event in c.history:
            if "department" in event.data or "assignee" in event.data:
                if event.action != "assign" or "rule" not in event.data:
                    return False
                routed = True
        # A department that came with the complaint (an import's column) is kept too.
        return routed or (c.department is None and c.assignee is None)

    def _recomputed(
        self, c: Complaint, now: datetime, past_breaches: bool
    ) -> tuple[Complaint, tuple[str, ...], dict[str, int]]:
        """``c`` with route, policy and deadlines derived again (the same object when nothing
        changes), what changed in words, and counts by :data:`RECOMPUTE_KINDS`."""
        what: list[str] = []
        kinds: dict[str, int] = {}
        new = c
        if self._rerouteable(c):
            route = self._route_for(c)
            if route is not None:
                new = self._routed(new, route, now)
                if new is not c:
                    who = " / ".join(v for v in (new.department, new.assignee) if v)
                    what.append(f"routed to {who} ({route.reason or route.rule or 'plugin'})")
                    kinds["route"] = 1
        new = self._with_sla(new)
        if past_breaches and self.process.sla is not None:
            clocks = self.clocks(new, now=now, with_left=False)
            overdue = sla.pending_alerts(new, clocks) if clocks is not None else []
            for kind, target, deadline in overdue:
                if kind != sla.BREACH:
                    continue
                event = Event(
                    at=now,
                    actor=self.actor,
                    action=sla.BREACH,
                    reason="deadline passed before the recompute: recorded as history, "
                    "nobody notified, not escalated",
                    data={"target": target, "deadline": deadline.isoformat(), "historical": True},
                )
                new = attrs.evolve(new, history=new.history + (event,))
                what.append(f"{target} deadline {deadline.isoformat()} had passed: breach recorded")
                kinds["past_breaches"] = kinds.get("past_breaches", 0) + 1
            if kinds.get("past_breaches") and clocks is not None:
                # The breaches change no deadline, only what is left to announce.
                due, alert = sla.schedule(new, clocks)
                new = attrs.evolve(new, due_at=due, alert_at=alert)
        if new.sla_policy != c.sla_policy:
            what.append(f"policy {c.sla_policy or '-'} → {new.sla_policy or '-'}")
            kinds["policy"] = 1
        if new.due_at != c.due_at:
            before = c.due_at.isoformat() if c.due_at else "-"
            after = new.due_at.isoformat() if new.due_at else "-"
            what.append(f"due {before} → {after}")
            kinds["deadlines"] = 1
        added = new.history[len(c.history) :] if new is not c else ()
        for event in added:
            if event.action == sla.EXACT:
                what.append(str(event.reason))
                kinds["exact"] = 1
                for target, moved in event.data.get("deadlines", {}).items():
                    if moved["from"] != moved["to"]:
                        what.append(f"{target} {moved['from'] or '-'} → {moved['to'] or '-'}")
                        kinds["deadlines"] = 1
            elif event.action == sla.PROVISIONAL:
                what.append(str(event.reason))
                kinds["provisional"] = 1
        if new is not c and not what:
            what.append("next alert moved")
        return new, tuple(what), kinds

    # --- spikes ---------------------------------------------------------------------------

    def announce_spike(
        self, warning: SpikeWarning, members: ComplaintFilter, *, now: datetime | None = None
    ) -> bool:
        """Record ``warning`` on the oldest complaint matching ``members`` and announce it
        with ``spike_detected``; False (nothing done) when it was announced before.

        The warning is recorded (action ``spike_detected``, data with its stable ``id``) in
        the history of the oldest complaint of the flagged series and period, and a warning
        already recorded on any member is not announced again. The record is written with the
        usual version check, so two sweeps at once announce it once.
        """
        now = now or self.clock()
        found = list(self.store.find(members))
        if not found or any(self._has_spike(c, warning.id) for c in found):
            return False
        event = Event(
            at=now,
            actor=self.actor,
            action=SPIKE_ACTION,
            reason=(
                f"{warning.observed} complaints with {warning.dimension}={warning.value} in "
                f"the {warning.period} of {warning.period_start.isoformat()}; expected "
                f"{warning.expected:.1f}, alarm above {warning.upper:.1f} ({warning.method})"
            ),
            data=warning.as_data("en"),
        )
        added = [False]

        def change(c: Complaint) -> _Change:
            # Re-run on a lost race: whoever stored the record first announces it.
            added[0] = not self._has_spike(c, warning.id)
            if not added[0]:
                return _Change(c)
            return _Change(attrs.evolve(c, history=c.history + (event,)))

        stored = self._mutate(found[0].reference, change)
        if added[0]:
            self.host.fire("spike_detected", warning=warning, complaint=stored, desk=self)
        return added[0]

    @staticmethod
    def _has_spike(c: Complaint, warning_id: str) -> bool:
        return any(e.action == SPIKE_ACTION and e.data.get("id") == warning_id for e in c.history)

    # --- reports ------------------------------------------------------------------------

    def report_context(
        self,
        *,
        lang: str = "en",
        options: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> ReportContext:
        """The context reporters run in: the schemes, ``lang``, ``now`` (default: the desk's
        clock), the configuration, ``options`` and the business calendars."""
        from .reporting import ReportContext

        return ReportContext(
            self.host.schemes(),
            lang,
            now or self.clock(),
            self.host.config,
            dict(options or {}),
            self.calendar,
        )

    def report(
        self,
        name: str,
        flt: ComplaintFilter | None = None,
        *,
        lang: str = "en",
        options: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Report:
        """Run a registered reporter over the complaints matching ``flt``, as of ``now``
        (default: the desk's clock), with its ``options`` (refused with
        :class:`~complaintkit.errors.ConfigError` when the reporter does not declare them)."""
        from .reporting import check_options

        reporter = self.host.reporter(name)
        check_options(reporter, options or {})
        context = self.report_context(lang=lang, options=options, now=now)
        return reporter.run(self.store, flt or ComplaintFilter(), context)

    # --- plumbing -----------------------------------------------------------------------

    def _mutate(self, reference: str, change: Callable[[Complaint], _Change]) -> Complaint:
        """Read, change, write with a version check; on a lost race, pause, read again and redo
        (as :attr:`retry` says). The hooks fire once, after the write that succeeded."""

        def attempt() -> tuple[Complaint, Fires]:
            current = self.store.get(reference)
            result = change(current)
            if result.complaint is current:
                return current, ()
            return self.store.update(self._with_sla(result.complaint)), result.fire

        stored, fires = self.retry.run(attempt)
        self._fire_all(stored, fires)
        return stored

    def _fire_all(self, complaint: Complaint, fires: Iterable[tuple[str, dict[str, Any]]]) -> None:
        for hook_name, kwargs in fires:
            self.host.fire(hook_name, complaint=complaint, desk=self, **kwargs)
