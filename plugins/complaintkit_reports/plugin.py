"""First-party reporters. Registered through the ``complaintkit`` entry point ``reports``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from complaintkit import hookimpl

if TYPE_CHECKING:
    from complaintkit import Reporter


@hookimpl
def register_reporters(register: Callable[[Reporter], None]) -> None:
    """Register the summary, early-warning and 8D reports."""
    from .early_warning import EarlyWarningReporter
    from .eight_d import EightDReporter
    from .summary import SummaryReporter

    register(SummaryReporter())
    register(EarlyWarningReporter())
    register(EightDReporter())
