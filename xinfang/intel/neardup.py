"""Near-duplicates and mass messages (疑似重复/群发): store signatures, link copies into groups.

Flow: ``case_registered`` (sent after the registration committed) → :func:`receive_registered`
→ :func:`case_link`: MinHash fingerprint of summary + content (``minhash.py``), candidates from
the LSH band keys, confirmation by the estimated Jaccard ≥ ``minhash.THRESHOLD``, then the new
case joins the group of its most similar earlier case (a group is created when that case had
none) and gets a ``near_duplicate`` event on its timeline. Cases the receiver missed (bulk
imports, a failed receiver) are caught up by ``manage.py intel_neardup``.

Concurrency: two copies registered at the same moment must end in one group.
* PostgreSQL: before looking up candidates the linking transaction takes transaction-scoped
  advisory locks on its band keys, in ascending order (no deadlock). Two texts can only be
  candidates of each other when they share a band key, so the second waits for the first to
  commit and then (READ COMMITTED: a new snapshot per statement) sees its buckets. The matched
  case's signature row is then locked ``FOR UPDATE`` before its group is read or created, so two
  light edits of one earlier case that share no band with each other still join one group.
* SQLite: transactions start ``IMMEDIATE`` (settings), so linking transactions run one at a time.

What a group counts (decision, used by statistics): a 群发/联名 campaign is **one group**; each
member stays its own 件 (it was registered and must be answered); 人次 is the sum of the members'
headcounts; distinct persons are the distinct petitioners of the members. One person writing the
same text by letter, phone and online is 3 件 / 3 人次 / 1 person.

Groups are not merged: a case that matches members of two groups joins the group of its best
match (the other link is kept in ``CaseSignature.matched_case`` only when it is the best).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, CasePetitioner
from xinfang.intel import minhash
from xinfang.intel.models import CaseSignature, DuplicateGroup, LshBucket

log = logging.getLogger(__name__)

# Texts with fewer distinct shingles (≈ 20 characters) are not linked: a bare summary such as
# "反映拖欠工资" is the same for many unrelated people and is no evidence of a campaign.
MIN_SHINGLES = 20
# Safety valve for pathological texts (boilerplate shared by very many cases): compare at most
# this many candidates, the ones sharing the most bands first.
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class LinkResult:
    group_id: int
    matched_case_id: int
    matched_number: str
    similarity: float
    created_group: bool


@dataclass(frozen=True)
class GroupCounts:
    cases: int  # 件
    headcount: int  # 人次
    persons: int  # distinct petitioners


def case_fingerprint(case: Case) -> minhash.Fingerprint:
    """The compared text of a case: its summary and its content."""
    return minhash.fingerprint([case.summary, case.content])


def _lock_keys(keys: Iterable[int]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: IMMEDIATE transactions already serialise writers
    ordered = sorted(set(int(k) for k in keys))
    with connection.cursor() as cur:
        # unnest yields the array in order: the locks are taken in ascending key order.
        cur.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k", [ordered])
        cur.fetchall()


def _candidate_signatures(case_id: int, keys: list[int]) -> list[tuple[int, bytes]]:
    """(case id, signature) of the cases sharing a band key with ``keys`` — at most
    MAX_CANDIDATES, most shared bands first. One plain SQL round trip: this is the hot path of
    every registration, and the ORM's query building cost 3–4× the query itself (bench)."""
    sig_table = CaseSignature._meta.db_table
    bucket_table = LshBucket._meta.db_table
    marks = ", ".join(["%s"] * len(keys))
    sql = (
        f"SELECT s.case_id, s.signature FROM {sig_table} s WHERE s.case_id IN ("
        f"SELECT b.case_id FROM {bucket_table} b WHERE b.key IN ({marks}) AND b.case_id <> %s"
        f" GROUP BY b.case_id ORDER BY COUNT(*) DESC, b.case_id LIMIT %s)"
        f" AND s.params = %s AND s.n_shingles >= %s"
    )
    params: list[int | str] = [*keys, case_id, MAX_CANDIDATES, minhash.PARAMS_TAG, MIN_SHINGLES]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(cid), bytes(raw)) for cid, raw in cur.fetchall()]


def _best_match(case_id: int, fp: minhash.Fingerprint) -> tuple[int, float] | None:
    rows = _candidate_signatures(case_id, [int(k) for k in fp.keys])
    if not rows:
        return None
    sigs = np.stack([minhash.from_bytes(raw) for _, raw in rows])
    sims = minhash.estimate_many(fp.sig, sigs)
    # Best similarity; ties go to the earliest case (the smaller id).
    best = min(range(len(rows)), key=lambda i: (-sims[i], rows[i][0]))
    if sims[best] < minhash.THRESHOLD:
        return None
    return rows[best][0], float(sims[best])


def _store(case: Case, fp: minhash.Fingerprint) -> CaseSignature:
    LshBucket.objects.filter(case_id=case.pk).delete()
    sig, _ = CaseSignature.objects.update_or_create(
        case_id=case.pk,
        defaults={
            "params": minhash.PARAMS_TAG,
            "signature": minhash.to_bytes(fp.sig),
            "n_shingles": fp.n_shingles,
            "computed_at": timezone.now(),
        },
    )
    if fp.n_shingles >= MIN_SHINGLES:
        LshBucket.objects.bulk_create([LshBucket(key=int(k), case_id=case.pk) for k in fp.keys])
    return sig


def case_link(case: Case, *, record_event: bool = True) -> LinkResult | None:
    """Compute and store the case's signature; link it to its best near-duplicate, if any.

    Guard: none (derived data); a case already linked keeps its group (idempotent: a second call
    only refreshes the signature). Effect: ``CaseSignature`` + ``LshBucket`` rows; on a match the
    case joins (or founds, with the matched case) a ``DuplicateGroup``. Event: ``near_duplicate``
    on this case's timeline (group, matched case number, similarity) when it is linked and
    ``record_event`` (the rebuild passes False for cases whose timeline already has one: the
    timeline is append-only, a recomputation is not a new finding).
    """
    fp = case_fingerprint(case)
    with transaction.atomic():
        if fp.n_shingles >= MIN_SHINGLES:
            _lock_keys(fp.keys)
        existing = CaseSignature.objects.filter(case_id=case.pk).values_list("group_id", flat=True)
        already_grouped = any(g is not None for g in existing)
        own = _store(case, fp)
        if already_grouped or fp.n_shingles < MIN_SHINGLES:
            return None
        match = _best_match(case.pk, fp)
        if match is None:
            return None
        matched_id, similarity = match
        # Lock the matched signature before reading its group: two edits of one earlier case
        # that share no band with each other must not both found a group.
        matched_sig = CaseSignature.objects.select_for_update().get(case_id=matched_id)
        now = timezone.now()
        existing_group = matched_sig.group_id
        created = existing_group is None
        if existing_group is None:
            first_id = min(matched_id, case.pk)
            group = DuplicateGroup.objects.create(
                first_case_id=first_id, case_count=2, created_at=now, updated_at=now
            )
            matched_sig.group = group
            matched_sig.save(update_fields=["group"])
        else:
            group = DuplicateGroup.objects.get(pk=existing_group)
            DuplicateGroup.objects.filter(pk=group.pk).update(
                case_count=F("case_count") + 1, updated_at=now
            )
        own.group = group
        own.matched_case_id = matched_id
        own.similarity = similarity
        own.save(update_fields=["group", "matched_case", "similarity"])
        matched_number = Case.objects.filter(pk=matched_id).values_list("number", flat=True)[0]
        if record_event:
            _record_event(case, group.pk, matched_id, matched_number, similarity, now)
        return LinkResult(
            group_id=group.pk,
            matched_case_id=matched_id,
            matched_number=matched_number,
            similarity=similarity,
            created_group=created,
        )


def _record_event(
    case: Case, group_id: int, matched_id: int, matched_number: str, similarity: float, now: Any
) -> None:
    CaseEvent.objects.create(
        case=case,
        kind="near_duplicate",
        # Dated with the registration it belongs to: a catch-up run or a backdated import
        # must not put it at the end of the timeline.
        at=case.registered_at,
        text=(
            f"内容与已登记的事项高度相似（估计相似度 {similarity:.0%}），"
            # No group number in the text: the timeline of every member shows it, and the same
            # number on a 检举控告 case and a public one would link them (confidential rule 4).
            "已归入疑似重复/群发组，请核对是否为同一诉求的重复或群发件。"
        ),
        data={
            "group_id": group_id,
            "matched_case_id": matched_id,
            "matched_number": matched_number,
            "similarity": round(similarity, 3),
        },
    )


def receive_registered(sender: Any, case: Case, **kwargs: Any) -> None:
    """``case_registered`` receiver (after commit). Errors are logged by the sender; the
    catch-up command links the case later."""
    case_link(case)


# --- reads -----------------------------------------------------------------------------------


def group_counts(case_ids: Iterable[int]) -> GroupCounts:
    """件 / 人次 / distinct persons of a set of member cases (see the module docstring)."""
    ids = list(case_ids)
    if not ids:
        return GroupCounts(0, 0, 0)
    agg = Case.objects.filter(pk__in=ids).aggregate(n=Count("id"), people=Sum("headcount"))
    persons = (
        CasePetitioner.objects.filter(case_id__in=ids).values("petitioner_id").distinct().count()
    )
    return GroupCounts(cases=agg["n"] or 0, headcount=agg["people"] or 0, persons=persons)


def campaign_counts(cases: QuerySet[Case]) -> list[tuple[int, GroupCounts]]:
    """Per duplicate group among ``cases`` (already filtered by the caller, e.g. to a period
    and to ``cases_visible_to(user)``): (group id, counts over those cases), largest first."""
    members: dict[int, list[int]] = {}
    for case_id, group_id in CaseSignature.objects.filter(
        case__in=cases, group__isnull=False
    ).values_list("case_id", "group_id"):
        members.setdefault(group_id, []).append(case_id)
    out = [(g, group_counts(ids)) for g, ids in members.items()]
    return sorted(out, key=lambda item: (-item[1].cases, item[0]))


@dataclass(frozen=True)
class VisibleGroup:
    group_id: int
    others: list[Case]  # visible members other than the case itself, oldest first
    counts: GroupCounts  # over the visible members, the case itself included


def visible_group(user: Any, case: Case) -> VisibleGroup | None:
    """The case's duplicate group as ``user`` may see it: only members that
    ``cases_visible_to(user)`` returns are listed or counted — an invisible or confidential
    member is neither shown nor revealed by a count. None when no other member is visible.

    A near-duplicate link is a text match, so ``confidential.search_guard`` applies as to a
    search: a 检举控告 member counts only for the desk/case staff of its registering office —
    for anyone else (a leader who may open it by number) it is left out, and a 检举控告 case's
    own panel is empty, else the public copy's text would tell what the accusation says."""
    from xinfang.cases.confidential import search_guard
    from xinfang.cases.policy import cases_visible_to

    group_id = (
        CaseSignature.objects.filter(case_id=case.pk).values_list("group_id", flat=True).first()
    )
    if group_id is None:
        return None
    visible = cases_visible_to(user).filter(search_guard(user), near_signature__group_id=group_id)
    ids = list(visible.values_list("pk", flat=True))
    if case.pk not in ids:
        return None
    others = list(
        visible.exclude(pk=case.pk)
        .select_related("office_unit")
        .order_by("registered_at", "pk")[:50]
    )
    if not others:
        return None  # the only member this user may see is the case itself: nothing to show
    return VisibleGroup(group_id=group_id, others=others, counts=group_counts(ids))


# --- catch-up --------------------------------------------------------------------------------


def catch_up(*, rebuild: bool = False, progress: Any = None, batch: int = 500) -> dict[str, int]:
    """Link every case without a current signature (bulk-seeded cases, failed receivers), in
    registration order so earlier cases are found first. ``rebuild``: drop all signatures,
    buckets and groups first and recompute everything; a case whose timeline already has a
    ``near_duplicate`` event gets no second one. ``progress(done, total)`` is called per batch.
    Returns counts (processed, linked, groups)."""
    if rebuild:
        with transaction.atomic():
            LshBucket.objects.all().delete()
            CaseSignature.objects.all().delete()
            DuplicateGroup.objects.all().delete()
    current = CaseSignature.objects.filter(params=minhash.PARAMS_TAG).values("case_id")
    todo = Case.objects.exclude(pk__in=current).order_by("pk")
    total = todo.count()
    noted = set(CaseEvent.objects.filter(kind="near_duplicate").values_list("case_id", flat=True))
    done = linked = 0
    last_pk = 0
    while True:
        chunk = list(todo.filter(pk__gt=last_pk).only("pk", "summary", "content", "number")[:batch])
        if not chunk:
            break
        for case in chunk:
            if case_link(case, record_event=case.pk not in noted) is not None:
                linked += 1
        done += len(chunk)
        last_pk = chunk[-1].pk
        if progress is not None:
            progress(done, total)
    return {"processed": done, "linked": linked, "groups": DuplicateGroup.objects.count()}
