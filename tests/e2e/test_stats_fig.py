"""信访统计 as alice uses it: open the page, filter, click a number, see the cases behind it,
download the XLSX; the 信访情况统计表 (screenshots, A4 print)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from tests.e2e.conftest import login
from tests.stats.factory import at, bulk_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_filters_clicks_a_number_and_downloads(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    bulk_cases(
        world,
        [
            (5, {"received_at": at("2026-03-02")}),
            (2, {"received_at": at("2026-03-05"), "headcount": 6}),
            (3, {"channel": "letter", "received_at": at("2026-03-10")}),
            (2, {"channel": "phone", "purpose": "accusation", "received_at": at("2026-03-11")}),
            (4, {"received_at": at("2025-03-03")}),
        ],
    )
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/stats/intake/")
    page.fill("input[name=start]", "2026-03-01")
    page.fill("input[name=end]", "2026-03-31")
    page.select_option("select[name=by]", "kind")
    page.click("button:has-text('统计')")
    page.wait_for_selector("table.fig-intake")
    text = page.inner_text("table.fig-intake")
    assert "集体" in text and "个人" in text
    assert "共接待群众来访7批（次）、17人（次）" in page.inner_text(".fig-paragraph")
    shot("01-intake")

    page.click("table.fig-intake tbody tr:has-text('集体') a.fig >> nth=0")
    page.wait_for_selector("table.fig-cases")
    assert "批次 2" in page.inner_text(".fig-statement")
    assert page.locator("table.fig-cases tbody tr").count() == 2
    shot("02-cases")

    with page.expect_download() as info:
        page.click("a:has-text('导出 XLSX')")
    data = info.value.path().read_bytes()
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "数字背后的信访事项" and len(rows) == 5

    page.goto(f"{live_server.url}/stats/form/?start=2026-03-01&end=2026-03-31")
    page.wait_for_selector(".stat-form-table")
    assert "信访情况统计表" in page.inner_text(".stat-form")
    shot("03-form")
    page.emulate_media(media="print")
    shot("04-form-print")
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf[:4] == b"%PDF"
