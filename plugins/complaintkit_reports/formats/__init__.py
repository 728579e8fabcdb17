"""Renderers: a :class:`~complaintkit.reporting.Report` as a terminal table, CSV, JSON,
Markdown, an Excel workbook or one self-contained HTML page.

Every renderer reads only the report's data (figures, tables with their column kinds and
charts, sections, notes, parameters), so each format serves every reporter. Formats are
contributed through the ``register_report_formats`` hook; the first-party ones below are
registered by the ``reports`` plugin. A format is any object with the attributes of
:class:`complaintkit.reporting.ReportFormat`::

    class Yaml:
        name = "yaml"
        names = Names("YAML", "YAML")
        extensions = (".yaml", ".yml")
        binary = False
        description = "the JSON data as YAML"

        def render(self, report: Report, lang: str) -> str:
            ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .values import NUMERIC_KINDS, format_duration, format_value, is_number

if TYPE_CHECKING:
    from complaintkit.reporting import ReportFormat

__all__ = [
    "FIRST_PARTY_FORMATS",
    "NUMERIC_KINDS",
    "first_party_formats",
    "format_duration",
    "format_value",
    "is_number",
]


#: The names of the formats the ``reports`` plugin registers, in the order it registers them.
FIRST_PARTY_FORMATS = ("table", "csv", "csv-raw", "json", "markdown", "xlsx", "html")


def first_party_formats() -> list[ReportFormat]:
    """The first-party formats (terminal table, CSV with formulas neutralised, CSV with texts as
    they are, JSON, Markdown, XLSX, HTML)."""
    from .csv_format import CsvFormat
    from .html_format import HtmlFormat
    from .json_format import JsonFormat
    from .markdown_format import MarkdownFormat
    from .text_format import TableFormat
    from .xlsx_format import XlsxFormat

    return [
        TableFormat(),
        CsvFormat(),
        CsvFormat(raw=True),
        JsonFormat(),
        MarkdownFormat(),
        XlsxFormat(),
        HtmlFormat(),
    ]
