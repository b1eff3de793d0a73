"""What registration reads per case: cached deadline rules and reference data, one counter
statement, no query-code pre-check — and the caches follow administrators' edits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from xinfang.cases import deadlines
from xinfang.cases import registration as reg_module
from xinfang.cases.models import Case, Category, DeadlineKind, DeadlineRule
from xinfang.core.idcard import id_check_digit
from xinfang.people.services import PetitionerInput

Register = Callable[..., Case]
K = DeadlineKind


def new_person(i: int) -> PetitionerInput:
    first17 = f"11010519800101{i:03d}"
    return PetitionerInput(name=f"王{i}", id_number=first17 + id_check_digit(first17))


def test_a_registration_takes_thirty_three_statements_once_warm(
    world: World, register: Register
) -> None:
    """New person with an ID number, a category and a place: savepoint (the transaction), 4 for
    the person (look up; savepoint, insert, release), earlier case, counter, case, party,
    deadline, event, 3 for the event's audit row (lock the chain head, insert, move the head),
    18 for the statistics (the day and month cells of the intake cube and its five
    projections, of the handling cube and its projection — the 积案 entry 90 days on — the
    case's fact row and its handling spot, in the same transaction:
    xinfang.stats.rollup.register), release. No rule,
    unit, category or query-code reads."""
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    register(category_id=cat.pk, place_code="110105001", petitioners=[new_person(1)])
    with CaptureQueriesContext(connection) as ctx:
        case = register(category_id=cat.pk, place_code="110105001", petitioners=[new_person(2)])
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) <= 33, "\n".join(sqls)
    assert sum("stats_" in s for s in sqls) == 18
    counter = [s for s in sqls if "cases_casecounter" in s]
    assert len(counter) == 1 and "RETURNING" in counter[0]
    assert sum("audit_audithead" in s for s in sqls) == 2  # lock + move, once per case
    for table in ("cases_deadlinerule", "org_unit", "cases_category"):
        assert not any(table in s.split(" WHERE ")[0] for s in sqls), table
    assert case.number.endswith("-000002")


# --- the deadline rule cache -----------------------------------------------------------------


def test_rules_are_read_once_per_process(db: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        assert deadlines.rule_for(K.ROUTE).days == 15
    with django_assert_num_queries(0):
        assert deadlines.rule_for(K.HANDLE).days == 60
        assert deadlines.rule_for(K.ROUTE).days == 15


def test_saving_a_rule_clears_the_cache(db: Any) -> None:
    assert deadlines.rule_for(K.ROUTE).days == 15
    row = DeadlineRule.objects.get(kind=K.ROUTE)
    row.days, row.working_days = 10, True
    row.save()
    spec = deadlines.rule_for(K.ROUTE)
    assert (spec.days, spec.working_days) == (10, True)


def test_deleting_a_rule_falls_back_to_the_national_limit(db: Any) -> None:
    row = DeadlineRule.objects.get(kind=K.HANDLE)
    row.days = 45
    row.save()
    assert deadlines.rule_for(K.HANDLE).days == 45
    row.delete()
    assert deadlines.rule_for(K.HANDLE) == deadlines.RuleSpec(60, False, True, 3)


def test_changes_without_signals_are_seen_after_the_ttl(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's edit (or a bulk update here) sends no signal to this process."""
    assert deadlines.rule_for(K.ROUTE).days == 15
    DeadlineRule.objects.filter(kind=K.ROUTE).update(days=20)
    assert deadlines.rule_for(K.ROUTE).days == 15
    monkeypatch.setattr(deadlines._rules, "ttl", -1.0)
    assert deadlines.rule_for(K.ROUTE).days == 20


def test_registration_uses_an_edited_rule_at_once(world: World, register: Register) -> None:
    register()
    DeadlineRule.objects.filter(kind=K.ROUTE).get().delete()
    DeadlineRule.objects.create(kind=K.ROUTE, days=5, roll_to_workday=False)
    case = register()
    route = case.deadlines.get()
    assert (route.due_on - route.started_on).days == 5


# --- reference data: categories ----------------------------------------------------------------


def test_unknown_category_is_refused_and_known_ones_are_remembered(
    world: World, register: Register, django_assert_num_queries: Any
) -> None:
    from xinfang.core.errors import DomainError

    with pytest.raises(DomainError, match="内容分类不存在") as err:
        register(category_id=999_999)
    assert err.value.field == "category"
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    with django_assert_num_queries(1):
        assert reg_module._category_exists(cat.pk)
    with django_assert_num_queries(0):
        assert reg_module._category_exists(cat.pk)


def test_a_deleted_category_is_forgotten(world: World, register: Register) -> None:
    from xinfang.core.errors import DomainError

    parent = Category.objects.filter(level=2).first()
    assert parent is not None
    fresh = Category.objects.create(name="测试分类", parent=parent, level=3, full_name="测试")
    assert reg_module._category_exists(fresh.pk)
    pk = fresh.pk
    fresh.delete()
    with pytest.raises(DomainError, match="内容分类不存在"):
        register(category_id=pk)
