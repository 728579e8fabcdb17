"""Durations for people, as `clocks` and the progress lines show them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from complaintkit_cli.durations import format_span


@pytest.mark.parametrize(
    ("span", "en", "zh"),
    [
        (timedelta(seconds=59), "0 min", "0分"),
        (timedelta(minutes=45), "45 min", "45分"),
        (timedelta(hours=2, minutes=5), "2 h 05 min", "2小时05分"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h", "3天4小时"),
        (timedelta(hours=125675, minutes=38), "14 y 126 d", "14年126天"),
        (-timedelta(hours=2, minutes=30), "2 h 30 min", "2小时30分"),  # the sign is the caller's
    ],
)
def test_a_span_in_its_two_largest_units(span: timedelta, en: str, zh: str) -> None:
    assert format_span(span, "en") == en
    assert format_span(span, "zh") == zh


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (12, "12 s"), (125, "2 min 05 s"), (3725, "1 h 02 min")],
)
def test_seconds_for_the_time_a_job_has_left(seconds: int, shown: str) -> None:
    assert format_span(timedelta(seconds=seconds), seconds=True) == shown
