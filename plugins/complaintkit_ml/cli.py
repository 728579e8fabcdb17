"""``complaintkit train SCHEME``: learn a scheme from labels people gave, write the model file."""

from __future__ import annotations

import itertools
from typing import Any

import click

from complaintkit.commands import (
    CommandContext,
    in_split,
    label_mapping,
    labelled_file_options,
    output_option,
    split_option,
)

__all__ = ["train_command"]

#: The review plugin's threshold for a scheme ``[review]`` does not name.
_DEFAULT_REVIEW_THRESHOLD = 0.5


def _percent(value: float) -> str:
    return f"{value:.3f}"


def _review_threshold(app: CommandContext, scheme: str) -> float:
    """The confidence below which the review queue holds ``scheme``'s labels: ``[review]``'s
    ``thresholds`` (by key or name) or ``threshold``, 0.5 when neither says (the review
    plugin owns and checks the section; a value it would refuse is read as the default)."""
    from complaintkit.errors import ComplaintkitError

    table = app.config.section("review")
    thresholds = table.get("thresholds")
    for name, value in (thresholds if isinstance(thresholds, dict) else {}).items():
        try:
            if app.host.resolve_scheme(str(name)) == scheme:
                return float(value)
        except (ComplaintkitError, TypeError, ValueError):
            continue
    try:
        return float(table.get("threshold", _DEFAULT_REVIEW_THRESHOLD))
    except (TypeError, ValueError):
        return _DEFAULT_REVIEW_THRESHOLD


def _hints(scheme: str, mode: str, classes: int, threshold: float, unseen: list[str]) -> list[str]:
    """What a person who just trained must still do for the model to be used as they expect
    (``unseen``: the scheme's labels without a single example)."""
    hints = []
    if unseen:
        hints.append(
            f"no example of {', '.join(unseen)}: the model can never give "
            f"{'it' if len(unseen) == 1 else 'them'}, and where it decides (modes model, "
            "blend, and fallback where the rules are unsure) a complaint of that kind gets "
            "one of the labels it learnt. Label some and train again."
        )
    if mode == "rules":
        hints.append(
            f'not in use yet: [ml.{scheme}] mode is "rules" (the default), so complaints are '
            f'still classified by the rules alone. Set mode = "fallback", "model" or "blend" '
            f"there (compare them first with complaintkit evaluate)."
        )
    if threshold <= 1 / classes:
        hints.append(
            f"it learnt {classes} labels, so its confidence is never below {1 / classes:.2f}: "
            f"the review queue's threshold for {scheme} ({threshold:g}) will hold none of its "
            f"labels. Set a higher one in complaintkit.toml, e.g. [review] thresholds = "
            f"{{ {scheme} = {min(1.0, 1 / classes + 0.2):g} }}."
        )
    return hints


def _render(
    result: Any, scheme: str, path: str, mode: str, sources: list[str], hints: list[str]
) -> str:
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
    lines += ["", *result.notes, f"model written to {path}", *hints]
    return "\n".join(line for line in lines)


@click.command("train")
@click.argument("scheme")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@labelled_file_options
@split_option
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
    split: str | None,
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
    both (--with-store); --split train learns from the four fifths of the file that
    evaluate --split test leaves out. Prints k-fold cross-validated accuracy, macro-F1 and
    recall per label, overall and per language (zh, en). With mode = "blend" in [ml.SCHEME]
    the rules' votes are learnt as features too. Needs the ml extra: pip install 'complaintkit[ml]'.
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
        if split:
            rows = [(text, gold) for text, gold in rows if in_split(text, split)]
        examples += rows
        sources.append(f"{len(examples)} from {path}")
    elif preset or text_columns or label_column or maps or split:
        raise click.UsageError(
            "--preset, --text-column, --label-column, --map and --split need PATH"
        )
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
    seen = {gold for _, gold in examples}
    hints = _hints(
        key,
        settings.mode,
        len(result.model.classes),
        _review_threshold(app, key),
        [label for label in labels if label not in seen],
    )
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
                    "hints": hints,
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
        click.echo(terminal_safe(_render(result, key, str(target), settings.mode, sources, hints)))
        if result.curve:
            click.echo("\nlearning curve (cross-validated, examples each fold learnt from):")
            click.echo("  examples  accuracy  macro-F1")
            for n, accuracy, macro_f1 in result.curve:
                click.echo(f"  {n:8,}  {accuracy:8.3f}  {macro_f1:8.3f}")
