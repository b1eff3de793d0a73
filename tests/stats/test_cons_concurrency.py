"""Rollups under concurrent writers (threads, PostgreSQL; the SQLite test database is private
to one connection, so these are skipped there): registrations hitting one rollup cell at once,
cases taken through their lifecycle and corrected meanwhile — no deadlock, no lost increment,
``rollup.check().ok``. Two clerks correcting one case at once: one wins, one is told."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from tests.conftest import World, registration, serve_reply
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.corrections import case_correct
from xinfang.cases.models import Case, CaseEvent, Category
from xinfang.cases.registration import case_register
from xinfang.core.errors import ConcurrentChange
from xinfang.people.services import PetitionerInput
from xinfang.stats import rollup
from xinfang.stats.models import HandlingDay, IntakeDay, IntakeMonth
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, handling_total, intake

REGISTRARS = 6
PER_REGISTRAR = 3
LIFECYCLES = 2
CORRECTORS = 1


def _categories() -> tuple[int, int]:
    a, b = Category.objects.filter(level=2, is_active=True).order_by("pk")[:2]
    return a.pk, b.pk


def _reg(world: World, name: str, category: int, received: dt.datetime, **kw: Any) -> Case:
    return case_register(
        by=world.rita,
        office=world.office,
        reg=registration(
            petitioners=[PetitionerInput(name=name)],
            category_id=category,
            received_at=received,
            **kw,
        ),
    )


def _assert_consistent() -> None:
    report = rollup.check()
    assert report.ok, (report.differences[:10], report.wrong_cases[:10])


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_registrations_lifecycles_and_corrections(world: World) -> None:
    cat_a, cat_b = _categories()
    received = timezone.now() - dt.timedelta(hours=2)  # one day, one cell for all registrars
    lifecycle_cases = [_reg(world, f"办理{i}", cat_a, received) for i in range(LIFECYCLES)]
    corrected = [_reg(world, f"更正{i}", cat_b, received, headcount=2) for i in range(4)]
    before = Case.objects.count()

    def register_many(i: int) -> list[int]:
        return [_reg(world, f"登记{i}-{k}", cat_a, received).pk for k in range(PER_REGISTRAR)]

    def lifecycle(case: Case) -> str:
        S.case_assign(case=case, by=world.alice, unit=world.street)
        S.case_sign_in(case=case, by=world.hank)
        S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
        serve_reply(world, case)
        S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
        S.case_close(case=case, by=world.alice)
        return "closed"

    def corrections() -> str:
        for case in corrected:  # into the registrars' cell: category A, 1 person
            fresh = Case.objects.get(pk=case.pk)
            case_correct(case=fresh, by=world.alice, category_id=cat_a, reason="分类登记错误")
            fresh = Case.objects.get(pk=case.pk)
            case_correct(case=fresh, by=world.alice, headcount=1, reason="人数登记错误")
        return "corrected"

    def work(i: int) -> Any:
        if i < REGISTRARS:
            return register_many(i)
        if i < REGISTRARS + LIFECYCLES:
            return lifecycle(Case.objects.get(pk=lifecycle_cases[i - REGISTRARS].pk))
        return corrections()

    results = in_threads(REGISTRARS + LIFECYCLES + CORRECTORS, work)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors  # no deadlock, no serialization failure
    registered = REGISTRARS * PER_REGISTRAR
    assert Case.objects.count() == before + registered
    # no lost increments: the shared cell holds every registration and every correction
    day = timezone.localtime(received).date()
    same_cell = intake(
        Period(day, day), Filters(units=(world.office.pk,), categories=(cat_a,)), by=["kind"]
    )
    assert same_cell == [
        {"kind": 1, "batches": registered + LIFECYCLES + 4, "persons": registered + 6}
    ]
    total = IntakeDay.objects.aggregate(b=Sum("batches"), p=Sum("persons"))
    assert (total["b"], total["p"]) == (Case.objects.count(), registered + LIFECYCLES + 4)
    month = IntakeMonth.objects.aggregate(b=Sum("batches"))
    assert month["b"] == Case.objects.count()
    done = handling_total(
        Period(day, day + dt.timedelta(days=1)), Filters(units=(world.street.pk,))
    )
    assert done["closed"] == LIFECYCLES and done["satisfied"] == LIFECYCLES
    assert HandlingDay.objects.aggregate(a=Sum("assigned"))["a"] == LIFECYCLES
    _assert_consistent()


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clerks_correcting_one_case_at_once(world: World) -> None:
    cat_a, cat_b = _categories()
    received = timezone.now() - dt.timedelta(days=40)
    case = _reg(world, "甲", cat_a, received, headcount=3)
    from tests.conftest import make_user
    from xinfang.org import roles as R

    clerks = [world.alice, make_user("carl", world.office, R.CASE_OFFICER, "卡尔")]
    wanted: list[dict[str, Any]] = [{"category_id": cat_b}, {"headcount": 6}]

    # each clerk's page, both read before either submits (a thread scheduled late must not
    # read the other's committed correction: that would be a later, legitimate correction)
    pages = [Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)]

    def work(i: int) -> Any:
        return case_correct(case=pages[i], by=clerks[i], reason="登记信息有误", **wanted[i])

    results = in_threads(2, work)
    wins = [r for r in results if isinstance(r, CaseEvent)]
    losses = [r for r in results if isinstance(r, ConcurrentChange)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "刚被他人修改" in losses[0].message
    case.refresh_from_db()
    won = wins[0].data
    if "category_id" in won:
        assert (case.category_id, case.headcount) == (cat_b, 3)
    else:
        assert (case.category_id, case.headcount, case.is_collective) == (cat_a, 6, True)
    assert CaseEvent.objects.filter(case=case, kind="correct").count() == 1
    _assert_consistent()
