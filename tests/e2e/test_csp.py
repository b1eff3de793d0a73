"""The main pages under the production Content-Security-Policy: no violation in the console,
and the HTMX interactions (live search, action panel, notes) still work."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import login
from xinfang.cases.attachments import attachment_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(page: Any) -> list[str]:
    """Every console error/warning and page error; CSP violations are reported there."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: (
            seen.append(f"{msg.type}: {msg.text}") if msg.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    return seen


def _csp(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m]


def test_main_pages_without_csp_violations(page, live_server, world, register, shot, console):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = register(summary="反映𠀀小区物业费上涨👨‍👩‍👧<script>alert(1)</script>")
    attachment_add(
        case=case,
        by=world.rita,
        upload=SimpleUploadedFile("材料.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    page.goto(f"{live_server.url}/login/")
    header = page.request.get(f"{live_server.url}/login/").headers["content-security-policy"]
    assert "script-src 'self'" in header and "unsafe-inline" not in header
    shot("01-login")
    login(page, live_server, "alice")
    shot("02-home")

    # List: the live search is HTMX (hx-get on input); the table is swapped in place.
    page.goto(f"{live_server.url}/cases/")
    page.fill("#id_q", "不存在的关键词")
    page.wait_for_selector("text=没有符合条件的信访事项", timeout=5000)
    page.fill("#id_q", "物业费")
    page.wait_for_selector(f"text={case.number}")
    assert "<script>alert(1)</script>" in page.inner_text("#results")  # shown as text
    shot("03-list")

    # Detail: the note form and the action panel post with HTMX and swap #case-main.
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert page.is_visible("text=材料.pdf")
    page.fill("textarea[name=text]", "电话回访：信访人称物业费已恢复原标准𪚥")
    page.click("text=添加备注")
    page.wait_for_selector("text=电话回访：信访人称物业费已恢复原标准𪚥")
    page.click("#action-assign > summary")
    page.select_option("#id_a_assign-unit", label="东湖街道")
    page.click("#action-assign button[type=submit]")
    page.wait_for_selector("text=已交办")
    shot("04-detail")

    # A download link: the file comes back as an attachment, not rendered.
    with page.expect_download() as info:
        page.click("text=材料.pdf")
    assert info.value.suggested_filename == "材料.pdf"

    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/")
    page.click("text=＋ 增加代表")
    page.wait_for_selector("#id_r-0-name")
    shot("05-register")

    # The API's own documentation page (Swagger UI, bundled files) under the same policy.
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    shot("06-api-docs")

    assert _csp(console) == [], console
    assert not [m for m in console if m.startswith("pageerror")], console
