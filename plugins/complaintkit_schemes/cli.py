"""``complaintkit evaluate``: score a classification scheme against a labelled file."""

from __future__ import annotations

from typing import Any

import click

from complaintkit.commands import (
    in_split,
    label_mapping,
    labelled_file_options,
    output_option,
    split_option,
)

__all__ = ["evaluate_command"]


@click.command("evaluate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--scheme", help="The scheme to score (default: the preset's).")
@labelled_file_options
@split_option
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N usable rows.")
@output_option("table", "json")
@click.pass_obj
def evaluate_command(
    app: Any,
    path: str,
    scheme: str | None,
    preset: str | None,
    text_columns: tuple[str, ...],
    label_column: str | None,
    maps: tuple[str, ...],
    split: str | None,
    limit: int | None,
    fmt: str,
) -> None:
    """Score a classification scheme against a labelled file.

    Prints accuracy, coverage, per-label precision/recall/F1, macro-F1, the majority-class
    baseline and the confusion matrix, overall and per language. Use --preset for a known data
    set, or --text-column, --label-column and --map for your own file; --split test scores a
    model trained with train --split train on texts it has not seen.
    """
    import itertools

    import attrs

    from complaintkit.display import json_text, terminal_safe

    from .evaluation import DATASET_PRESETS, evaluate, read_labelled

    if preset:
        if preset not in DATASET_PRESETS:
            known = ", ".join(sorted(DATASET_PRESETS))
            raise click.BadParameter(
                f"unknown preset {preset!r}; known: {known}", param_hint="--preset"
            )
        chosen = DATASET_PRESETS[preset]
        scheme = scheme or chosen.scheme
        rows = chosen.read(path)
    else:
        if not scheme or not text_columns or not label_column:
            raise click.UsageError(
                "give --preset, or --scheme with --text-column and --label-column"
            )
        rows = read_labelled(path, text_columns, label_column, label_mapping(maps))
    assert scheme is not None
    items: Any = rows
    if split:
        items = ((text, gold) for text, gold in items if in_split(text, split))
    if limit:
        items = itertools.islice(items, limit)
    result = evaluate(app.host.scheme(scheme), items)
    # rows the reader left out (no text, no gold label), also when --split or --limit wrapped it
    result = attrs.evolve(result, skipped=rows.skipped)
    if result.unknown_gold:
        unknown = sorted(result.unknown_gold)
        values = ", ".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
        click.echo(  # the gold values come from the labelled file
            terminal_safe(
                f"warning: gold values that are not labels of {scheme!r} ({values}); "
                "translate them with --map GOLD=LABEL"
            ),
            err=True,
        )
    if fmt == "json":
        click.echo(json_text(result.to_dict()))
    else:
        click.echo(terminal_safe(result.render()))
