"""The submission in a real browser at phone size (360×740): fill → review → confirm → the
result page with the query code; the draft kept in the browser and cleared at the end; the same
with JavaScript disabled. Screenshots in test-output/screenshots/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VALID_ID
from tests.e2e.axe import a11y_page as a11y_page  # axe runs in a CSP-bypassing context
from tests.portal.submit.conftest import _media_and_rates as _media_and_rates  # autouse there
from xinfang.cases.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("XINFANG_SCREENSHOTS", "test-output/screenshots"))
DRAFT_KEY = "xf-portal-submit-draft-v1"


def _context(browser: Any, **options: Any) -> Any:
    return browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", **options)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = _context(browser)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    vendor = "pg" if os.environ.get("DATABASE_URL") else "sqlite"
    path = SHOTS / f"portal-submit-{vendor}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _poll(page: Any, expression: str, seconds: float = 6) -> Any:
    """``wait_for_function`` evaluates a string, which the portal's CSP forbids: poll instead."""
    for _ in range(int(seconds * 10)):
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"{expression} stayed empty")


def _fill(page: Any) -> None:
    page.fill("#id_name", "张𠀀三")
    page.fill("#id_id_number", VALID_ID)
    page.fill("#id_phone", "13812345678")
    page.check("#id_purpose_2")
    page.select_option("#id_place_code", "110105001")
    page.fill("#id_summary", "反映小区物业费上涨问题😀")
    page.fill("#id_content", "物业公司未经业主大会同意上调物业费，请求依法处理。")


def test_submit_on_a_phone(phone: Any, live_server: Any, world: Any) -> None:
    page = phone
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/portal/submit/")
    _fill(page)
    # live counter, in code points (😀 is one character)
    assert page.inner_text("#id_summary_counter").startswith("已输入12字")
    # the accused field only for 检举控告
    assert not page.is_visible("#id_accused_text")
    page.check("#id_purpose_1")
    assert page.is_visible("#id_accused_text")
    page.check("#id_purpose_2")
    # a co-signer row added in place (no reload)
    page.fill("#id_c-0-name", "李四")
    page.click("[data-add-cosigner]")
    page.wait_for_selector("#id_c-1-name")
    assert page.evaluate("document.activeElement.id") == "id_c-1-name"
    page.click("text=移除第2位联名人")
    assert page.locator("[data-cosigner-row]").count() == 1
    assert page.input_value("#id_c-TOTAL_FORMS") == "1"
    # the draft: saved while typing, without the ID number
    draft = json.loads(_poll(page, f"localStorage.getItem('{DRAFT_KEY}')"))
    assert draft["fields"]["name"] == "张𠀀三" and "id_number" not in draft["fields"]
    assert VALID_ID not in json.dumps(draft) and "13812345678" not in json.dumps(draft)
    # a 检举控告 is never kept in the browser: choosing it removes the draft
    page.check("#id_purpose_1")
    page.fill("#id_summary", "检举某科长收受好处")
    _poll(page, f"localStorage.getItem('{DRAFT_KEY}') === null")
    page.check("#id_purpose_2")
    page.fill("#id_summary", "反映小区物业费上涨问题😀")
    _poll(page, f"localStorage.getItem('{DRAFT_KEY}')")
    # reload: restored with a notice
    page.goto(f"{live_server.url}/portal/submit/")
    page.wait_for_selector("[data-draft-notice]:not([hidden])")
    assert page.input_value("#id_summary") == "反映小区物业费上涨问题😀"
    assert page.input_value("#id_id_number") == "" and page.input_value("#id_phone") == ""
    _shot(page, "01-form-restored")
    page.fill("#id_id_number", VALID_ID)
    page.fill("#id_phone", "13812345678")
    page.check("#id_consent")
    page.click("[data-final-submit]")
    page.wait_for_url("**/portal/submit/*/")
    assert "110105********002X" in page.inner_text("main")
    _shot(page, "02-review")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_url("**/done/")
    case = Case.objects.get()
    assert page.inner_text("#query-code") == case.query_code
    assert page.inner_text("#case-number") == case.number
    assert page.evaluate(f"localStorage.getItem('{DRAFT_KEY}')") is None
    assert page.is_visible("text=复制查询码")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _shot(page, "03-done")
    names = [p.petitioner.name for p in case.parties.order_by("order")]
    assert names == ["张𠀀三", "李四"] and case.is_joint  # the restored co-signer too
    assert not errors, errors


def test_submit_without_javascript(browser: Any, live_server: Any, world: Any) -> None:
    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/portal/submit/")
        _fill(page)
        assert page.is_visible("#id_accused_text")  # always shown, with its note
        page.fill("#id_c-0-name", "李四")
        page.click("text=再添加一位联名人")
        page.wait_for_selector("#id_c-1-name")
        assert (
            page.input_value("#id_name") == "张𠀀三" and page.input_value("#id_c-0-name") == "李四"
        )
        page.fill("#id_c-1-name", "王五")
        page.click("[data-final-submit]")  # consent missing: errors, values kept
        page.wait_for_selector("#pt-errors")
        assert page.input_value("#id_c-1-name") == "王五"
        _shot(page, "04-nojs-errors")
        page.check("#id_consent")
        page.click("[data-final-submit]")
        page.wait_for_url("**/portal/submit/*/")
        page.get_by_role("button", name="确认提交").click()
        page.wait_for_url("**/done/")
        case = Case.objects.get()
        assert case.is_joint and case.parties.count() == 3
        assert case.query_code in page.inner_text("main")
    finally:
        context.close()


def test_error_states_pass_axe(a11y_page: Any, live_server: Any, world: Any, settings: Any) -> None:
    """The states the shared a11y run does not reach: co-signer and attachment errors, the
    6th-signer message, an expired review page, the rate-limited form."""
    import datetime as dt

    from django.utils import timezone

    from tests.e2e.axe import axe_check
    from xinfang.portal.models import PendingSubmission

    page = a11y_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/portal/submit/")
    _fill(page)
    page.fill("#id_c-0-phone", "123")  # a co-signer without a name, a wrong phone
    page.set_input_files(
        "#id_attachments",
        files=[{"name": "假的.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" * 20}],
    )
    page.click("[data-final-submit]")
    page.wait_for_selector("#pt-errors")
    text = page.inner_text("#pt-errors")
    assert "第1位联名人" in text and "假的.pdf" in text and "个人信息保护告知" in text
    assert page.evaluate("document.activeElement.id") == "pt-errors"
    assert axe_check(page, "submit-errors-cosigner-file") == []
    _shot(page, "05-errors-axe")

    page.fill("#id_c-0-name", "李四")
    page.fill("#id_c-0-phone", "")
    page.check("#id_consent")
    page.click("[data-final-submit]")
    page.wait_for_url("**/portal/submit/*/")
    PendingSubmission.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    page.reload()
    assert "已过期" in page.inner_text("main")
    assert axe_check(page, "submit-expired") == []

    settings.XINFANG_RATES = dict(settings.XINFANG_RATES, portal_submit_ip="1/1h")
    from xinfang.core.ratelimit import rate_hit

    rate_hit("portal_submit_ip", "127.0.0.1")
    page.goto(f"{live_server.url}/portal/submit/")
    _fill(page)
    page.check("#id_consent")
    page.click("[data-final-submit]")
    page.wait_for_selector("#pt-banner")
    assert "提交过于频繁" in page.inner_text("#pt-banner")
    assert page.input_value("#id_summary") == "反映小区物业费上涨问题😀"
    assert axe_check(page, "submit-rate-limited") == []


def test_enter_in_a_field_goes_to_the_review_not_to_add_a_cosigner(
    browser: Any,
    live_server: Any,
    world: Any,
) -> None:
    context = _context(browser, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/portal/submit/")
        _fill(page)
        page.check("#id_consent")
        page.press("#id_phone", "Enter")
        page.wait_for_url("**/portal/submit/*/")
        assert "请核对信访内容" in page.inner_text("h1")
    finally:
        context.close()
