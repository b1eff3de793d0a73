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


def words(text: str) -> list[str]:
    """rjieba words, keeping only tokens with at least one word character."""
    return [w for w in rjieba.cut(text) if _RUN_RE.search(w)]


def word_ngrams(text: str, n_max: int = 2) -> Iterator[str]:
    """Word unigrams and (n_max ≥ 2) bigrams joined by a space."""
    toks = words(text)
    yield from toks
    if n_max >= 2:
        for a, b in itertools.pairwise(toks):
            yield f"{a} {b}"
