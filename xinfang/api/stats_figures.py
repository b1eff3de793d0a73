"""统计考核 API (/api/stats) — figures: the 信访统计 table, the cases behind a figure and the
信访情况统计表. The same parser (``stats.forms.parse``: the figure query contract) and builders
(``stats.table_views``) as the pages; a unit outside the reader's scope is a 404, a bad value a
400 with the Chinese message and the field. Cases behind a figure: visible cases only, with the
number not shown (``hidden``).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, ErrorOut
from xinfang.core.errors import DomainError
from xinfang.stats import forms
from xinfang.stats.forms import FigureParams
from xinfang.stats.table_views import (
    Scope,
    behind,
    intake_table,
    national_table,
    read_scope,
)

router = Router(tags=["统计考核"])
ERRORS = {400: ErrorOut, **READ_ERRORS}


class FigureQuery(Schema):
    start: str = Field("", description="开始日期 YYYY-MM-DD（缺省：本月）")
    end: str = Field("", description="结束日期 YYYY-MM-DD")
    unit: str = Field("", description="统计单位（本级及下级合计；缺省：您的首个统计范围）")
    by: str = Field(
        "", description="分组：" + "、".join(f"{k} {v}" for k, v in forms.GROUPS.items())
    )
    compare: str = Field("", description="yoy 同比 / mom 环比 / none")
    table: str = Field("", description="i 收件 / h 办理（仅 /cases）")
    measure: str = Field("", description="batches / persons / 办理指标（仅 /cases）")
    channel: str = ""
    channel_group: str = Field("", description="visit/letter/phone/online/email/fax/from_above")
    kind: str = Field("", description="1 个人 / 2 群体 / 3 集体")
    category: str = Field("", description="二级分类 id，0 = 未分类")
    category_l1: str = Field("", description="一级分类 id")
    place: str = Field("", description="问题属地单位 id（本级）")
    purpose: str = ""
    repeat: str = Field("", description="1 / 0")
    skip: str = Field("", description="越级 1 / 0")
    office: str = Field("", description="登记单位 id（统计单位辖区内）")
    hunit: str = Field("", description="承办单位 id（统计单位辖区内）")


class CasesQuery(FigureQuery):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=500)


class FigureRow(Schema):
    label: str
    batches: int
    persons: int
    prev_batches: int | None
    prev_persons: int | None
    change_batches: str = Field(description="+7% / −11% / 0% / 去年同期无 / 上期无")
    change_persons: str
    url: str = Field(description="批次背后的信访事项页面")


class IntakeOut(Schema):
    unit_id: int
    unit: str
    start: str
    end: str
    compare_start: str | None
    compare_end: str | None
    basis: str
    by: str
    rows: list[FigureRow]
    total: FigureRow
    paragraph: str


class CaseItem(Schema):
    id: int
    number: str


class CasesOut(Schema):
    figure: int = Field(description="统计数字（汇总表）")
    cases: int = Field(description="背后的事项件数")
    hidden: int = Field(description="其中您无权查看的件数")
    count: int
    page: int
    page_size: int
    items: list[CaseItem]


class FormRowOut(Schema):
    number: int
    label: str
    values: list[int] = Field(
        description="本期批次、人次，去年同期批次、人次，累计批次、人次，累计去年同期批次、人次"
    )
    changes: list[str] = Field(description="同比批次、人次，累计同比批次、人次")


class FormOut(Schema):
    unit_id: int
    unit: str
    start: str
    end: str
    rows: list[FormRowOut]


def _parse(request: HttpRequest, q: FigureQuery) -> tuple[FigureParams, Scope]:
    p = forms.parse(q.dict(), today=timezone.localdate())
    scope = read_scope(current_user(request), p)
    if not p.ok:
        key = next(iter(p.errors))
        raise DomainError(p.errors[key], field=key)
    return p, scope


def _row(r: Any) -> dict[str, Any]:
    return {
        "label": r.label,
        "batches": r.batches.value,
        "persons": r.persons.value,
        "prev_batches": r.prev_batches.value if r.prev_batches else None,
        "prev_persons": r.prev_persons.value if r.prev_persons else None,
        "change_batches": r.change_batches,
        "change_persons": r.change_persons,
        "url": r.batches.url,
    }


@router.get(
    "/intake",
    response={200: IntakeOut, **ERRORS},
    summary="信访统计（分组、同比/环比）",
    operation_id="stats_intake",
)
def intake(request: HttpRequest, q: Query[FigureQuery]) -> Any:
    p, scope = _parse(request, q)
    t = intake_table(p, scope, today=timezone.localdate())
    return {
        "unit_id": scope.unit.pk,
        "unit": scope.unit.name,
        "start": t.period.start.isoformat(),
        "end": t.period.end.isoformat(),
        "compare_start": t.other.start.isoformat() if t.other else None,
        "compare_end": t.other.end.isoformat() if t.other else None,
        "basis": t.basis,
        "by": t.by,
        "rows": [_row(r) for r in t.rows],
        "total": _row(t.total),
        "paragraph": t.paragraph,
    }


@router.get(
    "/cases",
    response={200: CasesOut, **ERRORS},
    summary="数字背后的信访事项",
    operation_id="stats_cases",
)
def cases(request: HttpRequest, q: Query[CasesQuery]) -> Any:
    p, scope = _parse(request, q)
    found = behind(p, scope, current_user(request))
    pager = Paginator(found.visible.order_by("received_at", "id").only("id", "number"), q.page_size)
    page = pager.get_page(q.page)
    return {
        "figure": found.figure,
        "cases": found.cases,
        "hidden": found.hidden,
        "count": pager.count,
        "page": page.number,
        "page_size": q.page_size,
        "items": [{"id": c.pk, "number": c.number} for c in page.object_list],
    }


@router.get(
    "/form",
    response={200: FormOut, **ERRORS},
    summary="信访情况统计表",
    operation_id="stats_form",
)
def national_form(request: HttpRequest, q: Query[FigureQuery]) -> Any:
    p, scope = _parse(request, q)
    t = national_table(p, scope)
    return {
        "unit_id": scope.unit.pk,
        "unit": scope.unit.name,
        "start": t.period.start.isoformat(),
        "end": t.period.end.isoformat(),
        "rows": [
            {
                "number": r.number,
                "label": r.label,
                "values": [c.value for c in r.cells],
                "changes": r.changes,
            }
            for r in t.rows
        ],
    }
