"""The whole public path in one browser test, at phone (360×740) and desktop (1366×900) size:
a citizen submits on the portal → the office finds the online petition in its list → it is
交办, 受理 and answered (答复意见书 drafted, approved, checked, served: the lifecycle services,
as tests/e2e/test_replies_flow.py drives them through the staff pages) → the citizen, in a new
browser with only the query code and phone, reads the reply, evaluates it 不满意 and asks for
复查 → the office has the 不满意 task and the 复查 request. Screenshots:
test-output/screenshots/test_citizen_path_*."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import VALID_ID, World, reply_case
from tests.e2e.conftest import SHOTS, login
from xinfang.cases.models import Case, Status
from xinfang.followup.models import OfficeTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture(autouse=True)
def _media_and_rates(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XINFANG_RATES = {name: "0" for name in settings.XINFANG_RATES}


def _shot(page: Any, size: str, step: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    vendor = "pg" if os.environ.get("DATABASE_URL") else "sqlite"
    page.screenshot(
        path=str(SHOTS / f"test_citizen_path-{vendor}-{size}-{step}.png"), full_page=True
    )


def _fits(page: Any, size: str) -> None:
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("size", list(SIZES))
def test_citizen_path(browser: Any, page: Any, live_server: Any, world: World, size: str) -> None:
    citizen = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    web = citizen.new_page()
    web.set_default_timeout(10_000)
    # 1. submit
    web.goto(f"{live_server.url}/portal/")
    web.get_by_role("link", name="我要信访").first.click()
    web.fill("#id_name", "王𪚥芳")
    web.fill("#id_id_number", VALID_ID)
    web.fill("#id_phone", "13812345678")
    web.check("#id_purpose_2")  # 申诉求决
    web.select_option("#id_place_code", "110105001")
    web.fill("#id_summary", "反映小区停车位被占用问题")
    web.fill("#id_content", "小区公共停车位长期被个别商户占用，物业不予处理。🚗")
    web.check("#id_consent")
    web.click("[data-final-submit]")
    web.wait_for_url("**/portal/submit/*/")
    _fits(web, size)
    _shot(web, size, "01")
    web.get_by_role("button", name="确认提交").click()
    web.wait_for_url("**/done/")
    code = web.inner_text("#query-code").strip()
    case = Case.objects.get(query_code=code)
    assert case.channel == "online" and case.office_unit == world.office
    assert case.content.endswith("🚗") and case.parties.get().petitioner.name == "王𪚥芳"
    _fits(web, size)
    _shot(web, size, "02")
    citizen.close()

    # 2. the office sees the online petition like any other case
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/?channel=online")
    page.get_by_role("link", name=case.number).click()
    page.wait_for_selector("text=信访人通过网上信访平台提交")
    reply_case(world, case, text="经调查核实，已责令物业公司清理占用车位，并建立巡查制度。")

    # 3. a new browser: only the query code and the phone
    citizen = browser.new_context(viewport=SIZES[size], locale="zh-CN")
    web = citizen.new_page()
    web.set_default_timeout(10_000)
    web.goto(f"{live_server.url}/track/?code={code}")
    web.fill("#id_secret", "138-1234-5678")
    web.click("main button[type=submit]")
    web.wait_for_url(f"**/portal/cases/{case.pk}/")
    web.wait_for_selector("text=已责令物业公司清理占用车位")
    body = web.inner_text("main")
    for staff in ("艾丽", "韩克", "乌玛", "芮塔", "alice", "hank"):
        assert staff not in body  # unit names only, never a person
    assert "东湖街道" in body
    _fits(web, size)
    _shot(web, size, "03")
    web.check("#ev-unsatisfied")
    web.fill("#id_comment", "车位清理后又被占用")
    web.click("#evaluate button[type=submit]")
    web.wait_for_selector("text=您的评价：不满意")
    web.fill("#id_reason", "清理后不到一周车位又被占用，请求复查。")
    web.click("#review button[type=submit]")
    web.wait_for_selector("text=已收到您的复查请求")
    _fits(web, size)
    _shot(web, size, "04")
    citizen.close()

    case.refresh_from_db()
    assert case.evaluation == "unsatisfied" and case.status == Status.REVIEW_REQUESTED
    assert OfficeTask.objects.filter(case=case).exists()  # the office's 不满意 task
    review = case.events.get(kind="request_review")
    assert review.actor is None and review.data["by_petitioner"] == "portal"
