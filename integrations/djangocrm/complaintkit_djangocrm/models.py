"""The CRM's side of a complaint: which contact or company it was registered from, and by whom.

The complaint itself (text, status, labels, deadlines, history) is kept by complaintkit in its
own tables (``ck_*``) of the same database; this row is what links it to the CRM's records, as
the CRM's own requests and deals are linked, so the contact and company pages can list their
complaints and the CRM's admin can page and search them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .texts import TEXTS


class CrmComplaint(models.Model):
    """A complaint registered in the CRM, by its complaintkit reference."""

    reference = models.CharField(max_length=64, unique=True, verbose_name="reference · 编号")
    contact = models.ForeignKey(
        "crm.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ck_complaints",
        verbose_name="contact · 联系人",
    )
    company = models.ForeignKey(
        "crm.Company",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ck_complaints",
        verbose_name="company · 公司",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="registered by · 登记人",
    )
    registered_at = models.DateTimeField(default=timezone.now, verbose_name="registered · 登记时间")

    class Meta:
        ordering = ("-registered_at", "-id")
        verbose_name = TEXTS["complaint"].en + " · " + TEXTS["complaint"].zh
        verbose_name_plural = TEXTS["complaints"].en + " · " + TEXTS["complaints"].zh

    def __str__(self) -> str:
        return self.reference
