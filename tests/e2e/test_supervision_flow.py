"""督查督办 as people do it: the sweep has run; the supervisor opens /supervision/, filters the
督办 list, and issues a manual 督办 from the case page's panel (HTMX)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.conftest import login
from tests.supervision.conftest import assigned, set_dates
from xinfang.cases.models import CaseEvent
from xinfang.supervision.sweep import run_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sup(world: Any) -> Any:
    from tests.supervision.conftest import sup as make

    return make.__wrapped__(world)  # type: ignore[attr-defined]


def test_supervisor_page_and_manual_supervise(
    page: Any, live_server: Any, sup: Any, register: Any, shot: Any
) -> None:
    case, dl = assigned(sup, register)
    set_dates(dl, started=dt.date(2031, 1, 6), due=dt.date(2031, 1, 15))
    run_sweep(dt.date(2031, 1, 27))

    login(page, live_server, "vera")
    page.goto(f"{live_server.url}/supervision/")
    page.wait_for_selector("#steps-h")
    assert case.number in page.inner_text("body")
    shot("01-page")
    page.select_option("select[name=stage]", "escalate")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "stage=escalate" in url)
    assert "提级督办" in page.inner_text("#steps-h + form + table")

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.fill("#supervision-note", "请限期三日内办结并报告")
    page.click("#supervision button[value=supervise]")
    page.wait_for_selector("text=已督办，承办单位将收到通知")
    shot("02-panel")
    assert CaseEvent.objects.filter(case=case, kind="supervise", actor=sup.vera).exists()
