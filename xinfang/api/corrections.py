"""``POST /cases/{case_id}/correct``: 更正登记信息 — HTTP in front of
``xinfang.cases.corrections.case_correct``; mounted in ``api.py`` with
``api.add_router("", corrections.router)``.

The case comes through ``access.case_or_404`` (another unit's case is a 404); the service's
``DomainError`` becomes the JSON error (400 field rule, 403 not the office's 办案员, 409
``concurrent_change``)."""

from __future__ import annotations

import inspect
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from xinfang.api.actions import _run
from xinfang.api.errors import WRITE_ERRORS
from xinfang.api.schemas import ActionResult
from xinfang.cases import corrections

router = Router(tags=["事项操作"])


class CorrectIn(Schema):
    category_id: int | None = Field(None, description="更正后的内容分类 ID；不填则不更改")
    place_code: str | None = Field(
        None, max_length=20, description="问题属地代码（6–12位数字）；空字符串清空；不填不更改"
    )
    headcount: int | None = Field(None, description="人数；不填则不更改")
    channel: str | None = Field(None, description="来源渠道代码；不填则不更改")
    reason: str = Field(max_length=2000, description="更正理由（至少4个字）")


@router.post(
    "/cases/{case_id}/correct",
    response={200: ActionResult, **WRITE_ERRORS},
    summary="更正登记信息（correct）",
    operation_id="case_correct",
    description=(
        "成功时返回 200：`event` 为新增的「更正登记信息」动态（`data` 列出各字段的"
        "[原值, 新值] 与理由），`case` 为更正后的事项详情。\n\n"
        + inspect.cleandoc(corrections.case_correct.__doc__ or "")
    ),
)
def case_correct(request: HttpRequest, case_id: int, body: CorrectIn) -> Any:
    return _run(
        request,
        case_id,
        corrections.case_correct,
        category_id=body.category_id,
        place_code=body.place_code,
        headcount=body.headcount,
        channel=body.channel,
        reason=body.reason,
    )
