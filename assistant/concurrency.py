"""What lets several threads answer at once: query embeddings batched across callers, and one lock
per conversation so a conversation's turns still run in order.

`BatchingEncoder` wraps the query encoder. A caller that finds the model idle becomes the leader:
it takes every query waiting (up to `max_batch` texts), runs them through the model in one call and
hands each caller its rows. Callers arriving while a batch runs wait and go together in the next
one. There is no timer: a lone query runs at once (no added latency when the server is quiet), and
under load the batches grow by themselves. One model call for 16 short queries costs a fraction of
16 calls, and the model runs outside the GIL, so the other answer threads keep composing meanwhile.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from ingest.embed import Encoder


@dataclass
class _Job:
    texts: list[str]
    result: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class BatchStats:
    """Model calls made, texts encoded and the largest batch, through the batcher."""

    calls: int = 0
    texts: int = 0
    largest: int = 0


class BatchingEncoder:
    """An encoder shared by threads whose concurrent calls are encoded in one model call."""

    def __init__(self, inner: Encoder, max_batch: int = 32) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._cond = threading.Condition()
        self._queue: deque[_Job] = deque()
        self._running = False

    @property
    def loaded(self) -> bool:
        return bool(getattr(self.inner, "loaded", True))

    def _take(self) -> list[_Job]:
        """Jobs for the next model call: the oldest first, at least one, at most `max_batch` texts."""
        batch = [self._queue.popleft()]
        size = len(batch[0].texts)
        while self._queue and size + len(self._queue[0].texts) <= self.max_batch:
            job = self._queue.popleft()
            batch.append(job)
            size += len(job.texts)
        return batch

    def _run(self, batch: list[_Job]) -> None:
        texts = [t for job in batch for t in job.texts]
        try:
            vectors = self.inner.encode(texts)
            start = 0
            for job in batch:
                job.result = vectors[start : start + len(job.texts)]
                start += len(job.texts)
        except BaseException as exc:  # every caller in the batch gets the model's error
            for job in batch:
                job.error = exc
        with self._cond:
            for job in batch:
                job.done = True
            self.stats.calls += 1
            self.stats.texts += len(texts)
            self.stats.largest = max(self.stats.largest, len(texts))
            self._running = False
            self._cond.notify_all()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        job = _Job(list(texts))
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
        assert job.result is not None
        return job.result


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
