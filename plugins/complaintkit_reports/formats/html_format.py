"""The HTML format: one self-contained page (inline CSS, charts as inline SVG, no script, no
URL to fetch) that works offline and prints well. Every piece of text is escaped."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from complaintkit.i18n import Names

from .charts import chart_svg
from .text_format import is_list
from .values import NUMERIC_KINDS, format_value

if TYPE_CHECKING:
    from complaintkit.reporting import Report, Table

__all__ = ["CSS", "HtmlFormat"]

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #111827;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
    "PingFang SC", "Microsoft YaHei", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header .meta { margin: 0; color: #6b7280; font-size: 13px; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
  gap: 12px; margin: 20px 0 8px; }
.card { background: #fff; border-radius: 10px; padding: 14px 16px;
  box-shadow: 0 1px 2px rgba(0,0,0,.06), 0 0 0 1px rgba(0,0,0,.04);
  border-top: 3px solid #60a5fa; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums;
  line-height: 1.2; }
.card .value.text { font-size: 17px; font-weight: 600; }
.card .label { color: #4b5563; font-size: 13px; margin-top: 2px; }
.notes { background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px;
  padding: 8px 14px; margin: 16px 0; color: #78350f; }
.notes p { margin: 4px 0; }
.block, .doc { background: #fff; border-radius: 10px; padding: 16px 20px; margin: 16px 0;
  box-shadow: 0 1px 2px rgba(0,0,0,.06), 0 0 0 1px rgba(0,0,0,.04); }
.block h2, .doc h2 { margin: 0 0 10px; font-size: 18px; font-weight: 620; }
.doc h3 { margin: 16px 0 8px; font-size: 15px; font-weight: 620; color: #1f2937; }
.doc p, .doc ul { margin: 8px 0; max-width: 80ch; }
.with-chart { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 20px;
  align-items: start; }
.chart svg { width: 100%; height: auto; display: block; }
.chart svg text { font-size: 12px; fill: #374151; }
.chart svg .axis-title { font-size: 12px; font-weight: 600; fill: #4b5563; }
.chart svg .value, .chart svg .note { font-size: 11px; fill: #6b7280; }
.plain { max-width: 760px; }
.chart.wide { max-width: 860px; margin-bottom: 12px; }
td.nw { white-space: nowrap; }
.scroll { overflow-x: auto; max-height: 560px; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e5e7eb; text-align: left;
  vertical-align: top; }
th { background: #f9fafb; font-weight: 600; color: #374151; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafafa; }
.empty { color: #6b7280; font-style: italic; }
details { margin-top: 20px; color: #4b5563; }
details table { width: auto; }
@media (max-width: 860px) { .with-chart { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } .block, .doc, .card { box-shadow: none;
  border: 1px solid #e5e7eb; } .plain { max-width: 760px; }
.chart.wide { max-width: 860px; margin-bottom: 12px; }
td.nw { white-space: nowrap; }
.scroll { max-height: none; overflow: visible; } }
"""

_EMPTY = Names("no rows", "无数据")
_PARAMETERS = Names("Parameters", "参数")
_REPORT = Names("report", "报告")


def _table_html(table: Table, lang: str) -> str:
    if not table.rows:
        return f'<p class="empty">{escape(_EMPTY.get(lang))}</p>'
    numeric = [c.kind in NUMERIC_KINDS for c in table.columns]
    dated = [c.kind in ("date", "datetime") for c in table.columns]
    head = "".join(
        f'<th{" class=num" if numeric[i] else ""} scope="col">{escape(c.names.get(lang))}</th>'
        for i, c in enumerate(table.columns)
    )
    body = []
    for row in table.rows:
        cells = "".join(
            f"<td{' class=num' if numeric[i] else ' class=nw' if dated[i] else ''}>"
            f"{escape(format_value(value, table.columns[i].kind, lang))}</td>"
            for i, value in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _block(table: Table, lang: str, tag: str, css: str | None) -> str:
    svg = chart_svg(table, lang)
    title = f"<{tag}>{escape(table.names.get(lang))}</{tag}>"
    inner = _table_html(table, lang)
    narrow = len(table.columns) <= 4
    if svg and narrow:
        inner = f'<div class="with-chart"><div class="chart">{svg}</div><div>{inner}</div></div>'
    elif svg:
        inner = f'<div class="chart wide">{svg}</div>{inner}'
    elif narrow:
        inner = f'<div class="plain">{inner}</div>'
    open_tag = f'<section class="{css}">' if css else "<div>"
    close_tag = "</section>" if css else "</div>"
    return f"{open_tag}{title}{inner}{close_tag}"


def _paragraph(text: str) -> str:
    if is_list(text):
        items = "".join(f"<li>{escape(line[2:])}</li>" for line in text.splitlines())
        return f"<ul>{items}</ul>"
    lines = "<br>".join(escape(line) for line in text.splitlines())
    return f"<p>{lines}</p>"


class HtmlFormat:
    """One HTML file with everything inline."""

    name = "html"
    names = Names("HTML page", "HTML 页面")
    extensions: tuple[str, ...] = (".html", ".htm")
    binary = False
    description = "one self-contained HTML page: figure cards, tables and SVG charts, offline"

    def render(self, report: Report, lang: str) -> str:
        """The report as an HTML document."""
        title = escape(report.names.get(lang))
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body><main>",
            f'<header><h1>{title}</h1><p class="meta">{escape(_REPORT.get(lang))}: '
            f"{escape(report.name)}</p></header>",
        ]
        if report.figures:
            cards = "".join(
                f'<div class="card"><div class="value{" text" if kind == "text" else ""}">'
                f"{escape(format_value(value, kind, lang, empty='—'))}</div>"
                f'<div class="label">{escape(names.get(lang))}</div></div>'
                for names, value, kind in report.figures
            )
            parts.append(f'<section class="figures">{cards}</section>')
        if report.notes:
            notes = "".join(f"<p>{escape(note)}</p>" for note in report.notes)
            parts.append(f'<aside class="notes">{notes}</aside>')
        for table in report.tables:
            parts.append(_block(table, lang, "h2", "block"))
        for section in report.sections:
            parts.append(f'<section class="doc" id="{escape(section.key)}">')
            parts.append(f"<h2>{escape(section.names.get(lang))}</h2>")
            parts += [_paragraph(p) for p in section.paragraphs]
            parts += [_block(t, lang, "h3", None) for t in section.tables]
            parts.append("</section>")
        if report.parameters:
            rows = "".join(
                f"<tr><th scope=row>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                for k, v in report.parameters.items()
            )
            parts.append(
                f"<details><summary>{escape(_PARAMETERS.get(lang))}</summary>"
                f"<table>{rows}</table></details>"
            )
        parts.append("</main></body></html>")
        return "\n".join(parts)
