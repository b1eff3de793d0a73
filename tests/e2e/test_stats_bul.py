"""通报 as people use it: the case officer opens the bulletin list, requests last month's
bulletin, watches it queued (the page polls), reads it once generated (screenshots) and downloads
the PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SHOTS, login
from tests.stats.factory import at, bulk_cases

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_issues_a_monthly_bulletin_and_downloads_the_pdf(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    last = today.replace(day=1) - dt.timedelta(days=1)
    day = last.replace(day=10).isoformat()
    bulk_cases(
        world,
        [
            (5, {"received_at": at(day), "place_code": "110105001"}),
            (1, {"received_at": at(day), "headcount": 6}),
            (3, {"received_at": at(day), "channel": "letter"}),
        ],
    )
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/stats/bulletins/")
    page.wait_for_selector("text=生成通报")
    assert page.input_value("#id_month") == f"{last:%Y-%m}"
    shot("01-list")
    page.click("button:has-text('生成')")
    # queued: the page shows the request's step and polls it (no worker runs in this test)
    page.wait_for_selector(".bul-progress")
    assert "排队等待" in page.inner_text(".bul-progress")
    assert "已提交生成月通报" in page.inner_text("body")
    shot("01b-queued")
    from xinfang.stats.bulletins import generate_pending
    from xinfang.stats.models import Bulletin

    # the worker's part, run here; the page's poll then reloads it with the bulletin (the first
    # bulletin of a process loads the chart and PDF libraries: allow a minute)
    generate_pending(Bulletin.objects.get(state="pending").pk)
    page.set_default_timeout(60_000)
    page.wait_for_selector(".bulletin-doc")
    page.set_default_timeout(10_000)
    assert page.locator(".bul-progress").count() == 0
    text = page.inner_text(".bulletin-doc")
    assert "示范区信访工作月通报" in text
    assert "共接待群众来访6批（次）、11人（次）" in text
    assert "集体访1批（次）、6人（次）" in text
    assert page.locator(".bulletin-doc img.chart-img").count() == 3
    shot("02-detail")
    with page.expect_download() as info:
        page.click("a.button:has-text('PDF')")
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    assert "月通报" in download.suggested_filename
    path = Path(download.path())
    assert path.read_bytes().startswith(b"%PDF")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.3).to_pil().save(SHOTS / "bul-e2e-download-p1.png")
    assert "基本情况" in pdf[0].get_textpage().get_text_range()
    # back on the list: the bulletin is there with its number
    page.goto(f"{live_server.url}/stats/bulletins/")
    assert f"{last.year}年第1期" in page.inner_text(".bul-list")
    page.click(f".bul-list a:has-text('{last.year}年第1期')")
    page.wait_for_selector(".bulletin-doc")
    page.emulate_media(media="print")
    assert not page.locator(".stats-nav").is_visible()  # print: the document only
    shot("03-print")
