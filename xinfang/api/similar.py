"""``GET /intel/similar``: similar earlier cases with their replies, as ``/intel/similar/``.

Desk/case staff of a petition office and handling-unit staff only (``similar.may_use_similar``);
anyone else gets a 404. Only cases the caller may see; 检举控告 cases outside the caller's own
registering office never match, and those that do come back masked (no summary, no reply).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, NotFound
from xinfang.intel import similar

router = Router()


class SimilarQuery(Schema):
    title: str = Field("", max_length=50_000, description="诉求摘要（标题）")
    text: str = Field("", max_length=50_000, description="详细内容")
    place_code: str = Field("", max_length=12, description="问题属地代码")
    category: int | None = Field(None, ge=1, le=2**62, description="内容分类 ID")
    petitioner: list[int] = Field(
        default_factory=list, max_length=20, description="信访人 ID（可重复，最多20个）"
    )
    exclude: int | None = Field(None, ge=1, le=2**62, description="排除的事项 ID（只列其之前的）")
    k: int = Field(10, ge=1, le=50, description="返回条数（1–50）")


class SimilarOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    summary: str = Field(description="诉求摘要；检举控告件为保密占位文字")
    masked: bool
    received_at: dt.datetime
    category: str
    place_code: str
    place_name: str
    handling_unit: str
    score: float = Field(description="文本相似度 0–1")
    same_petitioner: bool
    same_place: bool
    same_topic: bool
    reply: str = Field(description="最近一次答复意见；无或保密时为空")
    reply_at: dt.datetime | None
    decision: str = Field(description="最近一次复查/复核决定；无或保密时为空")
    decision_label: str
    decision_at: dt.datetime | None


@router.get(
    "/intel/similar",
    response={200: list[SimilarOut], **READ_ERRORS},
    tags=["智能辅助"],
    summary="相似案件（口径参考）",
    operation_id="intel_similar",
    description="按同一信访人、同属地同类别、文本相似度排序的此前事项及其答复，"
    "只含您有权查看的事项。仅信访机构接待员/办案员和承办单位人员可用，其他人返回 404。",
)
def similar_list(request: HttpRequest, q: Query[SimilarQuery]) -> Any:
    user = current_user(request)
    if not similar.may_use_similar(user):
        raise NotFound("未找到该资源")
    hits = similar.similar_cases(
        user,
        title=q.title,
        text=q.text,
        petitioner_ids=q.petitioner,
        place_code=q.place_code,
        category_id=q.category,
        exclude_case_id=q.exclude,
        k=q.k,
    )
    return [
        {
            "id": h.case.pk,
            "number": h.case.number,
            "status": h.case.status,
            "status_label": h.case.get_status_display(),
            "summary": h.summary,
            "masked": h.masked,
            "received_at": h.case.received_at,
            "category": str(h.case.category) if h.case.category_id else "",
            "place_code": h.case.place_code,
            "place_name": h.case.place_name,
            "handling_unit": h.case.handling_unit.name if h.case.handling_unit else "",
            "score": h.score,
            "same_petitioner": h.same_petitioner,
            "same_place": h.same_place,
            "same_topic": h.same_topic,
            "reply": h.reply,
            "reply_at": h.reply_at,
            "decision": h.decision,
            "decision_label": h.decision_label,
            "decision_at": h.decision_at,
        }
        for h in hits
    ]
