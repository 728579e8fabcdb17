"""The plugin host: owns the pluggy PluginManager and every call into plugins.

Build one with :func:`make_host`; there is no module-global manager, so each test and each
command gets its own. Entry points are loaded one by one: a plugin that fails to import, or
names a hook that does not exist, is recorded in :attr:`PluginHost.failures` and skipped, and
everything else keeps working.

Environment:

* ``COMPLAINTKIT_LOAD_PLUGINS`` — comma-separated allow-list of entry-point names; set it to
  an empty string to load no installed plugin at all (recovery mode).
* ``COMPLAINTKIT_DISABLE_PLUGINS`` — comma-separated block-list of entry-point names.
* ``COMPLAINTKIT_TRACE_PLUGINS`` — set to ``1`` to print every hook call, the arguments it
  got, the plugins that answered and what they returned, on standard error.

Every hook is called through pluggy (``host.pm.hook.<name>(...)``), so hook wrappers
(``@hookimpl(wrapper=True)``) and pluggy's call monitoring see every call. What pluggy does
not do, the host adds: when an implementation raises, the others still run. At registration
each ordinary implementation is wrapped in a guard; around a call the host says what a failure
means (:func:`~complaintkit.hookcalls.isolating`): a contribution hook records the plugin in
:attr:`PluginHost.failures` and drops what it registered, a lifecycle hook logs it in
:attr:`PluginHost.hook_errors`, a policy hook (``route_complaint``, ``choose_sla_policy``) lets
the error through.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import attrs
import pluggy

from . import hookspecs
from .config import Config
from .errors import (
    ConfigError,
    DuplicateNameError,
    PluginLoadError,
    UnknownSchemeError,
)
from .hookcalls import Runner, call_running, contributions, describe, guard, isolating, monitor
from .host_schemes import ClassificationContributions

if TYPE_CHECKING:
    import cattrs
    import click

    from .calendars import BusinessCalendar
    from .inputs import InputFormat
    from .model import Complaint
    from .notification import NotificationChannel
    from .personal import Person, PersonalField
    from .reporting import Reporter, ReportFormat
    from .storage import StorageBackend, Store

__all__ = ["ENTRY_POINT_GROUP", "PluginFailure", "PluginHost", "make_host"]

ENTRY_POINT_GROUP = "complaintkit"
log = logging.getLogger("complaintkit.host")
T = TypeVar("T")


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded, or a hook implementation that raised."""

    plugin: str
    stage: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.stage}: {self.error}"


def _split_env(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


class PluginHost(ClassificationContributions):
    """Typed access to the plugins: what they contribute and the lifecycle hooks they observe.

    The classification schemes and labelled data sets plugins contribute are looked up through
    :class:`~complaintkit.host_schemes.ClassificationContributions`."""

    def __init__(self, config: Config | None = None, *, trace: TextIO | None = None) -> None:
        self.config = config or Config()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        if trace is not None:
            self.trace_hooks(trace)
        self.failures: list[PluginFailure] = []
        self.hook_errors: list[PluginFailure] = []
        self._runners: dict[str, Runner] = {}
        #: installed plugins left out by COMPLAINTKIT_LOAD_PLUGINS / COMPLAINTKIT_DISABLE_PLUGINS
        self.left_out: list[str] = []
        self._versions: dict[str, str | None] = {}
        self._origins: dict[str, str] = {}
        self._command_owners: dict[str, str] = {}
        self._cache: dict[str, Any] = {}

    # --- registration -------------------------------------------------------------------

    def register(
        self,
        plugin: object,
        name: str | None = None,
        *,
        version: str | None = None,
        origin: str = "",
    ) -> str:
        """Register ``plugin`` (a module or object with hook implementations) under ``name``.

        Raises :class:`DuplicateNameError` if the name is taken and :class:`PluginLoadError`
        if the plugin implements a hook that does not exist or with wrong parameters.
        """
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        existing = self.pm.get_plugin(name)
        if existing is not None:
            raise DuplicateNameError(
                "plugin", name, self._origins.get(name, name), origin or repr(plugin)
            )
        self._check_hook_names(plugin, name)
        try:
            registered = self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(name, str(exc)) from None
        except ValueError as exc:
            raise PluginLoadError(name, str(exc)) from None
        assert registered is not None
        for caller in self.pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
                    guard(impl)
        self._versions[name] = version
        self._origins[name] = origin or name
        self._cache.clear()
        return name

    def _check_hook_names(self, plugin: object, name: str) -> None:
        known = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "complaintkit_spec")}
        for attr in dir(plugin):
            try:
                value = getattr(plugin, attr)
            except Exception:  # noqa: BLE001 - a property that raises is not a hook
                continue
            if not hasattr(value, "complaintkit_impl"):
                continue
            opts = value.complaintkit_impl or {}
            hook_name = opts.get("specname") or attr
            if hook_name not in known:
                close = difflib.get_close_matches(hook_name, sorted(known), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise PluginLoadError(name, f"implements unknown hook {hook_name!r}{hint}")

    def load_entrypoints(self, env: Mapping[str, str] | None = None) -> None:
        """Load installed plugins from the ``complaintkit`` entry-point group, one by one."""
        from importlib.metadata import entry_points

        env = os.environ if env is None else env
        allow = _split_env(env.get("COMPLAINTKIT_LOAD_PLUGINS"))
        deny = set(_split_env(env.get("COMPLAINTKIT_DISABLE_PLUGINS")) or [])
        # (name, version) per distribution: each reading of either parses the distribution's
        # METADATA anew, and one distribution (complaintkit's own) holds a dozen plugins.
        described: dict[int, tuple[str, str]] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (allow is not None and ep.name not in allow) or ep.name in deny:
                self.left_out.append(ep.name)
                continue
            dist = getattr(ep, "dist", None)
            if dist is not None and id(dist) not in described:
                metadata = dist.metadata  # parsed at every reading of the property
                described[id(dist)] = (metadata["Name"], metadata["Version"])
            dist_name, version = described[id(dist)] if dist is not None else (ep.value, None)
            origin = f"{ep.name} ({dist_name})"
            try:
                plugin = ep.load()
                self.register(plugin, ep.name, version=version, origin=origin)
            except DuplicateNameError:
                raise
            except PluginLoadError as exc:
                self.failures.append(PluginFailure(ep.name, "load", exc.reason))
            except Exception as exc:  # noqa: BLE001 - any failure of a plugin is reported, not fatal
                self.failures.append(PluginFailure(ep.name, "load", f"{type(exc).__name__}: {exc}"))

    def load_plugins_dir(self, directory: str | Path) -> None:
        """Load every ``*.py`` file in ``directory`` as a plugin named after the file."""
        directory = Path(directory)
        if not directory.is_dir():
            raise PluginLoadError(str(directory), "--plugins-dir is not a directory")
        for path in sorted(directory.glob("*.py")):
            name = path.stem
            module_name = f"complaintkit_local_plugins.{name}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot import {path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
                self.register(module, name, origin=str(path))
            except DuplicateNameError:
                raise
            except PluginLoadError as exc:
                self.failures.append(PluginFailure(name, "load", exc.reason))
            except Exception as exc:  # noqa: BLE001 - a broken local plugin is reported, not fatal
                self.failures.append(PluginFailure(name, "load", f"{type(exc).__name__}: {exc}"))

    # --- introspection ------------------------------------------------------------------

    def plugin_info(self) -> list[dict[str, Any]]:
        """Name, version and implemented hooks of every registered plugin, sorted by name."""
        info = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            info.append({"name": name, "version": self._versions.get(name), "hooks": hooks})
        return sorted(info, key=lambda item: item["name"])

    def implementations(self, hook_name: str) -> list[pluggy.HookImpl]:
        """The implementations of a hook, in the order pluggy would call them."""
        caller = getattr(self.pm.hook, hook_name)
        return list(reversed(caller.get_hookimpls()))

    def has_implementations(self, hook_name: str) -> bool:
        """True if any plugin implements ``hook_name`` (lets batch paths skip needless work)."""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    # --- contributions ------------------------------------------------------------------

    def _collect(
        self, hook_name: str, kind: str, key: Callable[[Any], Iterable[str]], **kwargs: Any
    ) -> dict[str, Any]:
        def failed(plugin_name: str, reason: str) -> None:
            self.failures.append(PluginFailure(plugin_name, hook_name, reason))

        found, owners = contributions(self.pm, hook_name, kind, key, failed, **kwargs)
        self._cache[f"owners:{hook_name}"] = owners
        return found

    def _cached(self, key: str, build: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = build()
        value: T = self._cache[key]
        return value

    def owner(self, hook_name: str, name: str) -> str | None:
        """Which plugin registered ``name`` through ``hook_name`` (after it was collected)."""
        owners: dict[str, str] = self._cache.get(f"owners:{hook_name}", {})
        return owners.get(name)

    def storage_backends(self) -> dict[str, StorageBackend]:
        """Every registered storage backend by URL scheme."""
        return self._cached(
            "storage",
            lambda: self._collect(
                "register_storage_backends", "storage URL scheme", lambda b: list(b.schemes)
            ),
        )

    def open_store(self, url: str | None = None, *, create: bool | None = True) -> Store:
        """Open the store named by ``url`` (default: the configured one).

        With ``create`` (the default for programs) a store that does not exist yet is created
        now; with ``create=False`` it is refused with
        :class:`~complaintkit.errors.StoreNotFoundError` and nothing is created, which is what
        every command but ``complaintkit init`` does; ``create=None`` opens it as it is, neither
        creating nor refusing (``complaintkit db status`` reads a database that way). Stores
        that cannot tell whether they exist (no :class:`~complaintkit.storage.ExistsStore`) are
        opened either way.
        """
        from .errors import StoreNotFoundError
        from .storage import ExistsStore, parse_url

        url = url or self.config.store
        scheme, _ = parse_url(url)
        backends = self.storage_backends()
        if scheme not in backends:
            known = ", ".join(f"{s}://" for s in sorted(backends)) or "none"
            hint = f"; is the plugin that serves {scheme}:// installed?"
            if self.left_out:
                hint += (
                    f" Installed but not loaded (COMPLAINTKIT_LOAD_PLUGINS or "
                    f"COMPLAINTKIT_DISABLE_PLUGINS): {', '.join(self.left_out)}"
                )
            raise UnknownSchemeError(
                f"no storage backend serves {scheme}:// URLs (installed: {known}){hint}"
            )
        store = backends[scheme].open(url, self.config.section("storage"))
        try:
            if create is not None and isinstance(store, ExistsStore) and not store.exists():
                if not create:
                    raise StoreNotFoundError(store.url)
                store.initialize()
        except BaseException:
            store.close()
            raise
        return store

    def channels(self) -> dict[str, NotificationChannel]:
        """Every registered notification channel by name."""
        return self._cached(
            "channels",
            lambda: self._collect(
                "register_notification_channels",
                "notification channel",
                lambda c: [c.name],
                config=self.config,
            ),
        )

    def reporters(self) -> dict[str, Reporter]:
        """Every registered reporter by name."""
        return self._cached(
            "reporters",
            lambda: self._collect("register_reporters", "reporter", lambda r: [r.name]),
        )

    def reporter(self, name: str) -> Reporter:
        """One reporter by name; an unknown name lists the known ones."""
        reporters = self.reporters()
        if name not in reporters:
            known = ", ".join(sorted(reporters)) or "none"
            raise UnknownSchemeError(f"unknown report {name!r}; available: {known}")
        return reporters[name]

    def report_formats(self) -> dict[str, ReportFormat]:
        """Every registered report format by name, in registration order."""
        return self._cached(
            "report_formats",
            lambda: self._collect("register_report_formats", "report format", lambda f: [f.name]),
        )

    def report_format(self, name: str) -> ReportFormat:
        """One report format by name; an unknown name lists the known ones."""
        formats = self.report_formats()
        if name not in formats:
            known = ", ".join(formats) or "none (is the reports plugin installed?)"
            raise UnknownSchemeError(f"unknown report format {name!r}; available: {known}")
        return formats[name]

    def report_format_for_path(self, path: str | Path) -> ReportFormat:
        """The report format whose extensions include the file name's ending (``.html``,
        ``.xlsx``, ...; case does not matter); the first registered wins a shared ending."""
        suffix = Path(path).suffix.lower()
        for fmt in self.report_formats().values():
            if suffix and suffix in (e.lower() for e in fmt.extensions):
                return fmt
        known = ", ".join(e for f in self.report_formats().values() for e in f.extensions)
        raise UnknownSchemeError(
            f"cannot tell the report format from {str(path)!r}: "
            f"use one of the endings {known or 'none'} or give --format"
        )

    def input_formats(self) -> dict[str, InputFormat]:
        """Every registered input format by name, in registration order."""
        return self._cached(
            "input_formats",
            lambda: self._collect("register_input_formats", "input format", lambda f: [f.name]),
        )

    def personal_fields(self) -> list[PersonalField]:
        """The core model's personal fields, then every plugin's (``register_personal_fields``)."""
        from .personal import CORE_FIELDS

        def build() -> list[PersonalField]:
            contributed: dict[str, PersonalField] = self._collect(
                "register_personal_fields", "personal field", lambda f: [f.path], config=self.config
            )
            core = {f.path for f in CORE_FIELDS}
            return [*CORE_FIELDS, *(f for path, f in contributed.items() if path not in core)]

        return list(self._cached("personal_fields", build))

    def mask(self, complaint: Complaint) -> Complaint:
        """``complaint`` with its personal data masked by the ``mask_complaint`` hook (as
        stored when no plugin masks)."""
        if not self.has_implementations("mask_complaint"):
            return complaint
        masked = self.first_result(
            "mask_complaint", complaint=complaint, fields=self.personal_fields(), config=self.config
        )
        return complaint if masked is None else masked

    def erase_personal_data(
        self, store: Store, person: Person, *, dry_run: bool
    ) -> tuple[dict[str, int], list[PluginFailure]]:
        """Let every plugin erase ``person`` from data it keeps itself (the
        ``erase_personal_data`` hook): the counts of what was (or, with ``dry_run``, would be)
        changed, added up by kind, and the plugins that failed. Every implementation runs; a
        failure is kept in :attr:`hook_errors` too and does not stop the others."""
        failures: list[PluginFailure] = []
        results: list[dict[str, int]] = call_running(
            self._isolated("erase_personal_data", also=failures),
            self.pm.hook.erase_personal_data,
            store=store,
            person=person,
            dry_run=dry_run,
            config=self.config,
        )
        counts: dict[str, int] = {}
        for result in results:
            for kind, n in result.items():
                counts[kind] = counts.get(kind, 0) + int(n)
        return counts, failures

    def input_format(self, name: str) -> InputFormat:
        """One input format by name; an unknown name lists the known ones."""
        formats = self.input_formats()
        if name not in formats:
            known = ", ".join(formats) or "none (is the importing plugin installed?)"
            raise UnknownSchemeError(f"unknown input format {name!r}; available: {known}")
        return formats[name]

    def input_format_for_path(self, path: str | Path) -> InputFormat | None:
        """The input format whose suffixes include the file name's ending (case does not
        matter; the first registered wins a shared ending); None when none claims it."""
        suffix = Path(path).suffix.lower()
        for fmt in self.input_formats().values():
            if suffix and suffix in (s.lower() for s in fmt.suffixes):
                return fmt
        return None

    def calendars(self) -> dict[str, BusinessCalendar]:
        """Every registered business calendar by name."""
        return self._cached(
            "calendars",
            lambda: self._collect(
                "register_business_calendars",
                "business calendar",
                lambda c: [c.name],
                config=self.config,
            ),
        )

    def calendar(self, name: str) -> BusinessCalendar:
        """One business calendar by name; an unknown name lists the known ones."""
        calendars = self.calendars()
        if name not in calendars:
            known = ", ".join(sorted(calendars)) or "none (is the calendars plugin installed?)"
            raise UnknownSchemeError(f"unknown calendar {name!r}; known: {known}")
        return calendars[name]

    def default_calendar(self) -> BusinessCalendar:
        """The calendar named by ``[calendars] default``; without one, ``24x7``.

        When no plugin registers ``24x7`` (plugins disabled), an always-open calendar in the
        configured time zone stands in for it.
        """
        section = self.config.section("calendars")
        name = section.get("default")
        if name is not None:
            if not isinstance(name, str):
                raise ConfigError(
                    f'{self.config.where}: [calendars] default must be a calendar name such as "cn"'
                )
            return self.calendar(name)
        found = self.calendars().get("24x7")
        if found is not None:
            return found
        from .calendars import always_open

        return always_open(self.config.timezone)

    def converter(self, *, checking: bool = True) -> cattrs.Converter:
        """The cattrs converter (checking: for untrusted input), extended by plugins."""

        def build() -> cattrs.Converter:
            from .serialization import make_converter

            converter = make_converter(checking=checking)
            self.pm.hook.configure_converter(converter=converter)
            return converter

        return self._cached(f"converter:{checking}", build)

    def add_commands(self, cli: click.Group) -> None:
        """Let plugins add CLI commands; a clash or an error is reported, never fatal."""

        @contextmanager
        def each(plugin_name: str) -> Iterator[None]:
            before = dict(cli.commands)
            try:
                yield
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the CLI
                cli.commands.clear()
                cli.commands.update(before)
                failure = PluginFailure(plugin_name, "register_commands", describe(exc))
                self.failures.append(failure)
                return
            for name, command in list(cli.commands.items()):
                if name in before and before[name] is not command:
                    cli.commands[name] = before[name]
                    owner = self._command_owners.get(name, "complaintkit")
                    clash = DuplicateNameError("command", name, owner, plugin_name)
                    self.failures.append(
                        PluginFailure(plugin_name, "register_commands", str(clash))
                    )
                elif name not in before:
                    self._command_owners[name] = plugin_name

        with isolating(each):
            self.pm.hook.register_commands(cli=cli)

    def command_owner(self, name: str) -> str | None:
        """Which plugin added the CLI command ``name`` (after :meth:`add_commands`)."""
        return self._command_owners.get(name)

    # --- policy hooks -------------------------------------------------------------------

    def first_result(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a first-result policy hook: the first implementation returning non-None wins.

        A policy decides what happens to a complaint, so an implementation that raises is not
        skipped: the error reaches the caller.
        """
        return getattr(self.pm.hook, hook_name)(**kwargs)

    # --- lifecycle fan-out --------------------------------------------------------------

    def fire(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of a lifecycle hook, isolating failures.

        pluggy stops at the first implementation that raises; here each one runs, and an error
        is logged with the plugin's name and kept in :attr:`hook_errors`.
        """
        self.collect(hook_name, **kwargs)

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of a lifecycle or task hook and return their results (None
        left out); one that raises is logged with its plugin's name, kept in
        :attr:`hook_errors`, and does not stop the others."""
        runner = self._runners.get(hook_name)
        if runner is None:
            runner = self._runners[hook_name] = self._isolated(hook_name)
        results: list[Any] = call_running(runner, getattr(self.pm.hook, hook_name), **kwargs)
        return results

    def _isolated(self, hook_name: str, *, also: list[PluginFailure] | None = None) -> Runner:
        """How :meth:`collect` runs each implementation of ``hook_name`` (built once a hook:
        lifecycle hooks are called once a complaint, thousands of times in an import): a
        failure is logged and kept in :attr:`hook_errors` (and in ``also``, when given)."""

        def run(
            plugin_name: str,
            function: Callable[..., Any],
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
        ) -> Any:
            try:
                return function(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - kept and logged; the others still run
                failure = PluginFailure(plugin_name, hook_name, describe(exc))
                self.hook_errors.append(failure)
                if also is not None:
                    also.append(failure)
                log.warning("%s", failure)
                return None

        return run

    # --- tracing ------------------------------------------------------------------------

    def trace_hooks(self, out: TextIO) -> Callable[[], None]:
        """Print every hook call to ``out``: its arguments, who answered and the result.

        ``COMPLAINTKIT_TRACE_PLUGINS=1`` turns it on for the CLI. Returns the function that
        turns it off again.
        """

        return monitor(self.pm, out)


def make_host(
    config: Config | None = None,
    *,
    load_entrypoints: bool = True,
    plugins_dirs: Iterable[str | Path] = (),
    plugins: Iterable[object] = (),
    env: Mapping[str, str] | None = None,
) -> PluginHost:
    """Build a host: installed plugins (unless disabled), local plugin folders, then ``plugins``."""
    environ = os.environ if env is None else env
    trace = sys.stderr if environ.get("COMPLAINTKIT_TRACE_PLUGINS", "") not in ("", "0") else None
    host = PluginHost(config, trace=trace)
    if load_entrypoints:
        host.load_entrypoints(env)
    for directory in plugins_dirs:
        host.load_plugins_dir(directory)
    for plugin in plugins:
        host.register(plugin)
    return host
