"""办事指南 (``xinfang.directory``): the organs competent for a matter, and 告知 naming one.

- ``GET /directory/organs``: the same list as ``/directory/`` (``competent_organs``: most
  specific first), readable by case readers (403 otherwise).
- ``POST /directory/cases/{case_id}/inform``: ``case_inform`` with ``organ_id`` — the
  ``inform`` event carries the organ's snapshot and the 告知单 names it. Case through
  ``cases_visible_to`` (404 otherwise).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from xinfang.api import access
from xinfang.api import serialize as out
from xinfang.api.auth import current_user
from xinfang.api.errors import READ_ERRORS, WRITE_ERRORS, with_field_map
from xinfang.api.schemas import ActionResult, DbId
from xinfang.cases import services as S
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.directory.models import Organ, OrganKind
from xinfang.directory.services import competent_organs, remedy_text
from xinfang.directory.views import may_read_directory

router = Router(tags=["办事指南"])


class OrganOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    unit_id: int | None
    categories: list[str]
    place_codes: list[str]
    address: str
    phone: str
    hours: str
    website: str
    notes: str
    legal_route: bool
    remedy: str


class InformIn(Schema):
    organ_id: DbId = Field(description="有权处理机关（GET /directory/organs 的 id）")
    reason: str = Field(max_length=2000, description="告知理由（不属本单位管辖的原因）")


def _organ(o: Organ) -> dict[str, Any]:
    return {
        "id": o.pk,
        "name": o.name,
        "kind": o.kind,
        "kind_label": o.get_kind_display(),  # type: ignore[attr-defined]
        "unit_id": o.unit_id,
        "categories": [c.full_name for c in o.categories.all()],
        "place_codes": o.place_prefixes(),
        "address": o.address,
        "phone": o.phone,
        "hours": o.hours,
        "website": o.website,
        "notes": o.notes,
        "legal_route": o.legal_route,
        "remedy": remedy_text(o),
    }


@router.get(
    "/directory/organs",
    response={200: list[OrganOut], **READ_ERRORS},
    summary="办事指南：有权处理机关",
    operation_id="directory_organs",
    description=competent_organs.__doc__ or "",
)
def organs(
    request: HttpRequest,
    category_id: DbId | None = None,
    place_code: str = Query("", max_length=12, pattern=r"^\d{0,12}$", description="问题属地代码"),
    q: str = Query("", max_length=40),
    kind: str = Query("", max_length=20, description="机关类型（court/arbitration/…）"),
    legal_only: bool = Query(False, description="仅涉法涉诉途径"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    if not may_read_directory(current_user(request)):
        raise PermissionDenied("办事指南仅供办理信访事项的工作人员查阅")
    if kind and kind not in OrganKind.values:
        raise DomainError("机关类型不正确", field="kind")
    rows = competent_organs(category_id, place_code, q, kind=kind, legal_only=legal_only)
    return [_organ(o) for o in rows[offset : offset + limit]]


@router.post(
    "/directory/cases/{case_id}/inform",
    response={200: ActionResult, **WRITE_ERRORS},
    summary="告知（不属本单位管辖，写明有权处理机关）",
    operation_id="directory_case_inform",
    description=S.case_inform.__doc__ or "",
)
def case_inform(request: HttpRequest, case_id: int, body: InformIn) -> Any:
    case = access.case_or_404(request, case_id)
    event = with_field_map(
        lambda f: {"organ": "organ_id"}.get(f, f),
        lambda: S.case_inform(
            case=case, by=current_user(request), reason=body.reason, organ_id=body.organ_id
        ),
    )
    after = access.visible(request).filter(pk=case_id).exists()
    return {
        "event": out.event(event, show_repeat_of=False),
        "case": out.fresh_detail(request, case_id) if after else None,
    }
