"""The reception desk (接待台): 分类接待 guidance, 终结 → 告知 at registration, 转介心理疏导 and
首问负责 hand-over.

The guidance is data (``PURPOSE_GUIDANCE``, ``VISITOR_GUIDANCE``), worded after the seeds in
/work/shared/seeds/:

- 001 (如何做好信访接待礼仪工作, “做好分类接待”): by purpose — 解决个人困难 (认真记录…
  能当即答复的当即答复，不能当即答复的告知处理程序), 意见建议 (记录好其意见或建议，当面告知会
  转参阅或研究，采纳与否会及时告知), 检举干部 (引导来访者实事求是地反映，认真记录实事与证据，
  如证据不足可请来访者进一步提供), 倾诉 (耐心倾听…当好倾听者), 心理偏激 (做好心理干预，必要时
  可请心理专家参与疏导), 非本单位管辖 (当面告知其应诉求的部门);
- 003 (在全县信访干部培训班上的辅导讲话): by visitor — 初访者, 抱有试探心理的上访者,
  情绪激动的上访者, 集体上访者, and the 六忌 (接待冷淡、态度生硬、脾气急躁、消极推诿、敷衍搪塞、
  随意答复);
- 001/004: 重复信访、越级信访 arise when a petitioner is not answered in time; 集体访、越级访 are
  reported to the leaders at once (004).

Services (one per state change, each in one transaction, each writing a ``CaseEvent``):
``case_refer_counselling`` (``psych_referral``), ``case_hand_over`` (``handover``),
``record_final_override`` (``final_override``) and ``inform_as_final`` (the ``inform`` of a repeat
of a final matter). None of these kinds is public: they are the desk's internal record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from xinfang.cases.models import Case, CaseEvent, DeskPurpose, Purpose, VisitorType
from xinfang.cases.policy import cases_visible_to, may_register
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.org.models import Unit

MAX_REASON = 1000
MAX_KNOWN = 50
NOT_VISIBLE = "信访人不存在或不在您的权限范围内"

# 分类接待 → 信访目的 (editable on the form: a default, not a rule).
PURPOSE_MAP: dict[str, str] = {
    DeskPurpose.HARDSHIP: Purpose.APPEAL,
    DeskPurpose.SUGGESTION: Purpose.SUGGESTION,
    DeskPurpose.ACCUSE_OFFICIAL: Purpose.ACCUSATION,
    DeskPurpose.VENT: Purpose.APPEAL,
    DeskPurpose.AGITATED_MIND: Purpose.APPEAL,
    DeskPurpose.NOT_OURS: Purpose.APPEAL,
}

PURPOSE_GUIDANCE: dict[str, dict[str, list[str]]] = {
    DeskPurpose.HARDSHIP: {
        "check": ["认真记录其问题、困难及诉求", "核实身份，查看此前是否反映过（右侧口径一致）"],
        "next": ["能当即答复的当即答复", "不能当即答复的，告知处理程序和时限"],
    },
    DeskPurpose.SUGGESTION: {
        "check": ["记录好其意见或建议"],
        "next": ["当面告知会转参阅或研究", "采纳与否会及时告知"],
    },
    DeskPurpose.ACCUSE_OFFICIAL: {
        "check": [
            "引导来访者实事求是地反映",
            "认真记录事实与证据；证据不足可请来访者进一步提供",
            "填写被检举控告对象：本件按检举控告件保密，被检举对象看不到",
        ],
        "next": ["不向无关人员透露检举人及检举内容"],
    },
    DeskPurpose.VENT: {
        "check": ["耐心倾听，多站在对方角度换位思考沟通", "适当记录，当好倾听者"],
        "next": ["无具体诉求的，可作咨询/倾诉登记"],
    },
    DeskPurpose.AGITATED_MIND: {
        "check": ["保持冷静，耐心倾听，不当面反驳、斥责", "做好心理干预"],
        "next": ["必要时请心理专家参与疏导：勾选“转介心理疏导”并写明情况"],
    },
    DeskPurpose.NOT_OURS: {
        "check": ["核实事项是否属本单位管辖"],
        "next": ["当面告知其应诉求的部门：查有权处理机关名录，打印告知单（地址、电话）"],
    },
}

VISITOR_GUIDANCE: dict[str, dict[str, list[str]]] = {
    VisitorType.FIRST: {
        "check": ["和蔼可亲，让其把问题讲完", "请其提供必要的证据和线索"],
        "next": ["讲明工作程序、方法和有关规定", "把好初访关口，避免重信重访和越级上访"],
    },
    VisitorType.PROBING: {
        "check": ["立场坚定、旗帜鲜明，把政策法规讲清楚，绝不含糊"],
        "next": ["以事实为依据、以法律为准绳，不轻许诺、不滥表态"],
    },
    VisitorType.AGITATED: {
        "check": ["要有忍耐力，冷静耐心地倾听其陈述", "不针对其陈述立刻反驳和斥责"],
        "next": ["耐心宣传解释，引导其全面看问题", "情绪失控或有过激言行的，报告带班领导"],
    },
    VisitorType.COLLECTIVE: {
        "check": [
            "请其推选代表（最多5名）到接待室，其余人员在等候区",
            "登记在场人员，人数计入人次",
        ],
        "next": ["及时报告值班（带班）领导", "有理有据的明确肯定、尽快调处；要求过高的讲清道理"],
    },
    VisitorType.REPEAT: {
        "check": ["先看口径一致：此前的答复、复查复核意见", "已终结事项同一事实和理由不再受理"],
        "next": ["有新的事实和理由的，按新事项登记", "告知办理进展，避免多头信访"],
    },
    VisitorType.SKIP_LEVEL: {
        "check": ["了解是否已向有权处理的机关反映"],
        "next": ["引导其到有权处理的机关或上一级机关反映（逐级走访）"],
    },
}

SIX_DONTS = "六忌：接待冷淡、态度生硬、脾气急躁、消极推诿、敷衍搪塞、随意答复"


def guidance_data() -> dict[str, Any]:
    """What the form's guidance box shows (a JSON script tag read by static/js/desk.js)."""
    return {
        "purpose": {
            k: {"label": DeskPurpose(k).label, "map": PURPOSE_MAP[k], **v}
            for k, v in PURPOSE_GUIDANCE.items()
        },
        "visitor": {k: {"label": VisitorType(k).label, **v} for k, v in VISITOR_GUIDANCE.items()},
        "donts": SIX_DONTS,
    }


# --- reads ----------------------------------------------------------------------------------


def clean_ids(values: Any, limit: int = MAX_KNOWN) -> list[int]:
    """Positive ids from form values (digits only, bounded), in order, without duplicates."""
    out: list[int] = []
    for v in values or ():
        s = str(v).strip()
        if s.isdigit() and len(s) < 18 and int(s) > 0 and int(s) not in out:
            out.append(int(s))
    return out[:limit]


# Other ways the desk may know a person without a visible case, added by other apps in their
# ``AppConfig.ready`` (``cases`` never imports them): ``source(user, pk) -> Petitioner | None``.
# xinfang.reception adds the person booked on a leader reception day of the user's office.
PERSON_SOURCES: list[Callable[[Any, int], Any]] = []


def desk_person(user: Any, pk: int) -> Any:
    """The person ``pk`` if the desk may use them without retyping (a known-person card, the
    registration's ``known_*_ids``), else None: a party of a case ``user`` may see that is not
    a 检举控告件, or a person booked (预约, standing) on a leader reception day of a petition
    office where the user holds a desk post (the office typed their identity itself: the
    day page's "登记新事项" carries them). A person known to the user only through 检举控告
    cases is not offered: their identity is shown only through the audited reveal
    (``cases.confidential``), and the lookup card shows them masked without a 登记 button — the
    clerk types the identity instead."""
    from xinfang.cases.models import CasePetitioner

    if not isinstance(pk, int) or not 0 < pk < 2**62:
        return None
    scope = cases_visible_to(user).exclude(purpose=Purpose.ACCUSATION)
    link = (
        CasePetitioner.objects.filter(petitioner_id=pk, case__in=scope)
        .select_related("petitioner")
        .first()
    )
    if link is not None:
        return link.petitioner
    for source in PERSON_SOURCES:  # e.g. xinfang.reception: a standing booking at the desk
        person = source(user, pk)
        if person is not None:
            return person
    return None


def known_petitioners(user: Any, ids: list[int]) -> list[Any]:
    """The persons behind ``ids``, each usable by ``user`` at the desk (``desk_person``); one
    not usable → DomainError (the same message whether it exists or not)."""
    found = []
    for pk in ids:
        person = desk_person(user, pk)
        if person is None:
            raise DomainError(NOT_VISIBLE, field="known_person")
        found.append(person)
    return found


def visible_case(user: Any, pk: int | None) -> Case | None:
    if not pk or not 0 < pk < 2**62:
        return None
    return cases_visible_to(user).filter(pk=pk).first()


def final_for_desk(
    user: Any,
    *,
    petitioner_ids: list[int],
    group_name: str = "",
    category_id: int | None = None,
    related_id: int | None = None,
) -> Case | None:
    """The final (已终结) matter the visitor raises again, among the cases ``user`` may find:
    the named related case if final; else the latest final case of these people or this group
    in this category (no category: of these people at all — the clerk decides)."""
    from xinfang.cases.confidential import search_guard
    from xinfang.cases.models import Status

    scope = cases_visible_to(user).filter(search_guard(user))
    if related_id:
        related = scope.filter(pk=related_id).first()
        if related is not None and related.status == Status.FINAL:
            return related
    qs = scope.filter(status=Status.FINAL)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if group_name.strip():
        found = qs.filter(group__name=group_name.strip()).order_by("-received_at").first()
        if found is not None:
            return found
    if petitioner_ids:
        return qs.filter(parties__petitioner_id__in=petitioner_ids).order_by("-received_at").first()
    return None


def final_opinion(final: Case) -> str:
    """The 复核意见 of a final case ("" for a 检举控告件: its content is not repeated)."""
    from xinfang.replies.finality import rereview_text

    return "" if final.is_confidential else rereview_text(final)


def inform_text(final: Case) -> str:
    opinion = final_opinion(final)
    text = (
        f"您反映的事项已于信访事项{final.number}办理终结（复核意见已出具），"
        "依照《信访工作条例》，信访人以同一事实和理由再提出信访的，不再受理。"
    )
    if opinion:
        text += f"\n复核意见：{opinion}"
    return text


# --- services -------------------------------------------------------------------------------


def _desk_staff(by: Any, case: Case) -> None:
    if not may_register(by, case.office_unit):
        raise PermissionDenied("只有登记机构的接待员、办案员可以办理接待台事务")


def inform_as_final(*, case: Case, final: Case, by: Any, at: dt.datetime | None = None) -> None:
    """告知 a repeat of a final matter at registration.

    Guard: ``by`` may inform (接待员/办案员 of the registering office; ``case_inform``).
    Effect: status 告知（不予受理）, the routing deadline met.
    Event: ``inform`` with the text naming the final case and its 复核意见."""
    from xinfang.cases.services import case_inform

    with transaction.atomic():
        case_inform(case=case, by=by, reason=inform_text(final), at=at)


def record_final_override(
    *, case: Case, final: Case, by: Any, at: dt.datetime | None = None
) -> CaseEvent:
    """The clerk registered a repeat of a final matter as a new matter (a wrong match, or new
    facts and reasons). Guard: desk staff of the case's office. Effect: none on the status.
    Event: ``final_override`` (not public)."""
    _desk_staff(by, case)
    with transaction.atomic():
        return CaseEvent.objects.create(
            case=case,
            kind="final_override",
            actor=by,
            actor_unit=case.office_unit,
            at=at or timezone.now(),
            from_status=case.status,
            to_status=case.status,
            text=f"接待人员判断与已终结事项{final.number}不是同一事实和理由，按新事项登记",
            data={"final_case_id": final.pk, "final_number": final.number},
        )


def case_refer_counselling(
    *, case: Case, by: Any, note: str, at: dt.datetime | None = None
) -> CaseEvent:
    """转介心理疏导 (心理偏激的来访人).

    Guard: desk staff (接待员/办案员) of the case's registering office; note required.
    Effect: none on the status. Event: ``psych_referral`` (not public) with the note."""
    _desk_staff(by, case)
    note = clean_text(note or "").strip()
    if len(note) < 2:
        raise DomainError("请填写转介心理疏导的情况说明", field="psych_note")
    if len(note) > MAX_REASON:
        raise DomainError(f"情况说明最多{MAX_REASON}字，当前{len(note)}字", field="psych_note")
    with transaction.atomic():
        return CaseEvent.objects.create(
            case=case,
            kind="psych_referral",
            actor=by,
            actor_unit=case.office_unit,
            at=at or timezone.now(),
            from_status=case.status,
            to_status=case.status,
            text=note,
        )


def desk_owner(case: Case) -> Any:
    """The 首问责任人 currently responsible at the desk."""
    return case.desk_owner if case.desk_owner_id else case.registered_by


def case_hand_over(
    *,
    case: Case,
    by: Any,
    reason: str,
    to_user: Any = None,
    to_unit: Unit | None = None,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """首问负责 hand-over (移交), recorded: never pass a visitor on without a record.

    Guard: desk staff of the case's office; reason required; exactly one of ``to_user``
    (office staff of the case's office, not the current owner) or ``to_unit`` (an active unit).
    Effect: to a colleague — ``desk_owner`` becomes ``to_user``; to a unit — nothing changes
    (the formal routing stays 交办/转送; the event says where the visitor was sent).
    Event: ``handover`` (text = reason; data ``to_user``/``to_unit``), not public."""
    _desk_staff(by, case)
    reason = clean_text(reason or "").strip()
    if not reason:
        raise DomainError("请填写移交原因", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"移交原因最多{MAX_REASON}字，当前{len(reason)}字", field="reason")
    if (to_user is None) == (to_unit is None):
        raise DomainError("请选择移交给同事或移交单位（二选一）", field="to_user")
    data: dict[str, Any] = {}
    if to_user is not None:
        if not to_user.is_active or not may_register(to_user, case.office_unit):
            raise DomainError("只能移交给本信访机构的接待员或办案员", field="to_user")
        if to_user.pk == desk_owner(case).pk:
            raise DomainError("该事项已由此人负责，无需移交", field="to_user")
        data = {"to_user": to_user.pk, "to_user_name": to_user.get_full_name() or to_user.username}
        shown = data["to_user_name"]
    else:
        assert to_unit is not None
        if not to_unit.is_active:
            raise DomainError("该单位已停用，请选择其他单位", field="to_unit")
        if not to_unit.path.startswith(_tree_root(case)):
            raise DomainError("只能移交给本辖区的单位", field="to_unit")
        data = {"to_unit": to_unit.pk, "to_unit_name": to_unit.name}
        shown = to_unit.name
    now = at or timezone.now()
    with transaction.atomic():
        previous = desk_owner(case)
        data["from_user"] = previous.pk
        if to_user is not None:
            Case.objects.filter(pk=case.pk).update(desk_owner=to_user, updated_at=now)
            case.desk_owner = to_user
        return CaseEvent.objects.create(
            case=case,
            kind="handover",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=f"移交{shown}：{reason}",
            data=data,
        )


def _tree_root(case: Case) -> str:
    """The path prefix of the registering office's tree (one deployment's jurisdiction)."""
    return case.office_unit.path.split(".", 1)[0] + "."


def handover_units(case: Case) -> Any:
    """Where a visitor may be sent on (移交单位): active units of the office's own tree."""
    return Unit.objects.filter(is_active=True, path__startswith=_tree_root(case)).order_by("path")


def handover_colleagues(case: Case) -> list[Any]:
    """Who a case may be handed over to: the active desk staff of its office."""
    from xinfang.org import roles as R
    from xinfang.org.models import Membership

    User = get_user_model()
    ids = Membership.objects.filter(
        unit=case.office_unit, role__code__in=[R.RECEPTIONIST, R.CASE_OFFICER]
    ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("username"))
