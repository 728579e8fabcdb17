"""complaintkit: customer-complaint management (客户投诉管理) for CRMs, extensible with plugins.

The public API is listed in ``__all__``; names are imported lazily so that ``import
complaintkit`` (and ``complaintkit --help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .classification import (
        Classification,
        ClassificationScheme,
        KeywordRule,
        LabelDef,
        LabelRules,
        RuleScheme,
        RuleSet,
        load_rule_file,
        rule_set_from_dict,
    )
    from .config import Config, load_config
    from .desk import Desk, SweepResult, new_reference, utcnow
    from .errors import (
        ApprovalError,
        ComplaintkitError,
        ConfigError,
        ConflictError,
        DuplicateComplaintError,
        DuplicateNameError,
        NotFoundError,
        NotificationFailed,
        PluginLoadError,
        StorageError,
        StoreLockedError,
        StoreNotFoundError,
        TransitionRejected,
        UnknownSchemeError,
        ValidationError,
    )
    from .facts import ComplaintFacts, FactsStore, facts_of, iter_facts
    from .host import PluginFailure, PluginHost, make_host
    from .i18n import Names, name_of
    from .importing import (
        PRESETS,
        ColumnMapping,
        RejectedRow,
        count_records,
        detect_format,
        detect_preset,
        fingerprint,
        read_complaints,
    )
    from .model import (
        Channel,
        Complaint,
        EscalationLevel,
        Event,
        Label,
        Party,
        Remedy,
        RemedyKind,
        Status,
    )
    from .notification import DeliveryError, DeliveryResult, NotificationChannel
    from .reporting import (
        Chart,
        Column,
        Report,
        ReportContext,
        Reporter,
        Section,
        Table,
        label_names,
    )
    from .retry import RetryPolicy
    from .routing import Route
    from .sla import Clocks, TargetClock
    from .storage import (
        AddResult,
        ComplaintFilter,
        ExistsStore,
        RestorableStore,
        StorageBackend,
        Store,
        UpdateResult,
        group_value,
        parse_url,
    )

_EXPORTS = {
    "classification": [
        "Classification",
        "ClassificationScheme",
        "KeywordRule",
        "LabelDef",
        "LabelRules",
        "RuleScheme",
        "RuleSet",
        "load_rule_file",
        "rule_set_from_dict",
    ],
    "config": ["Config", "load_config"],
    "desk": ["Desk", "SweepResult", "new_reference", "utcnow"],
    "errors": [
        "ApprovalError",
        "ComplaintkitError",
        "ConfigError",
        "ConflictError",
        "DuplicateComplaintError",
        "DuplicateNameError",
        "MigrationError",
        "NotFoundError",
        "NotificationFailed",
        "PluginLoadError",
        "StorageError",
        "StoreLockedError",
        "StoreNotFoundError",
        "TransitionRejected",
        "UnknownSchemeError",
        "ValidationError",
    ],
    "host": ["PluginFailure", "PluginHost", "make_host"],
    "i18n": ["Names", "name_of"],
    "importing": [
        "ColumnMapping",
        "RejectedRow",
        "read_complaints",
        "detect_preset",
        "detect_format",
        "count_records",
        "fingerprint",
        "PRESETS",
    ],
    "model": [
        "Channel",
        "Complaint",
        "EscalationLevel",
        "Event",
        "Label",
        "Party",
        "Remedy",
        "RemedyKind",
        "Status",
    ],
    "notification": ["DeliveryError", "DeliveryResult", "NotificationChannel"],
    "retry": ["RetryPolicy"],
    "routing": ["Route"],
    "sla": ["Clocks", "TargetClock"],
    "facts": ["ComplaintFacts", "FactsStore", "facts_of", "iter_facts"],
    "reporting": [
        "Chart",
        "Column",
        "Report",
        "ReportContext",
        "Reporter",
        "Section",
        "Table",
        "label_names",
    ],
    "storage": [
        "AddResult",
        "ComplaintFilter",
        "ExistsStore",
        "RestorableStore",
        "StorageBackend",
        "Store",
        "UpdateResult",
        "group_value",
        "parse_url",
    ],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "PRESETS",
    "AddResult",
    "ApprovalError",
    "Clocks",
    "Route",
    "SweepResult",
    "TargetClock",
    "Channel",
    "Chart",
    "Classification",
    "ClassificationScheme",
    "Column",
    "ColumnMapping",
    "Complaint",
    "ComplaintFacts",
    "ComplaintFilter",
    "ComplaintkitError",
    "Config",
    "ConfigError",
    "ConflictError",
    "Desk",
    "DuplicateComplaintError",
    "DuplicateNameError",
    "EscalationLevel",
    "Event",
    "ExistsStore",
    "FactsStore",
    "KeywordRule",
    "Label",
    "LabelDef",
    "LabelRules",
    "MigrationError",
    "Names",
    "NotFoundError",
    "DeliveryError",
    "DeliveryResult",
    "NotificationChannel",
    "NotificationFailed",
    "Party",
    "PluginFailure",
    "PluginHost",
    "PluginLoadError",
    "RejectedRow",
    "Remedy",
    "RemedyKind",
    "Report",
    "ReportContext",
    "Reporter",
    "RestorableStore",
    "RetryPolicy",
    "RuleScheme",
    "RuleSet",
    "Section",
    "Status",
    "StorageBackend",
    "StorageError",
    "Store",
    "StoreLockedError",
    "StoreNotFoundError",
    "Table",
    "TransitionRejected",
    "UnknownSchemeError",
    "UpdateResult",
    "ValidationError",
    "count_records",
    "detect_format",
    "detect_preset",
    "facts_of",
    "fingerprint",
    "group_value",
    "hookimpl",
    "iter_facts",
    "label_names",
    "load_config",
    "load_rule_file",
    "make_host",
    "name_of",
    "new_reference",
    "parse_url",
    "read_complaints",
    "rule_set_from_dict",
    "utcnow",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'complaintkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
