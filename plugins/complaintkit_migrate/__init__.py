"""Moving complaints between stores of any two backends: :func:`copy_store` (streaming,
resumable), :func:`verify_stores` and :func:`migrate` (both), and the ``complaintkit migrate``
command. See :mod:`complaintkit_migrate.copying`.

The names load on first use, so that loading the plugin (``complaintkit --help``) does not
import the serialization libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # isort: off
    from .copying import (
        DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE,
        CopyResult as CopyResult,
        Difference as Difference,
        MigrationResult as MigrationResult,
        Verification as Verification,
        VerificationFailed as VerificationFailed,
        canonical_bytes as canonical_bytes,
        copy_store as copy_store,
        migrate as migrate,
        pages as pages,
        verify_stores as verify_stores,
    )
    # isort: on

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "CopyResult",
    "Difference",
    "MigrationResult",
    "Verification",
    "VerificationFailed",
    "canonical_bytes",
    "copy_store",
    "migrate",
    "pages",
    "verify_stores",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".copying", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
