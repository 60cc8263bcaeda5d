"""The fast concept matcher (prefilter + positional regex) finds exactly what a plain scan of every
term's regex finds, on the real corpus and on case-folding edge cases."""

from __future__ import annotations

from pathlib import Path

from ally.vocab import Match, Vocabulary, default_vocabulary

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def reference(v: Vocabulary, text: str) -> list[Match]:
    taken = [False] * len(text)
    found: list[Match] = []
    for cid, term, pattern in v._patterns:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            found.append(Match(cid, m.start(), m.end(), term))
    found.sort(key=lambda m: m.start)
    return found


def test_fast_matcher_equals_reference() -> None:
    v = default_vocabulary()
    texts = [line for f in sorted(CORPUS.glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()]
    texts += [
        "BLINATUMOMAB then blina, InO and inO; Ph+ ALL vs Ph-like ALL; B-ALL B ALL",
        "\u212aelvin sign, long \u017f, dotted \u0130 and dotless \u0131 near imatinib and DASATINIB",
        "İmatinib (lower-casing changes the length) then nelarabine",
        "all all ALL ALL all-trans",
    ]
    assert sum(len(reference(v, t)) for t in texts) > 100
    for t in texts:
        assert v._match(t) == reference(v, t), t
        assert v.matches(t) == v.matches(t) == reference(v, t)  # memoised copy
