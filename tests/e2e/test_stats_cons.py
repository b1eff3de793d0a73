"""更正登记信息 as the clerk uses it: the panel on the case page opens from the keyboard, a
wrong place code is refused in Chinese with the input kept, the correction goes through, the
timeline shows it and the January figures move to the corrected category."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.stats.factory import at
from xinfang.cases.models import Case, Category
from xinfang.stats import rollup
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, intake_total

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_corrects_the_category_after_the_month_closed(
    page: Any, live_server: Any, world: Any, register: Any, shot: Any
) -> None:
    a, b = Category.objects.filter(level=2, is_active=True).order_by("pk")[:2]
    case = register(category_id=a.pk, received_at=at("2026-01-15"), headcount=2)
    january = Period.month(2026, 1)

    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    summary = page.locator("#case-correct summary")
    summary.focus()
    page.keyboard.press("Enter")  # <details> opens from the keyboard
    form = page.locator("#case-correct form")
    expect(form).to_be_visible()
    assert form.locator("select[name=corr-category_id]").input_value() == str(a.pk)
    form.locator("input[name=corr-place_code]").fill("1101AB")
    form.locator("textarea[name=corr-reason]").fill("属地代码登记错误")
    shot("01-form")
    form.locator("button[type=submit]").click()
    error = page.locator("#case-correct .error")
    expect(error).to_contain_text("问题属地代码应为6至12位数字")
    assert page.locator("input[name=corr-place_code]").input_value() == "1101AB"
    assert page.locator("textarea[name=corr-reason]").input_value() == "属地代码登记错误"
    shot("02-error-kept")

    form = page.locator("#case-correct form")
    form.locator("input[name=corr-place_code]").fill("110105001")
    form.locator("select[name=corr-category_id]").select_option(str(b.pk))
    form.locator("input[name=corr-headcount]").fill("6")
    form.locator("textarea[name=corr-reason]").fill("复核材料：分类、人数、属地登记有误")
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已更正登记信息")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("更正登记信息")
    expect(timeline).to_contain_text("人数：2 → 6")
    expect(page.locator("dl.facts")).to_contain_text("110105001")
    shot("03-done")

    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.category_id, fresh.headcount, fresh.is_collective) == (b.pk, 6, True)
    office = Filters(units=(world.office.pk,))
    assert intake_total(january, office.narrow(categories=(a.pk,))) == (0, 0)
    assert intake_total(january, office.narrow(categories=(b.pk,))) == (1, 6)
    assert rollup.check().ok

    login(page, live_server, "rita")  # 接待员: sees the case, no correction panel
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("main")).to_contain_text(fresh.number)
    assert page.locator("#correction-panel").count() == 0
