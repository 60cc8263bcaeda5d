"""`ally serve`: run the HTTP API and web chat page under uvicorn.

Refuses to listen on a non-loopback address unless API keys are configured (ALLY_API_KEYS). The
store is opened (and its errors reported with their exit code) before uvicorn starts, so `/readyz`
only waits for the model. Heavy imports (FastAPI, uvicorn, the assistant core) happen inside the
command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ally.errors import SettingsError
from assistant.cli.common import StoreOption, run_guarded, settings_for

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    store: StoreOption = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the HTTP API and the web chat page (http://127.0.0.1:8000 by default)."""
    import logging

    from ally.runtime import enforce_offline

    enforce_offline()

    def build() -> FastAPI:
        from assistant.api.security import is_loopback_host

        settings = settings_for(store)
        if not is_loopback_host(host) and not settings.api_key_list:
            raise SettingsError(
                f"refusing to listen on {host} without API keys: anyone on the network could use "
                "the server. Set ALLY_API_KEYS (comma-separated) or use --host 127.0.0.1."
            )
        from assistant.api.app import create_app

        return create_app(settings)

    app = run_guarded(build)
    import uvicorn

    level = getattr(logging, log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"ALLy: serving the API and web page at http://{shown}:{port} (API description: /docs)", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level.lower())
