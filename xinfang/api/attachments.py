"""``POST /cases/{case_id}/attachments``: add a file to a case (metadata comes back, not a link);
``GET /cases/{case_id}/attachments/{att_id}``: download it (access-checked, audited).

The checks on the file itself (type detected from the content, size, images re-encoded) are
``xinfang.cases.attachments.check_upload``'s; who may add files is ``policy.may_add_to_file``'s.
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import File, Router, UploadedFile
from ninja.responses import Status as WithStatus

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound, with_field_map
from xinfang.api.schemas import AttachmentOut
from xinfang.cases.attachments import ALLOWED_EXTS, attachment_add, attachment_response
from xinfang.cases.models import Attachment, Case
from xinfang.cases.policy import may_add_to_file
from xinfang.core.errors import DomainError, PermissionDenied

router = Router()

# An upload changes no state, so there is no 409 to document.
UPLOAD_ERRORS = {status: shape for status, shape in WRITE_ERRORS.items() if status != 409}


def _who_may_add_to_file(case: Case) -> str:
    units = [u.name for u in (case.office_unit, case.handling_unit) if u is not None]
    return f"只有{'或'.join(units)}的工作人员可以为该事项上传附件"


@router.post(
    "/cases/{case_id}/attachments",
    response={201: AttachmentOut, **UPLOAD_ERRORS},
    tags=["事项附件"],
    summary="上传附件",
    operation_id="case_attachment_add",
    description=(
        "`multipart/form-data`，文件放在 `file` 字段，每次一个。"
        f"允许的类型（按文件内容识别，不看扩展名）：{ALLOWED_EXTS}；"
        f"大小上限 {settings.ATTACHMENT_MAX_BYTES / 1048576:.0f}MB；"
        "JPEG/PNG 图片会重新编码（去除 EXIF/GPS 等元数据），损坏、截断或像素过多的图片被拒绝。"
        "仅登记单位或当前承办单位的工作人员可以上传（403）；"
        "类型、大小或内容不符时返回 400，`field` 为 `file`。"
        "成功返回 **201** 与附件信息，事项动态新增一条「附件」。"
        "使用登录会话时须带 `X-CSRFToken` 请求头。\n\n"
        + inspect.cleandoc(attachment_add.__doc__ or "")
    ),
)
def case_attachment_add(request: HttpRequest, case_id: int, file: File[UploadedFile]) -> Any:
    case = access.case_or_404(request, case_id)
    user = current_user(request)
    if not may_add_to_file(user, case):
        raise PermissionDenied(_who_may_add_to_file(case))
    attachment = with_field_map(
        lambda f: "file" if f == "attachments" else f,
        lambda: attachment_add(case=case, by=user, upload=file),
    )
    return WithStatus(201, out.attachment(attachment))


@router.get(
    "/cases/{case_id}/attachments/{att_id}",
    response={200: None, **READ_ERRORS},
    tags=["事项附件"],
    summary="下载附件",
    operation_id="case_attachment_download",
    description=(
        "返回文件内容（`Content-Disposition: attachment`，文件名按 RFC 5987 以 UTF-8 编码；"
        "`Content-Type` 为上传时按内容识别的类型）。"
        "事项不在您的权限范围内、附件不属于该事项或文件缺失时返回 404。"
        "每次下载写入审计日志（下载附件）。"
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "文件内容",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def case_attachment_download(request: HttpRequest, case_id: int, att_id: int) -> Any:
    case = access.case_or_404(request, case_id)
    att = Attachment.objects.filter(pk=att_id, case=case).select_related("case").first()
    if att is None:
        raise NotFound("未找到该附件（不存在或不属于该信访事项）")
    try:
        return attachment_response(att=att, by=current_user(request), request=request)
    except DomainError as exc:
        raise NotFound(exc.message) from None
