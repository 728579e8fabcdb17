"""The one façade applications use: intake, classify, transition, assign, escalate, query.

The desk stores every change through the :class:`~complaintkit.storage.Store` with an
optimistic version check, retries a change that lost a race (re-reading the complaint and
re-applying the change after a random pause, so no update is lost; see
:class:`~complaintkit.retry.RetryPolicy`), and fires the lifecycle hooks after the change is
stored.

The desk is a façade: each concern is a unit of its own in this package, and the units share
one :class:`~complaintkit.desk.state.DeskState` (host, store, actor, clock, retry policy,
process configuration) rather than each other's insides:

* :mod:`~complaintkit.desk.batching` — batches and the work deferred to their end;
* :mod:`~complaintkit.desk.intake` — new complaints: checks, routing, re-complaint links,
  fast channel;
* :mod:`~complaintkit.desk.classifying` — automatic and manual labels;
* :mod:`~complaintkit.desk.clocks` — SLA policy, clocks, deadlines and their exactness;
* :mod:`~complaintkit.desk.rules` — routing and escalation decisions on a complaint in memory;
* :mod:`~complaintkit.desk.handling` — transitions, assignment, routing, escalation,
  responses, pauses;
* :mod:`~complaintkit.desk.remedies` — remedies and satisfaction;
* :mod:`~complaintkit.desk.casework` — edits, internal notes, attachments and merges;
  :mod:`~complaintkit.desk.casefile` holds the façade's methods for them;
* :mod:`~complaintkit.desk.sweeping` — the sweep and spike announcements;
* :mod:`~complaintkit.desk.recompute` — re-deriving after a configuration change;
* :mod:`~complaintkit.desk.reports` — running reporters;
* :mod:`~complaintkit.desk.writing` — one change: version check, retry, hooks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from .. import sla
from ..model import Complaint, EscalationLevel, Label, RemedyKind
from ..retry import RetryPolicy
from ..spikes import SpikeWarning
from ..storage import AddResult, ComplaintFilter, SortOrder, Store, find_sorted
from .batching import Batches, batched
from .casefile import CaseFileMethods
from .casework import CaseWork
from .classifying import MANUAL as MANUAL  # names the module had before it was a package
from .classifying import ClassificationPreview, Classifier
from .clocks import SLAClocks, SLAWarning, is_paused
from .handling import Handling
from .intake import Intake
from .recompute import RECOMPUTE_KINDS as RECOMPUTE_KINDS  # likewise
from .recompute import Recomputer, RecomputeResult
from .remedies import Remedies
from .reports import Reports
from .rules import Rules
from .state import DeskState, new_reference, utcnow
from .sweeping import Sweeper, SweepResult
from .writing import Writer

if TYPE_CHECKING:
    from ..calendars import BusinessCalendar
    from ..classification import ClassificationScheme
    from ..host import PluginHost
    from ..process import ProcessConfig
    from ..reporting import Report, ReportContext
    from ..routing import Route

__all__ = [
    "ClassificationPreview",
    "Desk",
    "RecomputeResult",
    "SLAWarning",
    "SweepResult",
    "new_reference",
    "utcnow",
]


class Desk(CaseFileMethods):
    """Complaint handling on one store with one set of plugins, on behalf of one actor.

    A change that another process wrote first is read again and re-applied, as ``retry`` says
    (default :class:`~complaintkit.retry.RetryPolicy`: random pauses that grow, for up to 30 s);
    ``retries`` additionally bounds how many times it is re-applied after the first try.
    """

    #: How many complaints the sweep writes at once.
    SWEEP_BATCH = 500
    #: How many complaints a recompute writes at once, and reads at once (a page).
    RECOMPUTE_BATCH = 500
    RECOMPUTE_PAGE = 5000

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
        policy = retry or RetryPolicy()
        if retries is not None:
            policy = attrs.evolve(policy, max_tries=retries + 1)
        self._state = s = DeskState(self, host, store, actor, clock, policy)
        self._batches = Batches(s)
        self._clocks = SLAClocks(s)
        writer = Writer(s, self._clocks)
        rules = Rules(s)
        self._classifier = Classifier(s, self._clocks, writer)
        self._intake = Intake(s, self._clocks, writer, self._classifier, rules)
        self._handling = Handling(s, writer, rules)
        self._remedies = Remedies(s, writer, self._handling)
        self._sweeper = Sweeper(s, self._clocks, writer, rules)
        self._recomputer = Recomputer(s, self._clocks, writer, rules)
        self._reports = Reports(s, self._clocks)
        self._casework = CaseWork(s, writer)
        if host.has_implementations("desk_opened"):
            # Not isolated: a plugin's check that fails stops the work before any change.
            host.pm.hook.desk_opened(desk=self)

    # --- what the units share -----------------------------------------------------------

    @property
    def host(self) -> PluginHost:
        """The plugin host."""
        return self._state.host

    @host.setter
    def host(self, host: PluginHost) -> None:
        self._state.host = host

    @property
    def store(self) -> Store:
        """The store every change is written to."""
        return self._state.store

    @store.setter
    def store(self, store: Store) -> None:
        self._state.store = store

    @property
    def actor(self) -> str:
        """Who the desk acts for: the actor of the events it records."""
        return self._state.actor

    @actor.setter
    def actor(self, actor: str) -> None:
        self._state.actor = actor

    @property
    def clock(self) -> Callable[[], datetime]:
        """The desk's clock: what "now" is."""
        return self._state.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self._state.clock = clock

    @property
    def retry(self) -> RetryPolicy:
        """How a change that lost a race is retried."""
        return self._state.retry

    @retry.setter
    def retry(self, retry: RetryPolicy) -> None:
        self._state.retry = retry

    # --- batches ------------------------------------------------------------------------

    def batch(self) -> AbstractContextManager[None]:
        """Group the follow-up work of many changes (an import, a sweep) into one flush.

        While a batch is open, lifecycle-hook implementations may defer work with
        :meth:`after_batch` (the notification plugin queues a whole import's messages in one
        transaction this way). Deferred callbacks run once when the outermost batch closes,
        also when it closes by an error: changes already stored still get their follow-up.
        ``intake_many``, ``classify_many`` and ``sweep`` open a batch themselves; batches nest.
        """
        return self._batches.batch()

    @property
    def in_batch(self) -> bool:
        """True while :meth:`batch` is open."""
        return self._batches.in_batch

    def after_batch(self, key: str, callback: Callable[[], None]) -> bool:
        """Run ``callback`` once when the open batch closes; False (nothing deferred) if none.

        ``key`` (e.g. the plugin's name) makes registering the same flush twice harmless: the
        first callback registered under a key is the one that runs.
        """
        return self._batches.after_batch(key, callback)

    # --- reading ------------------------------------------------------------------------

    def get(self, reference: str) -> Complaint:
        """The complaint with ``reference`` (raises NotFoundError)."""
        return self.store.get(reference)

    def find(
        self,
        flt: ComplaintFilter | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        sort: SortOrder | str | None = None,
    ) -> Iterator[Complaint]:
        """Complaints matching ``flt``, oldest first; or in the order ``sort`` says
        (a :class:`~complaintkit.storage.SortOrder` or its spelling, e.g. ``"-received_at"``
        for newest first, ``"due_at"``), sorted by the store where it can
        (:func:`~complaintkit.storage.find_sorted`)."""
        if sort is None:
            return self.store.find(flt, limit=limit, offset=offset)
        order = SortOrder.parse(sort) if isinstance(sort, str) else sort
        return find_sorted(self.store, flt, order, limit=limit, offset=offset)

    # --- classification -----------------------------------------------------------------

    def classify(
        self, reference: str, *, schemes: Sequence[str] | None = None, force: bool = False
    ) -> Complaint:
        """(Re-)classify one stored complaint; a changed label keeps the old one in history."""
        return self._classifier.classify(reference, schemes=schemes, force=force)

    def label(self, reference: str, scheme: str, label: str, *, reason: str | None) -> Complaint:
        """Set a label by hand; automatic re-classification will not override it.

        ``scheme`` and ``label`` may be keys or names in English or Chinese."""
        return self._classifier.label(reference, scheme, label, reason=reason)

    def label_many(
        self,
        decisions: Iterable[tuple[str, str, str, str | None]],
        *,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """:meth:`label` for many ``(reference, scheme, label, reason)`` decisions (a review
        file), written a batch of complaints at a time; returns how many were applied."""
        with self.batch():
            return self._classifier.label_many(decisions, batch_size=batch_size, progress=progress)

    @batched
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
        return self._classifier.classify_many(
            flt, schemes=schemes, force=force, progress=progress, batch_size=batch_size
        )

    def preview_classification(
        self,
        flt: ComplaintFilter | None = None,
        *,
        references: Sequence[str] = (),
        schemes: Sequence[str] | None = None,
        force: bool = False,
        examples: int = 3,
        progress: Callable[[int], None] | None = None,
    ) -> ClassificationPreview:
        """What :meth:`classify_many` (or :meth:`classify` of ``references``) would change,
        without writing anything: label moves per scheme with example references, and each
        label's count before and after (``complaintkit classify --dry-run``)."""
        complaints: Iterable[Complaint] = (
            (self.store.get(reference) for reference in references)
            if references
            else self.store.find(flt)
        )
        return self._classifier.preview(
            complaints, schemes=schemes, force=force, examples=examples, progress=progress
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
        return self._intake.prepare(complaint, schemes)

    def intake(self, complaint: Complaint, *, classify: bool = True) -> Complaint:
        """Store a new complaint: classified by every scheme (unless ``classify`` is False),
        routed, linked to the complaint it repeats, fast-channel escalated and given its SLA
        deadlines, as configured (docs/process.md)."""
        return self._intake.intake(complaint, classify=classify)

    @batched
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
        return self._intake.intake_many(complaints, classify=classify, schemes=schemes)

    # --- handling -----------------------------------------------------------------------

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
        return self._handling.transition(
            reference, action, reason=reason, solution=solution, satisfaction=satisfaction
        )

    def assign(
        self,
        reference: str,
        *,
        department: str | None = None,
        assignee: str | None = None,
        reason: str | None = None,
    ) -> Complaint:
        """Give a complaint to a department and/or a person; the history records who had it."""
        return self._handling.assign(
            reference, department=department, assignee=assignee, reason=reason
        )

    def escalate(
        self, reference: str, *, to: EscalationLevel | None = None, reason: str
    ) -> Complaint:
        """Raise the escalation level (one level up by default); lowering it is refused."""
        return self._handling.escalate(reference, to=to, reason=reason)

    def route(self, reference: str) -> tuple[Complaint, Route]:
        """Route a complaint now (the ``route_complaint`` hook, else ``[[routing.rules]]``).

        Raises :class:`TransitionRejected` when no rule matches.
        """
        return self._handling.route(reference)

    def record_disclosure(self, references: Iterable[str], *, reason: str) -> int:
        """Record in each complaint's history that its personal data was shown in full
        (``--unmasked``): a ``personal_data_disclosed`` event by the acting person with
        ``reason``; the number of complaints recorded. An empty reason is refused."""
        return self._handling.record_disclosure(references, reason=reason)

    @staticmethod
    def is_paused(c: Complaint) -> bool:
        """True while the complaint's clocks are paused (waiting on the customer)."""
        return is_paused(c)

    def pause(self, reference: str, *, reason: str) -> Complaint:
        """Stop the SLA clocks while waiting on the customer (a ``pause`` event)."""
        return self._handling.pause(reference, reason=reason)

    def resume(self, reference: str, *, reason: str | None = None) -> Complaint:
        """Restart the SLA clocks (a ``resume`` event); paused time is added to the deadlines."""
        return self._handling.resume(reference, reason=reason)

    def respond(self, reference: str, message: str) -> Complaint:
        """Record a response to the complainant (meets the ``respond`` target)."""
        return self._handling.respond(reference, message)

    # --- SLA clocks ---------------------------------------------------------------------

    @property
    def process(self) -> ProcessConfig:
        """The process configuration (``[sla]``, ``[routing]``, …), read once per desk."""
        return self._state.process

    def calendar(self, name: str | None) -> BusinessCalendar:
        """The business calendar ``name``, or the default one (``[calendars] default``)."""
        return self._clocks.calendar(name)

    def policy_for(self, complaint: Complaint) -> str | None:
        """The SLA policy for ``complaint``: the ``choose_sla_policy`` hook, else the
        configured selection (first matching policy, else the default)."""
        return self._clocks.policy_for(complaint)

    def clocks(
        self, complaint: Complaint | str, *, now: datetime | None = None, with_left: bool = True
    ) -> sla.Clocks | None:
        """The SLA clocks of a complaint (or reference) at ``now``; None without a policy."""
        return self._clocks.clocks(complaint, now=now, with_left=with_left)

    def record_past_alerts(self, c: Complaint, now: datetime) -> Complaint:
        """``c`` with the SLA warnings and breaches due before ``now`` recorded as historical.

        For a complaint whose history happened elsewhere (an import): each alert the sweep
        would record at ``now`` is appended as its ``sla_warning`` / ``sla_breach`` event by
        :data:`~complaintkit.lifecycle.IMPORT_ACTOR`, at ``now``, with ``"historical": true``
        in its data, and nothing fires and nothing escalates. The sweep then finds them
        recorded, and the reports count the breaches as missed targets. Returns ``c`` itself
        when it has no policy or nothing was due.
        """
        return self._clocks.record_past_alerts(c, now)

    # --- remedies and satisfaction ------------------------------------------------------

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
        return self._remedies.offer_remedy(
            reference,
            kind,
            amount=amount,
            currency=currency,
            description=description,
            customer_loss=customer_loss,
            complaint_cost=complaint_cost,
            role=role,
        )

    def accept_remedy(self, reference: str, index: int = -1) -> Complaint:
        """Record that the complainant accepted remedy ``index`` (default: the latest)."""
        return self._remedies.accept_remedy(reference, index)

    def record_satisfaction(self, reference: str, score: int) -> Complaint:
        """Record satisfaction 1-5: closes a resolved complaint with it, or sets it on a
        closed one (a ``satisfaction`` event keeps any earlier score)."""
        return self._remedies.record_satisfaction(reference, score)

    # --- sweep, recompute, spikes -------------------------------------------------------

    @batched
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
        return self._sweeper.sweep(now=now, dry_run=dry_run, progress=progress)

    @batched
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
        return self._recomputer.recompute(
            dry_run=dry_run, past_breaches=past_breaches, progress=progress
        )

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
        return self._sweeper.announce_spike(warning, members, now=now)

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
        return self._reports.report_context(lang=lang, options=options, now=now)

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
        return self._reports.report(name, flt, lang=lang, options=options, now=now)
