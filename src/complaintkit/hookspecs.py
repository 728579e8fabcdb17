"""Every hook complaintkit offers, with its contract. This module *is* the hook reference.

Plugins implement hooks with :data:`hookimpl`::

    from complaintkit import hookimpl

    @hookimpl
    def register_classification_schemes(register):
        register(MyScheme())

Two families:

* **Contribution hooks** hand the plugin a ``register`` callback. The host calls each plugin's
  implementation separately, remembers which plugin registered what, and refuses a name
  registered twice with an error naming both plugins. A plugin whose implementation raises is
  reported by name; the others still contribute.
* **Lifecycle hooks** are called after the change they announce has been stored. Their return
  values are ignored; an exception in one implementation is logged with the plugin's name and
  does not stop the other implementations or undo the change.

* **Task hooks** let a plugin do periodic work: ``sweep_finished`` runs at the end of every
  sweep and returns lines for its output; a failing implementation is logged like a lifecycle
  hook's. ``erase_personal_data`` lets a plugin erase a person from its own storage.
  ``desk_opened`` checks, before any work, what depends on other plugins' contributions; its
  errors stop the command.
* **Policy hooks** decide something (a route, an SLA policy, a masked copy): the first
  implementation that
  returns a value wins, and an exception reaches the caller, since a complaint must not be routed
  as if the failing plugin had not been there.

Hook parameters never have defaults (pluggy does not pass them); hooks evolve only by adding
parameters, and an implementation may accept any subset of a hook's parameters.

Every hook is called through pluggy (``host.pm.hook.<name>``), so hook wrappers run around
every call: ``@hookimpl(wrapper=True)`` on a generator that yields once sees the call
before and after, its result or exception, for a timing, a trace or a transaction. Failures are
isolated inside the wrapper's ``yield``: a wrapper sees the hook complete even when one ordinary
implementation failed and was reported. ``COMPLAINTKIT_TRACE_PLUGINS=1`` prints every hook
call on standard error: its arguments, the plugins that answer it, and what they returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    import cattrs
    import click

    from .calendars import BusinessCalendar
    from .classification import ClassificationScheme, LabelledDataset
    from .config import Config
    from .desk import Desk
    from .i18n import Names
    from .inputs import InputFormat
    from .model import Complaint, Event, Label
    from .notification import NotificationChannel
    from .personal import Person, PersonalField
    from .reporting import Reporter, ReportFormat
    from .routing import Route
    from .spikes import SpikeWarning
    from .storage import StorageBackend, Store

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "complaintkit"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- contribution hooks -------------------------------------------------------------------


@hookspec
def register_classification_schemes(
    register: Callable[[ClassificationScheme], None], config: Config
) -> None:
    """Register classification schemes (one independent axis of labels each).

    :param register: call once per scheme with an object implementing
        :class:`~complaintkit.classification.ClassificationScheme`; its ``name`` must be unique
        across all plugins.
    :param config: the configuration in force, e.g. to read extra rule files from
        ``[classification]``.
    :returns: nothing; every implementation is called.

    Called the first time schemes are needed (classify, evaluate, reports), once per host.
    """


@hookspec
def replace_classification_schemes(
    schemes: Mapping[str, ClassificationScheme],
    register: Callable[[ClassificationScheme], None],
    config: Config,
) -> None:
    """Put another scheme in the place of a registered one: usually one that wraps it, such as
    a trained model that answers where the rules abstain, or blends their vote into its own.

    :param schemes: every registered scheme by name (read-only), before any replacement.
    :param register: call with the replacement; its ``name`` says which scheme it replaces and
        its labels must be that scheme's labels, in the same order. Two plugins replacing the
        same scheme is an error naming both; a replacement for a name nobody registered, or
        with other labels, is reported as the plugin's failure and the original is kept.
    :param config: the configuration in force, e.g. which schemes a plugin should replace.
    :returns: nothing; every implementation is called.

    Called once per host, right after ``register_classification_schemes``. The replacement is
    what classifying, ``evaluate`` and reports use; labels it gives record its plugin as their
    classifier.
    """


@hookspec
def register_labelled_datasets(register: Callable[[LabelledDataset], None]) -> None:
    """Register layouts of labelled data sets: files of complaints whose labels people gave.

    :param register: call with an object implementing
        :class:`~complaintkit.classification.LabelledDataset` (``name``, ``scheme``,
        ``description`` and ``read(path)`` giving ``(text, gold label)`` pairs); names must be
        unique.
    :returns: nothing; every implementation is called.

    Called the first time presets are needed (``evaluate --preset``, ``train --preset``), once
    per host.
    """


@hookspec
def register_storage_backends(register: Callable[[StorageBackend], None]) -> None:
    """Register storage backends, each serving one or more URL schemes.

    :param register: call with a :class:`~complaintkit.storage.StorageBackend`; a URL scheme
        served by two plugins is an error naming both.
    :returns: nothing; every implementation is called.

    Called the first time a store is opened, once per host.
    """


@hookspec
def register_notification_channels(
    register: Callable[[NotificationChannel], None], config: Config
) -> None:
    """Register notification channels (console, e-mail, webhook, SMS gateway, chat apps).

    :param register: call with an object implementing
        :class:`~complaintkit.notification.NotificationChannel`; names must be unique.
    :param config: the configuration in force, e.g. a channel's server address.
    :returns: nothing; every implementation is called.

    Called the first time channels are needed, once per host.
    """


@hookspec
def register_business_calendars(
    register: Callable[[BusinessCalendar], None], config: Config
) -> None:
    """Register business calendars (24x7, a country's working days, a custom one).

    :param register: call with an object implementing
        :class:`~complaintkit.calendars.BusinessCalendar`; names must be unique.
    :param config: the configuration in force, e.g. custom calendars from ``[calendars]``.
    :returns: nothing; every implementation is called.

    Called the first time a deadline is computed, once per host.
    """


@hookspec
def register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register reporters: named computations over the store that return tables.

    :param register: call with an object implementing
        :class:`~complaintkit.reporting.Reporter`; names must be unique.
    :returns: nothing; every implementation is called.

    Called the first time reports are listed or run, once per host.
    """


@hookspec
def register_report_formats(register: Callable[[ReportFormat], None]) -> None:
    """Register report formats: ways to render any report (terminal table, CSV, HTML, ...).

    :param register: call with an object implementing
        :class:`~complaintkit.reporting.ReportFormat` (``name``, ``names``, ``extensions``,
        ``binary``, ``description`` and ``render(report, lang)``); names must be unique. A
        format reads only the :class:`~complaintkit.reporting.Report` data, so it serves every
        reporter. ``render`` returns ``str`` for a text format and ``bytes`` for a binary one.
    :returns: nothing; every implementation is called.

    Called the first time formats are listed or a report is rendered, once per host. A file
    extension claimed by two formats belongs to the one registered first.
    """


@hookspec
def register_input_formats(register: Callable[[InputFormat], None]) -> None:
    """Register input formats: kinds of file ``complaintkit import`` reads (CSV, Excel, another
    CRM's export, ...).

    :param register: call with an object implementing :class:`~complaintkit.inputs.InputFormat`
        (``name``, ``names``, ``suffixes``, ``unit`` and ``read(path, encoding, reject)``, which
        yields ``(number, record)`` pairs); a name registered by two plugins is an error naming
        both.
    :returns: nothing; every implementation is called.

    Called the first time formats are listed or a file is imported, once per host. A file name
    ending claimed by two formats belongs to the one registered first. The import turns each
    record into a complaint through its column mapping, so a format only reads the file.
    """


@hookspec
def register_personal_fields(register: Callable[[PersonalField], None], config: Config) -> None:
    """Declare fields of a complaint that hold personal data, beyond the core model's own
    (:data:`~complaintkit.personal.CORE_FIELDS`): a custom field an import fills with an
    address, say.

    :param register: call with a :class:`~complaintkit.personal.PersonalField` (``path``,
        ``kind``, ``description``); the same path registered twice is an error naming both
        plugins.
    :param config: the configuration in force (a plugin may declare fields it names).
    :returns: nothing; every implementation is called.

    Called the first time the personal fields are asked for, once per host. Masking
    (``mask_complaint``) and erasure read the list.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``complaintkit`` command line.

    :param cli: the top-level click group; call ``cli.command()`` or ``cli.add_command()``.
        A command name that already exists is refused with both plugins named.
    :returns: nothing; every implementation is called.

    Called when the CLI starts, after built-in commands exist. A plugin that fails here is
    reported and skipped; the built-in commands keep working.
    """


@hookspec
def configure_converter(converter: cattrs.Converter) -> None:
    """Add structure/unstructure hooks to complaintkit's cattrs converters.

    :param converter: one of the host's converters (called once for the checking converter used
        on untrusted input and once for the trusted one used on stored data).
    :returns: nothing; every implementation is called.

    Called once per converter when the host first builds it, after plugins load.
    """


# --- policy hooks (first result wins) ------------------------------------------------------


@hookspec(firstresult=True)
def choose_sla_policy(complaint: Complaint, policies: list[str], desk: Desk) -> str | None:
    """Choose the SLA policy of a complaint instead of the configured selection rules.

    :param complaint: the complaint being received or re-classified (labels already set).
    :param policies: the names of the configured policies.
    :param desk: the desk doing the work.
    :returns: a policy name from ``policies``, or None to leave the choice to the
        configuration. The first implementation returning a name wins.

    Called at intake and after every stored change of the complaint (so a re-classification
    can change the policy); return the same name for the same complaint.
    """


@hookspec(firstresult=True)
def route_complaint(complaint: Complaint, desk: Desk) -> Route | None:
    """Decide where a complaint goes instead of the configured routing rules.

    :param complaint: the complaint being routed (labels already set).
    :param desk: the desk doing the work.
    :returns: a :class:`~complaintkit.routing.Route`, or None to leave the decision to the
        configured rules. The first implementation returning a route wins.

    Called at intake (after classification) and by ``complaintkit route``.
    """


@hookspec(firstresult=True)
def mask_complaint(
    complaint: Complaint, fields: list[PersonalField], config: Config
) -> Complaint | None:
    """The complaint as it may be shown to someone who does not need the personal data in it.

    :param complaint: the complaint as stored.
    :param fields: every personal field (the core's and the plugins', see
        ``register_personal_fields``).
    :param config: the configuration in force.
    :returns: a copy with the personal data masked (``138****5678``), or None to leave the
        decision to the next plugin. The first implementation returning a complaint wins; with
        none, outputs show the complaint as stored.

    Called by ``show``, ``list`` and exports before anything is printed or written, unless
    the person asked for the full values (``--unmasked``, which is recorded).
    """


@hookspec(firstresult=True)
def review_queue(
    desk: Desk, schemes: list[str], below: float | None, open_only: bool, limit: int | None
) -> list[dict[str, Any]] | None:
    """The labels due for a person's review, for a caller that does not own the review (the
    HTTP API's ``GET /review``).

    :param desk: the desk to read through (its store and host).
    :param schemes: only these schemes, by key or English or Chinese name (empty: all).
    :param below: review labels below this confidence instead of the configured thresholds.
    :param open_only: only complaints still open.
    :param limit: at most this many labels (None: all).
    :returns: the records ``complaintkit review --format json`` prints, least confident first,
        or None when the plugin does not keep a review queue. The first implementation
        returning a list wins (the review plugin). An unknown scheme raises the error naming
        it, which reaches the caller.
    """


@hookspec(firstresult=True)
def apply_review_decisions(
    desk: Desk, rows: list[tuple[str, Any]], note: str | None
) -> dict[str, Any] | None:
    """Apply a person's review decisions, as ``complaintkit review --decisions FILE`` does,
    for a caller that does not own the review (the HTTP API's ``POST /review/decisions``).

    :param desk: the desk acting for the person who decided (the actor of every change).
    :param rows: ``(where, row)``: a row is a mapping with ``reference``, ``scheme``,
        ``label`` and optionally ``note``; ``where`` names the row in the caller's terms
        (``decisions.0``) and begins every problem reported about it.
    :param note: a note recorded with every decision, or None.
    :returns: ``{"applied": {"accepted": n, "corrected": n, "unchanged": n}, "problems":
        ["where: field F: why", ...]}`` (rows with a problem are not applied, the others are),
        or None when the plugin does not keep a review queue. The first implementation
        returning a result wins (the review plugin).
    """


# --- lifecycle hooks ----------------------------------------------------------------------


@hookspec
def complaint_received(complaint: Complaint, desk: Desk) -> None:
    """A new complaint was stored (by ``add``, an import, or the API).

    :param complaint: the complaint as stored (version 1, with its ``received`` event).
    :param desk: the desk that stored it, for follow-up work through the public API.
    :returns: ignored.

    Called once per stored complaint; during a batch import, once per imported row after the
    batch has been written. Not called for a complaint imported with its history from another
    system (its first event is by the ``import`` actor): its receipt happened before the
    import, so nobody is notified of it (nor of its labels, and nothing escalates it).
    """


@hookspec
def complaint_classified(
    complaint: Complaint, label: Label, previous: Label | None, desk: Desk
) -> None:
    """A complaint received a label in one scheme, or its label there changed.

    :param complaint: the complaint as stored after the change.
    :param label: the new label (scheme, label, confidence, evidence).
    :param previous: the label it had in that scheme before, or None.
    :param desk: the desk that made the change.
    :returns: ignored.

    Called once per scheme whose label was set or changed; not called when re-classification
    gives the same label.
    """


@hookspec
def complaint_transitioned(complaint: Complaint, event: Event, desk: Desk) -> None:
    """A complaint moved from one lifecycle status to another.

    :param complaint: the complaint as stored after the transition.
    :param event: the history event; ``event.action`` is the action taken and
        ``event.data["from"]`` / ``event.data["to"]`` are the statuses.
    :param desk: the desk that made the change.
    :returns: ignored.

    Called after every successful transition, before ``complaint_escalated`` or
    ``complaint_closed`` when the transition also escalates or closes.
    """


@hookspec
def complaint_escalated(complaint: Complaint, event: Event, desk: Desk) -> None:
    """A complaint's escalation level was raised: by hand, by a re-complaint, by the fast
    channel at intake, or by the SLA sweep after a missed deadline.

    :param complaint: the complaint as stored after the escalation.
    :param event: the ``escalate`` history event; ``event.data["from"]`` and
        ``event.data["to"]`` are level names (front_line, department, complaint_management,
        leadership).
    :param desk: the desk that made the change.
    :returns: ignored.
    """


@hookspec
def complaint_closed(complaint: Complaint, desk: Desk) -> None:
    """A complaint was closed; ``complaint.satisfaction`` holds the score if one was given.

    :param complaint: the complaint as stored after closing.
    :param desk: the desk that closed it.
    :returns: ignored.
    """


@hookspec
def complaint_sla_warning(
    complaint: Complaint, target: str, deadline: datetime, desk: Desk
) -> None:
    """A complaint's SLA target is about to be missed (the policy's warning time has come).

    :param complaint: the complaint as stored after the warning was recorded.
    :param target: the target concerned: ``acknowledge``, ``respond`` or ``resolve``.
    :param deadline: when the target is due.
    :param desk: the desk (usually the sweep's) that recorded the warning.
    :returns: ignored.

    Called once per target and deadline, however often the sweep runs.
    """


@hookspec
def complaint_sla_breached(
    complaint: Complaint, target: str, deadline: datetime, desk: Desk
) -> None:
    """A complaint's SLA target was missed: its deadline passed before the target was met.

    :param complaint: the complaint as stored after the breach was recorded (and, when the
        escalation ladder says so, after its escalation).
    :param target: the target missed: ``acknowledge``, ``respond`` or ``resolve``.
    :param deadline: when the target was due.
    :param desk: the desk (usually the sweep's) that recorded the breach.
    :returns: ignored.

    Called once per target and deadline, however often the sweep runs.
    """


@hookspec
def complaint_recomplaint(complaint: Complaint, previous: Complaint, desk: Desk) -> None:
    """A complaint was recognised as a repeat of an earlier one (复投诉).

    :param complaint: the new complaint as stored, linked through ``parent`` and raised one
        escalation level.
    :param previous: the earlier complaint it repeats.
    :param desk: the desk that received it.
    :returns: ignored.
    """


@hookspec
def spike_detected(warning: SpikeWarning, complaint: Complaint, desk: Desk) -> None:
    """The early warning found a new spike: one series (a cause, product, channel, ...) had
    more complaints in one period than its control chart allows (see docs/early-warning.md).

    :param warning: the :class:`~complaintkit.spikes.SpikeWarning` (dimension, value,
        names in both languages, period start, observed and expected counts, the alarm limit,
        the method and a stable ``id``).
    :param complaint: the oldest complaint of the flagged series and period, as stored after
        the warning was recorded in its history (action ``spike_detected``).
    :param desk: the desk that announced it (:meth:`~complaintkit.desk.Desk.announce_spike`;
        the reports plugin does at every sweep when ``[early_warning]`` is configured).
    :returns: ignored.

    Called once per warning id, however often the detection runs.
    """


# --- task hooks ---------------------------------------------------------------------------


@hookspec
def desk_opened(desk: Desk) -> None:
    """A desk was opened (every command that works on a store opens one), before any work:
    check what depends on other plugins' contributions, e.g. a notification rule naming a
    channel another plugin registers (the notify plugin does).

    :param desk: the new desk (its host, store, configuration and clock).
    :returns: ignored.

    Not isolated: an implementation that raises :class:`~complaintkit.errors.ConfigError`
    stops the command (status 2) before anything changes, instead of a message or a step
    being lost silently later. Keep it cheap: every command pays for it.
    """


@hookspec
def sweep_finished(desk: Desk, now: datetime, dry_run: bool) -> list[Names] | None:
    """Periodic work at the end of every sweep (``complaintkit sweep``, :meth:`Desk.sweep
    <complaintkit.desk.Desk.sweep>`), after due deadlines were recorded and escalated: the
    reports plugin announces complaint spikes here when ``[early_warning]`` is configured.

    :param desk: the desk that swept (its store, host, clock and actor).
    :param now: the sweep's instant (``--now``); work as of this time.
    :param dry_run: True for ``sweep --dry-run``: look, store nothing, notify no one.
    :returns: lines for the sweep's output in both languages (:class:`~complaintkit.i18n.Names`),
        or None. They are collected into :attr:`SweepResult.notes
        <complaintkit.desk.SweepResult.notes>`.

    Every implementation runs; one that raises is logged with its plugin's name and does not
    stop the others or undo the sweep. Must be safe to run from several processes at once, as
    the sweep is (announce through the store, with its version check).
    """


@hookspec
def erase_personal_data(
    store: Store, person: Person, dry_run: bool, config: Config
) -> dict[str, int] | None:
    """Erase a person from data a plugin keeps outside the complaints (its own tables or
    files, a cache, a queue), when ``complaintkit person erase`` anonymises them.

    :param store: the store being erased (a plugin keeping data beside it finds it there).
    :param person: who: :class:`~complaintkit.personal.Person` with their phone numbers,
        e-mail addresses, names and customer ids, and the references of their complaints.
        ``person.replace(text)`` replaces their phone numbers (any spelling), addresses and
        names in a text with :data:`~complaintkit.personal.ERASED`, as the core does;
        ``person.is_identifier(value)`` tells a whole value that identifies them.
    :param dry_run: True for ``--dry-run``: count what would change, change nothing.
    :param config: the configuration in force.
    :returns: how many records of each kind were (or would be) changed, e.g.
        ``{"notifications": 3}``, or None for nothing. Counts of the same kind from several
        plugins are added up; the command prints them. Never return the erased values.

    Called once per erasure, before the complaints are rewritten, so that the person can
    still be found. Every implementation runs; one that raises is reported with its plugin's
    name and the complaints are left unchanged, so the erasure can be run again once the
    plugin is fixed (or disabled). Must be idempotent: a second erasure of the same person
    changes nothing and counts 0. The notification outbox of the store is erased this way by
    the privacy plugin.
    """


CONTRIBUTION_HOOKS = (
    "register_classification_schemes",
    "replace_classification_schemes",
    "register_labelled_datasets",
    "register_storage_backends",
    "register_notification_channels",
    "register_reporters",
    "register_report_formats",
    "register_input_formats",
    "register_personal_fields",
    "register_business_calendars",
    "register_commands",
    "configure_converter",
)
LIFECYCLE_HOOKS = (
    "complaint_received",
    "complaint_classified",
    "complaint_transitioned",
    "complaint_escalated",
    "complaint_closed",
    "complaint_sla_warning",
    "complaint_sla_breached",
    "complaint_recomplaint",
    "spike_detected",
)
POLICY_HOOKS = (
    "choose_sla_policy",
    "route_complaint",
    "mask_complaint",
    "review_queue",
    "apply_review_decisions",
)
TASK_HOOKS = ("sweep_finished", "erase_personal_data", "desk_opened")
