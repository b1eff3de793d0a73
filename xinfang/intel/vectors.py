"""Text → hashed character-bigram vectors for the similar-case search (pure functions).

Why this shape:

* **Character bigrams** inside runs of word characters (``text.normalize`` first: NFKC, lower
  case, placeholders for phones/ID numbers/URLs/long numbers). Bigrams carry most of the lexical
  signal of short Chinese messages and need no dictionary; rjieba words were left out because
  segmenting a million archived texts in Python costs minutes on this machine and added little
  over bigrams for finding the *same matter* (names of places, estates, companies are bigram runs).
* **Hashed to a fixed space** (2**20 dimensions) with a multiplicative hash of the two code
  points — deterministic across processes and Python versions (unlike the salted ``hash()``), so
  vectors persisted by one process are read by every other. Collisions at this size are rare
  and only add noise to a score.
* **Persisted as term counts, not weights**: the IDF depends on the whole archive, which grows;
  the in-memory index (``similar_index``) applies the current IDF when it loads the counts.
  Title bigrams count twice (the title/summary is the clerk's own digest of the matter).
* Everything is vectorised with numpy: one message costs tens of microseconds, so the receiver
  on registration and the catch-up command stay cheap, and the 50,000-character message is cut
  to ``MAX_BODY_CHARS`` before any work.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from xinfang.intel.text import MAX_BODY_CHARS, MAX_TITLE_CHARS, normalize

BITS = 20
DIMS = 1 << BITS
SCHEME = 1  # bump when the features change: ``intel_index --rebuild`` then recomputes them
TITLE_WEIGHT = 2
MAX_COUNT = 255

_MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: well mixed high bits
_SHIFT = np.uint64(64 - BITS)
_HEADER = struct.Struct("<BI")  # scheme, number of terms

# Word characters, as in ``text._RUN_RE``: digits, latin letters, CJK, the placeholders.
_RANGES = (
    (0x30, 0x39),
    (0x61, 0x7A),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xE000, 0xE003),
)


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _is_word(cp: np.ndarray) -> np.ndarray:
    mask = np.zeros(cp.shape, dtype=bool)
    for lo, hi in _RANGES:
        mask |= (cp >= lo) & (cp <= hi)
    return mask


def bigram_hashes(text: str) -> np.ndarray:
    """Hashed bigrams of a *normalised* text (uint32, one per occurrence, unsorted)."""
    cp = _codepoints(text)
    if cp.size < 2:
        return np.empty(0, dtype=np.uint32)
    word = _is_word(cp)
    keep = word[:-1] & word[1:]
    key = (cp[:-1].astype(np.uint64) << np.uint64(21)) | cp[1:].astype(np.uint64)
    hashed = (key[keep] * _MULT) >> _SHIFT
    return hashed.astype(np.uint32)


def text_terms(title: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """(terms, counts) of a message: sorted unique uint32 term ids and uint8 counts."""
    t = bigram_hashes(normalize(title, limit=MAX_TITLE_CHARS))
    b = bigram_hashes(normalize(text, limit=MAX_BODY_CHARS))
    all_terms = np.concatenate([t, t, b]) if TITLE_WEIGHT == 2 else np.concatenate([t, b])
    if all_terms.size == 0:
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint8)
    terms, counts = np.unique(all_terms, return_counts=True)
    return terms.astype(np.uint32), np.minimum(counts, MAX_COUNT).astype(np.uint8)


def pack(terms: np.ndarray, counts: np.ndarray) -> bytes:
    """``SCHEME``, n, then n little-endian uint32 terms, then n uint8 counts (5 bytes/term)."""
    n = int(terms.size)
    return (
        _HEADER.pack(SCHEME, n)
        + terms.astype("<u4", copy=False).tobytes()
        + counts.astype(np.uint8, copy=False).tobytes()
    )


def unpack(blob: bytes | memoryview) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``pack``; a blob of another scheme or a damaged one reads as empty (the case
    is then found only through its petitioner until ``intel_index --rebuild``)."""
    raw = bytes(blob)
    if len(raw) < _HEADER.size:
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint8)
    scheme, n = _HEADER.unpack_from(raw)
    if scheme != SCHEME or len(raw) != _HEADER.size + 5 * n:
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint8)
    terms = np.frombuffer(raw, dtype="<u4", count=n, offset=_HEADER.size).astype(np.uint32)
    counts = np.frombuffer(raw, dtype=np.uint8, count=n, offset=_HEADER.size + 4 * n)
    return terms, counts.copy()


def idf_of(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Smooth IDF (as scikit-learn's ``smooth_idf``) as float32."""
    return (np.log((n_docs + 1.0) / (df.astype(np.float64) + 1.0)) + 1.0).astype(np.float32)


def weights(terms: np.ndarray, counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Sublinear tf × idf, L2-normalised (float32; zeros for an empty vector)."""
    if terms.size == 0:
        return np.empty(0, dtype=np.float32)
    w = (1.0 + np.log(counts.astype(np.float32))) * idf[terms]
    norm = float(np.sqrt(np.dot(w, w)))
    return (w / norm).astype(np.float32) if norm > 0 else w.astype(np.float32)


def cosine_many(
    q_terms: np.ndarray,
    q_w: np.ndarray,
    docs: Sequence[tuple[np.ndarray, np.ndarray]],
    idf: np.ndarray,
) -> np.ndarray:
    """Exact cosine of one weighted query (``q_terms`` sorted, ``q_w`` L2-normalised) against
    many (terms, counts) documents, weighted with ``idf`` — all documents in a few array
    operations (the re-ranking step), not one Python step per document."""
    out = np.zeros(len(docs), dtype=np.float64)
    if q_terms.size == 0 or not docs:
        return out
    lengths = np.fromiter((d[0].size for d in docs), dtype=np.int64, count=len(docs))
    if lengths.sum() == 0:
        return out
    terms = np.concatenate([d[0] for d in docs])
    counts = np.concatenate([d[1] for d in docs])
    rows = np.repeat(np.arange(len(docs)), lengths)
    w = (1.0 + np.log(counts.astype(np.float64))) * idf[terms]
    norm = np.sqrt(np.bincount(rows, weights=w * w, minlength=len(docs)))
    pos = np.searchsorted(q_terms, terms)
    pos[pos >= q_terms.size] = 0
    hit = q_terms[pos] == terms
    dot = np.bincount(rows, weights=np.where(hit, w * q_w[pos], 0.0), minlength=len(docs))
    np.divide(dot, norm, out=out, where=norm > 0)
    return np.clip(out, 0.0, 1.0)
