"""Case counters keyed by number prefix: the 0003 migration that rebuilds them from existing
case numbers (both ways), and offices sharing a prefix registering at once (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.conftest import World, make_user, registration
from tests.threads import in_threads, needs_server_db
from xinfang.cases.models import Case, CaseCounter
from xinfang.cases.registration import case_register
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType

BEFORE = ("cases", "0002_seed_reference_data")
AFTER = ("cases", "0003_counter_by_code_deadline_kind_index")


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    """Migrate the cases app back to 0002 for the test; forward to the latest afterwards.
    Use with a transactional, serialized-rollback test: the flush afterwards removes the data
    the migrations seeded, and the rollback puts it back for the tests that follow."""
    ex = MigrationExecutor(connection)
    ex.migrate([BEFORE])
    try:
        yield ex
    finally:
        ex = MigrationExecutor(connection)
        ex.migrate(ex.loader.graph.leaf_nodes())
        # what `migrate` does after migrating (post_migrate) and the executor does not: the
        # OpenDeadline triggers, dropped on the way back, installed again
        from xinfang.cases import openstate

        openstate.ensure(connection)


def _old_world(apps: Any) -> dict[str, Any]:
    """Per-unit counters as 0002 kept them. 区信访局 and 接待中心 have no code and share the
    district's prefix 110105 (the bug: each had its own counter)."""
    Unit_ = apps.get_model("org", "Unit")
    User_ = apps.get_model("auth", "User")
    Case_ = apps.get_model("cases", "Case")
    Counter = apps.get_model("cases", "CaseCounter")
    district = Unit_.objects.create(name="区", unit_type="district", division_code="110105")
    units = {"district": district}
    for key, code in (("office", ""), ("centre", ""), ("street", "110105001")):
        units[key] = Unit_.objects.create(
            name=key, unit_type="department", parent=district, division_code=code
        )
    for unit in units.values():  # the historical model has no save() deriving the path
        up = [district.pk] if unit.pk != district.pk else []
        unit.path = "".join(f"{pk:06d}." for pk in [*up, unit.pk])
        unit.save()
    clerk = User_.objects.create(username="old-clerk")
    at = timezone.now()
    numbers = [
        ("office", "XF-110105-2026-000001"),
        ("office", "XF-110105-2026-000002"),
        ("centre", "XF-110105-2026-000003"),  # issued after a fix-up by hand
        ("office", "XF-110105-2025-000001"),
        ("centre", "XF-110105-2025-000002"),
        ("street", "XF-110105001-2026-000001"),
        ("office", "IMPORTED-0007"),  # not ours: ignored
    ]
    for i, (key, number) in enumerate(numbers):
        Case_.objects.create(
            number=number,
            query_code=f"Q{i:09d}",
            channel="visit",
            purpose="appeal",
            summary="测试",
            received_at=at,
            office_unit=units[key],
            registered_by=clerk,
            registered_at=at,
        )
    for key, year, last in (
        ("office", 2026, 2),
        ("centre", 2026, 1),  # behind the numbers under its prefix
        ("office", 2025, 1),
        ("centre", 2025, 2),
        ("street", 2026, 1),
        ("office", 2024, 5),  # cases archived elsewhere: the counter is not lowered
    ):
        Counter.objects.create(unit=units[key], year=year, last=last)
    return units


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_rebuilds_counters_by_prefix_and_back(executor: MigrationExecutor) -> None:
    old_apps = executor.loader.project_state([BEFORE]).apps
    units = _old_world(old_apps)

    executor.loader.build_graph()
    executor.migrate([AFTER])
    new_apps = executor.loader.project_state([AFTER]).apps
    counters = new_apps.get_model("cases", "CaseCounter").objects.order_by("code", "year")
    assert list(counters.values_list("code", "year", "last")) == [
        ("110105", 2024, 5),
        ("110105", 2025, 2),
        ("110105", 2026, 3),
        ("110105001", 2026, 1),
    ]

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old_apps = executor.loader.project_state([BEFORE]).apps
    counters = old_apps.get_model("cases", "CaseCounter").objects.order_by("unit_id", "year")
    assert list(counters.values_list("unit_id", "year", "last")) == sorted(
        [
            (units["office"].pk, 2025, 1),
            (units["office"].pk, 2026, 2),
            (units["centre"].pk, 2025, 2),
            (units["centre"].pk, 2026, 3),
            (units["street"].pk, 2026, 1),
        ]
    )


# --- two offices, one prefix, at once (PostgreSQL) ----------------------------------------


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_offices_sharing_a_prefix_register_at_once(world: World) -> None:
    centre = Unit.objects.create(
        name="区信访接待中心",
        unit_type=UnitType.DEPARTMENT,
        parent=world.district,
        is_petition_office=True,
    )
    clerk = make_user("clerk", centre, R.RECEPTIONIST)
    desks = [(world.rita, world.office), (clerk, centre)]
    n, per_thread = 4, 5

    def work(i: int) -> list[Case]:
        by, office = desks[i % 2]
        return [case_register(by=by, office=office, reg=registration()) for _ in range(per_thread)]

    results = in_threads(n, work, timeout=60)
    made = [c for r in results for c in (r if isinstance(r, list) else [r])]
    errors = [m for m in made if isinstance(m, BaseException)]
    assert not errors, errors
    year = timezone.localtime(timezone.now()).year
    total = n * per_thread
    assert sorted(c.number for c in made) == [
        f"XF-110105-{year}-{i:06d}" for i in range(1, total + 1)
    ]
    assert set(Case.objects.values_list("office_unit", flat=True)) == {world.office.pk, centre.pk}
    assert CaseCounter.objects.get(code="110105", year=year).last == total
