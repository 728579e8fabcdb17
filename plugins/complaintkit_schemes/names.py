"""The names of the built-in schemes and of their labels, kept apart from the rules.

Showing a complaint's labels (``list``, ``show``) needs each scheme's labels and their names,
not its thousands of weighted phrases; reading ``rules/<scheme>.toml`` for them cost a command
most of 0.1 s (``tomllib`` is pure Python). So ``rules/names.json`` holds what the rule files
say of names, and the built-in schemes are registered from it
(:meth:`~complaintkit_schemes.rules.RuleScheme.deferred`), reading their rules only when they
first classify.

``rules/names.json`` is derived from the rule files: after changing a scheme's or a label's
name or description there, run ``python -m complaintkit_schemes.names`` to write it again
(``tests/plugins/schemes`` fails while it differs).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from complaintkit.classification import LabelDef
from complaintkit.i18n import Names

__all__ = ["NAMES_FILE", "builtin_names", "names_table", "table_text"]

#: Where the table lives, beside the rule files.
NAMES_FILE = "rules/names.json"


@functools.cache
def _table() -> dict[str, Any]:
    resource = resources.files(__package__ or "complaintkit_schemes").joinpath(NAMES_FILE)
    table: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return table


def builtin_names(scheme: str) -> tuple[Names, tuple[LabelDef, ...]]:
    """The names of the built-in ``scheme`` and its labels, in the rule file's order."""
    entry = _table()[scheme]
    labels = tuple(
        LabelDef(label["name"], Names(label["en"], label["zh"]), label["description"])
        for label in entry["labels"]
    )
    return Names(entry["en"], entry["zh"]), labels


def names_table() -> dict[str, Any]:
    """The table as the built-in rule files give it (what ``rules/names.json`` must hold)."""
    from .plugin import BUILTIN_SCHEMES, OPTIONAL_SCHEMES, builtin_rule_set

    table: dict[str, Any] = {}
    for scheme in BUILTIN_SCHEMES + OPTIONAL_SCHEMES:
        rule_set = builtin_rule_set(scheme)
        table[scheme] = {
            "en": rule_set.names.en,
            "zh": rule_set.names.zh,
            "labels": [
                {
                    "name": rules.label.name,
                    "en": rules.label.names.en,
                    "zh": rules.label.names.zh,
                    "description": rules.label.description,
                }
                for rules in rule_set.labels
            ],
        }
    return table


def table_text() -> str:
    """``rules/names.json`` as :func:`names_table` gives it, written out."""
    return json.dumps(names_table(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    target = Path(__file__).with_name("rules") / "names.json"
    target.write_text(table_text(), encoding="utf-8")
    print(f"wrote {target}")
