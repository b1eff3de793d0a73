"""case_register: numbering, identity, validation, derived flags, idempotency, atomicity."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.utils import timezone

from tests.conftest import VALID_ID, World, make_user, registration
from xinfang.cases import deadlines
from xinfang.cases import registration as registration_module
from xinfang.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePetitioner,
    Category,
    Deadline,
    DeadlineKind,
    PetitionerRole,
    Status,
)
from xinfang.cases.registration import QUERY_CODE_ALPHABET, case_register
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.idcard import id_check_digit
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.people.models import Petitioner
from xinfang.people.selectors import with_id_number
from xinfang.people.services import PetitionerInput

Register = Callable[..., Case]
NUMBER_RE = re.compile(r"^XF-(\d{6,12})-(\d{4})-(\d{6})$")


def id18(first17: str) -> str:
    return first17 + id_check_digit(first17)


def person(first17: str, name: str = "李四", phone: str = "") -> PetitionerInput:
    return PetitionerInput(name=name, id_number=id18(first17), phone=phone)


def level3_categories(n: int) -> list[Category]:
    cats = list(Category.objects.filter(level=3).order_by("id")[:n])
    assert len(cats) == n, "categories are seeded by migration"
    return cats


# --- numbers and query codes -------------------------------------------------------------


def test_case_numbers_follow_format_and_are_gap_free(world: World, register: Register) -> None:
    cases = [register() for _ in range(3)]
    year = timezone.localtime(timezone.now()).year
    for i, case in enumerate(cases, start=1):
        m = NUMBER_RE.match(case.number)
        assert m, case.number
        assert m.group(1) == "110105"  # the office has no code: the district's is used
        assert m.group(2) == str(year)
        assert int(m.group(3)) == i
    assert CaseCounter.objects.get(code="110105", year=year).last == 3


def test_an_office_with_its_own_code_numbers_its_own_sequence(
    world: World, register: Register
) -> None:
    register()
    register()
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    at_street = case_register(by=sue, office=world.street, reg=registration())
    year = timezone.localtime(timezone.now()).year
    assert at_street.number == f"XF-110105001-{year}-000001"


def test_offices_sharing_a_division_code_share_one_sequence(world: World) -> None:
    """区信访局 and a 接待中心 have no code of their own: both number under the district's."""
    centre = Unit.objects.create(
        name="区信访接待中心",
        unit_type=UnitType.DEPARTMENT,
        parent=world.district,
        is_petition_office=True,
    )
    clerk = make_user("clerk", centre, R.RECEPTIONIST)
    year = timezone.localtime(timezone.now()).year
    cases = []
    for i in range(4):
        by, office = (world.rita, world.office) if i % 2 == 0 else (clerk, centre)
        cases.append(case_register(by=by, office=office, reg=registration()))
    assert [c.number for c in cases] == [f"XF-110105-{year}-{i:06d}" for i in range(1, 5)]
    assert [c.office_unit for c in cases] == [world.office, centre] * 2
    assert list(CaseCounter.objects.values_list("code", "year", "last")) == [("110105", year, 4)]


def test_counter_of_a_new_year_starts_at_one(world: World, register: Register) -> None:
    register()
    next_year = timezone.now() + dt.timedelta(days=366)
    case = case_register(by=world.rita, office=world.office, reg=registration(), at=next_year)
    year = timezone.localtime(next_year).year
    assert case.number == f"XF-110105-{year}-000001"
    assert CaseCounter.objects.get(code="110105", year=year).last == 1


def test_query_code_collision_registers_again_with_a_new_code(
    world: World, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No pre-check: the unique constraint catches a taken code, the whole registration is
    rolled back (its number too) and made again with a fresh code."""
    first = register()
    draws = iter([first.query_code, first.query_code, "ABCDEFGHJK"])
    monkeypatch.setattr(registration_module, "_new_query_code", lambda: next(draws))
    second = register(petitioners=[person("11010519800101001", "王五")])
    assert second.query_code == "ABCDEFGHJK"
    assert second.number.endswith("-000002")
    assert Case.objects.count() == 2
    assert with_id_number(id18("11010519800101001")).count() == 1
    year = timezone.localtime(timezone.now()).year
    assert CaseCounter.objects.get(code="110105", year=year).last == 2


def test_query_code_collision_gives_up_after_three_draws(
    register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = register()
    monkeypatch.setattr(registration_module, "_new_query_code", lambda: first.query_code)
    with pytest.raises(IntegrityError):
        register()
    assert Case.objects.count() == 1


def test_query_code_is_ten_characters_of_the_phone_safe_alphabet(register: Register) -> None:
    codes = {register().query_code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(QUERY_CODE_ALPHABET)
        assert not set(code) & set("01IO")


# --- petitioners -------------------------------------------------------------------------


def test_petitioner_found_by_id_number_and_phone_updated(register: Register) -> None:
    first = register()
    second = register(
        petitioners=[PetitionerInput(name="张三", id_number=VALID_ID, phone="13900001111")]
    )
    assert with_id_number(VALID_ID).count() == 1
    person_row = with_id_number(VALID_ID).get()
    assert person_row.phone == "13900001111"
    assert list(first.petitioners.all()) == [person_row]
    assert list(second.petitioners.all()) == [person_row]


def test_fifteen_digit_id_is_stored_as_eighteen(register: Register) -> None:
    old = VALID_ID[:6] + VALID_ID[8:17]  # 110105491231002
    assert len(old) == 15
    case = register(petitioners=[PetitionerInput(name="张三", id_number=old)])
    stored = case.petitioners.get()
    assert stored.id_number == VALID_ID
    assert stored.birth_date == dt.date(1949, 12, 31)
    # The same person typed with the new number is the same row.
    register()
    assert Petitioner.objects.count() == 1


def test_wrong_check_digit_names_the_expected_digit(register: Register) -> None:
    wrong = VALID_ID[:17] + "0"
    with pytest.raises(DomainError) as err:
        register(petitioners=[PetitionerInput(name="张三", id_number=wrong)])
    assert "第18位校验码应为X" in err.value.message
    assert err.value.field == "p0_id_number"


def test_second_petitioner_error_names_its_field(register: Register) -> None:
    with pytest.raises(DomainError) as err:
        register(
            petitioners=[
                PetitionerInput(name="张三", id_number=VALID_ID),
                PetitionerInput(name="李四", id_number=VALID_ID[:17] + "1"),
            ]
        )
    assert err.value.field == "p1_id_number"


def test_impossible_birth_date_is_refused(register: Register) -> None:
    with pytest.raises(DomainError) as err:
        register(petitioners=[PetitionerInput(name="张三", id_number="110105194902300016")])
    assert "19490230不存在" in err.value.message
    assert err.value.field == "p0_id_number"


# --- field rules ---------------------------------------------------------------------------


def test_more_than_five_representatives_refused(register: Register) -> None:
    reps = [person(f"1101051980010100{i}", name=f"代表{i}") for i in range(6)]
    with pytest.raises(DomainError) as err:
        register(channel="collective_visit", headcount=30, petitioners=[], representatives=reps)
    assert "最多登记5名代表" in err.value.message
    assert err.value.field == "representatives"


def test_five_representatives_accepted(register: Register) -> None:
    reps = [person(f"1101051980010100{i}", name=f"代表{i}") for i in range(5)]
    case = register(channel="collective_visit", headcount=30, petitioners=[], representatives=reps)
    roles = list(case.parties.values_list("role", flat=True))
    assert roles == [PetitionerRole.REPRESENTATIVE] * 5
    assert case.headcount == 30


def test_received_time_in_future_refused(register: Register) -> None:
    with pytest.raises(DomainError) as err:
        register(received_at=timezone.now() + dt.timedelta(hours=2))
    assert err.value.field == "received_at"
    assert "晚于当前时间" in err.value.message


# --- derived flags -------------------------------------------------------------------------


def test_headcount_of_five_is_collective(register: Register) -> None:
    assert register(headcount=5).is_collective
    assert not register(headcount=4).is_collective


def test_headcount_raised_to_people_listed(register: Register) -> None:
    people = [person(f"1101051980010100{i}", name=f"甲{i}") for i in range(3)]
    reps = [person(f"1101051970010100{i}", name=f"乙{i}") for i in range(2)]
    case = register(headcount=1, petitioners=people, representatives=reps)
    assert case.headcount == 5
    assert case.is_collective


def test_joint_letter_marks_cosigners(register: Register) -> None:
    people = [person("11010519800101001", "王五"), person("11010519800101002", "赵六")]
    case = register(channel="letter", petitioners=people)
    assert case.is_joint
    roles = list(case.parties.order_by("order").values_list("role", flat=True))
    assert roles == [PetitionerRole.PRINCIPAL, PetitionerRole.COSIGNER]


def test_two_visitors_are_not_a_joint_letter(register: Register) -> None:
    people = [person("11010519800101001", "王五"), person("11010519800101002", "赵六")]
    case = register(channel="visit", petitioners=people)
    assert not case.is_joint
    assert set(case.parties.values_list("role", flat=True)) == {PetitionerRole.PRINCIPAL}


def test_same_person_same_category_is_repeat(register: Register) -> None:
    cat, other = level3_categories(2)
    first = register(category_id=cat.pk)
    different_matter = register(category_id=other.pk)
    second = register(category_id=cat.pk)
    assert not first.is_repeat
    assert not different_matter.is_repeat
    assert second.is_repeat
    assert second.related_to_id == first.pk
    event = CaseEvent.objects.get(case=second, kind="register")
    assert event.data["repeat_of"] == first.number


def test_other_person_same_category_is_not_repeat(register: Register) -> None:
    (cat,) = level3_categories(1)
    register(category_id=cat.pk)
    other = register(category_id=cat.pk, petitioners=[person("11010519800101001", "王五")])
    assert not other.is_repeat
    assert other.related_to_id is None


@dataclass
class Levels:
    """市 → 区 → 街道 → 社区, petition offices at city, district and street level."""

    city_office: Unit
    district_office: Unit
    street: Unit
    other_street: Unit
    community_code: str


@pytest.fixture
def levels(world: World) -> Levels:
    city = Unit.objects.create(name="示范市", unit_type=UnitType.OTHER, division_code="370200")
    city_office = Unit.objects.create(
        name="市信访局", unit_type=UnitType.DEPARTMENT, parent=city, is_petition_office=True
    )
    district = Unit.objects.create(
        name="市南区", unit_type=UnitType.DISTRICT, parent=city, division_code="370202"
    )
    district_office = Unit.objects.create(
        name="市南区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    street = Unit.objects.create(
        name="八大湖街道",
        unit_type=UnitType.STREET,
        parent=district,
        division_code="370202001",
        is_petition_office=True,
    )
    other_street = Unit.objects.create(
        name="金门路街道",
        unit_type=UnitType.STREET,
        parent=district,
        division_code="370202002",
        is_petition_office=True,
    )
    Unit.objects.create(
        name="湛山社区",
        unit_type=UnitType.COMMUNITY,
        parent=street,
        division_code="370202001003",
    )
    for office in (city_office, district_office, street, other_street):
        make_user(f"desk{office.pk}", office, R.RECEPTIONIST)
    return Levels(city_office, district_office, street, other_street, "370202001003")


def register_at(office: Unit, **overrides: Any) -> Case:
    by = User.objects.get(username=f"desk{office.pk}")
    return case_register(by=by, office=office, reg=registration(**overrides))


def test_community_matter_at_its_street_is_not_skip_level(levels: Levels) -> None:
    assert not register_at(levels.street, place_code=levels.community_code).is_skip_level


def test_community_matter_at_the_district_office_is_the_next_level_up(levels: Levels) -> None:
    # The street (competent) and the district (next level up, via its 区信访局) are both allowed.
    assert not register_at(levels.district_office, place_code=levels.community_code).is_skip_level


def test_community_matter_at_the_city_office_skips_a_level(levels: Levels) -> None:
    case = register_at(levels.city_office, place_code=levels.community_code)
    assert case.is_skip_level
    assert Case.objects.filter(is_skip_level=True).count() == 1


def test_place_code_below_a_known_unit_uses_the_longest_known_prefix(levels: Levels) -> None:
    # A community the tree does not list, and the street's own code: street → district → city.
    assert register_at(levels.city_office, place_code="370202001009").is_skip_level
    assert register_at(levels.city_office, place_code="370202001").is_skip_level
    # A district-wide matter at the city: the city is the next level up.
    assert not register_at(levels.city_office, place_code="370202").is_skip_level


def test_unknown_place_code_is_not_skip_level(levels: Levels) -> None:
    for code in ("510104001001", "3702", "abc", ""):
        assert not register_at(levels.city_office, place_code=code).is_skip_level


def test_other_jurisdictions_matter_is_not_skip_level(levels: Levels) -> None:
    # A matter of 八大湖街道 brought to 金门路街道: not its jurisdiction (告知), not 越级.
    assert not register_at(levels.other_street, place_code=levels.community_code).is_skip_level


def test_clerks_skip_level_flag_always_wins(levels: Levels) -> None:
    own = register_at(levels.street, place_code=levels.community_code, skip_level=True)
    assert own.is_skip_level
    assert register_at(levels.street, skip_level=True).is_skip_level


def test_skip_level_follows_changes_to_the_unit_tree(levels: Levels) -> None:
    """The answer is cached per process; editing a unit clears it."""
    assert register_at(levels.city_office, place_code=levels.community_code).is_skip_level
    # The street loses its petition office: the district becomes competent, the city next up.
    levels.street.is_petition_office = False
    levels.street.save()
    assert not register_at(levels.city_office, place_code=levels.community_code).is_skip_level


def test_district_office_registering_a_street_matter_is_not_skip_level(
    world: World, register: Register
) -> None:
    # Changed from the old rule (越级 whenever the street has its own 信访办 and the person had
    # not been there first): under the 2022 regulation the district is the next level up.
    assert not register(place_code="110105001", place_name="东湖街道").is_skip_level
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    case_register(by=sue, office=world.street, reg=registration())
    assert not register(place_code="110105001", place_name="东湖街道").is_skip_level


def test_not_skip_level_without_lower_petition_office(world: World, register: Register) -> None:
    # 西山街道 (110105002) has no petition office of its own; no place: no skip either.
    assert not register(place_code="110105002").is_skip_level
    assert not register().is_skip_level


def test_registration_at_the_lower_office_itself_is_not_skip_level(world: World) -> None:
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    case = case_register(by=sue, office=world.street, reg=registration(place_code="110105001"))
    assert not case.is_skip_level


# --- effects ------------------------------------------------------------------------------


def test_registration_event_and_route_deadline(world: World, register: Register) -> None:
    case = register()
    assert case.status == Status.REGISTERED
    assert case.registered_by == world.rita
    event = CaseEvent.objects.get(case=case)
    assert (event.kind, event.actor, event.actor_unit) == ("register", world.rita, world.office)
    assert (event.from_status, event.to_status) == ("", Status.REGISTERED)
    route = Deadline.objects.get(case=case)
    assert route.kind == DeadlineKind.ROUTE
    assert route.started_on == deadlines.local_date(case.received_at)
    assert route.due_on == deadlines.due_date(DeadlineKind.ROUTE, route.started_on)
    assert route.due_on >= route.started_on + dt.timedelta(days=15)
    assert event.data["route_due"] == route.due_on.isoformat()


# --- idempotency and permission -----------------------------------------------------------


def test_same_idempotency_key_returns_the_first_case(world: World, register: Register) -> None:
    first = register(idempotency_key="form-1")
    again = register(idempotency_key="form-1")
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1
    year = timezone.localtime(timezone.now()).year
    assert CaseCounter.objects.get(code="110105", year=year).last == 1
    assert register(idempotency_key="form-2").pk != first.pk


def test_idempotency_key_does_not_bypass_permission(world: World, register: Register) -> None:
    register(idempotency_key="form-1")
    with pytest.raises(PermissionDenied):
        register(by=world.hank, idempotency_key="form-1")


@pytest.mark.parametrize("who", ["hank", "uma", "bob", "leo", "sam"])
def test_only_desk_staff_of_the_office_may_register(world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        case_register(by=getattr(world, who), office=world.office, reg=registration())
    assert not Case.objects.exists()


def test_desk_staff_cannot_register_for_another_office(world: World) -> None:
    with pytest.raises(PermissionDenied):
        case_register(by=world.rita, office=world.street, reg=registration())


def test_desk_role_in_a_unit_that_is_no_petition_office_cannot_register(world: World) -> None:
    clerk = make_user("clerk", world.sibling, R.RECEPTIONIST)
    with pytest.raises(PermissionDenied):
        case_register(by=clerk, office=world.sibling, reg=registration())


# --- atomicity ----------------------------------------------------------------------------


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Petitioner.objects.count(),
        Case.objects.count(),
        CasePetitioner.objects.count(),
        Deadline.objects.count(),
        sum(CaseCounter.objects.values_list("last", flat=True)),
    )


def test_validation_failure_saves_nothing(register: Register) -> None:
    before = _counts()
    with pytest.raises(DomainError):
        register(
            petitioners=[
                person("11010519800101001", "王五"),
                PetitionerInput(name="赵六", id_number=VALID_ID[:17] + "0"),
            ]
        )
    assert _counts() == before
    assert not with_id_number(id18("11010519800101001")).exists()


def test_failure_inside_the_transaction_rolls_everything_back(
    world: World, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    register()
    before = _counts()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DomainError("模拟故障")

    monkeypatch.setattr(deadlines, "deadline_open", broken)
    with pytest.raises(DomainError, match="模拟故障"):
        register(petitioners=[person("11010519800101001", "王五", "13700000000")])
    assert _counts() == before
    monkeypatch.undo()
    # The number the failed registration drew is given back: still gap-free.
    assert register().number.endswith("-000002")
