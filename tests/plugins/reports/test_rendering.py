"""Every registered format renders every registered reporter over real complaints (tweets to US
airlines), in English and Chinese; values are formatted by column kind, text is escaped, each
chart kind draws its SVG elements, and the XLSX workbook holds real numbers."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import quote_sheetname

from complaintkit import Chart, Column, Desk, Names, Report, Section, Table, make_host
from complaintkit.reporting import ReportContext
from complaintkit.storage import ComplaintFilter
from complaintkit_reports.formats import first_party_formats, format_duration, format_value
from complaintkit_reports.formats.charts import PALETTE, chart_svg, nice_ticks
from complaintkit_reports.formats.markdown_format import escape_markdown
from complaintkit_reports.formats.xlsx_format import excel_value
from conftest import require_dataset
from rendering_support import NASTY_TITLE, NOW, build_store

_HOST = make_host(env={})
REPORTERS = sorted(_HOST.reporters())
FORMATS = list(_HOST.report_formats())
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    tweets = require_dataset("twitter_airline_sentiment/tweets.csv")
    return build_store(tweets, tmp_path_factory.mktemp("render") / "tweets.json")


def run(desk: Desk, name: str, lang: str) -> Report:
    context = ReportContext(desk.host.schemes(), lang, NOW, desk.host.config, {})
    return desk.host.reporter(name).run(desk.store, ComplaintFilter(), context)


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of an HTML page, parsed as XML (so each must be well-formed)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def raw(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def test_first_party_formats_are_registered() -> None:
    assert FORMATS[:7] == ["table", "csv", "csv-raw", "json", "markdown", "xlsx", "html"]
    assert {f.name for f in first_party_formats()} <= set(FORMATS)
    assert _HOST.owner("register_report_formats", "html") == "reports"
    assert [f.name for f in _HOST.report_formats().values() if f.binary] == ["xlsx"]
    assert {"summary", "early-warning", "8d"} <= set(REPORTERS)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", REPORTERS)
def test_every_format_renders_every_reporter(desk: Desk, name: str, fmt: str, lang: str) -> None:
    report = run(desk, name, lang)
    tables = report.all_tables()
    rendered = desk.host.report_format(fmt).render(report, lang)
    title = report.names.get(lang)
    if fmt == "xlsx":
        assert isinstance(rendered, bytes)
        book = openpyxl.load_workbook(io.BytesIO(rendered))
        assert len(book.worksheets) == 1 + len(tables)
        assert book.worksheets[0]["A1"].value == title
        for sheet, table in zip(book.worksheets[1:], tables, strict=True):
            assert [c.value for c in sheet[1]] == [c.names.get(lang) for c in table.columns]
            assert sheet.max_row == 1 + len(table.rows)
            for r, row in enumerate(table.rows, start=2):
                for i, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                    cell = sheet.cell(r, i + 1)
                    if column.kind in ("count", "number", "share", "money") and value is not None:
                        assert isinstance(cell.value, (int, float)) and cell.value == value
        # A native chart beside each charted table, drawn from that sheet's cells only.
        charts = excel_charts(rendered)
        assert charts[book.worksheets[0].title] == []
        for sheet, table in zip(book.worksheets[1:], tables, strict=True):
            drawn = charts[sheet.title]
            assert len(drawn) == (1 if table.chart is not None and table.rows else 0)
            for chart in drawn:
                refs = [f.text or "" for f in chart.iter(f"{C_NS}f")]
                assert refs and all(r.startswith(quote_sheetname(sheet.title) + "!") for r in refs)
                assert _title(chart.find(f"{C_NS}chart/{C_NS}title")) == table.names.get(lang)
                if table.chart is not None and table.chart.flag is not None:
                    main = chart.find(f".//{C_NS}lineChart/{C_NS}ser")
                    assert main is not None
                    flagged = sum(1 for v in table.values(table.chart.flag) if v)
                    assert len(main.findall(f"{C_NS}dPt")) == flagged
        return
    assert isinstance(rendered, str)
    if fmt == "table":
        assert rendered.splitlines()[0] == title
        for names, _, _ in report.figures:
            assert f"{names.get(lang)}: " in rendered
        for t in tables:
            if t.rows:
                assert t.names.get(lang) in rendered
    elif fmt in ("csv", "csv-raw"):
        rows = list(csv.DictReader(io.StringIO(rendered)))
        assert len(rows) == sum(len(t.rows) for t in tables)
        first = tables[0]
        if first.rows:
            keys = [c.key for c in first.columns]
            expected = {k: raw(v) for k, v in zip(keys[1:], first.rows[0][1:], strict=True)}
            got = rows[0]
            assert got["item"] == str(raw(first.rows[0][0]))
            for k, v in expected.items():
                assert got[k] == ("" if v is None else str(v))
    elif fmt == "json":
        data = json.loads(rendered)
        assert data["report"] == name and data["title"] == title and data["lang"] == lang
        assert [f["value"] for f in data["figures"]] == [raw(v) for _, v, _ in report.figures]
        shown = data["tables"] + [t for s in data["sections"] for t in s["tables"]]
        assert [t["key"] for t in shown] == [t.key for t in tables]
        for got, table in zip(shown, tables, strict=True):
            assert got["columns"] == [
                {"key": c.key, "name": c.names.get(lang), "kind": c.kind} for c in table.columns
            ]
            assert got["rows"] == [[raw(v) for v in row] for row in table.rows]
            assert (got["chart"] is None) == (table.chart is None)
    elif fmt == "markdown":
        assert rendered.startswith(f"# {escape_markdown(title)}\n")
        for t in tables:
            assert escape_markdown(t.names.get(lang)) in rendered
        table_rows = [line for line in rendered.splitlines() if line.startswith("| ")]
        assert len(table_rows) == sum(len(t.rows) + 2 for t in tables if t.rows)
        for s in report.sections:
            assert f"## {escape_markdown(s.names.get(lang))}" in rendered
    elif fmt == "html":
        assert rendered.startswith("<!DOCTYPE html>")
        assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in rendered
        assert "<script" not in rendered.lower()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", rendered)
        charts = [t for t in tables if t.chart is not None and t.rows]
        drawn = svgs(rendered)
        assert len(drawn) == len(charts)
        for element, table in zip(drawn, charts, strict=True):
            assert table.chart is not None
            assert f"ck-{table.chart.kind}" in element.get("class", "")
            assert element.findall(f".//{SVG_NS}rect[@class='bar']") or element.findall(
                f".//{SVG_NS}polyline"
            )
        assert rendered.count("<td class=num>") == sum(
            1
            for t in tables
            for row in t.rows
            for c in t.columns
            if c.kind in ("count", "number", "share", "duration", "money")
        )
        for _names, value, kind in report.figures:
            css = "value text" if kind == "text" else "value"
            shown = format_value(value, kind, lang, empty="—")
            assert f'<div class="{css}">{shown}</div>' in rendered.replace("&#x27;", "'")


@pytest.mark.slow
def test_control_charts_mark_the_flagged_days(desk: Desk) -> None:
    report = run(desk, "early-warning", "en")
    series = [t for t in report.tables if t.chart is not None]
    assert series, "the weekend surge of 22-23 February should flag some series"
    page = desk.host.report_format("html").render(report, "en")
    assert isinstance(page, str)
    for element, table in zip(svgs(page), series, strict=True):
        flags = element.findall(f".//{SVG_NS}circle[@class='flag']")
        assert len(flags) == sum(1 for v in table.values("flagged") if v) > 0
        assert len(element.findall(f".//{SVG_NS}polyline[@class='limit']")) == 2


@pytest.mark.slow
def test_markup_in_a_complaint_title_is_shown_not_run(desk: Desk) -> None:
    report = run(desk, "8d", "en")
    examples = report.sections[2].paragraphs
    assert any(NASTY_TITLE in p for p in examples)
    page = desk.host.report_format("html").render(report, "en")
    assert isinstance(page, str)
    assert (
        "NASTY-1: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Lost bag &amp; broken "
        "&lt;b&gt;seat&lt;/b&gt;"
    ) in page
    assert "<script" not in page and "<b>seat" not in page
    markdown = desk.host.report_format("markdown").render(report, "en")
    assert isinstance(markdown, str)
    assert r'\<script\>alert("x")\</script\> Lost bag \& broken \<b\>seat\</b\>' in markdown
    assert re.search(r"(?<!\\)[<>]", markdown) is None  # every angle bracket escaped
    text = desk.host.report_format("table").render(report, "en")
    assert f"- NASTY-1: {NASTY_TITLE}" in str(text)
    data = json.loads(str(desk.host.report_format("json").render(report, "en")))
    assert any(NASTY_TITLE in p for p in data["sections"][2]["paragraphs"])


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "lang", "shown"),
    [
        (None, "count", "en", ""),
        (12345, "count", "en", "12,345"),
        (0.25, "share", "en", "25.0%"),
        (0.3333, "share", "zh", "33.3%"),
        (1.0, "share", "en", "100.0%"),
        (93600, "duration", "en", "1.1 d"),
        (93600, "duration", "zh", "1.1 天"),
        (5400, "duration", "en", "1.5 h"),
        (5400, "duration", "zh", "1.5 小时"),
        (1800, "duration", "en", "30 min"),
        (1234.5, "money", "en", "1,234.50"),
        (3, "money", "en", "3.00"),
        (16.456, "number", "en", "16.46"),
        ("2025-10", "date", "en", "2025-10"),
        (
            datetime(2025, 10, 1, 10, 20, tzinfo=timezone(timedelta(hours=8))),
            "datetime",
            "en",
            "2025-10-01T10:20:00+08:00",
        ),
        (True, "text", "en", "yes"),
        (False, "text", "zh", "否"),
        ("价格", "text", "zh", "价格"),
    ],
)
def test_values_are_shown_by_column_kind(value: Any, kind: str, lang: str, shown: str) -> None:
    assert format_value(value, kind, lang) == shown


def test_durations_round_at_the_unit_boundaries() -> None:
    assert format_duration(3599) == "60 min"
    assert format_duration(3600) == "1.0 h"
    assert format_duration(86399) == "24.0 h"
    assert format_duration(86400) == "1.0 d"
    assert format_duration(-7200) == "-2.0 h"


def test_nice_ticks_cover_the_maximum_with_round_steps() -> None:
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0.93) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0) == [0.0, 1.0]


def _kinds_report() -> Report:
    """A report with one column of every kind and a chart of every kind."""
    shanghai = timezone(timedelta(hours=8))
    columns = (
        Column("name", Names("name", "名称")),
        Column("count", Names("complaints", "投诉数"), "count"),
        Column("share", Names("share", "占比"), "share"),
        Column("hours", Names("time to resolve", "解决时长"), "duration"),
        Column("amount", Names("amount", "金额"), "money"),
        Column("mean", Names("mean", "均值"), "number"),
        Column("month", Names("month", "月份"), "date"),
        Column("at", Names("received", "受理时间"), "datetime"),
    )
    rows = (
        (
            "A <b>&",
            1200,
            0.5,
            93600.0,
            1234.5,
            2.345,
            "2025-10",
            datetime(2025, 10, 1, 9, tzinfo=shanghai),
        ),
        ("B", 3, 0.0025, 5400, 0.0, 1.0, "2025-11-03", None),
    )
    table = Table("kinds", Names("Every kind", "各种类型"), columns, rows)
    return Report(
        "kinds",
        Names("Kinds & <types>", "类型"),
        ((Names("n", "数"), 2, "count"),),
        (table,),
        sections=(
            Section("S1", Names("S1 Section", "S1 部分"), ("- one\n- two & <three>", "plain <p>")),
        ),
    )


def test_xlsx_writes_numbers_with_number_formats(tmp_path: Path) -> None:
    report = _kinds_report()
    data = _HOST.report_format("xlsx").render(report, "en")
    assert isinstance(data, bytes)
    path = tmp_path / "kinds.xlsx"
    path.write_bytes(data)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Report", "Every kind"]
    sheet = book["Every kind"]
    a = [c for c in sheet[2]]
    assert a[0].value == "A <b>&"
    assert a[1].value == 1200 and a[1].number_format == "#,##0"
    assert a[2].value == 0.5 and a[2].number_format == "0.0%"
    # A duration is a number of days shown as hours:minutes, which openpyxl reads back as time.
    assert a[3].value == timedelta(seconds=93600) and a[3].number_format == "[h]:mm"
    import zipfile

    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml").decode()
    cell = re.search(r'<c r="D2"([^>]*)><v>([^<]*)</v>', xml)
    assert cell is not None and 't="n"' in cell.group(1)  # a number cell in the file
    assert float(cell.group(2)) == pytest.approx(93600 / 86400)
    assert a[4].value == 1234.5 and a[4].number_format == "#,##0.00"
    assert a[5].value == 2.345 and a[5].number_format == "#,##0.00"
    assert a[6].value == datetime(2025, 10, 1) and a[6].number_format == "yyyy-mm"
    assert a[7].value == "2025-10-01T09:00:00+08:00"
    b = [c.value for c in sheet[3]]
    assert b[6] == datetime(2025, 11, 3) and b[7] is None
    first = book["Report"]
    assert first["A1"].value == "Kinds & <types>" and first["B3"].value == 2
    assert excel_value(True, "text", "zh") == ("是", None)
    zh = openpyxl.load_workbook(io.BytesIO(bytes(_HOST.report_format("xlsx").render(report, "zh"))))
    assert zh.sheetnames == ["报告", "各种类型"]


def test_html_and_markdown_show_kinds_and_sections_escaped() -> None:
    report = _kinds_report()
    page = str(_HOST.report_format("html").render(report, "en"))
    assert "<title>Kinds &amp; &lt;types&gt;</title>" in page
    assert "<td>A &lt;b&gt;&amp;</td><td class=num>1,200</td><td class=num>50.0%</td>" in page
    assert "<td class=num>1.1 d</td><td class=num>1,234.50</td><td class=num>2.35</td>" in page
    assert "<td class=nw>2025-10-01T09:00:00+08:00</td>" in page
    assert "<ul><li>one</li><li>two &amp; &lt;three&gt;</li></ul>" in page
    assert "<p>plain &lt;p&gt;</p>" in page
    zh = str(_HOST.report_format("html").render(report, "zh"))
    assert "<td class=num>1.1 天</td>" in zh and "<h2>S1 部分</h2>" in zh
    md = str(_HOST.report_format("markdown").render(report, "en"))
    assert (
        "| name | complaints | share | time to resolve | amount | mean | month | received |" in md
    )
    assert "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |" in md
    assert r"| A \<b\>\& | 1,200 | 50.0% | 1.1 d | 1,234.50 | 2.35 | 2025-10 |" in md
    assert "- one\n- two \\& \\<three\\>" in md
    text = str(_HOST.report_format("table").render(report, "en"))
    assert "1,200  50.0%" in text and "—" in text


# --- charts ----------------------------------------------------------------------------------


def _chart_table(chart: Chart, rows: tuple[tuple[Any, ...], ...], x_kind: str = "text") -> Table:
    return Table(
        "t",
        Names("Chart <&>", "图表"),
        (
            Column("x", Names("x <axis>", "横轴"), x_kind),
            Column("count", Names("complaints", "投诉数"), "count"),
            Column("expected", Names("expected", "预期"), "number"),
            Column("upper", Names("alarm above", "报警上限"), "number"),
            Column("flagged", Names("flagged", "报警")),
        ),
        rows,
        chart,
    )


ROWS = tuple(
    (f"day {i} & <n>", c, 10.0, 18.0, c > 18) for i, c in enumerate([9, 12, 8, 25, 11, 30, 10])
)


def test_bar_chart_draws_one_bar_per_row_and_value() -> None:
    svg = chart_svg(_chart_table(Chart("bar", "x", ("count", "expected")), ROWS), "en")
    root = ET.fromstring(svg)
    bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
    assert len(bars) == 2 * len(ROWS)
    assert {b.get("fill") for b in bars} == {PALETTE[0], PALETTE[1]}
    widths = [float(b.get("width", 0)) for b in bars if b.get("fill") == PALETTE[0]]
    assert widths.index(max(widths)) == 5  # 30 is the longest bar
    labels = [t.text for t in root.findall(f".//{SVG_NS}text[@class='label']")]
    assert labels[0] == "day 0 & <n>"  # escaped in the source, the same text once parsed
    assert "complaints" in [t.text for t in root.iter(f"{SVG_NS}text")]  # legend
    assert "&lt;n&gt;" in svg and "<n>" not in svg


def test_bar_chart_over_dates_has_vertical_bars_and_axis_titles() -> None:
    rows = tuple((f"2025-{m:02d}", m * 3, 1.0, 2.0, False) for m in range(1, 13))
    root = ET.fromstring(chart_svg(_chart_table(Chart("bar", "x", ("count",)), rows, "date"), "en"))
    bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
    assert len(bars) == 12
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights == sorted(heights) and heights[0] > 0
    titles = [t.text for t in root.findall(f".//{SVG_NS}text[@class='axis-title']")]
    assert titles == ["x <axis>", "complaints"]


def test_line_chart_draws_one_line_per_y_column() -> None:
    root = ET.fromstring(
        chart_svg(_chart_table(Chart("line", "x", ("count", "upper")), ROWS), "zh")
    )
    lines = root.findall(f".//{SVG_NS}polyline[@class='line']")
    assert len(lines) == 2
    assert all(len(line.get("points", "").split()) == len(ROWS) for line in lines)
    assert "投诉数" in [t.text for t in root.iter(f"{SVG_NS}text")]


def test_many_series_share_an_axis_titled_by_what_they_measure() -> None:
    """The trends report's "received by cause" plots up to nine series: the y axis says what
    they measure (complaints) and the legend names each; one or two series name the axis,
    cut to the plot's height when too long rather than drawn past it."""
    names = ["(none)", "Service quality", "Product quality", "Price", "Integrity", "Other"]
    columns = (Column("x", Names("day", "日期"), "date"),) + tuple(
        Column(f"s{i}", Names(name, name), "count") for i, name in enumerate(names)
    )
    rows = tuple((f"2015-02-{d:02d}", *range(d, d + len(names))) for d in range(17, 25))
    keys = tuple(c.key for c in columns[1:])
    for kind in ("line", "bar"):
        table = Table(
            "t", Names("Received by cause", "按原因"), columns, rows, Chart(kind, "x", keys)
        )
        for lang, expected in (("en", "complaints"), ("zh", "投诉数")):
            root = ET.fromstring(chart_svg(table, lang))
            y_title = root.findall(f".//{SVG_NS}text[@class='axis-title']")[-1].text or ""
            assert y_title == expected
            legend = [t.text for t in root.iter(f"{SVG_NS}text")]
            assert all(name in legend for name in names)
    long = ("s" + "x" * 120, "t" + "y" * 120)
    wide = (columns[0],) + tuple(Column(k, Names(k, k), "count") for k in long)
    table = Table(
        "t",
        Names("Two long", "两个长名"),
        wide,
        tuple((f"2015-02-{d:02d}", d, d + 1) for d in range(17, 25)),
        Chart("line", "x", long),
    )
    root = ET.fromstring(chart_svg(table, "en"))
    y_title = root.findall(f".//{SVG_NS}text[@class='axis-title']")[-1].text or ""
    assert y_title.startswith("sxxx") and y_title.endswith("…")
    assert len(y_title) * 6.8 <= float(root.get("height", 0))  # within the drawing
    short = ET.fromstring(
        chart_svg(_chart_table(Chart("line", "x", ("count", "upper")), ROWS), "en")
    )
    titles = [t.text for t in short.findall(f".//{SVG_NS}text[@class='axis-title']")]
    assert titles[-1] == "complaints / alarm above"


def test_wide_tick_labels_do_not_reach_the_axis_title() -> None:
    """Over 130,000 complaints the backlog axis reads 150,000: the plot moves right so the
    tick labels end before the rotated axis title (drawn at x=14, about 8 pixels each side)."""
    rows = tuple((f"2025-{m:02d}", m * 12_000, 1.0, 2.0, False) for m in range(1, 13))
    for big in (False, True):
        table = _chart_table(Chart("line", "x", ("count",)), rows if big else ROWS, "date")
        root = ET.fromstring(chart_svg(table, "en"))
        ticks = root.findall(f".//{SVG_NS}text[@class='tick']")
        widest = max(len(t.text or "") for t in ticks)
        assert widest == (7 if big else 2)  # "150,000", "30"
        right_edge = float(ticks[0].get("x", 0))
        assert right_edge - widest * 6.6 >= 14 + 8


def test_the_category_axis_title_fits_beside_short_labels() -> None:
    """By department over unassigned complaints has the one label "(none)": the title
    "department" above the labels must still start inside the drawing."""
    table = Table(
        "t",
        Names("By department", "按部门"),
        (
            Column("d", Names("department", "部门")),
            Column("n", Names("complaints", "投诉数"), "count"),
        ),
        (("(none)", 132_232),),
        Chart("bar", "d", ("n",)),
    )
    root = ET.fromstring(chart_svg(table, "en"))
    title = root.findall(f".//{SVG_NS}text[@class='axis-title']")[0]
    assert title.text == "department"
    assert float(title.get("x", 0)) - len("department") * 7.2 >= 0


def test_a_text_figure_gets_a_smaller_card() -> None:
    report = Report(
        "pareto",
        Names("Pareto", "帕累托"),
        figures=(
            (Names("vital few", "关键少数"), "Service quality, Product quality", "text"),
            (Names("classified", "已分类"), 1261, "count"),
        ),
    )
    page = str(_HOST.report_format("html").render(report, "en"))
    assert '<div class="value text">Service quality, Product quality</div>' in page
    assert '<div class="value">1,261</div>' in page


def test_pareto_chart_sorts_bars_and_ends_the_cumulative_line_at_100_percent() -> None:
    root = ET.fromstring(chart_svg(_chart_table(Chart("pareto", "x", ("count",)), ROWS), "en"))
    bars = root.findall(f".//{SVG_NS}rect[@class='bar']")
    heights = [float(b.get("height", 0)) for b in bars]
    assert len(bars) == len(ROWS) and heights == sorted(heights, reverse=True)
    (line,) = root.findall(f".//{SVG_NS}polyline[@class='cumulative']")
    ys = [float(p.split(",")[1]) for p in line.get("points", "").split()]
    assert ys == sorted(ys, reverse=True)  # rising (SVG y grows downwards)
    top = min(float(b.get("y", 0)) for b in bars)  # the tallest bar reaches the axis top or less
    assert ys[-1] <= top + 1e-6
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "100%" in texts and "cumulative share" in texts


def test_pareto_keeps_a_last_other_bucket_last() -> None:
    rows = ((("Price", 9, 0, 0, False)), ("Delivery", 5, 0, 0, False), ("(none)", 20, 0, 0, False))
    root = ET.fromstring(chart_svg(_chart_table(Chart("pareto", "x", ("count",)), rows), "en"))
    labels = [t.text for t in root.findall(f".//{SVG_NS}text[@class='label']")]
    assert labels == ["Price", "Delivery", "(none)"]
    unsorted = (("Price", 5, 0, 0, False), ("Delivery", 9, 0, 0, False), ("(none)", 1, 0, 0, False))
    root = ET.fromstring(chart_svg(_chart_table(Chart("pareto", "x", ("count",)), unsorted), "en"))
    labels = [t.text for t in root.findall(f".//{SVG_NS}text[@class='label']")]
    assert labels == ["Delivery", "Price", "(none)"]


def test_control_chart_draws_limits_and_marks_flagged_points() -> None:
    chart = Chart("control", "x", ("count", "expected", "upper"), flag="flagged")
    root = ET.fromstring(chart_svg(_chart_table(chart, ROWS), "en"))
    assert len(root.findall(f".//{SVG_NS}polyline[@class='limit']")) == 2
    assert len(root.findall(f".//{SVG_NS}polyline[@class='line']")) == 1
    flags = root.findall(f".//{SVG_NS}circle[@class='flag']")
    assert len(flags) == sum(1 for r in ROWS if r[4]) == 2
    legend = [t.text for t in root.findall(f".//{SVG_NS}g[@class='legend']/{SVG_NS}text")]
    assert legend == ["complaints", "expected", "alarm above", "flagged"]


def test_no_chart_without_rows() -> None:
    assert chart_svg(_chart_table(Chart("bar", "x", ("count",)), ()), "en") == ""


# --- native Excel charts ---------------------------------------------------------------------

C_NS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _rels(book: zipfile.ZipFile, part: str) -> dict[str, str]:
    """The relationships of a package part: id → target part name (without a leading /)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in book.namelist():
        return {}
    out = {}
    for rel in ET.fromstring(book.read(rels)).iter(f"{_REL_NS}Relationship"):
        target = rel.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        out[rel.get("Id", "")] = posixpath.normpath(target)
    return out


def excel_charts(data: bytes) -> dict[str, list[ET.Element]]:
    """Each sheet's charts (parsed ``xl/charts/chartN.xml``), found the way Excel does: workbook
    → sheet part → its drawing (``xl/worksheets/_rels``) → the drawing's charts."""
    book = zipfile.ZipFile(io.BytesIO(data))
    sheets = _rels(book, "xl/workbook.xml")
    out: dict[str, list[ET.Element]] = {}
    for sheet in ET.fromstring(book.read("xl/workbook.xml")).iter(f"{_MAIN_NS}sheet"):
        part = sheets[sheet.get(_R_ID, "")]
        charts = []
        for drawing in _rels(book, part).values():
            assert drawing.startswith("xl/drawings/drawing")
            for chart in _rels(book, drawing).values():
                assert re.fullmatch(r"xl/charts/chart\d+\.xml", chart)
                charts.append(ET.fromstring(book.read(chart)))
        out[sheet.get("name", "")] = charts
    return out


def _formulas(series: ET.Element) -> tuple[str, str, str]:
    """A series' title, category and value references (``c:f`` formulas)."""
    title = series.find(f"{C_NS}tx/{C_NS}strRef/{C_NS}f")
    cat = series.find(f"{C_NS}cat//{C_NS}f")
    val = series.find(f"{C_NS}val//{C_NS}f")
    assert title is not None and cat is not None and val is not None
    return title.text or "", cat.text or "", val.text or ""


def _title(element: ET.Element | None) -> str:
    assert element is not None
    return "".join(t.text or "" for t in element.iter(f"{A_NS}t"))


A_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _one_chart(table: Table, lang: str = "en") -> tuple[ET.Element, bytes]:
    report = Report("c", Names("Charts", "图表"), tables=(table,))
    data = _HOST.report_format("xlsx").render(report, lang)
    assert isinstance(data, bytes)
    charts = excel_charts(data)
    name = table.names.get(lang)
    summary = Names("Report", "报告").get(lang)
    assert {n: len(c) for n, c in charts.items()} == {summary: 0, name: 1}
    return charts[name][0], data


def test_xlsx_bar_chart_references_the_table_cells() -> None:
    table = _chart_table(Chart("bar", "x", ("count", "expected")), ROWS)
    chart, _ = _one_chart(table)
    plot = chart.find(f"{C_NS}chart/{C_NS}plotArea")
    assert plot is not None
    (bar,) = plot.findall(f"{C_NS}barChart")
    assert plot.find(f"{C_NS}lineChart") is None
    direction = bar.find(f"{C_NS}barDir")
    assert direction is not None and direction.get("val") == "bar"  # horizontal: categories
    series = [_formulas(s) for s in bar.findall(f"{C_NS}ser")]
    assert series == [
        ("'Chart <&>'!B1", "'Chart <&>'!$A$2:$A$8", "'Chart <&>'!$B$2:$B$8"),
        ("'Chart <&>'!C1", "'Chart <&>'!$A$2:$A$8", "'Chart <&>'!$C$2:$C$8"),
    ]
    assert _title(chart.find(f"{C_NS}chart/{C_NS}title")) == "Chart <&>"
    assert _title(plot.find(f"{C_NS}catAx/{C_NS}title")) == "x <axis>"
    assert _title(plot.find(f"{C_NS}valAx/{C_NS}title")) == "complaints / expected"


def test_xlsx_bar_chart_over_dates_has_columns_and_caps_the_rows() -> None:
    rows = tuple(
        (f"2025-{m:02d}", m, 1.0, 2.0, False) for m in range(1, 13) for _ in range(3)
    )  # 36 rows, more than the 30 bars a chart shows
    chart, _ = _one_chart(_chart_table(Chart("bar", "x", ("count",)), rows, "date"), "zh")
    bar = chart.find(f"{C_NS}chart/{C_NS}plotArea/{C_NS}barChart")
    assert bar is not None
    direction = bar.find(f"{C_NS}barDir")
    assert direction is not None and direction.get("val") == "col"
    ((title, cat, val),) = [_formulas(s) for s in bar.findall(f"{C_NS}ser")]
    assert (title, cat, val) == ("'图表'!B1", "'图表'!$A$2:$A$31", "'图表'!$B$2:$B$31")
    assert _title(chart.find(f"{C_NS}chart/{C_NS}title")) == "图表"
    plot = chart.find(f"{C_NS}chart/{C_NS}plotArea")
    assert plot is not None
    assert _title(plot.find(f"{C_NS}catAx/{C_NS}title")) == "横轴"
    assert _title(plot.find(f"{C_NS}valAx/{C_NS}title")) == "投诉数"


def test_xlsx_line_chart_has_one_series_per_y_column_over_every_row() -> None:
    rows = tuple((f"2025-01-{d:02d}", d, 1.0, 2.0, False) for d in range(1, 32))
    table = _chart_table(Chart("line", "x", ("count", "expected", "upper")), rows, "date")
    chart, _ = _one_chart(table)
    plot = chart.find(f"{C_NS}chart/{C_NS}plotArea")
    assert plot is not None and plot.find(f"{C_NS}barChart") is None
    (line,) = plot.findall(f"{C_NS}lineChart")
    series = [_formulas(s) for s in line.findall(f"{C_NS}ser")]
    assert [v for _, _, v in series] == [
        "'Chart <&>'!$B$2:$B$32",
        "'Chart <&>'!$C$2:$C$32",
        "'Chart <&>'!$D$2:$D$32",
    ]
    assert {c for _, c, _ in series} == {"'Chart <&>'!$A$2:$A$32"}
    # Three series share the axis: it is titled by what they measure, as in the SVG chart.
    assert _title(plot.find(f"{C_NS}valAx/{C_NS}title")) == "complaints"


def test_xlsx_pareto_computes_a_cumulative_helper_column_on_a_secondary_axis() -> None:
    table = _chart_table(Chart("pareto", "x", ("count",)), ROWS)
    chart, data = _one_chart(table)
    plot = chart.find(f"{C_NS}chart/{C_NS}plotArea")
    assert plot is not None
    (bar,) = plot.findall(f"{C_NS}barChart")
    (line,) = plot.findall(f"{C_NS}lineChart")
    assert [_formulas(s)[2] for s in bar.findall(f"{C_NS}ser")] == ["'Chart <&>'!$B$2:$B$8"]
    assert [_formulas(s)[2] for s in line.findall(f"{C_NS}ser")] == ["'Chart <&>'!$F$2:$F$8"]
    # The line sits on its own value axis, on the right, from 0 to 100 %.
    axis_ids = [a.get("val") for a in line.findall(f"{C_NS}axId")]
    (secondary,) = [
        a for a in plot.findall(f"{C_NS}valAx") if a.find(f"{C_NS}axId").get("val") == axis_ids[1]
    ]
    scaling = secondary.find(f"{C_NS}scaling")
    assert scaling is not None
    assert scaling.find(f"{C_NS}min").get("val") == "0"
    assert scaling.find(f"{C_NS}max").get("val") == "1"
    assert secondary.find(f"{C_NS}crosses").get("val") == "max"
    assert _title(secondary.find(f"{C_NS}title")) == "cumulative share"
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Chart <&>"]
    assert sheet["F1"].value == "cumulative share" and sheet["F1"].font.bold
    shares = [sheet.cell(r, 6).value for r in range(2, 9)]
    total = sum(r[1] for r in ROWS)
    assert shares == pytest.approx([sum(r[1] for r in ROWS[: i + 1]) / total for i in range(7)])
    assert shares[-1] == pytest.approx(1.0) and sheet["F2"].number_format == "0.0%"


def test_xlsx_pareto_uses_the_tables_own_cumulative_column() -> None:
    table = Table(
        "pareto",
        Names("Pareto", "帕累托"),
        (
            Column("cause", Names("cause", "原因")),
            Column("count", Names("complaints", "投诉数"), "count"),
            Column("cumulative", Names("cumulative share", "累计占比"), "share"),
        ),
        (("Price", 6, 0.6), ("Delivery", 3, 0.9), ("(none)", 1, 1.0)),
        Chart("pareto", "cause", ("count",)),
    )
    chart, data = _one_chart(table)
    line = chart.find(f"{C_NS}chart/{C_NS}plotArea/{C_NS}lineChart")
    assert line is not None
    assert [_formulas(s) for s in line.findall(f"{C_NS}ser")] == [
        ("'Pareto'!C1", "'Pareto'!$A$2:$A$4", "'Pareto'!$C$2:$C$4")
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Pareto"]
    assert sheet.max_column == 3  # no helper column


def test_xlsx_control_chart_has_limit_lines_and_red_flagged_points() -> None:
    chart_def = Chart("control", "x", ("count", "expected", "upper"), flag="flagged")
    chart, _ = _one_chart(_chart_table(chart_def, ROWS))
    plot = chart.find(f"{C_NS}chart/{C_NS}plotArea")
    assert plot is not None and plot.find(f"{C_NS}barChart") is None
    (line,) = plot.findall(f"{C_NS}lineChart")
    main, *limits = line.findall(f"{C_NS}ser")
    assert _formulas(main) == ("'Chart <&>'!B1", "'Chart <&>'!$A$2:$A$8", "'Chart <&>'!$B$2:$B$8")
    assert [_formulas(s)[2] for s in limits] == ["'Chart <&>'!$C$2:$C$8", "'Chart <&>'!$D$2:$D$8"]
    for limit in limits:
        dash = limit.find(f"{C_NS}spPr/{A_NS}ln/{A_NS}prstDash")
        assert dash is not None and dash.get("val") == "dash"
    flagged = [i for i, r in enumerate(ROWS) if r[4]]
    points = main.findall(f"{C_NS}dPt")
    assert [p.find(f"{C_NS}idx").get("val") for p in points] == [str(i) for i in flagged]
    for p in points:
        fill = p.find(f"{C_NS}marker/{C_NS}spPr/{A_NS}solidFill/{A_NS}srgbClr")
        assert fill is not None and fill.get("val") == "dc2626"
    assert _title(plot.find(f"{C_NS}valAx/{C_NS}title")) == "complaints"


def test_xlsx_tables_without_a_chart_or_rows_get_no_drawing() -> None:
    empty = _chart_table(Chart("bar", "x", ("count",)), ())
    plain = Table("p", Names("Plain", "普通"), (Column("a", Names("a", "a")),), (("x",),))
    report = Report("c", Names("C", "C"), tables=(empty, plain))
    data = _HOST.report_format("xlsx").render(report, "en")
    assert isinstance(data, bytes)
    assert all(not c for c in excel_charts(data).values())
    assert not [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if "chart" in n]
