"""公文 print pages in a browser: a 交办单 and an 答复意见书 at A4 (screen and print media),
CSP-clean, the 打印 button wired; screenshots test-output/screenshots/doc-*.png."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.conftest import reply_case
from tests.e2e.conftest import SHOTS, login
from xinfang.cases import services as S
from xinfang.documents.services import document_for_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A4 = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 dpi


def _vendor() -> str:
    return "pg" if os.environ.get("DATABASE_URL") else "sqlite"


def test_print_pages_at_a4(page: Any, live_server: Any, world: Any, register: Any) -> None:
    assign = S.case_assign(case=register(), by=world.alice, unit=world.street, note="请依法办理")
    reply = reply_case(world, register(summary="反映拖欠工资")).events.get(kind="reply")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, live_server, "alice")
    # Issue the 交办单 from the timeline hook (first use), as a clerk would.
    page.goto(f"{live_server.url}/cases/{assign.case_id}/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".doc-links").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"doc-timeline-{_vendor()}.png"))
    page.locator(".doc-links button[value=print]").click()
    page.wait_for_selector(".doc-sheet")
    page.goto(f"{live_server.url}/cases/{assign.case_id}/")
    links = page.locator(".doc-links a")
    assert links.count() == 2  # issued now: plain links to the print page and the DOCX
    doc_assign = document_for_event(assign)
    doc_reply = document_for_event(reply)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1000, "height": 1123})
    for name, doc in (("jiaoban", doc_assign), ("dafu", doc_reply)):
        page.emulate_media(media="screen")
        page.goto(f"{live_server.url}/documents/{doc.pk}/")
        sheet = page.locator(".doc-sheet")
        box = sheet.bounding_box()
        assert box is not None and abs(box["width"] - A4["width"]) <= 2
        assert page.locator(".doc-number").inner_text() == doc.number
        organ_color = page.locator(".doc-organ").evaluate("e => getComputedStyle(e).color")
        assert organ_color == "rgb(255, 0, 0)"
        title_size = page.locator(".doc-title").evaluate("e => getComputedStyle(e).fontSize")
        assert title_size == "29.3333px"  # 22pt
        body_size = page.locator(".doc-p").first.evaluate("e => getComputedStyle(e).fontSize")
        assert body_size == "21.3333px"  # 16pt
        # 28 characters per line in the 156 mm text area.
        width = page.locator(".doc-body").evaluate("e => e.clientWidth")
        assert abs(width - 156 / 25.4 * 96) <= 2
        sheet.screenshot(path=str(SHOTS / f"doc-{name}-{_vendor()}.png"))
        page.emulate_media(media="print")
        page.set_viewport_size(A4)
        assert not page.locator(".doc-toolbar").is_visible()
        page.screenshot(path=str(SHOTS / f"doc-{name}-print-{_vendor()}.png"), full_page=True)
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        assert pdf.startswith(b"%PDF")
        (SHOTS / f"doc-{name}-{_vendor()}.pdf").write_bytes(pdf)
        page.set_viewport_size({"width": 1000, "height": 1123})
    assert not [e for e in errors if "Content Security Policy" in e], errors
