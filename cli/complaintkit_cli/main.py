"""The ``complaintkit`` command: a click group whose commands load lazily.

Only click is imported at start-up. Built-in commands live in sibling modules imported when
used; plugin commands are fetched from the plugin host when the command line names one or lists
them, so ``--help`` and ``plugins`` keep working when a plugin is broken.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from complaintkit import CommandContext, Config, Desk, PluginHost, Store

__all__ = ["App", "cli", "main"]

BUILTIN: dict[str, str] = {
    "init": "complaintkit_cli.cmd_records:init_command",
    "add": "complaintkit_cli.cmd_records:add_command",
    "list": "complaintkit_cli.cmd_records:list_command",
    "show": "complaintkit_cli.cmd_records:show_command",
    "classify": "complaintkit_cli.cmd_handling:classify_command",
    "label": "complaintkit_cli.cmd_handling:label_command",
    "transition": "complaintkit_cli.cmd_handling:transition_command",
    "assign": "complaintkit_cli.cmd_handling:assign_command",
    "escalate": "complaintkit_cli.cmd_handling:escalate_command",
    "edit": "complaintkit_cli.cmd_casework:edit_command",
    "note": "complaintkit_cli.cmd_casework:note_command",
    "merge": "complaintkit_cli.cmd_casework:merge_command",
    "attach": "complaintkit_cli.cmd_casework:attach_command",
    "attachments": "complaintkit_cli.cmd_casework:attachments_command",
    "attachment": "complaintkit_cli.cmd_casework:attachment_group",
    "detach": "complaintkit_cli.cmd_casework:detach_command",
    "sweep": "complaintkit_cli.cmd_process:sweep_command",
    "clocks": "complaintkit_cli.cmd_process:clocks_command",
    "recompute": "complaintkit_cli.cmd_process:recompute_command",
    "route": "complaintkit_cli.cmd_process:route_command",
    "pause": "complaintkit_cli.cmd_process:pause_command",
    "resume": "complaintkit_cli.cmd_process:resume_command",
    "respond": "complaintkit_cli.cmd_process:respond_command",
    "remedy": "complaintkit_cli.cmd_process:remedy_command",
    "satisfaction": "complaintkit_cli.cmd_process:satisfaction_command",
    "report": "complaintkit_cli.cmd_info:report_command",
    "schemes": "complaintkit_cli.cmd_info:schemes_command",
    "plugins": "complaintkit_cli.cmd_info:plugins_command",
    "calendars": "complaintkit_cli.cmd_calendars:calendars_group",
}


class App:
    """Per-invocation state: options, then configuration, host, store and desk on first use."""

    def __init__(
        self,
        *,
        store: str | None,
        config_path: str | None,
        plugins_dirs: tuple[str, ...],
        lang: str | None,
        actor: str | None,
        create: bool = False,
    ) -> None:
        self.store_url = store
        #: Whether opening the store may create it (``--create``; ``init`` sets it).
        self.create = create
        self.config_path = config_path
        self.plugins_dirs = plugins_dirs
        self.lang_option = lang
        self.actor_option = actor
        self._config: Config | None = None
        self._host: PluginHost | None = None
        self._store: Store | None = None
        self._desk: Desk | None = None
        self.plugin_commands: click.Group | None = None
        self.failures_seen: list[Any] = []

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> App:
        """An App from the group's parsed options."""
        return cls(
            store=params.get("store"),
            config_path=params.get("config_path"),
            plugins_dirs=tuple(params.get("plugins_dirs") or ()),
            lang=params.get("lang"),
            actor=params.get("actor"),
            create=bool(params.get("create")),
        )

    @property
    def config(self) -> Config:
        """The configuration in force (options > environment > complaintkit.toml)."""
        if self._config is None:
            from complaintkit import load_config

            self._config = load_config(
                self.config_path, store=self.store_url, lang=self.lang_option
            )
        return self._config

    @property
    def lang(self) -> str:
        """The display language, en or zh."""
        return self.config.lang

    @property
    def host(self) -> PluginHost:
        """The plugin host; plugin failures are reported once, on standard error."""
        if self._host is None:
            from complaintkit import make_host

            self._host = make_host(self.config, plugins_dirs=self.plugins_dirs)
            self.report_failures()
        return self._host

    def report_failures(self) -> None:
        """Warn about plugins that failed to load (and keep going)."""
        host = self._host
        if host is None:
            return
        for failure in host.failures:
            say(f"warning: {failure}")
        self.failures_seen += host.failures
        host.failures.clear()

    @property
    def store(self) -> Store:
        """The store, opened on first use and closed when the command ends.

        A store that does not exist is refused, with the command that creates it, unless
        :attr:`create` is set (``--create``, ``init``).
        """
        if self._store is None:
            self._store = self.open_store(create=self.create)
            self.report_failures()
        return self._store

    def use_store(self, store: Store) -> None:
        """Make ``store`` the command's store (closed when the command ends)."""
        self.close()
        self._store = store

    def open_store(self, url: str | None = None, *, create: bool | None) -> Store:
        """Open ``url`` (default: the configured store); a missing one is created only with
        ``create``, refused with the ``init`` command line that would create it without, and
        opened as it is with ``create=None`` (see :meth:`PluginHost.open_store`)."""
        import shlex

        from complaintkit.errors import StoreNotFoundError

        try:
            return self.host.open_store(url, create=create)
        except StoreNotFoundError as exc:
            init = shlex.join(["complaintkit", "--store", exc.url, "init"])
            raise StoreNotFoundError(
                exc.url,
                f"create it with: {init} (or add --create to this command); "
                "if it should exist, check the store URL",
            ) from None

    def progress(self, label: str, length: int | None) -> Any:
        """A progress line on standard error when it is a terminal, else a silent stand-in
        (:func:`complaintkit_cli.progress.progress`)."""
        from .progress import progress

        return progress(label, length)

    @property
    def desk(self) -> Desk:
        """A desk on the store acting for ``--actor`` (or the configured actor)."""
        if self._desk is None:
            from complaintkit import Desk

            self._desk = Desk(self.host, self.store, actor=self.actor_option or self.config.actor)
        return self._desk

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None


class ComplaintkitGroup(click.Group):
    """Resolves built-in commands lazily and plugin commands through the host."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in and plugin command names."""
        names = set(BUILTIN) | set(self.commands)
        plugins = self._plugin_commands(ctx)
        if plugins is not None:
            names |= set(plugins.commands)
        return sorted(names)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``: remembered from an earlier run while nothing
        installed has changed (see :mod:`complaintkit_cli.listing`), else made and kept."""
        from .listing import CommandListing, source_files

        listing = CommandListing.for_invocation(
            config_path=ctx.params.get("config_path"),
            plugins_dirs=tuple(ctx.params.get("plugins_dirs") or ()),
        )
        commands = listing.load() if listing is not None else None
        if commands is None:
            commands = []
            for name in self.list_commands(ctx):
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    commands.append((name, command))
            app = ctx.find_object(App)
            host = app._host if app is not None else None
            clean = app is not None and not app.failures_seen
            if listing is not None and host is not None and clean:
                plugins = host.pm.get_plugins()
                listing.save(commands, source_files((c for _, c in commands), plugins))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in command (imported now) or a plugin's command."""
        if cmd_name in BUILTIN:
            module_name, _, attr = BUILTIN[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        plugins = self._plugin_commands(ctx)
        return plugins.commands.get(cmd_name) if plugins is not None else None

    def _plugin_commands(self, ctx: click.Context) -> click.Group | None:
        # click resolves the subcommand before running the group callback, so the App may
        # not exist yet: build it from the parsed group options.
        app = ctx.find_object(App)
        if app is None:
            # Possibly before all options are parsed (`complaintkit --help` stops at --help):
            # whatever the environment and complaintkit.toml say then.
            app = ctx.obj = App.from_params(ctx.params)
        if app.plugin_commands is None:
            # A scratch group per invocation: plugin commands never leak between invocations,
            # and placeholders for built-in names let the host refuse a clash.
            scratch = click.Group("complaintkit")
            scratch.commands = {name: click.Command(name) for name in BUILTIN}
            try:
                app.host.add_commands(scratch)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break --help
                say(f"warning: plugin commands unavailable: {exc}")
            app.report_failures()
            for name in BUILTIN:
                scratch.commands.pop(name, None)
            app.plugin_commands = scratch
        return app.plugin_commands

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; complaintkit errors become a clean message and an exit code."""
        import sys
        import warnings

        from complaintkit.errors import ComplaintkitError

        warnings.showwarning = _show_warning
        try:
            result = super().invoke(ctx)
            # Output still buffered fails here, inside click (a clean message), not at exit.
            sys.stdout.flush()
            return result
        except ComplaintkitError as exc:
            say(f"Error: {exc}")
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            # click prints these itself (usage and hint included); the message may quote a
            # value from the store. click types the attribute Final but reads it when showing.
            exc.message = inert(exc.message)  # type: ignore[misc]
            raise
        finally:
            app = ctx.find_object(App)
            if app is not None:
                app.close()
            for text in _PENDING_WARNINGS:
                say(text)
            _PENDING_WARNINGS.clear()


def inert(text: str) -> str:
    """An error or a warning as it may be printed: values quoted in it (a complaint
    reference, a line of an imported file, a URL) lose any control sequence, and every URL
    its password and tokens."""
    from complaintkit.display import terminal_safe
    from complaintkit.redact import redact_urls

    return terminal_safe(redact_urls(text))


def say(text: str) -> None:
    """Print an error or a warning on standard error, made :func:`inert`."""
    click.echo(inert(text), err=True)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Warnings read as messages for people, after the command's own output and progress bar."""
    text = f"warning: {message}"
    if text not in _PENDING_WARNINGS:
        _PENDING_WARNINGS.append(text)


_PENDING_WARNINGS: list[str] = []


@click.group(cls=ComplaintkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    envvar="COMPLAINTKIT_STORE",
    metavar="URL",
    help="Store URL: tinydb://complaints.json (relative), tinydb:///abs/path.json, "
    "sqlite://c.db, postgresql://user@host/db (default: from complaintkit.toml).",
    is_eager=True,
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="COMPLAINTKIT_CONFIG",
    help="Configuration file (default: ./complaintkit.toml if present).",
    is_eager=True,
)
@click.option(
    "--plugins-dir",
    "plugins_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Load every .py file in this folder as a plugin (repeatable).",
    # eager, like --store, --config and --lang: `--help` lists the plugins' commands too
    is_eager=True,
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    envvar="COMPLAINTKIT_LANG",
    help="Language for labels and reports: en or zh (中文).",
    is_eager=True,
)
@click.option("--actor", envvar="COMPLAINTKIT_ACTOR", help="Who is acting, for the history.")
@click.option(
    "--create",
    is_flag=True,
    help="Create the store if it does not exist yet (as `init` does); without it every "
    "command but init refuses a store that does not exist.",
)
@click.version_option(package_name="complaintkit")
@click.pass_context
def cli(
    ctx: click.Context,
    store: str | None,
    config_path: str | None,
    plugins_dirs: tuple[str, ...],
    lang: str | None,
    actor: str | None,
    create: bool,
) -> None:
    """complaintkit — customer-complaint management (客户投诉管理).

    Import, classify, handle and report on complaints in a store of your choice.
    Start with `complaintkit init`, then `complaintkit import FILE` and
    `complaintkit report summary`. Store URLs: tinydb:///abs/path.json, tinydb://rel.json,
    sqlite:///abs/path.db, sqlite://rel.db, postgresql://user@host/db (docs/storage.md).
    """
    # get_command may already have built the App from these same options (see
    # ComplaintkitGroup._plugin_commands); otherwise build it now.
    if not isinstance(ctx.obj, App):
        ctx.obj = App.from_params(ctx.params)


def main() -> None:
    """Console-script entry point."""
    from .output import guard_stdout

    guard_stdout()
    cli(prog_name="complaintkit")


if __name__ == "__main__":  # pragma: no cover
    main()


if TYPE_CHECKING:

    def _app_is_a_command_context(app: App) -> CommandContext:
        return app  # mypy checks that App offers what plugin commands are promised
