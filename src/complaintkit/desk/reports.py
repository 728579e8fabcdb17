"""Reports: running a registered reporter over the desk's store, in a report context (schemes,
language, the clock, the configuration, the business calendars)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from ..storage import ComplaintFilter
from .clocks import SLAClocks
from .state import DeskState

if TYPE_CHECKING:
    from ..classification import ClassificationScheme
    from ..reporting import Report, ReportContext

__all__ = ["Reports"]


class _Schemes(Mapping[str, "ClassificationScheme"]):
    """The host's schemes, built when a reporter first looks at them: building them loads
    every rule set, which reports that show no label (kpis, sla) never need."""

    def __init__(self, build: Callable[[], Mapping[str, ClassificationScheme]]) -> None:
        self._build = build
        self._schemes: Mapping[str, ClassificationScheme] | None = None

    def _loaded(self) -> Mapping[str, ClassificationScheme]:
        if self._schemes is None:
            self._schemes = self._build()
        return self._schemes

    def __getitem__(self, name: str) -> ClassificationScheme:
        return self._loaded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def __repr__(self) -> str:
        return repr(dict(self._loaded()))


class Reports:
    """Runs one desk's reports."""

    def __init__(self, state: DeskState, deadlines: SLAClocks) -> None:
        self.s = state
        self.deadlines = deadlines

    def report_context(
        self,
        *,
        lang: str = "en",
        options: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> ReportContext:
        """The context reporters run in: the schemes, ``lang``, ``now`` (default: the desk's
        clock), the configuration, ``options`` and the business calendars."""
        from ..reporting import ReportContext

        return ReportContext(
            _Schemes(self.s.host.schemes),
            lang,
            now or self.s.clock(),
            self.s.host.config,
            dict(options or {}),
            self.deadlines.calendar,
            self.s.host.mask,
        )

    def report(
        self,
        name: str,
        flt: ComplaintFilter | None = None,
        *,
        lang: str = "en",
        options: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Report:
        """Run a registered reporter over the complaints matching ``flt``, as of ``now``
        (default: the desk's clock), with its ``options`` (refused with
        :class:`~complaintkit.errors.ConfigError` when the reporter does not declare them)."""
        from ..reporting import check_options

        reporter = self.s.host.reporter(name)
        check_options(reporter, options or {})
        context = self.report_context(lang=lang, options=options, now=now)
        return reporter.run(self.s.store, flt or ComplaintFilter(), context)
