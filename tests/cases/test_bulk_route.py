"""批量分流: each case through case_assign/case_forward, a result per case, no double routing."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent, Status

Register = Callable[..., Case]


def test_bulk_route_results_per_case(world: World, register: Register) -> None:
    a, b, done = register(), register(), register()
    S.case_assign(case=done, by=world.alice, unit=world.sibling)
    results = H.bulk_route(
        by=world.alice,
        case_ids=[a.pk, done.pk, b.pk, 10**9],
        code="assign",
        unit=world.street,
        note="请核查",
    )
    assert [(r.case_id, r.ok) for r in results] == [
        (a.pk, True),
        (done.pk, False),
        (b.pk, True),
        (10**9, False),
    ]
    assert "不能执行「交办」" in results[1].message
    assert results[3].message == "未找到该事项，或不在您的查看范围内"
    for c in (a, b):
        c.refresh_from_db()
        assert (c.status, c.handling_unit) == (Status.ASSIGNED, world.street)
        assert CaseEvent.objects.get(case=c, kind="assign").text == "请核查"


def test_bulk_route_ui_twice_routes_once(world: World, register: Register) -> None:
    a, b = register(), register()
    client = Client()
    client.force_login(world.alice)
    listing = client.get("/cases/").content.decode()
    assert 'form="bulk-form"' in listing and "批量分流所选事项" in listing
    data = {
        "idempotency_key": "bulk-1",
        "code": "forward",
        "unit": str(world.street.pk),
        "note": "转送处理",
        "ids": [str(a.pk), str(b.pk)],
    }
    first = client.post("/cases/bulk-route/", data, headers={"HX-Request": "true"}).content.decode()
    assert "成功 2 件" in first
    second = client.post(
        "/cases/bulk-route/", data, headers={"HX-Request": "true"}
    ).content.decode()
    assert "已提交过，未重复执行" in second and "成功 2 件" in second
    assert CaseEvent.objects.filter(kind="forward").count() == 2
    # nothing selected: a Chinese error
    empty = client.post(
        "/cases/bulk-route/",
        {**data, "ids": [], "idempotency_key": "bulk-2"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "请至少选择一件事项" in empty


def test_bulk_route_only_for_case_officers(world: World, register: Register) -> None:
    a = register()
    for user in (world.rita, world.hank):
        client = Client()
        client.force_login(user)
        assert "bulk-form" not in client.get("/cases/").content.decode()
        r = client.post(
            "/cases/bulk-route/", {"code": "assign", "unit": world.street.pk, "ids": [a.pk]}
        )
        assert r.status_code == 404
    assert Case.objects.get(pk=a.pk).status == Status.REGISTERED


def test_bulk_route_api(world: World, register: Register) -> None:
    a, b = register(), register()
    api = token_client(world.alice)
    body = {"case_ids": [a.pk, b.pk], "action": "assign", "unit_id": world.street.pk, "note": ""}
    r = api.post("/cases/bulk-route", body, **{"Idempotency-Key": "k-1"})
    assert r.status_code == 200, r.content
    assert r.json()["done"] == 2 and r.json()["failed"] == 0
    again = api.post("/cases/bulk-route", body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert CaseEvent.objects.filter(kind="assign").count() == 2
    r = api.post("/cases/bulk-route", {**body, "action": "close"})
    assert r.status_code == 400 and r.json()["field"] == "action"
    # bob sees none of them: every row "not found"
    r = token_client(world.bob).post("/cases/bulk-route", body)
    assert r.status_code == 200 and r.json()["done"] == 0
