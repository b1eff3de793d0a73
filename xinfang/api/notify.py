"""Notifications (站内消息) and 进展告知 over HTTP: the same functions as ``/notify/``.

``GET /notifications`` lists the caller's own inbox; ``POST /notifications/{id}/read`` and
``POST /notifications/read-all`` mark read. Someone else's notification is a 404.
``POST /cases/{case_id}/progress-notice`` sends a 进展告知 to the petitioner
(``notify.petitioner.case_progress_notice``).
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, NotFound
from xinfang.api.schemas import ActionResult
from xinfang.notify import services as N
from xinfang.notify.models import Notification
from xinfang.notify.petitioner import case_progress_notice

router = Router(tags=["站内消息"])
NOT_YOURS = "未找到该消息（不存在或不是您的消息）"


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    case_id: int | None
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    count: int = Field(description="符合条件的消息数")
    unread: int = Field(description="未读消息总数")
    items: list[NotificationOut]


class InboxQuery(Schema):
    unread: bool = Field(False, description="只看未读")
    kind: str = Field("", max_length=30, description="消息类别，如 assignment、urge")
    q: str = Field("", max_length=100, description="标题或内容中的文字")
    offset: int = Field(0, ge=0, le=10**7)
    limit: int = Field(50, ge=1, le=200)


class ReadAllOut(Schema):
    marked: int = Field(description="本次标为已读的条数")
    unread: int


class ProgressNoticeIn(Schema):
    channel: Literal["portal", "sms", "letter", "email"] = Field(
        "portal", description="发送渠道：portal 网上信访平台、sms 短信、letter 信函、email 电子邮件"
    )
    opening: str = Field("", max_length=30, description="常用开头代码（可选）")
    text: str = Field("", max_length=1000, description="告知内容")


def _row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk,
        "kind": n.kind,
        "kind_label": N.kind_label(n.kind),
        "title": n.title,
        "body": n.body,
        "case_id": n.case_id,
        "url": n.url,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


@router.get(
    "/notifications",
    response={200: NotificationPage, **READ_ERRORS},
    summary="我的站内消息",
    operation_id="notifications_list",
)
def notifications_list(request: HttpRequest, filters: Query[InboxQuery]) -> Any:
    user = current_user(request)
    qs = N.inbox(user, unread=filters.unread, kind=filters.kind, q=filters.q)
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    return {
        "count": qs.count(),
        "unread": N.unread_count(user),
        "items": [_row(n) for n in rows],
    }


@router.post(
    "/notifications/read-all",
    response={200: ReadAllOut, **WRITE_ERRORS},
    summary="全部标为已读",
    operation_id="notifications_read_all",
)
def notifications_read_all(request: HttpRequest) -> Any:
    user = current_user(request)
    return {"marked": N.mark_all_read(user), "unread": N.unread_count(user)}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **WRITE_ERRORS},
    summary="标为已读",
    operation_id="notifications_read",
)
def notifications_read(request: HttpRequest, notification_id: int) -> Any:
    try:
        return _row(N.mark_read(current_user(request), notification_id))
    except Notification.DoesNotExist:
        raise NotFound(NOT_YOURS) from None


@router.post(
    "/cases/{case_id}/progress-notice",
    response={200: ActionResult, **WRITE_ERRORS},
    tags=["事项操作"],
    summary="进展告知（progress_notice）",
    operation_id="case_progress_notice",
    description=inspect.cleandoc(case_progress_notice.__doc__ or ""),
)
def progress_notice(request: HttpRequest, case_id: int, body: ProgressNoticeIn) -> Any:
    case = access.case_or_404(request, case_id)
    event = case_progress_notice(
        case=case,
        by=current_user(request),
        channel=body.channel,
        text=body.text,
        opening=body.opening,
    )
    return {
        "event": out.event(event, show_repeat_of=False),
        "case": out.fresh_detail(request, case_id),
    }
