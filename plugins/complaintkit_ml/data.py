"""Where training examples come from: labels people gave in the store, and labelled files.

* :func:`store_examples` — complaints whose label in a scheme was set or confirmed by a person
  (``complaintkit label``, or any label recorded as ``manual``: automatic re-classification
  keeps those). The text is the title and the text joined by a newline, as the desk classifies
  it.
* :func:`file_examples` — a CSV, TSV, JSON Lines or JSON file with a text column (or several,
  joined by a newline), a label column and an optional GOLD=LABEL mapping: the same options as
  ``complaintkit evaluate``. This is a small reader of its own (plugins do not import each
  other); the layouts of the known data sets (``--preset``) come from the plugin host
  (:meth:`complaintkit.host.PluginHost.labelled_datasets`), registered by whichever plugin
  knows them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from complaintkit.errors import ConfigError
from complaintkit.model import Label
from complaintkit.storage import Store

__all__ = ["PEOPLE", "file_examples", "store_examples"]

#: The classifier recorded on a label a person set (the model's default for a label).
PEOPLE: str = str(attrs.fields(Label).classifier.default)
_FIELD_LIMIT = 1 << 24


def store_examples(store: Store, scheme: str) -> Iterator[tuple[str, str]]:
    """``(text, label)`` of every stored complaint whose ``scheme`` label a person gave."""
    for complaint in store.find():
        label = complaint.labels.get(scheme)
        if label is None or label.classifier != PEOPLE:
            continue
        text = f"{complaint.title}\n{complaint.text}" if complaint.title else complaint.text
        if text.strip():
            yield text, label.label


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _records(path: Path) -> Iterator[tuple[int, Mapping[str, str]]]:
    """(line or row number, row) of a CSV/TSV, JSON Lines or JSON array file."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            with path.open(encoding="utf-8-sig") as handle:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        try:
                            value = json.loads(line)
                        except json.JSONDecodeError as exc:
                            raise ConfigError(f"{path}, line {number}: not JSON ({exc})") from None
                        if not isinstance(value, dict):
                            raise ConfigError(f"{path}, line {number}: not a JSON object")
                        yield number, {str(k): _cell(v) for k, v in value.items()}
        elif suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: not JSON ({exc})") from None
            if not isinstance(data, list) or not all(isinstance(v, dict) for v in data):
                raise ConfigError(f"{path}: a JSON file must hold an array of objects")
            for number, value in enumerate(data, 1):
                yield number, {str(k): _cell(v) for k, v in value.items()}
        else:
            if csv.field_size_limit() < _FIELD_LIMIT:
                csv.field_size_limit(_FIELD_LIMIT)  # long narratives exceed the default
            with path.open(encoding="utf-8-sig", newline="") as handle:
                first = handle.readline()
                handle.seek(0)
                delimiter = "\t" if suffix in (".tsv", ".tab") or "\t" in first else ","
                reader = csv.DictReader(handle, delimiter=delimiter)
                for number, row in enumerate(reader, 2):
                    yield number, {k.strip(): v or "" for k, v in row.items() if isinstance(k, str)}
    except FileNotFoundError:
        raise ConfigError(f"labelled file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"labelled file {path} cannot be read: {exc}") from None


def file_examples(
    path: str | Path,
    text_columns: Sequence[str],
    label_column: str,
    mapping: Mapping[str, str] | None = None,
) -> Iterator[tuple[str, str]]:
    """``(text, label)`` pairs of a labelled file; rows without text or label are skipped, and
    with a ``mapping`` so are labels it does not list. A missing column is a
    :class:`ConfigError` naming the file, the row and the columns it has."""
    path = Path(path)
    for number, row in _records(path):
        missing = [c for c in (*text_columns, label_column) if c not in row]
        if missing:
            raise ConfigError(
                f"{path}, row {number}: no column(s) {', '.join(map(repr, missing))}; "
                f"it has: {', '.join(row)}"
            )
        text = "\n".join(part for c in text_columns if (part := row[c].strip()))
        gold = row[label_column].strip()
        if mapping is not None:
            gold = mapping.get(gold, "")
        if text and gold:
            yield text, gold
