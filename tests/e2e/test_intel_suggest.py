"""Suggestions as the clerk sees them: the category panel on the registration form fills in as
she types and "采用" sets the field; the routing action shows the units this office usually
chooses; both end as 智能建议 rows on the timeline with the clerk's choice."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import VALID_ID
from tests.e2e.conftest import login
from tests.intel.conftest import fixture_records
from xinfang.cases.models import Case, CaseEvent, Category
from xinfang.cases.services import case_assign
from xinfang.intel import suggest
from xinfang.intel.classifier import load, train

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAGE = "公司拖欠农民工工资三个月，劳动监察部门不处理，请求帮助讨要工资。"


@pytest.fixture
def active(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    model = load(train(fixture_records()).save(tmp_path / "model"))
    monkeypatch.setattr(suggest, "_active", lambda: (model, SimpleNamespace(version=model.version)))
    return model


def test_category_and_unit_suggestions(page, live_server, world, register, active, shot):
    labour = Category.objects.get(level=1, name="劳动和社会保障")
    for i in range(2):  # this office's history: labour cases go to 东湖街道
        earlier = register(summary=f"欠薪{i}", category_id=labour.pk)
        case_assign(case=earlier, by=world.alice, unit=world.street)

    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/")
    page.wait_for_selector("#intel-suggest >> text=输入诉求摘要")
    page.select_option("#id_channel", "visit")
    page.fill("#id_p-0-name", "张三")
    page.fill("#id_summary", "反映公司拖欠工资")
    page.fill("#id_content", WAGE)
    page.wait_for_selector("#intel-suggest >> text=劳动和社会保障")
    # The same person came before (ID typed): the 口径 panel lists that case first.
    page.fill("#id_p-0-id_number", VALID_ID)
    page.locator("#id_p-0-id_number").blur()
    page.wait_for_selector("#intel-similar >> text=同一信访人")
    assert page.is_visible(f"#intel-suggest >> text={active.version[:8]}")
    shot("01-suggestions")
    page.click("#intel-suggest button[aria-label='采用分类：劳动和社会保障']")
    assert page.input_value("#id_category") == str(labour.pk)
    page.click("#register-submit")
    page.wait_for_selector("text=已登记：")
    case = Case.objects.exclude(summary__startswith="欠薪").get()
    assert case.category_id == labour.pk
    ev = CaseEvent.objects.get(case=case, kind="intel_suggest")
    assert ev.data["top1"] is True and ev.data["model_version"] == active.version

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.wait_for_selector(".timeline >> text=智能建议")
    page.click("#action-assign > summary")
    # the suggestion loads when it comes into view (hx-trigger "intersect once")
    page.locator("#action-assign .route-suggest").scroll_into_view_if_needed()
    page.wait_for_selector("#action-assign >> text=近一年同类 2 件")
    shot("02-unit-suggestions")
    page.click("#action-assign button[aria-label='采用承办单位：东湖街道']")
    assert page.input_value("#id_a_assign-unit") == str(world.street.pk)
    page.click("#action-assign button[type=submit]")
    page.wait_for_selector("h1 .status-assigned")
    route = CaseEvent.objects.get(case=case, kind="intel_suggest", data__stage="route")
    assert route.data["chosen"]["unit_id"] == world.street.pk and route.data["top1"] is True
    page.reload()
    page.wait_for_selector(".timeline >> text=承办单位建议")
    shot("03-timeline")
