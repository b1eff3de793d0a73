"""Routing suggestions: which category, which unit — and what the clerk chose.

* :func:`suggest_categories` — the active classifier's top-3 first-level categories for a title
  and text, with calibrated probabilities and the model version (``None`` when no model is ready:
  the desk works as before).
* :func:`suggest_units` — the units this office has most often routed cases of that first-level
  category to (its own routing history over the last :data:`HISTORY_DAYS` days), restricted to
  the units the case may be routed to now (in the office's tree, staffed, not recused). Until a
  jurisdiction directory exists this history *is* the office's category → unit table.
* :func:`record_registration` / :func:`record_routing` — receivers of ``case_registered`` /
  ``case_routed``: one ``intel_suggest`` event on the case's timeline with what was suggested
  (model version, top-3 with scores) next to what the clerk chose and whether it was among the
  suggestions. These events are the measure of the model in use and the clerk's choices are
  what retraining learns from (the case's final category).

Suggestions for the *recorded* event are recomputed from the saved case text, not taken from the
browser, so the timeline never carries numbers a client sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, Category
from xinfang.cases.selectors import category_subtree_ids
from xinfang.org.models import Unit

TOP_K = 3
# Below this probability the top suggestion is shown as uncertain (把握不大): with 7 labels a
# uniform guess is 0.14; the calibrated model is right ~90 % of the time above 0.5 (docs/intel.md).
CONFIDENT = 0.5
HISTORY_DAYS = 365
UNIT_CACHE_SECONDS = 300
EVENT_KIND = "intel_suggest"
# The classifier reads the first 2,000 characters of the body (classifier docs); the same cap
# here keeps a 50,000-character paste from costing anything more.
MAX_TEXT = 2000


@dataclass(frozen=True)
class CategoryGuess:
    label: str
    p: float
    category_id: int | None  # the first-level Category of that name, if the tree has it

    @property
    def percent(self) -> int:
        return round(self.p * 100)


@dataclass(frozen=True)
class CategorySuggestion:
    version: str
    guesses: list[CategoryGuess]

    @property
    def confident(self) -> bool:
        return bool(self.guesses) and self.guesses[0].p >= CONFIDENT


@dataclass(frozen=True)
class UnitGuess:
    unit: Unit
    count: int
    share: float

    @property
    def percent(self) -> int:
        return round(self.share * 100)


ROUTING_ACTIONS = ("assign", "forward")


def may_suggest_categories(user: Any) -> bool:
    """Desk staff of a petition office — those who register cases."""
    from xinfang.cases.policy import registering_offices

    return bool(registering_offices(user))


def may_suggest_units(user: Any, case: Case, action: str) -> bool:
    """Whoever may 交办/转送 this case now (the caller has fetched it as visible)."""
    from xinfang.cases import policy

    return action in ROUTING_ACTIONS and action in {
        a.code for a in policy.allowed_actions(user, case)
    }


def _first_level_ids() -> dict[str, int]:
    return dict(Category.objects.filter(level=1, is_active=True).values_list("name", "pk"))


def first_level_label(category_id: int) -> str:
    return str(Category.objects.filter(pk=category_id).values_list("name", flat=True).first() or "")


def first_level_of(full_name: str | None, name: str | None = "") -> str:
    """The first-level name of a category from its stored path (``城乡建设/安全生产/…``)."""
    return (full_name or name or "").split("/")[0].strip()


def first_level_name(category: Category | None) -> str:
    if category is None:
        return ""
    return first_level_of(category.full_name, category.name)


def _active() -> tuple[Any, Any] | None:
    """(Model, ModelVersion) of the active classifier, or None (no ready model yet)."""
    from xinfang.intel.registry import active_model

    return active_model()


def suggest_categories(*, title: str, text: str, k: int = TOP_K) -> CategorySuggestion | None:
    loaded = _active()
    if loaded is None:
        return None
    model, version = loaded
    scores = model.predict_proba([{"title": title or "", "text": (text or "")[:MAX_TEXT]}])[0]
    ids = _first_level_ids()
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return CategorySuggestion(
        version=version.version,
        guesses=[CategoryGuess(label=lb, p=float(p), category_id=ids.get(lb)) for lb, p in ranked],
    )


def _routing_counts(
    office: Unit, first_level_id: int, now: dt.datetime, exclude_case_id: int | None = None
) -> list[tuple[int, int]]:
    """(unit id, cases) this office routed in the category over the last year — cached briefly
    (the counts move slowly and the routing screen asks on every view), except when a case is
    left out: recording a routing must not count that routing itself."""
    key = f"intel:unitcounts:{office.pk}:{first_level_id}:{now:%Y%m%d}"
    if exclude_case_id is None:
        hit = cache.get(key)
        if hit is not None:
            return [(int(u), int(n)) for u, n in hit]
    since = now - dt.timedelta(days=HISTORY_DAYS)
    rows = (
        Case.objects.filter(
            category_id__in=category_subtree_ids(first_level_id),
            office_unit=office,
            received_at__gte=since,
        )
        .exclude(handling_unit__isnull=True)
        .exclude(pk=exclude_case_id or 0)
        .values("handling_unit")
        .annotate(n=Count("id"))
        .order_by("-n", "handling_unit")[:20]
    )
    counts = [(r["handling_unit"], r["n"]) for r in rows]
    if exclude_case_id is None:
        cache.set(key, counts, UNIT_CACHE_SECONDS)
    return counts


def suggest_units(
    *,
    case: Case,
    first_level_id: int | None,
    k: int = TOP_K,
    now: dt.datetime | None = None,
    exclude_self: bool = False,
) -> list[UnitGuess]:
    """The units most often chosen for this category here, among those the case may go to."""
    if first_level_id is None:
        return []
    from xinfang.cases.policy import routing_targets

    history = _routing_counts(
        case.office_unit,
        first_level_id,
        now or timezone.now(),
        exclude_case_id=case.pk if exclude_self else None,
    )
    # A unit that returned this case (退回: not theirs) is not suggested for it again.
    returned = {
        e.data.get("unit_id")
        for e in CaseEvent.objects.filter(case=case, kind="return").only("data")
    }
    counts = [(u, n) for u, n in history if u not in returned]
    if not counts:
        return []
    allowed = {
        u.pk: u
        for u in routing_targets(case.office_unit, case).filter(pk__in=[u for u, _ in counts])
    }
    counts = [(u, n) for u, n in counts if u in allowed]
    total = sum(n for _, n in counts)
    return [UnitGuess(unit=allowed[u], count=n, share=n / total) for u, n in counts[:k]]


def category_of(case: Case) -> int | None:
    """The first-level category id to base unit suggestions on: the clerk's, else the model's."""
    if case.category_id:
        ids = _first_level_ids()
        return ids.get(first_level_name(case.category))
    s = suggest_categories(title=case.summary, text=case.content, k=1)
    return s.guesses[0].category_id if s and s.guesses else None


def _event(**fields: Any) -> CaseEvent:
    """The timeline row and its audit row (``audit.signals``) in one transaction: the receivers
    run after the registration/routing committed, outside any, and a change never commits
    without its audit row."""
    with transaction.atomic():
        return CaseEvent.objects.create(**fields)


def record_registration(case: Case) -> CaseEvent | None:
    """What the model suggested for the registered text, next to the clerk's category."""
    s = suggest_categories(title=case.summary, text=case.content)
    if s is None:
        return None
    chosen = first_level_name(case.category) if case.category_id else ""
    labels = [g.label for g in s.guesses]
    if not chosen:
        verdict = "登记时未选分类"
    elif labels and chosen == labels[0]:
        verdict = "与首选建议一致"
    elif chosen in labels:
        verdict = f"与第{labels.index(chosen) + 1}项建议一致"
    else:
        verdict = "未采用建议"
    top = "、".join(f"{g.label} {g.percent}%" for g in s.guesses)
    return _event(
        case=case,
        kind=EVENT_KIND,
        actor=case.registered_by,
        actor_unit=case.office_unit,
        at=case.registered_at,
        text=f"分类建议：{top}；登记分类：{chosen or '—'}（{verdict}）",
        data={
            "stage": "register",
            "model_version": s.version,
            "suggestions": [
                {"label": g.label, "p": round(g.p, 4), "category_id": g.category_id}
                for g in s.guesses
            ],
            "chosen": {"category_id": case.category_id, "label": chosen},
            "top1": bool(chosen) and chosen == labels[0],
            "top3": bool(chosen) and chosen in labels,
        },
    )


def record_routing(
    case: Case, unit: Unit, by: Any, action: str, at: dt.datetime | None = None
) -> CaseEvent | None:
    """The unit suggestions as they stood before this routing, next to the unit chosen; dated
    with the routing (``at``) so the timeline reads in order."""
    case.refresh_from_db()
    version = ""  # the model's version only when its category was the basis
    if case.category_id:
        first = category_of(case)
    else:
        s = suggest_categories(title=case.summary, text=case.content, k=1)
        first = s.guesses[0].category_id if s and s.guesses else None
        version = s.version if s else ""
    # The history must not count the routing being recorded.
    guesses = suggest_units(case=case, first_level_id=first, exclude_self=True)
    if not guesses:  # nothing was suggested: nothing to compare the choice with
        return None
    ids = [g.unit.pk for g in guesses]
    hit = unit.pk in ids
    top = "、".join(f"{g.unit.name} {g.percent}%" for g in guesses)
    verdict = (
        "与首选建议一致"
        if ids[0] == unit.pk
        else (f"与第{ids.index(unit.pk) + 1}项建议一致" if hit else "未采用建议")
    )
    verb = "交办" if action == "assign" else "转送"
    return _event(
        case=case,
        kind=EVENT_KIND,
        actor=by,
        actor_unit=case.office_unit,
        at=at or timezone.now(),
        text=f"承办单位建议：{top}；{verb}：{unit.name}（{verdict}）",
        data={
            "stage": "route",
            "action": action,
            "model_version": version,
            "category_id": first,
            "category_from": "model" if version else "clerk",
            "suggestions": [
                {
                    "unit_id": g.unit.pk,
                    "unit": g.unit.name,
                    "n": g.count,
                    "share": round(g.share, 4),
                }
                for g in guesses
            ],
            "chosen": {"unit_id": unit.pk, "unit": unit.name},
            "top1": ids[0] == unit.pk,
            "top3": hit,
        },
    )
