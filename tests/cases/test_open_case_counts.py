"""``OpenCaseCount`` — the open cases per registering unit × holder — follows every write of a
case by database triggers (the services, ``QuerySet.update`` of statuses and units, deletes);
``open_cases`` equals counting the open cases with either unit in the scope; ``check_counts``
finds damage, ``stats_check --repair`` rebuilds, ``ensure()`` reinstalls a dropped trigger and
refills. The dashboard's 在办 reads it."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Q

from tests.conftest import World
from tests.threads import in_threads, needs_server_db
from xinfang.cases import openstate
from xinfang.cases import services as S
from xinfang.cases.handling import case_transfer
from xinfang.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CasePetitioner,
    Deadline,
    OpenCaseCount,
    Status,
)


def _counts() -> dict[tuple[int, int], int]:
    return {
        (o, h): n
        for o, h, n in OpenCaseCount.objects.values_list("office_unit_id", "holder_id", "n")
        if n
    }


def _direct(units: tuple[int, ...] | None) -> int:
    """What the 在办 figure counted before the table: the open cases with either unit in it."""
    qs = Case.objects.filter(status__in=OPEN_STATUSES)
    if units is not None:
        qs = qs.filter(Q(office_unit_id__in=units) | Q(handling_unit_id__in=units))
    return qs.count()


def _agrees(world: World) -> None:
    assert openstate.check_counts() == []
    for units in (
        None,
        (world.office.pk,),
        (world.street.pk,),
        (world.sibling.pk,),
        (world.street.pk, world.sibling.pk),
    ):
        assert openstate.open_cases(units) == _direct(units), units


def test_the_counts_follow_the_lifecycle_and_raw_updates(world: World, register: Any) -> None:
    office, street, sibling = world.office.pk, world.street.pk, world.sibling.pk
    a, b = register(), register()
    assert _counts() == {(office, office): 2}
    S.case_assign(case=a, by=world.alice, unit=world.street)
    assert _counts() == {(office, office): 1, (office, street): 1}
    _agrees(world)
    case_transfer(case=a, by=world.alice, unit=world.sibling, reason="属西山街道辖区")
    assert _counts() == {(office, office): 1, (office, sibling): 1}
    # raw updates: a status that closes, one that reopens, the holder back to none, a delete
    Case.objects.filter(pk=b.pk).update(status=Status.CLOSED)
    assert _counts() == {(office, sibling): 1}
    _agrees(world)
    Case.objects.filter(pk=b.pk).update(status=Status.REVIEW_REQUESTED, handling_unit=world.street)
    assert _counts() == {(office, sibling): 1, (office, street): 1}
    Case.objects.filter(pk=a.pk).update(handling_unit=None)
    assert _counts() == {(office, office): 1, (office, street): 1}
    # open → open with the same units changes nothing; the registering unit moves the pair
    Case.objects.filter(pk=a.pk).update(status=Status.ACCEPTED)
    Case.objects.filter(pk=a.pk).update(office_unit=world.street)
    assert _counts() == {(street, street): 1, (office, street): 1}
    _agrees(world)
    for model in (Deadline, CasePetitioner, CaseEvent):  # what protects a case from deletion
        model.objects.filter(case=b).delete()
    Case.objects.filter(pk=b.pk).delete()
    assert _counts() == {(street, street): 1}
    _agrees(world)


def test_the_dashboard_reads_it(world: World, register: Any) -> None:
    from xinfang.stats import dashboard

    register()
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    whole = dashboard.Scope(world.district)
    street = dashboard.Scope(world.street)
    today = case.received_at.date()
    assert dashboard.open_and_overdue(whole, today)[0] == 2
    assert dashboard.open_and_overdue(street, today)[0] == 1
    OpenCaseCount.objects.update(n=7)  # the figure is the table's, not a count of the cases
    assert dashboard.open_and_overdue(street, today)[0] == 7


def test_damage_is_found_and_repaired(world: World, register: Any) -> None:
    register()
    register()
    OpenCaseCount.objects.update(n=5)
    OpenCaseCount.objects.create(office_unit_id=world.street.pk, holder_id=world.street.pk, n=1)
    assert len(openstate.check_counts()) == 2
    out = StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("stats_check", stdout=out, stderr=StringIO())
    assert "在办件数表不符 2 组" in out.getvalue()
    out = StringIO()
    call_command("stats_check", "--repair", stdout=out, stderr=StringIO())
    assert "已修复，复核一致。" in out.getvalue()
    _agrees(world)


def test_ensure_reinstalls_a_dropped_trigger_and_refills(world: World, register: Any) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DROP TRIGGER cases_opencount_ins ON {Case._meta.db_table}")
        else:
            cur.execute("DROP TRIGGER cases_opencount_ins")
    register()  # counted nowhere without the trigger
    assert _counts() == {}
    assert openstate.check_counts() != []
    assert openstate.ensure() is True
    assert openstate.installed() == set(openstate.TRIGGERS)
    assert _counts() == {(world.office.pk, world.office.pk): 1}
    _agrees(world)


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_moves_in_opposite_directions(world: World, register: Any) -> None:
    """Four clerks at once: two move their cases street → sibling and back, two sibling →
    street and back, and close and reopen them — no deadlock, no lost count."""
    cases = [register() for _ in range(8)]
    Case.objects.filter(pk__in=[c.pk for c in cases[:4]]).update(handling_unit=world.street)
    Case.objects.filter(pk__in=[c.pk for c in cases[4:]]).update(handling_unit=world.sibling)
    ends = (world.street, world.sibling)

    def work(i: int) -> int:
        mine = cases[i * 2 : i * 2 + 2]
        start = 0 if i < 2 else 1
        for step in range(12):
            with transaction.atomic():
                for c in mine:
                    to = ends[(start + step + 1) % 2]
                    Case.objects.filter(pk=c.pk).update(handling_unit=to)
                    if step % 4 == 3:
                        Case.objects.filter(pk=c.pk).update(status=Status.CLOSED)
                    elif step % 4 == 0:
                        Case.objects.filter(pk=c.pk).update(status=Status.ACCEPTED)
        return i

    results = in_threads(4, work)
    assert results == [0, 1, 2, 3], results
    _agrees(world)
