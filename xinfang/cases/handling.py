"""Handling beyond the plain lifecycle: 合并 (merge a duplicate), 关联 (link related cases),
转办 (move a case to another unit), the handling unit's internal 调查记录 and 证据材料, and
bulk routing from the case list.

Same style as ``services.py``: guard (role and unit via ``policy.require``, then the rules of the
action), a conditional UPDATE (``services._transition``) or a unique index so two clerks at once
cannot both win, a ``CaseEvent``, then deadlines and notifications — in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import (
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    Deadline,
    DeadlineKind,
    ExtensionRequest,
    Status,
)
from xinfang.cases.policy import cases_visible_to, require, routing_targets
from xinfang.cases.services import _text, _transition, case_assign, case_forward
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import holds_role_over

K = DeadlineKind


def _lock(*pks: int) -> None:
    """Row locks in id order (PostgreSQL; SQLite's immediate transactions serialise anyway), so
    that two clerks merging A→B and B→A at once cannot both pass the checks."""
    list(Case.objects.select_for_update().filter(pk__in=sorted(pks)).order_by("pk").values("pk"))


# --- 合并 -------------------------------------------------------------------------------------


def case_merge(
    *, case: Case, by: Any, into: Case, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """合并重复事项: ``case`` is a duplicate of ``into``, which carries on. Guard: office 办案员
    of the registering office; state 已登记/已退回/已交办/已转送/已签收/已受理; ``into`` is
    another case of the same office that the clerk can see, still open and not merged itself;
    a 检举控告 case merges only with 检举控告 cases. Effect: status 已合并, ``merged_into`` set
    (cases merged into ``case`` earlier now point at ``into``); open deadlines cancelled; a
    pending extension request denied. Events: ``merge`` on ``case`` (into_id, into_number) and
    ``merge_in`` on ``into`` (from_id, from_number); both timelines are kept."""
    require(by, "merge", case)
    if into.pk == case.pk:
        raise DomainError("不能把事项合并到它自己", field="into")
    if not cases_visible_to(by).filter(pk=into.pk).exists():
        raise DomainError("未找到要并入的事项，或该事项不在您的查看范围内", field="into")
    if into.office_unit_id != case.office_unit_id:
        raise DomainError("只能合并同一信访机构登记的事项", field="into")
    if case.is_confidential != into.is_confidential:
        raise DomainError(
            "检举控告件只能与检举控告件合并"
            if case.is_confidential
            else "不能并入检举控告件：检举控告件只能与检举控告件合并",
            field="into",
        )
    note = clean_text(note).strip()
    with transaction.atomic():
        now = at or timezone.now()
        _lock(case.pk, into.pk)
        target = Case.objects.get(pk=into.pk)
        if target.status == Status.MERGED or target.merged_into_id:
            raise DomainError(
                f"事项{target.number}已被合并，不能再并入其他事项；请合并到它所并入的事项",
                field="into",
            )
        if target.status not in OPEN_STATUSES:
            raise DomainError(
                f"事项{target.number}当前状态为「{target.get_status_display()}」，"
                "已不在办理中，不能并入",
                field="into",
            )
        if case.is_confidential:
            _merge_accused(case, target, now)
        ev = _transition(
            case=case,
            by=by,
            action_code="merge",
            text=note or "作为重复事项合并，由所并入的事项继续办理",
            data={"into_id": target.pk, "into_number": target.number},
            at=now,
            changes={"merged_into": target},
        )
        Case.objects.filter(merged_into=case).update(merged_into=target)
        Deadline.objects.filter(case=case).filter(deadlines.unmet_filter()).update(cancelled_at=now)
        ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).update(
            state=ExtensionRequest.State.DENIED, decided_at=now, decision_note="事项已合并"
        )
        CaseEvent.objects.create(
            case=target,
            kind="merge_in",
            actor=by,
            actor_unit=target.office_unit,
            at=now,
            from_status=target.status,
            to_status=target.status,
            text=note or "另一重复事项并入本事项",
            data={"from_id": case.pk, "from_number": case.number},
        )
        return ev


def _merge_accused(case: Case, target: Case, now: dt.datetime) -> None:
    """检举控告: the survivor carries on the merged accusation, so it must stay hidden from
    everyone the merged case is hidden from. Refused when the survivor's handling unit must
    avoid the merged case (回避); otherwise its accused are added to the survivor's."""
    from xinfang.cases.confidential import recused_unit_ids

    if target.handling_unit_id is not None and target.handling_unit_id in recused_unit_ids(case):
        raise DomainError(
            f"不能并入事项{target.number}：其承办单位与本件检举控告有利害关系，应当回避",
            field="into",
        )
    target.accused_units.add(*case.accused_units.all())
    target.accused_persons.add(*case.accused_persons.all())
    extra = case.accused_text.strip()
    if extra and extra not in target.accused_text:
        joined = f"{target.accused_text}\n{extra}".strip()
        Case.objects.filter(pk=target.pk).update(accused_text=joined, updated_at=now)
        target.accused_text = joined


def case_merge_by_number(
    *, case: Case, by: Any, into_number: str, note: str = "", at: dt.datetime | None = None
) -> CaseEvent:
    """The form's way in: the survivor by its number (as the clerk reads it)."""
    number = clean_text(into_number).strip().upper()
    if not number:
        raise DomainError("请填写要并入的事项编号", field="into_number")
    into = cases_visible_to(by).filter(number=number).first()
    if into is None:
        raise DomainError(
            f"未找到编号为「{number}」的事项，或该事项不在您的查看范围内", field="into_number"
        )
    try:
        return case_merge(case=case, by=by, into=into, note=note, at=at)
    except DomainError as exc:
        if exc.field == "into":
            exc.field = "into_number"
        raise


# --- 转办 -------------------------------------------------------------------------------------


def case_transfer(
    *, case: Case, by: Any, unit: Unit, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """转办 to another handling unit, keeping the history. Guard: office 办案员; state
    已交办/已转送/已签收/已受理; reason required; the new unit is checked like routing (active,
    in the office's tree with staff to sign in, 回避 for 检举控告) and is not the current one.
    Effect: handling unit changed, status 已交办; open 受理/办理 deadlines cancelled and a new
    15-day acceptance deadline opened; a pending extension request denied; the new unit's
    承办人/负责人 notified (in-app and e-mail). Event: ``transfer`` (from_unit_id, from_unit,
    unit_id, unit, reason)."""
    require(by, "transfer", case)
    reason = _text(reason, "reason", "转办理由", min_len=4)
    if not unit.is_active:
        raise DomainError(f"单位「{unit.name}」已停用，请选择其他单位", field="unit")
    if unit.pk == case.handling_unit_id:
        raise DomainError(f"「{unit.name}」已是该事项的承办单位", field="unit")
    from xinfang.cases.confidential import routing_refusal

    recused = routing_refusal(case, unit)
    if recused:
        raise DomainError(recused.replace("交办或转送", "转办"), field="unit")
    if not routing_targets(case.office_unit).filter(pk=unit.pk).exists():
        raise DomainError(
            f"不能转办给「{unit.name}」：须为本辖区内、有承办人或单位负责人的单位", field="unit"
        )
    old = case.handling_unit
    with transaction.atomic():
        now = at or timezone.now()
        ev = _transition(
            case=case,
            by=by,
            action_code="transfer",
            text=reason,
            data={
                "from_unit_id": old.pk if old else None,
                "from_unit": old.name if old else "",
                "unit_id": unit.pk,
                "unit": unit.name,
                "reason": reason,
            },
            at=now,
            changes={"handling_unit": unit},
        )
        deadlines.deadlines_cancel(case, {K.ACCEPT, K.HANDLE}, now)
        deadlines.deadline_open(case, K.ACCEPT, deadlines.local_date(now))
        ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).update(
            state=ExtensionRequest.State.DENIED, decided_at=now, decision_note="事项已转办"
        )
        from xinfang.notify.services import notify, unit_staff

        notify(
            unit_staff(unit),
            kind="assignment",
            title=f"转办事项待签收：{case.number}",
            body=f"原承办单位：{old.name if old else '—'}。转办理由：{reason}",
            case=case,
            dedupe_key=f"transfer:{ev.pk}",
            email=True,
            at=now,
        )
        return ev


# --- 关联 -------------------------------------------------------------------------------------


def _may_work_on(user: Any, case: Case) -> bool:
    from xinfang.cases.policy import may_add_to_file

    return may_add_to_file(user, case)


def case_link(
    *, case: Case, by: Any, other: Case, note: str = "", at: dt.datetime | None = None
) -> CaseLink:
    """关联事项: mark two cases as related (same matter, same people…), without changing either.
    Guard: staff of the registering office or handling unit of ``case``; ``other`` is a case the
    user can see, not ``case`` itself, not linked already (a unique index on the pair).
    Events: ``link`` on both (other_id, other_number)."""
    if not _may_work_on(by, case):
        raise PermissionDenied("只有登记单位或承办单位的工作人员可以关联事项")
    if other.pk == case.pk:
        raise DomainError("不能把事项与它自己关联", field="other")
    if not cases_visible_to(by).filter(pk=other.pk).exists():
        raise DomainError("未找到要关联的事项，或该事项不在您的查看范围内", field="other")
    note = clean_text(note).strip()[:300]
    a, b = sorted([case, other], key=lambda c: c.pk)
    now = at or timezone.now()
    try:
        with transaction.atomic():
            link = CaseLink.objects.create(
                case_a=a, case_b=b, note=note, created_by=by, created_at=now
            )
            for this, that in ((case, other), (other, case)):
                CaseEvent.objects.create(
                    case=this,
                    kind="link",
                    actor=by,
                    at=now,
                    from_status=this.status,
                    to_status=this.status,
                    # A note about a 检举控告件 stays off an ordinary case's timeline, which
                    # its readers (possibly the accused) see unmasked.
                    text="" if that.is_confidential and not this.is_confidential else note,
                    data={"other_id": that.pk, "other_number": that.number},
                )
    except IntegrityError:
        raise DomainError("这两件事项已经关联", field="other") from None
    return link


def case_link_by_number(
    *, case: Case, by: Any, other_number: str, note: str = "", at: dt.datetime | None = None
) -> CaseLink:
    number = clean_text(other_number).strip().upper()
    if not number:
        raise DomainError("请填写要关联的事项编号", field="other_number")
    other = cases_visible_to(by).filter(number=number).first()
    if other is None:
        raise DomainError(
            f"未找到编号为「{number}」的事项，或该事项不在您的查看范围内", field="other_number"
        )
    try:
        return case_link(case=case, by=by, other=other, note=note, at=at)
    except DomainError as exc:
        if exc.field == "other":
            exc.field = "other_number"
        raise


@dataclass
class LinkView:
    case_id: int
    number: str
    status: str
    note: str
    at: dt.datetime
    visible: bool


def links_of(case: Case, user: Any) -> list[LinkView]:
    """Links of ``case`` as ``user`` may see them: the other case's number only when it is in
    the user's view (otherwise ``visible`` is false and nothing else of it is shown)."""
    links = list(
        CaseLink.objects.filter(Q(case_a=case) | Q(case_b=case))
        .select_related("case_a", "case_b")
        .order_by("created_at", "id")
    )
    others = [ln.case_b if ln.case_a_id == case.pk else ln.case_a for ln in links]
    seen = set(
        cases_visible_to(user).filter(pk__in=[o.pk for o in others]).values_list("pk", flat=True)
    )
    out = []
    for ln, other in zip(links, others, strict=True):
        ok = other.pk in seen
        out.append(
            LinkView(
                case_id=other.pk if ok else 0,
                number=other.number if ok else "",
                status=other.get_status_display() if ok else "",
                note=ln.note if ok else "",
                at=ln.created_at,
                visible=ok,
            )
        )
    return out


# --- 调查记录 / 证据材料 (internal) ---------------------------------------------------


def may_investigate(user: Any, case: Case) -> bool:
    """The handling unit's own 承办人/单位负责人, while the case is being handled."""
    return (
        case.handling_unit_id is not None
        and case.status in {Status.SIGNED, Status.ACCEPTED}
        and holds_role_over(user, case.handling_unit, R.UNIT_STAFF)
    )


def _guard_investigation(user: Any, case: Case) -> None:
    if case.handling_unit_id is None or not holds_role_over(user, case.handling_unit, R.UNIT_STAFF):
        raise PermissionDenied("只有承办单位的承办人或单位负责人可以记录调查情况、上传证据材料")
    if case.status not in {Status.SIGNED, Status.ACCEPTED}:
        raise DomainError(
            f"当前状态为「{case.get_status_display()}」，签收后、答复前才能记录调查情况或上传证据材料"
        )


def case_investigation_add(
    *, case: Case, by: Any, text: str, at: dt.datetime | None = None
) -> CaseEvent:
    """调查记录 (internal): what the handling unit found (visits, interviews, site checks).
    Guard: 承办人/单位负责人 of the handling unit; state 已签收/已受理; text required.
    Event: ``investigation`` — internal, never shown to the petitioner."""
    _guard_investigation(by, case)
    text = _text(text, "text", "调查情况", min_len=4)
    return CaseEvent.objects.create(
        case=case,
        kind="investigation",
        actor=by,
        actor_unit=case.handling_unit,
        at=at or timezone.now(),
        from_status=case.status,
        to_status=case.status,
        text=text,
    )


def case_evidence_add(
    *, case: Case, by: Any, upload: Any, note: str = "", at: dt.datetime | None = None
) -> Attachment:
    """证据材料 (internal): a file the handling unit collected. Guard as
    ``case_investigation_add``; the file passes the same checks as every attachment (type from
    the content, size, images re-encoded). Effect: an internal attachment. Event: ``evidence``
    (attachment_id) — internal."""
    _guard_investigation(by, case)
    from xinfang.cases.attachments import attachment_add

    return attachment_add(
        case=case, by=by, upload=upload, internal=True, note=clean_text(note).strip()[:500]
    )


def internal_items(case: Case) -> tuple[list[CaseEvent], list[Attachment]]:
    events = list(
        case.events.filter(kind="investigation").select_related("actor").order_by("-at", "-id")
    )
    files = list(case.attachments.filter(is_internal=True).select_related("uploaded_by"))
    return events, files


# --- 批量分流 ------------------------------------------------------------------------------------

BULK_MAX = 200
BULK_CODES = {"assign": case_assign, "forward": case_forward}


@dataclass
class BulkResult:
    case_id: int
    number: str
    ok: bool
    message: str


def bulk_route(
    *, by: Any, case_ids: list[int], code: str, unit: Unit, note: str = ""
) -> list[BulkResult]:
    """交办/转送 several cases to one unit with one note: each case through ``case_assign`` /
    ``case_forward`` in its own transaction (one refused case does not stop the others). Cases
    outside the user's view are reported as not found."""
    if code not in BULK_CODES:
        raise DomainError("请选择交办或转送", field="code")
    ids = list(dict.fromkeys(int(i) for i in case_ids))
    if not ids:
        raise DomainError("请至少选择一件事项", field="case_ids")
    if len(ids) > BULK_MAX:
        raise DomainError(f"一次最多分流{BULK_MAX}件事项", field="case_ids")
    service = BULK_CODES[code]
    found = {c.pk: c for c in _bulk_cases(by, ids)}
    results: list[BulkResult] = []
    for pk in ids:
        case = found.get(pk)
        if case is None:
            results.append(BulkResult(pk, "", False, "未找到该事项，或不在您的查看范围内"))
            continue
        try:
            service(case=case, by=by, unit=unit, note=note)
        except DomainError as exc:
            results.append(BulkResult(pk, case.number, False, exc.message))
        else:
            results.append(
                BulkResult(pk, case.number, True, "已" + ("交办" if code == "assign" else "转送"))
            )
    return results


def _bulk_cases(by: Any, ids: list[int]) -> QuerySet[Case]:
    return cases_visible_to(by).filter(pk__in=ids).select_related("office_unit", "handling_unit")


def bulk_route_once(
    *, by: Any, key: str, fingerprint: str, case_ids: list[int], code: str, unit: Unit, note: str
) -> tuple[list[BulkResult], bool]:
    """``bulk_route`` at most once per form key: the key is claimed first (its own
    transaction), then every case is routed in its own transaction, then the result table is
    stored on the claim. A resent form gets the stored table back (``True``: replayed)."""
    from xinfang.core.errors import IdempotencyConflict
    from xinfang.core.idempotency import CONFLICT_MESSAGE, check_key
    from xinfang.core.models import IdempotencyRecord

    if not key:
        return bulk_route(by=by, case_ids=case_ids, code=code, unit=unit, note=note), False
    check_key(key)
    scope = "bulk_route"
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                key=key, user=by, scope=scope, fingerprint=fingerprint
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=by, scope=scope, key=key).first()
        if existing is None or existing.fingerprint != fingerprint:
            raise IdempotencyConflict(CONFLICT_MESSAGE, field="idempotency_key") from None
        if not existing.body:
            raise ConcurrentChange("该批次正在处理中，请稍后刷新查看结果") from None
        return [BulkResult(**r) for r in json.loads(existing.body)], True
    try:
        results = bulk_route(by=by, case_ids=case_ids, code=code, unit=unit, note=note)
    except Exception:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    record.body = json.dumps([asdict(r) for r in results], ensure_ascii=False)
    record.content_type = "application/json"
    record.status_code = 200
    record.save(update_fields=["body", "content_type", "status_code"])
    return results, False
