"""`ally serve`: run the HTTP API and web chat page under uvicorn.

Refuses to listen on a non-loopback address unless API keys are configured (ALLY_API_KEYS).
Heavy imports (FastAPI, uvicorn, the assistant core) happen inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ally.errors import AllyError


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Store folder (default: $ALLY_STORE or ./.store).", show_default=False),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the HTTP API and the web chat page (http://127.0.0.1:8000 by default)."""
    import logging

    from ally.runtime import enforce_offline
    from ally.settings import load_settings
    from assistant.api.security import is_loopback_host

    enforce_offline()
    try:
        settings = load_settings(store=store)
        if not is_loopback_host(host) and not settings.api_key_list:
            typer.echo(
                f"error: refusing to listen on {host} without API keys: anyone on the network could use "
                "the server. Set ALLY_API_KEYS (comma-separated) or use --host 127.0.0.1.",
                err=True,
            )
            raise typer.Exit(2)
        import uvicorn

        from assistant.api.app import create_app

        app = create_app(settings)
    except AllyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None

    level = getattr(logging, log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"ALLy: serving the API and web page at http://{shown}:{port} (API description: /docs)", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level.lower())
