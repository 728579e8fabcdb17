"""complaintkit: customer-complaint management (客户投诉管理) for CRMs, extensible with plugins.

The public API is listed in ``__all__``; names are imported lazily so that ``import
complaintkit`` (and ``complaintkit --help``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

# isort: off
if TYPE_CHECKING:  # the same names for type checkers (``X as X``: exported)
    from .attachments import (
        Attachment as Attachment,
        AttachmentExistsError as AttachmentExistsError,
        AttachmentNotFound as AttachmentNotFound,
        AttachmentSettings as AttachmentSettings,
        AttachmentStore as AttachmentStore,
        attachments_of as attachments_of,
    )
    from .classification import (
        BatchScheme as BatchScheme,
        Classification as Classification,
        ClassificationScheme as ClassificationScheme,
        CombinableScheme as CombinableScheme,
        LabelDef as LabelDef,
        LabelledDataset as LabelledDataset,
        SchemeSet as SchemeSet,
    )
    from .commands import (
        CommandContext as CommandContext,
        output_option as output_option,
    )
    from .config import (
        Config as Config,
        load_config as load_config,
    )
    from .desk import (
        ClassificationPreview as ClassificationPreview,
        Desk as Desk,
        SweepResult as SweepResult,
        new_reference as new_reference,
        utcnow as utcnow,
    )
    from .errors import (
        ApprovalError as ApprovalError,
        ComplaintkitError as ComplaintkitError,
        ConfigError as ConfigError,
        ConflictError as ConflictError,
        DuplicateComplaintError as DuplicateComplaintError,
        DuplicateNameError as DuplicateNameError,
        MigrationError as MigrationError,
        NotFoundError as NotFoundError,
        NotificationFailed as NotificationFailed,
        PluginLoadError as PluginLoadError,
        StorageError as StorageError,
        StoreLockedError as StoreLockedError,
        StoreNotFoundError as StoreNotFoundError,
        TransitionRejected as TransitionRejected,
        UnknownSchemeError as UnknownSchemeError,
        ValidationError as ValidationError,
    )
    from .facts import (
        ComplaintFacts as ComplaintFacts,
        FactColumnsStore as FactColumnsStore,
        FactsStore as FactsStore,
        facts_of as facts_of,
        iter_fact_columns as iter_fact_columns,
        iter_facts as iter_facts,
    )
    from .host import (
        PluginFailure as PluginFailure,
        PluginHost as PluginHost,
        make_host as make_host,
    )
    from .i18n import (
        Names as Names,
        name_of as name_of,
        text_language as text_language,
    )
    from .inputs import InputFormat as InputFormat
    from .model import (
        Channel as Channel,
        Complaint as Complaint,
        EscalationLevel as EscalationLevel,
        Event as Event,
        Label as Label,
        Party as Party,
        Remedy as Remedy,
        RemedyKind as RemedyKind,
        Status as Status,
    )
    from .personal import (
        CORE_FIELDS as CORE_FIELDS,
        ERASED as ERASED,
        PERSONAL_KINDS as PERSONAL_KINDS,
        Person as Person,
        PersonalField as PersonalField,
        phone_digits as phone_digits,
    )
    from .notification import (
        DeliveryError as DeliveryError,
        DeliveryResult as DeliveryResult,
        NotificationChannel as NotificationChannel,
    )
    from .reporting import (
        Chart as Chart,
        Column as Column,
        Report as Report,
        ReportContext as ReportContext,
        Reporter as Reporter,
        Section as Section,
        Table as Table,
        label_names as label_names,
    )
    from .retry import RetryPolicy as RetryPolicy
    from .routing import (
        Route as Route,
    )
    from .settings import (
        Duration as Duration,
        InvalidSetting as InvalidSetting,
        setting_key as setting_key,
        structure_section as structure_section,
        structure_settings as structure_settings,
    )
    from .sla import (
        Clocks as Clocks,
        TargetClock as TargetClock,
    )
    from .storage import (
        AddResult as AddResult,
        ComplaintFilter as ComplaintFilter,
        ExistsStore as ExistsStore,
        RestorableStore as RestorableStore,
        SortingStore as SortingStore,
        SortOrder as SortOrder,
        StorageBackend as StorageBackend,
        Store as Store,
        UpdateResult as UpdateResult,
        find_sorted as find_sorted,
        group_value as group_value,
        parse_url as parse_url,
    )
# isort: on

#: The public API: every name, under the module that defines it. ``__all__`` and the lazy
#: loading below are made from it, and tests/test_public_api.py checks that the imports above
#: (which give type checkers the same names) list exactly these.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "attachments": (
        "Attachment",
        "AttachmentExistsError",
        "AttachmentNotFound",
        "AttachmentSettings",
        "AttachmentStore",
        "attachments_of",
    ),
    "classification": (
        "BatchScheme",
        "Classification",
        "ClassificationScheme",
        "CombinableScheme",
        "LabelDef",
        "LabelledDataset",
        "SchemeSet",
    ),
    "commands": (
        "CommandContext",
        "output_option",
    ),
    "config": (
        "Config",
        "load_config",
    ),
    "desk": (
        "ClassificationPreview",
        "Desk",
        "new_reference",
        "SweepResult",
        "utcnow",
    ),
    "errors": (
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
    ),
    "host": (
        "make_host",
        "PluginFailure",
        "PluginHost",
    ),
    "i18n": (
        "name_of",
        "Names",
        "text_language",
    ),
    "inputs": ("InputFormat",),
    "model": (
        "Channel",
        "Complaint",
        "EscalationLevel",
        "Event",
        "Label",
        "Party",
        "Remedy",
        "RemedyKind",
        "Status",
    ),
    "personal": (
        "CORE_FIELDS",
        "ERASED",
        "PERSONAL_KINDS",
        "Person",
        "PersonalField",
        "phone_digits",
    ),
    "notification": (
        "DeliveryError",
        "DeliveryResult",
        "NotificationChannel",
    ),
    "retry": ("RetryPolicy",),
    "routing": ("Route",),
    "settings": (
        "Duration",
        "InvalidSetting",
        "setting_key",
        "structure_section",
        "structure_settings",
    ),
    "sla": (
        "Clocks",
        "TargetClock",
    ),
    "facts": (
        "ComplaintFacts",
        "facts_of",
        "FactColumnsStore",
        "FactsStore",
        "iter_fact_columns",
        "iter_facts",
    ),
    "reporting": (
        "Chart",
        "Column",
        "label_names",
        "Report",
        "ReportContext",
        "Reporter",
        "Section",
        "Table",
    ),
    "storage": (
        "AddResult",
        "ComplaintFilter",
        "ExistsStore",
        "find_sorted",
        "group_value",
        "parse_url",
        "RestorableStore",
        "SortingStore",
        "SortOrder",
        "StorageBackend",
        "Store",
        "UpdateResult",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["hookimpl", *_WHERE]
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
