"""`ally serve`: run the HTTP API and web chat page under uvicorn.

Refuses to listen on a non-loopback address unless API keys are configured (ALLY_API_KEYS). The
store is opened (and its errors reported with their exit code) before uvicorn starts, so `/readyz`
only waits for the model. Heavy imports (FastAPI, uvicorn, the assistant core) happen inside the
command.

`--workers N` (N > 1) runs N uvicorn worker processes on one socket (uvicorn's own supervisor:
it restarts a worker that dies and stops when one cannot start). Each worker calls
`assistant.api.app:app_from_environment`, so it opens the store, watches it and swaps in new
generations on its own; the settings reach it through ALLY_* variables. Here the manifest is only
checked (a missing or mismatched store still fails at once with its exit code). Several workers
need one database server for conversations and feedback (ALLY_DATABASE_URL): with the SQLite file
in the store, worker processes wait on each other's file locks for every answer written, and the
turns of one conversation arriving at two workers can be stored out of order, so that is refused.
Each worker's query encoder gets cores / N threads (ALLY_ENCODER_THREADS, unless set): measured on
the 2-core machine, one query's encoding cost 8.7 ms of CPU with one thread against 16.2 ms with
onnxruntime's default of one spinning thread per core. Served answers run side by side, so the
encoder's idle threads do not spin (ALLY_ENCODER_SPINNING=0 unless set): with one worker, 16 wrk
clients on the 5,000-chunk store gave 38-48 answers/s spinning and 61 without (server CPU per answer
38-43 ms → 26 ms); a single in-process answer is faster spinning (`benchmarks/README.md`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ally.errors import SettingsError
from assistant.cli.common import StoreOption, run_guarded, settings_for
from assistant.cli.forward import announced

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ally.settings import Settings

WORKER_APP = "assistant.api.app:app_from_environment"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def check_workers(settings: Settings, workers: int) -> None:
    """SettingsError when `workers` processes cannot share this configuration's database."""
    if workers > 1 and settings.resolved_database_url().startswith("sqlite"):
        raise SettingsError(
            f"--workers {workers} needs one database server for conversations and feedback, shared by the "
            "workers: with SQLite every answer written waits on the other workers' file locks and one "
            "conversation's turns can be stored out of order. Set ALLY_DATABASE_URL (e.g. "
            "postgresql+psycopg://user@host/ally) or use --workers 1."
        )


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus ALLy's format, with the worker's process id, on the root
    logger (applied in each worker)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["ally"] = {"format": LOG_FORMAT.replace("%(name)s", "[%(process)d] %(name)s")}
    config["handlers"]["ally"] = {"class": "logging.StreamHandler", "formatter": "ally", "stream": "ext://sys.stderr"}
    config["root"] = {"handlers": ["ally"], "level": level.upper()}
    return config


def served(settings: Settings) -> Settings:
    """The settings as served: answers run side by side, so the encoder's idle threads do not spin
    unless ALLY_ENCODER_SPINNING says they should (module docstring)."""
    if "ALLY_ENCODER_SPINNING" in os.environ:
        return settings
    return settings.model_copy(update={"encoder_spinning": False})


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    store: StoreOption = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes; each opens the store and picks up new generations on its own. "
            "More than 1 needs ALLY_DATABASE_URL (a database server).",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API and the web chat page (http://127.0.0.1:8000 by default)."""
    import logging

    from ally.runtime import enforce_offline

    enforce_offline()

    def checked() -> Settings:
        from assistant.api.security import is_loopback_host

        settings = served(settings_for(store))
        if not is_loopback_host(host) and not settings.api_key_list:
            raise SettingsError(
                f"refusing to listen on {host} without API keys: anyone on the network could use "
                "the server. Set ALLY_API_KEYS (comma-separated) or use --host 127.0.0.1."
            )
        check_workers(settings, workers)
        return settings

    def build() -> FastAPI:
        from assistant.api.app import create_app

        return create_app(checked())

    def check_store() -> Settings:
        from ingest.store.manifest import Manifest

        settings = checked()
        Manifest.read(settings.store).check(settings)  # the workers open it; fail here first
        return settings

    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    if workers == 1:
        app = run_guarded(build)
        level = getattr(logging, log_level.upper(), logging.INFO)
        logging.basicConfig(level=level, format=LOG_FORMAT)
        typer.echo(f"ALLy: serving the API and web page at http://{shown}:{port} (API description: /docs)", err=True)
        with announced(app.state.settings, host, port):  # `ally ask` forwards single questions here
            uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level.lower())
        return
    settings = run_guarded(check_store)
    os.environ["ALLY_STORE"] = str(settings.store.resolve())  # what the workers' settings read
    if not settings.encoder_threads:  # one model per worker: share the cores instead of competing for all
        os.environ["ALLY_ENCODER_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    os.environ["ALLY_ENCODER_SPINNING"] = "1" if settings.encoder_spinning else "0"  # as `served` decided
    typer.echo(
        f"ALLy: serving the API and web page at http://{shown}:{port} with {workers} workers (API description: /docs)",
        err=True,
    )
    with announced(settings, host, port):
        _run_workers(workers, host, port, log_level)


def _run_workers(workers: int, host: str, port: int, log_level: str) -> None:
    import uvicorn

    uvicorn.run(
        WORKER_APP,
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
        log_level=log_level.lower(),
        log_config=_log_config(log_level),
    )
