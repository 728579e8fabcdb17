"""A spike warning (突增预警): the payload of the ``spike_detected`` hook.

Detection is a plugin's business (the reports plugin's early warning: control charts over
the counts per cause, product or channel, see docs/early-warning.md); what a warning carries,
how it is recorded on a complaint (:meth:`complaintkit.desk.Desk.announce_spike`) and who is
told (``spike_detected``) is the contract.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from .i18n import Names

__all__ = ["SPIKE_ACTION", "SpikeWarning"]

#: The history action that records an announced spike.
SPIKE_ACTION = "spike_detected"


@attrs.frozen
class SpikeWarning:
    """A flagged period of one series.

    ``id`` is stable: the same spike found by a later run (another sweep) has the same id, so
    it is announced once; it is built from the method, the period and the series.
    """

    dimension: str
    dimension_names: Names
    value: str
    value_names: Names
    period: str
    period_start: date
    observed: int
    expected: float
    upper: float
    method: str
    #: The method's names in both languages (EWMA 控制图, CUSUM 累积和); the method's key if
    #: the detector gave none.
    method_names: Names | None = None

    @property
    def id(self) -> str:
        """``METHOD:PERIOD:START:DIMENSION=VALUE``, e.g. ``ewma:day:2015-02-20:product=United``."""
        return f"{self.method}:{self.period}:{self.period_start.isoformat()}:" + (
            f"{self.dimension}={self.value}"
        )

    def as_data(self, lang: str = "en") -> dict[str, Any]:
        """JSON-compatible data (template variables, webhook payloads)."""
        return {
            "id": self.id,
            "dimension": self.dimension,
            "dimension_name": self.dimension_names.get(lang),
            "value": self.value,
            "value_name": self.value_names.get(lang),
            "period": self.period,
            "period_start": self.period_start.isoformat(),
            "observed": self.observed,
            "expected": round(self.expected, 2),
            "upper": round(self.upper, 2),
            "method": self.method,
            "method_name": self.method_names.get(lang) if self.method_names else self.method,
        }
