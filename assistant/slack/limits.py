"""Small thread-safe, bounded, in-memory helpers for the Slack bot: a seen-once set (event and
message de-duplication), a per-user sliding-window rate limiter and an LRU map (answers kept for
the "Share in channel" button, patients kept per thread). All take a clock for tests.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Clock = Callable[[], float]


class SeenOnce:
    """Remembers keys for `ttl_s` seconds (at most `max_items`); `first(key)` is True only once."""

    def __init__(self, ttl_s: float = 3600.0, max_items: int = 50_000, clock: Clock = time.monotonic) -> None:
        self._ttl = ttl_s
        self._max = max_items
        self._clock = clock
        self._items: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._items:
                oldest_key, added = next(iter(self._items.items()))
                if now - added <= self._ttl and len(self._items) < self._max:
                    break
                del self._items[oldest_key]
            if key in self._items:
                return False
            self._items[key] = now
            return True


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key (sliding window)."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Clock = time.monotonic) -> None:
        if limit <= 0:
            raise ValueError("limit must be positive")
        self._limit = limit
        self._window = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._notified: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Record one event for `key`: 0.0 if allowed, else the seconds until it would be."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self._window:
                hits.popleft()
            if len(hits) >= self._limit:
                return max(self._window - (now - hits[0]), 0.1)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle users
                for k in [k for k, h in self._hits.items() if not h or now - h[-1] >= self._window]:
                    del self._hits[k]
            return 0.0

    def should_notify(self, key: str) -> bool:
        """True once per window per key: tell a limited user once, not on every message."""
        now = self._clock()
        with self._lock:
            last = self._notified.get(key)
            if last is not None and now - last < self._window:
                return False
            self._notified[key] = now
            return True


class LruMap(Generic[K, V]):
    """A bounded map whose entries expire after `ttl_s` seconds."""

    def __init__(self, max_items: int = 1000, ttl_s: float = 3600.0, clock: Clock = time.monotonic) -> None:
        self._max = max_items
        self._ttl = ttl_s
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            added, value = item
            if self._clock() - added > self._ttl:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value
