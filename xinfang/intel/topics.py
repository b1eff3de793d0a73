"""Topic clustering for hotspots: keyword sets per text, then connected components.

Pure functions of their input (no database), so the page, the API, the bulletins and the
real-data bench (``bench/bench_hotspots.py``) cluster exactly the same way.

Why this shape:

* **Keyword sets, not full vectors.** Each text is reduced to its ``TOP_TERMS`` rjieba words with
  the highest tf·idf (idf over the texts being clustered; the summary/title counts twice). Two
  petitions about the same matter share their distinctive words (the estate, the school, 物业费,
  油烟 …) while boilerplate (反映, 请求, 相关部门) is removed by a stop list and by idf. Texts with
  the same keyword set collapse into one node before any pairwise work, which is what keeps tens
  of thousands of templated petitions cheap.
* **Connected components over cosine ≥ ``THRESHOLD``** between the idf-weighted binary keyword
  sets, inside one block (the first-level category when cases have one). Deterministic (no random
  start, no iteration order effects), no number of clusters to choose, and a new message that
  bridges two groups of the same matter joins them — which is what a hotspot is. The known risk of
  single linkage, chaining unrelated texts through intermediates, is limited by the fairly high
  threshold on short keyword sets and by the category blocks; the bench prints the clusters of the
  real Teddy Cup messages so the result can be looked at.
* The pairwise product is computed in row chunks (bounded memory) with scipy's sparse matrices.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import rjieba
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from xinfang.intel.text import normalize

SCHEME = 1  # of terms_of: bump when it changes (stored terms are then recomputed)
TOP_TERMS = 6
MAX_TERMS = 12
LABEL_SAMPLE = 500
THRESHOLD = 0.3
STEP = 0.1
MAX_THRESHOLD = 0.6
COHESION = 0.6
SUMMARY_CHARS = 120
CONTENT_CHARS = 240
CHUNK_ROWS = 2000

# Petition boilerplate: words in nearly every message that say nothing about the matter.
_STOP_TEXT = """
    反映 问题 请求 要求 希望 相关 部门 有关 领导 您好 你好 书记 市长 政府 我们 他们 你们 自己
    没有 已经 进行 情况 目前 现在 一个 什么 怎么 如何 为什么 是否 能否 可以 不能 这个 那个
    这些 那些 以及 由于 因为 所以 但是 而且 并且 还是 或者 如果 虽然 本人 居民 群众 市民 尽快
    解决 处理 落实 督促 依法 给予 谢谢 感谢 关于 导致 造成 存在 严重 一直 多次 近日 近期 时间
    工作 单位 信访人 反映人 相关部门 有关部门 请求督促 请问 咨询 建议 问下 一下 还有 不是 就是
    这样 那么 非常 已经 需要 应该 通过 对于 其中 一些 很多 今年 去年 上述 此事 此类 之后 之前
    以来 以后 以前 期间 同时 然后 只是 只能 不到 没人 无人 能够 如今 为何 出现 发生 表示 认为
    情况下 不予 予以 及时 有效 切实 相应 具体 相关单位 市委 区委 县委 谢谢您 您们 大家 各位
    电话 号码 编号 联系 联系电话 手机 地址
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
_WORD_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffa-z0-9]")
_DIGITS_RE = re.compile(r"^[0-9a-z]*\d[0-9a-z]*$")  # 2019年 stays; 123, 5g do not


def terms_of(summary: str, content: str) -> Counter[str]:
    """Term counts of one text: rjieba words of ≥ 2 characters, no stop words, no numbers;
    the summary (title) counted twice, the content cut to its opening ``CONTENT_CHARS``; the
    ``MAX_TERMS`` most frequent terms."""
    head = normalize(summary, limit=SUMMARY_CHARS)
    body = normalize(content, limit=CONTENT_CHARS)
    counts: Counter[str] = Counter()
    for text, weight in ((head, 2), (body, 1)):
        if not text:
            continue
        for word in rjieba.cut(text):
            if len(word) < 2 or word in STOPWORDS or not _WORD_RE.search(word):
                continue
            if _DIGITS_RE.match(word):
                continue
            counts[word] += weight
    # The heaviest MAX_TERMS only (ties: first seen, so summary words win): what is stored per
    # case stays small, and a long message cannot outweigh a short one in the idf.
    return Counter(dict(counts.most_common(MAX_TERMS)))


def idf_of(docs: Iterable[Mapping[str, int]]) -> dict[str, float]:
    """Smoothed idf over ``docs``: ln((N+1)/(df+1)) + 1."""
    docs = list(docs)
    df = Counter(itertools.chain.from_iterable(docs))  # one C-level pass over all keys
    n = len(docs)
    return {t: math.log((n + 1) / (d + 1)) + 1.0 for t, d in df.items()}


def keyword_set(
    counts: Mapping[str, int], idf: dict[str, float], k: int = TOP_TERMS
) -> tuple[str, ...]:
    """The ``k`` terms with the highest tf·idf (ties by the term itself: deterministic)."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1] * idf.get(kv[0], 1.0), kv[0]))
    return tuple(sorted(t for t, _ in ranked[:k]))


def cluster(
    keysets: Sequence[tuple[str, ...]],
    blocks: Sequence[Hashable],
    idf: dict[str, float],
    *,
    threshold: float = THRESHOLD,
) -> list[int]:
    """A cluster number per text (same order as ``keysets``): connected components of the graph
    "cosine(idf-weighted binary keyword sets) ≥ threshold", only within the same block.
    Empty keyword sets (no usable words) each get a cluster of their own."""
    labels = [-1] * len(keysets)
    next_label = 0
    by_block: dict[tuple[Hashable, tuple[str, ...]], list[int]] = {}
    for i, (keys, block) in enumerate(zip(keysets, blocks, strict=True)):
        if not keys:
            labels[i] = next_label
            next_label += 1
            continue
        by_block.setdefault((block, keys), []).append(i)
    # Unique (block, keyword set) nodes, grouped by block in a deterministic order.
    nodes_by_block: dict[Hashable, list[tuple[str, ...]]] = {}
    for block, keys in by_block:
        nodes_by_block.setdefault(block, []).append(keys)
    for block in sorted(nodes_by_block, key=repr):
        nodes = sorted(nodes_by_block[block])
        weights = [len(by_block[(block, keys)]) for keys in nodes]
        component = _components(nodes, weights, idf, threshold)
        base = next_label
        for keys, comp in zip(nodes, component, strict=True):
            for i in by_block[(block, keys)]:
                labels[i] = base + int(comp)
        next_label = base + (int(component.max()) + 1 if len(component) else 0)
    return labels


def _components(
    nodes: list[tuple[str, ...]], weights: list[int], idf: dict[str, float], threshold: float
) -> np.ndarray:
    """Component number per node; chained components are split again (``_refine``)."""
    if len(nodes) == 1:
        return np.zeros(1, dtype=np.int64)
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, keys in enumerate(nodes):
        idfs = [idf.get(t, 1.0) for t in keys]
        norm = math.sqrt(sum(w * w for w in idfs)) or 1.0
        for t, w in zip(keys, idfs, strict=True):
            rows.append(r)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(w / norm)
    matrix = csr_matrix((vals, (rows, cols)), shape=(len(nodes), len(vocab)), dtype=np.float32)
    return _refine(matrix, np.asarray(weights, dtype=np.float32), threshold)


def _refine(matrix: csr_matrix, weights: np.ndarray, threshold: float) -> np.ndarray:
    """Connected components at ``threshold``; a component whose members are, on average (by
    texts), less similar than ``COHESION`` to its centroid is a chain of different matters
    joined through intermediates — it is clustered again at ``threshold + STEP`` (up to
    ``MAX_THRESHOLD``)."""
    n = matrix.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    transposed = matrix.T.tocsr()
    edge_rows, edge_cols = [], []
    for start in range(0, n, CHUNK_ROWS):
        product = (matrix[start : start + CHUNK_ROWS] @ transposed).tocoo()
        keep = product.data >= threshold
        edge_rows.append(product.row[keep] + start)
        edge_cols.append(product.col[keep])
    src = np.concatenate(edge_rows)
    dst = np.concatenate(edge_cols)
    graph = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    count, component = connected_components(graph, directed=False)
    if threshold + STEP > MAX_THRESHOLD + 1e-9:
        return np.asarray(component, dtype=np.int64)
    out = np.asarray(component, dtype=np.int64).copy()
    next_label = int(count)
    for label in range(int(count)):
        idx = np.flatnonzero(component == label)
        if len(idx) < 3:
            continue
        sub, w = matrix[idx], weights[idx]
        centroid = np.asarray(sub.T @ w).ravel()
        norm = float(np.linalg.norm(centroid)) or 1.0
        cohesion = float((sub @ (centroid / norm)) @ w / w.sum())
        if cohesion >= COHESION:
            continue
        parts = _refine(sub, w, threshold + STEP)
        # Part 0 keeps the label, the others get new ones (order-stable: deterministic).
        for part in range(1, int(parts.max()) + 1):
            out[idx[parts == part]] = next_label
            next_label += 1
    return out


def top_terms(members: Sequence[Mapping[str, int]], idf: dict[str, float], k: int = 5) -> list[str]:
    """Label words of a cluster from its members' term counts: by (members having the term) ×
    idf, then by the total count, then the term itself (deterministic). A big cluster is read
    from its first ``LABEL_SAMPLE`` members (its order is the caller's, deterministic)."""
    sample = members[:LABEL_SAMPLE]
    df = Counter(itertools.chain.from_iterable(sample))
    tf: Counter[str] = Counter()
    for counts in sample:
        tf.update(counts)
    ranked = sorted(df, key=lambda t: (-df[t] * idf.get(t, 1.0), -tf[t], t))
    return ranked[:k]
