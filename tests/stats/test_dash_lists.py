"""领导看板: the live figures and lists (超期, 督办, 领导批示) from real case flows, 检举控告
content never shown, the API, and a fixed number of queries whatever the data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World, make_user
from tests.stats.factory import at, bulk_cases
from xinfang.cases import services as S
from xinfang.cases.confidential import PLACEHOLDER
from xinfang.cases.models import Category, Deadline
from xinfang.org import roles as R

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def flows(world: World, register: Any) -> dict[str, Any]:
    """Two old cases routed to 东湖街道 (their 受理 deadline long past), one a 检举控告; a
    督办 on the first and a 领导批示 on each."""
    old = timezone.now() - dt.timedelta(days=60)
    plain = register(received_at=old, summary="反映小区物业费上涨问题")
    secret = register(
        received_at=old,
        purpose="accusation",
        summary="检举某某收受财物",
        content="检举某某在工程验收中收受财物。",
    )
    for case in (plain, secret):
        S.case_assign(case=case, by=world.alice, unit=world.street)
    # the unit's 受理 deadline runs from the assignment (today): make it long past
    Deadline.objects.filter(case__in=[plain, secret], met_at__isnull=True).update(
        due_on=timezone.localdate() - dt.timedelta(days=10)
    )
    sue = make_user("sue", world.district, R.SUPERVISOR, "苏")
    from xinfang.supervision.services import case_supervise

    plain.refresh_from_db()
    case_supervise(case=plain, by=sue, stage="supervise", note="请加快办理")
    from xinfang.instructions.services import instruct

    due = timezone.localdate() + dt.timedelta(days=5)
    for case in (plain, secret):
        case.refresh_from_db()
        instruct(case=case, by=world.leo, text="请东湖街道抓紧办理，按期答复群众。", due_on=due)
    return {"plain": plain, "secret": secret}


def _d(client: Client, user: Any, **params: Any) -> dict[str, Any]:
    client.force_login(user)
    r = client.get(reverse("stats_dashboard"), params)
    assert r.status_code == 200
    d: dict[str, Any] = r.context["d"]
    d["_body"] = r.content.decode()
    return d


def test_live_figures_and_lists(client: Client, world: World, flows: dict[str, Any]) -> None:
    d = _d(client, world.leo)
    assert d["live"]["open"]["value"] == 2
    assert d["live"]["overdue"]["value"] == 2
    assert d["live"]["overdue"]["url"] == (
        f"{reverse('case_list')}?deadline=overdue&unit={world.district.pk}"
    )
    numbers = {c["number"] for c in d["overdue_cases"]}
    assert numbers == {flows["plain"].number, flows["secret"].number}
    assert all(c["days"] > 0 for c in d["overdue_cases"])
    assert [c["number"] for c in d["supervised"]] == [flows["plain"].number]
    assert d["supervised"][0]["stage"] == "督办"
    assert {c["number"] for c in d["instructions"]} == numbers
    secret = next(c for c in d["instructions"] if c["number"] == flows["secret"].number)
    assert secret["text"] == PLACEHOLDER and secret["summary"] == PLACEHOLDER
    body = d["_body"]
    assert "检举某某" not in body and PLACEHOLDER in body
    assert "反映小区物业费上涨问题" in body
    assert reverse("case_detail", args=[flows["plain"].pk]) in body


def test_lists_follow_scope(client: Client, world: World, flows: dict[str, Any]) -> None:
    # 东湖街道's head: both cases are handled there
    d = _d(client, world.uma)
    assert d["live"]["overdue"]["value"] == 2 and len(d["overdue_cases"]) == 2
    # the leader looking at 西山街道: nothing there
    d = _d(client, world.leo, unit=world.sibling.pk)
    assert d["live"]["open"]["value"] == 0 and d["live"]["overdue"]["value"] == 0
    assert d["overdue_cases"] == [] and d["supervised"] == [] and d["instructions"] == []
    assert "没有超期事项" in d["_body"] and "没有待落实的领导批示" in d["_body"]


def test_rates_from_handling(client: Client, world: World, register: Any) -> None:
    from tests.conftest import reply_case

    today = timezone.localdate()
    case = register()
    reply_case(world, case)
    S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
    d = _d(client, world.leo, start=today.replace(day=1).isoformat(), end=today.isoformat())
    rates = {r["label"]: r for r in d["rates"]}
    assert rates["按期办结率"]["value"] == "100.0%"
    assert (rates["按期办结率"]["num"], rates["按期办结率"]["den"]) == (1, 1)
    assert rates["满意率"]["value"] == "100.0%"


def _count_queries(client: Client, user: Any) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(reverse("stats_dashboard"), MARCH)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_data(
    client: Client, world: World, flows: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    cats = list(Category.objects.filter(level=2).values_list("pk", flat=True)[:12])
    one = {"received_at": at("2026-03-02"), "category_id": cats[0], "place_code": "110105001"}
    bulk_cases(world, [(1, one)])
    small = _count_queries(client, world.leo)
    specs = []
    for i, cat in enumerate(cats):
        specs.append(
            (
                5,
                {
                    "category_id": cat,
                    "place_code": "110105001" if i % 2 else "110105002",
                    "channel": ("visit", "letter", "phone", "online")[i % 4],
                    "headcount": 1 + i,
                    "received_at": at(f"2026-{1 + i % 3:02d}-{1 + i:02d}"),
                },
            )
        )
    bulk_cases(world, specs)
    big = _count_queries(client, world.leo)
    assert big == small
    with django_assert_max_num_queries(50):
        client.get(reverse("stats_dashboard"), MARCH)


def test_api_same_data(world: World, flows: dict[str, Any]) -> None:
    bulk_cases(world, [(4, {"received_at": at("2026-03-02"), "headcount": 2})])
    api = token_client(world.leo)
    r = api.get("/stats/dashboard", **MARCH)
    assert r.status_code == 200, r.content
    d = r.json()
    tiles = {t["key"]: t for t in d["tiles"]}
    assert tiles["all_batches"]["value"] == 4 and tiles["all_persons"]["value"] == 8
    assert d["period"]["start"] == "2026-03-01"
    assert d["live"]["overdue"]["value"] == 2
    assert tiles["all_batches"]["url"].startswith("/stats/cases/?table=i&measure=batches")
    # scope: a unit outside → 404; a street head for the district → 404; non-readers → 404
    assert (
        token_client(world.uma).get("/stats/dashboard", unit=world.district.pk).status_code == 404
    )
    assert token_client(world.uma).get("/stats/dashboard", unit=world.street.pk).status_code == 200
    assert token_client(world.bob).get("/stats/dashboard").status_code == 404
    bad = api.get("/stats/dashboard", start="2026-03-31", end="2026-03-01")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "统计期的结束日期不能早于开始日期"
