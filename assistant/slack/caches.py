"""The Slack bot's bounded, thread-safe, in-memory caches, on `cachetools.TTLCache` with a lock:
a seen-once set (event and message de-duplication, "tell a limited user once a window") and an
LRU map whose entries expire (answers kept for the "Share in channel" button). Both take a clock
(monotonic seconds) for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import TTLCache

K = TypeVar("K")
V = TypeVar("V")
Clock = Callable[[], float]


class SeenOnce:
    """Remembers keys for `ttl_s` seconds (at most `max_items`, oldest dropped first); `first(key)`
    is True only the first time a key is seen within that time."""

    def __init__(self, ttl_s: float = 3600.0, max_items: int = 50_000, clock: Clock = time.monotonic) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=max_items, ttl=ttl_s, timer=clock)
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            return True


class LruMap(Generic[K, V]):
    """A map of at most `max_items` entries (the least recently used dropped first) whose entries
    expire `ttl_s` seconds after they were put."""

    def __init__(self, max_items: int = 1000, ttl_s: float = 3600.0, clock: Clock = time.monotonic) -> None:
        self._items: TTLCache[K, V] = TTLCache(maxsize=max_items, ttl=ttl_s, timer=clock)
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._items.get(key)
