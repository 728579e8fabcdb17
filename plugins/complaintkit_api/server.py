"""Building and running the server: the application with its middleware, uvicorn, and the
OpenAPI description as published in docs/openapi.json."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .service import ApiSettings, Service

if TYPE_CHECKING:
    from complaintkit.host import PluginHost

__all__ = ["build", "openapi_document", "openapi_text", "serve"]


def build(host: PluginHost, url: str, *, lang: str = "en") -> tuple[Any, Service]:
    """The ASGI application over the store at ``url`` (with the ``[api]`` limits of the
    host's configuration), and the service to close when it stops."""
    from complaintkit import structure_section
    from complaintkit.attachments import AttachmentSettings

    from .app import Guard, create_app

    config = host.config
    settings = structure_section(config, "api", ApiSettings)
    service = Service(host, url, lang=lang, settings=settings)
    app = create_app(service)
    files = AttachmentSettings.from_config(config)
    return Guard(app, settings.max_body, files.max_size), service


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description. It depends on no store and no installed plugin (report
    and scheme names are parameters, not enumerations), so the published copy is the same
    everywhere."""
    from complaintkit import make_host

    from .app import create_app

    service = Service(make_host(load_entrypoints=False), "", settings=ApiSettings())
    document: dict[str, Any] = create_app(service).openapi()
    return document


def openapi_text() -> str:
    """:func:`openapi_document` as the text of docs/openapi.json."""
    return json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def serve(
    host: PluginHost, url: str, *, host_name: str = "127.0.0.1", port: int = 8000, lang: str = "en"
) -> None:
    """Serve until interrupted (uvicorn, one process; its worker threads share the work)."""
    import uvicorn

    app, service = build(host, url, lang=lang)
    try:
        uvicorn.run(app, host=host_name, port=port, log_level="info")
    finally:
        service.close()
