"""领导看板 as a leader uses it: open /stats/, read the tiles, click a number → the cases
behind it; the print layout on A4 landscape. Screenshots: desktop, print."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import SHOTS, login
from tests.stats.factory import at, bulk_cases
from xinfang.cases.models import Category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _data(world: Any) -> None:
    """A year of cases: every month some visits and letters, March a peak with a 集体访."""
    cats = list(Category.objects.filter(level=2).order_by("pk").values_list("pk", flat=True))
    today = dt.date.today()
    specs: list[tuple[int, dict[str, Any]]] = []
    for back in range(14):
        y, m = divmod(today.year * 12 + today.month - 1 - back, 12)
        day = dt.date(y, m + 1, min(today.day, 28) if back == 0 else 12)
        for i in range(4):
            specs.append(
                (
                    2 + (back * 3 + i) % 5,
                    {
                        "received_at": at(day.isoformat()),
                        "category_id": cats[(i * 7 + back) % 40],
                        "place_code": ("110105001", "110105002", "110105")[i % 3],
                        "channel": ("visit", "letter", "online", "phone")[i],
                        "headcount": 1 + (i == 0) * (back % 3) * 3,
                    },
                )
            )
    bulk_cases(world, specs)


def test_leader_reads_the_dashboard_and_follows_a_number(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    _data(world)
    login(page, live_server, "leo")
    page.goto(f"{live_server.url}/stats/")
    page.wait_for_selector("text=领导看板：示范区")
    tile = page.locator(".dash-tile[data-key=all_batches]")
    assert "同比" in tile.inner_text() and "环比" in tile.inner_text()
    assert page.locator(".chart img").count() == 6
    shot("01-desktop")

    # the unit picker: 东湖街道 only
    page.select_option("#dash-unit", label="　东湖街道")
    page.click("button:has-text('查看')")
    page.wait_for_selector("text=领导看板：东湖街道")
    page.go_back()
    page.wait_for_selector("text=领导看板：示范区")

    # bad dates: the message, the input kept
    page.fill("#dash-start", "2026-03-31")
    page.fill("#dash-end", "2026-03-01")
    page.click("button:has-text('查看')")
    page.wait_for_selector("text=统计期的结束日期不能早于开始日期")
    assert page.input_value("#dash-start") == "2026-03-31"

    page.goto(f"{live_server.url}/stats/")
    link = page.locator(".dash-tile[data-key=all_batches] a.fig").first
    href = link.get_attribute("href") or ""
    q = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/stats/cases/"
    assert (
        q["table"] == ["i"]
        and q["measure"] == ["batches"]
        and q["unit"] == [str(world.district.pk)]
    )
    link.click()
    page.wait_for_url(lambda url: "/stats/cases/" in url)  # fig's page (or its placeholder)

    # the print layout, A4 landscape
    page.goto(f"{live_server.url}/stats/print/")
    page.wait_for_selector("text=领导看板：示范区")
    assert page.locator("nav").count() == 0
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1123, "height": 794})
    shot("02-print")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SHOTS / "stats-dash-print.pdf"), landscape=True, format="A4")
