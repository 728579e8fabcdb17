"""Classification schemes: the protocol plugins implement, and classifying by many at once.

A scheme is one independent axis (severity, cause, behaviour, purpose, …) with a fixed set of
labels, each carrying an English and a Chinese name. How a scheme decides is its plugin's
business: the schemes plugin's keyword-rule engine (:mod:`complaintkit_schemes.rules`), a model,
a service. :class:`SchemeSet` classifies a text by several schemes together, letting schemes of
one kind share their work (:class:`CombinableScheme`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from .i18n import Names

__all__ = [
    "BatchScheme",
    "Classification",
    "ClassificationScheme",
    "CombinableScheme",
    "LabelDef",
    "LabelledDataset",
    "Names",
    "SchemeSet",
]


@attrs.frozen
class LabelDef:
    """One label a scheme can give: its stable key, names in both languages, a description."""

    name: str
    names: Names
    description: str = ""


@attrs.frozen
class Classification:
    """A scheme's verdict: the label, how sure it is (0–1), and the phrases that decided it."""

    label: str
    confidence: float
    evidence: tuple[str, ...] = ()


@runtime_checkable
class ClassificationScheme(Protocol):
    """What a classification plugin registers.

    ``classify`` receives the complaint's title and text joined by a newline and returns a
    :class:`Classification`, or None when the scheme cannot say anything about this text.
    It must be safe to call from several threads and must not keep per-call state.
    """

    name: str
    names: Names
    labels: Sequence[LabelDef]

    def classify(self, text: str) -> Classification | None:
        """Classify one complaint text."""
        ...


@runtime_checkable
class CombinableScheme(ClassificationScheme, Protocol):
    """A scheme whose kind can classify by several of its schemes in one pass.

    ``combine`` is given every scheme of the same kind (the same ``combine`` function) that a
    :class:`SchemeSet` holds, this one included, and returns a function from a text to one
    verdict per scheme, in that order. The keyword-rule engine uses one automaton for all its
    schemes this way. The verdicts must be exactly those of each scheme's ``classify``.
    """

    def combine(
        self, schemes: Sequence[ClassificationScheme]
    ) -> Callable[[str], list[Classification | None]]:
        """One function classifying a text by all of ``schemes`` at once."""
        ...


@runtime_checkable
class BatchScheme(ClassificationScheme, Protocol):
    """A scheme that classifies many texts faster together than one by one (a model scoring
    them in one numpy pass). ``classify_many(texts)`` returns exactly what ``classify`` would
    for each text, in order. :class:`SchemeSet` and the desk give such a scheme its texts a
    batch at a time when they classify many complaints (import, ``classify --all``)."""

    def classify_many(self, texts: Sequence[str]) -> list[Classification | None]:
        """One verdict per text, in the order given."""
        ...


@runtime_checkable
class LabelledDataset(Protocol):
    """The layout of a file of complaints whose labels are known (a data set labelled by
    people): which scheme it scores, and how to read ``(text, gold label)`` pairs out of it.

    ``read(path)`` gives the pairs of the file at ``path``, the gold labels already translated
    to ``scheme``'s labels; rows it cannot use are left out. ``complaintkit evaluate --preset``
    and ``complaintkit train --preset`` take these by ``name``.
    """

    @property
    def name(self) -> str:
        """The layout's name (``airline``, ``cfpb``, …)."""
        ...

    @property
    def scheme(self) -> str:
        """The scheme whose labels the gold labels are."""
        ...

    @property
    def description(self) -> str:
        """Where the text and the gold label come from, and how labels were translated."""
        ...

    def read(self, path: str) -> Iterable[tuple[str, str]]:
        """The ``(text, gold label)`` pairs of the file at ``path``."""
        ...


class SchemeSet:
    """Several schemes applied to each text together.

    Schemes that can combine (:class:`CombinableScheme`, such as the rule schemes, which then
    share one automaton) are asked together, so classifying by four of them costs one pass over
    the text instead of four; any other scheme is asked through its own ``classify``. The
    results are exactly those of calling each scheme's ``classify`` in turn.
    """

    def __init__(self, schemes: Sequence[ClassificationScheme]) -> None:
        self.schemes: tuple[ClassificationScheme, ...] = tuple(schemes)
        self.names: tuple[str, ...] = tuple(s.name for s in self.schemes)
        # Group the schemes that combine by their kind's combine function.
        groups: dict[object, list[int]] = {}
        for index, scheme in enumerate(self.schemes):
            combine = getattr(type(scheme), "combine", None)
            if callable(combine):
                groups.setdefault(combine, []).append(index)
        self._combined: list[tuple[list[int], Callable[[str], list[Classification | None]]]] = []
        self._alone = set(range(len(self.schemes)))
        for members in groups.values():
            first = self.schemes[members[0]]
            assert isinstance(first, CombinableScheme)
            together = first.combine([self.schemes[i] for i in members])
            self._combined.append((members, together))
            self._alone -= set(members)

    def classify(self, text: str) -> list[Classification | None]:
        """One verdict per scheme, in the order the schemes were given."""
        results: list[Classification | None] = [None] * len(self.schemes)
        for members, together in self._combined:
            for index, verdict in zip(members, together(text), strict=True):
                results[index] = verdict
        for index in self._alone:
            results[index] = self.schemes[index].classify(text)
        return results

    def classify_many(self, texts: Sequence[str]) -> list[list[Classification | None]]:
        """:meth:`classify` of each text (one list of verdicts a text), with each
        :class:`BatchScheme` given all the texts at once."""
        results: list[list[Classification | None]] = [[None] * len(self.schemes) for _ in texts]
        for members, together in self._combined:
            for row, text in zip(results, texts, strict=True):
                for index, verdict in zip(members, together(text), strict=True):
                    row[index] = verdict
        for index in self._alone:
            scheme = self.schemes[index]
            if isinstance(scheme, BatchScheme):
                verdicts = scheme.classify_many(texts)
            else:
                verdicts = [scheme.classify(text) for text in texts]
            for row, verdict in zip(results, verdicts, strict=True):
                row[index] = verdict
        return results
