"""Character-level repair of scraped text: mojibake, odd spaces, broken hyphenation.

Mojibake here is UTF-8 bytes that were decoded with a single-byte code page: "m²" (C2 B2) read as
Windows-1253 becomes "mΒ²", "×" (C3 97) becomes "Γ—". A short run of characters is replaced when
re-encoding it with such a code page yields valid UTF-8 for exactly one character. Real Greek text
never round-trips that way, so it is left alone.
"""

from __future__ import annotations

import re
import unicodedata

_CODEPAGES = ("cp1253", "cp1252", "latin-1", "cp1251", "cp1250")
# First characters that can start a mis-decoded UTF-8 sequence (lead bytes C2-F4 in those code pages).
_LEAD_RE = re.compile(r"[\u00c2-\u00f4\u0392-\u03a4\u0412-\u0444\u0102-\u0150\u00c0-\u00ff]")

_SPACES = {
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u3000": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\ufeff": "",
    "\u00ad": "",
}


def _decode_run(run: str) -> str | None:
    for codepage in _CODEPAGES:
        try:
            raw = run.encode(codepage)
        except UnicodeEncodeError:
            continue
        if not raw or raw[0] < 0xC2:
            continue
        try:
            fixed = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(fixed) == 1 and not unicodedata.category(fixed).startswith("C"):
            return fixed
    return None


def repair_mojibake(text: str) -> tuple[str, int]:
    """Repair mis-decoded UTF-8 sequences. Returns the text and the number of repairs."""
    out: list[str] = []
    i = 0
    repairs = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ord(ch) >= 0x80 and _LEAD_RE.match(ch):
            done = False
            for length in (4, 3, 2):
                if i + length <= n:
                    fixed = _decode_run(text[i : i + length])
                    if fixed is not None:
                        out.append(fixed)
                        i += length
                        repairs += 1
                        done = True
                        break
            if done:
                continue
        out.append(ch)
        i += 1
    return "".join(out), repairs


_HYPHEN_BREAK_RE = re.compile(r"\b([a-z]{3,}|[A-Z]\.(?:[A-Z]\.)*)- (?=[a-z]{3,})")


def normalise_characters(text: str) -> str:
    """Unify spaces and line ends, drop invisible characters, mend 'pediatric- inspired'."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for bad, good in _SPACES.items():
        text = text.replace(bad, good)
    text = _HYPHEN_BREAK_RE.sub(lambda m: m.group(1) + "-", text)
    return text


def repair_text(text: str) -> tuple[str, int]:
    """Both repairs; returns the text and the number of mojibake sequences mended."""
    fixed, repairs = repair_mojibake(text)
    return normalise_characters(fixed), repairs


MOJIBAKE_MARKERS = re.compile(r"Β²|Γ—|Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]|Î[\u0080-\u00bf]")


def has_mojibake(text: str) -> bool:
    """True when a known mojibake sequence survives (used by tests and ingest self-checks)."""
    return bool(MOJIBAKE_MARKERS.search(text))
