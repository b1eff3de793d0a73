"""Hotspots (热点发现): clustering, ranking, 环比 wording, windows in local dates, visibility,
检举控告 text never clustered, and who may open the page and the API."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import World, make_user
from xinfang.intel import hotspots as H
from xinfang.intel import topics
from xinfang.intel.models import CaseTopicTerms
from xinfang.org import roles as R

SH = ZoneInfo("Asia/Shanghai")
FEE = [
    (
        "反映阳光花园小区物业公司上调物业费",
        "阳光花园物业公司未经业主大会同意，将物业费上调至每平方米1.8元。",
    ),
    ("阳光花园物业费上调不合理", "阳光花园小区物业公司擅自上调物业费，业主大会没有表决。"),
    ("阳光花园小区物业公司乱涨物业费", "物业公司上调物业费，阳光花园业主强烈反对。"),
]
WAGES = [
    ("宏达建筑公司拖欠农民工工资", "宏达建筑公司在城南工地拖欠农民工工资八个月。"),
    ("反映宏达建筑拖欠工资", "宏达建筑公司拖欠我们农民工工资，包工头失联。"),
    ("宏达建筑公司欠薪", "城南工地宏达建筑公司拖欠农民工工资至今未付。"),
]
CANTEEN = ("实验小学食堂卫生差", "实验小学食堂饭菜变质，学生腹泻。")
SECRET_WORD = "挪用扶贫款"


@pytest.fixture(autouse=True)
def _no_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _doc(i: Any, text: tuple[str, str], day: dt.date, **kw: Any) -> H.Doc:
    return H.Doc(id=i, day=day, terms=topics.terms_of(*text), **kw)


# --- clustering and ranking (no database) -----------------------------------------------------


def test_same_topic_texts_cluster_and_different_topics_do_not() -> None:
    texts = FEE + WAGES + [CANTEEN]
    counts = [topics.terms_of(*t) for t in texts]
    idf = topics.idf_of(counts)
    keys = [topics.keyword_set(c, idf) for c in counts]
    labels = topics.cluster(keys, [0] * len(keys), idf)
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4] == labels[5]
    assert labels[0] != labels[3]
    assert labels[6] not in {labels[0], labels[3]}
    # Different first-level categories (blocks) never share a cluster, however similar.
    blocked = topics.cluster(keys[:2], ["a", "b"], idf)
    assert blocked[0] != blocked[1]
    # Deterministic: the same input gives the same labels.
    assert topics.cluster(keys, [0] * len(keys), idf) == labels


def test_cluster_keywords_name_the_matter() -> None:
    window = H.Window(dt.date(2026, 3, 31), 30)
    docs = [_doc(i, t, window.end) for i, t in enumerate(FEE + WAGES)]
    ranked = H.rank(docs, window)
    assert len(ranked) == 2
    words = {w for h in ranked for w in h.keywords}
    assert "物业费" in words and "宏达" in words


def test_score_formula_terms() -> None:
    parts = H.score_parts(
        cases=4, persons=14, prev_cases=1, repeat=2, skip_level=1, collective=1, likes=6, dislikes=1
    )
    assert parts == pytest.approx(
        {
            "cases": 4,
            "persons": 0.2 * 10,
            "repeat": 0.5 * 2,
            "skip_level": 1.0,
            "collective": 2.0,
            "growth": 0.5 * 3,
            "reaction": 1.0 * 2.0794415,  # ln(1 + 7)
        }
    )
    # A shrinking topic is not penalised below its volume.
    assert (
        H.score_parts(cases=3, persons=3, prev_cases=9, repeat=0, skip_level=0, collective=0)[
            "growth"
        ]
        == 0
    )


def test_ranking_order_collective_growth_and_reactions() -> None:
    window = H.Window(dt.date(2026, 3, 31), 30)
    day, before = window.end, window.start - dt.timedelta(days=3)
    fee = [_doc(f"f{i}", t, day) for i, t in enumerate(FEE)]  # 3 cases, 3 persons
    wages = [_doc("w0", WAGES[0], day, persons=30, collective=True), _doc("w1", WAGES[1], day)]
    # 2 cases but 31 persons, one collective visit: 2 + 0.2·29 + 2 + 0.5·2 = 10.8 > fee's 4.5
    ranked = H.rank(fee + wages, window)
    assert [h.cases for h in ranked] == [2, 3]
    assert ranked[0].score == pytest.approx(10.8)
    assert ranked[1].score == pytest.approx(4.5)
    # The same fee cases were as many last window: no growth bonus, 环比持平.
    old = [_doc(f"o{i}", t, before) for i, t in enumerate(FEE)]
    fee_now = next(h for h in H.rank(fee + old, window) if h.cases == 3)
    assert fee_now.parts["growth"] == 0 and fee_now.growth_text == "环比持平"
    # Public reactions lift an otherwise equal topic.
    plain = H.rank(fee + [_doc(f"g{i}", t, day) for i, t in enumerate(WAGES)], window)
    assert plain[0].score == plain[1].score
    liked = H.rank(
        fee + [_doc(f"g{i}", t, day) for i, t in enumerate(WAGES)], window, {"g1": (20, 2)}
    )
    assert liked[0].member_ids[0].startswith("g") and liked[0].likes == 20


def test_confidential_docs_are_never_clustered() -> None:
    window = H.Window(dt.date(2026, 3, 31), 7)
    docs = [_doc(i, FEE[i], window.end, confidential=True) for i in range(3)]
    report = H.build_report(docs, window)
    assert report.hotspots == [] and report.confidential_cases == 3


@pytest.mark.parametrize(
    ("now", "before", "text"),
    [
        (12, 8, "环比上升50%"),
        (4, 8, "环比下降50%"),
        (5, 5, "环比持平"),
        (3, 0, "上期无"),
        (0, 0, "持平"),
        (1001, 1000, "环比上升0.1%"),
        (0, 4, "环比下降100%"),
    ],
)
def test_growth_wording(now: int, before: int, text: str) -> None:
    assert H.growth_text(now, before) == text


def test_summary_sentence() -> None:
    window = H.Window(dt.date(2026, 3, 31), 30)
    docs = [_doc(i, t, window.end, place="东湖街道") for i, t in enumerate(FEE)]
    report = H.build_report(docs, window)
    sentence = H.summary_sentence(report)
    assert sentence.startswith("近30天热点：东湖街道·")
    assert sentence.endswith("（3件、3人次，上期无）。")
    empty = H.build_report([], window)
    assert H.summary_sentence(empty) == "近30天未形成热点（共0件、0人次）。"


def test_window_dates_and_bounds_are_local() -> None:
    w = H.Window(dt.date(2026, 3, 31), 7)
    assert (w.start, w.prev_start, w.prev_end) == (
        dt.date(2026, 3, 25),
        dt.date(2026, 3, 18),
        dt.date(2026, 3, 24),
    )
    prev, start, end = w.bounds()
    assert start == dt.datetime(2026, 3, 24, 16, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC)
    assert prev == dt.datetime(2026, 3, 17, 16, 0, tzinfo=dt.UTC)
    assert [H.Window(w.end, d).bucket_days for d in (7, 30, 90)] == [1, 3, 7]


# --- from the database ------------------------------------------------------------------------


def _register_fee(register: Any, when: dt.datetime, n: int = 3, **kw: Any) -> list[Any]:
    return [
        register(summary=FEE[i % 3][0], content=FEE[i % 3][1], received_at=when, **kw)
        for i in range(n)
    ]


@pytest.fixture
def register_at(world: World) -> Any:
    """Register at a given office (the shared ``register`` fixture always uses 区信访局)."""
    from tests.conftest import registration
    from xinfang.cases.registration import case_register

    def _register(office: Any, by: Any, **overrides: Any) -> Any:
        return case_register(by=by, office=office, reg=registration(**overrides))

    return _register


def test_window_boundaries_in_shanghai_time(world: World, register: Any) -> None:
    end = dt.date(2026, 3, 31)

    def local(*a: int) -> dt.datetime:
        return dt.datetime(*a, tzinfo=SH)  # type: ignore[misc, arg-type]

    _register_fee(register, local(2026, 3, 25, 0, 0, 30), n=2)  # first minute: current
    _register_fee(register, local(2026, 3, 31, 23, 59, 59), n=1)  # last second: current
    _register_fee(register, local(2026, 3, 24, 23, 59, 0), n=2)  # previous window
    _register_fee(register, local(2026, 4, 1, 0, 0, 1), n=1)  # after the end: not counted
    _register_fee(register, local(2026, 3, 17, 23, 59, 0), n=1)  # before the previous window
    report = H.hotspots(world.alice, end=end, days=7, use_cache=False)
    assert (report.total_cases, report.prev_cases) == (3, 2)
    [hot] = report.hotspots
    assert (hot.cases, hot.prev_cases, hot.growth_text) == (3, 2, "环比上升50%")
    assert hot.trend[0] == ("03-25", 2) and hot.trend[-1] == ("03-31", 1)


def test_other_units_cases_are_not_counted(world: World, register: Any, register_at: Any) -> None:
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    _register_fee(register, when)  # at 区信访局: the district's scope
    desk = make_user("dh_desk", world.street, R.RECEPTIONIST)
    street_leader = make_user("dh_leader", world.street, R.LEADER)
    sibling_leader = make_user("xs_leader", world.sibling, R.LEADER)
    for i in range(2):
        register_at(world.street, desk, summary=WAGES[i][0], content=WAGES[i][1], received_at=when)
    end = dt.date(2026, 3, 31)
    by_leo = H.hotspots(world.leo, end=end, days=7, use_cache=False)
    by_street = H.hotspots(street_leader, end=end, days=7, use_cache=False)
    by_sibling = H.hotspots(sibling_leader, end=end, days=7, use_cache=False)
    assert by_leo.total_cases == 5
    assert by_street.total_cases == 2 and [h.cases for h in by_street.hotspots] == [2]
    assert "宏达" in by_street.hotspots[0].keywords
    assert by_sibling.total_cases == 0 and by_sibling.hotspots == []


def test_street_scope_and_accused_user(world: World, register: Any, register_at: Any) -> None:
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    desk = make_user("dh_desk2", world.street, R.RECEPTIONIST)
    for i in range(2):
        register_at(world.street, desk, summary=WAGES[i][0], content=WAGES[i][1], received_at=when)
    _register_fee(register, when)
    end = dt.date(2026, 3, 31)
    assert H.hotspots(world.hank, end=end, days=7, use_cache=False).total_cases == 2
    # An accusation naming leo personally: leo does not count it, alice counts it (text hidden).
    register(
        purpose="accusation",
        summary=f"检举某干部{SECRET_WORD}",
        content=f"某干部{SECRET_WORD}二十万元。",
        accused_person_ids=[world.leo.pk],
        received_at=when,
    )
    by_leo = H.hotspots(world.leo, end=end, days=7, use_cache=False)
    by_alice = H.hotspots(world.alice, end=end, days=7, use_cache=False)
    assert (by_leo.total_cases, by_leo.confidential_cases) == (5, 0)
    assert (by_alice.total_cases, by_alice.confidential_cases) == (6, 1)


def test_confidential_text_never_reaches_keywords(world: World, register: Any) -> None:
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    secret = [
        register(
            purpose="accusation",
            summary=f"检举西山街道干部{SECRET_WORD}",
            content=f"西山街道副主任王某{SECRET_WORD}二十万元。",
            received_at=when,
        )
        for _ in range(3)
    ]
    _register_fee(register, when)
    end = dt.date(2026, 3, 31)
    report = H.hotspots(world.alice, end=end, days=7, use_cache=False)
    assert report.confidential_cases == 3 and report.total_cases == 6
    assert [h.cases for h in report.hotspots] == [3]
    everything = repr(report.hotspots)
    assert SECRET_WORD not in everything and "王某" not in everything
    # Their text was never read: no stored terms (the others have theirs, from registration).
    assert not CaseTopicTerms.objects.filter(case__in=secret).exists()
    assert CaseTopicTerms.objects.count() == 3
    body = _client(world.alice).get("/intel/hotspots/", {"end": "2026-03-31", "days": "7"})
    assert body.status_code == 200
    assert SECRET_WORD not in body.content.decode()


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- who may see the page and the API ---------------------------------------------------------


def test_page_for_office_staff_and_leaders_404_for_others(world: World, register: Any) -> None:
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    cases = _register_fee(register, when)
    query = {"end": "2026-03-31", "days": "7"}
    for user in (world.alice, world.rita, world.leo):
        response = _client(user).get("/intel/hotspots/", query)
        assert response.status_code == 200, user
        body = response.content.decode()
        assert "热点发现" in body and "3</strong> 件" in body
        assert all(c.number in body for c in cases)
    for user in (world.hank, world.uma, world.bob, world.sam):
        assert _client(user).get("/intel/hotspots/", query).status_code == 404, user
    anonymous = Client().get("/intel/hotspots/", query)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_api_same_rules(world: World, register: Any) -> None:
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    cases = _register_fee(register, when)
    url = "/api/intel/hotspots"
    response = _client(world.leo).get(url, {"end": "2026-03-31", "days": "7"})
    assert response.status_code == 200
    data = response.json()
    assert data["total_cases"] == 3 and data["start"] == "2026-03-25"
    [hot] = data["hotspots"]
    assert {m["number"] for m in hot["members"]} == {c.number for c in cases}
    assert hot["growth_text"] == "上期无" and data["sentence"].startswith("近7天热点：")
    for user in (world.hank, world.bob, world.sam):
        assert _client(user).get(url).status_code == 404
    assert Client().get(url).status_code == 401
    assert _client(world.leo).get(url, {"days": 14}).status_code == 422
    assert _client(world.leo).get(url, {"end": "1900-01-01"}).status_code == 422
    odd = _client(world.leo).get(url, {"place": "东湖\x00'%", "end": "2026-03-31", "days": "7"})
    assert odd.status_code == 200 and odd.json()["total_cases"] == 0


def test_home_section_for_leaders_only(world: World, register: Any) -> None:
    assert "热点发现（近30天）" in _client(world.leo).get("/").content.decode()
    assert "热点发现（近30天）" not in _client(world.alice).get("/").content.decode()
    nav = _client(world.alice).get("/").content.decode()
    assert 'href="/intel/hotspots/"' in nav
    assert 'href="/intel/hotspots/"' not in _client(world.hank).get("/").content.decode()
    # The sentence itself comes after the page (HTMX), for those who may see hotspots only.
    part = _client(world.leo).get("/intel/hotspots/summary/")
    assert part.status_code == 200 and "近30天" in part.content.decode()
    assert _client(world.hank).get("/intel/hotspots/summary/").status_code == 404


def test_terms_ignore_boilerplate_and_numbers() -> None:
    counts = topics.terms_of("反映问题", "请求相关部门尽快解决，电话13812345678，编号123456。")
    assert counts == Counter()


def test_cache_is_shared_only_by_the_same_scope(world: World, register: Any) -> None:
    """alice and rita (same district scope) share a cached report; leo, accused in one case,
    never gets theirs; a street leader gets the street's."""
    when = dt.datetime(2026, 3, 30, 10, tzinfo=SH)
    _register_fee(register, when)
    register(
        purpose="accusation",
        summary="检举某干部",
        accused_person_ids=[world.leo.pk],
        received_at=when,
    )
    end = dt.date(2026, 3, 31)
    assert H.scope_key(world.alice) == H.scope_key(world.rita) != H.scope_key(world.leo)
    first = H.hotspots(world.alice, end=end, days=7)
    assert not first.cached and first.total_cases == 4
    assert H.hotspots(world.rita, end=end, days=7).cached
    by_leo = H.hotspots(world.leo, end=end, days=7)
    assert not by_leo.cached and by_leo.total_cases == 3
    street_leader = make_user("dh_leader3", world.street, R.LEADER)
    by_street = H.hotspots(street_leader, end=end, days=7)
    assert not by_street.cached and by_street.total_cases == 0
