"""The Django app."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


class ComplaintsConfig(AppConfig):
    """Complaint handling (投诉处理) inside DjangoCRM."""

    name = "complaintkit_djangocrm"
    verbose_name = "Complaints · 投诉"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_prepare_store, sender=self)


def _prepare_store(*, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, **_: Any) -> None:
    """``migrate`` also creates complaintkit's tables in the store the CRM uses (when they are
    not there yet). A database complaintkit cannot share (an in-memory SQLite test database)
    is left alone here: the complaint pages say why when they are used."""
    from django.core.exceptions import ImproperlyConfigured

    from .conf import store_url
    from .desks import opened

    if using != DEFAULT_DB_ALIAS:
        return
    try:
        store_url()
    except ImproperlyConfigured:
        return
    _host, store = opened()
    if verbosity >= 1:
        print(f"  complaintkit store ready: {store.url}")
