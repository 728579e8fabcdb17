"""First-party reporters. Registered through the ``complaintkit`` entry point ``reports``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    from complaintkit import Desk, Names, Reporter
    from complaintkit.reporting import ReportFormat


@hookimpl
def register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the summary, SLA, Pareto, trends, KPI, remedies, early-warning and 8D
    reports."""
    from .early_warning import EarlyWarningReporter
    from .eight_d import EightDReporter
    from .kpis import KpiReporter
    from .pareto import ParetoReporter
    from .remedies import RemediesReporter
    from .sla import SlaReporter
    from .summary import SummaryReporter
    from .trends import TrendsReporter

    register(SummaryReporter())
    register(SlaReporter())
    register(ParetoReporter())
    register(TrendsReporter())
    register(KpiReporter())
    register(RemediesReporter())
    register(EarlyWarningReporter())
    register(EightDReporter())


@hookimpl
def register_report_formats(register: Callable[[ReportFormat], None]) -> None:
    """Register the terminal table, CSV, JSON, Markdown, XLSX and HTML formats."""
    from .formats import first_party_formats

    for fmt in first_party_formats():
        register(fmt)


@hookimpl
def sweep_finished(desk: Desk, now: datetime, dry_run: bool) -> list[Names] | None:
    """With ``[early_warning]`` configured, announce the new complaint spikes (each once)."""
    if "early_warning" not in desk.host.config.data:
        return None
    from .spike_detection import sweep_lines

    return sweep_lines(desk, now, dry_run)
