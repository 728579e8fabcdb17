"""Trainable model schemes: ``complaintkit train`` and rules and model together, per scheme.

Install with the ``ml`` extra (``pip install 'complaintkit[ml]'``: scikit-learn, numpy).
scikit-learn is imported only by ``complaintkit train``; classifying with a model needs numpy
alone, and reads the model file on the first text it classifies. Loading this plugin imports
neither, so ``complaintkit --help`` and every command that does not classify stay light.

Configuration (see :mod:`complaintkit_ml.settings`)::

    [ml.cause]
    mode = "fallback"             # rules (default) | model | fallback | blend
    model = "models/cause.json"   # written by: complaintkit train cause

A scheme whose mode is not ``rules`` is replaced (hook ``replace_classification_schemes``) by
a :class:`complaintkit_ml.scheme.ModelScheme` wrapping the registered scheme, so classifying,
``evaluate`` and the reports all use the configured combination. No model ships with the
package: the default stays the rules.

Model files are data only (JSON with base64 float arrays; see :mod:`complaintkit_ml.model`):
loading one never runs code, and one trained for another scheme or other labels is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

from complaintkit import hookimpl
from complaintkit.classification import ClassificationScheme
from complaintkit.config import Config

__all__ = ["register_commands", "replace_classification_schemes"]


@hookimpl
def replace_classification_schemes(
    schemes: Mapping[str, ClassificationScheme],
    register: Callable[[ClassificationScheme], None],
    config: Config,
) -> None:
    """Stand a :class:`ModelScheme` in for every scheme whose ``[ml.SCHEME]`` mode is not
    ``rules``; a table for a scheme nobody registered is a configuration error."""
    if not config.section("ml"):
        return  # nothing to replace: every command that shows labels asks, most have no [ml]
    from .scheme import ModelScheme
    from .settings import ml_settings

    for name, settings in ml_settings(config, list(schemes)).items():
        if settings.mode != "rules":
            register(ModelScheme(schemes[name], settings))


@hookimpl
def register_commands(cli: click.Group) -> None:
    """``complaintkit train``: learn a scheme from labelled examples."""
    from .cli import train_command

    cli.add_command(train_command)
