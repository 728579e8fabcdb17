"""Progress lines for long batches: shown on a terminal, silent under cron or in a pipe.

The time left is estimated from the recent rate (the last few seconds), not from the average
since the start: a slow start (opening a file, a first query, a lock) would otherwise turn a
20-second job into "14 days". The line is redrawn a few times a second, however many items go
by, because a terminal that is written to once per item slows the job it reports on.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, cast

from .durations import format_span

if TYPE_CHECKING:
    from complaintkit import ComplaintFilter, Store
    from complaintkit.facts import ComplaintFacts
    from complaintkit.model import Complaint

__all__ = ["Progress", "counting_store", "progress"]


class _Silent:
    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Nothing to show."""


class Progress:
    """A progress line on ``file``: label, bar, share done, count, and the time left.

    ``length`` None (unknown) shows the count, the rate and the time so far instead. Redraws
    happen at most every ``interval`` seconds; the rate is measured over the last ``window``
    seconds. Nothing is drawn during the first ``delay`` seconds, so a job that ends quickly
    leaves no line at all. ``clock`` (seconds, monotonic) is there for tests.
    """

    def __init__(
        self,
        label: str,
        length: int | None,
        *,
        file: IO[str],
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.2,
        window: float = 5.0,
        delay: float = 0.0,
        width: int = 24,
    ) -> None:
        self.label = label
        self.length = length
        self.file = file
        self.clock = clock
        self.interval = interval
        self.window = window
        self.delay = delay
        self.width = width
        self.pos = 0
        #: How many times the line was drawn (tests count redraws).
        self.draws = 0
        self._start = clock()
        self._drawn_at: float | None = None
        self._shown = 0
        # (time, position) at each redraw; the oldest one inside the window gives the rate.
        self._samples: deque[tuple[float, int]] = deque([(self._start, 0)])

    def __enter__(self) -> Progress:
        if self.delay <= 0:
            self._draw(self._start)
        return self

    def __exit__(self, *exc: object) -> None:
        # A line already on screen ends with the final count (or where the job stopped), and
        # the next output starts on a line of its own.
        if self._drawn_at is not None:
            self._draw(self.clock(), final=True)
            self.file.write("\n")
            self.file.flush()

    def update(self, n: int) -> None:
        """``n`` more items done; redraws if the last redraw is ``interval`` seconds old."""
        self.pos += n
        now = self.clock()
        if now - self._start < self.delay:
            return
        if self._drawn_at is None or now - self._drawn_at >= self.interval:
            self._draw(now)

    def rate(self, now: float) -> float | None:
        """Items per second over the last ``window`` seconds; None while that window holds
        less than a second of data (at the start, and after a stall)."""
        samples = self._samples
        while samples and samples[0][0] < now - self.window:
            samples.popleft()
        if not samples or now - samples[0][0] < 1.0:
            return None
        then, done = samples[0]
        return (self.pos - done) / (now - then)

    def eta(self, now: float) -> float | None:
        """Seconds left at the recent rate; None when unknown (no length, no rate yet, stalled)."""
        if self.length is None:
            return None
        rate = self.rate(now)
        if not rate:
            return None
        return max(self.length - self.pos, 0) / rate

    def line(self, now: float, *, final: bool = False) -> str:
        """The progress line as drawn at ``now``."""
        if self.length is None:
            parts = [self.label, f"{self.pos:,}"]
            rate = self.rate(now)
            if rate is not None:
                parts.append(f"{rate:,.0f}/s")
            parts.append(format_span(timedelta(seconds=now - self._start), seconds=True))
            return "  ".join(parts)
        share = min(self.pos / self.length, 1.0) if self.length else 1.0
        filled = int(share * self.width)
        bar = "[" + "#" * filled + "-" * (self.width - filled) + "]"
        parts = [self.label, bar, f"{share:4.0%}", f"{self.pos:,}/{self.length:,}"]
        eta = None if final or self.pos >= self.length else self.eta(now)
        if eta is not None:
            # Rounded up: "0 s left" while work remains would be wrong.
            parts.append(f"{format_span(timedelta(seconds=math.ceil(eta)), seconds=True)} left")
        return "  ".join(parts)

    def _draw(self, now: float, *, final: bool = False) -> None:
        self._samples.append((now, self.pos))
        columns = shutil.get_terminal_size((80, 24)).columns
        # One terminal line, never wrapped (a wrapped line cannot be redrawn in place).
        text = self.line(now, final=final)[: max(columns - 1, 10)]
        self.file.write("\r" + text + " " * max(self._shown - len(text), 0))
        self.file.flush()
        self._shown = len(text)
        self._drawn_at = now
        self.draws += 1


def progress(label: str, length: int | None, *, delay: float = 0.0) -> Any:
    """A :class:`Progress` on standard error when it is a terminal, else a silent stand-in."""
    if sys.stderr.isatty() and length != 0:
        return Progress(label, length, file=sys.stderr, delay=delay)
    return _Silent()


class _CountingStore:
    """A store that counts, on a progress line, the complaints and facts read through it.

    Everything else goes to the store itself, so a reporter that reads it differently still
    works (it only shows no count).
    """

    def __init__(self, store: Store, bar: Any) -> None:
        self._store = store
        self._bar = bar

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def find(
        self, flt: ComplaintFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> Iterator[Complaint]:
        """The store's ``find``, counted."""
        for complaint in self._store.find(flt, limit=limit, offset=offset):
            self._bar.update(1)
            yield complaint

    def facts(self, flt: ComplaintFilter | None = None) -> Iterator[ComplaintFacts]:
        """The store's facts (pushed down when it can), counted."""
        from complaintkit.facts import iter_facts

        for facts in iter_facts(self._store, flt):
            self._bar.update(1)
            yield facts

    def fact_columns(
        self, flt: ComplaintFilter | None, fields: tuple[str, ...]
    ) -> Iterator[tuple[Any, ...]]:
        """Some of the store's facts (pushed down when it can), counted."""
        from complaintkit.facts import iter_fact_columns

        for values in iter_fact_columns(self._store, flt, fields):
            self._bar.update(1)
            yield values


def counting_store(store: Store, bar: Any) -> Store:
    """``store`` as a reporter should read it while ``bar`` shows how far it got."""
    if isinstance(bar, _Silent):
        return store
    return cast("Store", _CountingStore(store, bar))
