"""The vocabulary's stemmer under the answer threads: concurrent callers get the stems one thread gets
(a shared snowballstemmer stemmer keeps the word being stemmed in itself; unguarded, eight threads
raised IndexError within 12,000 words, and `ally serve` answered 500 to the first concurrent questions)."""

from __future__ import annotations

import random
import threading

import snowballstemmer

from ally.vocab import stem

SUFFIXES = ("ational", "ization", "fulness", "ing")


def test_stem_is_thread_safe() -> None:
    rng = random.Random(7)
    words = [
        "".join(rng.choices("abcdefghilmnoprstu", k=rng.randint(4, 14))) + s for _ in range(3000) for s in SUFFIXES
    ]
    reference = snowballstemmer.stemmer("english")
    expected = [reference.stemWord(w) for w in words]
    uncached = stem.__wrapped__  # every call reaches the stemmer, as cache misses do
    failures: list[str] = []

    def run() -> None:
        try:
            if [uncached(w) for w in words] != expected:
                failures.append("wrong stems")
        except Exception as exc:
            failures.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
