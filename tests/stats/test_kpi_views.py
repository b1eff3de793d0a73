"""/stats/kpi/ pages: who may read and change what, the formula text, links to the cases,
bad input kept, XLSX audited, a fixed number of queries."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from tests.stats.test_kpi_util import build
from xinfang.audit.models import AuditEntry
from xinfang.stats import kpi
from xinfang.stats.models import AssessmentScheme, VetoFlag

SEPT = {"start": "2026-09-01", "end": "2026-09-30"}


def client_of(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def scheme_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        **{k.code: str(w) for k, w in zip(kpi.KPIS, (15, 25, 10, 25, 10, 15, 0), strict=True)},
        "zero": "full",
        "grade_excellent": "90",
        "grade_good": "75",
        "grade_pass": "60",
        "veto_rules": "\n".join(f"{r['code']}|{r['label']}" for r in kpi.DEFAULT_VETO_RULES),
    }
    data.update(overrides)
    return data


def test_page_shows_ranking_formulas_and_links(world: World) -> None:
    build(world)
    r = client_of(world.leo).get("/stats/kpi/", {**SEPT, "unit": str(world.district.pk)})
    assert r.status_code == 200
    html = r.content.decode()
    for k in kpi.KPIS:
        assert k.name in html and k.formula in html
    assert "77.5" in html and "72.5" in html and "良好" in html
    # each number links to the cases behind it (the stats_cases format)
    assert (
        f"/stats/cases/?table=h&amp;measure=accept_timely&amp;start=2026-09-01"
        f"&amp;end=2026-09-30&amp;unit={world.sibling.pk}"
    ) in html
    assert f"/cases/?unit={world.sibling.pk}&amp;deadline=overdue" in html
    assert 'src="data:image/svg+xml;base64,' in html and 'alt="考核得分' in html
    assert "本级" in html and "合计" in html


def test_default_period_and_scope(world: World) -> None:
    r = client_of(world.leo).get("/stats/kpi/")
    assert r.status_code == 200
    assert r.context["scope"] == world.district
    assert r.context["period"].kind == "month"


@pytest.mark.parametrize("who", ["bob", "rita", "sam"])
def test_non_readers_get_404(world: World, who: str) -> None:
    c = client_of(getattr(world, who))
    for url in ("/stats/kpi/", "/stats/kpi/scheme/", "/stats/kpi/vetoes/"):
        assert c.get(url).status_code == 404, (who, url)


def test_anonymous_is_sent_to_login(world: World) -> None:
    r = Client().get("/stats/kpi/")
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_unit_outside_scope_is_404(world: World) -> None:
    uma = client_of(world.uma)  # 单位负责人 of 东湖街道
    assert uma.get("/stats/kpi/", {"unit": world.street.pk}).status_code == 200
    assert uma.get("/stats/kpi/", {"unit": world.sibling.pk}).status_code == 404
    assert uma.get("/stats/kpi/", {"unit": "abc"}).status_code == 404


def test_bad_dates_are_kept_with_a_chinese_error(world: World) -> None:
    r = client_of(world.leo).get("/stats/kpi/", {"start": "2026-09-30", "end": "2026-09-01"})
    assert r.status_code == 400
    html = r.content.decode()
    assert "结束日期不能早于开始日期" in html and 'value="2026-09-30"' in html
    r = client_of(world.leo).get("/stats/kpi/", {"start": "2026-13-01", "end": "2026-09-01"})
    assert r.status_code == 400 and "请输入有效日期" in r.content.decode()
    assert 'value="2026-13-01"' in r.content.decode()


def test_query_count_is_fixed(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinfang.org.models import Unit, UnitType

    build(world)
    c = client_of(world.leo)
    c.get("/stats/kpi/", SEPT)  # the default scheme exists after the first view

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/stats/kpi/", SEPT).status_code == 200
        return len(ctx)

    first = count()
    assert first <= 20
    for i in range(5):  # more units (and a level below): the same number of queries
        street = Unit.objects.create(
            name=f"新街道{i}", unit_type=UnitType.STREET, parent=world.district
        )
        Unit.objects.create(name=f"新社区{i}", unit_type=UnitType.COMMUNITY, parent=street)
    assert count() == first


def test_xlsx_export_is_audited(world: World) -> None:
    import openpyxl

    build(world)
    before = AuditEntry.objects.filter(action="export").count()
    r = client_of(world.leo).get("/stats/kpi/", {**SEPT, "format": "xlsx"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEntry.objects.filter(action="export").count() == before + 1
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book["考核排名"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    first = values[0]
    assert first[0] == 1 and first[1] == "西山街道" and first[2] == 77.5
    assert first[5] == 0.5 and first[6] == 1 and first[7] == 2  # 及时受理率, 分子, 分母
    assert "指标口径" in book.sheetnames


def test_scheme_permissions(world: World) -> None:
    assert client_of(world.uma).get("/stats/kpi/scheme/").status_code == 200  # reads it
    r = client_of(world.uma).post("/stats/kpi/scheme/", scheme_post())
    assert r.status_code == 403 and "领导或办案员" in r.content.decode()
    assert client_of(world.bob).post("/stats/kpi/scheme/", scheme_post()).status_code == 404


def test_scheme_edit_errors_keep_input_and_success_is_audited(world: World) -> None:
    leo = client_of(world.leo)
    zeros = {k.code: "0" for k in kpi.KPIS}
    r = leo.post("/stats/kpi/scheme/", scheme_post(**zeros, veto_rules="坏的一行"))
    assert r.status_code == 400
    html = r.content.decode()
    assert "权重之和须大于0" in html and "第1行格式不正确" in html and "坏的一行" in html
    r = leo.post("/stats/kpi/scheme/", scheme_post(satisfaction="120"))
    assert r.status_code == 400 and "「满意率」的权重不能大于100" in r.content.decode()
    assert 'value="120"' in r.content.decode()
    r = leo.post("/stats/kpi/scheme/", scheme_post(grade_good="95"))
    assert r.status_code == 400 and "优秀 &gt; 良好 &gt; 合格" in r.content.decode()
    before = AuditEntry.objects.count()
    r = leo.post("/stats/kpi/scheme/", scheme_post(participation="40"))
    assert r.status_code == 302
    scheme = AssessmentScheme.objects.get()
    assert kpi.weights_of(scheme)["participation"] == 40 and scheme.updated_by == world.leo
    assert AuditEntry.objects.count() == before + 1


def test_post_needs_csrf(world: World) -> None:
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.leo)
    assert c.post("/stats/kpi/scheme/", scheme_post()).status_code == 403
    assert c.post("/stats/kpi/vetoes/", {}).status_code == 403


def veto_post(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "v-unit": str(world.sibling.pk),
        "v-code": "abnormal_visit",
        "v-period_start": "2026-09-01",
        "v-period_end": "2026-09-30",
        "v-reason": "9月15日发生赴省集体访一批12人。",
        "v-case_number": "",
    }
    data.update(overrides)
    return data


def test_veto_add_and_revoke(world: World) -> None:
    build(world)
    leo = client_of(world.leo)
    r = leo.post("/stats/kpi/vetoes/", veto_post(world, **{"v-reason": "太短了"}))
    assert r.status_code == 400 and "不少于10个字" in r.content.decode()
    assert "太短了" in r.content.decode()
    r = leo.post("/stats/kpi/vetoes/", veto_post(world, **{"v-case_number": "NOPE"}))
    assert r.status_code == 400 and "未找到该编号" in r.content.decode()
    r = leo.post("/stats/kpi/vetoes/", veto_post(world, **{"v-unit": "999999"}))
    assert r.status_code == 400 and "请选择您统计范围内的单位" in r.content.decode()
    r = leo.post("/stats/kpi/vetoes/", veto_post(world))
    assert r.status_code == 302
    flag = VetoFlag.objects.get()
    page = client_of(world.leo).get("/stats/kpi/", SEPT).content.decode()
    assert "一票否决" in page and "badge-veto" in page
    assert (
        client_of(world.uma)
        .post(f"/stats/kpi/vetoes/{flag.pk}/revoke/", {"reason": "不属实情况"})
        .status_code
        == 404
    )
    r = leo.post(f"/stats/kpi/vetoes/{flag.pk}/revoke/", {"reason": ""})
    assert r.status_code == 400 and "请填写撤销理由" in r.content.decode()
    r = leo.post(f"/stats/kpi/vetoes/{flag.pk}/revoke/", {"reason": "经核实不属实"})
    assert r.status_code == 302
    flag.refresh_from_db()
    assert flag.revoked_by == world.leo and flag.revoke_reason == "经核实不属实"
    assert leo.get(f"/stats/kpi/vetoes/{flag.pk}/revoke/").status_code == 405


def test_veto_add_refused_to_unit_heads(world: World) -> None:
    r = client_of(world.uma).post("/stats/kpi/vetoes/", veto_post(world))
    assert r.status_code == 403
    assert VetoFlag.objects.count() == 0


def test_a_numerator_link_opens_its_cases(world: World) -> None:
    k = build(world)
    leo = client_of(world.leo)
    page = leo.get("/stats/kpi/", SEPT)
    row = next(t for t in page.context["table"] if t["row"].unit == world.sibling)
    url = next(c["num_url"] for c in row["rates"] if c["rate"].kpi.code == "timely_accept")
    r = leo.get(url)
    assert r.status_code == 200
    html = r.content.decode()
    assert k.cases["D"].number in html and k.cases["C"].number not in html
