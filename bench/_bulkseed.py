"""A fast bench fixture: ~100,000 cases written with ``bulk_create`` (not the demo, not the
services), with distributions like the demo's: channels, topics and categories, places, status by
age (recent cases open, older ones closed, a few stuck and overdue), 1–5 petitioners per case with
8 % repeat persons, and the Deadline rows each status implies (open obligations included, so the
临期/超期 filters have realistic work). No CaseEvent rows: the list does not read them.

Run ``seed(...)`` after the real demo sample so numbers continue the counters gap-free.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

BATCH = 5000
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# Status weights by the case's age in days: recent cases are open, old ones mostly closed.
BY_AGE: list[tuple[int, dict[str, float]]] = [
    (
        15,
        {
            "registered": 20,
            "assigned": 13,
            "forwarded": 12,
            "signed": 15,
            "accepted": 25,
            "informed": 5,
            "returned": 3,
            "closed": 7,
        },
    ),
    (
        90,
        {
            "accepted": 35,
            "replied": 8,
            "evaluated": 6,
            "closed": 40,
            "review_requested": 3,
            "signed": 2,
            "reviewed": 2,
            "refused": 1,
            "informed": 1,
            "returned": 1,
            "final": 1,
        },
    ),
    (
        100_000,
        {
            "closed": 88,
            "final": 2,
            "reviewed": 1,
            "rereview_requested": 0.5,
            "accepted": 2,
            "evaluated": 2,
            "replied": 1.5,
            "refused": 1,
            "informed": 1,
            "review_requested": 1,
        },
    ),
]
ROUTED = {
    "assigned",
    "forwarded",
    "signed",
    "accepted",
    "replied",
    "evaluated",
    "closed",
    "review_requested",
    "reviewed",
    "rereview_requested",
    "final",
    "refused",
}
REPLIED = {"replied", "evaluated", "review_requested", "reviewed", "rereview_requested", "final"}


@lru_cache(maxsize=20000)
def _initials(name: str) -> str:
    from xinfang.people.services import name_initials

    return name_initials(name)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _deadlines(
    status: str, received: dt.date, served: dt.date | None, now: dt.datetime, rng: random.Random
) -> list[tuple[str, dt.date, dt.date, dt.datetime | None]]:
    """(kind, started_on, due_on, met_at) rows for a case in ``status``."""
    d = dt.timedelta
    met = now - d(days=1)
    rows = []
    route_met = status in ROUTED or status == "informed" or status == "closed"
    rows.append(("route", received, received + d(days=15), met if route_met else None))
    if status in ("returned",):
        rows.append(("route", received + d(days=4), received + d(days=19), None))
    if status in ROUTED:
        accepted = status not in ("assigned", "forwarded", "signed", "refused")
        rows.append(
            (
                "accept",
                received + d(days=2),
                received + d(days=17),
                met if accepted or status == "refused" else None,
            )
        )
        if (accepted and status != "closed") or served:
            rows.append(
                (
                    "handle",
                    received + d(days=5),
                    received + d(days=65),
                    met if status != "accepted" else None,
                )
            )
    if served:
        review = status in ("review_requested", "reviewed", "rereview_requested", "final")
        rows.append(("review_request", served, served + d(days=30), met if review else None))
        if review:
            rows.append(
                (
                    "review_decide",
                    served + d(days=10),
                    served + d(days=40),
                    None if status == "review_requested" else met,
                )
            )
        if status in ("reviewed", "rereview_requested", "final"):
            later = served + d(days=30)
            rows.append(
                (
                    "rereview_request",
                    later,
                    later + d(days=30),
                    None if status == "reviewed" else met,
                )
            )
        if status in ("rereview_requested", "final"):
            later = served + d(days=45)
            rows.append(
                (
                    "rereview_decide",
                    later,
                    later + d(days=30),
                    None if status == "rereview_requested" else met,
                )
            )
    return rows


def seed(
    org: Any, n: int, seed: int, *, months: int = 24, progress: Callable[[str], Any] = print
) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from xinfang.cases.models import Case, CaseCounter, CasePetitioner, Category, Deadline
    from xinfang.org.demo_cases import CHANNELS, Planner, _pick
    from xinfang.org.demo_topics import TOPICS
    from xinfang.people.models import Petitioner

    started = time.monotonic()
    rng = random.Random(seed + 1)  # not the demo sample's sequence
    now = timezone.now()
    planner = Planner(org, rng, now)
    # ID numbers are encrypted at rest (xinfang.core.crypto): decrypt the ones already used.
    taken = Petitioner.objects.exclude(id_number_enc="").only("id_number_enc")
    planner.people.used_ids |= {p.id_number for p in taken.iterator() if p.id_number}
    level3 = list(Category.objects.filter(level=3).values_list("id", flat=True))
    counters = {(c.code, c.year): c.last for c in CaseCounter.objects.all()}
    codes = set(Case.objects.values_list("query_code", flat=True))
    users = {"desk": org.user("jiedai"), "officer": org.user("banan")}
    people_pool: list[int] = list(Petitioner.objects.values_list("id", flat=True))
    topic_weights = [t.weight for t in TOPICS]
    span = months * 30
    made = 0
    while made < n:
        size = min(BATCH, n - made)
        cases, parties, new_people = [], [], []
        for _ in range(size):
            age = span * (1 - rng.random() ** 0.8)  # a little more recent than uniform
            received = now - dt.timedelta(days=age, minutes=rng.randint(0, 600))
            topic = rng.choices(TOPICS, weights=topic_weights)[0]
            variant = rng.choice(topic.variants)
            place = planner.place_for(topic)
            ctx = planner.context(place)
            status = _weighted(rng, next(w for limit, w in BY_AGE if age <= limit))
            office_key = "office"
            if place.street in ("dh", "qs") and rng.random() < 0.25:
                office_key = place.street
            office = org.units[office_key]
            year = timezone.localtime(received).year
            prefix = office.effective_division_code()
            seq = counters.get((prefix, year), 0) + 1
            counters[(prefix, year)] = seq
            code = ""
            while not code or code in codes:
                code = "".join(rng.choices(QUERY_CODE_ALPHABET, k=10))
            codes.add(code)
            handling = None
            if status in ROUTED:
                key = rng.choice(topic.units)
                key = place.street if key == "street" else key
                handling = org.units[key if key != office_key else "zj"]
            served = None
            if status in REPLIED or (status == "closed" and rng.random() < 0.85):
                served = (received + dt.timedelta(days=rng.uniform(15, 70))).date()
                served = min(served, timezone.localdate())
            channel = _pick(rng, CHANNELS)
            headcount = rng.randint(5, 60) if channel == "collective_visit" else 1
            k = 1 if rng.random() < 0.88 else rng.randint(2, 5)
            case = Case(
                number=f"XF-{prefix}-{year}-{seq:06d}",
                query_code=code,
                channel=channel,
                purpose=variant.purpose,
                category_id=(
                    planner.categories.get(variant.cat)
                    if rng.random() < 0.9
                    else rng.choice(level3)
                ),
                place_code=place.code,
                place_name=f"{org.units[place.street].name}{place.name}",
                summary=variant.summary.format(**ctx),
                content=variant.detail.format(**ctx)
                + rng.choice(["此前已多次反映，至今未得到解决。", "本人首次反映此问题。", ""])
                + variant.demand,
                received_at=received,
                headcount=max(headcount, k),
                is_repeat=rng.random() < 0.07,
                is_skip_level=rng.random() < 0.04,
                is_collective=max(headcount, k) >= 5,
                is_joint=k > 1 and channel in ("letter", "online", "email", "fax"),
                status=status,
                office_unit=office,
                handling_unit=handling,
                registered_by=users["desk" if channel in ("visit", "phone") else "officer"],
                registered_at=received + dt.timedelta(minutes=rng.randint(5, 600)),
                evaluation=(
                    _weighted(rng, {"satisfied": 70, "basically": 20, "unsatisfied": 10})
                    if status in ("evaluated", "closed") and served
                    else ""
                ),
                served_at=served,
                closed_at=now - dt.timedelta(days=1) if status in ("closed", "final") else None,
            )
            people: list[Any] = []
            for _ in range(k):
                if people_pool and rng.random() < 0.08:
                    people.append(rng.choice(people_pool))
                else:
                    p = planner.people.person(topic, place, channel)
                    born = p.id_number[6:14] if p.id_number else ""
                    person = Petitioner(
                        name=p.name,
                        name_initials=_initials(p.name),
                        sex=(("M" if int(p.id_number[16]) % 2 else "F") if p.id_number else p.sex),
                        birth_date=(
                            dt.date(int(born[:4]), int(born[4:6]), int(born[6:])) if born else None
                        ),
                        age_band=p.age_band,
                        address=p.address,
                        education=p.education,
                        occupation=p.occupation,
                        ethnic_group=p.ethnic_group,
                    )
                    # Encrypted at rest: the properties encrypt and compute the blind indexes.
                    person.id_number = p.id_number or None
                    person.phone = p.phone
                    new_people.append(person)
                    people.append(person)
            cases.append(case)
            parties.append(people)
        with transaction.atomic():
            Petitioner.objects.bulk_create(new_people)
            people_pool += [p.pk for p in new_people]
            Case.objects.bulk_create(cases)
            links, dls = [], []
            for case, people in zip(cases, parties, strict=True):
                seen: set[int] = set()
                for i, person in enumerate(people):
                    pid = person if isinstance(person, int) else person.pk
                    if pid in seen:
                        continue
                    seen.add(pid)
                    links.append(
                        CasePetitioner(
                            case=case,
                            petitioner_id=pid,
                            order=i,
                            role="cosigner" if i else "principal",
                        )
                    )
                received_day = timezone.localtime(case.received_at).date()
                for kind, start, due, met in _deadlines(
                    case.status, received_day, case.served_at, now, rng
                ):
                    dls.append(
                        Deadline(case=case, kind=kind, started_on=start, due_on=due, met_at=met)
                    )
            CasePetitioner.objects.bulk_create(links)
            Deadline.objects.bulk_create(dls)
        made += size
        progress(f"  bulk: {made:,}/{n:,} cases ({time.monotonic() - started:.0f} s)")
    with transaction.atomic():
        for (prefix, year), last in counters.items():
            CaseCounter.objects.update_or_create(code=prefix, year=year, defaults={"last": last})
    return {"seconds": time.monotonic() - started}


if __name__ == "__main__":
    print("bench/_bulkseed.py: the bulk fixture of bench_case_list.py; nothing to run.")
