"""`create_app`: the FastAPI application of ALLy (API routes, web page, guards, error mapping).

The application owns one `AssistantRunner` around the assistant. When no assistant is given, the
store is opened here (so a missing store fails `ally serve` at once, with the store's message);
the model is warmed in the background at startup and `/readyz` turns 200 when it is loaded. At
startup the core starts watching the store (`AssistantCore.watch`): a newly committed generation
is opened in the background and swapped in, and `/readyz` names the generation answering.
`app_from_environment` is the factory each `ally serve --workers N` worker process calls (uvicorn
imports it by name); each worker opens the store, watches it and swaps on its own.
Middleware, outermost first: access log, CORS (when origins are configured), security guards.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from ally.settings import Settings
from assistant.core import AssistantCore

from .access_log import AccessLogMiddleware
from .deps import AssistantRunner
from .errors import install_error_handlers
from .routes import ROUTERS
from .routes.web import STATIC_DIR, swagger_assets
from .security import SecurityMiddleware

logger = logging.getLogger("ally.api")

DESCRIPTION = (
    "Cited answers about acute lymphoblastic leukemia from the local corpus, the treatment-pathway "
    "checker, and the sources behind every citation. Decision support only: read the cited passages. "
    "When API keys are configured, send `Authorization: Bearer KEY`."
)


def _open_assistant(settings: Settings) -> AssistantCore:
    from assistant.service import Assistant

    opened: AssistantCore = Assistant.open(settings)
    return opened


def app_from_environment() -> FastAPI:
    """The app of one `ally serve --workers N` worker: settings from ALLY_* (set by `ally serve`)."""
    from ally.runtime import enforce_offline
    from ally.settings import load_settings

    enforce_offline()
    return create_app(load_settings())


def create_app(settings: Settings, assistant: AssistantCore | None = None) -> FastAPI:
    """Build the app. Opens the store when `assistant` is None (raising the store's error)."""
    owned = assistant is None
    core: AssistantCore = assistant if assistant is not None else _open_assistant(settings)
    runner = AssistantRunner(core, settings.answer_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        core.watch()
        if not core.ready:
            runner.start_warm()
        try:
            yield
        finally:
            bot = getattr(app.state, "slack_bot", None)
            if bot is not None:  # let queued Slack answers finish before the core closes
                bot.close()
            runner.shutdown()
            if owned:
                core.close()

    app = FastAPI(
        title="ALLy",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.runner = runner
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    swagger = swagger_assets()
    app.state.swagger_local = swagger is not None
    if swagger is not None:
        app.mount("/swagger-ui", StaticFiles(directory=swagger), name="swagger-ui")

    if settings.slack_signing_secret:
        from assistant.slack.http import mount_slack

        mount_slack(app, core, settings)

    app.add_middleware(SecurityMiddleware, settings=settings)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(AccessLogMiddleware)
    return app
