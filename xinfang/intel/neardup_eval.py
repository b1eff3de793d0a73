"""Evaluation of the near-duplicate detector on real messages with documented perturbations.

The set (deterministic for a seed):

* **Originals**: the distinct message texts of the given JSON Lines files (``text`` field; the
  Teddy 2020 train/replies/hot files), minus texts too short to be linked (``MIN_SHINGLES``).
  Pairs of originals that are themselves near-identical (exact shingle Jaccard ≥ 0.8 — in this
  data: one person re-posting the same letter to two leaders, and a re-post with a new title) are
  **real positives**; all other pairs of originals are negatives, among them same-category and
  same-topic ones (the hot.jsonl 魅力之城 and 变电站 clusters).
* **Perturbed copies** (positives, each of one original), one per original and type:
  ``insert`` 3 insertions (courtesy phrases or 2–6 characters taken from elsewhere in the text);
  ``delete`` 3 deleted spans of 2–8 characters; ``reorder`` the sentences shuffled; ``synonym`` up
  to 6 swaps from :data:`SYNONYMS`; ``punct`` punctuation replaced by a random mix of full/half
  width marks, spaces added, digits and Latin letters made full width; ``light`` = punct + 2
  synonyms + 1 insertion + 1 deletion; ``heavy`` = reorder + 6 insertions + 6 deletions + 6
  synonyms (a stress row: beyond "light edits").

Measured like the product works: every original is indexed (signature + LSH bands); each query
(a perturbed copy, or an original against the others) returns the candidates sharing a band
whose estimated Jaccard ≥ threshold. A returned original is a true positive when it is the
query's source (or a real duplicate of it), otherwise a false positive.
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from xinfang.intel import minhash as mh
from xinfang.intel.neardup import MIN_SHINGLES

TYPES = ("insert", "delete", "reorder", "synonym", "punct", "light", "heavy")
LIGHT_TYPES = TYPES[:-1]

# Small synonym table (both directions are used): words common in citizens' messages.
SYNONYMS: dict[str, str] = {
    "希望": "恳请",
    "有关部门": "相关部门",
    "处理": "解决",
    "反映": "反应",
    "立即": "马上",
    "目前": "现在",
    "严重": "十分",
    "问题": "情况",
    "领导": "领导同志",
    "小区": "社区",
    "居民": "住户",
    "政府": "当局",
    "要求": "请求",
    "我们": "大家",
    "不能": "无法",
    "已经": "早已",
    "请问": "想问",
    "没有": "未",
    "非常": "特别",
    "影响": "干扰",
    "您好": "你好",
    "但是": "可是",
    "因为": "由于",
    "所以": "因此",
    "一直": "始终",
    "市民": "群众",
}
_REVERSE = {v: k for k, v in SYNONYMS.items()}
FILLERS = ("领导您好", "谢谢", "请尽快处理", "望回复", "急", "此致敬礼", "万分感谢", "盼复")
PUNCT_MIX = list('，,。.！!？?；;：:、 （()）“"”　…')
_SENT_RE = re.compile(r"(?<=[。！？!?；;])")
_PUNCT_RE = re.compile(r"[，,。.！!？?；;：:、（）()“”\"]")


# --- perturbations -------------------------------------------------------------------------


def _insert(text: str, rnd: random.Random, n: int) -> str:
    chars = list(text)
    for _ in range(n):
        if rnd.random() < 0.5 or len(text) < 10:
            piece = rnd.choice(FILLERS)
        else:
            start = rnd.randrange(len(text) - 6)
            piece = text[start : start + rnd.randint(2, 6)]
        chars.insert(rnd.randrange(len(chars) + 1), piece)
    return "".join(chars)


def _delete(text: str, rnd: random.Random, n: int) -> str:
    for _ in range(n):
        if len(text) < 20:
            break
        size = rnd.randint(2, 8)
        start = rnd.randrange(len(text) - size)
        text = text[:start] + text[start + size :]
    return text


def _reorder(text: str, rnd: random.Random) -> str:
    parts = [p for p in _SENT_RE.split(text) if p]
    if len(parts) < 2:
        return text
    rnd.shuffle(parts)
    return "".join(parts)


def _synonym(text: str, rnd: random.Random, n: int) -> str:
    present = [w for w in list(SYNONYMS) + list(_REVERSE) if w in text]
    rnd.shuffle(present)
    for word in present[:n]:
        repl = SYNONYMS.get(word) or _REVERSE[word]
        text = text.replace(word, repl, 1)
    return text


def _punct(text: str, rnd: random.Random) -> str:
    text = _PUNCT_RE.sub(lambda _: rnd.choice(PUNCT_MIX), text)
    out = []
    for ch in text:
        if ch.isascii() and ch.isalnum() and rnd.random() < 0.5:
            ch = chr(ord(ch) + 0xFEE0)  # full width
        out.append(ch)
        if rnd.random() < 0.03:
            out.append(rnd.choice(" 　\n"))
    return "".join(out)


def perturb(text: str, kind: str, rnd: random.Random) -> str:
    """One documented perturbation of ``text`` (see the module docstring)."""
    if kind == "insert":
        return _insert(text, rnd, 3)
    if kind == "delete":
        return _delete(text, rnd, 3)
    if kind == "reorder":
        return _reorder(text, rnd)
    if kind == "synonym":
        return _synonym(text, rnd, 6)
    if kind == "punct":
        return _punct(text, rnd)
    if kind == "light":
        return _punct(_delete(_insert(_synonym(text, rnd, 2), rnd, 1), rnd, 1), rnd)
    if kind == "heavy":
        return _synonym(_delete(_insert(_reorder(text, rnd), rnd, 6), rnd, 6), rnd, 6)
    raise ValueError(kind)


# --- the set -------------------------------------------------------------------------------


@dataclass
class EvalSet:
    originals: list[str]
    groups: list[str]  # category label (or source file) per original, for negative breakdown
    dup_of: dict[int, set[int]]  # real duplicates among originals
    queries: list[tuple[str, int, str]]  # (kind, source original index, text)
    skipped_short: int = 0


def build_set(
    records: Sequence[dict], *, seed: int = 20200, types: Sequence[str] = TYPES
) -> EvalSet:
    seen: set[str] = set()
    originals: list[str] = []
    groups: list[str] = []
    short = 0
    for r in records:
        text = str(r.get("text") or "")
        if text in seen:
            continue
        seen.add(text)
        if mh.shingles(text).size < MIN_SHINGLES:
            short += 1
            continue
        originals.append(text)
        groups.append(str(r.get("label") or r.get("_source") or ""))
    sh = [mh.shingles(t) for t in originals]
    dup_of: dict[int, set[int]] = defaultdict(set)
    for i in range(len(sh)):
        for j in range(i + 1, len(sh)):
            if mh.exact_jaccard(sh[i], sh[j]) >= 0.8:
                dup_of[i].add(j)
                dup_of[j].add(i)
    rnd = random.Random(seed)
    queries = [(kind, i, perturb(t, kind, rnd)) for i, t in enumerate(originals) for kind in types]
    return EvalSet(originals, groups, dict(dup_of), queries, short)


# --- index and scoring ---------------------------------------------------------------------


@dataclass
class Index:
    """In-memory LSH index with the product's functions (the DB version is neardup.py)."""

    k: int
    sigs: list[npt.NDArray[np.uint32]] = field(default_factory=list)
    shingle_sets: list[npt.NDArray[np.uint32]] = field(default_factory=list)
    buckets: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, text: str) -> int:
        s = mh.shingles(text, self.k)
        sig = mh.signature(s)
        idx = len(self.sigs)
        self.sigs.append(sig)
        self.shingle_sets.append(s)
        for key in mh.band_keys(sig).tolist():
            self.buckets[key].append(idx)
        return idx

    def query(self, text: str, *, exclude: int = -1) -> list[tuple[int, float]]:
        """Every LSH candidate (sharing a band) with its estimated Jaccard."""
        s = mh.shingles(text, self.k)
        sig = mh.signature(s)
        cand = {c for key in mh.band_keys(sig).tolist() for c in self.buckets.get(key, ())}
        cand.discard(exclude)
        return [(c, mh.estimate(sig, self.sigs[c])) for c in sorted(cand)]


@dataclass
class Row:
    name: str
    n: int
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scored:
    """Every (query, candidate) pair returned by LSH with its estimate, and the truths."""

    pairs: list[tuple[str, int, int, float]]  # (kind, query source, candidate, estimate)
    truths: dict[str, int]  # expected positives per kind
    candidates_per_query: float  # LSH candidates returned per perturbed query (lookup cost)


def score(es: EvalSet, *, k: int = mh.SHINGLE_K) -> Scored:
    index = Index(k)
    for text in es.originals:
        index.add(text)
    pairs: list[tuple[str, int, int, float]] = []
    truths: dict[str, int] = defaultdict(int)
    n_cand = 0
    for kind, src, text in es.queries:
        truths[kind] += 1 + len(es.dup_of.get(src, ()))
        found = index.query(text)
        n_cand += len(found)
        for cand, est in found:
            pairs.append((kind, src, cand, est))
    # originals against each other: the real duplicates (positives) and the negatives.
    truths["real"] = sum(len(v) for v in es.dup_of.values()) // 2
    for i, text in enumerate(es.originals):
        for cand, est in index.query(text, exclude=i):
            if cand > i:
                pairs.append(("real", i, cand, est))
    return Scored(pairs, dict(truths), n_cand / max(len(es.queries), 1))


def _is_true(es: EvalSet, kind: str, src: int, cand: int) -> bool:
    if kind == "real":
        return cand in es.dup_of.get(src, ())
    return cand == src or cand in es.dup_of.get(src, ())


def rows_at(es: EvalSet, sc: Scored, threshold: float) -> list[Row]:
    rows = {kind: Row(kind, sc.truths.get(kind, 0)) for kind in (*TYPES, "real")}
    for kind, src, cand, est in sc.pairs:
        if kind not in rows or est < threshold:
            continue
        if _is_true(es, kind, src, cand):
            rows[kind].tp += 1
        else:
            rows[kind].fp += 1
    for row in rows.values():
        row.fn = row.n - row.tp
    out = [r for r in rows.values() if r.n]
    overall = Row("overall (light + real)", 0)
    for r in out:
        if r.name != "heavy":
            overall.n += r.n
            overall.tp += r.tp
            overall.fp += r.fp
            overall.fn += r.fn
    return [*out, overall]


def negative_breakdown(
    es: EvalSet, *, k: int = mh.SHINGLE_K
) -> list[tuple[str, int, float, float]]:
    """Exact Jaccard of negative original pairs: (relation, pairs, p99, max) — how close do
    different messages on the same topic get?"""
    sh = [mh.shingles(t, k) for t in es.originals]
    by: dict[str, list[float]] = defaultdict(list)
    for i in range(len(sh)):
        for j in range(i + 1, len(sh)):
            if j in es.dup_of.get(i, ()):
                continue
            same = es.groups[i] == es.groups[j] and es.groups[i] != ""
            by["same category / same file" if same else "different"].append(
                mh.exact_jaccard(sh[i], sh[j])
            )
    return [
        (rel, len(v), float(np.percentile(v, 99)), float(max(v))) for rel, v in sorted(by.items())
    ]


def throughput(texts: Sequence[str], repeat: int = 3) -> float:
    """Fingerprints (normalise + shingle + signature + band keys) per second."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            mh.fingerprint([t])
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def fmt_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def report(
    records: Sequence[dict],
    *,
    seed: int = 20200,
    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    ks: Sequence[int] = (2, 3, 4, 5),
    out: Callable[[str], None] = print,
) -> EvalSet:
    """Print the evaluation tables (markdown) for ``records``."""
    es = build_set(records, seed=seed)
    out(
        f"Originals: {len(es.originals)} distinct texts ({es.skipped_short} too short skipped), "
        f"real duplicate pairs among them: {sum(len(v) for v in es.dup_of.values()) // 2}, "
        f"perturbed queries: {len(es.queries)}, seed {seed}\n"
    )
    sc = score(es)
    out(f"### At the chosen threshold {mh.THRESHOLD} (k = {mh.SHINGLE_K}, {mh.PARAMS_TAG})\n")
    out(
        fmt_table(
            ["type", "positives", "TP", "FP", "FN", "precision", "recall", "F1"],
            [
                (r.name, r.n, r.tp, r.fp, r.fn, r.precision, r.recall, r.f1)
                for r in rows_at(es, sc, mh.THRESHOLD)
            ],
        )
    )
    out("\n### Threshold × shingle size sweep (overall, light + real; heavy excluded)\n")
    sweep_rows = []
    for k in ks:
        sck = sc if k == mh.SHINGLE_K else score(es, k=k)
        for t in thresholds:
            o = rows_at(es, sck, t)[-1]
            heavy = next(r for r in rows_at(es, sck, t) if r.name == "heavy")
            sweep_rows.append(
                (k, t, o.precision, o.recall, o.f1, heavy.recall, sck.candidates_per_query)
            )
    out(
        fmt_table(
            ["k", "threshold", "precision", "recall", "F1", "heavy recall", "candidates/query"],
            sweep_rows,
        )
    )
    out("\n### Negative pairs of originals: exact Jaccard by shingle size\n")
    out(
        fmt_table(
            ["k", "relation", "pairs", "p99 J", "max J"],
            [(k, *row) for k in ks for row in negative_breakdown(es, k=k)],
        )
    )
    rate = throughput(es.originals)
    out(f"\nSignature throughput: {rate:,.0f} messages/s (one core, {len(es.originals)} texts)")
    return es
