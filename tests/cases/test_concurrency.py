"""Two clerks at once: the conditional UPDATE lets exactly one win; numbers stay gap-free.

The stale-object tests run everywhere. The thread tests need a server database: the SQLite test
database is in-memory and private to one connection, so they are skipped there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from tests.conftest import World, registration
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePetitioner,
    Deadline,
    DeadlineKind,
    Status,
)
from xinfang.cases.registration import case_register
from xinfang.core.errors import ConcurrentChange
from xinfang.core.idcard import id_check_digit
from xinfang.people.services import PetitionerInput

Register = Callable[..., Case]


def test_two_clerks_routing_the_same_case(world: World, register: Register) -> None:
    case = register()
    first = Case.objects.get(pk=case.pk)
    second = Case.objects.get(pk=case.pk)  # the other clerk's page, loaded at the same time
    S.case_assign(case=first, by=world.alice, unit=world.street)
    with pytest.raises(ConcurrentChange) as err:
        S.case_forward(case=second, by=world.alice, unit=world.sibling)
    assert (
        err.value.message == "该事项刚被他人处理（当前状态：已交办），「转送」未执行，请刷新后查看"
    )
    case.refresh_from_db()
    assert (case.status, case.handling_unit) == (Status.ASSIGNED, world.street)
    assert second.status == Status.REGISTERED  # the loser's object is not half-updated
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        "register",
        "assign",
    ]
    assert Deadline.objects.filter(case=case, kind=DeadlineKind.ACCEPT).count() == 1


def test_same_action_twice_from_stale_pages(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    hank_page = Case.objects.get(pk=case.pk)
    uma_page = Case.objects.get(pk=case.pk)
    S.case_sign_in(case=hank_page, by=world.hank)
    with pytest.raises(ConcurrentChange, match="当前状态：已签收"):
        S.case_sign_in(case=uma_page, by=world.uma)
    assert CaseEvent.objects.filter(case=case, kind="sign_in").count() == 1


def test_return_racing_accept(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    accepting = Case.objects.get(pk=case.pk)
    returning = Case.objects.get(pk=case.pk)
    S.case_return(case=returning, by=world.uma, reason="不属于本街道职责")
    with pytest.raises(ConcurrentChange, match="当前状态：已退回"):
        S.case_accept(case=accepting, by=world.hank, notice_text="决定受理。")
    # The loser left nothing behind: no handling deadline, no accept event.
    assert not Deadline.objects.filter(case=case, kind=DeadlineKind.HANDLE).exists()
    assert not CaseEvent.objects.filter(case=case, kind="accept").exists()
    assert Case.objects.get(pk=case.pk).status == Status.RETURNED


# --- real threads (PostgreSQL) -----------------------------------------------------------


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_registrations_get_distinct_gap_free_numbers(world: World) -> None:
    def work(i: int) -> Case:
        # Half the threads share one person (found-or-created under contention).
        first17 = "11010519800101" + ("000" if i % 2 else f"{i + 1:03d}")
        person = PetitionerInput(name=f"甲{i}", id_number=first17 + id_check_digit(first17))
        return case_register(
            by=world.rita, office=world.office, reg=registration(petitioners=[person])
        )

    results = in_threads(8, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    numbers = sorted(c.number for c in results)
    year = timezone.localtime(timezone.now()).year
    assert numbers == [f"XF-110105-{year}-{i:06d}" for i in range(1, 9)]
    assert Case.objects.count() == 8
    assert CaseCounter.objects.get(code="110105", year=year).last == 8
    shared = "11010519800101000"
    # ID numbers are encrypted at rest: no prefix query, compare the decrypted values.
    links = CasePetitioner.objects.select_related("petitioner")
    assert sum(1 for link in links if (link.petitioner.id_number or "").startswith(shared)) == 4


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_retries_with_one_idempotency_key_make_one_case(world: World) -> None:
    def work(i: int) -> Case:
        return case_register(
            by=world.rita, office=world.office, reg=registration(), idempotency_key="form-42"
        )

    results = in_threads(4, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    assert len({c.pk for c in results}) == 1
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1
    year = timezone.localtime(timezone.now()).year
    # The losers' numbers were rolled back with them: the next case is 000002.
    assert CaseCounter.objects.get(code="110105", year=year).last == 1


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_routing_of_one_case_has_one_winner(world: World) -> None:
    case = case_register(by=world.rita, office=world.office, reg=registration())
    units = [world.street, world.sibling] * 2
    pages = [Case.objects.get(pk=case.pk) for _ in units]  # four clerks, one page each

    def work(i: int) -> str:
        S.case_assign(case=pages[i], by=world.alice, unit=units[i])
        return "won"

    results = in_threads(4, work)
    assert results.count("won") == 1, results
    assert all(isinstance(r, ConcurrentChange) for r in results if r != "won"), results
    assert CaseEvent.objects.filter(case=case, kind="assign").count() == 1
    assert Deadline.objects.filter(case=case, kind=DeadlineKind.ACCEPT).count() == 1
