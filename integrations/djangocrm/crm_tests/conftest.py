"""The CRM running for real in the tests: its own settings and test users, a real database
(SQLite file, or PostgreSQL with CK_DJANGOCRM_DATABASE), the complaint app installed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.utils import translation

PASSWORD = "complaint-desk-2026"

_thread_hook = threading.excepthook


def _quiet_crm_mail_thread(args: threading.ExceptHookArgs) -> None:
    """The CRM's mass-mail thread (started by its app, polling the database) dies when
    pytest-django refuses it the database outside a test; that is the CRM's start-up, not a
    failure of ours, and is not printed. Every other thread's exception is."""
    if type(args.thread).__name__ == "SendMassmail" and "Database access not allowed" in str(
        args.exc_value
    ):
        return
    _thread_hook(args)


threading.excepthook = _quiet_crm_mail_thread
MANAGER = "Andrew.Manager.Global"  # a sales manager: staff, not a superuser


@pytest.fixture(scope="session", autouse=True)
def _close_complaint_stores(django_db_setup: None) -> Iterator[None]:
    """complaintkit's connections to the test database are closed before Django drops it."""
    yield
    from complaintkit_djangocrm.desks import close_stores

    close_stores()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Each test starts in English (reverse() gives the active language's URLs)."""
    with translation.override("en"):
        yield


@pytest.fixture
def manager(django_db_serialized_rollback: None, transactional_db: None) -> Any:
    """The CRM's test users; the managers' group may view, register and handle complaints, as
    a CRM administrator would set it up (docs/djangocrm.md)."""
    # The data every test of the CRM's own suite starts from (its tests/base_test_classes.py).
    from tests.base_test_classes import BaseTestCase

    call_command("loaddata", *BaseTestCase.fixtures, verbosity=0)
    managers = Group.objects.get(name="managers")
    managers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="complaintkit_djangocrm",
            codename__in=("view_crmcomplaint", "add_crmcomplaint", "change_crmcomplaint"),
        )
    )
    user = get_user_model().objects.get(username=MANAGER)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def outsider(manager: Any) -> Any:
    """A CRM user of the co-workers' group, which has no complaint permissions."""
    user = get_user_model().objects.get(username="Olga.Co-worker.Global")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def customer(manager: Any) -> tuple[Any, Any]:
    """A company and one of its contacts, owned by the manager."""
    from common.utils.helpers import get_department_id
    from crm.models import Company, Contact

    department_id = get_department_id(manager)
    company = Company.objects.create(
        full_name="Acme Trading 北京",
        email="service@acme.example, sales@acme.example",
        phone="+86 10 6500 0000",
        owner=manager,
        department_id=department_id,
    )
    contact = Contact.objects.create(
        first_name="Wei",
        last_name="Li",
        email="li.wei@acme.example",
        phone="+86 138 0013 8000",
        company=company,
        owner=manager,
        department_id=department_id,
    )
    return company, contact


def require_browser() -> str:
    """Debian's chromium, or skip (fail when COMPLAINTKIT_REQUIRE_BROWSER=1, as in CI)."""
    path = "/usr/bin/chromium"
    if not os.path.exists(path):
        if os.environ.get("COMPLAINTKIT_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed but COMPLAINTKIT_REQUIRE_BROWSER=1")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path
