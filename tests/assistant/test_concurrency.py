"""Concurrent answering: the query-embedding batcher, per-conversation locks, and the real
Assistant answering from many threads exactly as it answers from one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.concurrency import BatchingEncoder, KeyedLocks
from assistant.service import Assistant
from assistant.storage import TurnRow


class SlowEncoder:
    """A fake model: each call takes `delay` seconds; a text's vector encodes its length."""

    name = "slow"
    dim = 4

    def __init__(self, delay: float = 0.05, fail_on: str | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in texts:
            raise RuntimeError("model failed")
        return np.array([[len(t), i, 0, 1] for i, t in enumerate(texts)], dtype=np.float32)


def _concurrently(fn: Callable[[Any], Any], args: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(args))

    def run(a: Any) -> Any:
        barrier.wait()
        return fn(a)

    with ThreadPoolExecutor(len(args)) as pool:
        return list(pool.map(run, args))


class TestBatchingEncoder:
    def test_a_lone_call_goes_straight_through(self) -> None:
        inner = SlowEncoder(delay=0)
        enc = BatchingEncoder(inner, max_batch=8)
        out = enc.encode(["abc", "de"])
        assert out[:, 0].tolist() == [3, 2]
        assert inner.calls == [["abc", "de"]]
        assert enc.stats.calls == 1 and enc.stats.texts == 2

    def test_concurrent_calls_share_model_calls_and_get_their_own_rows(self) -> None:
        inner = SlowEncoder(delay=0.05)
        enc = BatchingEncoder(inner, max_batch=32)
        texts = ["x" * n for n in range(1, 17)]
        results = _concurrently(lambda t: enc.encode([t]), texts)
        for text, vec in zip(texts, results, strict=True):
            assert vec.shape == (1, 4) and vec[0, 0] == len(text)
        assert len(inner.calls) < len(texts)  # batched: 16 callers, fewer model calls
        assert sum(len(c) for c in inner.calls) == len(texts)  # every text encoded exactly once
        assert enc.stats.largest > 1

    @pytest.mark.parametrize("max_batch", [1, 3, 5])
    def test_no_model_call_exceeds_max_batch(self, max_batch: int) -> None:
        inner = SlowEncoder(delay=0.02)
        enc = BatchingEncoder(inner, max_batch=max_batch)
        _concurrently(lambda t: enc.encode([t]), [f"q{i}" for i in range(12)])
        assert all(len(c) <= max_batch for c in inner.calls)
        assert sorted(t for c in inner.calls for t in c) == sorted(f"q{i}" for i in range(12))

    def test_a_text_asked_again_is_not_encoded_again_and_the_cache_is_bounded(self) -> None:
        inner = SlowEncoder(delay=0)
        enc = BatchingEncoder(inner, max_batch=8, cache_size=2)
        first = enc.encode(["abc", "de"])
        again = enc.encode(["de", "abc", "de"])  # all known: no model call, rows in the order asked
        assert inner.calls == [["abc", "de"]] and enc.cache_hits == 3
        assert again[:, 0].tolist() == [2, 3, 2] and np.array_equal(again[1], first[0])
        again[0, 0] = 99  # the caller's copy: the kept vector does not change
        assert enc.encode(["de"])[0, 0] == 2
        assert all(v.base is None for v in enc._cache.values())  # rows copied: no batch array kept alive
        enc.encode(["f"])  # a third text: the least recently used ("abc") is dropped
        enc.encode(["abc"])
        assert inner.calls[-1] == ["abc"]

    def test_without_a_cache_every_call_reaches_the_model(self) -> None:
        inner = SlowEncoder(delay=0)
        enc = BatchingEncoder(inner, max_batch=8)
        enc.encode(["abc"])
        enc.encode(["abc"])
        assert inner.calls == [["abc"], ["abc"]] and enc.cache_hits == 0

    def test_a_call_larger_than_max_batch_still_runs(self) -> None:
        inner = SlowEncoder(delay=0)
        enc = BatchingEncoder(inner, max_batch=2)
        assert enc.encode(["a", "bb", "ccc"]).shape == (3, 4)

    def test_a_model_error_reaches_the_callers_of_that_batch_only(self) -> None:
        inner = SlowEncoder(delay=0.05, fail_on="bad")
        enc = BatchingEncoder(inner, max_batch=32)

        def call(t: str) -> str:
            try:
                enc.encode([t])
                return "ok"
            except RuntimeError as exc:
                return str(exc)

        outcomes = _concurrently(call, ["bad", *[f"good{i}" for i in range(7)]])
        assert outcomes[0] == "model failed"
        batch_of_bad = next(c for c in inner.calls if "bad" in c)
        for text, outcome in zip(["bad", *[f"good{i}" for i in range(7)]], outcomes, strict=True):
            assert (outcome == "model failed") == (text in batch_of_bad)
        assert enc.encode(["after"]).shape == (1, 4)  # the batcher is usable afterwards

    def test_empty_input(self) -> None:
        enc = BatchingEncoder(SlowEncoder(delay=0))
        assert enc.encode([]).shape == (0, 4)

    def test_max_batch_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_batch"):
            BatchingEncoder(SlowEncoder(), max_batch=0)


class TestKeyedLocks:
    def test_same_key_same_lock_other_key_other_lock(self) -> None:
        locks = KeyedLocks()
        assert locks.get("a") is locks.get("a")
        assert locks.get("a") is not locks.get("b")

    def test_bounded_but_never_drops_a_held_lock(self) -> None:
        locks = KeyedLocks(max_items=2)
        held = locks.get("a")
        with held:
            locks.get("b")
            locks.get("c")
            assert locks.get("a") is held


class TestConcurrentAssistant:
    QUESTIONS: ClassVar[list[str]] = [
        "What is the dose of blinatumomab?",
        "Which tyrosine kinase inhibitors are used in Ph-positive ALL?",
        "What is the role of MRD after induction?",
        "What does tisagenlecleucel treat?",
        "How is CNS prophylaxis given?",
        "What is inotuzumab ozogamicin approved for?",
        "What is the treatment of relapsed T-cell ALL?",
        "What is the dose of Kymriah?",
    ]

    def test_parallel_answers_equal_sequential_ones(self, assistant: Assistant) -> None:
        sequential = {q: assistant.ask(q) for q in self.QUESTIONS}
        before = assistant.encoder.stats.calls if assistant.encoder is not None else 0
        parallel = _concurrently(assistant.ask, self.QUESTIONS * 3)
        for q, answer in zip(self.QUESTIONS * 3, parallel, strict=True):
            expected = sequential[q]
            assert answer.answer == expected.answer
            assert [c.chunk_id for c in answer.citations] == [c.chunk_id for c in expected.citations]
            assert answer.abstained == expected.abstained
        assert len({a.answer_id for a in parallel}) == len(parallel)
        if assistant.encoder is not None:  # 24 concurrent questions, fewer model calls
            assert assistant.encoder.stats.calls - before < len(parallel)

    def test_a_follow_up_waits_for_the_turn_before_it(
        self, assistant: Assistant, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        conversation = f"order-{time.time_ns()}"
        real_retrieve = assistant.retriever.retrieve
        first_started, release = threading.Event(), threading.Event()

        def held_first(query: str, k: int | None = None, vector=None):  # type: ignore[no-untyped-def]
            if "blinatumomab" in query and not first_started.is_set():
                first_started.set()
                release.wait(10)  # the first turn is held until the test lets it go
            return real_retrieve(query, k, vector)

        monkeypatch.setattr(assistant.retriever, "retrieve", held_first)
        first = threading.Thread(
            target=assistant.ask, args=("What is the dose of blinatumomab?",), kwargs={"conversation_id": conversation}
        )
        first.start()
        assert first_started.wait(5)
        other = assistant.ask("What is the dose of imatinib?")  # another conversation is not held up
        assert other.answer and first.is_alive()
        follow_up = threading.Thread(
            target=assistant.ask, args=("And in children?",), kwargs={"conversation_id": conversation}
        )
        follow_up.start()
        time.sleep(0.2)  # time enough for an unguarded follow-up to overtake the held turn
        release.set()
        first.join(10)
        follow_up.join(10)
        turns, _ = assistant.db.history(conversation)
        assert [t.question for t in turns] == ["What is the dose of blinatumomab?", "And in children?"]
        assert "blinatumomab" in turns[1].resolved.lower()  # resolved against the first turn

    def test_turns_of_one_conversation_stay_in_order(self, assistant: Assistant) -> None:
        conversation = f"conc-{time.time_ns()}"
        questions = [f"What is the dose of blinatumomab? ({i})" for i in range(6)]
        # fired together from 6 threads: each turn is recorded whole, one position each
        _concurrently(lambda q: assistant.ask(q, conversation_id=conversation), questions)
        turns, _ = assistant.db.history(conversation)
        assert sorted(t.question for t in turns) == sorted(questions)
        with Session(assistant.db.engine) as s:
            positions = s.scalars(select(TurnRow.position).where(TurnRow.conversation_id == conversation)).all()
        assert sorted(positions) == list(range(len(questions)))


class TestUnitCache:
    def test_bounded_and_consistent_under_threads(self, assistant: Assistant) -> None:
        from assistant.answer.evidence import UnitCache

        chunks = list(assistant.reader.chunks_by_id.values())
        cache = UnitCache(assistant.vocab, max_passages=16)
        expected = {c.chunk_id: [u.text for u in UnitCache(assistant.vocab).units(c)] for c in chunks}

        def fill(offset: int) -> None:
            for c in chunks[offset:] + chunks[:offset]:
                assert [u.text for u in cache.units(c)] == expected[c.chunk_id]

        _concurrently(fill, [0, 20, 40, 60])
        assert len(chunks) > 16 and len(cache) <= 16
