"""The in-process inverted index behind the similar-case search.

Design (why not the database): a text-similarity query touches tens of thousands of postings; a
SQL join over a million cases' terms takes seconds, numpy over the same postings in memory takes
milliseconds. The index is derived data: it is built from the persisted ``CaseVector`` counts (no
re-tokenising at start-up), and before every search it *catches up* with one indexed query for the
vectors written since (``indexed_at`` newer than what it has, with an overlap window so a row
committed late by a slower transaction is not skipped).

Shape:

* rows: one per indexed case (``row_case`` maps row → case id). A re-indexed case gets a new row
  and its old row is marked dead.
* **main segment**: postings by term (CSC-like ``ptr``/``rows``/``w``), weights float16. Per case
  only its ``KEEP_TERMS`` heaviest terms are posted (doc-side pruning, which bounds memory at
  about 6 bytes × KEEP_TERMS per case), and terms in more than ``MAX_DF_RATIO`` of the cases
  are not posted at all (they cannot tell cases apart). Weights are the case's full L2-normalised
  tf-idf, so a posted weight is the true contribution to the cosine.
* **delta segment**: rows added since the main segment was built, as flat arrays scanned per
  query (small); merged into the main segment when it grows past ``MERGE_AT``.
* search: the query's ``QUERY_TERMS`` highest-weight terms (skipping unseen and too-common ones),
  scores accumulated with ``np.bincount``, the top ``limit`` rows returned with their (approximate,
  never over-estimated) scores. The caller re-ranks them exactly (``similar``).

The IDF is frozen when a segment is built (document frequencies of new rows are counted at once,
their effect on weights shows at the next merge); a few hundred cases a day do not move it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils import timezone

from xinfang.intel import vectors as V

log = logging.getLogger(__name__)

KEEP_TERMS = 48
QUERY_TERMS = 32
MAX_DF_RATIO = 0.05
MIN_MAX_DF = 50  # tiny archives: never call a term "too common" below this many cases
MERGE_AT = 20_000
# A vector is written in a short transaction right after its ``indexed_at`` is taken; one that
# commits up to OVERLAP later than a newer one is still found (the window is re-read narrowly).
OVERLAP = dt.timedelta(seconds=10)
LOAD_CHUNK = 20_000
SYNC_BUILD_MAX = 20_000  # more vectors than this: the first build runs in a background thread


@dataclass
class _Main:
    ptr: np.ndarray  # int64, DIMS + 1
    rows: np.ndarray  # int32
    w: np.ndarray  # float16


@dataclass
class _Delta:
    rows: list[np.ndarray] = field(default_factory=list)
    terms: list[np.ndarray] = field(default_factory=list)
    w: list[np.ndarray] = field(default_factory=list)
    flat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    count: int = 0

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.flat is None:
            if self.rows:
                self.flat = (
                    np.concatenate(self.rows),
                    np.concatenate(self.terms),
                    np.concatenate(self.w),
                )
            else:
                empty = np.empty(0, dtype=np.int32)
                self.flat = (empty, np.empty(0, np.uint32), np.empty(0, np.float32))
        return self.flat


def _prune(
    rows: np.ndarray, terms: np.ndarray, w: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep each row's ``KEEP_TERMS`` heaviest non-stop terms (arrays grouped by row)."""
    keep = ~stop[terms]
    rows, terms, w = rows[keep], terms[keep], w[keep]
    if rows.size == 0:
        return rows, terms, w
    order = np.lexsort((-w, rows))
    rows, terms, w = rows[order], terms[order], w[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    lengths = np.diff(np.r_[starts, rows.size])
    rank = np.arange(rows.size) - np.repeat(starts, lengths)
    sel = rank < KEEP_TERMS
    return rows[sel], terms[sel], w[sel]


class SimilarIndex:
    """One per process (``get_index``); thread-safe for concurrent searches and catch-ups."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.row_case = np.empty(0, dtype=np.int64)
        self.alive = np.empty(0, dtype=bool)
        self.n_rows = 0
        self.df = np.zeros(V.DIMS, dtype=np.int32)
        self.idf = V.idf_of(self.df, 0)
        self.stop = np.zeros(V.DIMS, dtype=bool)
        self.main = _Main(
            np.zeros(V.DIMS + 1, np.int64), np.empty(0, np.int32), np.empty(0, np.float16)
        )
        self.delta = _Delta()
        self._recent: dict[int, dt.datetime] = {}
        # When the last read began: every vector written OVERLAP before it had committed by then.
        self._read_at: dt.datetime | None = None
        self.built = False
        self._building = False
        self._replacing = False
        self.build_seconds = 0.0

    # --- loading -----------------------------------------------------------------------------

    def _unseen(self) -> list[int] | None:
        """Case ids of vectors written since the last read (minus ``OVERLAP``) that this index
        has not seen — a narrow read of the ``indexed_at`` index; None when there are so many
        that rebuilding is cheaper (a bulk fill, ``intel_index --rebuild``)."""
        from xinfang.intel.models import CaseVector

        read_at = timezone.now()
        since = (self._read_at or read_at) - OVERLAP
        window = (
            CaseVector.objects.order_by()
            .filter(indexed_at__gte=since)
            .values_list("case_id", "indexed_at")
        )
        unseen = [cid for cid, at in window if self._recent.get(cid) != at]
        self._read_at = read_at
        if self.delta.count + len(unseen) >= MERGE_AT:
            return None
        return unseen

    def build(self) -> None:
        """Load every persisted vector and build the main segment (start-up, or a rebuild)."""
        started = time.monotonic()
        with self._lock:
            self._rebuild()
            self.built = True
        self.build_seconds = time.monotonic() - started
        log.info("similar index: %d cases in %.1f s", self.n_rows, self.build_seconds)

    def _rebuild(self) -> None:
        """Stream every vector into compact arrays (no per-case Python objects kept), then
        install a fresh main segment with a fresh IDF."""
        from xinfang.intel.models import CaseVector

        read_at = timezone.now()
        horizon = read_at - OVERLAP * 2
        ids: list[int] = []
        lengths: list[int] = []
        t_chunks: list[np.ndarray] = []
        c_chunks: list[np.ndarray] = []
        buf_t: list[np.ndarray] = []
        buf_c: list[np.ndarray] = []
        recent: dict[int, dt.datetime] = {}
        rows = CaseVector.objects.order_by().values_list("case_id", "terms", "indexed_at")
        for case_id, blob, at in rows.iterator(chunk_size=LOAD_CHUNK):
            terms, counts = V.unpack(blob)
            ids.append(case_id)
            lengths.append(terms.size)
            buf_t.append(terms)
            buf_c.append(counts)
            if at >= horizon:
                recent[case_id] = at
            if len(buf_t) >= LOAD_CHUNK:
                t_chunks.append(np.concatenate(buf_t))
                c_chunks.append(np.concatenate(buf_c))
                buf_t, buf_c = [], []
        if buf_t:
            t_chunks.append(np.concatenate(buf_t))
            c_chunks.append(np.concatenate(buf_c))
        terms_all = np.concatenate(t_chunks) if t_chunks else np.empty(0, np.uint32)
        del t_chunks
        counts_all = np.concatenate(c_chunks) if c_chunks else np.empty(0, np.uint8)
        del c_chunks
        self._install(
            np.asarray(ids, dtype=np.int64),
            np.asarray(lengths, dtype=np.int64),
            terms_all,
            counts_all,
        )
        self._recent = recent
        self._read_at = read_at

    def _install(
        self, case_ids: np.ndarray, lengths: np.ndarray, terms: np.ndarray, counts: np.ndarray
    ) -> None:
        """Replace everything by a main segment (case i ↔ ``case_ids[i]``, its ``lengths[i]``
        terms in order in ``terms``/``counts``). Weights, norms and pruning are computed by
        chunks of cases, so the peak memory stays near the size of the counts themselves."""
        n = int(case_ids.size)
        df = np.bincount(terms, minlength=V.DIMS).astype(np.int32)
        idf = V.idf_of(df, n)
        stop = df > max(MIN_MAX_DF, int(MAX_DF_RATIO * n))
        kept_r, kept_t, kept_w = [], [], []
        bounds = np.r_[0, np.cumsum(lengths)]
        step = 50_000
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            a, b = bounds[lo], bounds[hi]
            rows = np.repeat(np.arange(lo, hi, dtype=np.int32), lengths[lo:hi])
            t = terms[a:b]
            w = (1.0 + np.log(counts[a:b].astype(np.float32))) * idf[t]
            norm = np.sqrt(np.bincount(rows - lo, weights=w.astype(np.float64) ** 2))
            norm[norm == 0] = 1.0
            w = (w / norm[rows - lo]).astype(np.float32)
            r, t, w = _prune(rows, t, w, stop)
            kept_r.append(r)
            kept_t.append(t)
            kept_w.append(w.astype(np.float16))
        r = np.concatenate(kept_r) if kept_r else np.empty(0, np.int32)
        t = np.concatenate(kept_t) if kept_t else np.empty(0, np.uint32)
        w16 = np.concatenate(kept_w) if kept_w else np.empty(0, np.float16)
        del kept_r, kept_t, kept_w
        order = np.argsort(t, kind="stable")
        ptr = np.zeros(V.DIMS + 1, dtype=np.int64)
        np.cumsum(np.bincount(t, minlength=V.DIMS), out=ptr[1:])
        self.main = _Main(ptr, r[order], w16[order])
        self.row_case = case_ids.copy()
        self.alive = np.ones(n, dtype=bool)
        self.n_rows = n
        self.df, self.idf, self.stop = df, idf, stop
        self.delta = _Delta()

    def ready(self) -> bool:
        """Is the index usable now? The first call in a process builds it: at once when the
        archive is small, else in a background thread (minutes at a million cases) while the
        callers answer without it (``similar`` then lists only the petitioner's own cases)."""
        if self.built:
            return True
        from xinfang.intel.models import CaseVector

        with self._lock:
            if self._building:
                return False
            if CaseVector.objects.count() <= SYNC_BUILD_MAX:
                self._rebuild()
                self.built = True
                return True
            self._building = True
        threading.Thread(
            target=self._build_in_background, name="similar-index", daemon=True
        ).start()
        return False

    def _build_in_background(self) -> None:
        from django.db import connection

        try:
            self.build()
        except Exception:  # logged; the next request tries again
            log.exception("similar index: background build failed")
        finally:
            self._building = False
            connection.close()  # this thread's own connection

    def _replace(self) -> None:
        from django.db import connection

        global _INDEX
        try:
            fresh = SimilarIndex()
            fresh.build()
            with _INDEX_LOCK:
                if _INDEX is self:
                    _INDEX = fresh
        except Exception:  # logged; this index keeps serving (without the bulk-written vectors)
            log.exception("similar index: background rebuild failed")
        finally:
            self._replacing = False
            connection.close()

    def catch_up(self) -> int:
        """Add vectors written since the last look (one indexed query); returns rows added."""
        if not self.built:
            self.build()
            return self.n_rows
        from xinfang.intel.models import CaseVector

        with self._lock:
            if self._replacing:
                return 0  # a fresh index is being built; this one serves until it is swapped in
            unseen = self._unseen()
            if unseen is None:
                # A bulk fill or --rebuild: one rebuild beats many small adds. A large index is
                # rebuilt beside this one, in a thread, and swapped in when ready.
                if self.n_rows <= SYNC_BUILD_MAX:
                    self._rebuild()
                    return self.n_rows
                self._replacing = True
                threading.Thread(target=self._replace, name="similar-index", daemon=True).start()
                return 0
            if not unseen:
                return 0
            rows = [
                (cid, bytes(blob), at)
                for cid, blob, at in CaseVector.objects.filter(case_id__in=unseen).values_list(
                    "case_id", "terms", "indexed_at"
                )
            ]
            self._add(rows)
            horizon = (self._read_at or timezone.now()) - OVERLAP * 2
            self._recent = {c: at for c, at in self._recent.items() if at >= horizon}
            self._recent.update((cid, at) for cid, _, at in rows)
            return len(rows)

    def _add(self, rows: list[tuple[int, bytes, dt.datetime]]) -> None:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        old = np.flatnonzero(np.isin(self.row_case[: self.n_rows], ids))
        self.alive[old] = False  # re-indexed cases: the newer vector wins
        start = self.n_rows
        need = start + len(rows)
        if need > self.row_case.size:
            grow = max(need, int(self.row_case.size * 1.25) + 1024)
            self.row_case = np.resize(self.row_case, grow)
            self.alive = np.resize(self.alive, grow)
        self.row_case[start:need] = ids
        self.alive[start:need] = True
        self.n_rows = need
        for i, (_, blob, _) in enumerate(rows):
            terms, counts = V.unpack(blob)
            self.df[terms] += 1
            w = V.weights(terms, counts, self.idf)
            keep = ~self.stop[terms]
            terms, w = terms[keep], w[keep]
            if terms.size > KEEP_TERMS:
                top = np.argpartition(-w, KEEP_TERMS)[:KEEP_TERMS]
                terms, w = terms[top], w[top]
            self.delta.rows.append(np.full(terms.size, start + i, dtype=np.int32))
            self.delta.terms.append(terms)
            self.delta.w.append(w)
        self.delta.count += len(rows)
        self.delta.flat = None

    # --- search ------------------------------------------------------------------------------

    def query_weights(self, terms: np.ndarray, counts: np.ndarray) -> np.ndarray:
        return V.weights(terms, counts, self.idf)

    def search(self, terms: np.ndarray, q_w: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """Up to ``limit`` (case id, approximate score) pairs, best first. Under the lock: a
        rebuild swaps several arrays, which a search must see all old or all new."""
        with self._lock:
            return self._search(terms, q_w, limit)

    def _search(self, terms: np.ndarray, q_w: np.ndarray, limit: int) -> list[tuple[int, float]]:
        main, delta, n = self.main, self.delta, self.n_rows
        if terms.size == 0 or n == 0:
            return []
        usable = (~self.stop[terms]) & (self.df[terms] > 0)
        t, qw = terms[usable], q_w[usable]
        if t.size == 0:
            return []
        if t.size > QUERY_TERMS:
            top = np.argpartition(-qw, QUERY_TERMS)[:QUERY_TERMS]
            t, qw = t[top], qw[top]
        starts, ends = main.ptr[t], main.ptr[t + 1]
        parts_r = [main.rows[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        parts_w = [
            main.w[a:b].astype(np.float32) * float(q)
            for a, b, q in zip(starts.tolist(), ends.tolist(), qw.tolist(), strict=True)
        ]
        d_rows, d_terms, d_w = delta.arrays()
        if d_rows.size:
            order = np.argsort(t)
            ts, qs = t[order], qw[order]
            pos = np.searchsorted(ts, d_terms)
            pos[pos >= ts.size] = 0
            hit = ts[pos] == d_terms
            parts_r.append(d_rows[hit])
            parts_w.append(d_w[hit] * qs[pos[hit]])
        all_r = np.concatenate(parts_r) if parts_r else np.empty(0, np.int32)
        if all_r.size == 0:
            return []
        all_w = np.concatenate(parts_w)
        if all_r.size * 8 < n:
            # Few postings: reduce by sorting them instead of touching an n-sized array.
            uniq, inv = np.unique(all_r, return_inverse=True)
            scores = np.bincount(inv, weights=all_w)
            cand = uniq
        else:
            acc = np.bincount(all_r, weights=all_w, minlength=n)
            cand = np.flatnonzero(acc)
            scores = acc[cand]
        live = self.alive[cand]
        cand, scores = cand[live], scores[live]
        if cand.size > limit:
            top = np.argpartition(-scores, limit)[:limit]
            cand, scores = cand[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return list(zip(self.row_case[cand[order]].tolist(), scores[order].tolist(), strict=True))

    def stats(self) -> dict[str, Any]:
        main = self.main
        nbytes = (
            main.ptr.nbytes
            + main.rows.nbytes
            + main.w.nbytes
            + self.row_case.nbytes
            + self.alive.nbytes
            + self.df.nbytes
            + self.idf.nbytes
            + self.stop.nbytes
        )
        return {
            "rows": self.n_rows,
            "postings": int(main.rows.size),
            "delta_rows": self.delta.count,
            "stop_terms": int(self.stop.sum()),
            "bytes": int(nbytes),
            "build_seconds": self.build_seconds,
        }


_INDEX: SimilarIndex | None = None
_INDEX_LOCK = threading.Lock()


def get_index() -> SimilarIndex:
    global _INDEX
    with _INDEX_LOCK:
        if _INDEX is None:
            _INDEX = SimilarIndex()
        return _INDEX


def reset_index() -> None:
    """Forget the process's index (tests, a rebuild command, another database)."""
    global _INDEX
    with _INDEX_LOCK:
        _INDEX = None
