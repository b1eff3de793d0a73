"""重点人员/重点群体 (issue 10, item 4): sensitive personal data — restricted and audited.

Who (``policy``): 领导 and 办案员 whose scope holds the responsible unit (``KEY_READERS``) add,
change and remove; the 包案领导 and the responsible unit's 单位负责人 also read the subject and
log contacts. Everyone else: the subject does not exist (404).

Rules:

- One active flag per petitioner / group (partial unique index); a second add is refused naming
  the existing flag. Removing keeps the row (``removed_*``) as history.
- A person can be flagged only when they are a party of a case the user may see that is not a
  检举控告 case (you cannot flag a stranger by ID, nor an accuser); a group only when it appears
  on a visible case or dispute, or when the user creates it here.
- The 包案领导 must hold 领导 in the responsible unit or a unit above it.
- Every change writes ``audit_record(action="keyperson_change")`` in the same transaction; every
  read of a detail page ``keyperson_view`` (the views / API do that).
- ``key_reviews_due(today)`` reminds the 包案领导 of each review that has come due (kind
  ``key_review``, once per subject × review date) and returns the overdue ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from xinfang.audit.services import audit_record
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import posts_of
from xinfang.people.models import KeyPerson, Petitioner, PetitionerGroup
from xinfang.prevention import policy
from xinfang.prevention.models import ContactMethod, KeyContact, KeyGroup

REASON_MAX = 200
PLAN_MAX = 4000
NOTE_MAX = 2000
GROUP_NAME_MAX = 100
NOT_FOUND = "未找到该重点人员/群体（不存在或不在您的权限范围内）"

Subject = KeyPerson | KeyGroup


def _today() -> dt.date:
    return timezone.localdate()


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


# --- who ------------------------------------------------------------------------------------


def may_manage(user: Any, unit_id: int | None) -> bool:
    """Add / change / remove: a 领导 or 办案员 whose scope holds the unit (no unit: any such
    post, as ``policy.may_read_key_subject``)."""
    ids = policy.key_scope_ids(user)
    if unit_id is None:
        return bool(ids)
    return unit_id in set(ids)


def may_log_contact(user: Any, subject: Subject) -> bool:
    """Contacts: whoever may read the subject (the 包案领导 and unit head included)."""
    return policy.may_read_key_subject(user, subject)


def _require_manage(user: Any, unit_id: int | None) -> None:
    if not may_manage(user, unit_id):
        raise PermissionDenied("只有责任单位所属范围内的领导、办案员可以登记或变更重点人员/群体")


def leader_ok(leader: Any, unit: Unit) -> bool:
    """The leader holds 领导 in ``unit`` or a unit above it."""
    return any(p.role == R.LEADER and unit.path.startswith(p.unit_path) for p in posts_of(leader))


def leader_choices(unit_ids: list[int]) -> QuerySet[Any]:
    """Users holding 领导 in one of these units or above them (form choices)."""
    from django.contrib.auth import get_user_model

    paths = list(Unit.objects.filter(pk__in=unit_ids).values_list("path", flat=True))
    ancestor_ids: set[int] = set()
    for path in paths:
        ancestor_ids.update(int(part) for part in path.split(".") if part)
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__role__code=R.LEADER,
            memberships__unit_id__in=sorted(ancestor_ids),
        )
        .distinct()
        .order_by("username")
    )


# --- reading ------------------------------------------------------------------------------


def flaggable_petitioners(user: Any) -> QuerySet[Petitioner]:
    """People the user may flag: parties of a visible case that is not 检举控告."""
    from xinfang.cases.models import CasePetitioner, Purpose
    from xinfang.cases.policy import cases_visible_to

    links = CasePetitioner.objects.filter(case__in=cases_visible_to(user)).exclude(
        case__purpose=Purpose.ACCUSATION
    )
    return Petitioner.objects.filter(pk__in=links.values("petitioner_id"))


def search_petitioners(user: Any, q: str, limit: int = 20) -> list[Petitioner]:
    """Search flaggable people by name, or by the last 4 (or 6) characters of the ID number.
    A 4-character tail is checked against the decrypted numbers of a bounded set (the newest
    500 people in view); 6 characters use the blind index."""
    from xinfang.people import pii
    from xinfang.people.selectors import with_id_tail

    q = clean_line(q or "")
    if not q:
        return []
    base = flaggable_petitioners(user).filter(merged_into__isnull=True)
    tail = pii.normalise_id(q)
    if len(tail) == pii.ID_TAIL_LENGTH and any(ch.isdigit() for ch in tail):
        return list(with_id_tail(tail, base).order_by("name", "pk")[:limit])
    if len(tail) == 4 and tail[:3].isdigit():
        found = []
        for person in base.order_by("-pk")[:500]:
            number = person.id_number or ""
            if number.upper().endswith(tail.upper()):
                found.append(person)
                if len(found) >= limit:
                    break
        return found
    return list(base.filter(name__icontains=q).order_by("name", "pk")[:limit])


def flaggable_groups(user: Any) -> QuerySet[PetitionerGroup]:
    """Groups on a visible case or dispute."""
    from xinfang.cases.policy import cases_visible_to

    on_cases = cases_visible_to(user).filter(group__isnull=False).values("group_id")
    on_disputes = policy.disputes_visible_to(user).filter(group__isnull=False).values("group_id")
    return PetitionerGroup.objects.filter(Q(pk__in=on_cases) | Q(pk__in=on_disputes))


def linked_cases(viewer: Any, subject: Subject) -> list[Any]:
    """The subject's cases the viewer may see (``cases_visible_to``: a 检举控告 case naming the
    viewer's unit is not there), newest first. For a group: cases of the group."""
    from xinfang.cases.policy import cases_visible_to

    qs = cases_visible_to(viewer)
    if isinstance(subject, KeyPerson):
        qs = qs.filter(parties__petitioner_id=subject.petitioner_id)
    else:
        qs = qs.filter(group_id=subject.group_id)
    return list(
        qs.distinct()
        .select_related("handling_unit", "office_unit")
        .defer("content")
        .order_by("-received_at", "-pk")[:50]
    )


def linked_disputes(viewer: Any, subject: Subject) -> list[Any]:
    qs = policy.disputes_visible_to(viewer)
    if isinstance(subject, KeyPerson):
        qs = qs.filter(petitioners=subject.petitioner_id)
    else:
        qs = qs.filter(group_id=subject.group_id)
    return list(qs.distinct().select_related("unit").order_by("-created_at", "-pk")[:50])


# --- validation -----------------------------------------------------------------------------


@dataclass
class _Facts:
    reason: str
    since: dt.date
    unit: Unit
    leader: Any
    plan: str
    review_on: dt.date | None
    changes: dict[str, Any] = field(default_factory=dict)


def _check(
    by: Any,
    *,
    reason: str,
    since: dt.date | None,
    unit: Unit | None,
    leader: Any,
    plan: str,
    review_on: dt.date | None,
) -> _Facts:
    reason = clean_line(reason or "")
    plan = clean_text(plan or "")
    if not reason:
        raise DomainError("请填写列为重点的原因", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"原因不能超过{REASON_MAX}字", field="reason")
    if since is None:
        raise DomainError("请填写起始日期", field="since")
    today = _today()
    if since > today:
        raise DomainError("起始日期不能晚于今天", field="since")
    if unit is None:
        raise DomainError("请选择责任单位", field="unit")
    if not unit.is_active:
        raise DomainError("所选责任单位已停用", field="unit")
    _require_manage(by, unit.pk)
    if leader is not None and not leader_ok(leader, unit):
        raise DomainError(
            f"包案领导应为{unit.name}或其上级单位的领导，{_name(leader)}不是", field="leader"
        )
    if len(plan) > PLAN_MAX:
        raise DomainError(f"稳控/帮扶措施不能超过{PLAN_MAX}字", field="plan")
    if review_on is not None and review_on < since:
        raise DomainError("下次评估日期不能早于起始日期", field="review_on")
    return _Facts(reason, since, unit, leader, plan, review_on)


def _facts_detail(f: _Facts) -> dict[str, Any]:
    return {
        "reason": f.reason,
        "since": f.since.isoformat(),
        "unit": f.unit.pk,
        "leader": getattr(f.leader, "pk", None),
        "review_on": f.review_on.isoformat() if f.review_on else None,
    }


def _existing_person_message(kp: KeyPerson) -> str:
    unit = kp.unit.name if kp.unit is not None else "未指定责任单位"
    return (
        f"该信访人已被列为重点人员（自{kp.since:%Y-%m-%d}起，原因：{kp.reason}，"
        f"责任单位：{unit}），请在原记录上修改"
    )


def _existing_group_message(kg: KeyGroup) -> str:
    return (
        f"该群体已被列为重点群体（自{kg.since:%Y-%m-%d}起，原因：{kg.reason}，"
        f"责任单位：{kg.unit.name}），请在原记录上修改"
    )


# --- key persons ----------------------------------------------------------------------------


def key_person_add(
    by: Any,
    petitioner: Petitioner,
    *,
    reason: str,
    since: dt.date | None,
    unit: Unit | None,
    leader: Any = None,
    plan: str = "",
    review_on: dt.date | None = None,
    request: Any = None,
) -> KeyPerson:
    """List a petitioner as 重点人员. Guard: ``by`` is a 领导/办案员 over ``unit``; the person
    is a party of a non-检举控告 case ``by`` may see; no active flag exists. Effect: one
    ``people.KeyPerson`` row. Event: audit ``keyperson_change`` (op add)."""
    facts = _check(
        by, reason=reason, since=since, unit=unit, leader=leader, plan=plan, review_on=review_on
    )
    if not flaggable_petitioners(by).filter(pk=petitioner.pk).exists():
        raise DomainError(
            "只能将您可查看的信访事项（检举控告件除外）中的信访人列为重点人员", field="petitioner"
        )
    existing = (
        KeyPerson.objects.filter(petitioner=petitioner, removed_at__isnull=True)
        .select_related("unit")
        .first()
    )
    if existing is not None:
        raise DomainError(_existing_person_message(existing), field="petitioner")
    try:
        with transaction.atomic():
            kp = KeyPerson.objects.create(
                petitioner=petitioner,
                reason=facts.reason,
                since=facts.since,
                added_by=by,
                unit=facts.unit,
                leader=facts.leader,
                plan=facts.plan,
                review_on=facts.review_on,
            )
            audit_record(
                action="keyperson_change",
                actor=by,
                obj=kp,
                summary=f"列为重点人员：{petitioner.name}",
                detail={"op": "add", "petitioner": petitioner.pk, **_facts_detail(facts)},
                request=request,
            )
    except IntegrityError:
        existing = KeyPerson.objects.filter(petitioner=petitioner, removed_at__isnull=True).first()
        if existing is not None:
            raise DomainError(_existing_person_message(existing), field="petitioner") from None
        raise
    return kp


_UPDATABLE = ("reason", "since", "unit", "leader", "plan", "review_on")


def _apply_update(by: Any, subject: Subject, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(_UPDATABLE) - {"headcount"}
    if unknown:
        raise DomainError(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    if subject.removed_at is not None:
        raise DomainError("该记录已撤销，不能再修改；如需重新列为重点，请新增")
    _require_manage(by, subject.unit_id)
    values = {name: fields.get(name, getattr(subject, name)) for name in _UPDATABLE}
    facts = _check(by, **values)
    changes: dict[str, Any] = {}
    for name in _UPDATABLE:
        new = getattr(facts, name)
        old = getattr(subject, name)
        if getattr(new, "pk", new) != getattr(old, "pk", old):
            changes[name] = [_plain(old), _plain(new)]
            setattr(subject, name, new)
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, str) and len(value) > 80:
        return value[:80] + "…"
    return value


def key_person_update(by: Any, kp: KeyPerson, *, request: Any = None, **fields: Any) -> KeyPerson:
    """Change reason/since/unit/leader/plan/review_on. Guard: active; ``by`` manages the
    current and the new unit. Event: audit ``keyperson_change`` (op update, old → new)."""
    with transaction.atomic():
        kp = KeyPerson.objects.select_for_update().select_related("petitioner").get(pk=kp.pk)
        changes = _apply_update(by, kp, fields)
        if not changes:
            return kp
        kp.save(update_fields=[*changes])
        audit_record(
            action="keyperson_change",
            actor=by,
            obj=kp,
            summary=f"修改重点人员：{kp.petitioner.name}（{'、'.join(changes)}）",
            detail={"op": "update", "changes": changes},
            request=request,
        )
    return kp


def _check_removal_reason(reason: str) -> str:
    reason = clean_line(reason or "")
    if not reason:
        raise DomainError("请填写撤销原因", field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"撤销原因不能超过{REASON_MAX}字", field="reason")
    return reason


def key_person_remove(by: Any, kp: KeyPerson, reason: str, *, request: Any = None) -> KeyPerson:
    """撤销: the row stays with who, when and why. Guard: active (conditional UPDATE — two
    removals at once: one wins); ``by`` manages the unit."""
    reason = _check_removal_reason(reason)
    _require_manage(by, kp.unit_id)
    now = timezone.now()
    with transaction.atomic():
        done = KeyPerson.objects.filter(pk=kp.pk, removed_at__isnull=True).update(
            removed_at=now, removed_by=by, removed_reason=reason
        )
        if not done:
            raise DomainError("该重点人员已被撤销")
        kp.refresh_from_db()
        audit_record(
            action="keyperson_change",
            actor=by,
            obj=kp,
            summary=f"撤销重点人员：{kp.petitioner.name}",
            detail={"op": "remove", "reason": reason},
            request=request,
        )
    return kp


# --- key groups ------------------------------------------------------------------------------


def _group_for(by: Any, group: PetitionerGroup | str) -> tuple[PetitionerGroup, bool]:
    if isinstance(group, str):
        name = clean_line(group)
        if not name:
            raise DomainError("请选择群体或填写新群体的名称", field="group")
        if len(name) > GROUP_NAME_MAX:
            raise DomainError(f"群体名称不能超过{GROUP_NAME_MAX}字", field="group")
        if PetitionerGroup.objects.filter(name=name).exists():
            raise DomainError("已有同名的信访群体，请从列表中选择", field="group")
        return PetitionerGroup(name=name), True
    if not flaggable_groups(by).filter(pk=group.pk).exists():
        raise DomainError("只能将您可查看的信访事项或矛盾纠纷中的群体列为重点群体", field="group")
    return group, False


def key_group_add(
    by: Any,
    group: PetitionerGroup | str,
    *,
    reason: str,
    since: dt.date | None,
    unit: Unit | None,
    headcount: int = 0,
    leader: Any = None,
    plan: str = "",
    review_on: dt.date | None = None,
    request: Any = None,
) -> KeyGroup:
    """List a group as 重点群体 (``group`` a visible ``PetitionerGroup`` or the name of a new
    one). Same guards and audit as ``key_person_add``."""
    facts = _check(
        by, reason=reason, since=since, unit=unit, leader=leader, plan=plan, review_on=review_on
    )
    if headcount is None or headcount < 1:
        raise DomainError("涉及人数至少为1", field="headcount")
    if headcount > 100000:
        raise DomainError("涉及人数过大，请核实", field="headcount")
    pg, new = _group_for(by, group)
    if not new:
        existing = (
            KeyGroup.objects.filter(group=pg, removed_at__isnull=True)
            .select_related("unit")
            .first()
        )
        if existing is not None:
            raise DomainError(_existing_group_message(existing), field="group")
    try:
        with transaction.atomic():
            if new:
                pg.save()
            kg = KeyGroup.objects.create(
                group=pg,
                reason=facts.reason,
                since=facts.since,
                headcount=headcount,
                unit=facts.unit,
                leader=facts.leader,
                plan=facts.plan,
                review_on=facts.review_on,
                added_by=by,
                created_at=timezone.now(),
            )
            audit_record(
                action="keyperson_change",
                actor=by,
                obj=kg,
                summary=f"列为重点群体：{pg.name}",
                detail={
                    "op": "add",
                    "group": pg.pk,
                    "new_group": new,
                    "headcount": headcount,
                    **_facts_detail(facts),
                },
                request=request,
            )
    except IntegrityError:
        existing = KeyGroup.objects.filter(group__name=pg.name, removed_at__isnull=True).first()
        if existing is not None:
            raise DomainError(_existing_group_message(existing), field="group") from None
        raise DomainError("已有同名的信访群体，请从列表中选择", field="group") from None
    return kg


def key_group_update(by: Any, kg: KeyGroup, *, request: Any = None, **fields: Any) -> KeyGroup:
    """Change a key group (the person fields and ``headcount``). Same guard and audit."""
    with transaction.atomic():
        kg = KeyGroup.objects.select_for_update().select_related("group").get(pk=kg.pk)
        headcount = fields.pop("headcount", None)
        changes = _apply_update(by, kg, fields)
        if headcount is not None and headcount != kg.headcount:
            if headcount < 1 or headcount > 100000:
                raise DomainError("涉及人数至少为1", field="headcount")
            changes["headcount"] = [kg.headcount, headcount]
            kg.headcount = headcount
        if not changes:
            return kg
        kg.save(update_fields=[*changes])
        audit_record(
            action="keyperson_change",
            actor=by,
            obj=kg,
            summary=f"修改重点群体：{kg.group.name}（{'、'.join(changes)}）",
            detail={"op": "update", "changes": changes},
            request=request,
        )
    return kg


def key_group_remove(by: Any, kg: KeyGroup, reason: str, *, request: Any = None) -> KeyGroup:
    reason = _check_removal_reason(reason)
    _require_manage(by, kg.unit_id)
    now = timezone.now()
    with transaction.atomic():
        done = KeyGroup.objects.filter(pk=kg.pk, removed_at__isnull=True).update(
            removed_at=now, removed_by=by, removed_reason=reason
        )
        if not done:
            raise DomainError("该重点群体已被撤销")
        kg.refresh_from_db()
        audit_record(
            action="keyperson_change",
            actor=by,
            obj=kg,
            summary=f"撤销重点群体：{kg.group.name}",
            detail={"op": "remove", "reason": reason},
            request=request,
        )
    return kg


# --- contacts --------------------------------------------------------------------------------


def key_contact_add(
    by: Any,
    subject: Subject,
    *,
    method: str,
    note: str,
    at: dt.datetime | None = None,
    request: Any = None,
) -> KeyContact:
    """Log a 稳控/帮扶 contact. Guard: the subject is active and ``by`` may read it; the time is
    not in the future. Event: audit ``keyperson_change`` (op contact)."""
    if not may_log_contact(by, subject):
        raise PermissionDenied("您不能为该重点人员/群体登记联系记录")
    if subject.removed_at is not None:
        raise DomainError("该记录已撤销，不能再登记联系记录")
    if method not in ContactMethod.values:
        raise DomainError("请选择联系方式", field="method")
    note = clean_text(note or "")
    if not note:
        raise DomainError("请填写联系情况", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"联系情况不能超过{NOTE_MAX}字", field="note")
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise DomainError("联系时间不能晚于现在", field="at")
    if at.date() < subject.since - dt.timedelta(days=366):
        raise DomainError("联系时间过早，请核实", field="at")
    with transaction.atomic():
        contact = KeyContact.objects.create(
            key_person=subject if isinstance(subject, KeyPerson) else None,
            key_group=subject if isinstance(subject, KeyGroup) else None,
            at=at,
            method=method,
            note=note,
            by=by,
        )
        audit_record(
            action="keyperson_change",
            actor=by,
            obj=subject,
            summary=f"登记联系记录：{subject_name(subject)}（{contact.get_method_display()}）",
            detail={"op": "contact", "contact": contact.pk, "method": method},
            request=request,
        )
    return contact


def subject_name(subject: Subject) -> str:
    if isinstance(subject, KeyPerson):
        return subject.petitioner.name
    return subject.group.name


def record_view(by: Any, subject: Subject, *, request: Any = None, via: str = "page") -> None:
    """The audit row of a detail read (page or API)."""
    kind = "重点人员" if isinstance(subject, KeyPerson) else "重点群体"
    audit_record(
        action="keyperson_view",
        actor=by,
        obj=subject,
        summary=f"查看{kind}：{subject_name(subject)}",
        detail={"via": via},
        request=request,
    )


# --- reviews ---------------------------------------------------------------------------------


@dataclass
class ReviewSweep:
    notified: int = 0
    due: list[Subject] = field(default_factory=list)
    overdue: list[Subject] = field(default_factory=list)


def key_reviews_due(today: dt.date | None = None) -> ReviewSweep:
    """Remind the 包案领导 (or, without one, the leaders over the responsible unit) of every
    active subject whose review date has come (``review_on <= today``): kind ``key_review``,
    deduplicated per subject × review date, so running it daily reminds once. Returns what is
    due and what is overdue (``review_on < today``)."""
    from xinfang.notify.services import leaders_over, notify

    today = today or _today()
    result = ReviewSweep()
    persons = KeyPerson.objects.filter(
        removed_at__isnull=True, review_on__isnull=False, review_on__lte=today
    ).select_related("petitioner", "leader", "unit")
    groups = KeyGroup.objects.filter(
        removed_at__isnull=True, review_on__isnull=False, review_on__lte=today
    ).select_related("group", "leader", "unit")
    subjects: list[Subject] = [*persons, *groups]
    for subject in subjects:
        assert subject.review_on is not None
        is_person = isinstance(subject, KeyPerson)
        kind_label = "重点人员" if is_person else "重点群体"
        url = (
            f"/prevention/keys/person/{subject.pk}/"
            if is_person
            else f"/prevention/keys/group/{subject.pk}/"
        )
        recipients: list[Any] = [subject.leader] if subject.leader_id else []
        if not recipients and subject.unit_id:
            recipients = list(leaders_over(subject.unit))
        late = subject.review_on < today
        title = f"{kind_label}「{subject_name(subject)}」{'评估已逾期' if late else '今日到期评估'}"
        result.notified += notify(
            recipients,
            kind="key_review",
            title=title,
            body=f"下次评估日期：{subject.review_on:%Y-%m-%d}。请评估稳控/帮扶措施，更新评估日期或撤销。",
            url=url,
            dedupe_key=f"key_review:{'p' if is_person else 'g'}{subject.pk}:{subject.review_on}",
        )
        result.due.append(subject)
        if late:
            result.overdue.append(subject)
    return result
