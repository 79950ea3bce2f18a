"""Content hashing and near-duplicate detection (the same story syndicated under another URL).

`content_hash` is sha256 of the whitespace-normalised main text. `simhash` is a 64-bit SimHash over
word 3-shingles of the case- and diacritic-folded text: two texts whose SimHashes differ in at most
`near_duplicate_bits` bits (default 6; one changed phrase in a 100-word story moves about 5) are one story.
"""

from __future__ import annotations

import hashlib
import re

from extractors.text import fold

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_WORDS = 30  # shorter texts have too few shingles for SimHash to mean anything


def content_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def simhash(text: str) -> int:
    """64-bit SimHash of the text's word 3-shingles (0 for an empty text)."""
    tokens = words(text)
    shingles = [" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))] if tokens else []
    weights = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def distance(a: int, b: int) -> int:
    return bin(a ^ b).count("1")
