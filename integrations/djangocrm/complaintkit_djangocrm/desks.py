"""A complaintkit Desk acting for the CRM user of a request.

The plugin host and the store are built once per process and store URL (building a host loads
every installed complaintkit plugin; a SQL store keeps a connection pool) and shared by the
server's threads; each request gets its own :class:`complaintkit.Desk` whose actor is the CRM
user's username, so every event it records names who did it.
"""

from __future__ import annotations

import threading

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from complaintkit import Desk, PluginHost, Store, load_config, make_host

from .conf import config_path, store_url

__all__ = ["close_stores", "desk_for", "opened"]

_lock = threading.Lock()
_opened: dict[str, tuple[PluginHost, Store]] = {}


def opened() -> tuple[PluginHost, Store]:
    """The host and store of the configured store URL, opened (and created) on first use."""
    url = store_url()
    with _lock:
        pair = _opened.get(url)
        if pair is None:
            host = make_host(load_config(config_path(), store=url))
            pair = _opened[url] = (host, host.open_store(url, create=True))
    return pair


def desk_for(user: AbstractBaseUser | AnonymousUser) -> Desk:
    """A desk on the CRM's complaint store acting for ``user`` (their username)."""
    username = user.get_username()
    if not username:
        raise PermissionError("complaints are handled by signed-in CRM users only")
    host, store = opened()
    return Desk(host, store, actor=username)


def close_stores() -> None:
    """Close every store opened so far (tests, and a server shutting down)."""
    with _lock:
        for _host, store in _opened.values():
            store.close()
        _opened.clear()
