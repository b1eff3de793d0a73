"""A unit's 承办人 opens /work/ (我的待办), sees the overdue case first and signs a new one in
inline (HTMX, the existing 签收 endpoint), without leaving the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import registration
from tests.e2e.conftest import login
from xinfang.cases import services as S
from xinfang.cases.models import Case, Deadline, Status
from xinfang.cases.registration import case_register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_workbench_inline_sign_in(page, live_server, world, shot):  # type: ignore[no-untyped-def]
    made = []
    for summary, days in [("反映小区噪音扰民问题", -4), ("反映物业费上涨问题", 9)]:
        case = case_register(by=world.rita, office=world.office, reg=registration(summary=summary))
        S.case_assign(case=case, by=world.alice, unit=world.street)
        Deadline.objects.filter(case=case, met_at__isnull=True).update(
            due_on=timezone.localdate() + dt.timedelta(days=days)
        )
        made.append(case)
    overdue, fresh = made
    login(page, live_server, "hank")
    page.click("nav >> text=我的待办")
    page.wait_for_selector("text=本单位承办事项")
    rows = page.locator("table.work-list tbody tr")
    assert rows.nth(0).inner_text().startswith(overdue.number)
    assert "超期" in rows.nth(0).inner_text()
    shot("01-workbench")
    page.click(f"#work-row-{fresh.pk} button:has-text('签收')")
    page.wait_for_selector(f"#work-row-{fresh.pk} >> text=已签收")
    assert Case.objects.get(pk=fresh.pk).status == Status.SIGNED
    assert page.url.endswith("/work/")
    shot("02-signed-inline")
