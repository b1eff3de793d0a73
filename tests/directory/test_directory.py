"""办事指南: competent_organs matching, the directory page and API, 告知 naming an organ."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from xinfang.cases import services as S
from xinfang.cases.models import Case, Category, Status
from xinfang.core.errors import DomainError
from xinfang.directory.demo import load_organs
from xinfang.directory.models import Organ, OrganKind
from xinfang.directory.services import competent_organs, organ_snapshot
from xinfang.documents.services import document_for_event

pytestmark = pytest.mark.django_db


def _cat(path: str) -> Category:
    return Category.objects.get(full_name=path)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def organs(world: World) -> dict[str, Organ]:
    labour = _cat("劳动和社会保障")
    relation = _cat("劳动和社会保障/劳动关系")
    court = Organ.objects.create(
        name="示范区人民法院",
        kind=OrganKind.COURT,
        legal_route=True,
        address="示范区法院路8号",
        phone="010-69981200",
        hours="周一至周五 9:00—17:00",
        sort=10,
    )
    court.categories.set([_cat("政法/诉讼")])
    arb = Organ.objects.create(
        name="示范区劳动人事争议仲裁委员会",
        kind=OrganKind.ARBITRATION,
        legal_route=True,
        address="示范区行政中心3号楼一层",
        phone="010-69981300",
        hours="周一至周五 8:30—17:30",
        notes="携带仲裁申请书、身份证件",
        sort=20,
    )
    arb.categories.set([relation])
    hr = Organ.objects.create(
        name="区人力资源和社会保障局", kind=OrganKind.DEPARTMENT, sort=5, address="行政中心3号楼"
    )
    hr.categories.set([labour])
    street = Organ.objects.create(
        name="东湖街道办事处",
        kind=OrganKind.STREET,
        unit=world.street,
        place_codes="110105001",
        sort=200,
    )
    sibling = Organ.objects.create(
        name="西山街道办事处", kind=OrganKind.STREET, place_codes="110105002", sort=201
    )
    closed = Organ.objects.create(name="已撤销机构", kind=OrganKind.OTHER, is_active=False)
    return {
        "court": court,
        "arb": arb,
        "hr": hr,
        "street": street,
        "sibling": sibling,
        "closed": closed,
    }


# --- matching ----------------------------------------------------------------------------------


def test_category_ancestor_and_specificity(organs: dict[str, Organ]) -> None:
    leaf = Category.objects.filter(full_name__startswith="劳动和社会保障/劳动关系/").first()
    assert leaf is not None
    got = competent_organs(leaf.pk, "")
    # The arbitration lists 劳动关系 (level 2), the 人社局 the level-1 ancestor: the more
    # specific first; the street offices list no category (属地, any content) come after;
    # the court (政法/诉讼) does not match; the inactive organ never.
    assert got[:2] == [organs["arb"], organs["hr"]]
    assert organs["court"] not in got and organs["closed"] not in got
    assert set(got[2:]) == {organs["street"], organs["sibling"]}


def test_place_prefix(organs: dict[str, Organ]) -> None:
    got = competent_organs(None, "110105001003")  # a community of 东湖街道
    assert organs["street"] in got and organs["sibling"] not in got
    # A longer matching prefix ranks first among equally matching categories.
    assert got.index(organs["street"]) < got.index(organs["court"])
    other = Organ.objects.create(name="示范区某中心", kind=OrganKind.OTHER, place_codes="1101")
    got = competent_organs(None, "110105001003")
    assert got.index(organs["street"]) < got.index(other)
    # Several prefixes, full-width comma accepted.
    other.place_codes = "120000，110105002"
    other.save()
    assert other in competent_organs(None, "110105002001")
    assert other not in competent_organs(None, "110105001001")


def test_keyword_and_kind(organs: dict[str, Organ]) -> None:
    assert competent_organs(None, "", "仲裁") == [organs["arb"]]
    assert competent_organs(None, "", "诉讼") == [organs["court"]]  # by category name
    assert competent_organs(None, "", kind=OrganKind.STREET) == [
        organs["street"],
        organs["sibling"],
    ]
    assert set(competent_organs(None, "", legal_only=True)) == {organs["court"], organs["arb"]}


def test_demo_organs_link_categories_and_units(world: World) -> None:
    units = {"rs": world.street, "dh": world.street}
    n = load_organs(units)
    assert n == 11  # 10 organs + the one street given
    assert load_organs(units) == n  # idempotent
    assert Organ.objects.count() == 11
    court = Organ.objects.get(name="示范区人民法院")
    assert court.legal_route and court.categories.filter(full_name="政法/诉讼").exists()
    assert Organ.objects.get(name="东湖街道办事处").place_codes == "110105001"


# --- 告知 with an organ -------------------------------------------------------------------------


def test_inform_with_organ_snapshot_and_notice(
    world: World, register: Any, organs: dict[str, Organ]
) -> None:
    case = register(summary="反映公司拖欠工资", category_id=_cat("劳动和社会保障/劳动关系").pk)
    ev = S.case_inform(
        case=case,
        by=world.rita,
        reason="经审查，你反映的问题属于劳动争议，不属于本机关职责范围。",
        organ_id=organs["arb"].pk,
    )
    assert ev.kind == "inform" and case.status == Status.INFORMED
    assert ev.data["organ"]["name"] == "示范区劳动人事争议仲裁委员会"
    assert ev.data["organ"]["legal_route"] is True
    # The snapshot is what the notice prints: editing the directory later changes nothing.
    organs["arb"].phone = "999-NEW"
    organs["arb"].save()
    doc = document_for_event(ev, by=world.rita)
    text = "\n".join(p["heading"] + p["text"] for p in doc.body["paragraphs"])
    assert "示范区劳动人事争议仲裁委员会" in text
    assert "地址：示范区行政中心3号楼一层" in text
    assert "电话：010-69981300" in text and "999-NEW" not in text
    assert "办公时间：周一至周五 8:30—17:30" in text
    assert "须知：携带仲裁申请书" in text
    assert "仲裁时效期间为一年" in text and "二、法定途径" in text
    assert not re.search(r"第[一二三四五六七八九十百零\d]+条", text)  # no article numbers
    html = _client(world.rita).get(f"/documents/{doc.pk}/").content.decode()
    assert "示范区劳动人事争议仲裁委员会" in html and "010-69981300" in html


def test_inform_without_organ_unchanged(world: World, register: Any) -> None:
    ev = S.case_inform(case=register(), by=world.rita, reason="属于涉法涉诉事项。")
    assert "organ" not in ev.data
    doc = document_for_event(ev)
    assert "有权处理机关" not in str(doc.body)


def test_inform_rejects_unknown_or_inactive_organ(
    world: World, register: Any, organs: dict[str, Organ]
) -> None:
    case = register()
    for organ_id in (organs["closed"].pk, 999_999):
        with pytest.raises(DomainError) as exc:
            S.case_inform(case=case, by=world.rita, reason="不属本单位管辖。", organ_id=organ_id)
        assert exc.value.field == "organ"
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and not case.events.filter(kind="inform").exists()


# --- pages ---------------------------------------------------------------------------------------


def test_directory_page_filters_and_access(world: World, organs: dict[str, Organ]) -> None:
    c = _client(world.hank)  # any case reader
    html = c.get("/directory/").content.decode()
    assert "示范区人民法院" in html and "涉法涉诉事项的法定途径" in html
    assert "已撤销机构" not in html
    relation = _cat("劳动和社会保障/劳动关系")
    html = c.get(f"/directory/?category={relation.pk}&place=110105002").content.decode()
    assert "示范区劳动人事争议仲裁委员会" in html and "西山街道办事处" in html
    assert "东湖街道办事处" not in html and "示范区人民法院</strong>" not in html
    assert "仲裁" in c.get("/directory/?q=仲裁").content.decode()
    # A bad filter value keeps the page (no 500) and says so.
    assert c.get("/directory/?category=abc").status_code == 200
    # Not a case reader (系统管理员): no access.
    assert _client(world.sam).get("/directory/").status_code == 403
    # Desk staff get the path to register a non-jurisdiction visit.
    assert "desk_purpose=not_ours" in _client(world.rita).get("/directory/").content.decode()


def test_directory_paginates(world: World) -> None:
    for i in range(25):
        Organ.objects.create(name=f"机关{i:02d}", kind=OrganKind.OTHER, sort=i)
    html = _client(world.rita).get("/directory/").content.decode()
    assert "第 1 / 2 页" in html
    assert "机关24" in _client(world.rita).get("/directory/?page=2").content.decode()


def test_inform_page_flow(world: World, register: Any, organs: dict[str, Organ]) -> None:
    case = register(summary="反映公司拖欠工资", category_id=_cat("劳动和社会保障/劳动关系").pk)
    c = _client(world.rita)
    detail = c.get(f"/cases/{case.pk}/").content.decode()
    assert "告知（不属本单位管辖）" in detail and "示范区劳动人事争议仲裁委员会" in detail
    page = c.get(f"/directory/cases/{case.pk}/inform/").content.decode()
    assert "推荐（按本事项的内容分类和属地）" in page
    # Errors keep what was typed.
    bad = c.post(f"/directory/cases/{case.pk}/inform/", {"organ": "", "reason": "不属本单位管辖X"})
    assert bad.status_code == 200 and "不属本单位管辖X" in bad.content.decode()
    ok = c.post(
        f"/directory/cases/{case.pk}/inform/",
        {"organ": organs["arb"].pk, "reason": "你反映的劳动争议应先申请仲裁。"},
    )
    assert ok.status_code == 302 and ok["Location"].startswith("/documents/")
    printed = c.get(ok["Location"]).content.decode()
    assert (
        "告知单" in printed and "010-69981300" in printed and "示范区行政中心3号楼一层" in printed
    )
    case.refresh_from_db()
    assert case.status == Status.INFORMED
    # No longer offered once informed; the page refuses.
    assert "directory-inform-link" not in c.get(f"/cases/{case.pk}/").content.decode()
    assert c.get(f"/directory/cases/{case.pk}/inform/").status_code == 403


def test_inform_page_access(world: World, register: Any, organs: dict[str, Organ]) -> None:
    case = register()
    # bob (another street) cannot see the case: 404; hank sees nothing to do: no panel, 403.
    assert _client(world.bob).get(f"/directory/cases/{case.pk}/inform/").status_code == 404
    S.case_assign(case=case, by=world.alice, unit=world.street)
    assert _client(world.hank).get(f"/directory/cases/{case.pk}/inform/").status_code == 403
    assert (
        "directory-inform-link"
        not in _client(world.hank).get(f"/cases/{case.pk}/").content.decode()
    )


# --- API -----------------------------------------------------------------------------------------


def test_api_organs_and_inform(world: World, register: Any, organs: dict[str, Organ]) -> None:
    c = _client(world.rita)
    relation = _cat("劳动和社会保障/劳动关系")
    rows = c.get(f"/api/directory/organs?category_id={relation.pk}").json()
    assert rows[0]["name"] == "示范区劳动人事争议仲裁委员会" and rows[0]["legal_route"]
    assert "仲裁时效" in rows[0]["remedy"]
    assert c.get("/api/directory/organs?kind=nonsense").status_code == 400
    assert c.get("/api/directory/organs?limit=999").status_code == 422
    assert _client(world.sam).get("/api/directory/organs").status_code == 403
    case = register()
    r = c.post(
        f"/api/directory/cases/{case.pk}/inform",
        {"organ_id": organs["court"].pk, "reason": "属于人民法院受理范围。"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert Case.objects.get(pk=case.pk).status == Status.INFORMED
    assert case.events.get(kind="inform").data["organ"]["name"] == "示范区人民法院"
    other = register()
    r = c.post(
        f"/api/directory/cases/{other.pk}/inform",
        {"organ_id": organs["closed"].pk, "reason": "属于人民法院受理范围。"},
        content_type="application/json",
    )
    assert r.status_code == 400 and "organ_id" in r.content.decode()
    r = _client(world.bob).post(
        f"/api/directory/cases/{other.pk}/inform",
        {"organ_id": organs["court"].pk, "reason": "属于人民法院受理范围。"},
        content_type="application/json",
    )
    assert r.status_code == 404


def test_snapshot_default_remedy(organs: dict[str, Organ]) -> None:
    snap = organ_snapshot(organs["hr"])
    assert snap["remedy"] == "请向该机关反映，由其依法处理。" and not snap["legal_route"]
    organs["hr"].remedy = "自定义表述"
    assert organ_snapshot(organs["hr"])["remedy"] == "自定义表述"


def test_load_demo_seeds_the_directory(db: Any) -> None:
    from tests.conftest import ensure_reference_data
    from xinfang.directory.demo import ORGANS
    from xinfang.org.demo import load_demo

    ensure_reference_data()
    org, _summary = load_demo(cases=0)
    assert Organ.objects.count() == len(ORGANS) + 6  # + the six streets/townships
    for name, _kind, key, paths, *_rest in ORGANS:
        organ = Organ.objects.get(name=name)
        assert organ.categories.count() == len(paths), name  # every path names a category
        assert organ.unit == (org.units[key] if key else None)
    town = Organ.objects.get(name="青石镇人民政府")
    assert town.unit == org.units["qs"] and town.place_codes == "110199100"
    # A 劳动关系 matter in a 东湖街道 community: arbitration first, then 人社局, then the street.
    leaf = Category.objects.filter(full_name__startswith="劳动和社会保障/工资福利/").first()
    assert leaf is not None
    names = [o.name for o in competent_organs(leaf.pk, "110199001003")]
    assert names[:3] == ["示范区劳动人事争议仲裁委员会", "区人力资源和社会保障局", "东湖街道办事处"]
