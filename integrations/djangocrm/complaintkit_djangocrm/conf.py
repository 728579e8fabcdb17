"""Which complaintkit store and configuration the CRM uses, from Django's settings.

``COMPLAINTKIT_STORE``: a complaintkit store URL (``sqlite:///abs/path.db``,
``postgresql://user:pw@host/db``, ``mysql://…``). When it is not set, the store is the CRM's
own ``default`` database, read from Django's connection settings when it is first needed (so
the test database, which Django names itself, is the one used in tests).

``COMPLAINTKIT_CONFIG``: the path of a ``complaintkit.toml`` (SLA policies, routing, …); when
not set, complaintkit looks where it always does (``COMPLAINTKIT_CONFIG`` in the environment,
then ``complaintkit.toml`` in the working folder).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

__all__ = ["config_path", "store_url", "url_of_database"]

#: Django database engines and the complaintkit URL scheme that reaches the same database.
_SERVER_SCHEMES = {
    "django.db.backends.postgresql": "postgresql",
    "django.db.backends.mysql": "mysql",
}


def url_of_database(db: Mapping[str, Any]) -> str:
    """The complaintkit store URL of one Django ``DATABASES`` entry (its connection settings).

    Raises ImproperlyConfigured for what complaintkit cannot share: an in-memory SQLite
    database (another connection would see another, empty database) or an engine it does not
    serve.
    """
    engine = str(db.get("ENGINE", ""))
    name = str(db.get("NAME") or "")
    if engine == "django.db.backends.sqlite3":
        if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
            raise ImproperlyConfigured(
                "complaintkit cannot share an in-memory SQLite database with the CRM; give the "
                "database (and DATABASES['default']['TEST']['NAME'] for tests) a file name, or "
                "set COMPLAINTKIT_STORE to a store URL"
            )
        # complaintkit's convention: what follows sqlite:// is the path, absolute with a "/".
        return f"sqlite://{Path(name).resolve()}"
    scheme = _SERVER_SCHEMES.get(engine)
    if scheme is None:
        raise ImproperlyConfigured(
            f"complaintkit has no store for the database engine {engine!r}; set "
            "COMPLAINTKIT_STORE to a store URL (sqlite:///…, postgresql://…, mysql://…)"
        )
    user = urllib.parse.quote(str(db.get("USER") or ""), safe="")
    password = urllib.parse.quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(db.get("HOST") or "127.0.0.1")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"{scheme}://{credentials}{host}{port}/{urllib.parse.quote(name, safe='')}"


def store_url() -> str:
    """The store URL: ``COMPLAINTKIT_STORE``, else the CRM's ``default`` database."""
    configured = getattr(settings, "COMPLAINTKIT_STORE", None)
    if configured:
        return str(configured)
    return url_of_database(connections["default"].settings_dict)


def config_path() -> str | None:
    """``COMPLAINTKIT_CONFIG`` from the settings, if set."""
    value = getattr(settings, "COMPLAINTKIT_CONFIG", None)
    return str(value) if value else None
