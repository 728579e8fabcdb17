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
        """The report as the bytes of an .xlsx file (written in openpyxl's streaming mode)."""
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        bold = Font(bold=True)
        right = Alignment(horizontal="right")
        taken: set[str] = set()
        first = book.create_sheet(_sheet_title(_SUMMARY.get(lang), taken))

        def styled(value: Any, *, font: Font | None = None, fmt: str | None = None) -> Any:
            cell = WriteOnlyCell(first, value=value)
            if font is not None:
                cell.font = font
            if fmt:
                cell.number_format = fmt
            return cell

        first.column_dimensions["A"].width = 40
        first.column_dimensions["B"].width = 18
        first.append([styled(report.names.get(lang), font=Font(bold=True, size=14))])
        first.append([])
        for names, value, kind in report.figures:
            cell_value, fmt = excel_value(value, kind, lang)
            first.append([names.get(lang), styled(cell_value, fmt=fmt)])
        for section in report.sections:
            first.append([])
            first.append([styled(section.names.get(lang), font=bold)])
            for paragraph in section.paragraphs:
                for line in paragraph.splitlines():
                    first.append([line])
        if report.notes:
            first.append([])
            first.append([styled(_NOTES.get(lang), font=bold)])
            for note in report.notes:
                first.append([note])
        if report.parameters:
            first.append([])
            first.append([styled(_PARAMETERS.get(lang), font=bold)])
            for key, value in report.parameters.items():
                shown = value if is_number(value) or isinstance(value, str) else str(value)
                first.append([key, shown])

        tables: list[tuple[str, Table]] = [("", t) for t in report.tables]
        tables += [(f"{s.key} ", t) for s in report.sections for t in s.tables]
        for prefix, table in tables:
            sheet = book.create_sheet(_sheet_title(prefix + table.names.get(lang), taken))
            kinds = [c.kind for c in table.columns]
            converted = [
                [excel_value(v, kind, lang) for v, kind in zip(row, kinds, strict=True)]
                for row in table.rows
            ]
            widths = [max(10, len(c.names.get(lang)) + 2) for c in table.columns]
            for row in converted:
                for i, (value, _fmt) in enumerate(row):
                    if isinstance(value, str) and len(value) + 2 > widths[i]:
                        widths[i] = min(60, len(value) + 2)
            for i, width in enumerate(widths):
                sheet.column_dimensions[get_column_letter(i + 1)].width = width
            sheet.freeze_panes = "A2"
            head = []
            for c in table.columns:
                cell = WriteOnlyCell(sheet, value=c.names.get(lang))
                cell.font = bold
                if c.kind != "text":
                    cell.alignment = right
                head.append(cell)
            sheet.append(head)
            for row in converted:
                out: list[Any] = []
                for value, fmt in row:
                    if fmt is None:
                        out.append(value)
                    else:
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.number_format = fmt
                        out.append(cell)
                sheet.append(out)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
