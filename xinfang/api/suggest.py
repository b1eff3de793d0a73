"""Routing suggestions over the API, as on the registration form and the routing actions.

``POST /intel/suggest`` (the text can be long, so it is a body, not a query string; it changes
nothing): the active classifier's top-3 first-level categories. Desk staff of a petition office
only; anyone else 404. ``GET /cases/{id}/route-suggestions?action=assign|forward``: the units
this office has most often routed that category to — for whoever may route the case now.
What was suggested and chosen is recorded on the timeline by the services (``intel_suggest``).
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api.access import case_or_404
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, NotFound
from xinfang.intel import suggest

router = Router(tags=["智能建议"])


class SuggestIn(Schema):
    title: str = Field("", max_length=50_000, description="诉求摘要（标题）")
    text: str = Field("", max_length=50_000, description="详细内容")


class CategoryGuessOut(Schema):
    label: str = Field(description="一级分类名称")
    category_id: int | None = Field(description="对应内容分类 ID（分类树中无此名称时为 null）")
    p: float = Field(description="校准后的概率 0–1")


class SuggestOut(Schema):
    model_version: str | None = Field(description="模型版本；无可用模型时为 null")
    confident: bool = Field(description="首选概率 ≥ 0.5")
    suggestions: list[CategoryGuessOut]


class RouteQuery(Schema):
    action: Literal["assign", "forward"] = Field("assign", description="assign 交办；forward 转送")


class UnitGuessOut(Schema):
    unit_id: int
    unit: str
    count: int = Field(description="近一年本机构同类事项交办/转送该单位的件数")
    share: float


class RouteSuggestOut(Schema):
    category_id: int | None = Field(description="依据的一级分类（登记分类，未登记时为模型判断）")
    from_model: bool
    units: list[UnitGuessOut]


@router.post("/intel/suggest", response={200: SuggestOut, **READ_ERRORS})
def category_suggestions(request: HttpRequest, body: SuggestIn) -> SuggestOut:
    if not suggest.may_suggest_categories(current_user(request)):
        raise NotFound()
    s = None
    if body.title.strip() or body.text.strip():
        s = suggest.suggest_categories(title=body.title, text=body.text)
    return SuggestOut(
        model_version=s.version if s else None,
        confident=bool(s and s.confident),
        suggestions=[
            CategoryGuessOut(label=g.label, category_id=g.category_id, p=round(g.p, 4))
            for g in (s.guesses if s else [])
        ],
    )


@router.get("/cases/{case_id}/route-suggestions", response={200: RouteSuggestOut, **READ_ERRORS})
def route_suggestions(request: HttpRequest, case_id: int, q: Query[RouteQuery]) -> RouteSuggestOut:
    case = case_or_404(request, case_id)
    if not suggest.may_suggest_units(current_user(request), case, q.action):
        raise NotFound()
    first = suggest.category_of(case)
    return RouteSuggestOut(
        category_id=first,
        from_model=not case.category_id,
        units=[
            UnitGuessOut(
                unit_id=g.unit.pk, unit=g.unit.name, count=g.count, share=round(g.share, 4)
            )
            for g in suggest.suggest_units(case=case, first_level_id=first)
        ],
    )
