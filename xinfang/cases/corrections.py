"""更正登记信息: correcting what was registered (内容分类, 问题属地, 人数, 来源渠道) after the fact.

A correction is never an edit without a trace: the case row changes through a conditional
UPDATE (two clerks at once: one wins, the other gets ``ConcurrentChange``) and a ``correct``
event records every changed field as ``[old, new]`` with the reason. The statistics follow in
the same transaction (``xinfang.stats.receivers`` refreshes the case's rollup cells on a
``correct`` event): the case counts in the corrected category, place, kind and channel **in
every period**, including months already closed; bulletins already issued keep what they said
and a reissue shows the difference (docs/statistics.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import (
    Case,
    CaseEvent,
    CasePetitioner,
    Category,
    Channel,
    PetitionerRole,
    Status,
)
from xinfang.cases.registration import WRITTEN_CHANNELS
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over
from xinfang.stats.rules import COLLECTIVE_MIN

EVENT_KIND = "correct"
EVENT_LABEL = "更正登记信息"
MIN_REASON = 4
MAX_HEADCOUNT = 100000

# The fields a correction may change, in the order the event text lists them.
FIELD_LABELS: dict[str, str] = {
    "category_id": "内容分类",
    "place_code": "问题属地代码",
    "headcount": "人数",
    "channel": "来源渠道",
}


def may_correct(user: Any, case: Case) -> bool:
    """办案员 of the registering office (the office owns what it registered)."""
    return case.status != Status.MERGED and holds_role_over(
        user, case.office_unit, {R.CASE_OFFICER}
    )


def _category_text(category_id: int | None) -> str:
    if not category_id:
        return "未分类"
    row = Category.objects.filter(pk=category_id).values_list("full_name", "name").first()
    return (row[0] or row[1]) if row else f"#{category_id}"


def _shown(field: str, value: Any) -> str:
    if field == "category_id":
        return _category_text(value)
    if field == "channel":
        return str(Channel(value).label) if value in Channel.values else str(value)
    if field == "place_code":
        return value or "（空）"
    return str(value)


def _wanted(
    case: Case,
    *,
    category_id: int | None,
    place_code: str | None,
    headcount: int | None,
    channel: str | None,
) -> dict[str, Any]:
    """The requested values, checked; only the fields that differ from the case."""
    changes: dict[str, Any] = {}
    if category_id is not None and category_id != case.category_id:
        # (a category deactivated since registration may stay as it is)
        if not Category.objects.filter(pk=category_id, is_active=True).exists():
            raise DomainError("内容分类不存在或已停用，请重新选择", field="category_id")
        changes["category_id"] = category_id
    if place_code is not None:
        code = clean_line(place_code).strip()
        if code and not (code.isdigit() and 6 <= len(code) <= 12):
            raise DomainError(
                f"问题属地代码应为6至12位数字（行政区划代码），当前为「{code}」",
                field="place_code",
            )
        if code != case.place_code:
            changes["place_code"] = code
    if headcount is not None:
        if headcount < 1:
            raise DomainError("人数至少为1", field="headcount")
        if headcount > MAX_HEADCOUNT:
            raise DomainError(f"人数不能超过{MAX_HEADCOUNT}，请核对", field="headcount")
        people = CasePetitioner.objects.filter(case=case).count()
        if headcount < people:
            raise DomainError(
                f"人数不能少于本事项已登记的信访人、代表及在场人员（{people}人）",
                field="headcount",
            )
        if headcount != case.headcount:
            changes["headcount"] = headcount
    if channel is not None:
        if channel not in Channel.values:
            raise DomainError("请选择来源渠道", field="channel")
        if channel != case.channel:
            changes["channel"] = channel
    return changes


def case_correct(
    *,
    case: Case,
    by: Any,
    category_id: int | None = None,
    place_code: str | None = None,
    headcount: int | None = None,
    channel: str | None = None,
    reason: str,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """更正登记信息. A field left ``None`` is not touched; ``place_code=""`` clears the place.

    Guard: 办案员 of the registering office (``PermissionDenied`` otherwise); not a 已合并
    case (correct the case it was merged into); reason of at least 4 characters; the category
    exists and is active; the place code is 6–12 digits or empty; 人数 1–100000 and not fewer
    than the persons registered on the case; the channel is one of ``Channel``; at least one
    field actually changes. 检举控告 cases: no rule beyond this guard.

    Effect: a conditional UPDATE of the case — it wins only when the case is still as the
    clerk read it (same ``updated_at``, status and corrected fields), otherwise
    ``ConcurrentChange``; ``is_collective`` follows 人数 (5 or more); ``is_joint`` is cleared
    when the channel becomes a non-written one (联名 is a written-channel flag). 越级 and
    the place name stay as registered.

    Event: ``correct`` with ``data`` {field: [old, new], …, "reason"} and a readable text; the
    statistics rollups move the case to its corrected cells in every period (same
    transaction)."""
    if not may_correct(by, case):
        if case.status == Status.MERGED:
            raise DomainError("已合并的事项不能更正，请更正其所并入的事项")
        raise PermissionDenied("您没有权限更正登记信息：需要登记单位（信访机构）的办案员岗位")
    reason = clean_text(reason).strip()
    if len(reason) < MIN_REASON:
        raise DomainError(f"请填写更正理由（至少{MIN_REASON}个字）", field="reason")
    changes = _wanted(
        case, category_id=category_id, place_code=place_code, headcount=headcount, channel=channel
    )
    if not changes:
        raise DomainError("没有需要更正的内容：所填信息与现登记信息相同")
    now = timezone.now()
    when = at or now
    updates: dict[str, Any] = dict(changes)
    if "headcount" in changes:
        updates["is_collective"] = changes["headcount"] >= COLLECTIVE_MIN
    if "channel" in changes and changes["channel"] not in WRITTEN_CHANNELS:
        updates["is_joint"] = False
    elif "channel" in changes and case.channel not in WRITTEN_CHANNELS:
        updates["is_joint"] = (
            CasePetitioner.objects.filter(
                case=case, role__in=[PetitionerRole.PRINCIPAL, PetitionerRole.COSIGNER]
            ).count()
            > 1
        )
    updates["updated_at"] = max(now, when)
    old = {f: getattr(case, f) for f in FIELD_LABELS}
    with transaction.atomic():
        # As the clerk read it: a correction or a lifecycle step in the meantime loses this one.
        won = Case.objects.filter(
            pk=case.pk, updated_at=case.updated_at, status=case.status, **old
        ).update(**updates)
        if not won:
            raise ConcurrentChange("该事项刚被他人修改，本次更正未执行，请刷新后核对再更正")
        for key, value in updates.items():
            setattr(case, key, value)
        data: dict[str, Any] = {f: [old[f], changes[f]] for f in FIELD_LABELS if f in changes}
        data["reason"] = reason
        lines = [
            f"{FIELD_LABELS[f]}：{_shown(f, old[f])} → {_shown(f, changes[f])}"
            for f in FIELD_LABELS
            if f in changes
        ]
        return CaseEvent.objects.create(
            case=case,
            kind=EVENT_KIND,
            actor=by,
            actor_unit=case.office_unit,
            at=when,
            from_status=case.status,
            to_status="",
            text="；".join(lines) + f"。更正理由：{reason}",
            data=data,
        )
