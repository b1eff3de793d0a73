"""矛盾纠纷排查台账 services: one function per state change of a dispute.

Each: guard (policy, state, field rules → Chinese ``DomainError`` with the field) → conditional
UPDATE on the state where two clerks may race → ``DisputeEvent`` → notifications. Views, the
API, screening reports (``screening.py``) and informant reports (``informants.py``) call these.

States: 化解中 (open) → 报请销号 → 待审核销号 (pending) → 审核通过 → 已销号 (struck), or 退回 →
化解中. A struck-off item stays in the register (history), read-only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.core.errors import (
    ConcurrentChange,
    DomainError,
    IdempotencyConflict,
    PermissionDenied,
)
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.org.policy import posts_of
from xinfang.prevention import rubric
from xinfang.prevention.models import (
    Dispute,
    DisputeCounter,
    DisputeEvent,
    DisputeSource,
    RiskLevel,
)

TITLE_MAX = 100
TERRITORIAL = frozenset({UnitType.DISTRICT, UnitType.STREET, UnitType.COMMUNITY, UnitType.GRID})
TEXT_MAX = 5000


def beijing_today(at: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(at or timezone.now()).date()


def next_number(year: int) -> str:
    """Gap-free per year: the counter row is incremented inside the caller's transaction."""
    DisputeCounter.objects.get_or_create(year=year)
    DisputeCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = DisputeCounter.objects.values_list("last", flat=True).get(year=year)
    return f"MD{year}-{last:05d}"


def add_event(
    dispute: Dispute,
    kind: str,
    by: Any,
    *,
    text: str = "",
    data: dict[str, Any] | None = None,
    report: Any = None,
    at: dt.datetime | None = None,
) -> DisputeEvent:
    unit_id = None
    if by is not None:
        posts = posts_of(by)
        own = [p for p in posts if p.unit_id == dispute.unit_id] or posts
        unit_id = own[0].unit_id if own else None
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        actor=by,
        actor_unit_id=unit_id,
        at=at or timezone.now(),
        text=text,
        data=data or {},
        report=report,
    )


def answers_for(unit: Unit, place_unit: Unit) -> bool:
    """May ``unit`` be responsible for a dispute at ``place_unit``? The place itself, a unit
    above or below it on its branch, or a functional unit (department, company…) beside one
    above it — a district department for a community's dispute; never another street or
    community."""
    if place_unit.path.startswith(unit.path) or unit.path.startswith(place_unit.path):
        return True
    if unit.parent_id is None or unit.unit_type in TERRITORIAL:
        # Another street or community never answers for this place.
        return False
    parent_path = str(Unit.objects.values_list("path", flat=True).get(pk=unit.parent_id))
    return place_unit.path.startswith(parent_path)


CONFIDENTIAL_SOURCE = "检举控告件不能转为矛盾纠纷台账事项，请按检举控告程序办理"
KEY_TAKEN = "该幂等键已被使用，请为新的登记生成新的幂等键"


def check_case_source(case: Any) -> None:
    """A 信访事项 may be the source of (or be linked to) a dispute unless it is a 检举控告件:
    its content and the accuser are protected (``cases.confidential``), while a dispute is read
    by everybody whose scope holds its place — often the accused unit itself."""
    if case is not None and case.is_confidential:
        raise DomainError(CONFIDENTIAL_SOURCE, field="case")


def _own_by_key(by: Any, idempotency_key: str) -> Dispute | None:
    """The item ``by`` registered with this key; another user's key is a conflict (never
    their item)."""
    existing = Dispute.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if existing.created_by_id != getattr(by, "pk", None):
        raise IdempotencyConflict(KEY_TAKEN, field="idempotency_key")
    return existing


def _may_register(by: Any, unit: Unit, place_unit: Unit) -> bool:
    """Who may put an item in the register: a reporter (staff or 信息员) of the place or the
    responsible unit, or a reader whose scope holds either (the office registering it)."""
    from xinfang.prevention.policy import READERS, REPORTERS, in_scope

    for p in posts_of(by):
        if p.role in REPORTERS and p.unit_id in (unit.pk, place_unit.pk):
            return True
    return in_scope(by, unit.pk, READERS) or in_scope(by, place_unit.pk, READERS)


def dispute_create(
    by: Any,
    *,
    title: str,
    description: str,
    source: str,
    parties: str,
    place_unit: Unit,
    unit: Unit,
    risk_level: str,
    headcount: int = 1,
    due_on: dt.date | None = None,
    category: Any = None,
    owner: Any = None,
    leader: Any = None,
    plan: str = "",
    place_text: str = "",
    source_note: str = "",
    round_report: Any = None,
    informant_report: Any = None,
    case: Any = None,
    petitioners: Iterable[Any] = (),
    group: Any = None,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> Dispute:
    """Register an item. With ``idempotency_key`` a resent form returns the first item (the
    same user's only: another user's key is ``IdempotencyConflict``). ``due_on`` defaults to
    the rubric's days for the level. A 检举控告件 (``case``) is never a source."""
    if idempotency_key:
        existing = _own_by_key(by, idempotency_key)
        if existing is not None:
            return existing
    check_case_source(case)
    now = at or timezone.now()
    title = clean_line(title or "")
    description = clean_text(description or "")
    parties = clean_text(parties or "")
    if not title:
        raise DomainError("请填写纠纷名称", field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(f"纠纷名称不能超过{TITLE_MAX}字", field="title")
    if not description:
        raise DomainError("请填写纠纷的基本情况", field="description")
    if len(description) > TEXT_MAX:
        raise DomainError(f"基本情况不能超过{TEXT_MAX}字", field="description")
    if not parties:
        raise DomainError("请填写当事人（每行一方）", field="parties")
    if source not in DisputeSource.values:
        raise DomainError("请选择纠纷来源", field="source")
    if risk_level not in RiskLevel.values:
        raise DomainError("请选择风险等级", field="risk_level")
    if headcount < 1:
        raise DomainError("涉及人数至少为1", field="headcount")
    if not unit.is_active or not place_unit.is_active:
        raise DomainError("所选单位已停用", field="unit")
    if not answers_for(unit, place_unit):
        raise DomainError("责任单位应为发生地所属单位或其上级、同级主管部门", field="unit")
    today = beijing_today(now)
    if due_on is None:
        due_on = today + dt.timedelta(days=rubric.BY_LEVEL[risk_level].due_days)
    if due_on < today:
        raise DomainError("化解期限不能早于今天", field="due_on")
    if not _may_register(by, unit, place_unit):
        raise PermissionDenied("您不能为该单位登记矛盾纠纷")
    check_owner(owner, unit)
    check_leader(leader, unit)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                number=next_number(today.year),
                title=title,
                description=description,
                source=source,
                source_note=clean_line(source_note or "")[:200],
                round_report=round_report,
                informant_report=informant_report,
                case=case,
                parties=parties,
                headcount=headcount,
                group=group,
                place_unit=place_unit,
                place_text=clean_line(place_text or "")[:200],
                category=category,
                risk_level=risk_level,
                unit=unit,
                owner=owner,
                leader=leader,
                plan=clean_text(plan or ""),
                due_on=due_on,
                created_by=by,
                created_at=now,
                idempotency_key=idempotency_key or None,
            )
            people = list(petitioners)
            if people:
                dispute.petitioners.set(people)
            add_event(
                dispute,
                "create",
                by,
                at=now,
                report=round_report,
                data={"source": source, "risk_level": risk_level},
            )
    except IntegrityError:
        if idempotency_key:
            existing = _own_by_key(by, idempotency_key)
            if existing is not None:
                return existing
        raise
    _notify_new(dispute)
    return dispute


def _notify_new(dispute: Dispute) -> None:
    """The responsible person, the 包案 leader and the unit's heads learn of a new item; a high
    or critical one also reaches the leaders over the unit."""
    from xinfang.notify.services import leaders_over, notify, unit_staff

    people: list[Any] = [dispute.owner, dispute.leader]
    people += list(unit_staff(dispute.unit, {R.UNIT_HEAD}))
    if dispute.risk_level in (RiskLevel.HIGH, RiskLevel.CRITICAL):
        people += list(leaders_over(dispute.unit))
    notify(
        [p for p in people if p is not None],
        kind="dispute",
        title=f"新增矛盾纠纷（风险{dispute.get_risk_level_display()}）：{dispute.title}",
        url=f"/prevention/disputes/{dispute.pk}/",
        dedupe_key=f"dispute-new-{dispute.pk}",
    )


# --- changes after registration (helper A) -------------------------------------------------

STRUCK_READ_ONLY = "已销号的事项不能修改；如有新情况，请另行登记新的台账事项"
UNIT_LOCKED = "事项已报请销号，审核期间不能变更责任单位"
EVIDENCE_MESSAGE = "申请销号须提交化解佐证：请说明化解情况并上传协议、回访记录等材料"
EVIDENCE_MIN = 10
REASON_MIN = 5
PERSON_MAX = 100
MAX_FILES = 30
OWNER_ROLES = frozenset({R.HANDLER, R.UNIT_HEAD, R.CASE_OFFICER, R.LEADER})
UPDATABLE = (
    "title",
    "description",
    "parties",
    "headcount",
    "place_text",
    "category",
    "risk_level",
    "owner",
    "leader",
    "plan",
    "due_on",
    "unit",
)


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)


def check_owner(owner: Any, unit: Unit) -> None:
    """责任人: an active user holding a staff post in the responsible unit itself."""
    if owner is None:
        return
    if not owner.is_active or not any(
        p.unit_id == unit.pk and p.role in OWNER_ROLES for p in posts_of(owner)
    ):
        raise DomainError(
            f"责任人须为责任单位（{unit.name}）的在岗工作人员，{_name(owner)}不在该单位任职",
            field="owner",
        )


def check_leader(leader: Any, unit: Unit) -> None:
    """包案领导: an active user holding 领导 in the responsible unit or a unit above it."""
    if leader is None:
        return
    ok = leader.is_active and any(
        p.role == R.LEADER and unit.path.startswith(p.unit_path) for p in posts_of(leader)
    )
    if not ok:
        raise DomainError(
            f"包案领导须为责任单位（{unit.name}）或其上级单位的领导，{_name(leader)}不具备该职务",
            field="leader",
        )


def facts_risk(dispute: Dispute, headcount: int | None = None) -> str:
    """The level the rubric gives for the facts stored on the item (headcount, a linked
    petition): lowering the level below it needs a reason."""
    return rubric.suggest_risk(
        headcount=dispute.headcount if headcount is None else headcount,
        already_petitioned=dispute.case_id is not None or dispute.source == DisputeSource.PETITION,
    )


def _require_not_struck(dispute: Dispute) -> None:
    from xinfang.prevention.models import DisputeState

    if dispute.state == DisputeState.STRUCK:
        raise DomainError(STRUCK_READ_ONLY)


def _shown(value: Any) -> Any:
    """A JSON-friendly, readable form of a field value for ``data.changes``."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Unit):
        return value.name
    if hasattr(value, "get_full_name"):
        return _name(value)
    if hasattr(value, "pk") and not isinstance(value, (str, int)):
        return str(value)
    return value


def _concurrent(dispute: Dispute, what: str) -> ConcurrentChange:
    current = Dispute.objects.filter(pk=dispute.pk).first()
    label = current.get_state_display() if current is not None else "未知"
    return ConcurrentChange(
        f"该事项刚被他人处理（当前状态：{label}），「{what}」未执行，请刷新后查看"
    )


def dispute_update(
    by: Any, dispute: Dispute, *, reason: str = "", at: dt.datetime | None = None, **fields: Any
) -> Dispute:
    """Change the facts, the plan or the people of an item (not once struck off).

    ``fields``: any of title, description, parties, headcount, place_text, category,
    risk_level, owner, leader, plan, due_on, unit. One ``update`` event lists the changes
    (``data.changes`` = {field: [old, new]}); a new risk level is also a ``risk`` event with
    ``reason``. A level below what the rubric gives for the facts needs a reason (≥5 字).
    The owner must be staff of the responsible unit; the 包案领导 a 领导 of it or above. The
    responsible unit changes only while 化解中 (not while a 销号 request awaits the level
    above)."""
    from xinfang.prevention.models import DisputeState
    from xinfang.prevention.policy import require_edit_dispute

    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    require_edit_dispute(by, dispute)
    _require_not_struck(dispute)
    now = at or timezone.now()
    reason = clean_text(reason or "")
    new: dict[str, Any] = {}
    if "title" in fields:
        title = clean_line(fields["title"] or "")
        if not title:
            raise DomainError("请填写纠纷名称", field="title")
        if len(title) > TITLE_MAX:
            raise DomainError(f"纠纷名称不能超过{TITLE_MAX}字", field="title")
        new["title"] = title
    if "description" in fields:
        text = clean_text(fields["description"] or "")
        if not text:
            raise DomainError("请填写纠纷的基本情况", field="description")
        if len(text) > TEXT_MAX:
            raise DomainError(f"基本情况不能超过{TEXT_MAX}字", field="description")
        new["description"] = text
    if "parties" in fields:
        parties = clean_text(fields["parties"] or "")
        if not parties:
            raise DomainError("请填写当事人（每行一方）", field="parties")
        new["parties"] = parties
    if "headcount" in fields:
        headcount = fields["headcount"]
        if headcount is None or int(headcount) < 1:
            raise DomainError("涉及人数至少为1", field="headcount")
        new["headcount"] = int(headcount)
    if "place_text" in fields:
        new["place_text"] = clean_line(fields["place_text"] or "")[:200]
    if "plan" in fields:
        plan = clean_text(fields["plan"] or "")
        if len(plan) > TEXT_MAX:
            raise DomainError(f"化解方案不能超过{TEXT_MAX}字", field="plan")
        new["plan"] = plan
    if "category" in fields:
        new["category"] = fields["category"]
    if "risk_level" in fields:
        if fields["risk_level"] not in RiskLevel.values:
            raise DomainError("请选择风险等级", field="risk_level")
        new["risk_level"] = fields["risk_level"]
    if "due_on" in fields:
        due_on = fields["due_on"]
        if due_on is None:
            raise DomainError("请填写化解期限", field="due_on")
        if due_on != dispute.due_on and due_on < beijing_today(now):
            raise DomainError("化解期限不能早于今天", field="due_on")
        new["due_on"] = due_on
    unit = dispute.unit
    if "unit" in fields and fields["unit"] is not None and fields["unit"].pk != dispute.unit_id:
        if dispute.state != DisputeState.OPEN:
            # The level above that approves is measured from the responsible unit.
            raise DomainError(UNIT_LOCKED, field="unit")
        unit = fields["unit"]
        if not unit.is_active:
            raise DomainError("所选单位已停用", field="unit")
        if not answers_for(unit, dispute.place_unit):
            raise DomainError("责任单位应为发生地所属单位或其上级、同级主管部门", field="unit")
        if not _may_register(by, unit, dispute.place_unit):
            raise PermissionDenied("您不能把该事项交给不在您职责范围内的单位")
        new["unit"] = unit
    if "owner" in fields:
        check_owner(fields["owner"], unit)
        new["owner"] = fields["owner"]
    elif "unit" in new and dispute.owner is not None:
        try:
            check_owner(dispute.owner, unit)
        except DomainError:
            new["owner"] = None  # the old owner is not staff of the new unit
    if "leader" in fields:
        check_leader(fields["leader"], unit)
        new["leader"] = fields["leader"]
    elif "unit" in new and dispute.leader is not None:
        check_leader(dispute.leader, unit)

    changes: dict[str, list[Any]] = {}
    for name, value in new.items():
        old = getattr(dispute, name)
        old_key = getattr(old, "pk", old)
        new_key = getattr(value, "pk", value)
        if old_key != new_key:
            changes[name] = [_shown(old), _shown(value)]
    if not changes:
        return dispute
    if "risk_level" in changes:
        level = new["risk_level"]
        suggested = facts_risk(dispute, new.get("headcount"))
        if rubric.is_below(level, suggested) and len(reason) < REASON_MIN:
            raise DomainError(
                f"按评定标准，该事项应不低于「{RiskLevel(suggested).label}」风险；"
                f"调低须说明理由（至少{REASON_MIN}个字）",
                field="reason",
            )
        changes["risk_level"] = [
            RiskLevel(dispute.risk_level).label,
            RiskLevel(level).label,
        ]
    values = {k: v for k, v in new.items() if k in changes}
    # A new responsible unit only while 化解中: a 销号 request filed meanwhile wins the race.
    states = [DisputeState.OPEN] if "unit" in values else [DisputeState.OPEN, DisputeState.PENDING]
    with transaction.atomic():
        done = Dispute.objects.filter(pk=dispute.pk, state__in=states).update(
            **values, updated_at=now
        )
        if not done:
            raise _concurrent(dispute, "修改")
        old_risk = dispute.risk_level
        for k, v in values.items():
            setattr(dispute, k, v)
        add_event(dispute, "update", by, at=now, data={"changes": changes})
        if "risk_level" in values:
            add_event(
                dispute,
                "risk",
                by,
                at=now,
                text=reason,
                data={"from": old_risk, "to": values["risk_level"]},
            )
    newcomers = [values.get("owner"), values.get("leader")]
    if any(newcomers):
        from xinfang.notify.services import notify

        notify(
            [p for p in newcomers if p is not None and p.pk != by.pk],
            kind="dispute",
            title=f"您被指定负责矛盾纠纷：{dispute.number} {dispute.title}",
            url=f"/prevention/disputes/{dispute.pk}/",
            at=now,
        )
    return dispute


def dispute_contact(
    by: Any,
    dispute: Dispute,
    method: str,
    person: str,
    note: str,
    at: dt.datetime | None = None,
) -> DisputeEvent:
    """联系/走访记录: who was contacted, how, what came of it. ``at`` (when it happened)
    defaults to now and may not be in the future."""
    from xinfang.prevention.models import ContactMethod
    from xinfang.prevention.policy import require_edit_dispute

    require_edit_dispute(by, dispute)
    _require_not_struck(dispute)
    now = timezone.now()
    if method not in ContactMethod.values:
        raise DomainError("请选择联系方式", field="method")
    person = clean_line(person or "")
    if not person:
        raise DomainError("请填写联系对象（当事人姓名或单位）", field="person")
    if len(person) > PERSON_MAX:
        raise DomainError(f"联系对象不能超过{PERSON_MAX}字", field="person")
    note = clean_text(note or "")
    if len(note) < 2:
        raise DomainError("请填写联系情况（至少2个字）", field="note")
    if len(note) > TEXT_MAX:
        raise DomainError(f"联系情况不能超过{TEXT_MAX}字", field="note")
    when = at or now
    if when > now + dt.timedelta(minutes=1):
        raise DomainError("联系时间不能晚于现在", field="at")
    with transaction.atomic():
        event = add_event(
            dispute,
            "contact",
            by,
            at=when,
            text=note,
            data={
                "method": method,
                "method_label": ContactMethod(method).label,
                "person": person,
                "recorded_at": now.isoformat(),
            },
        )
        Dispute.objects.filter(pk=dispute.pk).update(updated_at=now)
    return event


def _store_file(by: Any, dispute: Dispute, upload: Any, now: dt.datetime) -> Any:
    import hashlib
    import secrets

    from django.core.files.base import ContentFile

    from xinfang.cases.attachments import check_upload, clean_name
    from xinfang.prevention.models import DisputeAttachment

    try:
        checked = check_upload(upload)
    except DomainError as exc:
        exc.field = "files"
        raise
    content = checked.content
    att = DisputeAttachment(
        dispute=dispute,
        original_name=clean_name(upload.name or ""),
        stored_name=secrets.token_hex(16) + checked.kind.ext,
        content_type=checked.kind.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=by,
        uploaded_at=now,
    )
    att.file.save(att.stored_name, ContentFile(content), save=False)
    att.save()
    add_event(
        dispute,
        "file",
        by,
        at=now,
        text=f"上传材料「{att.original_name}」（{att.size}字节，{checked.kind.label}）",
        data={"attachment_id": att.pk},
    )
    return att


def _check_files(dispute: Dispute, uploads: list[Any]) -> None:
    from xinfang.cases.attachments import check_upload

    have = dispute.attachments.count()
    if have + len(uploads) > MAX_FILES:
        raise DomainError(f"每个台账事项最多{MAX_FILES}个材料，已有{have}个", field="files")
    for upload in uploads:
        try:
            check_upload(upload)
        except DomainError as exc:
            exc.field = "files"
            raise


def dispute_add_file(by: Any, dispute: Dispute, upload: Any) -> Any:
    """Add one evidence file (化解协议, 回访记录…): detected by content, images re-encoded, size
    limited, exactly as case attachments (``cases.attachments.check_upload``)."""
    from xinfang.prevention.policy import require_edit_dispute

    require_edit_dispute(by, dispute)
    _require_not_struck(dispute)
    _check_files(dispute, [upload])
    now = timezone.now()
    with transaction.atomic():
        att = _store_file(by, dispute, upload, now)
        Dispute.objects.filter(pk=dispute.pk).update(updated_at=now)
    return att


def strike_approvers(dispute: Dispute) -> list[Any]:
    """Who is told of a strike-off request: heads and leaders of the unit above, the leaders
    over it and the case officers of the petition office serving it."""
    from xinfang.notify.services import leaders_over, unit_staff
    from xinfang.prevention.alerts import office_for

    parent = dispute.unit.parent
    if parent is None:
        return []
    people: list[Any] = list(unit_staff(parent, {R.UNIT_HEAD, R.LEADER}))
    people += list(leaders_over(parent))
    office = office_for(parent)
    if office is not None:
        people += list(unit_staff(office, {R.CASE_OFFICER}))
    return [p for p in people if p.pk != dispute.requested_by_id]


def dispute_request_strike(
    by: Any,
    dispute: Dispute,
    resolution: str,
    evidence: str,
    files: Iterable[Any] = (),
    at: dt.datetime | None = None,
) -> Dispute:
    """报请销号: 化解中 → 待审核销号. Needs 化解情况, 化解佐证 (≥10 字) and at least one evidence
    file on the item (uploaded now or before). The level above approves."""
    from xinfang.prevention.models import DisputeState
    from xinfang.prevention.policy import require_edit_dispute

    require_edit_dispute(by, dispute)
    _require_not_struck(dispute)
    if dispute.state == DisputeState.PENDING:
        raise DomainError("该事项已报请销号，正在等待上级审核，请勿重复提交")
    if dispute.unit.parent_id is None:
        raise DomainError("责任单位没有上级单位，无法报请销号", field="unit")
    resolution = clean_text(resolution or "")
    evidence = clean_text(evidence or "")
    uploads = list(files)
    if len(resolution) < 2:
        raise DomainError("请填写化解情况", field="resolution")
    if len(resolution) > TEXT_MAX or len(evidence) > TEXT_MAX:
        raise DomainError(f"化解情况、化解佐证各不能超过{TEXT_MAX}字", field="evidence")
    if len(evidence) < EVIDENCE_MIN:
        raise DomainError(EVIDENCE_MESSAGE, field="evidence")
    if not uploads and not dispute.attachments.exists():
        raise DomainError(EVIDENCE_MESSAGE, field="files")
    _check_files(dispute, uploads)
    now = at or timezone.now()
    with transaction.atomic():
        done = Dispute.objects.filter(pk=dispute.pk, state=DisputeState.OPEN).update(
            state=DisputeState.PENDING,
            resolution=resolution,
            evidence=evidence,
            requested_by=by,
            requested_at=now,
            updated_at=now,
        )
        if not done:
            raise _concurrent(dispute, "报请销号")
        stored = [_store_file(by, dispute, u, now) for u in uploads]
        dispute.state = DisputeState.PENDING
        dispute.resolution, dispute.evidence = resolution, evidence
        dispute.requested_by, dispute.requested_at = by, now
        add_event(
            dispute,
            "strike_request",
            by,
            at=now,
            text=resolution,
            data={
                "evidence": evidence,
                "files": [a.pk for a in stored],
                "unit_id": dispute.unit_id,
                "unit": dispute.unit.name,
            },
        )
    from xinfang.notify.services import notify

    notify(
        strike_approvers(dispute),
        kind="strike_request",
        title=f"{dispute.unit.name}报请销号：{dispute.number} {dispute.title}",
        body=resolution[:500],
        url=f"/prevention/disputes/{dispute.pk}/",
        dedupe_key=f"strike-request-{dispute.pk}-{now.timestamp():.0f}",
        at=now,
    )
    return dispute


def _asked_unit(dispute: Dispute) -> tuple[int, str] | None:
    """(id, name) of the responsible unit when the pending 销号 was asked for (the latest
    ``strike_request`` event), or None for a request recorded without it."""
    event = dispute.events.filter(kind="strike_request").order_by("-at", "-id").first()
    if event is None or not isinstance(event.data.get("unit_id"), int):
        return None
    return int(event.data["unit_id"]), str(event.data.get("unit") or "")


def dispute_decide_strike(
    by: Any, dispute: Dispute, approve: bool, note: str = "", at: dt.datetime | None = None
) -> Dispute:
    """审核销号 by the level above (``policy.approver_unit``), never by the requester.
    Approve: 待审核销号 → 已销号 (the item stays in the register, read-only); refused if the
    responsible unit is no longer the one that asked (recorded on the ``strike_request``
    event). Reject: back to 化解中 with the note (required). Two approvers at once: one wins,
    the other gets ``ConcurrentChange``."""
    from xinfang.prevention.models import DisputeState
    from xinfang.prevention.policy import approver_unit

    unit = approver_unit(by, dispute)
    if unit is None:
        raise PermissionDenied("只有上一级单位的负责人、领导或信访部门办案员可以审核销号")
    if dispute.requested_by_id == by.pk:
        raise PermissionDenied("不能审核自己报请的销号")
    if dispute.state != DisputeState.PENDING:
        raise _concurrent(dispute, "审核销号")
    note = clean_text(note or "")
    if len(note) > TEXT_MAX:
        raise DomainError(f"审核意见不能超过{TEXT_MAX}字", field="note")
    if not approve and len(note) < 2:
        raise DomainError("退回须填写意见：说明还需开展的化解工作或补充的材料", field="note")
    asked = _asked_unit(dispute)
    if approve and asked is not None and asked[0] != dispute.unit_id:
        raise DomainError(
            f"报请销号后责任单位已由{asked[1]}变更为{dispute.unit.name}，不能审核通过；"
            "请退回，由现责任单位重新报请销号",
            field="note",
        )
    now = at or timezone.now()
    with transaction.atomic():
        rows = Dispute.objects.filter(pk=dispute.pk, state=DisputeState.PENDING)
        if approve and asked is not None:
            rows = rows.filter(unit_id=asked[0])  # not moved since the level above was measured
        if approve:
            done = rows.update(
                state=DisputeState.STRUCK,
                struck_by=by,
                struck_unit=unit,
                struck_at=now,
                updated_at=now,
            )
        else:
            done = rows.update(state=DisputeState.OPEN, updated_at=now)
        if not done:
            raise _concurrent(dispute, "审核销号")
        if approve:
            dispute.state = DisputeState.STRUCK
            dispute.struck_by, dispute.struck_unit, dispute.struck_at = by, unit, now
        else:
            dispute.state = DisputeState.OPEN
        add_event(
            dispute,
            "strike" if approve else "strike_reject",
            by,
            at=now,
            text=note,
            data={"unit": unit.name},
        )
    from xinfang.notify.services import notify

    verdict = "已审核通过，予以销号" if approve else "被退回，请继续化解"
    notify(
        [p for p in (dispute.requested_by, dispute.owner) if p is not None and p.pk != by.pk],
        kind="dispute",
        title=f"销号申请{verdict}：{dispute.number} {dispute.title}",
        body=note[:500],
        url=f"/prevention/disputes/{dispute.pk}/",
        at=now,
    )
    return dispute


def dispute_link_case(by: Any, dispute: Dispute, case: Any) -> Dispute:
    """Link a 信访事项 the user can see (its petitioners join the item's). Event ``link``.
    Never a 检举控告件 (``check_case_source``)."""
    from xinfang.cases.policy import cases_visible_to
    from xinfang.prevention.policy import require_edit_dispute

    require_edit_dispute(by, dispute)
    _require_not_struck(dispute)
    if case is None or not cases_visible_to(by).filter(pk=case.pk).exists():
        raise DomainError("该信访事项不存在或不在您的权限范围内", field="case")
    check_case_source(case)
    if dispute.case_id == case.pk:
        raise DomainError(f"已关联信访事项{case.number}", field="case")
    previous = dispute.case.number if dispute.case is not None else ""
    now = timezone.now()
    with transaction.atomic():
        Dispute.objects.filter(pk=dispute.pk).update(case=case, updated_at=now)
        dispute.case = case
        people = list(case.petitioners.all())
        if people:
            dispute.petitioners.add(*people)
        add_event(
            dispute,
            "link",
            by,
            at=now,
            text=f"关联信访事项{case.number}",
            data={"case_id": case.pk, "case": case.number, "previous": previous},
        )
    return dispute
