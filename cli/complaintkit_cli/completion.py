"""Shell completion of the names only the plugins know: reports, schemes, labels, calendars.

click completes commands, options and fixed choices by itself (``--format``, ``--status``);
these callbacks add the names that come from the installed plugins and the configuration.
During completion no command runs, so each builds the plugin host from the options typed so far
(``--config``, ``--plugins-dir``) and gives up quietly, completing nothing, when it cannot.
See docs/cli.md, "Shell completion", for turning it on in bash, zsh and fish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import click
from click.shell_completion import CompletionItem

__all__ = ["complete_calendars", "complete_labels", "complete_reports", "complete_schemes"]


def _host(ctx: click.Context) -> Any:
    from .main import App

    root = ctx.find_root()
    app = root.obj if isinstance(root.obj, App) else App.from_params(root.params)
    return app.host


def _items(
    ctx: click.Context, incomplete: str, names: Callable[[Any], Iterable[tuple[str, str]]]
) -> list[CompletionItem]:
    try:
        found = list(names(_host(ctx)))
    except Exception:  # noqa: BLE001 - completion must never print a traceback into a shell
        return []
    return [CompletionItem(name, help=help) for name, help in found if name.startswith(incomplete)]


def complete_reports(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Report names (``complaintkit report <TAB>``)."""
    return _items(
        ctx, incomplete, lambda host: ((n, r.names.en) for n, r in host.reporters().items())
    )


def complete_schemes(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Classification scheme names (``--scheme <TAB>``, ``--unclassified <TAB>``)."""
    return _items(
        ctx,
        incomplete,
        lambda host: ((n, f"{s.names.en} / {s.names.zh}") for n, s in host.schemes().items()),
    )


def complete_labels(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``SCHEME=LABEL`` pairs (``--label <TAB>``): schemes first, then their labels."""

    def pairs(host: Any) -> Iterable[tuple[str, str]]:
        for name, scheme in host.schemes().items():
            for label in scheme.labels:
                yield f"{name}={label.name}", f"{label.names.en} / {label.names.zh}"

    return _items(ctx, incomplete, pairs)


def complete_calendars(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Business calendar names (``calendars show <TAB>``)."""
    return _items(
        ctx, incomplete, lambda host: ((n, c.description) for n, c in host.calendars().items())
    )
