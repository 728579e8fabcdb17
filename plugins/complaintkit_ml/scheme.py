"""The scheme that stands in for a registered one: rules and a trained model together.

:class:`ModelScheme` has the name and labels of the scheme it replaces and answers according
to its ``[ml.SCHEME]`` mode (see :mod:`complaintkit_ml.settings`). The model file is read on
the first text to classify, not when the scheme is registered, so commands that only name
schemes (``label``, ``list``, ``--help``) never read it, nor import numpy.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from complaintkit.classification import Classification, ClassificationScheme, LabelDef
from complaintkit.errors import ConfigError

from .settings import MlSettings

if TYPE_CHECKING:
    from .model import Predictor

__all__ = ["ModelScheme"]


class ModelScheme:
    """A :class:`~complaintkit.classification.ClassificationScheme` combining ``base`` (the
    scheme it replaces, usually rules) with the model named by ``settings``."""

    def __init__(self, base: ClassificationScheme, settings: MlSettings) -> None:
        self.base = base
        self.settings = settings
        self.name = base.name
        self.names = base.names
        self.labels: Sequence[LabelDef] = tuple(base.labels)
        self._predictor: Predictor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ModelScheme {self.name} mode={self.settings.mode} model={self.settings.model}>"

    def predictor(self) -> Predictor:
        """The model, read (and checked) the first time it is needed."""
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    self._predictor = self._load()
        return self._predictor

    def _load(self) -> Predictor:
        try:
            from .model import Predictor, load_model
        except ImportError as exc:
            raise ConfigError(
                f"{self.settings.where}: mode {self.settings.mode!r} needs numpy "
                f"(pip install 'complaintkit[ml]'): {exc}"
            ) from None
        model = load_model(self.settings.model, self.name, [label.name for label in self.labels])
        if self.settings.mode == "blend" and not model.blends_rules:
            raise ConfigError(
                f"{self.settings.where}: mode is blend but model file {self.settings.model} "
                f"was trained without the rules' votes; train it again with "
                f"complaintkit train {self.name}"
            )
        return Predictor(model)

    def classify(self, text: str) -> Classification | None:
        """The rules, the model, or both, as the mode says."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Classification | None]:
        """:meth:`classify` for many texts, the model scoring them all at once (several times
        faster than one by one)."""
        mode = self.settings.mode
        predictor = self.predictor()
        blends = predictor.model.blends_rules
        votes = (
            [self.base.classify(text) for text in texts] if blends or mode == "fallback" else None
        )
        if mode != "fallback":
            return list(predictor.classify_many(texts, votes))
        assert votes is not None
        results: list[Classification | None] = list(votes)
        unsure = [
            i
            for i, vote in enumerate(votes)
            if vote is None or vote.confidence < self.settings.fallback_below
        ]
        answers = predictor.classify_many(
            [texts[i] for i in unsure], [votes[i] for i in unsure] if blends else None
        )
        for i, answer in zip(unsure, answers, strict=True):
            results[i] = answer
        return results
