"""Plugin data: small JSON documents a plugin keeps in the store itself.

A plugin that needs state shared by every process working on one store (the HTTP API's tokens
and idempotency keys) keeps it here rather than in a file of its own: whatever backend the
store is on, every process that opens the store sees the same documents. A document lives
under a ``namespace`` (by convention the plugin's name) and a ``key``, and is a JSON object.

The contract every backend keeps (the conformance suite in
:mod:`complaintkit.testing.plugindata_conformance` checks it):

* ``add`` stores a document only when the key is free, atomically between processes: of two
  processes adding the same key at once exactly one gets True. This is what makes an
  idempotency key or a token name unique.
* ``put`` creates or replaces; ``delete`` removes and says whether there was something.
* ``get`` returns a fresh copy (changing it changes nothing stored); ``None`` when absent.
* ``items`` lists one namespace's documents in key order; namespaces never see each other.
* Keys and namespaces are non-empty strings of at most 255 characters; a value that is not a
  JSON object (or cannot be written as JSON) is refused with
  :class:`~complaintkit.errors.ValidationError` and nothing is stored.

A backend offers plugin data by giving its store a ``plugin_data()`` method returning a
:class:`PluginData` over the same file or database; :func:`plugin_data_of` finds it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .errors import ConfigError, ValidationError

__all__ = ["MAX_KEY_LENGTH", "PluginData", "check_document", "plugin_data_of"]

#: The longest namespace or key a backend must accept.
MAX_KEY_LENGTH = 255


@runtime_checkable
class PluginData(Protocol):
    """Namespace/key → JSON object documents kept in a store, shared by its processes."""

    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The document under ``key`` (a copy), or None."""
        ...

    def add(self, namespace: str, key: str, value: dict[str, Any]) -> bool:
        """Store ``value`` under ``key`` if no document is there; False (nothing changed) if
        one is. Atomic between processes."""
        ...

    def put(self, namespace: str, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` under ``key``, replacing any document there."""
        ...

    def delete(self, namespace: str, key: str) -> bool:
        """Remove the document under ``key``; False if there was none."""
        ...

    def items(self, namespace: str) -> list[tuple[str, dict[str, Any]]]:
        """Every ``(key, document)`` of ``namespace``, in key order."""
        ...


def check_document(namespace: str, key: str, value: object) -> dict[str, Any]:
    """``value`` if it may be stored under ``namespace``/``key``; otherwise
    :class:`~complaintkit.errors.ValidationError` saying what is wrong. Backends call it
    before writing, so every backend refuses the same things."""
    import orjson

    problems = []
    for what, text in (("namespace", namespace), ("key", key)):
        if not isinstance(text, str) or not text:
            problems.append(f"the {what} must be a non-empty string")
        elif len(text) > MAX_KEY_LENGTH:
            problems.append(f"the {what} is longer than {MAX_KEY_LENGTH} characters")
    if not isinstance(value, dict):
        problems.append(f"the document must be a JSON object, not {type(value).__name__}")
    else:
        try:
            orjson.dumps(value)
        except TypeError as exc:
            problems.append(f"the document cannot be written as JSON ({exc})")
    if problems:
        raise ValidationError(f"plugin data {namespace!r}/{key!r}", problems)
    assert isinstance(value, dict)
    return value


def plugin_data_of(store: object) -> PluginData:
    """The plugin data of ``store``; a backend without it gets a clear configuration error."""
    factory = getattr(store, "plugin_data", None)
    if factory is None:
        url = getattr(store, "url", type(store).__name__)
        raise ConfigError(
            f"the store {url} cannot keep plugin data (tokens, idempotency keys); "
            "use a backend that can (tinydb, sqlite, postgresql, mysql)"
        )
    data = factory()
    if not isinstance(data, PluginData):
        raise ConfigError(f"the plugin data of {type(store).__name__} does not implement it")
    return data
