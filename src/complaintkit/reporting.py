"""Reports as data: reporters produce figures, tables, charts and sections; renderers show them.

A :class:`Reporter` never formats anything. It returns a :class:`Report` whose tables say what
kind of value each column holds (:data:`COLUMN_KINDS`: a count, a share between 0 and 1, a
duration in seconds, an amount of money, ...) and, where a picture helps, which :class:`Chart`
draws them. Renderers (terminal table, CSV, JSON, XLSX, Markdown, HTML) read only this data, so a
new reporter gets every format for free and a new format serves every reporter.

Most reporters need a few facts per complaint rather than the whole record; they read them
through :func:`complaintkit.facts.iter_facts`, which a backend can push down to its database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from .classification import ClassificationScheme
from .errors import ConfigError
from .i18n import Names
from .storage import ComplaintFilter, Store

if TYPE_CHECKING:
    from .calendars import BusinessCalendar
    from .config import Config
    from .model import Complaint

__all__ = [
    "ReportFormat",
    "CHART_KINDS",
    "COLUMN_KINDS",
    "Chart",
    "Column",
    "Report",
    "ReportContext",
    "Reporter",
    "Section",
    "Table",
    "check_options",
    "label_names",
    "reporter_options",
]

#: What a column holds, which decides how renderers show it:
#:
#: * ``text`` — a string (a label's display name, a department, a reference);
#: * ``count`` — a whole number of complaints or events;
#: * ``number`` — any other number (a mean score, a control limit), shown with 2 decimals;
#: * ``share`` — a fraction between 0 and 1, shown as a percentage (``0.25`` → ``25.0%``);
#: * ``duration`` — seconds, shown as hours or days (``93600`` → ``1.1 d``);
#: * ``money`` — an amount, shown with 2 decimals (currency, when known, is another column);
#: * ``date`` — an ISO date or month string (``2025-10`` or ``2025-10-01``), kept as text;
#: * ``datetime`` — an aware :class:`~datetime.datetime`.
#:
#: ``None`` in any column means "no value" and is shown empty (or ``—`` on a terminal).
COLUMN_KINDS = ("text", "count", "number", "share", "duration", "money", "date", "datetime")

#: Charts a renderer can draw: ``bar`` (one bar per row, one colour per ``y`` column),
#: ``line`` (``x`` is ordered, usually dates; one line per ``y`` column), ``pareto`` (bars of
#: the first ``y`` column, largest first, with the cumulative share as a line) and ``control``
#: (a line of the first ``y`` column with the other ``y`` columns as limit lines, and rows whose
#: ``flag`` column is true marked).
CHART_KINDS = ("bar", "line", "pareto", "control")


def _kind(_instance: object, _attribute: object, value: str) -> None:
    if value not in COLUMN_KINDS:
        raise ValueError(f"column kind {value!r}: use one of {', '.join(COLUMN_KINDS)}")


@attrs.frozen
class Column:
    """A column of a report table: a stable key, its names in both languages and its kind."""

    key: str
    names: Names
    kind: str = attrs.field(default="text", validator=_kind)


@attrs.frozen
class Chart:
    """How to draw a table: ``kind`` (one of :data:`CHART_KINDS`), the column keys for the
    x axis and the plotted values, and for ``control`` charts the boolean column that marks
    flagged points."""

    kind: str
    x: str
    y: tuple[str, ...]
    flag: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind {self.kind!r}: use one of {', '.join(CHART_KINDS)}")
        if not self.y:
            raise ValueError("a chart needs at least one y column")


@attrs.frozen
class Table:
    """A titled table of rows; each row has one value per column."""

    key: str
    names: Names
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    chart: Chart | None = None

    def __attrs_post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(
                    f"table {self.key!r}: row {i} has {len(row)} values for {width} columns"
                )
        if self.chart is not None:
            keys = {c.key for c in self.columns}
            wanted = [self.chart.x, *self.chart.y] + ([self.chart.flag] if self.chart.flag else [])
            missing = [k for k in wanted if k not in keys]
            if missing:
                raise ValueError(f"table {self.key!r}: chart names unknown columns {missing}")

    def column(self, key: str) -> Column:
        """The column with this key."""
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def values(self, key: str) -> list[Any]:
        """Every row's value in the column ``key``."""
        i = [c.key for c in self.columns].index(key)
        return [row[i] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column key."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@attrs.frozen
class Section:
    """A titled part of a document-like report (the 8D report's D0–D8): paragraphs of text,
    already in the report's language, then tables. Renderers show sections after the report's
    own figures and tables. Paragraphs are plain text (renderers escape them); a paragraph
    whose lines all start with ``- `` is a list."""

    key: str
    names: Names
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@attrs.frozen
class Report:
    """The result of running a reporter: a title, headline figures, tables and sections.

    ``figures`` are ``(names, value, kind)`` triples (kind as for :class:`Column`);
    ``notes`` are short remarks in the report's language (what was left out and why);
    ``parameters`` records what the report was run with (filter, window, ...) as plain data.
    """

    name: str
    names: Names
    figures: tuple[tuple[Names, Any, str], ...] = ()
    tables: tuple[Table, ...] = ()
    sections: tuple[Section, ...] = ()
    notes: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = attrs.field(factory=dict)

    def table(self, key: str) -> Table:
        """The table with this key (searching sections too)."""
        for t in self.all_tables():
            if t.key == key:
                return t
        raise KeyError(key)

    def all_tables(self) -> list[Table]:
        """The report's tables, then each section's."""
        return [*self.tables, *(t for s in self.sections for t in s.tables)]

    def figure(self, en: str) -> Any:
        """The value of the headline figure whose English name is ``en``."""
        for names, value, _kind in self.figures:
            if names.en == en:
                return value
        raise KeyError(en)


@attrs.frozen
class ReportContext:
    """What a reporter may need besides the store: the schemes (for label names), the
    language, the instant the report is made at (``now``; reports over open complaints depend
    on it), the loaded configuration (``[reports.NAME]`` tables, SLA policies), and the
    reporter's own options from the command line (``--option key=value``), and the business
    calendars by name (``None``: the default one), for reporters that compute SLA deadlines.
    A reporter that quotes a complaint's words passes the complaint through :meth:`masked`
    first, so a report shows no personal data (the ``mask_complaint`` hook)."""

    schemes: Mapping[str, ClassificationScheme]
    lang: str = "en"
    now: datetime | None = None
    config: Config | None = None
    options: Mapping[str, str] = attrs.field(factory=dict)
    calendar: Callable[[str | None], BusinessCalendar] | None = None
    mask: Callable[[Complaint], Complaint] | None = None

    def masked(self, complaint: Complaint) -> Complaint:
        """``complaint`` as a report may quote it: personal data masked."""
        return complaint if self.mask is None else self.mask(complaint)

    def settings(self, name: str) -> Mapping[str, Any]:
        """The ``[reports.NAME]`` table of the configuration, with ``options`` laid over it."""
        table: dict[str, Any] = {}
        if self.config is not None:
            reports = self.config.data.get("reports", {})
            if isinstance(reports, Mapping) and isinstance(reports.get(name), Mapping):
                table.update(reports[name])
        table.update(self.options)
        return table


@runtime_checkable
class ReportFormat(Protocol):
    """What a format plugin registers.

    ``name`` is what ``--format`` takes; ``extensions`` (with the dot, lower case) are the file
    name endings ``--out`` recognises; ``binary`` formats return bytes from ``render`` and are
    never written to a terminal, text formats return a string (written as UTF-8).
    """

    name: str
    names: Names
    extensions: tuple[str, ...]
    binary: bool
    description: str

    def render(self, report: Report, lang: str) -> str | bytes:
        """The report in this format, in the language ``lang`` (``en`` or ``zh``)."""
        ...


@runtime_checkable
class Reporter(Protocol):
    """What a reporting plugin registers. ``run`` must not change the store.

    A reporter may also declare ``options``: a mapping of option name to a one-line
    description. The command line (``report --option KEY=VALUE``) and
    :meth:`Desk.report <complaintkit.desk.Desk.report>` then refuse any other option before
    running it (see :func:`check_options`); a reporter without ``options`` gets whatever it is
    given and checks it itself.
    """

    name: str
    names: Names
    description: str

    def run(self, store: Store, flt: ComplaintFilter, context: ReportContext) -> Report:
        """Compute the report over the complaints matching ``flt``."""
        ...


def label_names(scheme: ClassificationScheme | None, label: str | None) -> Names:
    """Bilingual names for a label value (the raw value when the scheme does not know it)."""
    if label is None:
        return Names("(none)", "（无）")
    if scheme is not None:
        for item in scheme.labels:
            if item.name == label:
                return item.names
    return Names(label, label)


def reporter_options(reporter: Reporter) -> Mapping[str, str] | None:
    """The options a reporter declares (name → description), or None when it declares none."""
    options = getattr(reporter, "options", None)
    return options if isinstance(options, Mapping) else None


def check_options(reporter: Reporter, options: Mapping[str, str]) -> None:
    """Refuse options the reporter does not declare, listing the ones it knows
    (:class:`~complaintkit.errors.ConfigError`); a reporter without ``options`` accepts any."""
    known = reporter_options(reporter)
    if known is None:
        return
    unknown = sorted(k for k in options if k not in known)
    if unknown:
        listed = ", ".join(known) if known else "none"
        raise ConfigError(
            f"report {reporter.name!r} has no option {', '.join(map(repr, unknown))}; "
            f"known options: {listed}"
        )
