"""DjangoCRM's own settings (``webcrm.settings``, as its installation guide has them) with the
complaint app added, on a real database: a SQLite file in a temporary folder, or PostgreSQL
when ``CK_DJANGOCRM_DATABASE`` is a ``postgresql://user@host:port/name`` URL. complaintkit keeps
its complaints in the same database (its ``ck_*`` tables): ``COMPLAINTKIT_STORE`` is not set,
so the store is derived from Django's ``default`` connection, the test database included."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import urllib.parse
from pathlib import Path

from webcrm.settings import *  # noqa: F403  (the CRM's settings, unchanged but for the below)
from webcrm.settings import INSTALLED_APPS, MODEL_ON_INDEX_PAGE

HERE = Path(__file__).resolve().parent
_TMP = Path(tempfile.mkdtemp(prefix="ck-djangocrm-"))

INSTALLED_APPS = [*INSTALLED_APPS, "complaintkit_djangocrm"]
# The CRM lists its apps' models on its main menu from these two settings.
APP_ON_INDEX_PAGE = ["tasks", "crm", "complaintkit_djangocrm", "analytics", "common"]
MODEL_ON_INDEX_PAGE = {
    **MODEL_ON_INDEX_PAGE,
    "complaintkit_djangocrm": {"app_model_list": ["CrmComplaint"]},
}

_server = os.environ.get("CK_DJANGOCRM_DATABASE", "")
if _server.startswith(("postgresql://", "postgres://")):
    _url = urllib.parse.urlsplit(_server)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.path.lstrip("/") or "ck_djangocrm",
            "USER": urllib.parse.unquote(_url.username or "postgres"),
            "PASSWORD": urllib.parse.unquote(_url.password or ""),
            "HOST": _url.hostname or "127.0.0.1",
            "PORT": str(_url.port or 5432),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_TMP / "crm.sqlite3"),
            # A file, not Django's in-memory test database: complaintkit opens it too.
            "TEST": {"NAME": str(_TMP / "test-crm.sqlite3")},
        }
    }

# SLA policies, so complaints get deadlines (due_at).
COMPLAINTKIT_CONFIG = str(HERE / "complaintkit.toml")

# The CRM's test users live in its installed `tests` package (its FIXTURE_DIRS is relative).
_crm_tests = importlib.util.find_spec("tests")
FIXTURE_DIRS = [str(Path(_crm_tests.origin).parent / "fixtures")] if _crm_tests else []
MEDIA_ROOT = _TMP / "media"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
LANGUAGE_CODE = "en"
TIME_ZONE = "Asia/Shanghai"
MEDIA_ROOT.mkdir(exist_ok=True)
# The CRM's own switch for its test runs (`manage.py test` sets it): no background mail import.
TESTING = True
LANGUAGES = [("en", "English"), ("zh-hans", "Chinese")]
