"""Similar cases (相似案件) for the reception desk's 口径一致 panel: given a new text, the earlier
cases most like it — the same petitioner's first, then the same place and topic, then by text
similarity — each with its latest reply and review decision, so the desk answers consistently.

Flow of ``similar_cases`` (reads only; the vectors are written by ``case_vector_store``):

1. the query text → hashed bigram counts (``vectors``) → tf-idf weights with the index's IDF;
2. the in-process index (``similar_index``) catches up with vectors written since its last look
   and returns the top ``CANDIDATES`` cases by approximate cosine;
3. those candidates, plus the given petitioners' cases, go through
   ``cases.policy.cases_visible_to(user)`` and ``confidential.search_guard(user)`` in one query
   (another unit's case, a case the user is accused in, or a 检举控告 case outside its registering
   office's desk never comes back) which also reads their persisted vectors;
4. exact cosine re-rank, the ranking rules, top ``k``; one query for the cases, one for replies.

If fewer than ``k`` survive the visibility filter and the index had more, it asks again for
4 × ``CANDIDATES``, then ``WIDE_CANDIDATES`` (a unit that sees a small share of the archive).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, CasePetitioner, Category
from xinfang.intel import vectors as V
from xinfang.intel.models import CaseVector
from xinfang.intel.similar_index import get_index

log = logging.getLogger(__name__)

CANDIDATES = 100
WIDE_CANDIDATES = 2000
MIN_SCORE = 0.1  # below this a text is not "similar"; the petitioner's own cases always count
MAX_K = 50
MAX_PETITIONERS = 20
MAX_PETITIONER_CASES = 200
MAX_ID = 2**62
PLACE_LEVEL = 9  # codes sharing the first 9 digits are the same street/township
HIT_FIELDS = (
    "number",
    "status",
    "purpose",
    "summary",
    "place_code",
    "place_name",
    "received_at",
    "category__name",
    "category__full_name",
    "handling_unit__name",
)
REPLY_KINDS = ("reply",)
DECISION_KINDS = {"decide_review": "复查决定", "decide_rereview": "复核决定"}


@dataclass
class SimilarHit:
    case: Case
    score: float  # exact cosine of the texts, 0..1
    same_petitioner: bool
    same_place: bool
    same_topic: bool
    reply: str  # latest 答复 text, "" if none (or masked)
    reply_at: dt.datetime | None
    decision: str = ""  # latest 复查/复核 decision text
    decision_at: dt.datetime | None = None
    decision_label: str = ""
    summary: str = ""  # what may be shown: the 检举控告 placeholder for confidential cases
    masked: bool = False


# --- writes: the persisted vectors ------------------------------------------------------------


def _vector_row(case_id: int, summary: str, content: str, now: dt.datetime) -> CaseVector:
    terms, counts = V.text_terms(summary, content)
    return CaseVector(
        case_id=case_id, terms=V.pack(terms, counts), n_terms=int(terms.size), indexed_at=now
    )


def case_vector_store(case: Case) -> CaseVector:
    """Compute and store ``case``'s vector (insert or replace). No guard: derived data of a case
    that is already registered; the index picks it up at its next catch-up."""
    row = _vector_row(case.pk, case.summary, case.content, timezone.now())
    CaseVector.objects.update_or_create(
        case_id=case.pk,
        defaults={"terms": row.terms, "n_terms": row.n_terms, "indexed_at": row.indexed_at},
    )
    return row


def index_registered_case(sender: Any, case: Case, **kwargs: Any) -> None:
    """``cases.signals.case_registered`` receiver (after commit). A failure is logged by the
    sender and repaired by ``intel_index``."""
    case_vector_store(case)


def vectors_fill(
    *, rebuild: bool = False, batch: int = 2000, progress: Callable[[int, int], Any] | None = None
) -> int:
    """Store vectors for cases that have none (bulk-seeded cases, a receiver that failed), or for
    every case with ``rebuild``. Walks cases by primary key in batches, one transaction each, so
    it can be interrupted and run again. Returns the number of vectors written."""
    batch = max(1, batch)
    todo = Case.objects.all() if rebuild else Case.objects.filter(intel_vector__isnull=True)
    total = todo.count()
    done, last = 0, 0
    while True:
        chunk = list(
            todo.filter(pk__gt=last).order_by("pk").values_list("pk", "summary", "content")[:batch]
        )
        if not chunk:
            break
        now = timezone.now()
        rows = [_vector_row(pk, summary, content, now) for pk, summary, content in chunk]
        with transaction.atomic():
            if rebuild:
                CaseVector.objects.bulk_create(
                    rows,
                    update_conflicts=True,
                    unique_fields=["case"],
                    update_fields=["terms", "n_terms", "indexed_at"],
                )
            else:
                # A receiver may have written one meanwhile: it is as good as ours.
                CaseVector.objects.bulk_create(rows, ignore_conflicts=True)
        done += len(rows)
        last = chunk[-1][0]
        if progress:
            progress(done, total)
    return done


# --- reads: the selector ----------------------------------------------------------------------


def _same_place(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    return len(a) >= PLACE_LEVEL and len(b) >= PLACE_LEVEL and a[:PLACE_LEVEL] == b[:PLACE_LEVEL]


_TOPICS: tuple[float, dict[int, tuple[int, int | None]]] = (0.0, {})
TOPIC_CACHE_SECONDS = 60.0


def _topic_keys(needed: Iterable[int]) -> dict[int, tuple[int, int | None]]:
    """category id → (id, parent id when the parent is a 二级 category or deeper). The tree is
    small reference data, read once a minute per process rather than once per query (and at
    once when a category is not known yet)."""
    global _TOPICS
    loaded_at, keys = _TOPICS
    stale = time.monotonic() - loaded_at > TOPIC_CACHE_SECONDS
    if stale or any(c not in keys for c in needed if c):
        rows = Category.objects.values_list("pk", "parent_id", "parent__level")
        keys = {pk: (pk, parent if (level or 0) >= 2 else None) for pk, parent, level in rows}
        _TOPICS = (time.monotonic(), keys)
    return keys


def _same_topic(keys: dict[int, tuple[int, int | None]], a: int | None, b: int | None) -> bool:
    if not a or not b:
        return False
    if a == b:
        return True
    pa, pb = keys.get(a, (a, None))[1], keys.get(b, (b, None))[1]
    return pa is not None and pa == pb


def _clean_ids(values: Iterable[Any], limit: int) -> list[int]:
    out: list[int] = []
    for v in values:
        try:
            i = int(v)
        except (TypeError, ValueError):
            continue
        if 0 < i < MAX_ID and i not in out:
            out.append(i)
        if len(out) >= limit:
            break
    return out


def _visible_candidates(
    user: Any, ids: Sequence[int], exclude_case_id: int | None, before: dt.datetime | None
) -> list[tuple[int, str, int | None, dt.datetime, Any]]:
    from xinfang.cases.confidential import search_guard
    from xinfang.cases.policy import cases_visible_to

    base = cases_visible_to(user).filter(search_guard(user))
    if exclude_case_id:
        base = base.exclude(pk=exclude_case_id)
    if before is not None:
        base = base.filter(received_at__lte=before)  # earlier cases only
    return list(
        base.filter(pk__in=list(ids))
        .order_by()
        .values_list("pk", "place_code", "category_id", "received_at", "intel_vector__terms")
    )


def _received_at(user: Any, case_id: int | None) -> dt.datetime | None:
    """When the excluded case came in — only if the user sees it (no probing other units)."""
    from xinfang.cases.policy import cases_visible_to

    if not case_id:
        return None
    rows = cases_visible_to(user).filter(pk=case_id).values_list("received_at", flat=True)
    return rows.first()


def similar_cases(
    user: Any,
    *,
    title: str,
    text: str,
    petitioner_ids: Sequence[int] = (),
    place_code: str = "",
    category_id: int | None = None,
    exclude_case_id: int | None = None,
    k: int = 10,
) -> list[SimilarHit]:
    """The ``k`` earlier cases most relevant to a new text that ``user`` may see, ranked: same
    petitioner first, then same place *and* topic, then by text similarity (``score``, exact
    cosine of the tf-idf bigram vectors). Cases below ``MIN_SCORE`` appear only as the same
    petitioner's. Bad input (empty, punctuation only, huge, emoji, English) gives fewer or no
    hits, never an error: the text is cut before any work."""
    k = max(1, min(int(k), MAX_K))
    pids = _clean_ids(petitioner_ids, MAX_PETITIONERS)
    exclude = next(iter(_clean_ids([exclude_case_id], 1)), None)
    category = next(iter(_clean_ids([category_id], 1)), None)
    place = (place_code or "").strip()[:12]
    q_terms, q_counts = V.text_terms(title or "", text or "")
    if q_terms.size == 0 and not pids:
        return []
    index = get_index()
    usable = index.ready()
    if usable:
        index.catch_up()
    else:
        q_terms = q_terms[:0]  # still loading: the petitioner's own cases only
    q_w = index.query_weights(q_terms, q_counts[: q_terms.size])
    pet_cases: set[int] = set()
    if pids:
        pet_cases = set(
            CasePetitioner.objects.filter(petitioner_id__in=pids)
            .order_by("-case_id")
            .values_list("case_id", flat=True)[:MAX_PETITIONER_CASES]
        )
    before = _received_at(user, exclude)
    visible: list[tuple[int, str, int | None, dt.datetime, Any]] = []
    for limit in (CANDIDATES, CANDIDATES * 4, WIDE_CANDIDATES):
        found = index.search(q_terms, q_w, limit) if q_terms.size else []
        ids = [cid for cid, score in found if score > 0] + sorted(pet_cases)
        visible = _visible_candidates(user, list(dict.fromkeys(ids)), exclude, before)
        if len(visible) >= k or len(found) < limit:
            break
    if not visible:
        return []
    docs = [V.unpack(row[4] if row[4] is not None else b"") for row in visible]
    scores = V.cosine_many(q_terms, q_w, docs, index.idf)  # text_terms are sorted
    topics = _topic_keys([category, *(row[2] or 0 for row in visible)]) if category else {}
    ranked = []
    for (pk, code, cat, received, _), score in zip(visible, scores.tolist(), strict=True):
        same_pet = pk in pet_cases
        if not same_pet and score < MIN_SCORE:
            continue
        same_place = _same_place(place, code)
        same_topic = _same_topic(topics, category, cat)
        key = (not same_pet, not (same_place and same_topic), -score, -received.timestamp())
        ranked.append((key, pk, score, same_pet, same_place, same_topic))
    ranked.sort()
    top = ranked[:k]
    return _hits(top)


def _hits(top: list[tuple[Any, int, float, bool, bool, bool]]) -> list[SimilarHit]:
    from xinfang.cases.confidential import PLACEHOLDER

    ids = [row[1] for row in top]
    # Only what a hit shows (the panel, the API): a case row is wide and ten of them are read
    # on every keystroke pause at the desk.
    cases = Case.objects.select_related("category", "handling_unit").only(*HIT_FIELDS).in_bulk(ids)
    # By case only, the kinds picked here: with a kind condition PostgreSQL may AND the kind
    # index (every reply in the archive) with the case index; a case has a handful of events.
    events = (
        CaseEvent.objects.filter(case_id__in=ids)
        .order_by("case_id", "-at", "-id")
        .values_list("case_id", "kind", "text", "at")
    )
    replies: dict[int, tuple[str, dt.datetime]] = {}
    decisions: dict[int, tuple[str, str, dt.datetime]] = {}
    for case_id, kind, text, at in events:
        if kind not in REPLY_KINDS and kind not in DECISION_KINDS:
            continue
        if kind in REPLY_KINDS:
            replies.setdefault(case_id, (text, at))
        else:
            decisions.setdefault(case_id, (DECISION_KINDS[kind], text, at))
    hits = []
    for _, pk, score, same_pet, same_place, same_topic in top:
        case = cases.get(pk)
        if case is None:
            continue
        masked = case.is_confidential
        reply, reply_at = replies.get(pk, ("", None))
        label, decision, decision_at = decisions.get(pk, ("", "", None))
        hits.append(
            SimilarHit(
                case=case,
                score=round(float(score), 4),
                same_petitioner=same_pet,
                same_place=same_place,
                same_topic=same_topic,
                reply="" if masked else reply,
                reply_at=reply_at,
                decision="" if masked else decision,
                decision_at=decision_at,
                decision_label=label,
                summary=PLACEHOLDER if masked else case.summary,
                masked=masked,
            )
        )
    return hits


def index_loading() -> bool:
    """True while the process's index is still being built in the background."""
    return not get_index().built


def may_use_similar(user: Any) -> bool:
    """Petition-office desk/case staff and handling-unit staff (who read cases and answer
    petitioners); leaders, supervisors and admin roles do not get the panel."""
    from xinfang.org import roles as R
    from xinfang.org.policy import role_codes

    return bool(role_codes(user) & (R.OFFICE_STAFF | R.UNIT_STAFF))
