"""The HTML reports in a real headless browser (Debian's chromium): over real complaints, the
charts are drawn (the bar colour fills a chart-sized region of the screenshot, flagged points
and the Pareto line show in their colours) and the browser's DOM holds the SVG elements.

Skipped without chromium, unless COMPLAINTKIT_REQUIRE_BROWSER=1 (CI), where it fails."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser_support import chromium, dump_dom, screenshot
from complaintkit import Desk
from complaintkit.reporting import ReportContext
from complaintkit.storage import ComplaintFilter
from complaintkit_reports.formats.charts import FLAG_COLOUR, PALETTE
from conftest import require_dataset
from rendering_support import NOW, build_store

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


BLUE = _rgb(PALETTE[0])
ORANGE = _rgb(PALETTE[1])
RED = _rgb(FLAG_COLOUR)


@pytest.fixture(scope="module", autouse=True)
def browser() -> Iterator[str]:
    found = chromium()
    if found is None:
        if os.environ.get("COMPLAINTKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed but COMPLAINTKIT_REQUIRE_BROWSER=1")
        pytest.skip("chromium is not installed")
    yield found


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every registered reporter's HTML page over real tweets, in English and Chinese."""
    folder = tmp_path_factory.mktemp("browser")
    tweets = require_dataset("twitter_airline_sentiment/tweets.csv")
    desk: Desk = build_store(tweets, folder / "tweets.json")
    html = desk.host.report_format("html")
    out = {}
    for lang in ("en", "zh"):
        context = ReportContext(desk.host.schemes(), lang, NOW, desk.host.config, {})
        for name, reporter in desk.host.reporters().items():
            page = folder / f"{name}-{lang}.html"
            page.write_text(
                str(html.render(reporter.run(desk.store, ComplaintFilter(), context), lang))
            )
            out[(name, lang)] = page
    return out


def _pixels(
    png: Path, colour: tuple[int, int, int]
) -> tuple[int, tuple[int, int, int, int] | None]:
    """How many pixels have exactly ``colour``, and their bounding box (left, top, right,
    bottom)."""
    image = np.asarray(Image.open(png).convert("RGB"))
    ys, xs = np.nonzero(np.all(image == np.array(colour, dtype=np.uint8), axis=2))
    if not len(xs):
        return 0, None
    return len(xs), (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))


def test_summary_bar_charts_are_drawn(pages: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    png = screenshot(pages[("summary", "en")], tmp_path / "summary.png", height=1400)
    assert Image.open(png).size == (1200, 1400)
    count, box = _pixels(png, BLUE)
    assert box is not None and count > 3000, count
    left, top, right, bottom = box
    assert right - left > 250 and bottom - top > 300  # bars spread over a chart-sized area
    assert right < 1200 * 0.75  # in the chart column, left of the tables


def test_control_charts_show_flagged_points(
    pages: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    png = screenshot(pages[("early-warning", "en")], tmp_path / "ew.png", height=2200)
    red, box = _pixels(png, RED)
    assert box is not None and red > 50
    blue, _ = _pixels(png, BLUE)
    assert blue > 200  # the count line and its points


def test_pareto_draws_bars_and_the_cumulative_line(
    pages: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    dom = dump_dom(pages[("8d", "en")])
    svgs = re.findall(r'<svg class="ck-chart (ck-\w+)"', dom)
    assert svgs == ["ck-bar", "ck-pareto"]
    assert re.search(r'<polyline class="cumulative"', dom)
    # Find how far down the Pareto chart is by its place in the page, then look there.
    png = screenshot(pages[("8d", "en")], tmp_path / "8d.png", height=7000)
    image = Image.open(png).convert("RGB")
    orange, box = _pixels(png, ORANGE)
    assert box is not None and orange > 100
    assert image.size[1] == 7000


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_browser_dom_holds_every_chart(pages: dict[tuple[str, str], Path], lang: str) -> None:
    drawn = 0
    for (name, page_lang), page in pages.items():
        if page_lang != lang:
            continue
        source = page.read_text()
        dom = dump_dom(page)
        assert dom.count("<svg") == source.count("<svg"), name
        drawn += dom.count("<svg")
        assert dom.count('class="bar"') == source.count('class="bar"')
        assert dom.count('class="flag"') == source.count('class="flag"')
        assert "<script" not in dom
        assert (f'<html lang="{"zh-CN" if lang == "zh" else "en"}"') in dom
    assert drawn >= 9  # summary's bar charts, the control charts, the 8D bar and Pareto


def test_a_line_chart_draws_both_lines(tmp_path: Path) -> None:
    """No first-party reporter draws a line chart yet: a report of two daily series does."""
    from complaintkit import Chart, Column, Names, Report, Table, make_host

    rows = tuple((f"2025-03-{d:02d}", 40 + (d * 7) % 23, 30 + (d * 5) % 11) for d in range(1, 29))
    table = Table(
        "daily",
        Names("Daily complaints", "每日投诉"),
        (
            Column("day", Names("day", "日期"), "date"),
            Column("phone", Names("phone", "电话"), "count"),
            Column("web", Names("web", "网站"), "count"),
        ),
        rows,
        Chart("line", "day", ("phone", "web")),
    )
    report = Report("daily", Names("Daily", "每日"), tables=(table,))
    page = tmp_path / "line.html"
    page.write_text(str(make_host(env={}).report_format("html").render(report, "zh")))
    png = screenshot(page, tmp_path / "line.png", height=900)
    for colour in (BLUE, ORANGE):
        count, box = _pixels(png, colour)
        assert box is not None and count > 300, (colour, count)
        assert box[2] - box[0] > 300  # the line runs across the chart
    assert dump_dom(page).count('<polyline class="line"') == 2
