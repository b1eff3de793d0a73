"""The access policy: who sees which case (``cases_visible_to``) and who may act (``may``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User

from tests.conftest import World, make_user, registration
from xinfang.cases import services as S
from xinfang.cases.models import Case
from xinfang.cases.policy import allowed_actions, cases_visible_to, may, may_register
from xinfang.cases.registration import case_register
from xinfang.org import roles as R


@pytest.fixture
def cases(world: World) -> dict[str, Case]:
    """A: registered at the office, not routed; B: assigned to 东湖街道; C: assigned to 东湖社区
    (below the street); D: assigned to 西山街道; E: registered at 东湖街道 itself;
    F: assigned to 东湖街道 and returned."""
    w = world

    def reg() -> Case:
        return case_register(by=w.rita, office=w.office, reg=registration())

    a, b, c, d, f = reg(), reg(), reg(), reg(), reg()
    S.case_assign(case=b, by=w.alice, unit=w.street)
    S.case_assign(case=c, by=w.alice, unit=w.community)
    S.case_assign(case=d, by=w.alice, unit=w.sibling)
    S.case_assign(case=f, by=w.alice, unit=w.street)
    S.case_return(case=f, by=w.hank, reason="不属于本街道职责")
    sue = make_user("sue", w.street, R.RECEPTIONIST)
    e = case_register(by=sue, office=w.street, reg=registration())
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}


OFFICE_CASES = {"A", "B", "C", "D", "F"}
# The district's petition office (a department without its own division code) serves the whole
# district: its desk and case officers also see what the street offices registered (E).
VISIBLE: dict[str, set[str]] = {
    "alice": OFFICE_CASES | {"E"},
    "rita": OFFICE_CASES | {"E"},
    "hank": {"B", "C", "E"},  # handled by the street or below, or registered there
    "uma": {"B", "C", "E"},
    "bob": {"D"},
    "leo": OFFICE_CASES | {"E"},
    "sam": set(),
}


def _visible(user: Any, cases: dict[str, Case]) -> set[str]:
    ids = set(cases_visible_to(user).values_list("pk", flat=True))
    return {name for name, case in cases.items() if case.pk in ids}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_visibility_matrix(world: World, cases: dict[str, Case], who: str) -> None:
    # A fresh user object: the posts cache must not hide a mistake.
    user = User.objects.get(username=who)
    assert _visible(user, cases) == VISIBLE[who]


def test_anonymous_sees_nothing_and_may_nothing(world: World, cases: dict[str, Case]) -> None:
    anon = AnonymousUser()
    assert not cases_visible_to(anon).exists()
    assert not any(may(anon, code, cases["B"]) for code in ("sign_in", "assign", "close"))
    assert allowed_actions(anon, cases["A"]) == []
    assert not may_register(anon, world.office)


def test_street_sees_a_case_only_once_assigned_and_not_after_return(world: World) -> None:
    case = case_register(by=world.rita, office=world.office, reg=registration())
    assert not cases_visible_to(world.hank).filter(pk=case.pk).exists()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert cases_visible_to(world.hank).filter(pk=case.pk).exists()
    S.case_return(case=case, by=world.hank, reason="不属于本街道职责")
    assert not cases_visible_to(world.hank).filter(pk=case.pk).exists()
    assert cases_visible_to(world.alice).filter(pk=case.pk).exists()
    assert not cases_visible_to(world.bob).filter(pk=case.pk).exists()


def test_role_without_case_reading_sees_nothing(world: World, cases: dict[str, Case]) -> None:
    for role in (R.INFORMANT, R.SYSADMIN, R.SECADMIN, R.AUDITOR):
        user = make_user(f"u_{role}", world.street, role)
        assert _visible(user, cases) == set(), role


def test_leader_of_a_street_sees_only_its_subtree(world: World, cases: dict[str, Case]) -> None:
    lily = make_user("lily", world.street, R.LEADER)
    assert _visible(lily, cases) == {"B", "C", "E"}


def test_two_posts_see_the_union(world: World, cases: dict[str, Case]) -> None:
    both = make_user("both", world.office, R.RECEPTIONIST)
    from xinfang.org.models import Membership, Role

    Membership.objects.create(user=both, unit=world.sibling, role=Role.objects.get(code=R.HANDLER))
    assert _visible(User.objects.get(pk=both.pk), cases) == OFFICE_CASES | {"E"}


def test_deactivated_unit_gives_no_access(world: World, cases: dict[str, Case]) -> None:
    world.street.is_active = False
    world.street.save()
    hank = User.objects.get(username="hank")
    assert _visible(hank, cases) == set()
    assert not may(hank, "sign_in", cases["B"])


# --- may(): the actor's post must be in the side's unit itself ------------------------------

MAY: list[tuple[str, str, str, bool]] = [
    # (case, action, user, expected)
    ("A", "assign", "alice", True),
    ("A", "assign", "rita", False),  # 接待员 registers and informs; 办案员 routes
    ("A", "inform", "rita", True),
    ("A", "inform", "alice", True),
    ("A", "assign", "leo", False),  # a leader above the office does not act for it
    ("A", "assign", "sam", False),
    ("A", "assign", "hank", False),
    ("B", "sign_in", "hank", True),
    ("B", "sign_in", "uma", True),
    ("B", "sign_in", "bob", False),
    ("B", "sign_in", "alice", False),
    ("B", "sign_in", "leo", False),
    ("B", "sign_in", "sam", False),
    ("B", "reply", "uma", True),
    ("B", "close", "alice", True),  # who, not when: the state is checked separately
    ("B", "close", "hank", False),
    ("C", "sign_in", "hank", False),  # the street is above the community: it may not sign in
    ("C", "sign_in", "uma", False),
    ("D", "sign_in", "bob", True),
    ("D", "sign_in", "hank", False),
    ("F", "sign_in", "hank", False),  # returned: no handling unit
    ("F", "assign", "alice", True),
    ("E", "assign", "alice", False),  # the street's own case: its own office routes it
]


@pytest.mark.parametrize(("name", "code", "who", "expected"), MAY)
def test_may_matrix(
    world: World, cases: dict[str, Case], name: str, code: str, who: str, expected: bool
) -> None:
    case = Case.objects.get(pk=cases[name].pk)
    assert may(User.objects.get(username=who), code, case) is expected


def test_street_office_routes_its_own_cases(world: World, cases: dict[str, Case]) -> None:
    officer = make_user("sol", world.street, R.CASE_OFFICER)
    case = Case.objects.get(pk=cases["E"].pk)
    assert may(officer, "assign", case)
    S.case_assign(case=case, by=officer, unit=world.community)
    assert _visible(User.objects.get(username="hank"), cases) == {"B", "C", "E"}


def test_may_register_needs_desk_role_in_a_petition_office(world: World) -> None:
    assert may_register(world.rita, world.office)
    assert may_register(world.alice, world.office)
    assert not may_register(world.hank, world.street)  # 承办人 of a petition office
    assert not may_register(world.leo, world.office)  # leader above it
    assert not may_register(world.rita, world.street)
    clerk = make_user("clerk", world.sibling, R.RECEPTIONIST)
    assert not may_register(clerk, world.sibling)  # not a petition office


def test_district_office_sees_street_registered_case_but_does_not_act_for_it(
    world: World, cases: dict[str, Case]
) -> None:
    street_case = cases["E"]
    assert cases_visible_to(world.alice).filter(pk=street_case.pk).exists()
    assert not may(world.alice, "assign", street_case)
    assert allowed_actions(world.alice, street_case) == []
    # The street's own handler does not gain the district view.
    assert not cases_visible_to(world.hank).filter(pk=cases["A"].pk).exists()
