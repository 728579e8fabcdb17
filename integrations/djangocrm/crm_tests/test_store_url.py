"""Which complaintkit store the CRM's database settings name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import override_settings

from complaintkit_djangocrm.conf import store_url, url_of_database


def test_a_sqlite_file_is_the_same_file_for_complaintkit(tmp_path: Path) -> None:
    db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "crm.sqlite3")}
    assert url_of_database(db) == f"sqlite://{tmp_path}/crm.sqlite3"


def test_a_postgresql_database_keeps_its_credentials_quoted() -> None:
    db = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "crm",
        "USER": "crm_user",
        "PASSWORD": "p@ss/word",
        "HOST": "db.internal",
        "PORT": "5433",
    }
    assert url_of_database(db) == "postgresql://crm_user:p%40ss%2Fword@db.internal:5433/crm"


def test_a_mysql_database_without_password_or_port() -> None:
    db = {"ENGINE": "django.db.backends.mysql", "NAME": "crm", "USER": "root", "HOST": ""}
    assert url_of_database(db) == "mysql://root@127.0.0.1/crm"


@pytest.mark.parametrize("name", [":memory:", "file:memorydb_default?mode=memory&cache=shared"])
def test_an_in_memory_sqlite_database_is_refused_saying_what_to_do(name: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"in-memory SQLite.*COMPLAINTKIT_STORE"):
        url_of_database({"ENGINE": "django.db.backends.sqlite3", "NAME": name})


def test_an_engine_complaintkit_does_not_serve_is_refused_naming_it() -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape("'django.db.backends.oracle'")):
        url_of_database({"ENGINE": "django.db.backends.oracle", "NAME": "crm"})


def test_the_store_setting_wins_over_the_database() -> None:
    with override_settings(COMPLAINTKIT_STORE="postgresql://ck@127.0.0.1/complaints"):
        assert store_url() == "postgresql://ck@127.0.0.1/complaints"


def test_without_the_setting_the_store_is_the_crms_test_database(transactional_db: None) -> None:
    name = str(connections["default"].settings_dict["NAME"])
    assert "test" in name
    assert store_url().endswith(name.split("/")[-1])


def test_migrate_makes_the_complaint_store_ready_in_the_crms_database(
    transactional_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=1)
    assert f"complaintkit store ready: {store_url()}" in capsys.readouterr().out
    assert "ck_complaints" in connections["default"].introspection.table_names()
