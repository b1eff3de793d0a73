"""case_register: numbering, identity, validation, derived flags, idempotency, atomicity."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import VALID_ID, World, make_user, registration
from xinfang.cases import deadlines
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
from xinfang.people.models import Petitioner
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
    assert CaseCounter.objects.get(unit=world.office, year=year).last == 3


def test_each_office_numbers_its_own_sequence(world: World, register: Register) -> None:
    register()
    register()
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    at_street = case_register(by=sue, office=world.street, reg=registration())
    year = timezone.localtime(timezone.now()).year
    assert at_street.number == f"XF-110105001-{year}-000001"


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
    assert Petitioner.objects.filter(id_number=VALID_ID).count() == 1
    person_row = Petitioner.objects.get(id_number=VALID_ID)
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


def test_skip_level_when_lower_office_not_visited_first(world: World, register: Register) -> None:
    case = register(place_code="110105001", place_name="东湖街道")
    assert case.is_skip_level


def test_not_skip_level_after_petitioning_the_lower_office(
    world: World, register: Register
) -> None:
    sue = make_user("sue", world.street, R.RECEPTIONIST)
    case_register(by=sue, office=world.street, reg=registration())
    case = register(place_code="110105001", place_name="东湖街道")
    assert not case.is_skip_level


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
    assert CaseCounter.objects.get(unit=world.office, year=year).last == 1
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
    assert not Petitioner.objects.filter(id_number=id18("11010519800101001")).exists()


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
