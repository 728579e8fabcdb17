"""How the host calls into plugins: isolating a failing implementation, and tracing calls.

pluggy stops a hook call at the first implementation that raises. The host wraps every
ordinary implementation at registration in a guard (:func:`guard`); around a call it says,
with :func:`isolating`, what a failure of one implementation means (recorded, logged, or let
through), and the guard runs the implementation inside that. :func:`monitor` prints every hook
call for ``COMPLAINTKIT_TRACE_PLUGINS=1``. This module owns only that mechanism; which hook
gets which treatment is :class:`~complaintkit.host.PluginHost`'s decision.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TextIO

import pluggy

from .errors import ComplaintkitError, ConfigError, DuplicateNameError

__all__ = [
    "Runner",
    "call_running",
    "contributions",
    "describe",
    "guard",
    "isolating",
    "monitor",
    "short",
]

# Around a hook call the host says what an implementation's failure means; the guard wrapped
# around every ordinary implementation at registration runs it through that runner.
_Around = Callable[[str], AbstractContextManager[None]]
#: ``runner(plugin_name, function, args, kwargs)``: call one implementation, deciding what its
#: failure means; what it returns is the implementation's result (None: pluggy skips it).
Runner = Callable[[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any]
_around: contextvars.ContextVar[Runner | None] = contextvars.ContextVar(
    "complaintkit_around", default=None
)


def _runner_of(each: _Around) -> Runner:
    def run(
        plugin_name: str,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        result = None  # when ``each`` keeps the error: pluggy skips a None result
        with each(plugin_name):
            result = function(*args, **kwargs)
        return result

    return run


@contextmanager
def isolating(each: _Around) -> Iterator[None]:
    """Run each implementation of the hooks called inside the block in ``each(plugin)``."""
    token = _around.set(_runner_of(each))
    try:
        yield
    finally:
        _around.reset(token)


def call_running(runner: Runner, hook: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``hook`` (a pluggy hook caller) with each implementation run by ``runner``: the
    fast form of :func:`isolating` for hooks called once a complaint (lifecycle fan-out),
    with no context manager built per call or per implementation."""
    token = _around.set(runner)
    try:
        return hook(**kwargs)
    finally:
        _around.reset(token)


def guard(impl: pluggy.HookImpl) -> None:
    """Wrap ``impl`` so that it runs inside the isolation of the call (if any)."""
    function = impl.function
    if getattr(function, "__complaintkit_guarded__", False):
        return
    plugin_name = impl.plugin_name

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        around = _around.get()
        if around is None:
            return function(*args, **kwargs)
        token = _around.set(None)  # a hook called from inside this one isolates on its own
        try:
            return around(plugin_name, function, args, kwargs)
        finally:
            _around.reset(token)

    guarded.__complaintkit_guarded__ = True  # type: ignore[attr-defined]
    setattr(impl, "function", guarded)  # noqa: B010 - pluggy declares it Final for users


def contributions(
    pm: pluggy.PluginManager,
    hook_name: str,
    kind: str,
    key: Callable[[Any], Iterable[str]],
    failures: Callable[[str, str], None],
    **kwargs: Any,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Call the contribution hook ``hook_name`` through ``pm`` with a ``register`` callback:
    what was registered by name (``key`` gives an item's names), and which plugin registered
    each name.

    A plugin that raises is reported to ``failures(plugin, reason)`` and what it registered is
    dropped; a :class:`~complaintkit.errors.ConfigError` stops the call; a name registered
    twice raises :class:`~complaintkit.errors.DuplicateNameError` naming both plugins.
    """
    pending: dict[str, list[Any]] = {}
    failed: set[str] = set()
    # A hook wrapper registering something itself runs outside every implementation.
    current: contextvars.ContextVar[str] = contextvars.ContextVar("registering", default="")

    @contextmanager
    def each(plugin_name: str) -> Iterator[None]:
        token = current.set(plugin_name)
        pending[plugin_name] = []
        try:
            yield
        except ConfigError:
            # The user's configuration is wrong (a rule file, an option): say so and stop,
            # rather than carry on without what the configuration asked for.
            raise
        except Exception as exc:  # noqa: BLE001 - one plugin failing must not stop the rest
            failed.add(plugin_name)
            reason = str(exc) if isinstance(exc, ComplaintkitError) else describe(exc)
            failures(plugin_name, reason)
        finally:
            current.reset(token)

    def register(item: Any) -> None:
        pending.setdefault(current.get(), []).append(item)

    with isolating(each):
        getattr(pm.hook, hook_name)(**kwargs, register=register)
    found: dict[str, Any] = {}
    owners: dict[str, str] = {}
    # Registration order, so that "registered twice" names the earlier plugin first and
    # contributions are listed in the order plugins were loaded.
    plugin_names = [impl.plugin_name for impl in getattr(pm.hook, hook_name).get_hookimpls()]
    for plugin_name in [*plugin_names, ""]:
        if plugin_name in failed:
            continue
        for item in pending.pop(plugin_name, []):
            for name in key(item):
                if name in found:
                    raise DuplicateNameError(kind, name, owners[name], plugin_name)
                found[name] = item
                owners[name] = plugin_name or "a hook wrapper"
    return found, owners


def describe(exc: BaseException) -> str:
    """An error as one line: its type and its message."""
    return f"{type(exc).__name__}: {exc}"


def short(value: Any, width: int = 80) -> str:
    """A value as a trace shows it: short, and always inert (``repr`` escapes control bytes)."""
    reference = getattr(value, "reference", None)
    if isinstance(reference, str):
        return f"<{type(value).__name__} {reference!r}>"
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def monitor(pm: pluggy.PluginManager, out: TextIO) -> Callable[[], None]:
    """Print every hook call ``pm`` makes to ``out``: its arguments, who answered and the
    result; returns the function that stops it."""

    def before(hook_name: str, impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        shown = ", ".join(f"{k}={short(v)}" for k, v in kwargs.items())
        plugins = ", ".join(impl.plugin_name for impl in impls) or "-"
        print(f"complaintkit hook {hook_name}({shown}) -> [{plugins}]", file=out, flush=True)

    def after(
        outcome: pluggy.Result[Any],
        hook_name: str,
        impls: Sequence[pluggy.HookImpl],
        kwargs: Mapping[str, Any],
    ) -> None:
        exception = outcome.exception
        result = describe(exception) if exception else short(outcome.get_result())
        print(f"complaintkit hook {hook_name} returned {result}", file=out, flush=True)

    undo: Callable[[], None] = pm.add_hookcall_monitoring(before, after)
    return undo
