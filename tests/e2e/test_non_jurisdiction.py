"""不属本单位管辖 at the desk, in a browser: rita registers a visit about unpaid wages, opens
the case, 告知（不属本单位管辖） picking the labour arbitration committee, and prints the 告知单
(organ name, address, phone, hours) and the 登记回执 (QR code, query code). Screenshots:
test-output/screenshots/test_non_jurisdiction_flow-*.png."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e.conftest import SHOTS, login
from xinfang.cases.models import Case, Category, Status
from xinfang.directory.models import Organ, OrganKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _vendor() -> str:
    return "pg" if os.environ.get("DATABASE_URL") else "sqlite"


def test_non_jurisdiction_flow(page: Any, live_server: Any, world: Any, shot: Any) -> None:
    relation = Category.objects.get(full_name="劳动和社会保障/劳动关系")
    arb = Organ.objects.create(
        name="示范区劳动人事争议仲裁委员会",
        kind=OrganKind.ARBITRATION,
        legal_route=True,
        address="示范区行政中心3号楼一层仲裁院",
        phone="010-69981300",
        hours="周一至周五 8:30—12:00，13:30—17:30",
        notes="申请仲裁须携带：仲裁申请书、身份证件、劳动合同或工资单。",
        sort=20,
    )
    arb.categories.set([relation])
    court = Organ.objects.create(
        name="示范区人民法院",
        kind=OrganKind.COURT,
        legal_route=True,
        address="示范区法院路8号",
        phone="010-69981200",
        sort=10,
    )
    court.categories.set([Category.objects.get(full_name="政法/诉讼")])
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    login(page, live_server, "rita")
    # 办事指南: filter by the category (its ancestor 劳动和社会保障 matches too).
    page.goto(f"{live_server.url}/directory/")
    page.select_option("select[name=category]", str(relation.pk))
    page.click(".directory-filters button[type=submit]")
    page.wait_for_selector("#directory-table")
    table = page.locator("#directory-table").inner_text()
    assert "示范区劳动人事争议仲裁委员会" in table and "示范区人民法院" not in table
    assert page.locator("#legal-routes").is_visible()
    shot("00-directory")
    page.goto(f"{live_server.url}/cases/new/")
    # 分类接待: 非本单位管辖 — the case page then puts the 告知 panel first.
    page.check("input[name=desk_purpose][value=not_ours]")
    page.select_option("#id_channel", "visit")
    page.select_option("#id_purpose", "appeal")
    page.select_option("#id_category", str(relation.pk))
    page.fill("#id_p-0-name", "钱小梅")
    page.fill("#id_p-0-id_number", "11010519491231002X")
    page.fill("#id_p-0-phone", "13912345678")
    page.fill("#id_summary", "反映某餐饮公司拖欠三个月工资")
    page.click("#register-submit")
    page.wait_for_selector("text=已登记：")
    case = Case.objects.get()

    page.goto(f"{live_server.url}/cases/{case.pk}/")
    panel = page.locator("#directory-inform")
    assert "示范区劳动人事争议仲裁委员会" in panel.inner_text()
    assert "示范区人民法院" not in panel.inner_text()  # not competent for 劳动关系
    panel.scroll_into_view_if_needed()
    shot("01-case-panel")
    page.click("#directory-inform-link")
    page.wait_for_selector("#inform-form")
    # The arbitration is suggested and preselected; the court is among the other organs.
    assert page.locator("#id_organ").input_value() == str(arb.pk)
    assert page.locator("#suggested-organs").inner_text().count("010-69981300") == 1
    page.select_option("#id_organ", str(arb.pk))
    page.fill("#id_reason", "经审查，你反映的拖欠工资问题属于劳动争议，依法应当先申请劳动仲裁。")
    shot("02-inform-form")
    page.click("#inform-form button[type=submit]")
    page.wait_for_selector(".doc-sheet")
    sheet = page.locator(".doc-sheet").inner_text()
    assert "告知单" in sheet
    for text in ("示范区劳动人事争议仲裁委员会", "示范区行政中心3号楼一层仲裁院", "010-69981300"):
        assert text in sheet
    assert "周一至周五 8:30—12:00" in sheet and "仲裁时效期间为一年" in sheet
    page.locator(".doc-sheet").screenshot(
        path=str(SHOTS / f"non-jurisdiction-notice-{_vendor()}.png")
    )
    case.refresh_from_db()
    assert case.status == Status.INFORMED

    # The receipt from the timeline's register row.
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.click("[data-receipt-link]")
    page.wait_for_selector(".rc-sheet")
    receipt = page.locator(".rc-sheet").inner_text()
    assert case.number in receipt and case.query_code in receipt
    assert page.locator(".rc-qr svg").count() == 1
    assert (
        page.locator(".rc-qr")
        .get_attribute("data-qr-url")
        .endswith(f"/track/?code={case.query_code}")
    )
    page.locator(".rc-sheet").screenshot(
        path=str(SHOTS / f"non-jurisdiction-receipt-{_vendor()}.png")
    )
    page.emulate_media(media="print")
    assert not page.locator(".rc-toolbar").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one A5 slip
    (SHOTS / f"non-jurisdiction-receipt-{_vendor()}.pdf").write_bytes(pdf)
    assert not [e for e in errors if "Content Security Policy" in e], errors
