"""What routes receive through `Depends`: the settings, the assistant runner, checked questions.

Questions are checked by `assistant.inputs.validate_question` (the core's own check), so a bad one
is refused with 422 naming the field before it is queued.

Every call into the assistant goes through one `AssistantRunner`: a pool of `answer_threads` worker
threads that run the core's blocking calls off the event loop. The core is thread-safe: answers run
in parallel (the turns of one conversation in order), their query embeddings are batched together
(`assistant.concurrency`), and a question that arrives while the model is still warming waits for
the load instead of loading it twice.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Request

from ally.errors import InputError
from ally.schema import AskRequest, Patient, parse_patient
from ally.settings import Settings
from assistant.core import AssistantCore
from assistant.inputs import validate_question

P = ParamSpec("P")
T = TypeVar("T")


class AssistantRunner:
    """Runs the assistant's blocking calls on a pool of worker threads, off the event loop."""

    def __init__(self, assistant: AssistantCore, threads: int = 1) -> None:
        self.assistant = assistant
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self.warm_future: Future[None] | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="ally-assistant")
        return self._pool

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), functools.partial(fn, *args, **kwargs))

    def start_warm(self) -> Future[None]:
        """Load the model in the background (`/readyz` says 503 until it is loaded)."""
        self.warm_future = self._executor().submit(self.assistant.warm)
        return self.warm_future

    def warm_error(self) -> BaseException | None:
        future = self.warm_future
        if future is None or not future.done() or future.cancelled():
            return None
        return future.exception()

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def get_runner(request: Request) -> AssistantRunner:
    runner: AssistantRunner = request.app.state.runner
    return runner


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RunnerDep = Annotated[AssistantRunner, Depends(get_runner)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def checked_patient(data: dict[str, Any] | None) -> Patient | None:
    """Validate a patient record; the error names the field as `patient.<name>`."""
    if data is None:
        return None
    try:
        return parse_patient(data)
    except InputError as exc:
        field = exc.field if exc.field and exc.field.startswith("patient") else f"patient.{exc.field}"
        raise InputError(f"{exc}; correct it and resend", field=field) from exc


def checked_ask(body: AskRequest, settings: SettingsDep) -> AskRequest:
    """An ask/chat body whose question and patient are acceptable (else InputError -> 422)."""
    validate_question(body.question, settings.max_question_chars)
    checked_patient(body.patient)
    return body


AskBody = Annotated[AskRequest, Depends(checked_ask)]
