"""Moving complaints between stores of any two backends: :func:`copy_store` (streaming,
resumable), :func:`verify_stores` and :func:`migrate` (both), and the ``complaintkit migrate``
command. See :mod:`complaintkit_migrate.copying`."""

from .copying import (
    DEFAULT_BATCH_SIZE,
    CopyResult,
    Difference,
    MigrationResult,
    Verification,
    VerificationFailed,
    canonical_bytes,
    copy_store,
    migrate,
    pages,
    verify_stores,
)

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
