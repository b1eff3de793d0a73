"""``GET /people/lookup?q=``: the desk lookup (``people.lookup.lookup``) as JSON.

Same scope and masking as the card: persons only through cases the user may see, 检举控告
persons masked, ID number and phone masked (full values through the audited
``POST /petitioners/{id}/reveal``). Roles that read no cases get a 404."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api.auth import current_user
from xinfang.api.errors import NotFound
from xinfang.people.lookup import MAX_QUERY, as_json, lookup, may_lookup

router = Router(tags=["来访人查询"])


class LookupIn(Schema):
    q: str = Field(
        "",
        max_length=MAX_QUERY * 2,
        description="姓名、证件号码或后6位、电话、事项编号、查询码、地址",
    )


class LookupCaseOut(Schema):
    id: int
    number: str
    received_at: dt.datetime
    channel: str
    category: str
    status: str
    status_label: str
    handling_unit: str
    summary: str
    next_due: dt.date | None
    deadline_state: str
    last_reply: str
    final: bool
    via_group: str


class LookupPersonOut(Schema):
    id: int
    name: str
    masked: bool
    id_number: str
    phone: str
    address: str
    key_person: bool
    key_reason: str
    groups: list[str]
    more_cases: bool
    cases: list[LookupCaseOut]


class LookupOut(Schema):
    kind: str
    message: str
    more: bool
    persons: list[LookupPersonOut]


def _lookup(request: HttpRequest, q: str) -> dict[str, object]:
    user = current_user(request)
    if not may_lookup(user):
        raise NotFound()
    return as_json(lookup(user, q))


@router.get("/people/lookup", response=LookupOut, summary="来访人查询（边输边查）")
def people_lookup(request: HttpRequest, params: Query[LookupIn]) -> dict[str, object]:
    return _lookup(request, params.q)


@router.post(
    "/people/lookup",
    response=LookupOut,
    summary="来访人查询（查询内容放在请求体中）",
    description="与 GET 相同；按身份证号码或电话查询时请用 POST：号码不进入网址和访问日志。",
    operation_id="people_lookup_post",
)
def people_lookup_post(request: HttpRequest, body: LookupIn) -> dict[str, object]:
    return _lookup(request, body.q)
