"""领导看板 (/stats/): exact figures on a bulk fixture, 同比/环比 wording, scope, empty periods,
bad input, the links to the cases behind each number, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import World
from tests.stats.factory import at, bulk_cases
from xinfang.cases.models import Category
from xinfang.stats import dashboard as D
from xinfang.stats import policy
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, backlog_on

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
STREET_CODE = "110105001"
SIBLING_CODE = "110105002"


def _cats() -> tuple[Category, Category]:
    """Two second-level categories under different first-level ones."""
    first = Category.objects.filter(level=2).order_by("pk").first()
    assert first is not None
    other = (
        Category.objects.filter(level=2).exclude(parent_id=first.parent_id).order_by("pk").first()
    )
    assert other is not None
    return first, other


@pytest.fixture
def data(world: World) -> dict[str, Any]:
    a, b = _cats()
    bulk_cases(
        world,
        [
            # March 2026 (the period): 12 批次, 24 人次
            (6, {"place_code": STREET_CODE, "category": a, "received_at": at("2026-03-02")}),
            (
                2,
                {
                    "headcount": 6,
                    "is_skip_level": True,
                    "place_code": SIBLING_CODE,
                    "category": b,
                    "received_at": at("2026-03-10"),
                },
            ),
            (
                3,
                {
                    "channel": "letter",
                    "is_repeat": True,
                    "place_code": STREET_CODE,
                    "category": a,
                    "received_at": at("2026-03-15"),
                },
            ),
            (
                1,
                {
                    "channel": "phone",
                    "headcount": 3,
                    "office_unit": world.street,
                    "place_code": STREET_CODE,
                    "received_at": at("2026-03-20"),
                },
            ),
            # March 2025 (同比): 5 批次, 9 人次
            (4, {"place_code": STREET_CODE, "category": a, "received_at": at("2025-03-05")}),
            (
                1,
                {
                    "headcount": 5,
                    "place_code": SIBLING_CODE,
                    "category": b,
                    "received_at": at("2025-03-06"),
                },
            ),
            # February 2026 (环比): 5 批次, 5 人次; January 2026: 2 letters
            (5, {"place_code": STREET_CODE, "category": a, "received_at": at("2026-02-10")}),
            (2, {"channel": "letter", "received_at": at("2026-01-20")}),
        ],
    )
    return {"a": a, "b": b}


def _get(client: Client, user: Any, **params: Any) -> Any:
    client.force_login(user)
    return client.get(reverse("stats_dashboard"), params)


def _tile(d: dict[str, Any], key: str) -> dict[str, Any]:
    return next(t for t in d["tiles"] if t["key"] == key)


def test_tiles_exact(client: Client, world: World, data: dict[str, Any]) -> None:
    r = _get(client, world.leo, **MARCH)
    assert r.status_code == 200
    d = r.context["d"]
    t = _tile(d, "all_batches")
    assert t["value"] == 12 and t["ytd"] == 19
    assert [c["text"] for c in t["changes"]] == ["+140%", "+140%"]  # 同比 5, 环比 5
    assert [c["tone"] for c in t["changes"]] == ["up", "up"]
    assert t["ytd_change"]["text"] == "+280%"  # 19 vs 5
    p = _tile(d, "all_persons")
    assert p["value"] == 24 and p["ytd"] == 31
    assert [c["text"] for c in p["changes"]] == ["+167%", "+380%"]  # 24 vs 9; 24 vs 5
    c = _tile(d, "collective_batches")
    assert c["value"] == 2 and c["changes"][0]["text"] == "+100%"
    assert c["changes"][1]["text"] == "新增" and c["changes"][1]["tone"] == "new"
    assert _tile(d, "collective_persons")["value"] == 12
    assert _tile(d, "skip_batches")["value"] == 2
    assert _tile(d, "repeat_batches")["value"] == 3
    assert d["summary"].endswith("3月份，共收到信访事项12批次、24人次，同比分别上升了140%和167%。")
    assert [r["value"] for r in d["rates"]] == ["—", "—"]  # nothing replied or evaluated
    # 积案 (open, received > 90 days ago): all 24 cases once it is past June 2026; the figure is
    # the core's running sum, and 年初 + 本年新增 − 化解
    today = timezone.localdate()
    subtree = Filters(units=policy.subtree_ids(world.district))
    b = d["live"]["backlog"]
    assert b["value"] == backlog_on(today, subtree)[0]["backlog"]
    assert b["value"] == b["since"] + b["new"] - b["solved"]
    if today >= dt.date(2026, 7, 1):
        assert b["value"] == 24
    body = r.content.decode()
    assert "同比 +140%" in body and 'class="chg-up"' in body


def test_breakdowns_trend_and_heat(client: Client, world: World, data: dict[str, Any]) -> None:
    d = _get(client, world.leo, **MARCH).context["d"]
    ch = {x["key"]: (x["batches"], x["persons"]) for x in d["channels"]}
    assert ch["visit"] == (8, 18) and ch["letter"] == (3, 3) and ch["phone"] == (1, 3)
    assert ch["online"] == (0, 0)
    kinds = {x["key"]: (x["batches"], x["persons"]) for x in d["kinds"]}
    assert kinds == {1: (9, 9), 2: (1, 3), 3: (2, 12)}
    a1, b1 = data["a"].parent_id, data["b"].parent_id
    topics = [(x["key"], x["batches"]) for x in d["topics"]]
    assert topics == [(a1, 9), (b1, 2), (0, 1)]
    places = [(x["label"], x["batches"], x["persons"]) for x in d["places"]]
    assert places == [("东湖街道", 10, 12), ("西山街道", 2, 12)]
    trend = {x["start"]: (x["batches"], x["persons"]) for x in d["trend"]}
    assert len(d["trend"]) == 12 and d["trend"][0]["start"] == dt.date(2025, 4, 1)
    assert trend[dt.date(2026, 3, 1)] == (12, 24)
    assert trend[dt.date(2026, 2, 1)] == (5, 5)
    assert trend[dt.date(2026, 1, 1)] == (2, 2)
    assert trend[dt.date(2025, 4, 1)] == (0, 0)
    daily = {x["day"]: x["batches"] for x in d["daily"]}
    assert len(daily) == 31 and daily[dt.date(2026, 3, 2)] == 6 and daily[dt.date(2026, 3, 10)] == 2
    heat = d["heat"]
    assert heat["columns"] == ["东湖街道", "西山街道"]
    rows = {
        r["label"]: [(c["batches"], c["previous"], c["change"]["text"]) for c in r["cells"]]
        for r in heat["rows"]
    }
    a_name = Category.objects.get(pk=a1).name
    b_name = Category.objects.get(pk=b1).name
    assert rows[a_name] == [(9, 5, "+80%"), (0, 0, "0%")]
    assert rows[b_name] == [(0, 0, "0%"), (2, 0, "新增")]
    assert rows["未分类"] == [(1, 0, "新增"), (0, 0, "0%")]
    rises = [(x["topic"], x["place"], x["delta"]) for x in d["rises"]]
    assert rises == [(a_name, "东湖街道", 4), (b_name, "西山街道", 2), ("未分类", "东湖街道", 1)]


def test_every_number_links_to_its_cases(
    client: Client, world: World, data: dict[str, Any]
) -> None:
    d = _get(client, world.leo, **MARCH).context["d"]
    march = Period.parse(*MARCH.values())
    t = _tile(d, "collective_batches")
    assert t["url"] == D.figure_link(
        table="i",
        measure="batches",
        period=march,
        unit=world.district,
        channel_group="visit",
        kind=3,
    )
    q = parse_qs(urlsplit(t["url"]).query)
    assert urlsplit(t["url"]).path == reverse("stats_cases")
    assert q == {
        "table": ["i"],
        "measure": ["batches"],
        "start": ["2026-03-01"],
        "end": ["2026-03-31"],
        "unit": [str(world.district.pk)],
        "channel_group": ["visit"],
        "kind": ["3"],
    }
    assert parse_qs(urlsplit(_tile(d, "skip_batches")["url"]).query)["skip"] == ["1"]
    place = next(x for x in d["places"] if x["label"] == "东湖街道")
    # a street's figure is its whole subtree's: the link names the street and its communities
    assert parse_qs(urlsplit(place["url"]).query)["place"] == [
        str(world.street.pk),
        str(world.community.pk),
    ]
    unclassified = next(x for x in d["topics"] if x["key"] == 0)
    assert parse_qs(urlsplit(unclassified["url"]).query)["category"] == ["0"]
    rate = d["rates"][0]
    assert parse_qs(urlsplit(rate["num_url"]).query)["table"] == ["h"]
    assert parse_qs(urlsplit(rate["num_url"]).query)["measure"] == ["reply_timely"]


def test_figure_link_format() -> None:
    p = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    url = D.figure_link(table="i", measure="persons", period=p, unit=7, place=[3, 4], repeat=True)
    assert url == (
        "/stats/cases/?table=i&measure=persons&start=2026-01-01&end=2026-01-31&unit=7"
        "&place=3&place=4&repeat=1"
    )
    with pytest.raises(TypeError):
        D.figure_link(table="i", measure="batches", period=p, unit=7, colour="red")


def test_street_head_sees_only_his_subtree(
    client: Client, world: World, data: dict[str, Any]
) -> None:
    r = _get(client, world.uma, **MARCH)
    assert r.status_code == 200
    assert r.context["scope"] == world.street
    d = r.context["d"]
    assert _tile(d, "all_batches")["value"] == 1 and _tile(d, "all_persons")["value"] == 3
    units = [u["id"] for u in r.context["scope_units"]]
    assert units == [world.street.pk, world.community.pk]
    for other in (world.sibling, world.district, world.office):
        assert _get(client, world.uma, unit=other.pk, **MARCH).status_code == 404
    assert _get(client, world.uma, unit="abc").status_code == 404


def test_leader_picks_a_unit_in_scope(client: Client, world: World, data: dict[str, Any]) -> None:
    r = _get(client, world.leo, unit=world.street.pk, **MARCH)
    assert r.status_code == 200 and r.context["scope"] == world.street
    assert _tile(r.context["d"], "all_batches")["value"] == 1


@pytest.mark.parametrize("who", ["bob", "hank", "rita", "sam"])
def test_non_readers_get_404(client: Client, world: World, who: str) -> None:
    assert _get(client, getattr(world, who)).status_code == 404
    client.force_login(getattr(world, who))
    assert client.get(reverse("stats_dashboard_print")).status_code == 404


def test_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    r = client.get(reverse("stats_dashboard"))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_empty_period_shows_dashes(client: Client, world: World) -> None:
    r = _get(client, world.alice, start="2020-01-01", end="2020-01-31")
    assert r.status_code == 200
    d = r.context["d"]
    assert all(t["value"] == 0 for t in d["tiles"])
    assert _tile(d, "all_batches")["changes"][0]["text"] == "0%"
    assert [x["value"] for x in d["rates"]] == ["—", "—"]
    assert d["summary"] == "2020年1月份，共收到信访事项0批次、0人次。"
    body = r.content.decode()
    assert "本期无信访事项" in body and "没有超期事项" in body


def test_bad_period_keeps_input(client: Client, world: World) -> None:
    r = _get(client, world.leo, start="2026-03-31", end="2026-03-01")
    assert r.status_code == 200
    body = r.content.decode()
    assert "统计期的结束日期不能早于开始日期" in body
    assert 'value="2026-03-31"' in body and 'value="2026-03-01"' in body
    r = _get(client, world.leo, start="2026-02-30", end="2026-03-01")
    assert "请输入有效日期" in r.content.decode()
    r = _get(client, world.leo, start="2026-03-01")
    assert "请同时填写开始日期和结束日期" in r.content.decode()


def test_default_period_is_month_to_date() -> None:
    today = dt.date(2026, 3, 17)
    p = D.default_period(today)
    assert (p.start, p.end) == (dt.date(2026, 3, 1), today)
    prev = D.previous_of(p)
    assert (prev.start, prev.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 17))
    # 31 March → compared with the whole of February (28 days in 2026)
    p = D.default_period(dt.date(2026, 3, 31))
    assert p.kind == "month" and D.previous_of(p).end == dt.date(2026, 2, 28)
    # month to the 30th in a short previous month: capped at its last day
    prev = D.previous_of(Period(dt.date(2026, 3, 1), dt.date(2026, 3, 30)))
    assert prev.end == dt.date(2026, 2, 28)
    ytd = D.ytd_of(Period(dt.date(2026, 3, 1), dt.date(2026, 3, 17)))
    assert (ytd.start, ytd.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 17))
    assert ytd.same_last_year().end == dt.date(2025, 3, 17)


def test_print_layout(client: Client, world: World, data: dict[str, Any]) -> None:
    client.force_login(world.leo)
    r = client.get(reverse("stats_dashboard_print"), MARCH)
    assert r.status_code == 200
    body = r.content.decode()
    assert "<nav" not in body and "data:image/svg+xml" in body and "data-print" in body
    assert re.search(r'alt="近12个月信访量。批次：', body)


def test_dashboard_page_has_print_button_and_charts(
    client: Client, world: World, data: dict[str, Any]
) -> None:
    body = _get(client, world.leo, **MARCH).content.decode()
    assert "data-print" in body and reverse("stats_dashboard_print") in body
    assert (
        body.count('src="data:image/svg+xml;base64,') == 6
    )  # trend, daily, channels, kinds, topics, places
    assert reverse("intel_hotspots") in body


def test_figures_agree_with_the_cases_behind_them(
    client: Client, world: World, data: dict[str, Any]
) -> None:
    """Follow the intake links of the dashboard to /stats/cases/ (helper fig's page): the
    figure stated there and the count of cases equal the dashboard's number."""
    d = _get(client, world.leo, **MARCH).context["d"]
    pairs: list[tuple[int, str]] = []
    for t in d["tiles"]:
        pairs.append((t["value"], t["url"]))
        pairs.append((t["ytd"], t["ytd_url"]))
    for key in ("channels", "kinds", "topics", "places"):
        for row in d[key]:
            pairs += [(row["batches"], row["url"]), (row["persons"], row["persons_url"])]
    for row in d["trend"][-3:]:
        pairs += [(row["batches"], row["url"]), (row["persons"], row["persons_url"])]
    for r in d["heat"]["rows"]:
        pairs += [(c["batches"], c["url"]) for c in r["cells"] if c["url"]]
    pairs += [(r["batches"], r["url"]) for r in d["rises"]]
    assert len(pairs) > 40
    for value, url in pairs:
        r = client.get(url)
        assert r.status_code == 200, url
        found = r.context["found"]
        assert found.figure == value, url
        measure = parse_qs(urlsplit(url).query)["measure"][0]
        assert (found.cases if measure == "batches" else found.persons) == value, url
