"""Registers the TinyDB store (``tinydb://`` URLs), complaintkit's embedded default.

Importing this module stays cheap: TinyDB, orjson and the store are imported only when a store
is actually opened, so ``complaintkit --help`` does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from complaintkit import hookimpl
from complaintkit.storage import StorageBackend, Store

__all__ = ["open_store", "register_storage_backends"]


def open_store(url: str, options: Mapping[str, Any]) -> Store:
    """Open a ``tinydb://`` store; ``options`` is the ``[storage]`` table of the configuration."""
    from .store import open_tinydb

    return open_tinydb(url, options)


@hookimpl
def register_storage_backends(register: Callable[[StorageBackend], None]) -> None:
    """Serve ``tinydb://`` URLs with :class:`complaintkit_tinydb.store.TinyDBStore`."""
    register(
        StorageBackend(
            name="tinydb",
            schemes=("tinydb",),
            open=open_store,
            description=(
                "one JSON file (TinyDB format), locked and atomically replaced on every write; "
                "comfortable up to about 20,000 complaints"
            ),
        )
    )
