"""The JSON API: HTTP in front of the same services and selectors the workbench uses.

Nothing here decides a domain question. Every case is fetched through
``policy.cases_visible_to(user)`` (another unit's case is a 404, never a 403); every write is one
call of a service in ``xinfang.cases.services`` / ``registration``; their ``DomainError``s become
JSON errors with the Chinese message they carry:

=====================  ======  ==========================================================
error                  status  when
=====================  ======  ==========================================================
DomainError            400     a field or rule of the domain is broken (``field`` names it)
PermissionDenied       403     the case is visible but this user may not do this to it
TransitionNotAllowed   409     the case's current state does not allow the action
ConcurrentChange       409     someone else changed the case between read and write
(not visible)          404     no such case, or not in the user's units
(pydantic)             422     the request does not have the documented shape
=====================  ======  ==========================================================

The two 409s are told apart by ``code`` (``transition_not_allowed`` / ``concurrent_change``):
both mean "reload the case and look again".
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, P, Query, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params import HeaderEx, QueryEx
from ninja.responses import Status as WithStatus

from xinfang.api.auth import CsrfFailed, SessionAuth, TokenAuth, current_user
from xinfang.api.schemas import (
    ActionResult,
    CaseDetail,
    CaseListQuery,
    CasePage,
    ErrorOut,
    EvaluateIn,
    ExtensionDecisionIn,
    ExtensionRequestIn,
    LookupOut,
    NoteIn,
    NoticeIn,
    PetitionerIn,
    ReasonIn,
    RegistrationIn,
    ReplyIn,
    RouteIn,
    TextIn,
    ValidationErrorOut,
)
from xinfang.cases import deadlines
from xinfang.cases import services as S
from xinfang.cases.models import (
    OBLIGATION_KINDS,
    Case,
    CaseEvent,
    CasePetitioner,
    Deadline,
    DeadlineKind,
    Evaluation,
    ExtensionRequest,
    PetitionerRole,
    Status,
)
from xinfang.cases.policy import allowed_actions, cases_visible_to
from xinfang.cases.registration import Registration, case_register
from xinfang.cases.selectors import (
    CaseFilter,
    _petitioner_match,
    case_list,
    case_list_page_rows,
    first_petitioners,
)
from xinfang.cases.transitions import ACTIONS
from xinfang.core.errors import (
    ConcurrentChange,
    DomainError,
    PermissionDenied,
    TransitionNotAllowed,
)
from xinfang.org.models import Unit
from xinfang.org.policy import role_codes
from xinfang.org.roles import CASE_READERS
from xinfang.people.models import IdType, Petitioner
from xinfang.people.services import PetitionerInput

DESCRIPTION = """\
信访工作平台的 JSON 接口，与工作台界面调用同一组业务函数。

**认证**：系统对接使用个人 API 令牌（`Authorization: Bearer xf_…`，由管理员用
`manage.py issue_api_token 用户名 --name 用途` 签发）；浏览器内调用使用登录会话，
写操作须带 `X-CSRFToken` 请求头。

**错误**：统一为 `{"detail": 中文说明, "field": 字段或 null, "code": 类别}`。
400 业务校验未通过；401 未认证；403 无权执行（仅限您能查看的事项）；
404 事项不存在或不在您的权限范围内；409 状态已变化（`transition_not_allowed`：当前状态不允许该操作；
`concurrent_change`：刚被他人处理）；422 请求格式有误（`errors` 列出各字段）。

**幂等登记**：`POST /api/cases` 可带 `Idempotency-Key` 请求头或 `idempotency_key` 字段。
首次登记返回 201；同一键再次提交不会重复登记，返回 200 与首次登记的同一事项。
"""

api = NinjaAPI(
    title="民声 · 信访工作平台 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    # Swagger UI from the files bundled in the ninja package (offline); no validator badge,
    # which would otherwise call validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)

NOT_FOUND = "未找到该信访事项（不存在或不在您的权限范围内）"

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}
WRITE_ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ValidationErrorOut,
}


# --- errors --------------------------------------------------------------------------------


def _error(
    request: HttpRequest, status: int, detail: str, code: str, field: str | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"detail": detail, "field": field, "code": code}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, 400, exc.message, "invalid", exc.field)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, exc.message, "permission_denied", exc.field)


@api.exception_handler(TransitionNotAllowed)
def _transition_not_allowed(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    return _error(request, 409, exc.message, "transition_not_allowed", exc.field)


@api.exception_handler(ConcurrentChange)
def _concurrent_change(request: HttpRequest, exc: ConcurrentChange) -> HttpResponse:
    return _error(request, 409, exc.message, "concurrent_change", exc.field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else "未登录：请登录或提供 API 令牌"
    response = _error(request, 401, message, "unauthenticated")
    response["WWW-Authenticate"] = 'Bearer realm="xinfang"'
    return response


@api.exception_handler(CsrfFailed)
def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
    return _error(request, 403, exc.message, "csrf")


class NotFound(HttpError):
    def __init__(self, message: str = NOT_FOUND) -> None:
        super().__init__(404, message)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, NOT_FOUND, "not_found")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    429: "throttled",
}
_HTTP_MESSAGES = {
    "Cannot parse request body": "请求体不是合法的 JSON（没有字段时请发送 {}）",
    "Too many requests.": "请求过于频繁，请稍后再试",
}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    return _error(request, exc.status_code, _HTTP_MESSAGES.get(exc.message, exc.message), code)


# pydantic error types → Chinese; {ctx} keys are filled from the error's context.
_VALIDATION_ZH = {
    "missing": "必填",
    "string_type": "应为字符串",
    "string_too_long": "过长：最多{max_length}个字符",
    "string_too_short": "不能为空",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "datetime_type": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "datetime_parsing": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "datetime_from_date_parsing": "日期时间格式不正确，应为 ISO 8601，如 2025-05-01T09:30:00+08:00",
    "date_type": "日期格式不正确，应为 YYYY-MM-DD",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不带时间",
    "greater_than_equal": "不能小于{ge}",
    "less_than_equal": "不能大于{le}",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "请求体不是合法的 JSON",
    "extra_forbidden": "不允许的字段",
}


def _loc_text(loc: Sequence[Any]) -> str:
    # ninja prefixes the source ("body"/"query"/"path") and, for bodies, the parameter name.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) > 2:
        parts = parts[2:]
    elif parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts)


def _zh(error: dict[str, Any]) -> str:
    template = _VALIDATION_ZH.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    items = [
        {"loc": list(e.get("loc", ())), "msg": _zh(e), "type": str(e.get("type", ""))}
        for e in exc.errors
    ]
    shown = "；".join(f"{_loc_text(i['loc'])} {i['msg']}".strip() for i in items[:3]) + (
        "……" if len(items) > 3 else ""
    )
    return api.create_response(
        request,
        {"detail": f"请求数据有误：{shown}", "code": "validation", "errors": items},
        status=422,
    )


def _with_field_map(mapping: Callable[[str], str], fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a DomainError's field is renamed to the request body's name for it."""
    try:
        return fn()
    except DomainError as exc:
        if exc.field:
            exc.field = mapping(exc.field)
        raise


_PERSON_FIELD = re.compile(r"^([pr])(\d+)_(\w+)$")
_REGISTRATION_FIELDS = {"category": "category_id"}


def _registration_field(name: str) -> str:
    match = _PERSON_FIELD.match(name)
    if match:
        side, index, field = match.groups()
        return f"{'petitioners' if side == 'p' else 'representatives'}.{index}.{field}"
    return _REGISTRATION_FIELDS.get(name, name)


# --- presentation helpers ------------------------------------------------------------------


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(moment) if moment is not None else None


def _cl(code: str, label: str) -> dict[str, str]:
    return {"code": code, "label": label}


def _status(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    try:
        return _cl(code, Status(code).label)
    except ValueError:
        return _cl(code, code)


def _deadline_state(next_due: dt.date | None, today: dt.date) -> dict[str, str]:
    state = deadlines.state_of(next_due, today)
    return _cl(state, deadlines.STATE_LABELS[state])


def _unit(unit: Unit | None) -> dict[str, Any] | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def _person_name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


EVENT_LABELS = {"register": "登记", "note": "备注"} | {c: a.label for c, a in ACTIONS.items()}


def _event(ev: CaseEvent, *, show_repeat_of: bool) -> dict[str, Any]:
    data = dict(ev.data or {})
    if "repeat_of" in data and not show_repeat_of:
        data["repeat_of"] = None  # another unit's case number is not ours to show
    return {
        "id": ev.pk,
        "kind": ev.kind,
        "label": EVENT_LABELS.get(ev.kind, ev.kind),
        "actor": _person_name(ev.actor) or None,
        "unit": _unit(ev.actor_unit),
        "at": _local(ev.at),
        "from_status": _status(ev.from_status),
        "to_status": _status(ev.to_status),
        "text": ev.text,
        "data": data,
    }


def _visible(request: HttpRequest) -> Any:
    return cases_visible_to(current_user(request))


def _case_or_404(request: HttpRequest, case_id: int) -> Case:
    """The case if this user may see it — otherwise 404, never 403."""
    case = (
        deadlines.with_next_due(_visible(request))
        .select_related("office_unit", "handling_unit", "category", "group", "registered_by")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def _detail(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = current_user(request)
    today = timezone.localdate()
    related_number = None
    if case.related_to_id is not None:
        related_number = (
            _visible(request).filter(pk=case.related_to_id).values_list("number", flat=True).first()
        )
    related_visible = related_number is not None
    parties = [
        {
            "petitioner_id": link.petitioner.pk,
            "name": link.petitioner.name,
            "role": _cl(link.role, PetitionerRole(link.role).label),
            "id_type": _cl(link.petitioner.id_type, IdType(link.petitioner.id_type).label),
            "id_masked": link.petitioner.id_masked,
            "phone_masked": link.petitioner.phone_masked,
            "sex": link.petitioner.sex,
            "age_band": link.petitioner.age_band,
        }
        for link in CasePetitioner.objects.filter(case=case).select_related("petitioner")
    ]
    events = [
        _event(ev, show_repeat_of=related_visible)
        for ev in CaseEvent.objects.filter(case=case).select_related("actor", "actor_unit")
    ]
    open_deadlines = [
        {
            "kind": _cl(d.kind, DeadlineKind(d.kind).label),
            "started_on": d.started_on,
            "due_on": d.due_on,
            "state": _deadline_state(d.due_on, today),
            "obligation": d.kind in OBLIGATION_KINDS,
            "paused": d.paused,
        }
        for d in Deadline.objects.filter(
            case=case, met_at__isnull=True, cancelled_at__isnull=True
        ).order_by("due_on", "id")
    ]
    pending = ExtensionRequest.objects.filter(
        case=case, state=ExtensionRequest.State.PENDING
    ).first()
    return {
        "id": case.pk,
        "number": case.number,
        "query_code": case.query_code,
        "status": _status(case.status),
        "channel": _cl(case.channel, case.get_channel_display()),
        "purpose": _cl(case.purpose, case.get_purpose_display()),
        "category": str(case.category) if case.category else None,
        "category_id": case.category_id,
        "place_code": case.place_code,
        "place_name": case.place_name,
        "summary": case.summary,
        "content": case.content,
        "received_at": _local(case.received_at),
        "registered_at": _local(case.registered_at),
        "registered_by": _person_name(case.registered_by),
        "headcount": case.headcount,
        "group": case.group.name if case.group else None,
        "is_repeat": case.is_repeat,
        "is_skip_level": case.is_skip_level,
        "is_collective": case.is_collective,
        "is_joint": case.is_joint,
        "related_to": related_number,
        "office_unit": _unit(case.office_unit),
        "handling_unit": _unit(case.handling_unit),
        "evaluation": (
            _cl(case.evaluation, Evaluation(case.evaluation).label) if case.evaluation else None
        ),
        "served_at": case.served_at,
        "closed_at": _local(case.closed_at),
        "updated_at": _local(case.updated_at),
        "deadline_state": _deadline_state(getattr(case, "next_due", None), today),
        "petitioners": parties,
        "events": events,
        "deadlines": open_deadlines,
        "pending_extension": (
            {"days": pending.days, "reason": pending.reason, "requested_at": pending.requested_at}
            if pending
            else None
        ),
        "allowed_actions": [
            {"code": a.code, "label": a.label, "path": f"/api/cases/{case.pk}/actions/{a.code}"}
            for a in allowed_actions(user, case)
        ],
    }


def _fresh_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return _detail(request, _case_or_404(request, case_id))


# --- cases ---------------------------------------------------------------------------------


def _person_input(p: PetitionerIn) -> PetitionerInput:
    return PetitionerInput(
        name=p.name,
        id_type=p.id_type.value,
        id_number=p.id_number,
        phone=p.phone,
        address=p.address,
        sex=p.sex,
        age_band=p.age_band,
        education=p.education,
        occupation=p.occupation,
        ethnic_group=p.ethnic_group,
    )


@api.post(
    "/cases",
    response={201: CaseDetail, 200: CaseDetail, **WRITE_ERRORS},
    tags=["事项"],
    summary="登记信访事项",
    operation_id="case_register",
    description=(
        "按 `Registration` 登记一件信访事项（来访、来信、网上等各渠道）。"
        "首次登记返回 **201**；带相同幂等键（`Idempotency-Key` 请求头或 `idempotency_key` 字段）"
        "再次提交返回 **200** 与首次登记的同一事项（以首次提交的内容为准）。"
        "幂等键若已被您无权查看的事项使用，返回 409 `idempotency_conflict`。\n\n"
        + inspect.cleandoc(case_register.__doc__ or "")
    ),
)
def register_case(
    request: HttpRequest,
    body: RegistrationIn,
    idempotency_key: HeaderEx[
        str | None, P(alias="Idempotency-Key", min_length=1, max_length=64)
    ] = None,
) -> Any:
    user = current_user(request)
    key = body.idempotency_key
    if idempotency_key and key and idempotency_key != key:
        raise DomainError(
            "Idempotency-Key 请求头与请求体中的 idempotency_key 不一致", field="idempotency_key"
        )
    key = key or idempotency_key
    office = Unit.objects.filter(pk=body.office_unit_id).first()
    if office is None:
        raise DomainError("登记单位不存在", field="office_unit_id")
    if (
        body.related_to_id is not None
        and not _visible(request).filter(pk=body.related_to_id).exists()
    ):
        raise DomainError("关联前案不存在或不在您的权限范围内", field="related_to_id")
    reg = Registration(
        channel=body.channel.value,
        purpose=body.purpose.value,
        summary=body.summary,
        content=body.content,
        petitioners=[_person_input(p) for p in body.petitioners],
        representatives=[_person_input(p) for p in body.representatives],
        received_at=body.received_at,
        category_id=body.category_id,
        place_code=body.place_code,
        place_name=body.place_name,
        headcount=body.headcount,
        group_name=body.group_name,
        related_to_id=body.related_to_id,
        skip_level=body.skip_level,
    )
    now = timezone.now()
    case = _with_field_map(
        _registration_field,
        lambda: case_register(by=user, office=office, reg=reg, idempotency_key=key, at=now),
    )
    if not _visible(request).filter(pk=case.pk).exists():
        # The key was used for a case outside this user's units: say nothing about it.
        return WithStatus(
            409,
            {
                "detail": "该幂等键已被使用，请为新的登记生成新的幂等键",
                "field": "idempotency_key",
                "code": "idempotency_conflict",
            },
        )
    created = case.registered_at == now  # a replay returns the case registered earlier
    return WithStatus(201 if created else 200, _fresh_detail(request, case.pk))


@api.get(
    "/cases",
    response={200: CasePage, **READ_ERRORS},
    tags=["事项"],
    summary="事项列表（检索、筛选、分页）",
    operation_id="case_list",
    description="与工作台事项列表相同的检索与筛选（`CaseFilter`），只含您有权查看的事项；"
    "按收到时间倒序。信访人信息已脱敏。",
)
def list_cases(request: HttpRequest, filters: Query[CaseListQuery]) -> Any:
    user = current_user(request)
    today = timezone.localdate()
    f = CaseFilter(
        q=filters.q,
        status=filters.status.value if filters.status else "",
        channel=filters.channel.value if filters.channel else "",
        purpose=filters.purpose.value if filters.purpose else "",
        unit=filters.unit,
        category=filters.category,
        place=filters.place,
        date_from=filters.date_from,
        date_to=filters.date_to,
        deadline=filters.deadline or "",
        flag=filters.flag or "",
    )
    matching = case_list(user, f, today=today)
    count = matching.count()
    start = (filters.page - 1) * filters.page_size
    rows = list(case_list_page_rows(matching)[start : start + filters.page_size])
    firsts = first_petitioners(rows)
    items = []
    for case in rows:
        person = firsts.get(case.pk)
        next_due = getattr(case, "next_due", None)
        items.append(
            {
                "id": case.pk,
                "number": case.number,
                "status": _status(case.status),
                "channel": _cl(case.channel, case.get_channel_display()),
                "purpose": _cl(case.purpose, case.get_purpose_display()),
                "summary": case.summary,
                "received_at": _local(case.received_at),
                "handling_unit": _unit(case.handling_unit),
                "deadline_state": _deadline_state(next_due, today),
                "next_due": next_due,
                "first_petitioner": (
                    {
                        "name": person.name,
                        "id_masked": person.id_masked,
                        "phone_masked": person.phone_masked,
                    }
                    if person
                    else None
                ),
            }
        )
    return {"count": count, "page": filters.page, "page_size": filters.page_size, "items": items}


@api.get(
    "/cases/{case_id}",
    response={200: CaseDetail, **READ_ERRORS},
    tags=["事项"],
    summary="事项详情",
    operation_id="case_detail",
    description="事项字段、信访人（脱敏）、全部动态、未完成的期限、您此刻可执行的操作。"
    "不在您权限范围内的事项返回 404。",
)
def case_detail(request: HttpRequest, case_id: int) -> Any:
    return _fresh_detail(request, case_id)


# --- petitioners ---------------------------------------------------------------------------

LOOKUP_LIMIT = 20


@api.get(
    "/petitioners/lookup",
    response={200: LookupOut, 400: ErrorOut, 403: ErrorOut, **READ_ERRORS},
    tags=["信访人"],
    summary="按证件号、电话或姓名查找信访人",
    operation_id="petitioner_lookup",
    description="完整的身份证号、电话号码或中文姓名。返回的证件号与电话已脱敏；"
    "每人只列出您有权查看的事项。仅信访工作岗位可用。",
)
def petitioner_lookup(
    request: HttpRequest,
    q: QueryEx[str, P(min_length=1, max_length=40, description="身份证号、电话或姓名")],
) -> Any:
    user = current_user(request)
    if not role_codes(user) & CASE_READERS:
        raise PermissionDenied("您的岗位不能查询信访人信息")
    matched = _petitioner_match(q.strip())
    if matched is None:
        raise DomainError("请输入完整的身份证号、电话号码或中文姓名（2–10个汉字）", field="q")
    people: list[Petitioner] = list(matched.order_by("id")[: LOOKUP_LIMIT + 1])
    truncated = len(people) > LOOKUP_LIMIT
    people = people[:LOOKUP_LIMIT]
    links = (
        CasePetitioner.objects.filter(petitioner__in=people, case__in=_visible(request))
        .select_related("case")
        .order_by("-case__received_at", "-case_id")
    )
    by_person: dict[int, list[dict[str, Any]]] = {p.pk: [] for p in people}
    for link in links:
        by_person[link.petitioner_id].append(
            {
                "id": link.case.pk,
                "number": link.case.number,
                "status": _status(link.case.status),
                "received_at": _local(link.case.received_at),
            }
        )
    return {
        "items": [
            {
                "id": p.pk,
                "name": p.name,
                "id_masked": p.id_masked,
                "phone_masked": p.phone_masked,
                "cases": by_person[p.pk],
            }
            for p in people
        ],
        "truncated": truncated,
    }


# --- actions -------------------------------------------------------------------------------


def _action(code: str, service: Callable[..., Any], **extra: Any) -> Callable[[Any], Any]:
    """``POST /cases/{case_id}/actions/<code>``, documented with the service's docstring."""
    label = ACTIONS[code].label if code in ACTIONS else "备注"
    return api.post(
        f"/cases/{{case_id}}/actions/{code}",
        response={200: ActionResult, **WRITE_ERRORS},
        tags=["事项操作"],
        summary=f"{label}（{code}）",
        operation_id=f"case_{code}",
        description=(
            "成功时返回 200：`event` 为新增的事项动态，`case` 为操作后的事项详情"
            "（操作使事项离开您的权限范围时为 null，如退回后的承办单位）。\n\n"
            + inspect.cleandoc(service.__doc__ or "")
        ),
        **extra,
    )


def _run(
    request: HttpRequest,
    case_id: int,
    service: Callable[..., Any],
    fields: dict[str, str] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    case = _case_or_404(request, case_id)
    names = fields or {}
    event = _with_field_map(
        lambda f: names.get(f, f),
        lambda: service(case=case, by=current_user(request), **kwargs),
    )
    after = _visible(request).filter(pk=case_id).exists()
    return {
        "event": _event(event, show_repeat_of=False),
        "case": _fresh_detail(request, case_id) if after else None,
    }


def _unit_or_400(unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("所选单位不存在", field="unit_id")
    return unit


@_action("assign", S.case_assign)
def case_assign(request: HttpRequest, case_id: int, body: RouteIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    return _run(request, case_id, S.case_assign, {"unit": "unit_id"}, unit=unit, note=body.note)


@_action("forward", S.case_forward)
def case_forward(request: HttpRequest, case_id: int, body: RouteIn) -> Any:
    unit = _unit_or_400(body.unit_id)
    return _run(request, case_id, S.case_forward, {"unit": "unit_id"}, unit=unit, note=body.note)


@_action("inform", S.case_inform)
def case_inform(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_inform, reason=body.reason)


@_action("sign_in", S.case_sign_in)
def case_sign_in(request: HttpRequest, case_id: int) -> Any:
    return _run(request, case_id, S.case_sign_in)


@_action("accept", S.case_accept)
def case_accept(request: HttpRequest, case_id: int, body: NoticeIn) -> Any:
    return _run(request, case_id, S.case_accept, notice_text=body.notice_text)


@_action("refuse", S.case_refuse)
def case_refuse(request: HttpRequest, case_id: int, body: NoticeIn) -> Any:
    return _run(request, case_id, S.case_refuse, notice_text=body.notice_text)


@_action("return", S.case_return)
def case_return(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_return, reason=body.reason)


@_action("request_extension", S.case_request_extension)
def case_request_extension(request: HttpRequest, case_id: int, body: ExtensionRequestIn) -> Any:
    return _run(request, case_id, S.case_request_extension, days=body.days, reason=body.reason)


@_action("decide_extension", S.case_decide_extension)
def case_decide_extension(request: HttpRequest, case_id: int, body: ExtensionDecisionIn) -> Any:
    return _run(request, case_id, S.case_decide_extension, approve=body.approve, note=body.note)


@_action("reply", S.case_reply)
def case_reply(request: HttpRequest, case_id: int, body: ReplyIn) -> Any:
    return _run(
        request,
        case_id,
        S.case_reply,
        text=body.text,
        served_on=body.served_on,
        method=body.method.value,
    )


@_action("evaluate", S.case_evaluate)
def case_evaluate(request: HttpRequest, case_id: int, body: EvaluateIn) -> Any:
    return _run(
        request, case_id, S.case_evaluate, evaluation=body.evaluation.value, comment=body.comment
    )


@_action("close", S.case_close)
def case_close(request: HttpRequest, case_id: int, body: NoteIn) -> Any:
    return _run(request, case_id, S.case_close, note=body.note)


@_action("request_review", S.case_request_review)
def case_request_review(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_request_review, reason=body.reason)


@_action("decide_review", S.case_decide_review)
def case_decide_review(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_decide_review, text=body.text)


@_action("request_rereview", S.case_request_rereview)
def case_request_rereview(request: HttpRequest, case_id: int, body: ReasonIn) -> Any:
    return _run(request, case_id, S.case_request_rereview, reason=body.reason)


@_action("decide_rereview", S.case_decide_rereview)
def case_decide_rereview(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_decide_rereview, text=body.text)


@_action("note", S.case_add_note)
def case_note(request: HttpRequest, case_id: int, body: TextIn) -> Any:
    return _run(request, case_id, S.case_add_note, text=body.text)
