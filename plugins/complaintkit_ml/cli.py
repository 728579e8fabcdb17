"""``complaintkit train SCHEME``: learn a scheme from labels people gave, write the model file."""

from __future__ import annotations

import itertools
from typing import Any

import click

from complaintkit.commands import (
    CommandContext,
    label_mapping,
    labelled_file_options,
    output_option,
)

__all__ = ["train_command"]


def _percent(value: float) -> str:
    return f"{value:.3f}"


def _render(result: Any, scheme: str, path: str, mode: str, sources: list[str]) -> str:
    figures = result.figures
    lines = [
        f"scheme {scheme}: trained on {figures.n} examples ({'; '.join(sources)}), "
        f"mode {mode}, {result.seconds:.1f} s",
        f"{result.folds}-fold cross-validated figures (each text predicted by a model that "
        "had not seen it):",
        "",
        "           n  accuracy  macro-F1  recall per label",
    ]
    rows = [("all", figures)] + sorted(figures.by_language.items())
    for name, found in rows:
        recall = ", ".join(f"{label} {_percent(r)}" for label, r in found.recall.items())
        lines.append(
            f"{name:<5} {found.n:>6}  {_percent(found.accuracy):>8}  "
            f"{_percent(found.macro_f1):>8}  {recall}"
        )
    lines += ["", *result.notes, f"model written to {path}"]
    return "\n".join(line for line in lines)


@click.command("train")
@click.argument("scheme")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@labelled_file_options
@click.option(
    "--with-store/--without-store",
    "with_store",
    default=None,
    help="Also learn from the labels people gave in the store (the default without PATH).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Use only the first N examples.")
@click.option(
    "--folds",
    type=click.IntRange(min=2, max=20),
    default=5,
    show_default=True,
    help="k of the k-fold cross-validation that gives the figures.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Write the model here instead of the [ml.SCHEME] model file.",
)
@click.option(
    "--learning-curve",
    is_flag=True,
    help="Also show how the cross-validated accuracy grows with the number of labelled "
    "examples (each fold trained on 10%, 25%, 50%, 75% and all of its part).",
)
@output_option("table", "json")
@click.pass_obj
def train_command(
    app: CommandContext,
    scheme: str,
    path: str | None,
    preset: str | None,
    text_columns: tuple[str, ...],
    label_column: str | None,
    maps: tuple[str, ...],
    with_store: bool | None,
    limit: int | None,
    folds: int,
    out: str | None,
    learning_curve: bool,
    fmt: str,
) -> None:
    """Train a model for SCHEME and write it to the model file of [ml.SCHEME].

    Learns from the labels people gave in the store (complaintkit label), from a labelled file
    PATH (--preset, or --text-column, --label-column and --map, as evaluate takes them), or
    both (--with-store). Prints k-fold cross-validated accuracy, macro-F1 and recall per
    label, overall and per language (zh, en). With mode = "blend" in [ml.SCHEME] the rules'
    votes are learnt as features too. Needs the ml extra: pip install 'complaintkit[ml]'.
    """
    from complaintkit.display import json_text, terminal_safe
    from complaintkit.errors import ConfigError

    from .data import file_examples, store_examples
    from .scheme import ModelScheme
    from .settings import settings_for

    host = app.host
    key = host.resolve_scheme(scheme)
    registered = host.scheme(key)
    rules = registered.base if isinstance(registered, ModelScheme) else registered
    settings = settings_for(app.config, key)
    labels = [label.name for label in rules.labels]

    examples: list[tuple[str, str]] = []
    sources: list[str] = []
    if path is not None:
        if preset:
            datasets = host.labelled_datasets()
            if preset not in datasets:
                known = ", ".join(sorted(datasets)) or "none"
                raise click.BadParameter(
                    f"unknown preset {preset!r}; known: {known}", param_hint="--preset"
                )
            chosen = datasets[preset]
            if chosen.scheme != key:
                raise click.BadParameter(
                    f"preset {preset!r} is labelled for scheme {chosen.scheme!r}, not {key!r}",
                    param_hint="--preset",
                )
            rows: Any = chosen.read(path)
        elif text_columns and label_column:
            rows = file_examples(path, text_columns, label_column, label_mapping(maps))
        else:
            raise click.UsageError("with PATH give --preset, or --text-column and --label-column")
        examples += rows
        sources.append(f"{len(examples)} from {path}")
    elif preset or text_columns or label_column or maps:
        raise click.UsageError("--preset, --text-column, --label-column and --map need PATH")
    if with_store or (with_store is None and path is None):
        from_store = list(store_examples(app.store, key))
        sources.append(f"{len(from_store)} labelled by people in {app.config.store}")
        examples += from_store
    if limit:
        examples = list(itertools.islice(examples, limit))
    if not examples:
        raise ConfigError(
            f"no training examples for {key!r}: label complaints with complaintkit label, "
            "or give a labelled file"
        )
    try:
        from .training import train_model
    except ImportError as exc:
        raise ConfigError(
            f"training needs scikit-learn: pip install 'complaintkit[ml]' ({exc})"
        ) from None

    def say(message: str) -> None:
        if fmt == "table":
            click.echo(f"… {message}", err=True)

    blend = settings.mode == "blend"
    result = train_model(
        key,
        labels,
        examples,
        folds=folds,
        rules=rules.classify if blend else None,
        rule_labels=labels if blend else (),
        source="; ".join(sources),
        progress=say,
        learning_curve=learning_curve,
    )
    target = app.config.resolve_path(out) if out else settings.model
    result.model.save(target)
    if fmt == "json":
        click.echo(
            json_text(
                {
                    "scheme": key,
                    "mode": settings.mode,
                    "model": str(target),
                    "folds": result.folds,
                    "seconds": round(result.seconds, 2),
                    "notes": list(result.notes),
                    "training_set": result.model.metadata["training_set"],
                    "figures": result.figures.to_dict(),
                    "learning_curve": [
                        {"examples": n, "accuracy": round(acc, 4), "macro_f1": round(f1, 4)}
                        for n, acc, f1 in result.curve
                    ],
                }
            )
        )
    else:
        click.echo(terminal_safe(_render(result, key, str(target), settings.mode, sources)))
        if result.curve:
            click.echo("\nlearning curve (cross-validated, examples each fold learnt from):")
            click.echo("  examples  accuracy  macro-F1")
            for n, accuracy, macro_f1 in result.curve:
                click.echo(f"  {n:8,}  {accuracy:8.3f}  {macro_f1:8.3f}")
