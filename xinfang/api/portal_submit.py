"""Public portal API (submit): ``POST /api/portal/submissions`` — the same checks and the same
registration as the portal's form (``portal.submission``), without attachments and without the
review page. No login and no session (so no CSRF); the proof of intent is ``consent`` and the
client's ``client_token`` (idempotency), and the rate limits of the form apply."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from xinfang.api.schemas import ErrorOut, ValidationErrorOut
from xinfang.core.ratelimit import client_ip
from xinfang.portal import submission as S

router = Router(tags=["网上信访（公众）"], auth=None)


class IdTypeIn(StrEnum):
    resident = "resident"
    hmt_permit = "hmt_permit"
    other = "other"


class PurposeIn(StrEnum):
    suggestion = "suggestion"
    accusation = "accusation"
    appeal = "appeal"


class CosignerIn(Schema):
    name: str = Field(description="联名人姓名", max_length=200)
    id_type: IdTypeIn = Field(
        IdTypeIn.resident,
        description="证件类型：resident=居民身份证，hmt_permit=港澳台居民居住证/通行证，other=其他证件",
    )
    id_number: str = Field("", description="证件号码（选填；居民身份证校验第18位）", max_length=60)
    phone: str = Field("", description="手机号码（选填）", max_length=40)


class SubmissionIn(Schema):
    client_token: str = Field(
        description=(
            "客户端为本次提交生成的唯一标识（8–64个字符，建议 UUID），用于幂等："
            "网络中断后用同一标识重试，不会重复登记：返回 200 与首次登记的同一事项"
            "（手机号码须与首次提交相同）"
        ),
        min_length=8,
        max_length=64,
    )
    name: str = Field(description="提交人姓名", max_length=200)
    id_type: IdTypeIn = Field(
        IdTypeIn.resident,
        description="证件类型：resident=居民身份证，hmt_permit=港澳台居民居住证/通行证，other=其他证件",
    )
    id_number: str = Field(description="证件号码（居民身份证为18位，校验第18位）", max_length=60)
    phone: str = Field(
        description="手机号码：查询办理进展的凭证，并用于接收短信告知", max_length=40
    )
    address: str = Field("", description="联系地址（选填）", max_length=400)
    purpose: PurposeIn = Field(
        description="信访目的：suggestion=建议意见，accusation=检举控告，appeal=申诉求决"
    )
    category_id: int | None = Field(
        None, description="内容分类（三级分类中任一级的 id；不确定时为 null，由工作人员分类）"
    )
    place_code: str = Field(
        "",
        description="问题属地：受理机关辖区内单位的行政区划代码（6/9/12位；选填）",
        max_length=12,
    )
    place_detail: str = Field(
        "", description="详细地点，如小区、村组、路段（选填）", max_length=200
    )
    summary: str = Field(description="诉求摘要：一句话说明诉求，不超过300字", max_length=2000)
    content: str = Field(
        description="具体内容：事实、经过和诉求，不超过 XINFANG_PORTAL_MAX_TEXT（默认5000）字",
        max_length=200_000,
    )
    accused_text: str = Field(
        "",
        description="被检举控告对象（仅 purpose=accusation 时填写；其他目的时忽略）",
        max_length=5000,
    )
    cosigners: list[CosignerIn] = Field(
        default_factory=list,
        description="联名人（选填）：联名信访最多5人（提交人和4名联名人）",
        max_length=50,
    )
    consent: bool = Field(description="是否已阅读并同意《个人信息保护告知》：必须为 true")


class SubmissionOut(Schema):
    number: str = Field(description="事项编号")
    query_code: str = Field(description="查询码：凭查询码和手机号码（或身份证号后6位）查询办理进展")
    received_at: dt.datetime = Field(description="收到时间（提交成功的时间）")


class SubmissionErrorOut(ErrorOut):
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="全部字段错误：字段 → 中文说明；联名人的字段为 cosigners.<序号>.<字段>",
    )


def _submission(body: SubmissionIn) -> S.Submission:
    return S.Submission(
        principal=S.Signer(
            name=body.name,
            id_type=body.id_type.value,
            id_number=body.id_number,
            phone=body.phone,
            address=body.address,
        ),
        purpose=body.purpose.value,
        summary=body.summary,
        content=body.content,
        category_id=body.category_id,
        place_code=body.place_code,
        place_detail=body.place_detail,
        accused_text=body.accused_text,
        cosigners=[
            S.Signer(name=c.name, id_type=c.id_type.value, id_number=c.id_number, phone=c.phone)
            for c in body.cosigners
        ],
        consent=body.consent,
    )


@router.post(
    "/submissions",
    response={
        201: SubmissionOut,
        200: SubmissionOut,
        400: SubmissionErrorOut,
        422: ValidationErrorOut,
        429: ErrorOut,
    },
    summary="网上提交信访事项",
    description=(
        "与网上信访页面相同的校验和登记（渠道：网上信访；受理机构：网上信访受理机构），"
        "不含附件。无需登录。首次提交返回 **201**；同一 `client_token` 再次提交返回 **200** 与"
        "同一事项。校验未通过返回 400，`errors` 列出全部字段错误；提交过于频繁返回 429 与 "
        "`Retry-After`。成功后向提交人手机发送含事项编号和查询码的短信。"
    ),
)
def submit(request: HttpRequest, body: SubmissionIn) -> Any:
    try:
        case, created = S.api_submit(
            _submission(body), client_token=body.client_token, ip=client_ip(request)
        )
    except S.SubmissionInvalid as exc:
        return WithStatus(
            400,
            {"detail": exc.message, "field": exc.field, "code": "invalid", "errors": exc.errors},
        )
    except S.RateLimited as exc:
        minutes = max(1, (exc.retry_after + 59) // 60)
        response = JsonResponse(
            {
                "detail": f"提交过于频繁，请在约{minutes}分钟后再试",
                "field": None,
                "code": "throttled",
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    out = {"number": case.number, "query_code": case.query_code, "received_at": case.received_at}
    return WithStatus(201 if created else 200, out)
