"""THE prevention flow (issue 10), as people do it: a 信息员 on a phone files an urgent report
(拟集体上访, 30人) → the district leader sees the alert and acknowledges → registers the report
as a 矛盾纠纷 (责任单位 东湖街道) → 东湖街道's head records a contact, uploads evidence and
requests 销号 → the level above (the district leader) approves → the item shows 已销号; the
informant's phone shows who acknowledged and, once closed, 已办结."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SHOTS, login
from tests.prevention._inf_util import make_net
from xinfang.notify.models import Notification
from xinfang.prevention.models import Alert, Dispute, InformantReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"页面宽 {width}px，出现横向滚动"


def test_urgent_report_to_struck_off(
    browser: Any, page: Any, live_server: Any, world: Any, shot: Any, tmp_path: Path
) -> None:
    make_net(world)
    vendor = (os.environ.get("DATABASE_URL", "") and "pg") or "sqlite"
    phone_ctx = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    phone = phone_ctx.new_page()
    phone.set_default_timeout(10_000)

    def phone_shot(name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(
            path=str(SHOTS / f"test_urgent_report_to_struck_off-{vendor}-{name}.png"),
            full_page=True,
        )

    try:
        # 1. the informant, on a phone: the big 紧急报告 button, the form, a bad input first
        login(phone, live_server, "ivan")
        phone.goto(f"{live_server.url}/prevention/m/")
        assert phone.locator(".pvm-btn-urgent").bounding_box()["height"] >= 48
        no_horizontal_scroll(phone)
        phone_shot("01-phone-home")
        phone.click("text=紧急报告")
        assert phone.is_checked("input[name=urgency][value=urgent]")
        phone.fill("#id_title", "拆迁安置户拟明早集体到区政府上访")
        phone.fill(
            "#id_text", "东湖社区拆迁安置户约30人商量明早9点到区政府集体上访，诉求提高补偿款。"
        )
        phone.fill("#id_headcount", "30")
        phone.fill("#id_destination", "赴区政府")
        phone.click("button.pvm-submit")  # no 紧急情形 chosen yet
        assert phone.locator("text=紧急报告须选择紧急情形").count() >= 1
        assert phone.input_value("#id_title") == "拆迁安置户拟明早集体到区政府上访"
        no_horizontal_scroll(phone)
        phone_shot("02-phone-missing-signal")
        phone.check("input[name=signal][value=collective]")
        phone.click("button.pvm-submit")
        phone.wait_for_url("**/prevention/m/*/")
        assert phone.locator(".pvm-status").inner_text().startswith("待确认")
        no_horizontal_scroll(phone)
        phone_shot("03-phone-sent")
        report = InformantReport.objects.get()
        alert = Alert.objects.get(informant_report=report)
        assert alert.owner == world.leo and alert.severity == "orange"
        assert Notification.objects.filter(recipient=world.leo, kind="alert").exists()

        # 2. the leader (1366 px): the inbox has the alert; the report list shows it first
        login(page, live_server, "leo")
        page.goto(f"{live_server.url}/notify/")
        assert page.locator("text=拟集体上访").first.is_visible()
        shot("04-leader-inbox")
        page.goto(f"{live_server.url}/prevention/reports/")
        row = page.locator("tr.inf-hot").first
        assert "拆迁安置户" in row.inner_text()
        shot("05-leader-report-list")
        row.locator("a").click()
        page.wait_for_url(f"**/prevention/reports/{report.pk}/")
        shot("06-leader-report-detail")
        page.click("button.inf-ack")
        page.wait_for_url(f"**/prevention/reports/{report.pk}/")
        assert "已确认处置中" in page.locator("h1").inner_text()
        alert.refresh_from_db()
        assert alert.state == "acknowledged"
        shot("07-leader-acknowledged")

        # 3. register it as a 矛盾纠纷, 东湖街道 responsible
        page.click("summary:has-text('登记为矛盾纠纷')")
        page.fill("#id_d_parties", "东湖社区拆迁安置户（约30户）\n东湖街道征收办")
        page.select_option("#id_d_risk", "high")
        page.select_option("#id_d_unit", str(world.street.pk))
        page.click(".inf-dispute-form button[type=submit]")
        page.wait_for_url("**/prevention/disputes/*/")
        dispute = Dispute.objects.get()
        assert dispute.source == "informant" and dispute.informant_report_id == report.pk
        assert dispute.unit == world.street
        assert dispute.number in page.locator("h1").inner_text()
        shot("08-dispute-created")

        # 4. 东湖街道's head: a contact, evidence, 报请销号
        login(page, live_server, "uma")
        page.goto(f"{live_server.url}/prevention/disputes/{dispute.pk}/")
        page.click("#contact-new > summary")
        page.select_option("#contact-form select[name=method]", "visit")
        page.fill("#contact-form input[name=person]", "安置户代表张某")
        page.fill(
            "#contact-form textarea[name=note]",
            "上门解释补偿政策，代表同意暂缓上访，等待街道复核。",
        )
        page.click("#contact-form button[type=submit]")
        page.wait_for_url(f"**/prevention/disputes/{dispute.pk}/**")
        assert page.locator("table.disp-contacts").inner_text().count("安置户代表张某") == 1
        shot("09-unit-contact")
        evidence = tmp_path / "补偿协议.pdf"
        evidence.write_bytes(b"%PDF-1.4\n%%EOF\n")
        page.set_input_files("#file-form input[type=file]", str(evidence))
        page.click("#file-form button[type=submit]")
        page.wait_for_url(f"**/prevention/disputes/{dispute.pk}/**")
        assert page.locator("ul.disp-files").inner_text().count("补偿协议.pdf") == 1
        page.fill(
            "#strike-form textarea[name=resolution]", "经街道复核，补偿差额已补发，安置户签字确认。"
        )
        page.fill("#strike-form textarea[name=evidence]", "补偿协议及签字确认书、回访记录各一份。")
        page.click("#strike-form button[type=submit]")
        page.wait_for_url(f"**/prevention/disputes/{dispute.pk}/**")
        dispute.refresh_from_db()
        assert dispute.state == "pending"
        shot("10-unit-requested-strike")

        # 5. the level above approves: 已销号
        login(page, live_server, "leo")
        page.goto(f"{live_server.url}/prevention/disputes/{dispute.pk}/")
        page.fill("#decide-form textarea[name=note]", "同意销号。")
        page.click("#decide-form button[value=approve]")
        page.wait_for_url(f"**/prevention/disputes/{dispute.pk}/**")
        assert page.locator(".disp-struck-banner").inner_text().startswith("已销号")
        assert page.locator("#disp-state").inner_text() == "已销号"
        dispute.refresh_from_db()
        assert dispute.state == "struck"
        shot("11-struck-off")

        # 6. the leader closes the report; the informant sees 已办结, and who acknowledged
        page.goto(f"{live_server.url}/prevention/reports/{report.pk}/")
        page.click("summary:has-text('办结')")
        page.fill("#id_outcome", f"已登记台账 {dispute.number} 并化解销号。")
        page.click("form:has(#id_outcome) button[type=submit]")
        page.wait_for_url(f"**/prevention/reports/{report.pk}/")
        assert "已办结" in page.locator("h1").inner_text()
        shot("12-report-closed")
        phone.goto(f"{live_server.url}/prevention/m/{report.pk}/")
        status = phone.locator(".pvm-status").inner_text()
        assert status.startswith("已办结") and "黎奥" in status
        assert "化解销号" not in phone.content()  # no internal handling text
        no_horizontal_scroll(phone)
        phone_shot("13-phone-closed")
    finally:
        phone_ctx.close()
