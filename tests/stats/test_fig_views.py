"""信访统计 page, the cases behind a figure, the 统计表: exact figures on bulk fixtures, scope,
bad input, fixed query count."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client

from xinfang.cases.models import Case, Category
from xinfang.stats.forms import figure_url

from .factory import at, bulk_cases


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def fig_data(world: Any) -> Any:
    """March 2026 at the district office (and one at 东湖街道), March 2025 for 同比."""
    l1 = Category.objects.filter(level=1).order_by("id").first()
    l2 = Category.objects.filter(level=2, parent=l1).order_by("id").first()
    assert l1 is not None and l2 is not None
    bulk_cases(
        world,
        [
            (3, {"received_at": at("2026-03-02")}),  # 个人访 ×3
            (2, {"received_at": at("2026-03-05"), "headcount": 3}),  # 群体访 ×2 = 6 人
            (1, {"received_at": at("2026-03-31", 23), "headcount": 7, "is_skip_level": True}),
            (4, {"channel": "letter", "received_at": at("2026-03-10"), "category": l2}),
            (2, {"channel": "phone", "purpose": "accusation", "received_at": at("2026-03-11")}),
            (
                1,
                {
                    "channel": "online",
                    "office_unit": world.street,
                    "is_repeat": True,
                    "place_code": "110105001",
                    "received_at": at("2026-03-12"),
                },
            ),
            (1, {"received_at": at("2026-04-01", 0)}),  # outside March
            (2, {"received_at": at("2025-03-03")}),
            (2, {"channel": "letter", "received_at": at("2025-03-04")}),
        ],
    )
    return {"l1": l1, "l2": l2}


MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def cells(html: str) -> list[str]:
    return re.findall(r'class="fig" href="[^"]*">(\d+)</a>', html)


def test_intake_by_channel_group_exact(world: Any, fig_data: Any) -> None:
    r = login(world.alice).get("/stats/intake/", MARCH)
    assert r.status_code == 200
    t = r.context["table"]
    got = {row.label: (row.batches.value, row.persons.value) for row in t.rows}
    assert got == {"来访": (6, 16), "来信": (4, 4), "来电（热线）": (2, 2), "网上信访": (1, 1)}
    assert (t.total.batches.value, t.total.persons.value) == (13, 23)
    assert (t.total.prev_batches.value, t.total.prev_persons.value) == (4, 4)
    visit = t.rows[0]
    assert (visit.prev_batches.value, visit.change_batches, visit.change_persons) == (
        2,
        "+200%",
        "+700%",
    )
    phone = next(row for row in t.rows if row.label == "来电（热线）")
    assert phone.change_batches == "去年同期无"
    assert "共接待群众来访6批（次）、16人（次）" in t.paragraph


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("kind", {"个人": (10, 10), "群体": (2, 6), "集体": (1, 7)}),
        ("purpose", {"申诉求决": (11, 21), "检举控告": (2, 2)}),
        ("office_id", {"区信访局": (12, 22), "东湖街道": (1, 1)}),
        ("place_id", {"属地不明": (12, 22), "东湖街道": (1, 1)}),
        ("month", {"2026年3月": (13, 23)}),
    ],
)
def test_intake_group_by(world: Any, fig_data: Any, by: str, expected: dict[str, Any]) -> None:
    r = login(world.alice).get("/stats/intake/", {**MARCH, "by": by, "compare": "none"})
    assert r.status_code == 200
    got = {row.label: (row.batches.value, row.persons.value) for row in r.context["table"].rows}
    assert got == expected


def test_intake_by_category(world: Any, fig_data: Any) -> None:
    c = login(world.alice)
    for by, name in (("category_id", fig_data["l2"].name), ("category_l1", fig_data["l1"].name)):
        rows = c.get("/stats/intake/", {**MARCH, "by": by}).context["table"].rows
        got = {row.label: row.batches.value for row in rows}
        assert got == {name: 4, "未分类": 9}


def test_every_number_links_to_its_cases(world: Any, fig_data: Any) -> None:
    c = login(world.alice)
    for by in (
        "channel_group",
        "kind",
        "category_l1",
        "category_id",
        "place_id",
        "office_id",
        "purpose",
        "month",
        "day",
    ):
        t = c.get("/stats/intake/", {**MARCH, "by": by}).context["table"]
        for row in [*t.rows, t.total]:
            for fig in (row.batches, row.persons, row.prev_batches, row.prev_persons):
                if fig is None or not fig.url:
                    continue
                page = c.get(fig.url)
                assert page.status_code == 200, fig.url
                found = page.context["found"]
                assert found.figure == fig.value, (by, row.label, fig.url)
                if "measure=persons" in fig.url:
                    assert found.persons == fig.value
                else:
                    assert found.cases == fig.value


def test_cases_page_lists_and_masks(world: Any, fig_data: Any) -> None:
    url = figure_url(
        table="i", measure="batches", unit=world.district.pk, channel_group="phone", **MARCH
    )
    r = login(world.alice).get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert "批次 2" in body and body.count('<tr><td><a href="/cases/') == 2
    assert "保密" in body and "统计测试" not in body  # 检举控告 summary masked


def test_hidden_cases_are_counted_not_listed(world: Any, fig_data: Any) -> None:
    """A 检举控告 naming alice's unit is counted in the figure but not listed to her."""
    accusation = Case.objects.filter(purpose="accusation").first()
    assert accusation is not None
    accusation.accused_units.add(world.office)
    url = figure_url(
        table="i", measure="batches", unit=world.district.pk, purpose="accusation", **MARCH
    )
    r = login(world.alice).get(url)
    found = r.context["found"]
    assert (found.figure, found.cases, found.hidden) == (2, 2, 1)
    assert r.context["page"].paginator.count == 1
    assert "另有1件您无权查看" in r.content.decode()
    xlsx = login(world.alice).get("/stats/export/cases.xlsx?" + url.split("?")[1])
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and "另有1件无权查看" in rows[1][0]


def test_scope_404s(world: Any, fig_data: Any) -> None:
    assert login(world.uma).get("/stats/intake/", {"unit": world.sibling.pk}).status_code == 404
    assert login(world.uma).get("/stats/intake/", {"unit": world.district.pk}).status_code == 404
    assert login(world.bob).get("/stats/intake/").status_code == 404
    assert (
        login(world.alice)
        .get("/stats/cases/", {"unit": world.street.pk, "office": world.office.pk})
        .status_code
        == 404
    )
    assert Client().get("/stats/intake/").status_code == 302
    assert login(world.uma).get("/stats/form/", {"unit": world.sibling.pk}).status_code == 404


def test_bad_input_is_kept_with_chinese_error(world: Any, fig_data: Any) -> None:
    c = login(world.alice)
    r = c.get("/stats/intake/", {"start": "2026-03-31", "end": "2026-03-01", "kind": "3"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "结束日期不能早于开始日期" in body
    assert 'value="2026-03-31"' in body and '<option value="3" selected>' in body
    r = c.get("/stats/intake/", {"start": "2026-02-30"})
    assert "请输入有效日期" in r.content.decode() and 'value="2026-02-30"' in r.content.decode()
    r = c.get("/stats/intake/", {"start": "2025-01-01", "end": "2026-03-31", "by": "day"})
    assert r.status_code == 400 and "按日分组最多366天" in r.content.decode()
    r = c.get("/stats/cases/", {**MARCH, "measure": "nope"})
    assert r.status_code == 400 and "指标" in r.content.decode()


def test_intake_page_query_count_is_fixed(
    world: Any, fig_data: Any, django_assert_max_num_queries: Any
) -> None:
    c = login(world.alice)
    c.get("/stats/intake/", MARCH)
    with django_assert_max_num_queries(40) as small:
        c.get("/stats/intake/", {**MARCH, "by": "office_id"})
    n = len(small.captured_queries)
    bulk_cases(world, [(50, {"received_at": at("2026-03-15"), "office_unit": world.street})])
    with django_assert_max_num_queries(n):
        c.get("/stats/intake/", {**MARCH, "by": "office_id"})


def test_national_form_figures(world: Any, fig_data: Any) -> None:
    r = login(world.alice).get("/stats/form/", MARCH)
    assert r.status_code == 200
    rows = {row.label: row for row in r.context["table"].rows}
    v = lambda label: [c.value for c in rows[label].cells]  # noqa: E731
    assert v("来访") == [6, 16, 2, 2, 6, 16, 2, 2]
    assert v("其中：集体访")[:2] == [1, 7]
    assert v("群体访")[:2] == [2, 6]
    assert v("个人访")[:2] == [3, 3]
    assert v("越级访")[:2] == [1, 7]
    assert v("来信")[:4] == [4, 4, 2, 2]
    assert rows["来信"].changes[0] == "+100%"
    assert v("合计")[:4] == [13, 23, 4, 4]
    assert v("检举控告")[:2] == [2, 2]
    assert rows["来电（热线）"].changes[0] == "去年同期无"
    body = r.content.decode()
    for word in (
        "信访情况统计表",
        "填报单位：示范区",
        "单位：批、人次",
        "制表人",
        "审核人",
        "填报日期",
    ):
        assert word in body
    assert Case.objects.count() == 18


def test_cases_and_form_query_counts_are_fixed(
    world: Any, fig_data: Any, django_assert_max_num_queries: Any
) -> None:
    c = login(world.alice)
    urls = [
        figure_url(table="i", measure="batches", unit=world.district.pk, **MARCH),
        "/stats/form/?start=2026-03-01&end=2026-03-31",
    ]
    counts = []
    for url in urls:
        c.get(url)
        with django_assert_max_num_queries(60) as q:
            c.get(url)
        counts.append(len(q.captured_queries))
    bulk_cases(world, [(80, {"received_at": at("2026-03-20"), "channel": "letter"})])
    for url, n in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(n):
            c.get(url)


def test_repeated_place_means_any_of_them(world: Any, fig_data: Any) -> None:
    """The dashboard links a bucket of places as place=3&place=4."""
    bulk_cases(world, [(2, {"place_code": "110105002", "received_at": at("2026-03-20")})])
    c = login(world.alice)
    base = "/stats/cases/?table=i&measure=batches&start=2026-03-01&end=2026-03-31"
    base += f"&unit={world.district.pk}"
    one = c.get(base + f"&place={world.street.pk}").context["found"]
    both = c.get(base + f"&place={world.street.pk}&place={world.sibling.pk}")
    assert (one.figure, both.context["found"].figure, both.context["found"].cases) == (1, 3, 3)
    assert "问题属地 2处" in both.content.decode()
    assert f"place={world.street.pk}&amp;place={world.sibling.pk}" in both.content.decode()
