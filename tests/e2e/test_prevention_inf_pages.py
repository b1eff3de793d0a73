"""信息员 pages in a browser (tag inf): the phone form works without JavaScript at 390×844
(a routine report, a report for a unit that is not mine, a double tap), the phone pages pass
axe-core, and the staff network page appoints an informant."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e import axe
from tests.e2e.axe import axe_check
from tests.e2e.conftest import SHOTS, login
from tests.prevention._inf_util import make_net
from xinfang.prevention.models import Informant, InformantReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

a11y_page = axe.a11y_page
PHONE = {"width": 390, "height": 844}


def test_phone_form_without_javascript(browser: Any, live_server: Any, world: Any) -> None:
    make_net(world)
    vendor = (os.environ.get("DATABASE_URL", "") and "pg") or "sqlite"
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    try:
        login(page, live_server, "ivan")
        page.goto(f"{live_server.url}/prevention/m/new/")
        assert page.is_checked("input[name=urgency][value=routine]")
        page.fill("#id_title", "两户宅基地边界纠纷")
        page.fill("#id_text", "东湖社区3组两户因宅基地边界发生争吵，需要调解。")
        page.fill("#id_place_text", "东湖社区3组")
        page.dblclick("button.pvm-submit")  # a double tap: two posts, the same client_key
        page.wait_for_url("**/prevention/m/*/")
        assert page.locator(".pvm-status").inner_text().startswith("待确认")
        assert InformantReport.objects.count() == 1
        page.goto(f"{live_server.url}/prevention/m/")
        assert page.locator(".pvm-list li").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(
            path=str(SHOTS / f"test_phone_form_without_javascript-{vendor}-home.png"),
            full_page=True,
        )
    finally:
        ctx.close()


def test_phone_pages_pass_axe(a11y_page: Any, live_server: Any, world: Any) -> None:
    net = make_net(world)
    from tests.prevention._inf_util import urgent

    rep = urgent(world, net.ivan)
    a11y_page.set_viewport_size(PHONE)
    login(a11y_page, live_server, "ivan")
    for name, path in [
        ("home", "/prevention/m/"),
        ("new", "/prevention/m/new/?urgent=1"),
        ("report", f"/prevention/m/{rep.pk}/"),
    ]:
        a11y_page.goto(f"{live_server.url}{path}")
        assert axe_check(a11y_page, f"phone-{name}") == []


def test_network_page_appoints(page: Any, live_server: Any, world: Any, shot: Any) -> None:
    make_net(world)
    from django.contrib.auth.models import User

    User.objects.create_user("zhao", password="Xf-test-pass-1", first_name="赵六")
    login(page, live_server, "uma")
    page.goto(f"{live_server.url}/prevention/informants/")
    assert "伊万" in page.locator("table.inf-network").inner_text()
    page.fill("#id_username", "zhao")
    page.select_option("#id_unit", str(world.street.pk))
    page.fill("#id_phone", "13700001111")
    page.click(".inf-add button[type=submit]")
    page.wait_for_url("**/prevention/informants/**")
    assert "已聘任 赵六 为「东湖街道」信息员" in page.content()
    assert Informant.objects.filter(user__username="zhao", unit=world.street).exists()
    shot("network")
