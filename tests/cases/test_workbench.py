"""/work/: the unit's open cases by urgency, scoped to the user's units; the office's to-dos."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from tests.conftest import World
from xinfang.cases import services as S
from xinfang.cases import workbench as W
from xinfang.cases.models import Case, Deadline, Status

Register = Callable[..., Case]


def _due(case: Case, days_from_today: int) -> None:
    Deadline.objects.filter(case=case, met_at__isnull=True, cancelled_at__isnull=True).exclude(
        kind__in=["review_request", "rereview_request"]
    ).update(due_on=timezone.localdate() + dt.timedelta(days=days_from_today))


def _setup(world: World, register: Register) -> dict[str, Case]:
    cases = {}
    for name, days in [("over5", -5), ("over1", -1), ("soon", 2), ("new_old", 10), ("new", 12)]:
        c = register(summary=f"事项{name}")
        S.case_assign(case=c, by=world.alice, unit=world.street)
        _due(c, days)
        cases[name] = c
    doing = register(summary="事项doing")
    S.case_assign(case=doing, by=world.alice, unit=world.street)
    S.case_sign_in(case=doing, by=world.hank)
    S.case_accept(case=doing, by=world.hank, notice_text="决定受理。")
    _due(doing, 40)
    cases["doing"] = doing
    other = register(summary="别的单位")
    S.case_assign(case=other, by=world.alice, unit=world.sibling)
    cases["other"] = other
    Case.objects.filter(pk=cases["new_old"].pk).update(
        updated_at=timezone.now() - dt.timedelta(days=3)
    )
    return cases


def test_order_groups_and_scope(world: World, register: Register) -> None:
    c = _setup(world, register)
    work = W.work_page(world.hank, W.WorkFilter())
    assert [(g.key, g.count) for g in work.groups] == [
        ("overdue", 2),
        ("due_soon", 1),
        ("new", 2),
        ("doing", 1),
    ]
    assert [r.pk for r in work.rows] == [
        c["over5"].pk,
        c["over1"].pk,
        c["soon"].pk,
        c["new_old"].pk,
        c["new"].pk,
        c["doing"].pk,
    ]
    assert c["other"].pk not in [r.pk for r in work.rows]
    assert work.rows[0].days_over == 5  # type: ignore[attr-defined]
    tab = W.work_page(world.hank, W.WorkFilter(), tab="new")
    assert [r.pk for r in tab.rows] == [c["new_old"].pk, c["new"].pk]
    bob = W.work_page(world.bob, W.WorkFilter())
    assert [r.pk for r in bob.rows] == [c["other"].pk]


def test_filters(world: World, register: Register) -> None:
    c = _setup(world, register)
    assert [r.pk for r in W.work_page(world.hank, W.WorkFilter(q="事项soon")).rows] == [
        c["soon"].pk
    ]
    assert [r.pk for r in W.work_page(world.hank, W.WorkFilter(q=c["doing"].number)).rows] == [
        c["doing"].pk
    ]
    assert [r.pk for r in W.work_page(world.hank, W.WorkFilter(status=Status.ACCEPTED)).rows] == [
        c["doing"].pk
    ]
    overdue = W.work_page(world.hank, W.WorkFilter(deadline="overdue"))
    assert {r.pk for r in overdue.rows} == {c["over5"].pk, c["over1"].pk}


def test_pagination_across_groups(world: World, register: Register, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    c = _setup(world, register)
    monkeypatch.setattr(W, "PAGE", 4)
    p1 = W.work_page(world.hank, W.WorkFilter(), page=1)
    p2 = W.work_page(world.hank, W.WorkFilter(), page=2)
    assert p1.pages == 2
    assert [r.pk for r in p1.rows + p2.rows] == [
        c[k].pk for k in ("over5", "over1", "soon", "new_old", "new", "doing")
    ]


def test_page_and_inline_sign_in(world: World, register: Register) -> None:
    c = _setup(world, register)
    client = Client()
    client.force_login(world.hank)
    page = client.get("/work/").content.decode()
    assert "我的待办" in page and "超期" in page and c["over5"].number in page
    assert c["other"].number not in page
    r = client.post(
        f"/cases/{c['new'].pk}/act/sign_in/",
        {"idempotency_key": "w1", "from": "work"},
        headers={"HX-Request": "true"},
    )
    body = r.content.decode()
    assert f'id="work-row-{c["new"].pk}"' in body and "已签收" in body
    assert Case.objects.get(pk=c["new"].pk).status == Status.SIGNED
    again = client.post(
        f"/cases/{c['new'].pk}/act/sign_in/",
        {"idempotency_key": "w1", "from": "work"},
        headers={"HX-Request": "true"},
    )
    assert f'id="work-row-{c["new"].pk}"' in again.content.decode()
    # another unit's case: 404
    assert (
        client.post(
            f"/cases/{c['other'].pk}/act/sign_in/", {"from": "work"}, headers={"HX-Request": "true"}
        ).status_code
        == 404
    )
    tabbed = client.get("/work/?tab=overdue", headers={"HX-Request": "true"}).content.decode()
    assert c["over5"].number in tabbed and c["doing"].number not in tabbed


def test_office_section(world: World, register: Register) -> None:
    routed = register(summary="待退回")
    S.case_assign(case=routed, by=world.alice, unit=world.street)
    S.case_return(case=routed, by=world.hank, reason="不属于本街道管辖范围")
    fresh = register(summary="新登记")
    ext = register()
    S.case_assign(case=ext, by=world.alice, unit=world.street)
    S.case_sign_in(case=ext, by=world.hank)
    S.case_accept(case=ext, by=world.hank, notice_text="决定受理。")
    S.case_request_extension(case=ext, by=world.hank, days=15, reason="需要多部门会商")
    client = Client()
    client.force_login(world.alice)
    page = client.get("/work/").content.decode()
    assert "信访机构待办" in page
    assert routed.number in page and "不属于本街道管辖范围" in page and "东湖街道" in page
    assert fresh.number in page and ext.number in page and "需要多部门会商" in page
    assert "本单位承办事项" not in page  # alice holds no unit post


def test_not_for_leaders_and_nav(world: World) -> None:
    client = Client()
    client.force_login(world.leo)
    assert client.get("/work/").status_code == 404
    hank = Client()
    hank.force_login(world.hank)
    assert 'href="/work/"' in hank.get("/").content.decode()
