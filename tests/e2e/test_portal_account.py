"""The account in a real browser on a phone (360×740), CSP on: register with the text-message
code → log out → log in → 我的信访 lists the desk case with the phone; axe-core on each page.
Screenshots: test-output/screenshots/portal-account-*."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.e2e.axe import PHONE as PHONE_SIZE
from tests.e2e.axe import axe_check
from tests.e2e.conftest import SHOTS
from tests.portal.account.conftest import PASSWORD, PHONE, last_code
from tests.portal.account.conftest import rates as rates
from tests.portal.account.conftest import sms as sms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"portal-account-{name}.png"), full_page=True)


def _axe(browser: Any, name: str, go: Any, cookies: list[Any] | None = None) -> None:
    """axe on the page ``go(page)`` reaches, in a CSP-bypassing context of its own (axe is an
    injected script), with ``cookies`` (a logged-in session) if given."""
    context = browser.new_context(viewport=PHONE_SIZE, locale="zh-CN", bypass_csp=True)
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.set_default_timeout(10_000)
        go(page)
        assert axe_check(page, name) == []
    finally:
        context.close()


def _register_errors(base: str) -> Any:
    """Step 2 of 注册 with a code error and a password error on the page."""

    def go(page: Any) -> None:
        page.goto(f"{base}/portal/register/")
        page.locator("#id_phone").fill("13900001111")
        page.get_by_role("button", name="获取验证码").click()
        page.locator("#id_code").fill("12")
        page.locator("#id_password").fill("123")
        page.locator("#id_password2").fill("124")
        page.get_by_role("button", name="注册并登录").click()
        page.wait_for_selector("#id_code-error")
        page.wait_for_selector("#id_password-error")

    return go


def _login_error(base: str) -> Any:
    def go(page: Any) -> None:
        page.goto(f"{base}/portal/login/")
        page.locator("#id_phone").fill("1380000")
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("#id_phone-error")

    return go


def test_register_login_and_list_on_a_phone(
    browser: Any,
    live_server: Any,
    world: World,
    register: Any,
    sms: list[tuple[str, str]],
) -> None:
    context = browser.new_context(viewport=PHONE_SIZE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    base = live_server.url
    try:
        page.goto(f"{base}/portal/login/")
        page.get_by_role("link", name="注册账号").click()
        page.wait_for_url(f"{base}/portal/register/")
        page.locator("#id_phone").fill(PHONE)
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_selector("text=验证码已发送（如该号码可用）")
        _shot(page, "01-code-sent")
        code = last_code(sms)
        page.locator("#id_code").fill(code)
        page.locator("#id_password").fill("12345678")  # refused: all digits
        page.locator("#id_password2").fill("12345678")
        page.locator("#id_name").fill("张先生")
        page.get_by_role("button", name="注册并登录").click()
        page.wait_for_selector("#id_password-error")
        assert page.locator("#id_name").input_value() == "张先生"
        assert page.locator("#id_password").get_attribute("aria-invalid") == "true"
        _shot(page, "02-password-error")
        page.locator("#id_code").fill(code)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#id_password2").fill(PASSWORD)
        page.get_by_role("button", name="注册并登录").click()
        page.wait_for_url(f"{base}/portal/account/")
        page.wait_for_selector("text=注册成功")
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_url(f"{base}/portal/")
        # registered at the desk after the account was made: 张三, phone PHONE
        desk_case = register(summary="反映小区路灯损坏问题")
        accusation = register(purpose="accusation", summary="检举某科长收受好处")

        page.get_by_role("navigation", name="网站导航").get_by_role("link", name="登录").click()
        page.wait_for_url(f"{base}/portal/login/")
        page.locator("#id_phone").fill("138 1234 5678")
        page.locator("#id_password").fill("Wrong-pass-1")
        page.get_by_role("button", name="登录").click()
        page.wait_for_selector("text=手机号码或密码不正确")
        _shot(page, "03-login-error")
        assert page.locator("#id_phone").input_value() == "138 1234 5678"
        page.locator("#id_password").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{base}/portal/account/")
        main = page.locator("main")
        # a 检举控告 joins the list only once its query code is proved while logged in
        assert accusation.number not in main.inner_text()
        page.goto(f"{base}/portal/track/?code={accusation.query_code}")
        page.locator("#id_secret").fill(PHONE)
        page.locator("main button[type=submit]").click()
        page.wait_for_url(f"{base}/portal/cases/{accusation.pk}/")
        page.goto(f"{base}/portal/account/")
        assert desk_case.number in main.inner_text()
        assert "反映小区路灯损坏问题" in main.inner_text()
        assert accusation.number in main.inner_text()
        assert "检举某科长收受好处" not in page.content()
        assert "检举控告事项（内容保密）" in main.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]
        _shot(page, "04-list")
        _axe(browser, "account-list", lambda p: p.goto(page.url), context.cookies())
        _axe(browser, "account-register-errors", _register_errors(base))
        _axe(browser, "account-login-error", _login_error(base))
        _axe(browser, "account-reset", lambda p: p.goto(f"{base}/portal/reset/"))
        # keyboard: the case link is reachable and named by its number
        link = page.get_by_role("link", name=desk_case.number)
        link.focus()
        assert page.evaluate("document.activeElement.getAttribute('href')") == (
            f"/portal/cases/{desk_case.pk}/"
        )
        assert csp_errors == []
    finally:
        context.close()
