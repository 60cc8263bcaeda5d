"""The API's AssistantRunner: blocking core calls run off the event loop on `answer_threads` threads."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ally.settings import Settings
from assistant.api.app import create_app
from assistant.api.deps import AssistantRunner
from tests.fakes import FakeAssistant


def _meet(barrier: threading.Barrier) -> str:
    barrier.wait()  # returns only when every party is inside at the same time
    return threading.current_thread().name


async def _gather(runner: AssistantRunner, calls: int, barrier: threading.Barrier) -> list[str]:
    return list(await asyncio.gather(*(runner(_meet, barrier) for _ in range(calls))))


class TestAssistantRunner:
    def test_calls_run_in_parallel_up_to_the_thread_count(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        runner = AssistantRunner(FakeAssistant(settings=Settings(store=tmp_path)), threads=3)
        try:
            names = asyncio.run(_gather(runner, 3, threading.Barrier(3, timeout=10)))
        finally:
            runner.shutdown()
        assert len(set(names)) == 3 and all(n.startswith("ally-assistant") for n in names)

    def test_one_thread_runs_calls_one_at_a_time(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        runner = AssistantRunner(FakeAssistant(settings=Settings(store=tmp_path)), threads=1)
        try:
            with pytest.raises(threading.BrokenBarrierError):
                asyncio.run(_gather(runner, 2, threading.Barrier(2, timeout=0.5)))
        finally:
            runner.shutdown()

    @pytest.mark.parametrize("threads", [1, 8, 32])
    def test_the_app_sizes_the_pool_from_settings(self, tmp_path, threads: int) -> None:  # type: ignore[no-untyped-def]
        settings = Settings(store=tmp_path, answer_threads=threads)
        app = create_app(settings, FakeAssistant(settings=settings))
        assert app.state.runner.threads == threads

    def test_answer_threads_must_be_positive(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="answer_threads"):
            Settings(store=tmp_path, answer_threads=0)
