"""The dashboard's breakdown by place: the scope's child units (each with its subtree), 本级,
辖区外 and 属地不明 — grouped in SQL (``query.intake(place_buckets=…)``), each figure equal to
the sum of the places its link names."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import World
from tests.stats.factory import at, bulk_cases
from xinfang.org.models import Unit
from xinfang.stats import dashboard as D
from xinfang.stats import query, rules
from xinfang.stats.periods import Period

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
FEB = Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.fixture
def places(world: World) -> World:
    world.community.division_code = "110105001001"
    world.community.save(update_fields=["division_code"])
    rules.clear_reference_cache()
    march = at("2026-03-05")
    spec = [
        # registered by the street: its own place, its community, the sibling street, none
        (3, {"office_unit": world.street, "place_code": "110105001", "received_at": march}),
        (4, {"office_unit": world.street, "place_code": "110105001001", "received_at": march}),
        (2, {"office_unit": world.street, "place_code": "110105002", "received_at": march}),
        (1, {"office_unit": world.street, "place_code": "", "received_at": march}),
        # registered by the district office: the district itself and the sibling street
        (5, {"place_code": "110105", "received_at": march}),
        (6, {"place_code": "110105002", "headcount": 2, "received_at": march}),
        # February (the previous period): the community only
        (
            7,
            {
                "office_unit": world.street,
                "place_code": "110105001001",
                "received_at": at("2026-02-05"),
            },
        ),
    ]
    bulk_cases(world, spec)
    return world


def _by_label(d: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {p["label"]: (p["batches"], p["persons"]) for p in d["places"]}


def _linked(item: dict[str, Any], period: Period, scope: Unit) -> int:
    """The 批次 of the places the link names, in the scope: what the page behind it counts."""
    ids = tuple(int(v) for v in parse_qs(urlsplit(item["url"]).query)["place"])
    f = query.Filters(units=D.Scope(scope).filters.units, places=ids)
    return query.intake_total(period, f)[0]


def test_the_district_groups_streets_with_their_communities(places: World) -> None:
    w = places
    d = D.build(w.leo, w.district, MARCH, dt.date(2026, 3, 31))
    assert _by_label(d) == {
        "东湖街道": (7, 7),  # the street 3 + its community 4
        "西山街道": (8, 14),
        "示范区本级": (5, 5),
        "属地不明": (1, 1),
    }
    for item in d["places"]:
        assert _linked(item, MARCH, w.district) == item["batches"], item["label"]
    east = next(p for p in d["places"] if p["label"] == "东湖街道")
    ids = {int(v) for v in parse_qs(urlsplit(east["url"]).query)["place"]}
    assert ids == {w.street.pk, w.community.pk}
    # the heat table and the rises use the same buckets: the community's February 7 → March 4
    heat = dict(zip(d["heat"]["columns"], d["heat"]["rows"][0]["cells"], strict=True))
    assert (
        heat["东湖街道"]["batches"]
        + sum(
            r["cells"][d["heat"]["columns"].index("东湖街道")]["batches"]
            for r in d["heat"]["rows"][1:]
        )
        == 7
    )
    assert all(r["place"] != "东湖街道" or r["delta"] > 0 for r in d["rises"])


def test_a_street_sees_its_own_level_its_communities_outside_and_unknown(
    places: World,
) -> None:
    w = places
    d = D.build(w.leo, w.street, MARCH, dt.date(2026, 3, 31))
    assert _by_label(d) == {
        "东湖社区": (4, 4),
        "东湖街道本级": (3, 3),
        "辖区外": (2, 2),  # the sibling street's place, registered by this street
        "属地不明": (1, 1),
    }
    for item in d["places"]:
        assert _linked(item, MARCH, w.street) == item["batches"], item["label"]
    outside = next(p for p in d["places"] if p["label"] == "辖区外")
    assert parse_qs(urlsplit(outside["url"]).query)["place"] == [str(w.sibling.pk)]
    unknown = next(p for p in d["places"] if p["label"] == "属地不明")
    assert parse_qs(urlsplit(unknown["url"]).query)["place"] == ["0"]


def test_buckets_are_read_in_sql_not_per_place(places: World) -> None:
    w = places
    buckets = D.PlaceBuckets(D.Scope(w.district))
    rows = query.intake(
        MARCH, query.Filters(), by=["category_l1", "place_bucket"], place_buckets=buckets.ids
    )
    assert {r["place_bucket"] for r in rows} == {w.street.pk, w.sibling.pk, w.district.pk, 0}
    assert sum(r["batches"] for r in rows) == 21
    assert (
        sum(r["batches"] for r in query.intake(FEB, by=["place_bucket"], place_buckets=buckets.ids))
        == 7
    )
    with pytest.raises(ValueError):
        query.intake(MARCH, by=["place_bucket"])
