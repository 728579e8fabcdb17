"""The Django app."""

from __future__ import annotations

from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    """Complaint handling (投诉处理) inside DjangoCRM."""

    name = "complaintkit_djangocrm"
    verbose_name = "Complaints · 投诉"
    default_auto_field = "django.db.models.BigAutoField"
