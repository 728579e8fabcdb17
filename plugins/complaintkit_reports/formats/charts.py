"""Charts as inline SVG, drawn from a table's :class:`~complaintkit.reporting.Chart`.

Four kinds: ``bar`` (horizontal bars per row, or vertical ones when the x column holds dates;
one colour per y column), ``line`` (one line per y column over an ordered x), ``pareto`` (bars
of the first y column, largest first, with the cumulative share as a line on a 0–100 % right
axis; a table already largest first keeps its last row last, the place of an "other" or
"(none)" bucket) and ``control`` (the first y column as a line with points, the other y
columns as dashed limit lines, flagged rows marked with red dots). Every text is escaped;
nothing is fetched.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING

import attrs

from complaintkit.display import display_width
from complaintkit.i18n import Names

from .values import format_value, is_number

if TYPE_CHECKING:
    from complaintkit.reporting import Table

__all__ = ["PALETTE", "FLAG_COLOUR", "chart_svg", "nice_ticks"]

#: Series colours, in order: the first y column is always blue (``#2563eb``).
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ec4899", "#0891b2")
#: Flagged points of a control chart.
FLAG_COLOUR = "#dc2626"
#: Limit lines of a control chart: expected (grey) and the alarm limit (light red).
LIMIT_COLOURS = ("#6b7280", "#f87171", "#f59e0b", "#10b981")
_GRID = "#e5e7eb"
_AXIS = "#9ca3af"
_INK = "#374151"
WIDTH = 720
MAX_BARS = 30
_FLAGGED = Names("flagged", "报警")
_CUMULATIVE = Names("cumulative share", "累计占比")
_FIRST = Names("first {shown} of {total} rows", "仅显示前 {shown} 行（共 {total} 行）")


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (about ``count`` steps)."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _text_width(text: str) -> float:
    return display_width(text) * 6.6


def _cut(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += display_width(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def _fits(length: float) -> int:
    """How many display columns of a bold axis title fit along ``length`` pixels; a longer
    title (the names of many series, which the legend shows one by one) is cut with "…"."""
    return max(8, int(length / 6.8))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


#: What the value axis measures, by column kind, when too many series share it to name them all.
_KIND_TITLES = {
    "count": ("complaints", "投诉数"),
    "duration": ("time", "用时"),
    "share": ("share", "占比"),
    "money": ("amount", "金额"),
}


def _value_title(names: Sequence[str], kind: str, lang: str) -> str:
    """The value axis's title: the series' names when there are one or two, else what they
    measure (the legend names each series)."""
    if len(names) <= 2:
        return " / ".join(names)
    en, zh = _KIND_TITLES.get(kind, ("value", "数值"))
    return zh if lang == "zh" else en


def _tick_label(value: float, kind: str, lang: str) -> str:
    if kind == "share":
        return f"{value:.0%}"
    if kind == "count" and float(value).is_integer():
        return f"{int(value):,}"
    return format_value(value, kind, lang) if kind in ("duration", "money") else f"{value:,g}"


@attrs.frozen
class _Series:
    name: str
    values: tuple[float | None, ...]
    colour: str
    style: str = "solid"  # solid, dashed
    css: str = "line"


def _legend(items: Sequence[tuple[str, str, str]], x0: float, y: float) -> list[str]:
    """Legend entries ``(shape, colour, text)``: shape ``bar``, ``line``, ``dashed``, ``dot``."""
    out = ['<g class="legend">']
    x = x0
    for shape, colour, text in items:
        if shape == "bar":
            out.append(
                f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="12" rx="2" fill="{colour}"/>'
            )
        elif shape == "dot":
            out.append(f'<circle cx="{x + 6:.1f}" cy="{y - 3:.1f}" r="5" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if shape == "dashed" else ""
            out.append(
                f'<line x1="{x:.1f}" y1="{y - 3:.1f}" x2="{x + 16:.1f}" y2="{y - 3:.1f}" '
                f'stroke="{colour}" stroke-width="2.5"{dash}/>'
            )
        out.append(f'<text x="{x + 20:.1f}" y="{y:.1f}">{escape(text)}</text>')
        x += 32 + _text_width(text)
    out.append("</g>")
    return out


def _values(table: Table, key: str) -> tuple[float | None, ...]:
    return tuple(float(v) if is_number(v) else None for v in table.values(key))


def chart_svg(table: Table, lang: str) -> str:
    """The table's chart as an ``<svg>`` element (empty string without a chart or rows)."""
    chart = table.chart
    if chart is None or not table.rows:
        return ""
    if chart.kind == "bar":
        if table.column(chart.x).kind in ("date", "datetime"):
            return _columns(table, lang)
        return _hbars(table, lang)
    if chart.kind == "pareto":
        return _pareto(table, lang)
    if chart.kind == "control":
        return _control(table, lang)
    return _lines(table, lang)


def _open(kind: str, width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg class="ck-chart ck-{kind}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]


def _hbars(table: Table, lang: str) -> str:
    """Horizontal grouped bars: one row per table row (the first MAX_BARS), one per y column."""
    chart = table.chart
    assert chart is not None
    total = len(table.rows)
    labels = [format_value(v, table.column(chart.x).kind, lang) for v in table.values(chart.x)]
    labels = labels[:MAX_BARS]
    series = [
        _Series(table.column(k).names.get(lang), _values(table, k)[:MAX_BARS], PALETTE[i % 6])
        for i, k in enumerate(chart.y)
    ]
    y_kind = table.column(chart.y[0]).kind
    x_title = _cut(table.column(chart.x).names.get(lang), 30)
    # Room for the longest label, and for the (bold) axis title above the labels.
    widest = max(max(_text_width(_cut(s, 30)) for s in labels), display_width(x_title) * 7.2)
    label_w = min(200, widest + 12)
    left, right, top = label_w + 8, 56, 34
    band = max(18, 8 + 14 * len(series))
    plot_h = band * len(labels)
    height = top + plot_h + 46 + (16 if total > MAX_BARS else 0)
    plot_w = WIDTH - left - right
    top_value = max((v for s in series for v in s.values if v is not None), default=0.0)
    ticks = nice_ticks(top_value)
    scale = plot_w / ticks[-1]
    out = _open("bar", WIDTH, height, table.names.get(lang))
    out += _legend([("bar", s.colour, s.name) for s in series], left, 16)
    out.append(
        f'<text class="axis-title" x="{left - 8:.1f}" y="{top - 8}" text-anchor="end">'
        f"{escape(x_title)}</text>"
    )
    for t in ticks:
        x = left + t * scale
        out.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
            f'stroke="{_GRID}"/>'
        )
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{escape(_tick_label(t, y_kind, lang))}</text>"
        )
    bar_h = (band - 6) / len(series)
    for i, label in enumerate(labels):
        y0 = top + i * band
        out.append(
            f'<text class="label" x="{left - 8:.1f}" y="{y0 + band / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(_cut(label, 30))}</text>'
        )
        for j, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            y = y0 + 3 + j * bar_h
            w = max(0.0, value * scale)
            out.append(
                f'<rect class="bar" x="{left}" y="{y:.1f}" width="{w:.1f}" '
                f'height="{bar_h - 1:.1f}" '
                f'fill="{s.colour}"><title>{escape(label)}: '
                f"{escape(format_value(value, y_kind, lang))}</title></rect>"
            )
            out.append(
                f'<text class="value" x="{left + w + 4:.1f}" y="{y + bar_h / 2 + 3:.1f}">'
                f"{escape(_tick_label(value, y_kind, lang))}</text>"
            )
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{_AXIS}"/>')
    axis_title = _value_title([s.name for s in series], y_kind, lang)
    out.append(
        f'<text class="axis-title" x="{left + plot_w / 2:.1f}" y="{top + plot_h + 36}" '
        f'text-anchor="middle">{escape(_cut(axis_title, _fits(plot_w)))}</text>'
    )
    if total > MAX_BARS:
        note = _FIRST.get(lang).format(shown=MAX_BARS, total=total)
        out.append(f'<text class="note" x="{left}" y="{height - 4}">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _xy(
    kind: str,
    table: Table,
    lang: str,
    labels: list[str],
    bars: list[_Series],
    lines: list[_Series],
    *,
    y_kind: str,
    y_title: str,
    cumulative: _Series | None = None,
    flags: list[bool] | None = None,
    legend: list[tuple[str, str, str]],
) -> str:
    """Bars and lines over a band x axis, with a left value axis and, for a cumulative share,
    a right 0–100 % axis."""
    n = len(labels)
    x_title = table.column(table.chart.x).names.get(lang) if table.chart else ""
    dated = table.chart is not None and table.column(table.chart.x).kind in ("date", "datetime")
    rotate = not dated and n > 1 and max(_text_width(s) for s in labels) > (WIDTH - 140) / n - 6
    label_room = (
        min(110.0, max(_text_width(_cut(s, 18)) for s in labels) * 0.6 + 10) if rotate else 18.0
    )
    values = [v for s in [*bars, *lines] for v in s.values if v is not None]
    ticks = nice_ticks(max(values, default=0.0))
    # Room on the left for the widest tick label ("150,000") beside the rotated axis title.
    tick_room = max(_text_width(_tick_label(t, y_kind, lang)) for t in ticks)
    left, right, top = max(64, math.ceil(34 + tick_room)), (60 if cumulative else 24), 34
    bottom = int(label_room + 42)
    plot_h = 220
    height = top + plot_h + bottom
    plot_w = WIDTH - left - right
    band = plot_w / max(n, 1)
    every = (
        1 if rotate else max(1, math.ceil(max(_text_width(s) for s in labels) / max(band - 6, 1)))
    )
    scale = plot_h / ticks[-1]
    base = top + plot_h

    def y_of(v: float) -> float:
        return base - v * scale

    out = _open(kind, WIDTH, height, table.names.get(lang))
    out += _legend(legend, left, 16)
    for t in ticks:
        y = y_of(t)
        out.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w:.1f}" y2="{y:.1f}" '
            f'stroke="{_GRID}"/>'
        )
        out.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_tick_label(t, y_kind, lang))}</text>"
        )
    if cumulative is not None:
        for share in (0, 0.25, 0.5, 0.75, 1.0):
            y = base - share * plot_h
            out.append(
                f'<text class="tick" x="{left + plot_w + 6:.1f}" y="{y + 4:.1f}">{share:.0%}</text>'
            )
    for s_index, s in enumerate(bars):
        group = min(band * 0.72, 56.0 * len(bars))
        width = max(1.0, group / len(bars))
        for i, value in enumerate(s.values):
            if value is None:
                continue
            x = left + i * band + (band - group) / 2 + s_index * width
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{y_of(value):.1f}" '
                f'width="{max(width - 1, 1):.1f}" '
                f'height="{value * scale:.1f}" fill="{s.colour}"><title>{escape(labels[i])}: '
                f"{escape(format_value(value, y_kind, lang))}</title></rect>"
            )

    def polyline(s: _Series, ys: Sequence[float | None]) -> None:
        points = [
            f"{left + (i + 0.5) * band:.1f},{y:.1f}" for i, y in enumerate(ys) if y is not None
        ]
        if not points:
            return
        dash = ' stroke-dasharray="6 4"' if s.style == "dashed" else ""
        out.append(
            f'<polyline class="{s.css}" points="{" ".join(points)}" fill="none" '
            f'stroke="{s.colour}" stroke-width="2.2"{dash}/>'
        )

    for s in lines:
        polyline(s, [None if v is None else y_of(v) for v in s.values])
        if s.css == "line" and n <= 60:
            for i, v in enumerate(s.values):
                if v is not None:
                    out.append(
                        f'<circle class="point" cx="{left + (i + 0.5) * band:.1f}" '
                        f'cy="{y_of(v):.1f}" r="2.8" fill="{s.colour}"/>'
                    )
    if cumulative is not None:
        polyline(cumulative, [None if v is None else base - v * plot_h for v in cumulative.values])
        for i, v in enumerate(cumulative.values):
            if v is not None:
                out.append(
                    f'<circle class="point" cx="{left + (i + 0.5) * band:.1f}" '
                    f'cy="{base - v * plot_h:.1f}" r="3" fill="{cumulative.colour}"/>'
                )
    main = next((s for s in lines if s.css == "line"), None)
    if flags is not None and main is not None:
        first = main
        for i, flagged in enumerate(flags):
            value = first.values[i]
            if flagged and value is not None:
                out.append(
                    f'<circle class="flag" cx="{left + (i + 0.5) * band:.1f}" '
                    f'cy="{y_of(value):.1f}" '
                    f'r="6" fill="{FLAG_COLOUR}" stroke="#ffffff" stroke-width="1.5">'
                    f"<title>{escape(labels[i])}: {escape(_FLAGGED.get(lang))} "
                    f"({escape(format_value(value, y_kind, lang))})</title></circle>"
                )
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{_AXIS}"/>')
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = left + (i + 0.5) * band
        if rotate:
            out.append(
                f'<text class="label" x="{x:.1f}" y="{base + 14}" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {base + 14})">{escape(_cut(label, 18))}</text>'
            )
        else:
            out.append(
                f'<text class="label" x="{x:.1f}" y="{base + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    out.append(
        f'<text class="axis-title" x="{left + plot_w / 2:.1f}" y="{height - 8}" '
        f'text-anchor="middle">{escape(x_title)}</text>'
    )
    out.append(
        f'<text class="axis-title" x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">'
        f"{escape(_cut(y_title, _fits(plot_h + 2 * min(top, bottom))))}</text>"
    )
    if cumulative is not None:
        x = WIDTH - 10
        out.append(
            f'<text class="axis-title" x="{x}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'transform="rotate(90 {x} {top + plot_h / 2:.1f})">{escape(cumulative.name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _x_labels(table: Table, lang: str) -> list[str]:
    assert table.chart is not None
    kind = table.column(table.chart.x).kind
    return [format_value(v, kind, lang) for v in table.values(table.chart.x)]


def _columns(table: Table, lang: str) -> str:
    """Vertical bars over dates (a bar chart whose x column holds dates)."""
    return _series_chart(table, lang, "bar")


def _lines(table: Table, lang: str) -> str:
    return _series_chart(table, lang, "line")


def _series_chart(table: Table, lang: str, kind: str) -> str:
    """One series per y column over an ordered x axis, drawn as vertical bars or lines."""
    chart = table.chart
    assert chart is not None
    series = [
        _Series(table.column(k).names.get(lang), _values(table, k), PALETTE[i % 6], css=kind)
        for i, k in enumerate(chart.y)
    ]
    y_kind = table.column(chart.y[0]).kind
    return _xy(
        kind,
        table,
        lang,
        _x_labels(table, lang),
        series if kind == "bar" else [],
        series if kind == "line" else [],
        y_kind=y_kind,
        y_title=_value_title([s.name for s in series], y_kind, lang),
        legend=[(kind, s.colour, s.name) for s in series],
    )


def _pareto(table: Table, lang: str) -> str:
    """Bars of the first y column, largest first, and the cumulative share of the total."""
    chart = table.chart
    assert chart is not None
    key = chart.y[0]
    pairs: list[tuple[str, float]] = [
        (label, value or 0.0)
        for label, value in zip(_x_labels(table, lang), _values(table, key), strict=True)
    ]
    head = [v for _, v in pairs[:-1]]
    if any(a < b for a, b in itertools.pairwise(head)):
        pairs.sort(key=lambda p: -p[1])
    # else the table is largest first already, and a smaller last row stays last: the usual
    # Pareto place of an "other" or "(none)" bucket, whatever its size.
    pairs = pairs[:MAX_BARS]
    whole = sum(v or 0.0 for v in _values(table, key)) or 1.0
    running = 0.0
    shares: list[float | None] = []
    for _, value in pairs:
        running += value
        shares.append(running / whole)
    name = table.column(key).names.get(lang)
    bar = _Series(name, tuple(v for _, v in pairs), PALETTE[0], css="bar")
    cumulative = _Series(_CUMULATIVE.get(lang), tuple(shares), PALETTE[1], css="cumulative")
    return _xy(
        "pareto",
        table,
        lang,
        [label for label, _ in pairs],
        [bar],
        [],
        y_kind=table.column(key).kind,
        y_title=name,
        cumulative=cumulative,
        legend=[("bar", bar.colour, bar.name), ("line", cumulative.colour, cumulative.name)],
    )


def _control(table: Table, lang: str) -> str:
    """The first y column as a line with points, the others as dashed limits, flags marked."""
    chart = table.chart
    assert chart is not None
    main = _Series(table.column(chart.y[0]).names.get(lang), _values(table, chart.y[0]), PALETTE[0])
    limits = [
        _Series(
            table.column(k).names.get(lang),
            _values(table, k),
            LIMIT_COLOURS[i % len(LIMIT_COLOURS)],
            style="dashed",
            css="limit",
        )
        for i, k in enumerate(chart.y[1:])
    ]
    flags = [bool(v) for v in table.values(chart.flag)] if chart.flag else None
    legend: list[tuple[str, str, str]] = [("line", main.colour, main.name)]
    legend += [("dashed", s.colour, s.name) for s in limits]
    if flags is not None:
        legend.append(("dot", FLAG_COLOUR, table.column(chart.flag or "").names.get(lang)))
    return _xy(
        "control",
        table,
        lang,
        _x_labels(table, lang),
        [],
        [*limits, main],
        y_kind=table.column(chart.y[0]).kind,
        y_title=main.name,
        flags=flags,
        legend=legend,
    )
