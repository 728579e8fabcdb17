"""The XLSX format: an Excel workbook with the figures (and section texts) on a first sheet and
one sheet per table, numbers written as numbers with a number format per column kind, and a
native Excel chart beside each table that has a :class:`~complaintkit.reporting.Chart`.

The charts reference the table's cells, so they follow edits in Excel: ``bar`` (horizontal bars
per row, vertical columns when the x column holds dates; the first :data:`MAX_BARS` rows),
``line`` (one line per y column), ``pareto`` (bars of the first y column in the table's row
order, the cumulative share as a line on a secondary 0–100 % axis, read from the table's
cumulative column or, without one, from a helper column written after the table's columns) and
``control`` (the first y column as a line, the other y columns as dashed limit lines, flagged
rows marked by large red points)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from complaintkit.display import formula_like
from complaintkit.i18n import Names

from .charts import _CUMULATIVE, FLAG_COLOUR, LIMIT_COLOURS, MAX_BARS, PALETTE, _value_title
from .values import is_number

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.chart._chart import ChartBase
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from complaintkit.reporting import Report, Table

__all__ = ["NUMBER_FORMATS", "XlsxFormat", "excel_chart", "excel_value", "pareto_cumulative"]

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


def pareto_cumulative(table: Table) -> str | None:
    """The key of the column holding a Pareto table's cumulative share: the second y column
    when it is a share, else a share column keyed ``cumulative``; None when there is none (the
    XLSX format then writes a helper column)."""
    chart = table.chart
    if chart is None:
        return None
    if len(chart.y) > 1 and table.column(chart.y[1]).kind == "share":
        return chart.y[1]
    for c in table.columns:
        if c.key == "cumulative" and c.kind == "share":
            return c.key
    return None


def _helper_cumulative(table: Table) -> list[float]:
    """The running share of the total of the first y column, in row order."""
    assert table.chart is not None
    values = [v if is_number(v) else 0 for v in table.values(table.chart.y[0])]
    whole = sum(values) or 1
    out, running = [], 0.0
    for v in values:
        running += v
        out.append(running / whole)
    return out


def excel_chart(sheet: WriteOnlyWorksheet, table: Table, lang: str) -> ChartBase | None:
    """A native Excel chart of ``table`` drawn from its cells on ``sheet`` (header in row 1,
    rows from row 2, a Pareto helper column, if any, right after the table's columns), or
    None when the table has no chart or no rows."""
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.chart.marker import DataPoint, Marker
    from openpyxl.chart.shapes import GraphicalProperties

    chart = table.chart
    if chart is None or not table.rows:
        return None
    keys = [c.key for c in table.columns]
    n = len(table.rows)
    x = table.column(chart.x)
    dated = x.kind in ("date", "datetime")
    capped = chart.kind in ("bar", "pareto")
    last = 1 + (min(n, MAX_BARS) if capped else n)

    def data(col: int) -> Reference:
        return Reference(sheet, min_col=col, min_row=1, max_row=last)  # header: series title

    def col(key: str) -> int:
        return keys.index(key) + 1

    def axes(c: ChartBase, y_title: str) -> None:
        c.title = table.names.get(lang)
        c.x_axis.title = x.names.get(lang)
        c.y_axis.title = y_title
        c.x_axis.delete = False
        c.y_axis.delete = False
        c.set_categories(Reference(sheet, min_col=col(chart.x), min_row=2, max_row=last))
        c.width = 18
        c.height = 9

    y_kind = table.column(chart.y[0]).kind
    result: ChartBase
    if chart.kind == "bar":
        bars = BarChart()
        bars.type = "col" if dated else "bar"
        bars.grouping = "clustered"
        for i, key in enumerate(chart.y):
            bars.add_data(data(col(key)), titles_from_data=True)
            bars.series[i].graphicalProperties.solidFill = PALETTE[i % len(PALETTE)][1:]
        names = [table.column(k).names.get(lang) for k in chart.y]
        axes(bars, _value_title(names, y_kind, lang))
        if not dated:
            # First row at the top, as in the table; the value axis stays at the bottom.
            bars.x_axis.scaling.orientation = "maxMin"
            bars.y_axis.crosses = "max"
            bars.height = min(24.0, max(9.0, 2.5 + 0.5 * (last - 1) * len(chart.y) ** 0.5))
        result = bars
    elif chart.kind == "line":
        lines = LineChart()
        for i, key in enumerate(chart.y):
            lines.add_data(data(col(key)), titles_from_data=True)
            lines.series[i].graphicalProperties.line.solidFill = PALETTE[i % len(PALETTE)][1:]
            lines.series[i].smooth = False
        names = [table.column(k).names.get(lang) for k in chart.y]
        axes(lines, _value_title(names, y_kind, lang))
        result = lines
    elif chart.kind == "pareto":
        bars = BarChart()
        bars.type = "col"
        bars.add_data(data(col(chart.y[0])), titles_from_data=True)
        bars.series[0].graphicalProperties.solidFill = PALETTE[0][1:]
        axes(bars, table.column(chart.y[0]).names.get(lang))
        share = pareto_cumulative(table)
        share_col = col(share) if share is not None else len(keys) + 1
        cumulative = LineChart()
        cumulative.add_data(data(share_col), titles_from_data=True)
        cumulative.set_categories(Reference(sheet, min_col=col(chart.x), min_row=2, max_row=last))
        cumulative.series[0].graphicalProperties.line.solidFill = PALETTE[1][1:]
        cumulative.series[0].smooth = False
        cumulative.y_axis.axId = 200
        cumulative.y_axis.title = _CUMULATIVE.get(lang)
        cumulative.y_axis.scaling.min = 0
        cumulative.y_axis.scaling.max = 1
        cumulative.y_axis.number_format = "0%"
        cumulative.y_axis.majorGridlines = None
        cumulative.y_axis.crosses = "max"
        cumulative.y_axis.delete = False
        bars += cumulative
        result = bars
    else:  # control
        lines = LineChart()
        lines.add_data(data(col(chart.y[0])), titles_from_data=True)
        main = lines.series[0]
        main.graphicalProperties.line.solidFill = PALETTE[0][1:]
        main.smooth = False
        for i, key in enumerate(chart.y[1:]):
            lines.add_data(data(col(key)), titles_from_data=True)
            limit = lines.series[-1]
            limit.graphicalProperties.line.solidFill = LIMIT_COLOURS[i % len(LIMIT_COLOURS)][1:]
            limit.graphicalProperties.line.dashStyle = "dash"
            limit.marker = Marker(symbol="none")
            limit.smooth = False
        if chart.flag is not None:
            red = GraphicalProperties(solidFill=FLAG_COLOUR[1:])
            for i, flagged in enumerate(table.values(chart.flag)):
                if flagged:
                    marker = Marker(symbol="circle", size=9, spPr=red)
                    main.dPt.append(DataPoint(idx=i, marker=marker))
        axes(lines, table.column(chart.y[0]).names.get(lang))
        result = lines
    return result


def _sheet_title(text: str, taken: set[str]) -> str:
    base = _BAD_SHEET.sub(" ", text).strip()[:31] or "table"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _cell(
    sheet: WriteOnlyWorksheet,
    value: Any,
    *,
    fmt: str | None = None,
    font: Font | None = None,
    alignment: Alignment | None = None,
) -> Cell:
    """One cell for ``sheet``. A text is always a string cell: openpyxl would otherwise store
    ``=HYPERLINK(...)`` from an imported product name as a live formula and ``#N/A`` as an
    error value. A text that starts like a formula also gets Excel's quote prefix, so that it
    stays text when someone edits the cell. Characters XML cannot hold (C0 controls) are
    dropped."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if formula_like(value):
            cell.quotePrefix = True
    if fmt:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    return cell


class XlsxFormat:
    """An Excel workbook (openpyxl). Every text is written as a string cell, never as a
    formula (see :func:`_cell`)."""

    name = "xlsx"
    names = Names("Excel workbook", "Excel 工作簿")
    extensions: tuple[str, ...] = (".xlsx",)
    binary = True
    description = "an Excel workbook: figures on the first sheet, one sheet per table"

    def render(self, report: Report, lang: str) -> bytes:
        """The report as the bytes of an .xlsx file (written in openpyxl's streaming mode)."""
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        bold = Font(bold=True)
        right = Alignment(horizontal="right")
        taken: set[str] = set()
        first = book.create_sheet(_sheet_title(_SUMMARY.get(lang), taken))

        def line(*values: Any, font: Font | None = None, fmt: str | None = None) -> None:
            """One row of the first sheet; ``font`` and ``fmt`` apply to its last cell."""
            cells = [_cell(first, v) for v in values[:-1]]
            if values:
                cells.append(_cell(first, values[-1], font=font, fmt=fmt))
            first.append(cells)

        first.column_dimensions["A"].width = 40
        first.column_dimensions["B"].width = 18
        line(report.names.get(lang), font=Font(bold=True, size=14))
        line()
        for names, value, kind in report.figures:
            cell_value, fmt = excel_value(value, kind, lang)
            line(names.get(lang), cell_value, fmt=fmt)
        for section in report.sections:
            line()
            line(section.names.get(lang), font=bold)
            for paragraph in section.paragraphs:
                for text in paragraph.splitlines():
                    line(text)
        if report.notes:
            line()
            line(_NOTES.get(lang), font=bold)
            for note in report.notes:
                line(note)
        if report.parameters:
            line()
            line(_PARAMETERS.get(lang), font=bold)
            for key, value in report.parameters.items():
                line(key, value if is_number(value) or isinstance(value, str) else str(value))

        tables: list[tuple[str, Table]] = [("", t) for t in report.tables]
        tables += [(f"{s.key} ", t) for s in report.sections for t in s.tables]
        for prefix, table in tables:
            sheet = book.create_sheet(_sheet_title(prefix + table.names.get(lang), taken))
            kinds = [c.kind for c in table.columns]
            converted = [
                [excel_value(v, kind, lang) for v, kind in zip(row, kinds, strict=True)]
                for row in table.rows
            ]
            helper: list[float] | None = None
            if (
                table.chart is not None
                and table.chart.kind == "pareto"
                and table.rows
                and pareto_cumulative(table) is None
            ):
                helper = _helper_cumulative(table)
            widths = [max(10, len(c.names.get(lang)) + 2) for c in table.columns]
            if helper is not None:
                widths.append(max(10, len(_CUMULATIVE.get(lang)) + 2))
            for row in converted:
                for i, (value, _fmt) in enumerate(row):
                    if isinstance(value, str) and len(value) + 2 > widths[i]:
                        widths[i] = min(60, len(value) + 2)
            for i, width in enumerate(widths):
                sheet.column_dimensions[get_column_letter(i + 1)].width = width
            sheet.freeze_panes = "A2"
            head = [
                _cell(
                    sheet,
                    c.names.get(lang),
                    font=bold,
                    alignment=None if c.kind == "text" else right,
                )
                for c in table.columns
            ]
            if helper is not None:
                head.append(_cell(sheet, _CUMULATIVE.get(lang), font=bold, alignment=right))
            sheet.append(head)
            for r, row in enumerate(converted):
                out = [_cell(sheet, value, fmt=fmt) for value, fmt in row]
                if helper is not None:
                    out.append(_cell(sheet, helper[r], fmt=NUMBER_FORMATS["share"]))
                sheet.append(out)
            drawn = excel_chart(sheet, table, lang)
            if drawn is not None:
                sheet.add_chart(drawn, f"{get_column_letter(len(widths) + 2)}2")
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
