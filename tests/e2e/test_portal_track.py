"""On a phone (360×740): the petitioner opens the receipt's link, proves access, reads the
reply, evaluates it and asks for 复查 — without a horizontal scrollbar."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, reply_case
from tests.e2e.axe import a11y_page as a11y_page
from xinfang.cases.models import Case, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_track_read_evaluate_request_review_on_a_phone(
    page: Any, live_server: Any, world: World, register: Any, shot: Any
) -> None:
    case = reply_case(
        world, register(), text="经调查核实，物业公司已按业主大会决议恢复原收费标准。"
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/track/?code={case.query_code}")
    assert page.input_value("#id_code") == case.query_code
    page.fill("#id_secret", "13900000000")
    page.click("button[type=submit]")
    page.wait_for_selector("text=查询码或验证信息不正确")
    assert page.input_value("#id_code") == case.query_code  # kept
    assert page.input_value("#id_secret") == ""  # cleared
    shot("01-track-error")
    page.fill("#id_secret", "138 1234 5678")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/portal/cases/{case.pk}/")
    page.wait_for_selector("text=物业公司已按业主大会决议恢复原收费标准")
    _no_sideways_scroll(page)
    shot("02-case-page")

    page.check("#ev-basically")
    page.fill("#id_comment", "处理及时，谢谢")
    page.click("#evaluate button[type=submit]")
    page.wait_for_selector("text=感谢您的评价")
    page.wait_for_selector("text=您的评价：基本满意（网上评价）")
    assert Case.objects.get(pk=case.pk).evaluation == "basically"

    # (a too-short reason is stopped by the browser (minlength) and by the server: test_actions)
    page.fill("#id_reason", "物业费虽已恢复，但多收的费用尚未退还。")
    page.click("#review button[type=submit]")
    page.wait_for_selector("text=已收到您的复查请求")
    assert Case.objects.get(pk=case.pk).status == Status.REVIEW_REQUESTED
    _no_sideways_scroll(page)
    shot("03-after-review")

    reply = case.events.get(kind="reply")
    page.click(f"a[href='/portal/cases/{case.pk}/doc/{reply.pk}/']")
    page.wait_for_selector("h1 >> text=答复意见书")
    # the script unhides it (CSP: no inline JS); it runs after the heading is painted
    page.wait_for_selector("button[data-print]", state="visible")
    shot("04-document")
    page.goto(f"{live_server.url}/portal/cases/{case.pk}/")
    page.click("text=退出查询")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.goto(f"{live_server.url}/portal/cases/{case.pk}/")
    assert page.is_visible("text=未找到该事项")


def test_case_page_with_forms_and_errors_passes_axe(
    a11y_page: Any, live_server: Any, world: World, register: Any
) -> None:
    """The case page as axe sees it with the 评价 and 复查 forms, with an error shown, and the
    printable opinion (the shared a11y test reaches a case without a reply only)."""
    from tests.e2e.axe import axe_check

    page = a11y_page
    case = reply_case(world, register())
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/portal/track/?code={case.query_code}")
    page.fill("#id_secret", "13812345678")
    page.click("button[type=submit]")
    page.wait_for_selector("#h-evaluate")
    assert axe_check(page, "case-with-forms") == []
    page.click("#evaluate button[type=submit]")  # nothing chosen: the browser stops it
    page.evaluate("document.querySelector('#evaluate form').noValidate = true")
    page.click("#evaluate button[type=submit]")
    page.wait_for_selector("#eval-error")
    assert axe_check(page, "case-evaluate-error") == []
    reply = case.events.get(kind="reply")
    page.goto(f"{live_server.url}/portal/cases/{case.pk}/doc/{reply.pk}/")
    assert axe_check(page, "case-document") == []
