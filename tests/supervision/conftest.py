"""Fixtures of the supervision tests: the shared world plus a 督查员 (vera) at the office."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import World, make_user
from xinfang.cases import services as S
from xinfang.cases.models import Case, Deadline, DeadlineKind
from xinfang.org import roles as R


@pytest.fixture
def sup(world: World) -> World:
    from xinfang.supervision.models import EscalationRule
    from xinfang.supervision.seed import seed_rules

    seed_rules(EscalationRule)  # a TransactionTestCase flush removes the migration's rows
    world.vera = make_user("vera", world.office, R.SUPERVISOR, "薇拉")  # type: ignore[attr-defined]
    return world


def assigned(world: World, register: Any, **overrides: Any) -> tuple[Case, Deadline]:
    """A case 交办 to 东湖街道: its open 受理告知 (accept) deadline."""
    case = register(**overrides)
    S.case_assign(case=case, by=world.alice, unit=world.street)
    return case, Deadline.objects.get(case=case, kind=DeadlineKind.ACCEPT)


def set_dates(d: Deadline, *, started: dt.date, due: dt.date) -> None:
    Deadline.objects.filter(pk=d.pk).update(started_on=started, due_on=due)
    d.started_on, d.due_on = started, due
