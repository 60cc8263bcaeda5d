"""What lets several threads answer at once: concurrent calls batched into one (query embeddings,
answer-log writes), and one lock per conversation so a conversation's turns still run in order.

`Batcher` is the one leader/follower batching: a caller that finds the batched function idle
becomes the leader: it takes every call waiting (up to `max_batch` items), runs the function once
on all their items and hands each caller its results. Callers arriving while a batch runs wait and
go together in the next one. There is no timer: a lone call runs at once (no added latency when
the server is quiet), and under load the batches grow by themselves.

`BatchingEncoder` batches the query encoder with it: one model call for 16 short queries costs a
fraction of 16 calls, and the model runs outside the GIL, so the other answer threads keep
composing meanwhile; it keeps the vectors of recent questions in memory (never on disk), so one
asked again (a suggested question, a retry, the same question from another clinician) is not
encoded again. `assistant.storage` batches the answer log with it (group commit: one transaction
and one fsync for the answers of a batch, each caller returning once its row is committed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from cachetools import LRUCache

from ingest.embed import Encoder

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Job(Generic[T]):
    items: list[T]
    result: Any = None  # the function's results for these items (a slice of its return value)
    error: BaseException | None = None
    done: bool = False


@dataclass
class BatchStats:
    """Calls of the batched function, items passed through it and the largest batch."""

    calls: int = 0
    texts: int = 0  # items (texts, for the encoder)
    largest: int = 0


@dataclass
class Batcher(Generic[T, R]):
    """Concurrent calls of `run` (a function of a list of items returning one result per item, as a
    sliceable sequence or array) made as one call, leader/follower, at most `max_batch` items per
    call unless one caller alone brings more."""

    run: Callable[[list[T]], Sequence[R] | np.ndarray]
    max_batch: int = 32
    stats: BatchStats = field(default_factory=BatchStats)

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._cond = threading.Condition()
        self._queue: deque[_Job[T]] = deque()
        self._running = False

    def _take(self) -> list[_Job[T]]:
        """Jobs for the next call: the oldest first, at least one, at most `max_batch` items."""
        batch = [self._queue.popleft()]
        size = len(batch[0].items)
        while self._queue and size + len(self._queue[0].items) <= self.max_batch:
            job = self._queue.popleft()
            batch.append(job)
            size += len(job.items)
        return batch

    def _run(self, batch: list[_Job[T]]) -> None:
        items = [item for job in batch for item in job.items]
        try:
            results = self.run(items)
            start = 0
            for job in batch:
                job.result = results[start : start + len(job.items)]
                start += len(job.items)
        except BaseException as exc:  # every caller in the batch gets the function's error
            for job in batch:
                job.error = exc
        with self._cond:
            for job in batch:
                job.done = True
            self.stats.calls += 1
            self.stats.texts += len(items)
            self.stats.largest = max(self.stats.largest, len(items))
            self._running = False
            self._cond.notify_all()

    def __call__(self, items: list[T]) -> Any:
        """`run`'s results for these items, computed in a batch with the calls of other threads."""
        job: _Job[T] = _Job(list(items))
        with self._cond:
            self._queue.append(job)
        while True:
            with self._cond:
                while not job.done and self._running:
                    self._cond.wait()
                if job.done:
                    break
                self._running = True
                batch = self._take()
            self._run(batch)  # as leader: outside the condition, so others can queue meanwhile
        if job.error is not None:
            raise job.error
        return job.result


class BatchingEncoder:
    """An encoder shared by threads whose concurrent calls are encoded in one model call; the
    vectors of the last `cache_size` texts are kept (`cachetools.LRUCache`, least recently used
    dropped first): the model is deterministic, so a question asked again is not encoded again."""

    def __init__(self, inner: Encoder, max_batch: int = 32, cache_size: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._batcher: Batcher[str, np.ndarray] = Batcher(inner.encode, max_batch=max_batch)
        self.stats = self._batcher.stats
        self._cache: LRUCache[str, np.ndarray] | None = LRUCache(maxsize=cache_size) if cache_size > 0 else None
        self._cache_lock = threading.Lock()
        self.cache_hits = 0

    @property
    def max_batch(self) -> int:
        return self._batcher.max_batch

    @property
    def loaded(self) -> bool:
        return bool(getattr(self.inner, "loaded", True))

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._cache is None:
            result: np.ndarray = self._batcher(texts)
            return result
        with self._cache_lock:
            known = {t: v for t in texts if (v := self._cache.get(t)) is not None}
            self.cache_hits += sum(t in known for t in texts)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self._batcher(missing)
            with self._cache_lock:
                for text, row in zip(missing, fresh, strict=True):
                    # a copy, not a view: a kept row must not keep its whole batch's array alive
                    vector = np.array(row, copy=True)
                    vector.setflags(write=False)  # shared by later callers: nobody may change it
                    self._cache[text] = known[text] = vector
        return np.stack([known[t] for t in texts])


class KeyedLocks:
    """One lock per key (at most `max_items`, least recently used dropped when unlocked), e.g. so the
    turns of one conversation run in order while other conversations run in parallel."""

    def __init__(self, max_items: int = 10_000) -> None:
        self._locks: OrderedDict[str, threading.Lock] = OrderedDict()
        self._max = max_items
        self._lock = threading.Lock()

    def get(self, key: str) -> threading.Lock:
        with self._lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
                while len(self._locks) > self._max:
                    oldest, candidate = next(iter(self._locks.items()))
                    if candidate.locked():
                        break
                    del self._locks[oldest]
            else:
                self._locks.move_to_end(key)
            return lock
