"""Every portal page under axe-core (WCAG 2.1 A/AA + best practices; serious or critical = fail)
at a phone (360×740) and a desktop (1366×900) size, no horizontal scrolling at 360 px, and the
keyboard path from the top of the page (skip link first, then the navigation in order, focus
visible). Screenshots of each page at both sizes go to test-output/screenshots/portal-a11y-*.

Each page is one parametrized case reached the way a person reaches it (the submit form with
errors is the form sent empty with the browser's own checks off; the review and done pages
follow a complete submission; the case page is reached through the tracking form; the account
page after logging in). A page still being built can be listed in NOT_YET (xfail, not strict).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from tests.conftest import VALID_ID, World, registration, reply_case
from tests.e2e import axe
from tests.e2e.axe import DESKTOP, PHONE, axe_check
from tests.e2e.conftest import SHOTS
from xinfang.cases.models import Case
from xinfang.cases.registration import case_register_online
from xinfang.core import crypto
from xinfang.directory.models import Organ, OrganKind
from xinfang.people.services import PetitionerInput
from xinfang.portal import services as P
from xinfang.portal.models import PHONE_CONTEXT, PHONE_PURPOSE, PortalAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_NO = "13912345678"
ACCOUNT_PASSWORD = "Xf-portal-pass-1"
a11y_page = axe.a11y_page  # the CSP-bypassing context, for axe runs only
NOT_BUILT = pytest.mark.xfail(strict=False, reason="page not built yet")


@dataclass
class Portal:
    url: str
    case: Case
    replied: Case


@pytest.fixture
def portal(world: World, live_server: Any, settings: Any) -> Portal:
    """The shared world plus what the pages show: two organs in the directory, one online
    case with a known phone, one portal account; rate limits off (many pages, one address)."""
    settings.XINFANG_RATES = {name: "0" for name in settings.XINFANG_RATES}
    Organ.objects.create(
        name="示范区人民法院",
        kind=OrganKind.COURT,
        address="示范区法院路8号",
        phone="010-69981200",
        hours="周一至周五 9:00—17:00",
        legal_route=True,
        notes="内部须知：不公开",
    )
    Organ.objects.create(
        name="东湖街道办事处", kind=OrganKind.STREET, address="东湖路1号", phone="010-1"
    )
    case = case_register_online(
        by=P.portal_user(),
        office=P.portal_office(),
        reg=registration(
            channel="online",
            petitioners=[PetitionerInput(name="王五", phone=PHONE_NO, address="东湖路3号")],
        ),
        idempotency_key="a11y:case",
    )
    replied = case_register_online(
        by=P.portal_user(),
        office=P.portal_office(),
        reg=registration(
            channel="online",
            summary="反映东湖路路灯损坏",
            petitioners=[PetitionerInput(name="赵六", phone=PHONE_NO, address="东湖路5号")],
        ),
        idempotency_key="a11y:replied",
    )
    reply_case(world, replied)  # the case page then offers 评价 and 复查 (two more forms)
    PortalAccount.objects.create(
        phone_enc=crypto.encrypt(PHONE_NO, context=PHONE_CONTEXT),
        phone_bidx=crypto.blind_index(PHONE_PURPOSE, PHONE_NO),
        password=make_password(ACCOUNT_PASSWORD),
        name="王五",
        created_at=timezone.now(),
    )
    return Portal(url=live_server.url, case=case, replied=replied)


# --- how each page is reached -------------------------------------------------------------


def _goto(page: Any, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status < 400, (
        f"{url}: HTTP {response and response.status}"
    )


def _send(page: Any, form: Any) -> None:
    """Send ``form`` with its main button, waiting for the next page."""
    buttons = form.locator("button[type=submit], input[type=submit]")
    primary = form.locator(".pt-btn-primary, button.primary")
    button = primary.first if primary.count() else buttons.last
    with page.expect_navigation():
        button.click()


def _track(page: Any, portal: Portal, code: str, secret: str) -> None:
    _goto(page, f"{portal.url}/portal/track/")
    page.fill("main input[name=code]", code)
    page.fill("main input[name=secret]", secret)
    _send(page, page.locator("main form", has=page.locator("input[name=secret]")))


def go_submit_errors(page: Any, portal: Portal) -> None:
    _goto(page, f"{portal.url}/portal/submit/")
    form = page.locator("main form[method=post]").first
    form.evaluate("f => { f.noValidate = true; }")  # the server's errors, not the browser's
    _send(page, form)
    assert page.locator("[aria-invalid=true]").count() > 0, "the empty form shows no field error"


def fill_submit_form(page: Any) -> None:
    """A complete, valid submission (no attachments, no co-signer), by the form's field names."""
    form = page.locator("main form[method=post]").first
    form.locator("input[name=name]").fill("王五")
    form.locator("input[name=id_number]").fill(VALID_ID)
    form.locator("input[name=phone]").fill(PHONE_NO)
    form.locator("input[name=address]").fill("示范区东湖路3号")
    form.locator("input[name=purpose][value=appeal]").check()
    for select in ("category", "place_code"):
        options = form.locator(f"select[name={select}] option:not([value=''])")
        if options.count():
            value = options.first.get_attribute("value")
            form.locator(f"select[name={select}]").select_option(value)
    form.locator("input[name=summary]").fill("小区门口路灯损坏𠀀，夜间出行不便")
    form.locator("textarea[name=content]").fill(
        "东湖路3号小区门口的路灯已损坏两个月，请尽快修复。👍"
    )
    form.locator("input[name=consent]").check()
    _send(page, form)


def go_submit_review(page: Any, portal: Portal) -> None:
    _goto(page, f"{portal.url}/portal/submit/")
    fill_submit_form(page)
    assert "/portal/submit/" in page.url and page.url.rstrip("/").split("/")[-1] != "submit", (
        page.url
    )


def go_submit_done(page: Any, portal: Portal) -> None:
    go_submit_review(page, portal)
    _send(page, page.locator("main form[method=post]").last)
    assert page.url.rstrip("/").endswith("/done"), page.url


def go_track_error(page: Any, portal: Portal) -> None:
    _track(page, portal, "ABCD2345EF", "13900000000")


def go_case(page: Any, portal: Portal) -> None:
    _track(page, portal, portal.case.query_code, PHONE_NO)
    assert f"/portal/cases/{portal.case.pk}/" in page.url


def go_case_replied(page: Any, portal: Portal) -> None:
    _track(page, portal, portal.replied.query_code, PHONE_NO)
    assert f"/portal/cases/{portal.replied.pk}/" in page.url
    assert page.locator("main form input[name=evaluation]").count() > 0, "no evaluation form"


def go_case_document(page: Any, portal: Portal) -> None:
    go_case_replied(page, portal)
    link = page.locator(f"main a[href*='/portal/cases/{portal.replied.pk}/doc/']").first
    with page.expect_navigation():
        link.click()
    assert "/doc/" in page.url


def go_account(page: Any, portal: Portal) -> None:
    _goto(page, f"{portal.url}/portal/login/")
    form = page.locator("main form", has=page.locator("input[type=password]"))
    form.locator("input[type=tel], input[name*=phone]").first.fill(PHONE_NO)
    form.locator("input[type=password]").first.fill(ACCOUNT_PASSWORD)
    _send(page, form)
    _goto(page, f"{portal.url}/portal/account/")
    assert page.url.endswith("/portal/account/"), f"not logged in: {page.url}"


def _path(path: str) -> Callable[[Any, Portal], None]:
    def go(page: Any, portal: Portal) -> None:
        _goto(page, portal.url + path)

    return go


PAGES: dict[str, Callable[[Any, Portal], None]] = {
    "home": _path("/portal/"),
    "guide": _path("/portal/guide/"),
    "privacy": _path("/portal/privacy/"),
    "submit": _path("/portal/submit/"),
    "submit-errors": go_submit_errors,
    "submit-review": go_submit_review,
    "submit-done": go_submit_done,
    "track": _path("/portal/track/"),
    "track-error": go_track_error,
    "case": go_case,
    "case-replied": go_case_replied,
    "case-document": go_case_document,
    "login": _path("/portal/login/"),
    "register": _path("/portal/register/"),
    "reset": _path("/portal/reset/"),
    "account": go_account,
}
# A page still being built goes here (marked xfail, not strict, "page not built yet"). Every page
# of the portal has landed and passes, so the set is empty.
NOT_YET: set[str] = set()


def _params(sizes: list[tuple[str, dict[str, int]]]) -> list[Any]:
    return [
        pytest.param(name, size, id=f"{name}-{label}", marks=[NOT_BUILT] if name in NOT_YET else [])
        for name in PAGES
        for label, size in sizes
    ]


def _shot(page: Any, name: str, size: dict[str, int], *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    vendor = "pg" if os.environ.get("DATABASE_URL") else "sqlite"
    path = SHOTS / f"portal-a11y-{name}-{size['width']}-{vendor}.png"
    page.screenshot(path=str(path), full_page=full_page)


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), _params([("phone", PHONE), ("desktop", DESKTOP)]))
def test_axe_no_serious_violations(a11y_page, portal, name, size):  # type: ignore[no-untyped-def]
    a11y_page.set_viewport_size(size)
    PAGES[name](a11y_page, portal)
    assert a11y_page.locator("html").get_attribute("lang") == "zh-CN"
    assert a11y_page.locator("h1").count() == 1, "one h1 per page"
    _shot(a11y_page, name, size)
    failing = axe_check(a11y_page, f"{name} {size['width']}px")
    assert not failing, f"{name}: " + ", ".join(v["id"] for v in failing)


def test_axe_harness_reports_violations(a11y_page):  # type: ignore[no-untyped-def]
    """The harness is not silently passing: a bare page with an unlabelled input and an image
    without alt text fails (critical), and the table names the rules."""
    a11y_page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
    failing = axe_check(a11y_page, "broken fixture")
    assert {"image-alt", "label"} <= {v["id"] for v in failing}


@pytest.mark.parametrize(("name", "size"), _params([("phone", PHONE)]))
def test_no_horizontal_scrolling_at_360(page, portal, name, size):  # type: ignore[no-untyped-def]
    """Under the real CSP (the normal page fixture): the page fits a 360 px phone."""
    page.set_viewport_size(size)
    PAGES[name](page, portal)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: {width} px wide at a 360 px viewport"
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > 360.5)
            .slice(0, 5).map((e) => e.tagName + '.' + e.className)"""
    )
    assert not wide, f"{name}: elements past the right edge: {wide}"


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
              const e = document.activeElement;
              const s = getComputedStyle(e);
              const r = e.getBoundingClientRect();
              return {text: (e.textContent || '').trim(), href: e.getAttribute('href') || '',
                      cls: e.className, outline: s.outlineStyle, outlineWidth: s.outlineWidth,
                      visible: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0};
            }"""
        )
    )


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_keyboard_from_the_top(page, portal, size):  # type: ignore[no-untyped-def]
    page.set_viewport_size(size)
    _goto(page, f"{portal.url}/portal/guide/")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["text"] == "跳到正文" and first["href"] == "#main", first
    assert first["visible"], "the skip link shows when focused"
    assert first["outline"] != "none" and first["outlineWidth"] != "0px", first
    _shot(page, "keyboard-skip", size, full_page=False)

    expected = [
        ("/portal/", portal_site_name(page)),
        ("/portal/guide/", "办事须知"),
        ("/portal/submit/", "我要信访"),
        ("/portal/track/", "查询办理"),
        ("/portal/login/", "登录"),
    ]
    for href, text in expected:
        page.keyboard.press("Tab")
        now = _focused(page)
        assert (now["href"], now["text"]) == (href, text), now
        assert now["visible"] and now["outline"] != "none", f"focus not visible on {text}"

    # The skip link moves the focus to the main content.
    for _ in expected:
        page.keyboard.press("Shift+Tab")
    assert _focused(page)["href"] == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def portal_site_name(page: Any) -> str:
    return str(page.locator(".pt-brand").inner_text()).strip()
