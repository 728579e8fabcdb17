"""The process engine's configuration in one object: SLA, routing, escalation, re-complaints
and remedies, read once per desk from ``complaintkit.toml`` (see docs/process.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .escalation import EscalationConfig, load_escalation_config
from .recomplaint import RecomplaintConfig, load_recomplaint_config
from .remedies import RemediesConfig, load_remedies_config
from .routing import RoutingConfig, load_routing_config
from .sla import SlaConfig, load_sla_config

if TYPE_CHECKING:
    from .config import Config

__all__ = ["ProcessConfig", "load_process_config"]


@attrs.frozen
class ProcessConfig:
    """Every process section; ``sla`` and ``recomplaint`` are None when not configured."""

    sla: SlaConfig | None
    routing: RoutingConfig
    escalation: EscalationConfig
    recomplaint: RecomplaintConfig | None
    remedies: RemediesConfig


def load_process_config(config: Config) -> ProcessConfig:
    """Read and check the process sections; a mistake raises ConfigError naming the setting."""
    return ProcessConfig(
        sla=load_sla_config(config),
        routing=load_routing_config(config),
        escalation=load_escalation_config(config),
        recomplaint=load_recomplaint_config(config),
        remedies=load_remedies_config(config),
    )
