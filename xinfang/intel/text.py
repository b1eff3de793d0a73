"""Text normalisation and tokenisation for the routing model.

Everything here is a pure function of the input string, so training and prediction see the same
tokens. Limits:

* NFKC folds full-width Latin letters, digits and punctuation to half width
  (``ＡＢＣ１２３`` → ``ABC123``, ``，`` → ``,``); CJK punctuation such as ``。、`` stays as it is
  and acts as a boundary.
* Traditional → simplified conversion is NOT done: it needs a conversion table (OpenCC or similar)
  that is not a dependency of the project. Traditional text still shares many characters with
  simplified text, so it gets a (weaker) prediction rather than an error.
* URLs, mobile/landline numbers, ID-card-like numbers and other long digit runs are replaced by
  one placeholder character each, so that they neither explode the vocabulary nor leak identities
  into the model's vocabulary files.
* Long texts are cut to the first ``MAX_BODY_CHARS`` characters: the category is nearly always
  clear from the opening, and the cut bounds prediction time (a 50,000-character message costs the
  same as a 2,000-character one).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator

import numpy as np
import rjieba

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 2000

# Private-use characters as placeholders: one "character" each, never in real text.
URL_TOKEN = "\ue000"
PHONE_TOKEN = "\ue001"
IDNO_TOKEN = "\ue002"
NUM_TOKEN = "\ue003"

_URL_RE = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+", re.I)
_IDNO_RE = re.compile(r"(?<!\d)\d{17}[\dx](?!\d)", re.I)
_PHONE_RE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_LONGNUM_RE = re.compile(r"\d{5,}")
_SPACE_RE = re.compile(r"\s+")
# Runs of "word" characters: CJK ideographs, Latin letters, digits and the placeholders.
_RUN_RE = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ue000-\ue003]+")
RUN_RE = _RUN_RE  # public name for features.Block (same pattern object)


def normalize(text: str | None, *, limit: int = MAX_BODY_CHARS) -> str:
    """NFKC, lower case, placeholders for URLs/phones/ID numbers/long numbers, collapsed spaces,
    cut to ``limit`` characters (cut before the regexes run, so the cost is bounded)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)[: limit * 2])
    text = text.lower()
    text = _URL_RE.sub(URL_TOKEN, text)
    text = _IDNO_RE.sub(IDNO_TOKEN, text)
    text = _PHONE_RE.sub(PHONE_TOKEN, text)
    text = _LONGNUM_RE.sub(NUM_TOKEN, text)
    text = _SPACE_RE.sub(" ", text).strip()
    return text[:limit]


def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> Iterator[str]:
    """Character n-grams inside runs of word characters (punctuation and spaces are boundaries)."""
    for run in _RUN_RE.findall(text):
        size = len(run)
        for n in range(n_min, n_max + 1):
            for i in range(size - n + 1):
                yield run[i : i + n]


# Integer keys of character 1–3-grams, for the vectorised prediction path (features.Block.row):
# a code point fits in 21 bits, so up to three fit in an int64; a shorter n-gram leaves the low
# slots 0, and code point 0 never occurs inside a run, so keys of different n-grams never collide.
_KEY_SHIFTS = (42, 21, 0)


def char_key(gram: str) -> int:
    """The integer key of one character n-gram (1–3 characters), as :func:`char_ngram_keys`."""
    key = 0
    for ch, shift in zip(gram, _KEY_SHIFTS, strict=False):
        key |= ord(ch) << shift
    return key


def _run_mask(cp: np.ndarray) -> np.ndarray:
    """Which code points are word characters — exactly the class of ``_RUN_RE``."""
    return (
        ((cp >= 0x30) & (cp <= 0x39))
        | ((cp >= 0x61) & (cp <= 0x7A))
        | ((cp >= 0x3400) & (cp <= 0x4DBF))
        | ((cp >= 0x4E00) & (cp <= 0x9FFF))
        | ((cp >= 0xF900) & (cp <= 0xFAFF))
        | ((cp >= 0xE000) & (cp <= 0xE003))
    )


def char_ngram_keys(text: str, n_min: int = 1, n_max: int = 3) -> np.ndarray:
    """The multiset of :func:`char_ngrams` as integer keys (:func:`char_key`), computed with numpy
    in a few array operations instead of one Python step per n-gram. ``n_max`` ≤ 3."""
    if n_max > 3:
        raise ValueError("char_ngram_keys supports n-grams of at most 3 characters")
    cp = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    size = cp.size
    word = _run_mask(cp)
    parts = []
    for n in range(n_min, n_max + 1):
        if size < n:
            break
        m = word[: size - n + 1].copy()
        key = cp[: size - n + 1] << 42
        for k in range(1, n):
            m &= word[k : size - n + 1 + k]
            key = key | (cp[k : size - n + 1 + k] << _KEY_SHIFTS[k])
        parts.append(key[m])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def pair_keys(text: str) -> np.ndarray:
    """Sorted unique keys of all adjacent character pairs of ``text`` (across punctuation too):
    a cheap necessary condition for a substring test (``k in text`` needs ``k``'s pairs)."""
    cp = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    if cp.size < 2:
        return np.zeros(0, dtype=np.int64)
    return np.unique((cp[:-1] << 42) | (cp[1:] << 21))


def words(text: str) -> list[str]:
    """rjieba words, keeping only tokens with at least one word character."""
    return list(filter(_RUN_RE.search, rjieba.cut(text)))  # C-level filter: no per-token frame


def word_ngram_list(text: str, n_max: int = 2) -> list[str]:
    """:func:`word_ngrams` as a list, built with C-level ``map`` (the prediction fast path)."""
    toks = words(text)
    if n_max >= 2 and len(toks) > 1:
        return toks + list(map(" ".join, itertools.pairwise(toks)))
    return toks


def word_ngrams(text: str, n_max: int = 2) -> Iterator[str]:
    """Word unigrams and (n_max ≥ 2) bigrams joined by a space."""
    toks = words(text)
    yield from toks
    if n_max >= 2:
        for a, b in itertools.pairwise(toks):
            yield f"{a} {b}"
