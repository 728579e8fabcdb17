"""Durations for people: the two largest units of a span, in English or Chinese."""

from __future__ import annotations

from datetime import timedelta

__all__ = ["format_span"]

#: (seconds, English unit, Chinese unit), largest first. A year is 365 days: the spans shown
#: (time left, time overdue, time to finish) need no calendar to be read.
_UNITS = (
    (365 * 86400, "y", "年"),
    (86400, "d", "天"),
    (3600, "h", "小时"),
    (60, "min", "分"),
    (1, "s", "秒"),
)


def format_span(span: timedelta, lang: str = "en", *, seconds: bool = False) -> str:
    """The length of ``span`` (its sign is the caller's to say) in its two largest units.

    ``14 y 123 d``, ``3 d 4 h``, ``2 h 05 min``, ``45 min`` (``14年123天``, ``3天4小时``,
    ``2小时05分``, ``45分``). Spans are cut to whole minutes, or with ``seconds`` to whole
    seconds (``3 min 05 s``, ``12 s``; for the time a job has left).
    """
    total = int(abs(span).total_seconds())
    smallest = 1 if seconds else 60
    total -= total % smallest
    units = [unit for unit in _UNITS if unit[0] >= smallest]
    for index, (size, en, zh) in enumerate(units):
        if total >= size or size == smallest:
            first, rest = divmod(total, size)
            parts = [(first, en, zh)]
            if index + 1 < len(units) and (size > 60 or rest):
                small, small_en, small_zh = units[index + 1]
                parts.append((rest // small, small_en, small_zh))
            break
    if lang == "zh":
        return "".join(
            f"{n:02d}{unit_zh}" if i and unit_zh in ("分", "秒") else f"{n}{unit_zh}"
            for i, (n, _, unit_zh) in enumerate(parts)
        )
    return " ".join(
        f"{n:02d} {unit_en}" if i and unit_en in ("min", "s") else f"{n} {unit_en}"
        for i, (n, unit_en, _) in enumerate(parts)
    )
