"""Case access policy: the one place that answers "may this user see / do X to this case".

Visibility follows the unit tree: a user with a case-reading role in a unit sees the cases that
unit (or a unit below it) registered or is handling. Everything else does not exist for them —
views fetch through ``cases_visible_to`` so another unit's case is a 404, and counts, search and
exports built on the same queryset cannot leak it.

Acting on a case needs the action's role *in the unit itself* on the action's side: the
registering petition office for office actions, the current handling unit for unit actions.
A leader above sees the case but does not sign it in for the unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from xinfang.cases.models import Case
from xinfang.cases.transitions import ACTIONS, Action
from xinfang.core.errors import PermissionDenied, TransitionNotAllowed
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over, visible_unit_ids
from xinfang.org.roles import CASE_READERS


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """Cases in the user's scope, minus 检举控告 cases naming the user or one of the user's units
    (or a unit above them) as accused (``confidential.exclude_accused``)."""
    from xinfang.cases.confidential import exclude_accused

    if isinstance(user, PetitionerPrincipal):  # reads no case lists (and caches nothing on it)
        return Case.objects.none()
    unit_ids = visible_unit_ids(user, CASE_READERS)
    if not unit_ids:
        return Case.objects.none()
    if len(unit_ids) == _unit_count(user):
        # The user's scope is the whole tree (a district office, its leaders): no filter, so the
        # list can walk the received-time index and stop after one page instead of sorting.
        return exclude_accused(Case.objects.all(), user)
    return exclude_accused(
        Case.objects.filter(Q(office_unit_id__in=unit_ids) | Q(handling_unit_id__in=unit_ids)),
        user,
    )


def _unit_count(user: Any) -> int:
    cached = getattr(user, "_xf_unit_count", None)
    if cached is None:
        from xinfang.org.models import Unit

        cached = Unit.objects.count()
        user._xf_unit_count = cached
    return int(cached)


def registering_offices(user: Any) -> list[Any]:
    """The petition offices where the user holds a desk post (接待员/办案员): where they
    register cases (the registration form, its suggestions, the start page's 登记 tile)."""
    from xinfang.org.policy import units_with_role

    return [u for u in units_with_role(user, R.OFFICE_STAFF) if u.is_petition_office]


def may_register(user: Any, unit: Any) -> bool:
    return bool(unit.is_petition_office) and holds_role_over(
        user, unit, {R.RECEPTIONIST, R.CASE_OFFICER}
    )


def may_add_to_file(user: Any, case: Case) -> bool:
    """Files are added by the people working the case: a case-reading post in the registering
    office or the current handling unit itself. A leader above sees the case but does not add
    to its file."""
    return holds_role_over(user, case.office_unit, CASE_READERS) or holds_role_over(
        user, case.handling_unit, CASE_READERS
    )


# --- the petitioner as actor (the public portal) ---------------------------------------------
#
# On the portal nobody logs in as staff: the petitioner proves access to one case (its query
# code plus the phone or the last six characters of the ID number on file, ``portal.services``)
# and may then do the petitioner's own acts on that case — and nothing else. The services take
# the principal as ``by`` like a user; the event's actor is then empty and its data say
# ``by_petitioner``.

PETITIONER_ACTIONS = frozenset({"evaluate", "request_review", "request_rereview"})


@dataclass(frozen=True)
class PetitionerPrincipal:
    """The petitioner of ``case_id`` acting through ``channel`` (``"portal"``)."""

    case_id: int
    channel: str = "portal"
    account_id: int | None = None

    is_authenticated = False  # never a staff user: every role check fails

    def __str__(self) -> str:
        return "信访人（网上信访）"


def staff_user(by: Any) -> Any:
    """``by`` when it is a staff user, None for the petitioner acting on the portal (what the
    ``actor``/``created_by`` columns of events and tasks take)."""
    return None if isinstance(by, PetitionerPrincipal) else by


def _side_unit(action: Action, case: Case) -> Any:
    return case.office_unit if action.side == "office" else case.handling_unit


def may(user: Any, action_code: str, case: Case) -> bool:
    action = ACTIONS[action_code]
    if isinstance(user, PetitionerPrincipal):
        return user.case_id == case.pk and action_code in PETITIONER_ACTIONS
    return holds_role_over(user, _side_unit(action, case), action.roles)


def require(user: Any, action_code: str, case: Case) -> Action:
    """Check role/unit, then state; raise a domain error with a Chinese message otherwise."""
    action = ACTIONS[action_code]
    if not may(user, action_code, case):
        side = "登记单位（信访机构）" if action.side == "office" else "承办单位"
        from xinfang.org.models import Role

        names = "、".join(
            Role.objects.filter(code__in=action.roles).order_by("id").values_list("name", flat=True)
        )
        raise PermissionDenied(f"您没有权限执行「{action.label}」：需要{side}的{names}岗位")
    if case.status not in action.from_states:
        raise TransitionNotAllowed(
            f"当前状态为「{case.get_status_display()}」，不能执行「{action.label}」"
        )
    return action


def _precondition(action: Action, case: Case) -> bool:
    """Beyond the state: is the action offered at all right now? (The services enforce the same
    rules with a message; this only keeps the action panel from offering dead ends.)"""
    from xinfang.cases.models import DeadlineKind, ExtensionRequest

    windows = {
        "request_review": DeadlineKind.REVIEW_REQUEST,
        "request_rereview": DeadlineKind.REREVIEW_REQUEST,
    }
    if action.code in windows:
        return case.deadlines.filter(
            kind=windows[action.code], met_at__isnull=True, cancelled_at__isnull=True
        ).exists()
    extensions = ExtensionRequest.objects.filter(case=case)
    if action.code == "request_extension":
        return not extensions.filter(state__in=["pending", "approved"]).exists()
    if action.code == "decide_extension":
        return extensions.filter(state="pending").exists()
    return True


def allowed_actions(user: Any, case: Case) -> list[Action]:
    return [
        a
        for a in ACTIONS.values()
        if case.status in a.from_states and may(user, a.code, case) and _precondition(a, case)
    ]


def routing_targets(office: Any, case: Case | None = None) -> QuerySet[Any]:
    """Units a case registered at ``office`` may be assigned or forwarded to: active units of
    the office's own tree (a township office may forward to a district department; nobody
    routes into another deployment's tree), other than the office itself, that have someone to
    sign the case in (an active 承办人 or 单位负责人) — so a routed case can never be stranded.
    With ``case``: not the units a 检举控告 case must avoid (回避, ``confidential``)."""
    from xinfang.org.models import Membership, Unit
    from xinfang.org.roles import UNIT_STAFF

    staffed = Membership.objects.filter(role__code__in=UNIT_STAFF, user__is_active=True).values(
        "unit_id"
    )
    targets = Unit.objects.filter(
        is_active=True, path__startswith=office.path.split(".")[0] + ".", pk__in=staffed
    ).exclude(pk=office.pk)
    if case is not None:
        from xinfang.cases.confidential import recused_unit_ids

        targets = targets.exclude(pk__in=recused_unit_ids(case))
    return targets.order_by("path")
