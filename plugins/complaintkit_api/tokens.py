"""API tokens, kept hashed in the store's plugin data so that every API process on any
backend sees the same tokens and a revocation at once.

A token is ``ck_`` followed by 43 random URL-safe characters (256 bits from
:mod:`secrets`); only its SHA-256 is stored. A fast hash is enough for a secret of that
strength (a slow password hash protects guessable secrets, which these are not), and it lets
a request find its token with one lookup. Two documents per token, namespace ``api``:
``token:<name>`` (role, created, hash prefix: what ``token list`` shows) and
``secret:<sha256>`` (name and role: what a request looks up).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import attrs

from complaintkit.errors import ValidationError
from complaintkit.plugindata import PluginData

from .roles import ROLES

__all__ = ["NAMESPACE", "PREFIX", "Token", "TokenBook", "TokenError", "hash_secret"]

NAMESPACE = "api"
PREFIX = "ck_"
_NAME = re.compile(r"^[\w.@-]{1,64}$")


class TokenError(ValidationError):
    """A token could not be created or revoked; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__("token", [message])
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


def hash_secret(secret: str) -> str:
    """The SHA-256 of a token's secret, in hex (what is stored)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@attrs.frozen
class Token:
    """A token as listed: its name (the actor of every change made with it), role, when it
    was created and the first characters of its hash (to tell tokens apart in logs)."""

    name: str
    role: str
    created_at: str
    hash_prefix: str

    def record(self) -> dict[str, Any]:
        """The token as ``token list --format json`` prints it (no secret, no full hash)."""
        return attrs.asdict(self)


class TokenBook:
    """Creates, lists, revokes and checks tokens in a store's plugin data."""

    def __init__(self, data: PluginData) -> None:
        self.data = data

    def create(self, name: str, role: str) -> tuple[Token, str]:
        """A new token and its secret (shown once; only its hash is kept)."""
        if not _NAME.match(name or ""):
            raise TokenError(
                f"token name {name!r} must be 1-64 letters, digits or . _ @ - (it is recorded "
                "as the actor of every change made with the token)"
            )
        if role not in ROLES:
            raise TokenError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        secret = PREFIX + secrets.token_urlsafe(32)
        digest = hash_secret(secret)
        token = Token(name, role, datetime.now(UTC).isoformat(timespec="seconds"), digest[:12])
        document = {"role": role, "created_at": token.created_at, "hash": digest}
        if not self.data.add(NAMESPACE, f"token:{name}", document):
            raise TokenError(f"a token named {name!r} exists already; revoke it first")
        self.data.put(NAMESPACE, f"secret:{digest}", {"name": name, "role": role})
        return token, secret

    def list(self) -> list[Token]:
        """Every token, by name; no secrets."""
        return [
            Token(key.removeprefix("token:"), doc["role"], doc["created_at"], doc["hash"][:12])
            for key, doc in self.data.items(NAMESPACE)
            if key.startswith("token:")
        ]

    def revoke(self, name: str) -> Token:
        """Revoke the token ``name``: requests with its secret are refused from now on."""
        document = self.data.get(NAMESPACE, f"token:{name}")
        if document is None:
            raise TokenError(f"no token named {name!r}")
        self.data.delete(NAMESPACE, f"secret:{document['hash']}")
        self.data.delete(NAMESPACE, f"token:{name}")
        return Token(name, document["role"], document["created_at"], document["hash"][:12])

    def check(self, secret: str) -> Token | None:
        """The token whose secret this is, or None (unknown or revoked)."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        found = self.data.get(NAMESPACE, f"secret:{digest}")
        if found is None:
            return None
        return Token(found["name"], found["role"], "", digest[:12])
