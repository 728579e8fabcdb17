"""A local plugin loaded through --plugins-dir: another CRM's export as an input format.

The export (``.cards``) holds one record per paragraph, a ``Field: value`` pair a line, with
blank lines between records — the kind of file an old CRM writes. The importing plugin does the
rest: column mapping, values, references, rejects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from complaintkit import Names, hookimpl
from complaintkit.inputs import RejectRecord


class CardFormat:
    """``Field: value`` lines, records separated by blank lines."""

    name = "cards"
    names = Names("CRM cards (Field: value paragraphs)", "CRM 卡片（“字段: 值”段落）")
    suffixes = (".cards",)
    unit = "line"

    def read(
        self, path: Path, encoding: str, reject: RejectRecord
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        start = 0
        record: dict[str, Any] = {}
        bad: str | None = None
        with path.open(encoding=encoding) as handle:
            for number, line in enumerate([*handle, "\n"], 1):
                if not line.strip():
                    if bad is not None:
                        reject(start, bad, record)
                    elif record:
                        yield start, record
                    start, record, bad = 0, {}, None
                    continue
                start = start or number
                field, sep, value = line.partition(":")
                if not sep:
                    bad = bad or f"line {number} is not 'Field: value'"
                    record.setdefault("_lines", []).append(line.rstrip("\n"))
                    continue
                record[field.strip()] = value.strip()


@hookimpl
def register_input_formats(register: Any) -> None:
    register(CardFormat())
