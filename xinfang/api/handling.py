"""合并、转办、关联、调查记录与证据材料、批量分流 — HTTP in front of ``xinfang.cases.handling``.

Cases come through ``access.case_or_404`` (``policy.cases_visible_to``): another unit's case is a
404. Every write is one service call; its ``DomainError`` becomes the JSON error.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, UploadedFile
from ninja.responses import Status as WithStatus
from pydantic import Field

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.actions import _run, _unit_or_400
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, with_field_map
from xinfang.api.schemas import ActionResult, AttachmentOut, DbId, EventOut
from xinfang.cases import handling as H
from xinfang.core.errors import DomainError

router = Router(tags=["合并、转办与关联"])


class MergeIn(Schema):
    into_id: DbId = Field(description="并入的事项 ID（继续办理的事项）")
    note: str = Field("", max_length=2000, description="合并说明")


class TransferIn(Schema):
    unit_id: DbId = Field(description="新的承办单位 ID")
    reason: str = Field(max_length=4000, description="转办理由")


class LinkIn(Schema):
    other_id: DbId = Field(description="要关联的事项 ID")
    note: str = Field("", max_length=300, description="关联说明")


class LinkOut(Schema):
    case_id: int | None = Field(description="关联事项 ID；不在您的查看范围内时为 null")
    number: str | None
    status: str | None
    note: str
    at: Any
    visible: bool


class InvestigationIn(Schema):
    text: str = Field(max_length=20000, description="调查情况（内部）")


class BulkRouteIn(Schema):
    case_ids: list[DbId] = Field(min_length=1, max_length=H.BULK_MAX, description="事项 ID 列表")
    action: str = Field(description="assign（交办）或 forward（转送）")
    unit_id: DbId = Field(description="承办单位 ID")
    note: str = Field("", max_length=2000, description="交办/转送要求（各件相同）")


class BulkRowOut(Schema):
    case_id: int
    number: str
    ok: bool
    message: str = Field(description="「已交办」或未执行的中文原因")


class BulkRouteOut(Schema):
    done: int
    failed: int
    results: list[BulkRowOut]


def _doc(fn: Any) -> str:
    return inspect.cleandoc(fn.__doc__ or "")


@router.post(
    "/cases/{case_id}/actions/merge",
    response={200: ActionResult, **WRITE_ERRORS},
    summary="合并（merge）",
    operation_id="case_merge",
    description=_doc(H.case_merge),
)
def case_merge(request: HttpRequest, case_id: int, body: MergeIn) -> Any:
    into = access.visible(request).filter(pk=body.into_id).first()
    if into is None:
        raise DomainError("未找到要并入的事项，或该事项不在您的查看范围内", field="into_id")
    return _run(request, case_id, H.case_merge, {"into": "into_id"}, into=into, note=body.note)


@router.post(
    "/cases/{case_id}/actions/transfer",
    response={200: ActionResult, **WRITE_ERRORS},
    summary="转办（transfer）",
    operation_id="case_transfer",
    description=_doc(H.case_transfer),
)
def case_transfer(request: HttpRequest, case_id: int, body: TransferIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    return _run(
        request, case_id, H.case_transfer, {"unit": "unit_id"}, unit=unit, reason=body.reason
    )


@router.get(
    "/cases/{case_id}/links",
    response={200: list[LinkOut], **READ_ERRORS},
    summary="关联事项列表",
    operation_id="case_links",
    description="不在您查看范围内的关联事项只返回 `visible: false`，不含编号与说明。",
)
def case_links(request: HttpRequest, case_id: int) -> Any:
    case = access.case_or_404(request, case_id)
    return [
        {
            "case_id": ln.case_id or None,
            "number": ln.number or None,
            "status": ln.status or None,
            "note": ln.note,
            "at": out.local(ln.at),
            "visible": ln.visible,
        }
        for ln in H.links_of(case, current_user(request))
    ]


@router.post(
    "/cases/{case_id}/links",
    response={201: list[LinkOut], **WRITE_ERRORS},
    summary="关联事项",
    operation_id="case_link",
    description="成功返回 **201** 与该事项的全部关联。\n\n" + _doc(H.case_link),
)
def case_link(request: HttpRequest, case_id: int, body: LinkIn) -> Any:
    case = access.case_or_404(request, case_id)
    user = current_user(request)
    other = access.visible(request).filter(pk=body.other_id).first()
    if other is None:
        raise DomainError("未找到要关联的事项，或该事项不在您的查看范围内", field="other_id")
    with_field_map(
        lambda f: "other_id" if f == "other" else f,
        lambda: H.case_link(case=case, by=user, other=other, note=body.note),
    )
    return WithStatus(201, case_links(request, case_id))


@router.post(
    "/cases/{case_id}/investigation",
    response={201: EventOut, **WRITE_ERRORS},
    summary="记录调查情况（内部）",
    operation_id="case_investigation",
    description=_doc(H.case_investigation_add),
)
def case_investigation(request: HttpRequest, case_id: int, body: InvestigationIn) -> Any:
    case = access.case_or_404(request, case_id)
    ev = with_field_map(
        lambda f: f,
        lambda: H.case_investigation_add(case=case, by=current_user(request), text=body.text),
    )
    return WithStatus(201, out.event(ev, show_repeat_of=False))


@router.post(
    "/cases/{case_id}/evidence",
    response={201: AttachmentOut, **WRITE_ERRORS},
    summary="上传证据材料（内部）",
    operation_id="case_evidence",
    description="`multipart/form-data`：文件放在 `file`，说明放在 `note`（可选）。\n\n"
    + _doc(H.case_evidence_add),
)
def case_evidence(
    request: HttpRequest, case_id: int, file: File[UploadedFile], note: Form[str] = ""
) -> Any:
    case = access.case_or_404(request, case_id)
    att = with_field_map(
        lambda f: "file" if f == "attachments" else f,
        lambda: H.case_evidence_add(case=case, by=current_user(request), upload=file, note=note),
    )
    return WithStatus(201, out.attachment(att))


@router.post(
    "/cases/bulk-route",
    response={200: BulkRouteOut, **WRITE_ERRORS},
    summary="批量交办/转送",
    operation_id="cases_bulk_route",
    description=(
        "逐件调用交办/转送（每件一个事务），返回每件的结果；一件失败不影响其他件。"
        "带 `Idempotency-Key` 请求头重复提交不会重复分流。\n\n" + _doc(H.bulk_route)
    ),
)
def cases_bulk_route(request: HttpRequest, body: BulkRouteIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    results = with_field_map(
        lambda f: {"code": "action", "unit": "unit_id"}.get(f, f),
        lambda: H.bulk_route(
            by=current_user(request),
            case_ids=body.case_ids,
            code=body.action,
            unit=unit,
            note=body.note,
        ),
    )
    done = sum(1 for r in results if r.ok)
    return {
        "done": done,
        "failed": len(results) - done,
        "results": [r.__dict__ for r in results],
    }
