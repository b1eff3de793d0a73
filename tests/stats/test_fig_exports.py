"""XLSX exports (re-opened with openpyxl), their audit rows, the API, and edge periods."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
import pytest

from xinfang.audit.models import AuditEntry
from xinfang.org.models import Unit, UnitType

from .factory import at, bulk_cases
from .test_fig_views import MARCH, fig_data, login  # noqa: F401 — the shared fixture


def book(response: Any) -> Any:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def values(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.usefixtures("fig_data")
def test_intake_xlsx_has_filters_headers_numbers(world: Any) -> None:
    c = login(world.alice)
    r = c.get("/stats/export/intake.xlsx", {**MARCH, "purpose": "appeal", "by": "kind"})
    rows = values(book(r))
    assert rows[0][0] == "信访统计"
    assert "统计单位 示范区" in rows[1][0] and "目的 申诉求决" in rows[1][0]
    assert "2026年3月1日至31日" in rows[1][0] and "内部资料" in rows[1][-1]
    assert rows[2] == [
        "形式（个人/群体/集体）",
        "批次",
        "人次",
        "去年同期批次",
        "去年同期人次",
        "批次同比",
        "人次同比",
    ]
    body = {row[0]: row[1:3] for row in rows[3:]}
    assert body["个人"] == [8, 8] and body["群体"] == [2, 6] and body["集体"] == [1, 7]
    assert body["合计"] == [11, 21]
    entry = AuditEntry.objects.filter(action="export").latest("seq")
    assert entry.detail["what"] == "intake" and entry.detail["format"] == "xlsx"
    assert entry.detail["filters"]["purpose"] == "appeal"


@pytest.mark.usefixtures("fig_data")
def test_cases_xlsx_visible_only_and_masked(world: Any) -> None:
    c = login(world.alice)
    r = c.get(
        "/stats/export/cases.xlsx",
        {**MARCH, "table": "i", "measure": "batches", "channel_group": "phone"},
    )
    ws = book(r)
    rows = values(ws)
    assert rows[2][0] == "编号" and ws.freeze_panes == "A4"
    data = rows[3:]
    assert len(data) == 2 and all(row[6] != "统计测试" for row in data)  # 检举控告 masked
    assert "批次 2" in rows[1][0] and "渠道 来电（热线）" in rows[1][0]
    assert AuditEntry.objects.filter(action="export", detail__what="cases").count() == 1


@pytest.mark.usefixtures("fig_data")
def test_caselist_xlsx_uses_case_list_filters(world: Any) -> None:
    c = login(world.alice)
    r = c.get("/stats/export/caselist.xlsx", {"channel": "letter"})
    rows = values(book(r))
    assert rows[0][0] == "信访事项列表" and "渠道 letter" in rows[1][0]
    assert rows[2][0] == "编号" and len(rows) - 3 == 6  # 4 this year, 2 last year
    assert AuditEntry.objects.filter(action="export", detail__what="caselist").exists()


@pytest.mark.usefixtures("fig_data")
def test_form_xlsx_layout(world: Any) -> None:
    ws = book(login(world.alice).get("/stats/export/form.xlsx", MARCH))
    rows = values(ws)
    assert rows[0][0] == "信访情况统计表"
    assert rows[2][0] == "填报单位：示范区" and rows[2][11] == "单位：批、人次"
    assert rows[3][0] == "项目" and rows[3][2] == "本期" and rows[3][8] == "1月至本期累计"
    assert rows[4][2:4] == ["批次", "人次"]
    assert "A4:A5" in {str(m) for m in ws.merged_cells.ranges}
    visit = next(r for r in rows if r[0] == "来访")
    assert visit[1:6] == [2, 6, 16, 2, 2]
    assert any(r[0] and str(r[0]).startswith("制表人") for r in rows)
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9


@pytest.mark.usefixtures("fig_data")
def test_export_scope_and_errors(world: Any) -> None:
    assert (
        login(world.uma).get("/stats/export/intake.xlsx", {"unit": world.sibling.pk}).status_code
        == 404
    )
    assert login(world.alice).get("/stats/export/nothing.xlsx").status_code == 404
    r = login(world.alice).get("/stats/export/intake.xlsx", {"start": "x"})
    assert r.status_code == 400 and "请输入有效日期" in r.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


@pytest.mark.usefixtures("fig_data")
def test_api_intake_cases_form(world: Any) -> None:
    c = login(world.alice)
    r = c.get("/api/stats/intake", {**MARCH, "by": "channel_group"})
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["total"]["batches"] == 13 and data["basis"] == "同比"
    assert data["rows"][0] == {
        **data["rows"][0],
        "label": "来访",
        "batches": 6,
        "persons": 16,
        "change_batches": "+200%",
    }
    r = c.get("/api/stats/cases", {**MARCH, "channel_group": "letter", "page_size": "3"})
    d = r.json()
    assert (d["figure"], d["cases"], d["hidden"], d["count"], len(d["items"])) == (4, 4, 0, 4, 3)
    r = c.get("/api/stats/form", MARCH)
    assert r.json()["rows"][1]["values"][:2] == [6, 16]
    r = c.get("/api/stats/intake", {"start": "2026-03-31", "end": "2026-03-01"})
    assert r.status_code == 400 and "结束日期不能早于开始日期" in json.dumps(
        r.json(), ensure_ascii=False
    )
    assert login(world.uma).get("/api/stats/intake", {"unit": world.sibling.pk}).status_code == 404


def test_leap_year_yoy(world: Any) -> None:
    bulk_cases(
        world,
        [
            (3, {"received_at": at("2028-02-29")}),
            (1, {"received_at": at("2028-02-01")}),
            (2, {"received_at": at("2027-02-28")}),
        ],
    )
    t = (
        login(world.alice)
        .get("/stats/intake/", {"start": "2028-02-01", "end": "2028-02-29", "by": "kind"})
        .context["table"]
    )
    assert (t.other.start.isoformat(), t.other.end.isoformat()) == ("2027-02-01", "2027-02-28")
    assert (t.total.batches.value, t.total.prev_batches.value, t.total.change_batches) == (
        4,
        2,
        "+100%",
    )
    # by day: 29 Feb has no day a year earlier
    t = (
        login(world.alice)
        .get("/stats/intake/", {"start": "2028-02-01", "end": "2028-02-29", "by": "day"})
        .context["table"]
    )
    got = {r.label: (r.batches.value, r.prev_batches.value) for r in t.rows}
    assert got["2028-02-29"] == (3, 0) and got["2028-02-28"] == (0, 2)


def test_across_new_year_by_month(world: Any) -> None:
    bulk_cases(
        world,
        [
            (2, {"received_at": at("2025-12-31", 23)}),
            (5, {"received_at": at("2026-01-01", 0)}),
            (1, {"received_at": at("2024-12-15")}),
        ],
    )
    t = (
        login(world.alice)
        .get("/stats/intake/", {"start": "2025-12-01", "end": "2026-01-31", "by": "month"})
        .context["table"]
    )
    got = [(r.label, r.batches.value, r.prev_batches.value) for r in t.rows]
    assert got == [("2025年12月", 2, 1), ("2026年1月", 5, 0)]
    assert t.rows[1].change_batches == "去年同期无"
    mom = (
        login(world.alice)
        .get("/stats/intake/", {"start": "2026-01-01", "end": "2026-01-31", "compare": "mom"})
        .context["table"]
    )
    assert (mom.total.batches.value, mom.total.prev_batches.value, mom.total.change_batches) == (
        5,
        2,
        "+150%",
    )


def test_empty_period(world: Any) -> None:
    r = login(world.alice).get("/stats/intake/", {"start": "2030-01-01", "end": "2030-01-31"})
    t = r.context["table"]
    assert t.rows == [] and t.total.batches.value == 0 and t.total.change_batches == "0%"
    assert "本统计期内没有符合条件的信访事项" in r.content.decode()
    form = (
        login(world.alice)
        .get("/stats/form/", {"start": "2030-01-01", "end": "2030-01-31"})
        .context["table"]
    )
    assert all(c.value == 0 for row in form.rows for c in row.cells)


def test_unit_created_mid_year_has_no_last_year(world: Any) -> None:
    new = Unit.objects.create(
        name="新城街道", unit_type=UnitType.STREET, parent=world.district, is_petition_office=True
    )
    bulk_cases(world, [(3, {"office_unit": new, "received_at": at("2026-06-03")})])
    t = (
        login(world.leo)
        .get("/stats/intake/", {"start": "2026-06-01", "end": "2026-06-30", "by": "office_id"})
        .context["table"]
    )
    row = next(r for r in t.rows if r.label == "新城街道")
    assert (row.batches.value, row.prev_batches.value, row.change_batches) == (3, 0, "去年同期无")
    assert (
        "去年同期无"
        in login(world.leo)
        .get("/stats/intake/", {"start": "2026-06-01", "end": "2026-06-30", "unit": str(new.pk)})
        .context["table"]
        .paragraph
    )
