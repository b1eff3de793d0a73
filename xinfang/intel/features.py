"""Feature blocks: sparse TF-IDF spaces over title/body × characters/words, plus keyword priors.

Implemented with numpy/scipy rather than sklearn's vectorisers so that a model directory is just
vocabularies (JSON) and arrays (``.npz``, no pickle), and so that transforming one message is a few
dictionary lookups (the per-message latency budget is 2 ms).

TF-IDF as in sklearn's ``TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2")``:
``tf = 1 + ln(count)``, ``idf = ln((1 + n) / (1 + df)) + 1``, each block's rows L2-normalised and
then multiplied by the block's weight.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import rjieba
import scipy.sparse as sp

from xinfang.intel import text as T

Record = dict[str, object]


@dataclass(frozen=True)
class Doc:
    """A message after normalisation (what every block reads)."""

    title: str
    body: str


def to_doc(rec: Record) -> Doc:
    title = rec.get("title")
    body = rec.get("text")
    return Doc(
        title=T.normalize(title if isinstance(title, str) else "", limit=T.MAX_TITLE_CHARS),
        body=T.normalize(body if isinstance(body, str) else "", limit=T.MAX_BODY_CHARS),
    )


def _char(s: str) -> Iterable[str]:
    return T.char_ngrams(s, 1, 3)


def _word(s: str) -> Iterable[str]:
    return T.word_ngrams(s, 2)


ANALYZERS: dict[str, Callable[[str], Iterable[str]]] = {"char": _char, "word": _word}


# One-character tokens with no word character (ASCII and CJK punctuation, spaces, general
# punctuation): never vocabulary terms, dropped by ``text.words``.
_NON_WORD_LOOKUP: dict[str, int] = {
    ch: -2
    for ch in map(chr, [*range(0x20, 0x7F), *range(0x2000, 0x2070), *range(0x3000, 0x3040)])
    if not T.RUN_RE.search(ch)
}


def _count(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` without its generic overhead (~20 µs a call,
    four calls a message): sorted distinct values and how often each occurs."""
    if values.size == 0:
        return values, np.zeros(0, dtype=np.int64)
    v = np.sort(values)
    start = np.empty(v.size, dtype=bool)
    start[0] = True
    np.not_equal(v[1:], v[:-1], out=start[1:])
    idx = np.flatnonzero(start)
    return v[idx], np.diff(np.append(idx, v.size))


@dataclass
class Block:
    """One TF-IDF space: ``field`` (title/body) analysed by ``kind`` (char/word)."""

    name: str
    field: str
    kind: str
    weight: float
    min_df: int = 1
    vocab: dict[str, int] = dataclasses.field(default_factory=dict)
    idf: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    _keys: tuple[np.ndarray, np.ndarray, int] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    _pairs: tuple[np.ndarray, np.ndarray, int] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    _lookup: dict[str, int] | None = dataclasses.field(default=None, repr=False, compare=False)

    def tokens(self, doc: Doc) -> Counter[str]:
        return Counter(ANALYZERS[self.kind](getattr(doc, self.field)))

    def fit(self, docs: Sequence[Doc]) -> list[Counter[str]]:
        counts = [self.tokens(d) for d in docs]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        terms = sorted(t for t, k in df.items() if k >= self.min_df)
        self.vocab = {t: i for i, t in enumerate(terms)}
        self._keys = None
        self._pairs = None
        self._lookup = None
        n = len(docs)
        self.idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in terms])
        return counts

    @property
    def size(self) -> int:
        return len(self.vocab)

    def transform_counts(self, counts: Sequence[Counter[str]]) -> sp.csr_matrix:
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        vocab, idf = self.vocab, self.idf
        for c in counts:
            cols: list[int] = []
            vals: list[float] = []
            for t, k in c.items():
                j = vocab.get(t)
                if j is not None:
                    cols.append(j)
                    vals.append((1.0 + math.log(k)) * idf[j])
            norm = math.sqrt(sum(v * v for v in vals))
            if norm > 0:
                scale = self.weight / norm
                vals = [v * scale for v in vals]
            indices.extend(cols)
            data.extend(vals)
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(counts), self.size),
        )

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        return self.transform_counts([self.tokens(d) for d in docs])

    def row(self, doc: Doc) -> tuple[np.ndarray, np.ndarray]:
        """One document's (column indices, weighted tf-idf values): the prediction fast path,
        equal to one row of :meth:`transform` without building a sparse matrix.

        No per-n-gram Python loop: character n-grams become integer keys computed with numpy and
        are looked up in a sorted key array (``np.searchsorted``); word n-grams go through one
        C-level ``map(dict.get)``. Counting is one sort (:func:`_count`). Same columns and values
        as the ``Counter`` path used in training (tested against a reference implementation)."""
        text = getattr(doc, self.field)
        if self.kind == "char":
            cols, counts = self._char_cols(text)
        else:
            cols, counts = self._word_cols(text)
        if cols.size == 0:
            return cols, np.zeros(0)
        vals = (1.0 + np.log(counts)) * self.idf[cols]
        norm = float(np.sqrt(vals @ vals))
        if norm > 0:
            vals *= self.weight / norm
        return cols, vals

    def _char_cols(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(distinct columns, counts): n-gram keys are counted first (one sort), then the
        distinct keys — already sorted, so the binary searches walk memory in order — are
        looked up."""
        keys, counts = _count(T.char_ngram_keys(text, 1, 3))
        vkeys, vcols = self._key_index()
        if keys.size == 0 or vkeys.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos = np.searchsorted(vkeys, keys)
        pos[pos == vkeys.size] = 0
        hit = vkeys[pos] == keys
        return vcols[pos[hit]], counts[hit]

    def _word_cols(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(distinct columns, counts) of word uni- and bigrams without building bigram strings.

        Every bigram term ``"a b"`` of the vocabulary has both ``a`` and ``b`` as unigram terms
        (a document containing the bigram contains both words, so their df is at least as high),
        so a bigram can only be in the vocabulary when both its words are: it is looked up as the
        integer pair (column of a, column of b) in a sorted array."""
        toks = rjieba.cut(text)
        if not toks:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        lookup = self._word_lookup()
        uni = np.fromiter(
            map(lookup.get, toks, itertools.repeat(-1)), dtype=np.int64, count=len(toks)
        )
        # Tokens without a word character are dropped before pairing (as ``text.words`` does):
        # single punctuation/space tokens are known (-2); other unknown tokens (-1) are tested.
        unknown = np.flatnonzero(uni == -1)
        if unknown.size:
            search = T.RUN_RE.search
            for i in unknown.tolist():
                if not search(toks[i]):
                    uni[i] = -2
        uni = uni[uni != -2]
        if uni.size > 1:
            both = (uni[:-1] >= 0) & (uni[1:] >= 0)
            size = len(self.vocab)
            pair, pcount = _count(uni[:-1][both] * size + uni[1:][both])
            pkeys, pcols = self._pair_index()
            if pair.size and pkeys.size:
                pos: np.ndarray = np.asarray(np.searchsorted(pkeys, pair))
                pos[pos == pkeys.size] = 0
                hit = pkeys[pos] == pair
                # distinct pairs can share a column only through terms with several spaces
                pair_cols = np.repeat(pcols[pos[hit]], pcount[hit])
            else:
                pair_cols = np.zeros(0, dtype=np.int64)
            allcols = np.concatenate([uni[uni >= 0], pair_cols])
        else:
            allcols = uni[uni >= 0]
        cols, counts = _count(allcols)
        return cols, counts

    def _word_lookup(self) -> dict[str, int]:
        """The vocabulary plus the common one-character non-word tokens (→ -2), so that
        punctuation, the most frequent unknown token, costs no regex test."""
        cached = self._lookup
        if cached is None or len(cached) < len(self.vocab):
            cached = {**_NON_WORD_LOOKUP, **self.vocab}
            self._lookup = cached
        return cached

    def _pair_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys ``col(a) * size + col(b)`` of the bigram terms ``"a b"`` and their columns.
        A term with several spaces is registered under every split whose halves are both
        unigram terms, exactly the token pairs whose joined string equals it."""
        cached = self._pairs
        if cached is None or cached[2] != len(self.vocab):
            vocab, size = self.vocab, len(self.vocab)
            keys: list[int] = []
            cols: list[int] = []
            for term, col in vocab.items():
                start = term.find(" ")
                while start != -1:
                    a, b = vocab.get(term[:start]), vocab.get(term[start + 1 :])
                    if a is not None and b is not None:
                        keys.append(a * size + b)
                        cols.append(col)
                    start = term.find(" ", start + 1)
            k = np.array(keys, dtype=np.int64)
            order = np.argsort(k, kind="stable")
            cached = (k[order], np.array(cols, dtype=np.int64)[order], size)
            self._pairs = cached
        return cached[0], cached[1]

    def _key_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Sorted integer keys of the character vocabulary and their column numbers, built on
        first use (a loaded model pays it once, ~10 ms for 100k terms)."""
        cached = self._keys
        if cached is None or cached[2] != len(self.vocab):
            terms = list(self.vocab)
            keys = np.fromiter((T.char_key(t) for t in terms), dtype=np.int64, count=len(terms))
            cols = np.fromiter(self.vocab.values(), dtype=np.int64, count=len(terms))
            order = np.argsort(keys, kind="stable")
            cached = (keys[order], cols[order], len(self.vocab))
            self._keys = cached
        return cached[0], cached[1]


@dataclass
class KeywordPrior:
    """Per label, how many of its category-tree names (level 2/3, from ``data/keywords.json``)
    occur in the title and in the body: 2 × labels dense columns, ``weight × ln(1 + hits)``."""

    keywords: dict[str, list[str]]
    labels: list[str]
    weight: float
    _names: tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )

    @property
    def size(self) -> int:
        return 2 * len(self.labels)

    def transform(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        m = np.zeros((len(docs), self.size))
        if self.weight == 0:
            return sp.csr_matrix(m)
        for i, d in enumerate(docs):
            m[i] = self.row(d)
        return sp.csr_matrix(m)

    def row(self, doc: Doc) -> np.ndarray:
        """One message's dense prior columns (already weighted). Of the ~900 names only those
        whose first and last character pairs occur in the text get a real substring test, so the
        cost is a few numpy operations instead of ~900 ``in`` scans of a 2,000-character body."""
        out = np.zeros(self.size)
        if self.weight == 0:
            return out
        names, label_of, ends, short = self._index()
        for col, text in ((0, doc.title), (1, doc.body)):
            pairs = T.pair_keys(text)
            if pairs.size:
                pos = np.searchsorted(pairs, ends)
                pos[pos == pairs.size] = 0
                found = pairs[pos] == ends
                n = len(names)
                cand = np.flatnonzero((found[:n] & found[n:]) | short)
            else:
                cand = np.flatnonzero(short)
            hits = np.zeros(len(self.labels))
            for i in cand:
                if names[i] in text:
                    hits[label_of[i]] += 1
            out[col::2] = [math.log1p(h) for h in hits]  # math, not np: bit-equal to training
        return out * self.weight

    def _index(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        cached = self._names
        if cached is None:
            names: list[str] = []
            label_of: list[int] = []
            for j, lab in enumerate(self.labels):
                for k in self.keywords.get(lab, ()):
                    names.append(k)
                    label_of.append(j)
            # A name shorter than two characters has no pair: key -1 marks it for a direct test
            # (the shipped names all have ≥ 2 characters).
            first = np.array([_pair_key(k[:2]) for k in names], dtype=np.int64)
            last = np.array([_pair_key(k[-2:]) for k in names], dtype=np.int64)
            cached = (
                names,
                np.array(label_of, dtype=np.int64),
                np.concatenate([first, last]),
                first < 0,
            )
            self._names = cached
        return cached


def _pair_key(pair: str) -> int:
    return (ord(pair[0]) << 42) | (ord(pair[1]) << 21) if len(pair) == 2 else -1
