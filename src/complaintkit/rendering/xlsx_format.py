"""The XLSX format: an Excel workbook with the figures (and section texts) on a first sheet and
one sheet per table, numbers written as numbers with a number format per column kind."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..i18n import Names
from .values import is_number

if TYPE_CHECKING:
    from ..reporting import Report, Table

__all__ = ["NUMBER_FORMATS", "XlsxFormat", "excel_value"]

#: The Excel number format of each column kind (text and datetime are written as text).
NUMBER_FORMATS = {
    "count": "#,##0",
    "number": "#,##0.00",
    "share": "0.0%",
    "duration": "[h]:mm",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
}
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
_SUMMARY = Names("Report", "报告")
_PARAMETERS = Names("Parameters", "参数")
_NOTES = Names("Notes", "说明")
_YES = Names("yes", "是")
_NO = Names("no", "否")


def excel_value(value: Any, kind: str, lang: str) -> tuple[Any, str | None]:
    """The cell value and number format for ``value`` of column ``kind``.

    Numbers stay numbers; a duration (seconds) becomes days, Excel's unit of time, shown as
    hours and minutes; an ISO date (``2025-10-01``) or month (``2025-10``) becomes a date; an
    aware datetime is written as ISO text with its offset (Excel has no time zones).
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        return (_YES if value else _NO).get(lang), None
    if is_number(value):
        if kind == "duration":
            return value / 86400, NUMBER_FORMATS["duration"]
        return value, NUMBER_FORMATS.get(kind)
    if kind == "date" and isinstance(value, str):
        if _DAY.match(value):
            return date.fromisoformat(value), "yyyy-mm-dd"
        if _MONTH.match(value):
            return date.fromisoformat(value + "-01"), "yyyy-mm"
        return value, None
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds"), None
    if isinstance(value, date):
        return value, "yyyy-mm-dd"
    return str(value), None


def _sheet_title(text: str, taken: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", text).strip()[:31] or "table"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


class XlsxFormat:
    """An Excel workbook (openpyxl)."""

    name = "xlsx"
    names = Names("Excel workbook", "Excel 工作簿")
    extensions: tuple[str, ...] = (".xlsx",)
    binary = True
    description = "an Excel workbook: figures on the first sheet, one sheet per table"

    def render(self, report: Report, lang: str) -> bytes:
        """The report as the bytes of an .xlsx file."""
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        bold = Font(bold=True)
        book = Workbook()
        first = book.active
        taken: set[str] = set()
        first.title = _sheet_title(_SUMMARY.get(lang), taken)
        first.append([report.names.get(lang)])
        first["A1"].font = Font(bold=True, size=14)
        first.append([])
        for names, value, kind in report.figures:
            cell_value, fmt = excel_value(value, kind, lang)
            first.append([names.get(lang), cell_value])
            if fmt:
                first.cell(first.max_row, 2).number_format = fmt
        for section in report.sections:
            first.append([])
            first.append([section.names.get(lang)])
            first.cell(first.max_row, 1).font = bold
            for paragraph in section.paragraphs:
                for line in paragraph.splitlines():
                    first.append([line])
        if report.notes:
            first.append([])
            first.append([_NOTES.get(lang)])
            first.cell(first.max_row, 1).font = bold
            for note in report.notes:
                first.append([note])
        if report.parameters:
            first.append([])
            first.append([_PARAMETERS.get(lang)])
            first.cell(first.max_row, 1).font = bold
            for key, value in report.parameters.items():
                shown = value if is_number(value) or isinstance(value, str) else str(value)
                first.append([key, shown])
        first.column_dimensions["A"].width = 40
        first.column_dimensions["B"].width = 18

        tables: list[tuple[str, Table]] = [("", t) for t in report.tables]
        tables += [(f"{s.key} ", t) for s in report.sections for t in s.tables]
        for prefix, table in tables:
            sheet = book.create_sheet(_sheet_title(prefix + table.names.get(lang), taken))
            sheet.append([c.names.get(lang) for c in table.columns])
            for cell in sheet[1]:
                cell.font = bold
            widths = [max(10, len(c.names.get(lang)) + 2) for c in table.columns]
            for row in table.rows:
                values = []
                formats = []
                for i, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                    cell_value, fmt = excel_value(value, column.kind, lang)
                    values.append(cell_value)
                    formats.append(fmt)
                    if isinstance(cell_value, str):
                        widths[i] = min(60, max(widths[i], len(cell_value) + 2))
                sheet.append(values)
                r = sheet.max_row
                for i, fmt in enumerate(formats):
                    if fmt:
                        sheet.cell(r, i + 1).number_format = fmt
            for i, width in enumerate(widths):
                letter = sheet.cell(1, i + 1).column_letter
                sheet.column_dimensions[letter].width = width
                if table.columns[i].kind != "text":
                    sheet.cell(1, i + 1).alignment = Alignment(horizontal="right")
            sheet.freeze_panes = "A2"
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
