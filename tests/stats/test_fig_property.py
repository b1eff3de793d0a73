"""The figure == the cases behind it, over many filter combinations on a random bulk fixture
(and the same through the page: the list's count)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from xinfang.cases.models import Category
from xinfang.stats import rules
from xinfang.stats.forms import figure_url, parse
from xinfang.stats.query import intake_total
from xinfang.stats.table_views import behind, read_scope

from .factory import at, bulk_cases
from .test_fig_views import login

CHANNELS = [
    "visit",
    "collective_visit",
    "letter",
    "phone",
    "online",
    "email",
    "fax",
    "leader_day",
    "from_above",
]


def _random_world(world: Any, rng: random.Random) -> dict[str, Any]:
    cats = list(Category.objects.filter(level__in=(1, 2, 3)).order_by("id")[:12])
    units = [world.office, world.street, world.community, world.sibling]
    codes = ["", "110105", "110105001", "110105002", "110105001003"]
    specs = []
    for _ in range(160):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 120))
        specs.append(
            (
                1,
                {
                    "received_at": at(day.isoformat(), rng.randrange(0, 24)),
                    "channel": rng.choice(CHANNELS),
                    "purpose": rng.choice(["suggestion", "accusation", "appeal"]),
                    "headcount": rng.choice([1, 1, 1, 2, 3, 4, 5, 12]),
                    "category": rng.choice([None, *cats]),
                    "office_unit": rng.choice(units),
                    "place_code": rng.choice(codes),
                    "is_repeat": rng.random() < 0.2,
                    "is_skip_level": rng.random() < 0.1,
                },
            )
        )
    bulk_cases(world, specs)
    return {"cats": cats, "units": units}


def test_figure_equals_cases_behind(world: Any) -> None:
    rng = random.Random(8)
    data = _random_world(world, rng)
    l2s = sorted({rules.CategoryMap().l2(c.pk) for c in data["cats"]} | {0})
    l1s = sorted(set(Category.objects.filter(level=1).values_list("pk", flat=True)[:4]))
    places = [0, world.district.pk, world.street.pk, world.sibling.pk]
    for _ in range(60):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(0, 90))
        end = start + dt.timedelta(days=rng.randrange(0, 60))
        q: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat(), "table": "i"}
        options = {
            "channel_group": list(rules.CHANNEL_GROUPS),
            "channel": CHANNELS,
            "kind": ["1", "2", "3"],
            "category": [str(x) for x in l2s],
            "category_l1": [str(x) for x in l1s],
            "place": [str(x) for x in places],
            "purpose": ["suggestion", "accusation", "appeal"],
            "repeat": ["1", "0"],
            "skip": ["1", "0"],
            "office": [str(u.pk) for u in data["units"]],
        }
        for key in rng.sample(sorted(options), rng.randrange(0, 4)):
            q[key] = rng.choice(options[key])
        for measure in ("batches", "persons"):
            p = parse({**q, "measure": measure}, today=dt.date(2026, 6, 1))
            assert p.ok, p.errors
            scope = read_scope(world.leo, p)
            found = behind(p, scope, world.leo)
            batches, persons = intake_total(p.period, p.filters(scope.subtree))  # type: ignore[arg-type]
            assert found.figure == (batches if measure == "batches" else persons), q
            assert found.cases == batches and found.persons == persons, repr((q, batches, persons))


def test_page_count_equals_figure(world: Any) -> None:
    rng = random.Random(3)
    _random_world(world, rng)
    c = login(world.alice)
    for by in ("channel_group", "kind", "place_id", "purpose"):
        t = c.get("/stats/intake/", {"start": "2026-01-01", "end": "2026-04-30", "by": by}).context[
            "table"
        ]
        for row in t.rows:
            page = c.get(row.batches.url)
            found = page.context["found"]
            assert page.context["page"].paginator.count + found.hidden == row.batches.value


def test_handling_measure_behind(world: Any, register: Any) -> None:
    """A handling figure (办理, table=h) lists the cases whose events make it."""
    from tests.conftest import reply_case

    case = register()
    reply_case(world, case)
    today = dt.date.today()
    url = figure_url(
        table="h",
        measure="reply_done",
        start=today - dt.timedelta(days=1),
        end=today + dt.timedelta(days=1),
        unit=world.district.pk,
    )
    r = login(world.leo).get(url)
    assert r.status_code == 200
    found = r.context["found"]
    assert found.figure == 1 and found.cases == 1
    assert case.number in r.content.decode()
    # hunit narrows to one handling unit; another unit has none
    r = login(world.leo).get(url + f"&hunit={world.sibling.pk}")
    assert r.context["found"].figure == 0
    r = login(world.leo).get(url + "&channel_group=visit")
    assert r.status_code == 400 and "办理指标只能按" in r.content.decode()
    r = login(world.uma).get(
        url.replace(f"unit={world.district.pk}", f"unit={world.street.pk}")
        + f"&hunit={world.office.pk}"
    )
    assert r.status_code == 404


def test_handling_candidates_stay_in_scope(world: Any, register: Any) -> None:
    """The cases behind a handling figure of one street are looked for only among the cases the
    street may have held (registered there, held now, routed there, acted on): a case routed
    to the street and sent on still counts there; one that never touched it is not recomputed."""
    from xinfang.cases import services as S
    from xinfang.stats.models import HandlingSpot
    from xinfang.stats.periods import Period
    from xinfang.stats.query import Filters, cases_behind

    passed_on = register()
    S.case_assign(case=passed_on, by=world.alice, unit=world.street)
    S.case_return(case=passed_on, by=world.hank, reason="不属于本街道职责范围")
    S.case_assign(case=passed_on, by=world.alice, unit=world.sibling)
    elsewhere = register()
    S.case_assign(case=elsewhere, by=world.alice, unit=world.sibling)
    today = dt.date.today()
    period = Period(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    street = Filters(units=(world.street.pk, world.community.pk))
    sibling = Filters(units=(world.sibling.pk,))

    def handling_candidates(period: Period, filters: Filters) -> set[int]:
        """The cases with a handling cell (a HandlingSpot row) in a month of the period at one
        of the units."""
        qs = HandlingSpot.objects.filter(
            month__gte=period.start.replace(day=1), month__lte=period.end
        )
        if filters.units is not None:
            qs = qs.filter(unit_id__in=filters.units)
        return set(qs.values_list("case_id", flat=True))

    assert handling_candidates(period, street) == {passed_on.pk}
    assert handling_candidates(period, sibling) == {passed_on.pk, elsewhere.pk}
    assert handling_candidates(period, Filters()) == {passed_on.pk, elsewhere.pk}
    assert cases_behind(period, street, "h", "assigned") == [passed_on.pk]
    assert cases_behind(period, sibling, "h", "assigned") == sorted([passed_on.pk, elsewhere.pk])
    assert cases_behind(period, Filters(units=(world.office.pk,)), "h", "assigned") == []
