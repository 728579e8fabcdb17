"""The JSON format: the report as plain data for programs, values raw (not formatted)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from complaintkit.i18n import Names

if TYPE_CHECKING:
    from complaintkit.reporting import Report, Table

__all__ = ["JsonFormat", "report_data", "table_data"]


def _raw(value: Any) -> Any:
    """A value JSON can hold: datetimes and dates as ISO strings, everything else as it is."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def table_data(table: Table, lang: str) -> dict[str, Any]:
    """One table as plain data: columns as ``{key, name, kind}``, rows as lists of raw values,
    and its chart (``kind``, ``x``, ``y``, ``flag``) or None."""
    chart = table.chart
    return {
        "key": table.key,
        "title": table.names.get(lang),
        "columns": [
            {"key": c.key, "name": c.names.get(lang), "kind": c.kind} for c in table.columns
        ],
        "rows": [[_raw(v) for v in row] for row in table.rows],
        "chart": None
        if chart is None
        else {"kind": chart.kind, "x": chart.x, "y": list(chart.y), "flag": chart.flag},
    }


def report_data(report: Report, lang: str) -> dict[str, Any]:
    """The whole report as plain data (what the JSON format writes)."""
    return {
        "report": report.name,
        "title": report.names.get(lang),
        "lang": lang,
        "figures": [
            {"name": n.get(lang), "en": n.en, "value": _raw(v), "kind": kind}
            for n, v, kind in report.figures
        ],
        "tables": [table_data(t, lang) for t in report.tables],
        "sections": [
            {
                "key": s.key,
                "title": s.names.get(lang),
                "paragraphs": list(s.paragraphs),
                "tables": [table_data(t, lang) for t in s.tables],
            }
            for s in report.sections
        ],
        "notes": list(report.notes),
        "parameters": {k: _raw(v) for k, v in report.parameters.items()},
    }


class JsonFormat:
    """Pretty JSON, Chinese characters kept readable."""

    name = "json"
    names = Names("JSON", "JSON")
    extensions: tuple[str, ...] = (".json",)
    binary = False
    description = "the report as data: figures, tables (columns with key, name and kind), sections"

    def render(self, report: Report, lang: str) -> str:
        """The report as JSON text."""
        return json.dumps(report_data(report, lang), ensure_ascii=False, indent=2, default=str)
