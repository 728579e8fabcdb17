"""The importing plugin: streaming batch import of complaints from CSV, TSV, JSON, JSON Lines and
Excel files, column mappings and presets, and the ``complaintkit import`` command.

:func:`read_complaints` turns a file into a lazy stream of :class:`~complaintkit.model.Complaint`
objects, ready for :meth:`Desk.intake_many <complaintkit.desk.Desk.intake_many>`. Every record
that cannot become a complaint is handed to ``on_reject`` as a :class:`RejectedRow` (file, line,
field, reason and the record as read); the good records keep flowing, and nothing is dropped
without a report. Only a problem with the file as a whole (wrong encoding, a header that fits no
mapping, JSON that does not parse) raises :class:`~complaintkit.errors.ConfigError`.

Formats
    ``csv`` (``,``; ``;`` or a tab when the header holds no comma), ``tsv`` (tab-separated, with
    CSV-style quoting as Excel and pandas write it), ``jsonl`` (one JSON object per line), ``json``
    (an array of objects; it is **loaded whole**, with orjson, since a JSON array cannot be
    streamed cheaply: use JSON Lines for very large files) and ``xlsx`` (first worksheet, header in
    the first non-empty row, read with openpyxl in read-only mode).
    CSV, TSV and JSON Lines are read record by record and never held in memory. The default
    encoding ``utf-8-sig`` reads UTF-8 with or without a byte-order mark.

Where a reject points
    ``line`` is the physical line on which the record starts (CSV, TSV, JSON Lines; a quoted field
    spanning several lines moves later records down accordingly), the worksheet row for XLSX
    (header = row 1 when it is the first row) and the 1-based item number for a JSON array.
    Blank lines and rows whose every cell is empty are not records and are skipped.

What a record may hold
    Every complaint is checked as every other door checks it (:mod:`complaintkit.intake`), so
    a dry run and a real import agree on every backend. A JSON list, object or boolean (or a
    number too large to be exact) where text belongs is rejected, never stored as its Python
    spelling; ``tags`` may be a JSON list of texts. NUL characters are not a reason to reject:
    ``on_clean`` is told the line, and the Desk removes them when it stores the complaint (and
    records that in its history). A byte that does not decode rejects only the record holding
    it (CSV, TSV, JSON Lines), with its line; a file whose start shows another encoding is
    refused whole.

The native layout
    Our own field names as columns (matched case-insensitively; spaces and punctuation count as
    ``_``, so ``Received at`` is ``received_at``): ``reference``, ``received_at``, ``channel``,
    ``title``, ``text``, ``product``, ``order``, ``remedy_sought``, ``complainant_name``,
    ``complainant_phone``, ``complainant_email``, ``customer_id``, ``department``, ``assignee``,
    ``satisfaction``, ``tags`` (separated by ``,`` ``;`` ``，`` ``；`` or ``、``) and
    ``received_time`` (a separate time of day joined to a date-only ``received_at``).
    ``received_at`` and ``text`` are required. **Every other column becomes a custom field**:
    ``custom.<name>`` explicitly (``custom.place`` → ``custom["place"]``) or any other column
    under its own name, so that nothing in the file is lost. A column whose name is one typo away
    from a field name (``complainant_emial``) is refused rather than silently filed as custom;
    rename it, or call it ``custom.<name>`` if it really is a custom field.

Column mappings
    Other layouts are described by a :class:`ColumnMapping`, loaded from a TOML file::

        name = "cfpb"
        description = "US CFPB Consumer Complaint Database export"

        [columns]                 # our field = source column
        reference = "complaint_id"
        received_at = "date_received"
        title = "issue"
        # A list gives alternatives: the first one that is not empty wins. An inline table
        # joins several columns (empty ones left out) with a separator.
        text = ["consumer_complaint_narrative", { join = ["issue", "sub_issue"], sep = ": " }]
        channel = "submitted_via"

        [values.channel]          # translate values (keys are case-insensitive)
        "Postal mail" = "letter"
        "*" = "other"             # any other non-empty value; without it, unknown ones are rejected

        [defaults]                # used when the source value is empty (or the column absent)
        channel = "other"
        # received_at = "now" stamps rows without a date with the time the import started

        [custom]                  # custom field name = source column (same forms as [columns])
        state = "state"

        [filter]                  # keep only rows whose column holds one of these values
        product = ["Mortgage", "Credit card"]

        [options]
        reference_prefix = "CFPB-"            # put before every source id
        date_format = "%d-%m-%y"              # or a list; in addition to the built-in formats
        time_format = "%I:%M:%S %p"           # for received_time; or a list
        detect = ["complaint_id", "date_received"]  # header columns that identify the layout
        strict = true             # every column named must exist in the file (default true;
                                  # the shipped presets say false: exports vary between years)
        keep_unmapped = false     # true: columns not named anywhere become custom fields
        history = false           # true: every row is another system's history

    A ``[custom]`` name may not be one of our field names; an unmapped column named like one
    is kept as ``source_<name>``. The records a ``[filter]`` leaves out are counted
    (:attr:`ComplaintReader.left_out`).

History
    ``status``, ``acknowledged_at``, ``responded_at``, ``resolved_at``, ``closed_at``,
    ``sla_missed`` and ``disputed`` under ``[columns]`` bring each row in as another system's
    history: the status (translated by ``[values.status]``) and events at the source's times,
    by the ``import`` actor (see :mod:`.history`). The desk notifies and escalates nobody for
    what happened before the import.

    Column names are matched exactly first, then case-insensitively with spaces and punctuation
    as ``_``, so the ``cfpb`` preset reads both ``complaint_id`` and CFPB's original
    ``Complaint ID`` header. Values are stripped of surrounding white space; an empty value is
    missing. ``[values.<field>]`` also works for custom fields.

Presets shipped with this plugin (``PRESETS``)
    ``cfpb`` (CFPB Consumer Complaint Database), ``comcast-fcc`` (Comcast complaints filed with
    the FCC), ``airline-tweets`` (Twitter US Airline Sentiment), ``chezhiwang`` (车质网 car
    complaints), ``chinese-reviews`` (ChineseNlpCorpus review sets). They describe the layout of
    those exports, not their data.

Channels and remedies
    Besides our own values (``phone``, ``wechat``, …) common names in English and Chinese are
    understood without a mapping (``hotline``, ``e-mail``, ``website``, ``电话``, ``微信``,
    ``来信``; ``退款``, ``换货``, ``赔偿`` …). Anything else is rejected with the list of known
    values and how to map it, unless the mapping translates it (``[values.channel]``, possibly with
    ``"*"``).

Dates
    ISO 8601 (``2026-11-23``, ``2026-11-23T10:00:00+08:00``, ``2026-11-23 10:00``,
    ``2015-02-24 11:35:52 -0800``) and the usual Chinese forms (``2026年11月23日``,
    ``2026年11月23日 14时30分``, ``2026/11/23``, ``2026.1.5 9:05``) are understood; other forms
    need ``date_format``. A date or time without a time zone is taken in ``tz``; a date without a
    time means 00:00 in ``tz``.

References
    From the mapping's ``reference`` column (plus ``reference_prefix``). When the source has no
    id, a fingerprint of the content is used (:func:`fingerprint`): ``IMP-`` and 16 hex digits
    of the SHA-1 of received_at (in UTC), channel, complainant, order, title and text with white
    space collapsed. Importing the same file twice therefore adds nothing the second time (the
    store skips references it already holds). Two records with the same reference in one file
    are a mistake in the file: the later one is rejected, naming the line of the first (this
    check keeps every reference seen, about 100 bytes per record, the only memory an import
    holds that grows with the file).

Modules
    :mod:`.mapping` (column mappings and presets), :mod:`.history` (statuses, step times and
    row filters), :mod:`.values` (channel and remedy vocabularies, dates), :mod:`.cells` (a
    cell as a field's text), :mod:`.builder` (binding a mapping to a header, the record
    builder, fingerprints), :mod:`.encodings` (wrong encodings and undecodable bytes),
    :mod:`.formats` (format detection, the file readers and the built-in input formats),
    :mod:`.documents` (complaintkit's own JSON documents), :mod:`.reader`
    (:func:`read_complaints`), :mod:`.cli` (the ``import`` command) and :mod:`.plugin` (the
    hooks). Everything public is importable
    from :mod:`complaintkit_importing` itself, lazily: ``complaintkit --help`` imports none of
    it.

Other formats
    The built-in formats are registered through the ``register_input_formats`` hook like any
    plugin's (:data:`BUILTIN_FORMATS`); ``complaintkit import`` reads every registered format
    (``--format NAME``, or by the file name's ending), so a plugin can add another CRM's export
    by registering a :class:`complaintkit.inputs.InputFormat`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# isort: off
if TYPE_CHECKING:  # the same names for type checkers (``X as X``: exported)
    from .builder import detect_preset as detect_preset, fingerprint as fingerprint
    from .formats import (
        BUILTIN_FORMATS as BUILTIN_FORMATS,
        FORMATS as FORMATS,
        FileFormat as FileFormat,
        detect_format as detect_format,
    )
    from .mapping import (
        FIELDS as FIELDS,
        PRESETS as PRESETS,
        ColumnMapping as ColumnMapping,
        Source as Source,
        Spec as Spec,
    )
    from .reader import (
        CleanedRow as CleanedRow,
        ComplaintReader as ComplaintReader,
        RejectedRow as RejectedRow,
        count_records as count_records,
        read_complaints as read_complaints,
    )
# isort: on

#: The public API, under the module that defines each name (imported on first use).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "builder": ("detect_preset", "fingerprint"),
    "formats": ("BUILTIN_FORMATS", "FORMATS", "FileFormat", "detect_format"),
    "mapping": ("FIELDS", "PRESETS", "ColumnMapping", "Source"),
    "reader": (
        "CleanedRow",
        "ComplaintReader",
        "RejectedRow",
        "count_records",
        "read_complaints",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
_WHERE["Spec"] = "mapping"  # a type alias, not in __all__ (as before)

__all__ = [name for names in _EXPORTS.values() for name in names]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'complaintkit_importing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
