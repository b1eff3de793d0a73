"""重点人员 and the 预防排查 dashboard as people use them: 艾丽 (办案员) finds 张三 among the
parties of her cases, lists him as a key person (a wrong 包案领导 is refused, input kept), logs a
visit; 黎奥 (领导) opens the district dashboard, reads the map and drills into 东湖街道."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.e2e.conftest import login
from tests.prevention._key_util import build
from tests.prevention.conftest import PV
from xinfang.people.models import KeyPerson
from xinfang.prevention.alerts import alert_raise
from xinfang.prevention.models import Dispute, KeyContact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_key_person_and_dashboard(page: Any, live_server: Any, world: Any, shot: Any) -> None:
    pv = PV(world)
    kw = build(world)
    pv.dispute(title="幸福里物业费纠纷", risk_level="medium", petitioners=[kw.person])
    pv.dispute(title="东湖拆迁补偿纠纷", risk_level="critical", headcount=60)
    late = pv.dispute(
        title="西山工资拖欠",
        by=world.bob,
        place_unit=world.sibling,
        unit=world.sibling,
        risk_level="high",
    )
    Dispute.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=2))
    alert_raise(
        rule="test",
        severity="orange",
        unit=world.community,
        title="东湖社区案件激增",
        dedupe_key="e2e-1",
        notify_now=False,
    )

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/prevention/keys/")
    page.click("text=登记重点人员")
    page.fill("#id_pq", "张")
    page.click("form.lookup-box button[type=submit]")
    page.click("table.key-pick >> text=选择")
    page.fill("#id_reason", "多次扬言赴京上访，情绪激动")
    page.select_option("#id_unit", str(world.sibling.pk))
    page.select_option("#id_leader", str(kw.sue.pk))
    page.fill("#id_plan", "街道每周上门走访；协调解决拆迁补偿。")
    page.fill("#id_review_on", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    # 苏 leads 东湖街道, not 西山街道: refused on the field, everything typed kept
    page.click("form.key-form button[type=submit]")
    page.wait_for_selector("text=包案领导应为西山街道或其上级单位的领导")
    assert page.input_value("#id_reason") == "多次扬言赴京上访，情绪激动"
    page.select_option("#id_unit", str(world.street.pk))
    page.click("form.key-form button[type=submit]")
    page.wait_for_selector("text=已将张三列为重点人员")
    kp = KeyPerson.objects.get()
    assert kp.leader == kw.sue and kp.unit == world.street
    page.select_option("#id_method", "visit")
    page.fill("#id_note", "上门走访，当事人情绪平稳，表示等待补偿方案。")
    page.click("form.key-contact-form button[type=submit]")
    page.wait_for_selector("text=已登记联系记录")
    assert KeyContact.objects.filter(key_person=kp).count() == 1
    body = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert "11010519491231002X" not in body and "幸福里物业费纠纷" in body
    assert kw.case_b.number in body and "内容保密" in body
    shot("01-key-person")

    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/prevention/")
    page.wait_for_selector("svg.unit-map")
    assert page.locator("svg.unit-map a.map-node").count() >= 4
    tiles = page.inner_text(".dash-tiles")
    assert "在办矛盾纠纷" in tiles and "重点人员" in tiles
    shot("02-dashboard-district")
    page.click(f'svg.unit-map a[href="/prevention/?unit={world.street.pk}"]')
    page.wait_for_selector("text=预防排查总览：东湖街道")
    shot("03-dashboard-street")
    page.emulate_media(media="print")
    assert not page.locator(".prevention-nav").is_visible()
    page.emulate_media(media="screen")

    login(page, live_server, "hank")
    page.goto(f"{live_server.url}/prevention/keys/")
    assert "未找到" in page.inner_text("body") or "Not Found" in page.inner_text("body")
