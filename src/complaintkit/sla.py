"""SLA policies and clocks: deadlines computed from a complaint's history, never stored as truth.

A policy (``[sla.policies.NAME]`` in the configuration) sets up to three targets:

Amounts use :func:`~complaintkit.calendars.parse_duration`: ``"3 working days"`` and
``"4 working hours"`` count working time on the policy's calendar, ``"24 hours"`` is elapsed
time.

* ``acknowledge`` — tell the complainant the complaint was received. Met by the first
  ``acknowledge`` (or any later handling step: assess, investigate, respond, propose, resolve,
  close, withdraw, reject).
* ``respond`` — the first real answer. Met by the first ``respond`` note
  (:meth:`Desk.respond <complaintkit.desk.Desk.respond>`), ``propose``, ``resolve``, ``close``,
  ``withdraw``, ``reject`` or ``merge``.
* ``resolve`` — a result. Met by ``resolve``, ``close``, ``withdraw``, ``reject`` or ``merge``. A
  ``reopen`` restarts the resolve clock at the reopening.

Every clock starts when the complaint was received (``received_at``). ``pause`` / ``resume``
events (waiting on the customer) stop the clocks: the working time spent paused is added to
each deadline not yet met. Because deadlines come only from the history, the policy and the
calendar, a change of policy (re-classification) or of calendar replays deterministically: the
clocks are simply computed again.

**One verdict.** The clocks are computed from a complaint's
:class:`~complaintkit.facts.ComplaintFacts` by :func:`clocks_of`, the only place a target is
judged: ``complaintkit clocks``, the sweep and the reports (``sla``, ``kpis``, ``8d``) all call
it (``sla`` and ``kpis`` with only the :class:`~complaintkit.facts.ClockFacts`, read as fact
columns: on SQL computed in the database). Each target gets one of :data:`OUTCOMES`:

* ``met`` — reached at or before its deadline, and no breach recorded;
* ``missed`` — reached after its deadline, or an ``sla_breach`` is recorded for its clock (by
  the sweep, or imported as history): a recorded breach stays a miss even if a later change of
  policy or calendar moved the deadline;
* ``open_past_due`` — not reached, and the deadline has passed at ``now`` or a breach is
  recorded;
* ``open_within`` — not reached and not yet due (a paused clock is never due);
* ``no_deadline`` — no breach recorded, and no deadline could be computed because the calendar
  does not cover the dates (:class:`~complaintkit.errors.CalendarRangeError`): neither met nor
  missed can be said;
* ``untimed`` — reached at a time nobody knows, and no breach recorded: an imported history
  said the complaint was, say, closed without giving the time it was closed
  (:attr:`ComplaintFacts.untimed <complaintkit.facts.ComplaintFacts>`); neither met nor missed
  can be said, and the sweep leaves the target alone.

**Provisional deadlines.** A deadline counted over days the calendar knows only from its stated
fallback (a year whose official holiday arrangement is not given yet, see
:meth:`~complaintkit_calendars.working.WorkingCalendar.exactness`) is computed and judged as
usual, and its clock names those years in ``provisional_years``; the desk records
``sla_provisional`` on the complaint, and ``sla_exact`` once the year's arrangement makes the
deadlines exact.

``warn_before`` (per policy, or for every policy in ``[sla]``) is wall-clock time before a
deadline at which the sweep records a warning.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, get_args

import attrs

from .calendars import add_duration, provisional_years
from .errors import CalendarRangeError, ConfigError
from .facts import (
    ACKNOWLEDGE_ACTIONS,
    RESOLVE_ACTIONS,
    RESPOND_ACTIONS,
    ClockFacts,
    ComplaintFacts,
    facts_of,
)
from .i18n import Names
from .matching import Match
from .model import Complaint, Event
from .settings import Duration, InvalidSetting, structure_section

if TYPE_CHECKING:
    from .calendars import BusinessCalendar
    from .config import Config

__all__ = [
    "BREACH",
    "EXACT",
    "MEETS",
    "OUTCOMES",
    "OUTCOME_NAMES",
    "PAUSE",
    "PROVISIONAL",
    "RESPOND",
    "RESUME",
    "SlaTarget",
    "TARGETS",
    "TARGET_NAMES",
    "WARNING",
    "Clocks",
    "SlaConfig",
    "SlaPolicy",
    "Target",
    "TargetClock",
    "clocks_of",
    "compute_clocks",
    "deadlines_of",
    "load_sla_config",
    "noted_deadlines",
    "pending_alerts",
    "provisional_state",
    "recorded",
    "schedule",
    "verdict",
]

#: An SLA target's name, as written in the configuration.
SlaTarget = Literal["acknowledge", "respond", "resolve"]
TARGETS: tuple[str, ...] = get_args(SlaTarget)
PAUSE = "pause"
RESUME = "resume"
RESPOND = "respond"
WARNING = "sla_warning"
BREACH = "sla_breach"
#: History actions: the deadlines became provisional (``data["years"]``), or exact again.
PROVISIONAL = "sla_provisional"
EXACT = "sla_exact"
#: Display names of the targets and of a clock's states.
TARGET_NAMES = {
    "acknowledge": Names("acknowledge", "确认受理"),
    "respond": Names("first response", "首次响应"),
    "resolve": Names("resolve", "解决"),
}
#: How a target stands (see the module's documentation): the one vocabulary of ``clocks``
#: and the reports.
OUTCOMES = ("met", "missed", "open_within", "open_past_due", "no_deadline", "untimed")
#: Display names of :data:`OUTCOMES`.
OUTCOME_NAMES = {
    "met": Names("met", "已达成"),
    "missed": Names("missed", "未达成"),
    "open_within": Names("open, within due", "处理中·未超时"),
    "open_past_due": Names("open, past due", "处理中·已超时"),
    "no_deadline": Names("no deadline", "无法计算期限"),
    "untimed": Names("reached, time unknown", "已达成·时间不详"),
}
#: Which history actions meet each target (the first one after the clock started counts);
#: defined with the report facts (:mod:`complaintkit.facts`), which record those instants.
MEETS: dict[str, frozenset[str]] = {
    "acknowledge": ACKNOWLEDGE_ACTIONS,
    "respond": RESPOND_ACTIONS,
    "resolve": RESOLVE_ACTIONS,
}


@attrs.frozen
class Target:
    """One target of a policy: ``amount`` of working time in ``unit`` ("hours" or "days")."""

    name: str
    amount: timedelta
    unit: str
    text: str


@attrs.frozen
class SlaPolicy:
    """A named set of targets on one business calendar (None: the default calendar)."""

    name: str
    targets: tuple[Target, ...]
    calendar: str | None
    warn_before: timedelta | None = None
    match: Match = attrs.field(factory=Match)
    description: str | None = None


@attrs.frozen
class SlaConfig:
    """The configured policies in selection order, and the default."""

    policies: dict[str, SlaPolicy]
    order: tuple[str, ...]
    default: str | None

    def select(self, complaint: Complaint) -> str | None:
        """The first policy (in order) whose non-empty ``match`` matches, else the default."""
        for name in self.order:
            policy = self.policies[name]
            if policy.match != Match() and policy.match.matches(complaint):
                return name
        return self.default


@attrs.frozen
class TargetClock:
    """One target's clock at one instant.

    ``outcome`` is the verdict, one of :data:`OUTCOMES`. ``deadline`` is None while paused
    (the pause's length is not known yet) and when no deadline can be computed (``gap`` then
    says why). ``left`` is the time left before the deadline (negative when overdue; frozen
    while paused; None once met or without a deadline): working time on the policy's calendar,
    or elapsed time when the target is set in elapsed time (``elapsed`` is then true).
    ``breach_recorded`` is true when an ``sla_breach`` is recorded for this clock;
    ``untimed`` when the target was reached at a time nobody knows (an imported state).
    ``provisional_years`` names the years whose days the deadline was counted over only
    provisionally (the calendar's fallback); () when the deadline is exact.
    """

    target: str
    started_at: datetime
    deadline: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    paused: timedelta
    paused_since: datetime | None
    outcome: str
    left: timedelta | None
    elapsed: bool = False
    breach_recorded: bool = False
    gap: str | None = None
    provisional_years: tuple[int, ...] = ()
    untimed: bool = False

    @property
    def provisional(self) -> bool:
        """True when the deadline rests on provisional calendar days."""
        return bool(self.provisional_years)

    @property
    def settled(self) -> bool:
        """True when the sweep has nothing left to watch: met (in time or not, or at an
        unknown time), or no deadline to watch for."""
        return self.met_at is not None or self.untimed or self.deadline is None

    @property
    def met(self) -> bool | None:
        """True if met in time, False if missed or already overdue, None while undecided
        (open within due, or no deadline)."""
        if self.outcome == "met":
            return True
        if self.outcome in ("missed", "open_past_due"):
            return False
        return None


@attrs.frozen
class Clocks:
    """Every target clock of a complaint under its policy, at ``now``."""

    policy: str
    calendar: str
    now: datetime
    targets: tuple[TargetClock, ...]

    def get(self, target: str) -> TargetClock | None:
        """The clock of ``target`` (None when the policy does not set it)."""
        return next((t for t in self.targets if t.target == target), None)

    @property
    def provisional_years(self) -> tuple[int, ...]:
        """The years any target's deadline was counted over provisionally, in order."""
        return tuple(sorted({y for t in self.targets for y in t.provisional_years}))


def _positive_policies(instance: _SlaTable, _: object, value: dict[str, _PolicyTable]) -> None:
    for name, table in value.items():
        if not (table.acknowledge or table.respond or table.resolve):
            raise InvalidSetting(f"set at least one of {', '.join(TARGETS)}", ("policies", name))


def _known_policies(instance: _SlaTable, attribute: attrs.Attribute[Any], value: Any) -> None:
    names = [value] if isinstance(value, str) else value or []
    for name in names:
        if name not in instance.policies:
            known = ", ".join(instance.policies) or "none; add e.g. [sla.policies.standard]"
            raise InvalidSetting(f"no policy {name!r} is defined; known: {known}", attribute.name)


@attrs.frozen
class _PolicyTable:
    acknowledge: Duration | None = None
    respond: Duration | None = None
    resolve: Duration | None = None
    calendar: str | None = None
    warn_before: Duration | None = None
    match: Match = attrs.field(factory=Match)
    description: str | None = None


@attrs.frozen
class _SlaTable:
    policies: dict[str, _PolicyTable] = attrs.field(factory=dict, validator=_positive_policies)
    default: str | None = attrs.field(default=None, validator=_known_policies)
    order: tuple[str, ...] | None = attrs.field(default=None, validator=_known_policies)
    calendar: str | None = None
    warn_before: Duration | None = None


def load_sla_config(config: Config) -> SlaConfig | None:
    """The ``[sla]`` section as an :class:`SlaConfig`; None when no policy is configured."""
    section = structure_section(config, "sla", _SlaTable)
    if not section.policies:
        if section != _SlaTable():
            raise ConfigError(f"{config.where}: sla: no policies; add e.g. [sla.policies.standard]")
        return None
    policies = {}
    for name, table in section.policies.items():
        warn = table.warn_before or section.warn_before
        policies[name] = SlaPolicy(
            name=name,
            targets=tuple(
                Target(target, duration.amount, duration.unit, duration.text)
                for target in TARGETS
                if (duration := getattr(table, target)) is not None
            ),
            calendar=table.calendar if table.calendar is not None else section.calendar,
            warn_before=warn.amount if warn else None,
            match=table.match,
            description=table.description,
        )
    order = section.order if section.order is not None else tuple(policies)
    return SlaConfig(policies=policies, order=order, default=section.default)


def verdict(
    deadline: datetime | None,
    reached_at: datetime | None,
    *,
    breach_recorded: bool,
    paused: bool,
    now: datetime,
    untimed: bool = False,
) -> str:
    """The outcome of one target (one of :data:`OUTCOMES`): ``deadline`` as the clock computed
    it (None: unknown), ``reached_at`` the event that met the target (None: not yet),
    ``paused`` whether the clock is paused at ``now``, ``untimed`` whether the target was
    reached at an unknown time (then ``reached_at`` is None)."""
    if untimed:
        return "missed" if breach_recorded else "untimed"
    if reached_at is not None:
        if breach_recorded:
            return "missed"
        if deadline is None:
            return "no_deadline"
        return "met" if reached_at <= deadline else "missed"
    if breach_recorded:
        return "open_past_due"
    if paused:
        return "open_within"
    if deadline is None:
        return "no_deadline"
    return "open_past_due" if now >= deadline else "open_within"


def _target_clock(
    facts: ComplaintFacts | ClockFacts,
    target: Target,
    warn_before: timedelta | None,
    calendar: BusinessCalendar | None,
    now: datetime,
    with_left: bool,
) -> TargetClock:
    start = facts.received_at
    if target.name == "resolve" and facts.reopened_at is not None:
        start = facts.reopened_at
    met_at = facts.reached(target.name)
    breached = target.name in facts.breached
    untimed = target.name in facts.untimed
    elapsed = target.unit == "elapsed"

    def span(a: datetime, b: datetime) -> timedelta:
        if elapsed:
            return max(b - a, timedelta(0))
        assert calendar is not None
        return calendar.between(a, b)

    def undecided(gap: str) -> TargetClock:
        outcome = verdict(
            None, met_at, breach_recorded=breached, paused=False, now=now, untimed=untimed
        )
        return TargetClock(
            target=target.name,
            started_at=start,
            deadline=None,
            warn_at=None,
            met_at=met_at,
            paused=timedelta(0),
            paused_since=None,
            outcome=outcome,
            left=None,
            elapsed=elapsed,
            breach_recorded=breached,
            gap=gap,
            untimed=untimed,
        )

    if calendar is None:
        return undecided("no business calendar was given")
    paused = timedelta(0)
    paused_since: datetime | None = None
    frozen_left: timedelta | None = None
    try:
        deadline = add_duration(calendar, start, target.amount, target.unit)
        for begin, end in facts.pauses:
            if end is not None and end <= start:
                continue
            begin = max(begin, start)
            if begin >= deadline or (met_at is not None and begin >= met_at):
                break
            if end is None and met_at is not None:
                end = met_at
            if end is None:
                paused_since = begin
                frozen_left = span(begin, deadline)
                break
            spent = span(begin, end)
            if spent > timedelta(0):
                paused += spent
                deadline = add_duration(
                    calendar, deadline, spent, "elapsed" if elapsed else "hours"
                )
        provisional = () if elapsed else provisional_years(calendar, start, deadline)
    except CalendarRangeError as exc:
        return undecided(str(exc))
    outcome = verdict(
        deadline,
        met_at,
        breach_recorded=breached,
        paused=paused_since is not None,
        now=now,
        untimed=untimed,
    )
    left: timedelta | None = None
    if paused_since is not None:
        left = frozen_left
    elif met_at is None and not untimed and with_left:
        try:
            left = -span(deadline, now) if now >= deadline else span(now, deadline)
        except CalendarRangeError:
            left = None  # ``now`` is outside the calendar; the verdict does not need it
    shown = None if paused_since is not None else deadline
    return TargetClock(
        target=target.name,
        started_at=start,
        deadline=shown,
        warn_at=shown - warn_before if shown is not None and warn_before else None,
        met_at=met_at,
        paused=paused,
        paused_since=paused_since,
        outcome=outcome,
        left=left,
        elapsed=elapsed,
        breach_recorded=breached,
        provisional_years=provisional,
        untimed=untimed,
    )


def clocks_of(
    facts: ComplaintFacts | ClockFacts,
    policy: SlaPolicy,
    calendar: BusinessCalendar | None,
    now: datetime,
    *,
    with_left: bool = True,
) -> Clocks:
    """The clocks of the complaint whose facts are ``facts`` (whole, or only the
    :class:`~complaintkit.facts.ClockFacts` a report reads), under ``policy`` on ``calendar``
    (None: not known, so no deadline) as seen at ``now``: the single definition of the SLA
    verdict (``with_left=False`` skips computing the time left, for the sweep's bookkeeping).
    """
    return Clocks(
        policy=policy.name,
        calendar=calendar.name if calendar is not None else "",
        now=now,
        targets=tuple(
            _target_clock(facts, t, policy.warn_before, calendar, now, with_left)
            for t in policy.targets
        ),
    )


def compute_clocks(
    complaint: Complaint,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    now: datetime,
    *,
    with_left: bool = True,
) -> Clocks:
    """The clocks of ``complaint`` under ``policy`` on ``calendar`` as seen at ``now``:
    :func:`clocks_of` its :func:`~complaintkit.facts.facts_of`. A target whose deadline the
    calendar cannot give has outcome ``no_deadline`` and its ``gap`` says why."""
    return clocks_of(facts_of(complaint), policy, calendar, now, with_left=with_left)


def provisional_state(history: Iterable[Event]) -> tuple[int, ...]:
    """The years the complaint's deadlines are marked provisional for: those of its latest
    ``sla_provisional`` event unless an ``sla_exact`` event came after it; () when exact."""
    years: tuple[int, ...] = ()
    for event in history:
        if event.action == PROVISIONAL:
            years = tuple(int(y) for y in event.data.get("years", ()))
        elif event.action == EXACT:
            years = ()
    return years


def deadlines_of(clocks: Clocks) -> dict[str, str | None]:
    """Each target's deadline as ISO text (None: paused or unknown), for a history event."""
    return {t.target: t.deadline.isoformat() if t.deadline else None for t in clocks.targets}


def noted_deadlines(history: Iterable[Event]) -> dict[str, str | None]:
    """The deadlines the latest ``sla_provisional`` event recorded (``{}`` when none)."""
    found: dict[str, str | None] = {}
    for event in history:
        if event.action == PROVISIONAL:
            found = dict(event.data.get("deadlines", {}))
    return found


def recorded(history: Iterable[Event], action: str) -> set[tuple[str, datetime]]:
    """(target, deadline) pairs for which a warning or breach (``action``) is in the history."""
    found = set()
    for event in history:
        if event.action == action:
            try:
                found.add(
                    (str(event.data["target"]), datetime.fromisoformat(event.data["deadline"]))
                )
            except (KeyError, TypeError, ValueError):
                continue
    return found


def schedule(complaint: Complaint, clocks: Clocks) -> tuple[datetime | None, datetime | None]:
    """``(due_at, alert_at)``: the earliest unmet deadline, and the next instant the sweep has
    something to record (a warning or a breach not yet in the history); None when nothing is
    pending (met, paused, or the complaint is no longer open)."""
    if not complaint.is_open:
        return None, None
    warned = recorded(complaint.history, WARNING)
    breached = recorded(complaint.history, BREACH)
    due: datetime | None = None
    alert: datetime | None = None
    for clock in clocks.targets:
        if clock.settled:
            continue
        assert clock.deadline is not None  # not settled
        key = (clock.target, clock.deadline)
        due = clock.deadline if due is None else min(due, clock.deadline)
        if key in breached:
            continue
        at = clock.deadline
        if clock.warn_at is not None and clock.warn_at < clock.deadline and key not in warned:
            at = clock.warn_at
        alert = at if alert is None else min(alert, at)
    return due, alert


def pending_alerts(complaint: Complaint, clocks: Clocks) -> list[tuple[str, str, datetime]]:
    """What a sweep at ``clocks.now`` must record: ``(kind, target, deadline)`` with kind
    ``WARNING`` or ``BREACH``, skipping any already in the history (so sweeping is idempotent).
    A deadline already passed gets its breach only, not a late warning."""
    if not complaint.is_open:
        return []
    warned = recorded(complaint.history, WARNING)
    breached = recorded(complaint.history, BREACH)
    now = clocks.now
    found: list[tuple[str, str, datetime]] = []
    for clock in clocks.targets:
        if clock.settled:
            continue
        assert clock.deadline is not None  # not settled
        key = (clock.target, clock.deadline)
        if now >= clock.deadline:
            if key not in breached:
                found.append((BREACH, clock.target, clock.deadline))
        elif clock.warn_at is not None and now >= clock.warn_at and key not in warned:
            found.append((WARNING, clock.target, clock.deadline))
    return found
