"""``complaintkit serve`` and ``complaintkit token``. Only click is imported here: the web
framework is imported when the server starts (``complaintkit --help`` stays light)."""

from __future__ import annotations

import click

from complaintkit.commands import CommandContext, output_option

from .roles import ROLES

__all__ = ["serve_command", "token_group"]


@click.command("serve")
@click.option(
    "--host", "bind", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--openapi",
    "print_openapi",
    is_flag=True,
    help="Print the OpenAPI 3.1 description (JSON) and exit, without serving.",
)
@click.pass_obj
def serve_command(app: CommandContext, bind: str, port: int, print_openapi: bool) -> None:
    """Serve the HTTP API over the configured store (docs/api.md): intake, complaints,
    handling, reports. Every request needs a token (`complaintkit token create`)."""
    try:
        from .server import openapi_text, serve
    except ImportError as exc:
        raise click.ClickException(
            f"the HTTP API needs its extra ({exc.name} is not installed): "
            "pip install 'complaintkit[api]'"
        ) from None
    if print_openapi:
        click.echo(openapi_text(), nl=False)
        return
    store = app.store  # refuses a store that does not exist, with the init command
    serve(app.host, store.url, host_name=bind, port=port, lang=app.lang)


@click.group("token")
def token_group() -> None:
    """API tokens: create (the secret is shown once), list, revoke."""


@token_group.command("create")
@click.option("--name", required=True, help="Who uses it; recorded as the actor of changes.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What it may do.")
@click.pass_obj
def create_command(app: CommandContext, name: str, role: str) -> None:
    """Create a token and print its secret once (only a hash is stored)."""
    from complaintkit.plugindata import plugin_data_of

    from .tokens import TokenBook

    token, secret = TokenBook(plugin_data_of(app.store)).create(name, role)
    click.echo(secret)
    click.echo(
        f"token {token.name!r} ({token.role}) created; the secret above is shown only now",
        err=True,
    )


@token_group.command("list")
@output_option("table", "json")
@click.pass_obj
def list_command(app: CommandContext, fmt: str) -> None:
    """The tokens: name, role, when created, and the start of the hash (never the secret)."""
    import sys

    from complaintkit.display import write_records
    from complaintkit.plugindata import plugin_data_of

    from .tokens import TokenBook

    tokens = [t.record() for t in TokenBook(plugin_data_of(app.store)).list()]
    columns = [
        ("name", "name"),
        ("role", "role"),
        ("created_at", "created"),
        ("hash_prefix", "hash"),
    ]
    write_records(sys.stdout, fmt, columns, tokens)


@token_group.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke_command(app: CommandContext, name: str) -> None:
    """Revoke a token: requests carrying it are refused from now on, by every API process."""
    from complaintkit.plugindata import plugin_data_of

    from .tokens import TokenBook

    token = TokenBook(plugin_data_of(app.store)).revoke(name)
    click.echo(f"token {token.name!r} ({token.role}) revoked")
