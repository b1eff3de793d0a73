"""A year of demo cases, created through the real services with historical times (``at=``).

Each case is planned first: a scenario (the state it should end in at "now"), a topic with its
category and texts, a channel, petitioners, and a timeline of service calls whose delays follow
practice (routed within days, signed in within 1–2 days, replied within 10–70 days, evaluated,
sometimes returned, extended, refused, reviewed and re-reviewed). The plans are then executed in
registration order, so case numbers follow time and repeat petitions find their earlier case.
Deterministic for a given ``seed`` and day (query codes are random by design).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases import services as S
from xinfang.cases.models import Case, Category, Channel, DeadlineKind, Status
from xinfang.cases.registration import Registration, case_register
from xinfang.cases.signals import registrations_in_bulk
from xinfang.core.errors import DomainError
from xinfang.org import demo_text as T
from xinfang.org.demo import DemoOrg, Place
from xinfang.org.demo_people import PeopleMaker
from xinfang.org.demo_timeline import Clock, Step, build_steps
from xinfang.org.demo_topics import TOPICS, Topic
from xinfang.people.services import PetitionerInput
from xinfang.replies.services import record_checked_draft

BATCH = 200
PROGRESS_EVERY = 500
YEAR = dt.timedelta(days=365)

CHANNELS: list[tuple[str, float]] = [
    (Channel.VISIT, 24.0),
    (Channel.COLLECTIVE_VISIT, 4.0),
    (Channel.LETTER, 11.0),
    (Channel.PHONE, 14.0),
    (Channel.ONLINE, 30.0),
    (Channel.EMAIL, 3.0),
    (Channel.FAX, 0.5),
    (Channel.LEADER_DAY, 4.0),
    (Channel.FIELD_VISIT, 3.0),
    (Channel.FROM_ABOVE, 6.5),
]
WRITTEN = {Channel.LETTER, Channel.ONLINE, Channel.EMAIL, Channel.FAX}
# Registered by the reception desk; the others by a case officer.
DESK_CHANNELS = {Channel.VISIT, Channel.COLLECTIVE_VISIT, Channel.PHONE, Channel.LEADER_DAY}

# Scenario: the state a case has reached today. Open ones carry how long they have waited in
# that state: (lo, hi) days, and a share that has waited (late_lo, late_hi) — overdue cases.
Wait = tuple[float, float, float, float, float]
SCENARIOS: dict[str, tuple[float, Wait | None]] = {
    "closed": (47.0, None),
    "closed_inform": (6.5, None),
    "closed_refuse": (2.5, None),
    "closed_review": (2.5, None),
    "final": (1.2, None),
    "evaluated": (3.0, (0, 10, 0, 0, 0)),
    "replied": (4.0, (0, 12, 0, 0, 0)),
    "accepted": (11.0, (0, 60, 0.12, 62, 110)),
    "signed": (2.5, (0, 13, 0.2, 15, 30)),
    "assigned": (2.5, (0, 8, 0.15, 15, 25)),
    "forwarded": (2.5, (0, 8, 0.15, 15, 25)),
    "registered": (3.0, (0, 14, 0.2, 15, 25)),
    "returned": (1.5, (0, 5, 0.15, 10, 20)),
    "informed": (1.5, (0, 4, 0, 0, 0)),
    "refused": (1.0, (0, 6, 0, 0, 0)),
    "review_requested": (1.5, (0, 29, 0.1, 31, 45)),
    "reviewed": (1.0, (0, 20, 0, 0, 0)),
    "rereview_requested": (0.7, (0, 27, 0.1, 31, 40)),
}
# The deadline a case forced to be 临期 runs against: its start day is chosen with the real
# calendar so that the due date falls within the next two days, whatever today is.
DUE_SOON_KIND = {"accepted": DeadlineKind.HANDLE, "registered": DeadlineKind.ROUTE}


def due_soon_wait(kind: str, rng: random.Random, now: dt.datetime) -> float:
    """Days to have waited so that a deadline of ``kind`` started then is due in 0–2 days."""
    today = timezone.localtime(now).date()
    starts = [
        today - dt.timedelta(days=k)
        for k in range(1, 130)
        if today
        <= deadlines.due_date(kind, today - dt.timedelta(days=k))
        <= today + dt.timedelta(days=2)
    ]
    start = rng.choice(starts)
    local_now = timezone.localtime(now)
    moment = local_now.replace(year=start.year, month=start.month, day=start.day, hour=10, minute=0)
    return (now - moment).total_seconds() / 86400


OFFICE_DESK = {"inform", "evaluate", "request_review", "request_rereview"}
OFFICE_SIDE = OFFICE_DESK | {
    "assign",
    "forward",
    "decide_extension",
    "close",
    "decide_review",
    "decide_rereview",
}


@dataclass
class Plan:
    scenario: str
    office: str  # unit key of the registering petition office
    channel: str
    reg: Registration
    steps: list[Step]
    reg_delay: float = 0.0
    registered_at: dt.datetime | None = None


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


class Planner:
    def __init__(self, org: DemoOrg, rng: random.Random, now: dt.datetime) -> None:
        self.org = org
        self.rng = rng
        self.now = now
        self.clock = Clock(rng)
        streets = {p.street: org.units[p.street].name for p in org.places}
        self.people = PeopleMaker(rng, org.places, streets)
        self.categories = _category_index()
        self.groups: dict[str, list[PetitionerInput]] = {}
        # Rare features (联名, 越级) the demo must show at least once, whatever the day: the
        # random stream depends on today's calendar, so chance alone may miss them.
        self.shown: set[str] = set()

    def chance(self, feature: str, p: float) -> bool:
        """True with probability p, and always the first time ``feature`` is possible."""
        hit = self.rng.random() < p or feature not in self.shown
        if hit:
            self.shown.add(feature)
        return hit

    # --- what the case is about ------------------------------------------------------------
    def topic_for(self, scenario: str) -> Topic:
        legal = scenario in {"informed", "closed_inform", "refused", "closed_refuse"}
        weights = [t.weight * (t.legal + 0.02 if legal else 1 - t.legal) for t in TOPICS]
        return self.rng.choices(TOPICS, weights=weights)[0]

    def place_for(self, topic: Topic) -> Place:
        pool = [p for p in self.org.places if topic.rural is None or p.rural == topic.rural]
        return self.rng.choice(pool)

    def context(self, place: Place) -> dict[str, Any]:
        rng = self.rng
        villages = [p.name for p in self.org.places if p.rural]
        return {
            "xiaoqu": rng.choice(place.estates),
            "village": place.name if place.rural else rng.choice(villages),
            "community": place.name,
            "company": rng.choice(T.COMPANIES),
            "factory": rng.choice(T.FACTORIES),
            "school": rng.choice(T.SCHOOLS),
            "hospital": rng.choice(T.HOSPITALS),
            "road": rng.choice(T.ROADS),
            "shop": rng.choice(T.SHOPS),
            "project": rng.choice(T.PROJECTS),
            "route": rng.choice(T.BUS_ROUTES),
            "months": rng.randint(3, 18),
            "amount": rng.randint(8, 260),
            "small": rng.randint(30, 480) * 100,
            "n": rng.randint(3, 30),
            "years": rng.randint(2, 5),
        }

    # --- one plan ----------------------------------------------------------------------------
    def plan(self, label: str, regular: dict[str, Any] | None = None) -> Plan:
        """A plan for a scenario label: "accepted", or "accepted:soon" / "accepted:late" to
        force a case that is due within days / overdue today."""
        rng = self.rng
        scenario, _, mode = label.partition(":")
        if regular is None:
            topic = self.topic_for(scenario)
            variant = rng.choice(topic.variants)
            place = self.place_for(topic)
        else:
            topic, variant, place = regular["topic"], regular["variant"], regular["place"]
        channel = _pick(rng, CHANNELS)
        if channel == Channel.COLLECTIVE_VISIT and (not topic.group or regular):
            channel = Channel.VISIT
        if variant.purpose == "accusation" and channel == Channel.FROM_ABOVE:
            channel = Channel.LETTER
        ctx = self.context(place)
        street = self.org.units[place.street]
        place_code, place_name = place.code, f"{street.name}{place.name}"
        if rng.random() < 0.04:  # a street-wide matter
            place_code, place_name = street.division_code, street.name
        office = "office"
        if place.street in ("dh", "qs") and channel in DESK_CHANNELS and rng.random() < 0.4:
            office = place.street
        headcount, group_name, reps = 1, "", []
        people = [regular["person"]] if regular else [self.people.person(topic, place, channel)]
        history = rng.choice(T.HISTORY)
        if channel == Channel.COLLECTIVE_VISIT:
            group_name = topic.group.format(**ctx)
            headcount = rng.choice([rng.randint(5, 20), rng.randint(5, 30), rng.randint(20, 80)])
            reps = self.group_reps(group_name, topic, place)
            people = []
            history = f"{group_name}{headcount}人集体来访，推选代表{len(reps)}人反映。" + history
        elif channel in WRITTEN and topic.group and not regular and self.chance("joint", 0.12):
            people += [self.people.person(topic, place, channel) for _ in range(rng.randint(1, 5))]
            history = f"{len(people)}人联名反映。" + history
        skip = channel == Channel.FROM_ABOVE and self.chance("skip_level", 0.35)
        if skip:
            history += "信访人曾到市信访局反映，市信访局交办我区办理。"
        reg = Registration(
            channel=channel,
            purpose=variant.purpose,
            summary=variant.summary.format(**ctx),
            content=variant.detail.format(**ctx) + history + variant.demand,
            petitioners=people,
            representatives=reps,
            received_at=self.now,
            category_id=self.categories.get(variant.cat),
            place_code=place_code,
            place_name=place_name,
            headcount=headcount,
            group_name=group_name,
            skip_level=skip,
        )
        plan = Plan(scenario, office, channel, reg, [])
        plan.steps = build_steps(rng, scenario, office, place.street, topic, variant, self.org)
        plan.reg_delay = self.reg_delay(channel)
        self.place_in_time(plan, mode)
        return plan

    def group_reps(self, name: str, topic: Topic, place: Place) -> list[PetitionerInput]:
        reps = self.groups.get(name)
        if reps is None:
            reps = [
                self.people.person(topic, place, Channel.VISIT)
                for _ in range(self.rng.randint(1, 5))
            ]
            self.groups[name] = reps
        return list(reps)

    def reg_delay(self, channel: str) -> float:
        rng = self.rng
        if channel in DESK_CHANNELS or channel == Channel.FIELD_VISIT:
            return rng.uniform(0.005, 0.03)
        if channel == Channel.LETTER:
            return rng.uniform(0.0, 2.0)
        return rng.uniform(0.05, 1.5)

    # --- timeline ------------------------------------------------------------------------------
    def times(self, plan: Plan, anchor: dt.datetime) -> dt.datetime:
        received = self.clock.received(anchor, plan.channel)
        t = received + dt.timedelta(days=plan.reg_delay)
        if plan.channel != Channel.PHONE:  # the hotline registers calls at once, 7×24
            t = self.clock.office(t)
        plan.reg.received_at, plan.registered_at = received, t
        for step in plan.steps:
            t = self.clock.office(t + dt.timedelta(days=step.days))
            step.at = t
        return t

    def place_in_time(self, plan: Plan, mode: str = "") -> None:
        """Choose when the case was received so that its last step lands where the scenario
        wants it: long ago for finished cases, ``wait`` days before now for open ones."""
        rng, now = self.rng, self.now
        total = sum(s.days for s in plan.steps) * 1.1 + plan.reg_delay + 1
        wait = SCENARIOS[plan.scenario][1]
        if wait is None:
            latest = max(now - dt.timedelta(days=total + 1), now - YEAR + dt.timedelta(days=1))
            anchor = now - YEAR + (latest - (now - YEAR)) * rng.random()
            target = None
        else:
            lo, hi, late, late_lo, late_hi = wait
            if mode == "soon":
                waited = due_soon_wait(DUE_SOON_KIND[plan.scenario], rng, now)
            elif mode == "late" or rng.random() < late:
                waited = rng.uniform(late_lo, late_hi)
            else:
                waited = rng.uniform(lo, hi)
            target = now - dt.timedelta(days=waited)
            anchor = target - dt.timedelta(days=total)
        for _ in range(8):
            last = self.times(plan, anchor)
            goal = min(target or last, now)
            if last <= now and abs((last - goal).total_seconds()) < 6 * 3600:
                break
            anchor += goal - last - dt.timedelta(hours=1)
        # Office hours and weekends can keep the search from settling; never let the case's
        # last step fall after now (it would be cut, and the case would not reach its state).
        for _ in range(8):
            if last <= now:
                break
            anchor -= last - now + dt.timedelta(days=1)
            last = self.times(plan, anchor)
        plan.steps = [s for s in plan.steps if s.at is not None and s.at <= now]


def _category_index() -> dict[tuple[str, ...], int | None]:
    level3 = list(
        Category.objects.filter(level=3).order_by("sort", "id").values_list("id", "full_name")
    )
    index: dict[tuple[str, ...], int | None] = {}
    for topic in TOPICS:
        for v in topic.variants:
            index[v.cat] = next(
                (pk for pk, name in level3 if all(k in name.split("/") for k in v.cat)), None
            )
    return index


def _scenarios(rng: random.Random, n: int) -> list[str]:
    """n scenario labels; when n allows, every scenario at least once (so every status shows)
    and a few cases forced to be due within days or overdue today."""
    names = list(SCENARIOS)
    forced = [*names, "accepted:soon", "registered:soon", "accepted:late", "signed:late"]
    labels = forced[:] if n >= len(forced) else []
    labels += rng.choices(names, weights=[SCENARIOS[s][0] for s in names], k=n - len(labels))
    rng.shuffle(labels)
    return labels


def make_plans(org: DemoOrg, n: int, seed: int, now: dt.datetime) -> list[Plan]:
    rng = random.Random(seed)
    planner = Planner(org, rng, now)
    labels = _scenarios(rng, n)
    plans: list[Plan] = []
    # Repeat petitioners: ~8 % of cases come from people who petition 2–5 times on one matter.
    while labels and len(plans) < n * 0.08:
        topic = planner.topic_for("closed")
        place = planner.place_for(topic)
        regular = {
            "topic": topic,
            "variant": rng.choice(topic.variants),
            "place": place,
            "person": planner.people.person(topic, place, Channel.VISIT, with_id=True),
        }
        for _ in range(min(rng.randint(2, 5), len(labels))):
            plans.append(planner.plan(labels.pop(), regular))
    plans += [planner.plan(label) for label in labels]
    plans.sort(key=lambda p: p.registered_at or now)
    return plans


def _actor(org: DemoOrg, plan: Plan, code: str, handling: str | None) -> Any:
    rng = random.Random(zlib.crc32(f"{plan.registered_at}{code}".encode()))
    if code in OFFICE_SIDE:
        if plan.office == "office":
            pool = ("jiedai", "jiedai2") if code in OFFICE_DESK else ("banan", "banan2")
            return org.user(rng.choice(pool))
        return org.user(("jiedai_" if code in OFFICE_DESK else "banan_") + plan.office)
    head = code in {"return", "refuse", "request_extension"} or (
        code == "reply" and rng.random() < 0.6
    )
    return org.user(("fuze_" if head else "chengban_") + str(handling))


def execute(org: DemoOrg, plan: Plan) -> tuple[Case, str | None]:
    """Register the case and run its timeline; returns the case and the first error, if any."""
    office = org.units[plan.office]
    if plan.channel in DESK_CHANNELS:
        by = org.user("jiedai" if plan.office == "office" else f"jiedai_{plan.office}")
    else:
        by = org.user("banan" if plan.office == "office" else f"banan_{plan.office}")
    case = case_register(by=by, office=office, reg=plan.reg, at=plan.registered_at)
    handling: str | None = None
    for step in plan.steps:
        kwargs = dict(step.kwargs)
        if step.code in ("assign", "forward"):
            handling = kwargs["unit"]
            kwargs["unit"] = org.units[handling]
        if step.code == "reply":
            kwargs["served_on"] = timezone.localtime(step.at).date()
            # 答复 needs a checked 答复意见书: written directly (fast), then served.
            kwargs["draft"] = record_checked_draft(case, decision=kwargs["text"], at=step.at)
        try:
            service = getattr(S, f"case_{step.code}")  # e.g. case_sign_in, case_reply
            service(case=case, by=_actor(org, plan, step.code, handling), at=step.at, **kwargs)
        except DomainError as exc:
            case.refresh_from_db()
            return case, f"{case.number} {step.code}: {exc}"
        if step.code == "return":
            handling = None
    return case, None


def load_cases(
    org: DemoOrg, *, n: int, seed: int, progress: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    started = time.monotonic()
    now = timezone.now() - dt.timedelta(minutes=10)
    plans = make_plans(org, n, seed, now)
    say = progress or (lambda _msg: None)
    say(f"已生成 {len(plans)} 件事项的计划（{time.monotonic() - started:.1f} 秒），开始登记与办理…")
    errors: list[str] = []
    # Indexes (similar cases, duplicate groups, hotspot terms) are built once at the end, in
    # batches, instead of once per registration.
    with registrations_in_bulk():
        for start in range(0, len(plans), BATCH):
            with transaction.atomic():
                for i, plan in enumerate(plans[start : start + BATCH], start=start + 1):
                    _case, error = execute(org, plan)
                    if error:
                        errors.append(error)
                    if i % PROGRESS_EVERY == 0 or i == len(plans):
                        say(f"  {i}/{len(plans)} 件，用时 {time.monotonic() - started:.1f} 秒")
        say("建立相似案件索引、疑似重复分组和热点关键词…")
    say(f"  完成，用时 {time.monotonic() - started:.1f} 秒")
    statuses = Counter(Case.objects.values_list("status", flat=True))
    return {
        "cases": len(plans),
        "seconds": round(time.monotonic() - started, 1),
        "errors": errors,
        "statuses": {s.label: statuses.get(s.value, 0) for s in Status},
    }
