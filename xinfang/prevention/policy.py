"""Who sees and does what in 预防排查. Querysets for lists, predicates for acts.

Scope: a post reads the prevention data of its unit's subtree (petition-office staff: the
jurisdiction they serve, as for cases — ``org.policy``). Outside the scope an object is a 404
(the views fetch through the ``*_visible_to`` querysets); inside it but without the right post an
act is refused with a Chinese ``PermissionDenied``.

- 台账 (disputes): readers = case readers (接待员, 办案员, 承办人, 单位负责人, 领导, 督查员) whose
  scope holds the responsible unit or the place. Editing (contacts, plan, risk): staff of the
  responsible unit itself, its 责任人 and 包案领导, and office staff/leaders over it. 报请销号:
  the same. 审核销号: a 单位负责人/领导/办案员 post in a unit strictly above the responsible unit
  on the unit tree, or in the petition office serving its parent (the level above), never the
  person who asked.
- 排查报告: staff (承办人, 单位负责人, 办案员, 领导) or 信息员 of the unit itself; the level above
  (any reader whose scope holds the unit) sees the aggregate.
- 信息员报告: the informant sees their own; readers in scope see all; acknowledging and handling:
  领导/办案员/单位负责人 whose scope holds the report's unit.
- 重点人员/群体: restricted to 领导 and 办案员 whose scope holds the responsible unit, plus the
  包案领导 and the responsible unit's 单位负责人. A key person without a unit (flagged before
  issue 10): only the 办案员/领导 of the office serving the whole district (区信访局) and the
  district's own 领导 (``unitless_key_roots``). Every read — detail pages and each list
  request — is audited.
- 预警: readers in scope (an alert about a 检举控告 case: only those who may see the case);
  acknowledge/close: the owner, or a 领导/办案员/单位负责人/督查员 whose
  scope holds the alert's unit.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from xinfang.core.errors import PermissionDenied
from xinfang.org import roles as R
from xinfang.org.models import Unit
from xinfang.org.policy import posts_of, visible_unit_ids

READERS = R.CASE_READERS
EDITORS = frozenset({R.HANDLER, R.UNIT_HEAD, R.CASE_OFFICER, R.LEADER})
APPROVERS = frozenset({R.UNIT_HEAD, R.LEADER, R.CASE_OFFICER})
REPORTERS = frozenset({R.HANDLER, R.UNIT_HEAD, R.CASE_OFFICER, R.LEADER, R.INFORMANT})
HANDLERS = frozenset({R.LEADER, R.CASE_OFFICER, R.UNIT_HEAD})
KEY_READERS = frozenset({R.LEADER, R.CASE_OFFICER})
ALERT_ACTORS = frozenset({R.LEADER, R.CASE_OFFICER, R.UNIT_HEAD, R.SUPERVISOR})


def scope_ids(user: Any, roles: frozenset[str] = READERS) -> list[int]:
    """Unit ids in the user's scopes for ``roles`` (cached per request by org.policy)."""
    return visible_unit_ids(user, roles)


def in_scope(user: Any, unit_id: int | None, roles: frozenset[str] = READERS) -> bool:
    return unit_id is not None and unit_id in set(scope_ids(user, roles))


def may_use_prevention(user: Any) -> bool:
    """Any post that reads prevention data (the nav entry)."""
    return any(p.role in READERS for p in posts_of(user))


def is_informant(user: Any) -> bool:
    return any(p.role == R.INFORMANT for p in posts_of(user))


# --- disputes ------------------------------------------------------------------------------


def disputes_visible_to(user: Any) -> QuerySet[Any]:
    from xinfang.prevention.models import Dispute

    ids = scope_ids(user)
    if not ids:
        return Dispute.objects.none()
    return Dispute.objects.filter(Q(unit_id__in=ids) | Q(place_unit_id__in=ids))


def may_edit_dispute(user: Any, dispute: Any) -> bool:
    if user.pk in (dispute.owner_id, dispute.leader_id):
        return True
    if any(p.unit_id == dispute.unit_id and p.role in EDITORS for p in posts_of(user)):
        return True
    # Office staff and leaders above the responsible unit.
    unit_path = _path(dispute.unit_id)
    return any(
        p.role in {R.CASE_OFFICER, R.LEADER}
        and unit_path.startswith(p.scope_path or p.unit_path)
        and p.unit_id != dispute.unit_id
        for p in posts_of(user)
    )


def approver_unit(user: Any, dispute: Any) -> Unit | None:
    """The unit in which ``user`` may approve the strike-off, or None: the level above the
    responsible unit, measured on the unit tree (not by reading scope) — a 单位负责人/领导/办案员
    post in a strict ancestor of it, or in the petition office serving its parent (区信访局,
    beside the district's streets and departments, for their items). Never a post in the
    responsible unit or below it. The nearest (deepest) such post wins."""
    from xinfang.prevention.alerts import office_for

    unit_path = _path(dispute.unit_id)
    posts = [
        p
        for p in posts_of(user)
        if p.role in APPROVERS
        and p.unit_id != dispute.unit_id
        and not p.unit_path.startswith(unit_path)
    ]
    if not unit_path or not posts:
        return None
    office_id: int | None = None
    best = None
    for p in posts:
        above = unit_path.startswith(p.unit_path)
        if not above:
            if office_id is None:
                parent = Unit.objects.select_related("parent").get(pk=dispute.unit_id).parent
                office = office_for(parent) if parent is not None else None
                office_id = office.pk if office is not None else 0
            above = p.unit_id == office_id
        if above and (best is None or len(p.unit_path) > len(best.unit_path)):
            best = p
    return Unit.objects.get(pk=best.unit_id) if best is not None else None


def require_edit_dispute(user: Any, dispute: Any) -> None:
    if not may_edit_dispute(user, dispute):
        raise PermissionDenied("只有责任单位、责任人、包案领导或上级信访部门可以修改此台账事项")


# --- screening reports ---------------------------------------------------------------------


def may_report_for(user: Any, unit_id: int) -> bool:
    return any(p.unit_id == unit_id and p.role in REPORTERS for p in posts_of(user))


def reporting_units(user: Any) -> list[int]:
    return sorted({p.unit_id for p in posts_of(user) if p.role in REPORTERS})


# --- informant reports ---------------------------------------------------------------------


def informant_reports_visible_to(user: Any) -> QuerySet[Any]:
    from xinfang.prevention.models import InformantReport

    ids = scope_ids(user)
    own = Q(informant__user_id=user.pk)
    if ids:
        return InformantReport.objects.filter(Q(unit_id__in=ids) | own)
    return InformantReport.objects.filter(own)


def may_handle_report(user: Any, report: Any) -> bool:
    return in_scope(user, report.unit_id, HANDLERS)


# --- key persons and groups ----------------------------------------------------------------


def key_scope_ids(user: Any) -> list[int]:
    return scope_ids(user, KEY_READERS)


def may_read_key_subject(user: Any, subject: Any) -> bool:
    """A ``people.KeyPerson`` or ``prevention.KeyGroup``."""
    if getattr(subject, "leader_id", None) == user.pk:
        return True
    unit_id = getattr(subject, "unit_id", None)
    if unit_id is not None and any(
        p.unit_id == unit_id and p.role == R.UNIT_HEAD for p in posts_of(user)
    ):
        return True
    if unit_id is None:
        # No responsible unit yet (flags from before issue 10): the district's office only.
        from xinfang.people.models import KeyPerson

        roots = unitless_key_roots(user)
        return bool(roots) and (
            KeyPerson.objects.filter(_unitless_key_q(roots), pk=subject.pk).exists()
        )
    return unit_id in set(key_scope_ids(user))


def unitless_key_roots(user: Any) -> list[str]:
    """Paths of the trees whose key persons *without* a 责任单位 the user reads: a 办案员 or
    领导 post in the petition office serving a whole tree (区信访局: its jurisdiction is the
    root), or a 领导 post in the root unit (the district) itself. A street's leaders and
    street-level offices read a key person only once it has a 责任单位 in their scope.
    Cached on the user for the request."""
    from xinfang.org.policy import jurisdiction_of

    cached = getattr(user, "_xf_unitless_key_roots", None)
    if cached is None:
        posts = [p for p in posts_of(user) if p.role in KEY_READERS]
        roots = {p.unit_path for p in posts if p.role == R.LEADER and p.unit_path.count(".") == 1}
        rest = sorted({p.unit_id for p in posts if not any(map(p.unit_path.startswith, roots))})
        if rest:
            offices = Unit.objects.filter(pk__in=rest, is_petition_office=True)
            for office in offices:
                top = jurisdiction_of(office)
                if top.parent_id is None:
                    roots.add(top.path)
        cached = sorted(roots)
        user._xf_unitless_key_roots = cached
    return list(cached)


def _unitless_key_q(roots: list[str]) -> Q:
    """Key persons without a unit, flagged by someone working in one of ``roots`` (or by an
    account with no post at all: the admin, a departed user)."""
    from xinfang.org.models import Membership

    in_tree = Q()
    for root in roots:
        in_tree |= Q(unit__path__startswith=root)
    by_tree = Membership.objects.filter(in_tree, user_id=OuterRef("added_by_id"))
    has_post = Membership.objects.filter(user_id=OuterRef("added_by_id"))
    return Q(unit__isnull=True) & (Exists(by_tree) | ~Exists(has_post))


def key_persons_visible_to(user: Any) -> QuerySet[Any]:
    from xinfang.people.models import KeyPerson

    ids = key_scope_ids(user)
    cond = Q(leader_id=user.pk)
    heads = [p.unit_id for p in posts_of(user) if p.role == R.UNIT_HEAD]
    if heads:
        cond |= Q(unit_id__in=heads)
    if ids:
        cond |= Q(unit_id__in=ids)
    roots = unitless_key_roots(user)
    if roots:
        cond |= _unitless_key_q(roots)
    return KeyPerson.objects.filter(cond)


def key_groups_visible_to(user: Any) -> QuerySet[Any]:
    from xinfang.prevention.models import KeyGroup

    ids = key_scope_ids(user)
    cond = Q(leader_id=user.pk)
    heads = [p.unit_id for p in posts_of(user) if p.role == R.UNIT_HEAD]
    if heads:
        cond |= Q(unit_id__in=heads)
    if ids:
        cond |= Q(unit_id__in=ids)
    return KeyGroup.objects.filter(cond)


def may_use_key_register(user: Any) -> bool:
    return any(p.role in KEY_READERS | {R.UNIT_HEAD} for p in posts_of(user))


# --- alerts --------------------------------------------------------------------------------


def alerts_visible_to(user: Any) -> QuerySet[Any]:
    """Alerts of units in scope, and the user's own; an alert about a 检举控告 case only for
    those who may see that case (never the accused — ``cases_visible_to``)."""
    from xinfang.cases.models import Purpose
    from xinfang.cases.policy import cases_visible_to
    from xinfang.prevention.models import Alert

    ids = scope_ids(user)
    cond = Q(owner_id=user.pk)
    if ids:
        cond |= Q(unit_id__in=ids)
    # Correlated EXISTS, reached only for the (few) alerts about a 检举控告 case: one index
    # probe per such row, never a scan or hash of the user's whole case scope. Built once per
    # request (``cases_visible_to`` reads the user's accused exclusions).
    guard = getattr(user, "_xf_alert_case_guard", None)
    if guard is None:
        guard = (
            Q(case__isnull=True)
            | ~Q(case__purpose=Purpose.ACCUSATION)
            | Exists(cases_visible_to(user).filter(pk=OuterRef("case_id")))
        )
        user._xf_alert_case_guard = guard
    return Alert.objects.filter(cond & guard)


def may_act_on_alert(user: Any, alert: Any) -> bool:
    return alert.owner_id == user.pk or in_scope(user, alert.unit_id, ALERT_ACTORS)


def require_act_on_alert(user: Any, alert: Any) -> None:
    if not may_act_on_alert(user, alert):
        raise PermissionDenied("该预警不在您的职责范围内，不能确认或办结；请联系预警负责人")


# --- helpers -------------------------------------------------------------------------------


def _path(unit_id: int | None) -> str:
    if unit_id is None:
        return ""
    return str(Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first() or "")
