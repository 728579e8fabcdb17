"""Credentials kept out of messages.

Store URLs (``postgresql://user:PASSWORD@db/complaints``), webhook and SMS gateway URLs
(``https://oapi.dingtalk.com/robot/send?access_token=…``) carry secrets. Every message that
shows such a URL, an error above all, shows it through :func:`redact_url`; the command line
also passes each error and warning through :func:`redact_urls` before printing it, so a URL a
plugin put into its message is covered too. Only the standard library is used: this runs
while the command line starts, before any heavy import.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "redact_url", "redact_urls"]

#: What a hidden secret is shown as (as SQLAlchemy's ``hide_password`` does).
MASK = "***"

# A query parameter whose name says it holds a secret: password, pass, pwd, secret, token,
# access_token, key, api_key, apikey, sign, signature, sig, auth, credential...
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|sign|sig$|auth|credential", re.I)
# A URL inside free text: a scheme, "://", then everything up to a space or a quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]*")


def _userinfo(authority: str) -> str:
    """``user:secret@host…`` as ``user:***@host…``. The secret runs to the last ``@`` before
    the query, so an unencoded ``/`` or ``@`` in it is hidden too (as SQLAlchemy reads it);
    this errs on the side of hiding."""
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return authority
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}@{host}" if colon and "/" not in user else authority


def _query(query: str) -> str:
    """``a=1&token=abc`` as ``a=1&token=***``."""
    parts = []
    for item in re.split(r"([&;])", query):
        name, eq, value = item.partition("=")
        parts.append(f"{name}={MASK}" if eq and value and _SECRET_NAME.search(name) else item)
    return "".join(parts)


def redact_url(url: str) -> str:
    """``url`` with its password and the values of secret-looking query parameters (``token``,
    ``access_token``, ``key``, ``secret``, ``password``, ``sign``…) replaced by ``***``; the
    user name, host, path and other parameters stay, so the message still says which server
    and database it means. A text without ``://`` that looks like ``user:secret@host`` has its
    secret hidden too.

    >>> redact_url("postgresql://app:s3cr3t@db.example.cn:5432/ck?sslmode=require")
    'postgresql://app:***@db.example.cn:5432/ck?sslmode=require'
    >>> redact_url("https://oapi.dingtalk.com/robot/send?access_token=abc123")
    'https://oapi.dingtalk.com/robot/send?access_token=***'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, question, query = rest.partition("?")
    if "#" in authority:
        authority, question, query = rest.partition("#")
        return f"{scheme}{sep}{_userinfo(authority)}{question}{query}"
    query, hash_, fragment = query.partition("#")
    if question:
        query = _query(query)
    return f"{scheme}{sep}{_userinfo(authority)}{question}{query}{hash_}{fragment}"


def redact_urls(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text)
