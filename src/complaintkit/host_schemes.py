"""The part of the plugin host that looks up what plugins contribute to classification: the
schemes (after any replacement, e.g. a model standing in for a scheme's rules), their names in
either language, and the labelled data-set layouts ``evaluate`` and ``train`` read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import UnknownSchemeError

if TYPE_CHECKING:
    from .classification import ClassificationScheme, LabelledDataset
    from .config import Config
    from .host import PluginFailure

__all__ = ["ClassificationContributions"]

T = TypeVar("T")


class ClassificationContributions:
    """Classification schemes and labelled data sets, for :class:`~complaintkit.host.PluginHost`."""

    config: Config
    failures: list[PluginFailure]
    _cache: dict[str, Any]

    if TYPE_CHECKING:

        def _collect(
            self, hook_name: str, kind: str, key: Callable[[Any], Iterable[str]], **kwargs: Any
        ) -> dict[str, Any]: ...

        def _cached(self, key: str, build: Callable[[], T]) -> T: ...

        def owner(self, hook_name: str, name: str) -> str | None: ...

        def has_implementations(self, hook_name: str) -> bool: ...

    def schemes(self) -> dict[str, ClassificationScheme]:
        """Every registered classification scheme by name, after replacements
        (``replace_classification_schemes``: e.g. a model standing in for a scheme's rules)."""
        return self._cached("schemes", self._build_schemes)

    def _build_schemes(self) -> dict[str, ClassificationScheme]:
        schemes: dict[str, ClassificationScheme] = self._collect(
            "register_classification_schemes",
            "classification scheme",
            lambda s: [s.name],
            config=self.config,
        )
        if not self.has_implementations("replace_classification_schemes"):
            return schemes
        hook = "replace_classification_schemes"
        replacements: dict[str, ClassificationScheme] = self._collect(
            hook,
            "replacement of classification scheme",
            lambda s: [s.name],
            schemes=MappingProxyType(dict(schemes)),
            config=self.config,
        )
        owners: dict[str, str] = self._cache.get("owners:register_classification_schemes", {})
        for name, replacement in replacements.items():
            plugin = self.owner(hook, name) or "a hook wrapper"
            original = schemes.get(name)
            if original is None:
                reason = f"replaces scheme {name!r}, which no plugin registered"
            elif [label.name for label in replacement.labels] != [
                label.name for label in original.labels
            ]:
                reason = f"replaces scheme {name!r} with different labels"
            else:
                schemes[name] = replacement
                owners[name] = plugin  # recorded as the classifier of the labels it gives
                continue
            from .host import PluginFailure

            self.failures.append(PluginFailure(plugin, hook, reason))
        return schemes

    def scheme(self, name: str) -> ClassificationScheme:
        """One scheme by name; an unknown name lists the known ones."""
        schemes = self.schemes()
        if name not in schemes:
            known = ", ".join(sorted(schemes)) or "none (is a classification plugin installed?)"
            raise UnknownSchemeError(f"unknown classification scheme {name!r}; known: {known}")
        return schemes[name]

    def check_label(self, scheme: str, label: str) -> None:
        """Raise :class:`UnknownSchemeError` unless ``scheme`` exists and has ``label``."""
        labels = [item.name for item in self.scheme(scheme).labels]
        if label not in labels:
            raise UnknownSchemeError(
                f"scheme {scheme!r} has no label {label!r}; labels: {', '.join(labels)}"
            )

    def resolve_scheme(self, name: str) -> str:
        """The key of the scheme ``name`` names: its key (``cause``) or its name in English or
        Chinese (``投诉原因``), case aside; :class:`UnknownSchemeError` otherwise."""
        schemes = self.schemes()
        if name in schemes:
            return name
        wanted = name.strip().casefold()
        for key, scheme in schemes.items():
            if wanted in (key.casefold(), scheme.names.en.casefold(), scheme.names.zh):
                return key
        return self.scheme(name).name  # raises, listing the known schemes

    def resolve_label(self, scheme: str, label: str) -> tuple[str, str]:
        """(scheme key, label key) for a scheme and label named by key or by their English or
        Chinese names (``cause=price``, ``投诉原因=价格``, ``cause=价格``): what every door
        accepts where a label is named. :class:`UnknownSchemeError` lists the labels."""
        key = self.resolve_scheme(scheme)
        wanted = label.strip().casefold()
        labels = self.scheme(key).labels
        for item in labels:
            if wanted in (item.name.casefold(), item.names.en.casefold(), item.names.zh):
                return key, item.name
        known = ", ".join(f"{item.name} ({item.names.zh})" for item in labels)
        raise UnknownSchemeError(f"scheme {key!r} has no label {label!r}; labels: {known}")

    def labelled_datasets(self) -> dict[str, LabelledDataset]:
        """Every registered labelled data-set layout (``evaluate --preset``, ``train --preset``)
        by name."""
        return self._cached(
            "labelled_datasets",
            lambda: self._collect(
                "register_labelled_datasets", "labelled data set", lambda d: [d.name]
            ),
        )
