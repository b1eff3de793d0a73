"""``OpenDeadline`` — the open obligation deadlines with their case's units — follows every
write by database triggers: the services, ``QuerySet.update`` of due dates, pauses and units,
deletes; ``check()`` finds damage, ``stats_check --repair`` rebuilds, ``ensure()`` reinstalls a
dropped trigger (SQLite drops them when a migration rebuilds a table) and refills."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tests.conftest import World
from xinfang.cases import openstate
from xinfang.cases import services as S
from xinfang.cases.handling import case_transfer
from xinfang.cases.models import Case, Deadline, DeadlineKind, OpenDeadline

K = DeadlineKind


def _rows(case: Case) -> set[tuple[str, dt.date, int, int]]:
    return set(
        OpenDeadline.objects.filter(case=case).values_list(
            "kind", "due_on", "office_unit_id", "holder_id"
        )
    )


def _due(case: Case, kind: str) -> dt.date:
    return Deadline.objects.get(case=case, kind=kind, met_at=None, cancelled_at=None).due_on


def test_triggers_are_installed_by_migrate(db: Any) -> None:
    assert openstate.installed() == set(openstate.TRIGGERS)
    assert openstate.ensure() is False  # nothing to do


def test_the_table_follows_the_lifecycle_and_raw_updates(world: World, register: Any) -> None:
    case = register()
    office = world.office.pk
    assert _rows(case) == {(K.ROUTE, _due(case, K.ROUTE), office, office)}
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert _rows(case) == {(K.ACCEPT, _due(case, K.ACCEPT), office, world.street.pk)}
    case_transfer(case=case, by=world.alice, unit=world.sibling, reason="属西山街道辖区")
    assert _rows(case) == {(K.ACCEPT, _due(case, K.ACCEPT), office, world.sibling.pk)}
    # a raw update of the due date (what tests and repairs do), a pause, the holder
    past = timezone.localdate() - dt.timedelta(days=3)
    Deadline.objects.filter(case=case, kind=K.ACCEPT).update(due_on=past)
    assert _rows(case) == {(K.ACCEPT, past, office, world.sibling.pk)}
    Deadline.objects.filter(case=case).update(paused=True)
    assert _rows(case) == set()
    Deadline.objects.filter(case=case).update(paused=False)
    Case.objects.filter(pk=case.pk).update(handling_unit=world.street)
    assert _rows(case) == {(K.ACCEPT, past, office, world.street.pk)}
    Case.objects.filter(pk=case.pk).update(handling_unit=None)
    assert _rows(case) == {(K.ACCEPT, past, office, office)}
    # the petitioner's request windows are never obligations; a deleted deadline leaves
    window = Deadline.objects.create(case=case, kind=K.REVIEW_REQUEST, started_on=past, due_on=past)
    assert not OpenDeadline.objects.filter(deadline=window).exists()
    Deadline.objects.filter(case=case, kind=K.ACCEPT).delete()
    assert _rows(case) == set()
    assert openstate.check() == []


def test_damage_is_found_and_repaired(world: World, register: Any) -> None:
    a, b = register(), register()
    OpenDeadline.objects.filter(case=a).update(holder_id=world.sibling.pk)
    OpenDeadline.objects.filter(case=b).delete()
    wrong = openstate.check()
    assert len(wrong) == 2
    out = StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("stats_check", stdout=out, stderr=StringIO())
    assert "未完成期限表不符 2 条" in out.getvalue()
    out = StringIO()
    call_command("stats_check", "--repair", stdout=out, stderr=StringIO())
    assert "已修复，复核一致。" in out.getvalue()
    assert openstate.check() == []


def test_ensure_reinstalls_a_dropped_trigger_and_refills(world: World, register: Any) -> None:
    table = Deadline._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DROP TRIGGER cases_opendl_ins ON {table}")
        else:
            cur.execute("DROP TRIGGER cases_opendl_ins")
    case = register()  # its 登记 deadline is written without the trigger
    assert not OpenDeadline.objects.filter(case=case).exists()
    assert openstate.check() != []
    assert openstate.ensure() is True
    assert openstate.installed() == set(openstate.TRIGGERS)
    assert _rows(case) == {(K.ROUTE, _due(case, K.ROUTE), world.office.pk, world.office.pk)}
    assert openstate.check() == []
