"""信息员 pages (tag inf): the network, the report list and detail, the phone pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.prevention._inf_util import make_net, urgent
from xinfang.prevention import informants as I
from xinfang.prevention.models import Alert, Dispute, Informant, InformantReport

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def mobile_post(world: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "client_key": "ck-1",
        "urgency": "urgent",
        "signal": "collective",
        "unit": str(world.community.pk),
        "title": "拆迁户拟集体上访",
        "text": "约30人商量明早到区政府",
        "headcount": "30",
        "expected_at": "2026-12-01T09:00",
        "place_text": "东湖社区广场",
        "destination": "赴区",
    }
    data.update(overrides)
    return data


# --- the network ---------------------------------------------------------------------------


def test_network_lists_units_with_informants_and_flags_unstaffed(world: Any) -> None:
    make_net(world)
    c = client_for(world.uma)
    r = c.get("/prevention/informants/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "伊万" in body and "东湖社区" in body
    assert "王五" not in body  # 西山街道 is outside uma's scope
    r = c.get("/prevention/informants/?staffed=none")
    body = r.content.decode()
    assert "东湖街道" in body and "伊万" not in body and "未配备信息员" in body
    r = c.get("/prevention/informants/?q=伊万")
    assert "东湖社区" in r.content.decode()


def test_network_flags_unstaffed_communities(world: Any) -> None:
    r = client_for(world.leo).get("/prevention/informants/?community=on")
    body = r.content.decode()
    assert "辖区内有 1 个村（社区）未配备信息员" in body and "inf-unstaffed" in body


def test_add_and_end_through_the_page(world: Any) -> None:
    User.objects.create_user("zhao", password="Xf-test-pass-1", first_name="赵六")
    c = client_for(world.uma)
    r = c.post(
        "/prevention/informants/",
        {"action": "add", "username": "nobody", "unit": world.community.pk, "phone": "139"},
    )
    body = r.content.decode()
    assert r.status_code == 400 and "没有这个用户名" in body and 'value="nobody"' in body
    r = c.post(
        "/prevention/informants/",
        {"action": "add", "username": "zhao", "unit": world.community.pk, "phone": "12ab"},
    )
    assert r.status_code == 400 and "联系电话应为7至20位数字" in r.content.decode()
    r = c.post(
        "/prevention/informants/",
        {"action": "add", "username": "zhao", "unit": world.community.pk},
    )
    assert r.status_code == 302
    row = Informant.objects.get(user__username="zhao")
    r = c.post("/prevention/informants/", {"action": "end", "informant": row.pk, "reason": ""})
    assert r.status_code == 400
    r = c.post("/prevention/informants/", {"action": "end", "informant": row.pk, "reason": "调离"})
    assert r.status_code == 302
    row.refresh_from_db()
    assert not row.is_active


def test_staff_of_another_unit_is_refused_on_the_page(world: Any) -> None:
    r = client_for(world.uma).post(
        "/prevention/informants/",
        {"action": "add", "username": "alice", "unit": world.community.pk},
    )
    body = r.content.decode()
    assert r.status_code == 400 and I.ELSEWHERE in body and 'value="alice"' in body
    assert not Informant.objects.exists()


def test_bob_cannot_manage_or_see_donghu_informants(world: Any) -> None:
    net = make_net(world)
    row = Informant.objects.get(user=net.ivan)
    c = client_for(world.bob)
    r = c.post("/prevention/informants/", {"action": "end", "informant": row.pk, "reason": "x"})
    assert r.status_code == 404
    r = c.post(
        "/prevention/informants/",
        {"action": "add", "username": "wang", "unit": world.community.pk},
    )
    assert r.status_code == 400 and "请选择您辖区内的单位" in r.content.decode()


def test_informant_and_outsiders_get_no_staff_pages(world: Any) -> None:
    net = make_net(world)
    c = client_for(net.ivan)
    assert c.get("/prevention/informants/").status_code == 404
    assert c.get("/prevention/reports/").status_code == 302  # → the phone page
    assert client_for(world.sam).get("/prevention/reports/").status_code == 404


# --- reports (staff) -----------------------------------------------------------------------


def test_report_list_urgent_unacknowledged_first_and_filters(world: Any) -> None:
    net = make_net(world)
    I.report_submit(net.ivan, unit=world.community, urgency="routine", title="日常甲", text="情况")
    hot = urgent(world, net.ivan, title="紧急乙")
    I.report_submit(net.wang, unit=world.sibling, urgency="routine", title="西山丙", text="情况")
    c = client_for(world.leo)
    body = c.get("/prevention/reports/").content.decode()
    assert body.index("紧急乙") < body.index("日常甲")
    assert "inf-hot" in body and "有 1 件紧急报告待确认" in body
    body = c.get("/prevention/reports/?urgency=routine").content.decode()
    assert "紧急乙" not in body and "日常甲" in body and "西山丙" in body
    body = c.get(f"/prevention/reports/?unit={world.sibling.pk}").content.decode()
    assert "西山丙" in body and "日常甲" not in body
    body = c.get("/prevention/reports/?q=西山&state=new").content.decode()
    assert "西山丙" in body and "紧急乙" not in body
    body = c.get("/prevention/reports/?date_from=2000-01-01&signal=collective").content.decode()
    assert "紧急乙" in body and "日常甲" not in body
    # bob (西山街道) sees only 西山
    body = client_for(world.bob).get("/prevention/reports/").content.decode()
    assert "西山丙" in body and "紧急乙" not in body
    assert client_for(world.bob).get(f"/prevention/reports/{hot.pk}/").status_code == 404


def test_detail_acknowledge_and_refusals(world: Any) -> None:
    net = make_net(world)
    rep = urgent(world, net.ivan)
    # bob: outside scope → 404 for the page and the act
    bob = client_for(world.bob)
    assert bob.post(f"/prevention/reports/{rep.pk}/act/", {"action": "ack"}).status_code == 404
    # hank: in scope, not a handler → 403 with the message
    r = client_for(world.hank).post(f"/prevention/reports/{rep.pk}/act/", {"action": "ack"})
    assert r.status_code == 403 and "该报告不在您的职责范围内" in r.content.decode()
    leo = client_for(world.leo)
    body = leo.get(f"/prevention/reports/{rep.pk}/").content.decode()
    assert "确认收到" in body and "拟集体上访" in body and "橙色" in body
    r = leo.post(f"/prevention/reports/{rep.pk}/act/", {"action": "ack"})
    assert r.status_code == 302
    rep.refresh_from_db()
    assert rep.state == "acknowledged" and Alert.objects.get().state == "acknowledged"
    r = leo.post(f"/prevention/reports/{rep.pk}/act/", {"action": "ack"})
    assert r.status_code == 400 and "无需重复确认" in r.content.decode()


def test_note_close_and_dispute_forms_keep_input(world: Any) -> None:
    net = make_net(world)
    rep = urgent(world, net.ivan)
    c = client_for(world.uma)
    r = c.post(f"/prevention/reports/{rep.pk}/act/", {"action": "close", "outcome": ""})
    assert r.status_code == 400 and "请填写处置结果" in r.content.decode()
    r = c.post(
        f"/prevention/reports/{rep.pk}/act/",
        {
            "action": "dispute",
            "title": "拆迁补偿纠纷",
            "parties": "",
            "description": "基本情况",
            "risk_level": "high",
            "unit": world.community.pk,
            "headcount": "30",
        },
    )
    body = r.content.decode()
    assert r.status_code == 400 and "请填写当事人" in body and 'value="拆迁补偿纠纷"' in body
    r = c.post(
        f"/prevention/reports/{rep.pk}/act/",
        {
            "action": "dispute",
            "title": "拆迁补偿纠纷",
            "parties": "安置户\n征收办",
            "description": "基本情况",
            "risk_level": "high",
            "unit": world.street.pk,
            "headcount": "30",
        },
    )
    d = Dispute.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/prevention/disputes/{d.pk}/"
    assert d.unit == world.street and d.source == "informant"
    r = c.post(f"/prevention/reports/{rep.pk}/act/", {"action": "note", "text": "已劝返"})
    assert r.status_code == 302
    r = c.post(f"/prevention/reports/{rep.pk}/act/", {"action": "close", "outcome": "已化解"})
    assert r.status_code == 302
    body = c.get(f"/prevention/reports/{rep.pk}/").content.decode()
    assert "已办结" in body and d.number in body and "已劝返" in body


# --- the phone pages -----------------------------------------------------------------------


def test_mobile_home_and_new_form(world: Any) -> None:
    net = make_net(world)
    c = client_for(net.ivan)
    body = c.get("/prevention/m/").content.decode()
    assert "东湖社区" in body and "紧急报告" in body and "日常报告" in body
    body = c.get("/prevention/m/new/?urgent=1").content.decode()
    assert 'value="urgent" checked' in body and 'name="client_key"' in body
    assert body.count("<option value=") == 1  # only my unit
    body = c.get("/prevention/m/new/").content.decode()
    assert 'value="routine" checked' in body
    assert client_for(world.leo).get("/prevention/m/").status_code == 404


def test_mobile_new_bad_input_keeps_everything(world: Any) -> None:
    net = make_net(world)
    c = client_for(net.ivan)
    r = c.post("/prevention/m/new/", mobile_post(world, unit=str(world.sibling.pk)))
    body = r.content.decode()
    assert r.status_code == 400
    assert "您不是「西山街道」的信息员，不能报送该单位的信息" in body
    assert 'value="拆迁户拟集体上访"' in body and "约30人商量明早到区政府" in body
    r = c.post("/prevention/m/new/", mobile_post(world, signal=""))
    body = r.content.decode()
    assert r.status_code == 400 and "紧急报告须选择紧急情形" in body
    assert 'value="ck-1"' in body  # the same key: a later retry is still one report
    r = c.post("/prevention/m/new/", mobile_post(world, headcount="三十"))
    assert r.status_code == 400 and "预计人数请填写数字" in r.content.decode()
    assert not InformantReport.objects.exists()


def test_mobile_double_submit_is_one_report(world: Any) -> None:
    net = make_net(world)
    c = client_for(net.ivan)
    r1 = c.post("/prevention/m/new/", mobile_post(world))
    r2 = c.post("/prevention/m/new/", mobile_post(world))
    rep = InformantReport.objects.get()
    assert r1["Location"] == r2["Location"] == f"/prevention/m/{rep.pk}/"
    assert Alert.objects.count() == 1
    body = c.get(f"/prevention/m/{rep.pk}/").content.decode()
    assert "待确认" in body


def test_mobile_report_state_without_notes_and_only_mine(world: Any) -> None:
    net = make_net(world)
    rep = urgent(world, net.ivan)
    I.report_acknowledge(world.leo, rep)
    I.report_note(world.leo, rep, "内部：联系公安做好预案")
    c = client_for(net.ivan)
    body = c.get(f"/prevention/m/{rep.pk}/").content.decode()
    assert "已确认处置中" in body and "黎奥" in body
    assert "联系公安" not in body
    other = I.report_submit(net.wang, unit=world.sibling, urgency="routine", title="t", text="x")
    assert c.get(f"/prevention/m/{other.pk}/").status_code == 404
    assert c.get(f"/prevention/reports/{other.pk}/").status_code == 404
    # the staff detail of my own report sends me to the phone page
    assert c.get(f"/prevention/reports/{rep.pk}/")["Location"] == f"/prevention/m/{rep.pk}/"


def test_report_list_htmx_partial_and_pages(world: Any) -> None:
    net = make_net(world)
    for n in range(32):
        I.report_submit(
            net.ivan, unit=world.community, urgency="routine", title=f"日常{n:02d}", text="情况"
        )
    c = client_for(world.leo)
    r = c.get("/prevention/reports/?urgency=routine", headers={"HX-Request": "true"})
    body = r.content.decode()
    assert "<html" not in body and "共 32 件" in body and "第 1 / 2 页" in body
    body = c.get("/prevention/reports/?urgency=routine&page=2").content.decode()
    assert "日常00" in body and "日常31" not in body
