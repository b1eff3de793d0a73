"""Similar cases (相似案件): ranking rules, visibility and confidentiality, the index kept up to
date on registration and by ``intel_index``, bad input, and who may use the panel and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import VALID_ID, World, make_user, registration, reply_case
from xinfang.cases import services
from xinfang.cases.confidential import PLACEHOLDER
from xinfang.cases.models import Case, Category
from xinfang.cases.registration import case_register
from xinfang.intel import similar_index
from xinfang.intel import vectors as V
from xinfang.intel.models import CaseVector
from xinfang.intel.similar import similar_cases
from xinfang.org import roles as R
from xinfang.people.services import PetitionerInput

OTHER_ID = "110105198001010016"

PROPERTY = (
    "景蓉华苑物业公司擅自提高停车费",
    "景蓉华苑小区物业公司未经业主大会同意擅自提高停车费，每月由150元涨到300元，业主强烈反对。",
)
WAGES = ("某建筑公司拖欠农民工工资", "某建筑工地项目部拖欠三十名农民工工资共计四十万元，至今未付。")
SCHOOL = ("学校周边交通拥堵", "实验小学门口上下学时段交通拥堵，接送车辆乱停乱放，存在安全隐患。")


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    """The index is per process: start and end each test with none (rolled-back rows)."""
    similar_index.reset_index()
    yield
    similar_index.reset_index()


@pytest.fixture
def cats(db: Any) -> dict[str, Category]:
    top = Category.objects.create(name="城乡建设", level=1, full_name="城乡建设")
    mid = Category.objects.create(name="物业管理", parent=top, level=2, full_name="城乡建设/物业")
    fee = Category.objects.create(name="收费", parent=mid, level=3, full_name="物业/收费")
    service = Category.objects.create(name="服务", parent=mid, level=3, full_name="物业/服务")
    labour = Category.objects.create(name="劳动保障", level=1, full_name="劳动保障")
    return {"fee": fee, "service": service, "labour": labour}


@pytest.fixture
def reg(register: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """Register through the real service and run its after-commit receivers (the indexer)."""

    def _reg(title: str, text: str, **kw: Any) -> Case:
        with django_capture_on_commit_callbacks(execute=True):
            return register(summary=title, content=text, **kw)  # type: ignore[no-any-return]

    return _reg


def person(id_number: str = VALID_ID, name: str = "张三") -> list[PetitionerInput]:
    return [PetitionerInput(name=name, id_number=id_number, phone="")]


def ids(hits: list[Any]) -> list[int]:
    return [h.case.pk for h in hits]


# --- features --------------------------------------------------------------------------------


def test_vectors_are_stable_and_round_trip() -> None:
    terms, counts = V.text_terms(*PROPERTY)
    again = V.text_terms(*PROPERTY)
    assert np.array_equal(terms, again[0]) and np.array_equal(counts, again[1])
    assert terms.size > 20 and np.all(np.diff(terms.astype(np.int64)) > 0)
    back = V.unpack(V.pack(terms, counts))
    assert np.array_equal(back[0], terms) and np.array_equal(back[1], counts)
    # A known bigram hashes to the same id in every process (not Python's salted hash()).
    assert V.bigram_hashes("物业").tolist() == V.bigram_hashes("物业").tolist() != []
    assert V.unpack(b"\x09garbage")[0].size == 0


def test_bad_input_has_no_terms_or_bounded_terms() -> None:
    for title, text in [("", ""), ("！！！", "。。。，，，"), ("😀😀", "🙏🙏🙏")]:
        assert V.text_terms(title, text)[0].size == 0
    huge = V.text_terms("", "拖欠工资" * 12_500)  # 50,000 characters: cut before any work
    assert 0 < huge[0].size <= 4
    assert V.text_terms("Noise complaint", "loud music at night")[0].size > 0


# --- the index follows registration and the catch-up command ---------------------------------


def test_registration_stores_vector_and_next_search_finds_it(world: World, reg: Any) -> None:
    first = reg(*PROPERTY)
    assert CaseVector.objects.filter(case=first).exists()
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])) == [first.pk]
    # A second case registered after the index was built is caught up before the next search.
    second = reg(PROPERTY[0] + "问题", PROPERTY[1] + "请求相关部门尽快处理。")
    hits = similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])
    assert set(ids(hits)) == {first.pk, second.pk}
    assert all(0 < h.score <= 1 for h in hits)
    assert similar_index.get_index().stats()["rows"] == 2


def test_intel_index_fills_missing_vectors_and_rebuilds(world: World, reg: Any) -> None:
    case = reg(*WAGES)
    CaseVector.objects.all().delete()  # as after a bulk import, or a receiver that failed
    assert similar_cases(world.alice, title=WAGES[0], text=WAGES[1]) == []
    call_command("intel_index", "--batch", "1")
    vec = CaseVector.objects.get(case=case)
    assert vec.n_terms > 10
    similar_index.reset_index()
    assert ids(similar_cases(world.alice, title=WAGES[0], text=WAGES[1])) == [case.pk]
    before = vec.indexed_at
    call_command("intel_index")  # nothing missing: nothing written
    assert CaseVector.objects.get(case=case).indexed_at == before
    call_command("intel_index", "--rebuild")
    assert CaseVector.objects.get(case=case).indexed_at > before
    # The running index replaces the re-indexed row instead of listing the case twice.
    assert ids(similar_cases(world.alice, title=WAGES[0], text=WAGES[1])) == [case.pk]


# --- ranking ---------------------------------------------------------------------------------


def test_ranking_petitioner_then_place_and_topic_then_text(
    world: World, reg: Any, cats: dict[str, Category]
) -> None:
    # Nearly the same text, elsewhere and in another category: highest text score.
    text_twin = reg(
        *PROPERTY,
        petitioners=person(OTHER_ID, "李四"),
        place_code="110105002001",
        category_id=cats["labour"].pk,
    )
    # Same street (first 9 digits) and a sibling category, a looser text.
    place_topic = reg(
        "景蓉华苑物业收费不合理",
        "小区物业服务差，停车费收费不合理，业主要求公开收费标准。",
        petitioners=person(OTHER_ID, "李四"),
        place_code="110105001003",
        category_id=cats["service"].pk,
    )
    # The same petitioner, about something else entirely.
    own = reg(*SCHOOL, petitioners=person(), place_code="110105002009")
    # Unrelated text by someone else: not similar, not listed.
    unrelated = reg(*WAGES, petitioners=person(OTHER_ID, "李四"))
    petitioner_id = own.petitioners.get().pk
    hits = similar_cases(
        world.alice,
        title=PROPERTY[0],
        text=PROPERTY[1],
        petitioner_ids=[petitioner_id],
        place_code="110105001001",
        category_id=cats["fee"].pk,
    )
    assert ids(hits) == [own.pk, place_topic.pk, text_twin.pk]
    assert unrelated.pk not in ids(hits)
    assert [h.same_petitioner for h in hits] == [True, False, False]
    assert hits[1].same_place and hits[1].same_topic
    assert not hits[2].same_place and not hits[2].same_topic
    assert hits[2].score > hits[1].score > hits[0].score
    # Without petitioner/place/topic the order is by text similarity alone.
    plain = similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])
    assert ids(plain)[:2] == [text_twin.pk, place_topic.pk]
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1], k=1)) == [
        text_twin.pk
    ]


def test_exclude_lists_only_earlier_cases_and_not_itself(world: World, reg: Any) -> None:
    now = timezone.now()
    older = reg(*PROPERTY, received_at=now - dt.timedelta(days=3))
    middle = reg(*PROPERTY, received_at=now - dt.timedelta(days=2))
    newer = reg(*PROPERTY, received_at=now - dt.timedelta(days=1))
    hits = similar_cases(
        world.alice, title=PROPERTY[0], text=PROPERTY[1], exclude_case_id=middle.pk
    )
    assert ids(hits) == [older.pk]
    assert newer.pk not in ids(hits)


def test_latest_reply_and_status_come_with_the_hit(world: World, reg: Any) -> None:
    case = reply_case(world, reg(*WAGES), "经核实，项目部已于本月底前足额支付拖欠工资。")
    [hit] = similar_cases(world.alice, title=WAGES[0], text=WAGES[1])
    assert "经核实，项目部已于本月底前足额支付拖欠工资。" in hit.reply  # in the 答复意见书
    assert hit.reply_at is not None and hit.case.status == "replied"
    assert hit.summary == WAGES[0] and not hit.masked
    # The handling unit's staff see it too (they handle it); the sibling street does not.
    assert ids(similar_cases(world.hank, title=WAGES[0], text=WAGES[1])) == [case.pk]
    assert similar_cases(world.bob, title=WAGES[0], text=WAGES[1]) == []


# --- visibility and confidentiality ----------------------------------------------------------


def test_other_units_cases_are_never_returned(world: World, reg: Any) -> None:
    case = reg(*PROPERTY)  # registered by the district office, not routed
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])) == [case.pk]
    for outsider in (world.hank, world.bob, world.sam):
        assert similar_cases(outsider, title=PROPERTY[0], text=PROPERTY[1]) == []
    # Nor through the petitioner: the person's case elsewhere stays unknown.
    pid = case.petitioners.get().pk
    assert similar_cases(world.bob, title="", text="", petitioner_ids=[pid]) == []


def test_accusation_is_hidden_from_the_accused_and_masked_for_others(
    world: World, reg: Any
) -> None:
    accusation = reg(
        "举报东湖街道干部收受好处费",
        "东湖街道某干部在景蓉华苑拆迁补偿中收受好处费，要求纪检部门调查。",
        purpose="accusation",
        accused_unit_ids=[world.sibling.pk],
        accused_person_ids=[world.hank.pk],
    )
    services.case_assign(case=accusation, by=world.alice, unit=world.community)
    query: dict[str, Any] = {"title": "东湖街道干部收受好处费", "text": "拆迁补偿中收受好处费"}
    # The registering office's desk finds it (the petitioner comes back), masked.
    [hit] = similar_cases(world.rita, **query)
    assert hit.case.pk == accusation.pk and hit.masked
    assert hit.summary == PLACEHOLDER and hit.reply == ""
    # The accused person and anyone in the accused unit: the case does not exist.
    assert similar_cases(world.hank, **query) == []
    assert similar_cases(world.bob, **query) == []
    # Units that may see the case (handling it, or above the handler) never match it by text.
    cora = world.community.memberships.get().user
    assert similar_cases(cora, **query) == []
    assert similar_cases(world.uma, **query) == []


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("", ""),
        ("   ", "\n\t"),
        ("！？。", "……，，，；"),
        ("😀🙏", "🔥" * 100),
        ("", "拖欠工资" * 12_500),
        ("Unpaid wages", "The company has not paid wages for three months."),
        ("\x00\u202e", "\ufeff\u200b"),
    ],
)
def test_bad_input_degrades_gracefully(world: World, reg: Any, title: str, text: str) -> None:
    reg(*WAGES)
    junk: list[Any] = ["x", -1, 2**70]
    hits = similar_cases(world.alice, title=title, text=text, petitioner_ids=junk)
    assert isinstance(hits, list)
    assert all(0 <= h.score <= 1 for h in hits)


def test_nonsense_arguments_are_ignored(world: World, reg: Any) -> None:
    case = reg(*WAGES)
    hits = similar_cases(
        world.alice,
        title=WAGES[0],
        text=WAGES[1],
        category_id=2**70,
        exclude_case_id=-5,
        place_code="x" * 500,
        k=10_000,
    )
    assert ids(hits) == [case.pk]


# --- the partial, the detail page and the API: who may and who may not -------------------------


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_partial_view_permissions(world: World, reg: Any) -> None:
    case = reg(*PROPERTY)
    url = "/intel/similar/"
    params = {"title": PROPERTY[0], "text": PROPERTY[1]}
    r = _client(world.rita).get(url, params)
    assert r.status_code == 200 and case.number in r.content.decode()
    r = _client(world.bob).get(url, params)  # unit staff: may ask, sees nothing of the office's
    assert r.status_code == 200 and case.number not in r.content.decode()
    for nobody in (world.sam, world.leo):
        assert _client(nobody).get(url, params).status_code == 404
    anonymous = Client().get(url, params)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    # The detail page's form: ?exclude= alone queries with the case's own text.
    later = reg(*PROPERTY, received_at=timezone.now())
    body = _client(world.alice).get(url, {"exclude": later.pk}).content.decode()
    assert case.number in body and later.number not in body
    assert _client(world.bob).get(url, {"exclude": later.pk}).status_code == 404


def test_detail_page_loads_the_section_lazily(world: World, reg: Any) -> None:
    case = reg(*PROPERTY)
    page = _client(world.alice).get(f"/cases/{case.pk}/").content.decode()
    assert "相似案件（口径参考）" in page and f"/intel/similar/?exclude={case.pk}" in page
    leo_page = _client(world.leo).get(f"/cases/{case.pk}/").content.decode()
    assert "相似案件（口径参考）" not in leo_page


def test_detail_of_accusation_offers_no_similar_cases(world: World, reg: Any) -> None:
    accusation = reg(*PROPERTY, purpose="accusation")
    body = _client(world.alice).get("/intel/similar/", {"exclude": accusation.pk})
    assert body.status_code == 200 and "检举控告件不提供相似案件参考" in body.content.decode()


def test_api_similar(world: World, reg: Any) -> None:
    case = reg(*PROPERTY)
    r = _client(world.alice).get(
        "/api/intel/similar", {"title": PROPERTY[0], "text": PROPERTY[1], "k": "5"}
    )
    assert r.status_code == 200
    [row] = r.json()
    assert row["id"] == case.pk and row["summary"] == PROPERTY[0] and 0 < row["score"] <= 1
    assert _client(world.sam).get("/api/intel/similar", {"title": "x"}).status_code == 404
    assert _client(world.bob).get("/api/intel/similar", {"title": PROPERTY[0]}).json() == []
    assert _client(world.alice).get("/api/intel/similar", {"k": 0}).status_code == 422


def test_street_office_desk_sees_its_own_cases(world: World, reg: Any) -> None:
    """A desk at a street office sees the street's cases, not the district office's; cases
    registered without the receiver (no after-commit here) are found once ``intel_index`` ran."""
    sue = make_user("sue", world.street, R.RECEPTIONIST, "苏")
    with_office = reg(*PROPERTY)
    street_case = case_register(
        by=sue, office=world.street, reg=registration(summary=PROPERTY[0], content=PROPERTY[1])
    )
    assert not CaseVector.objects.filter(case=street_case).exists()
    call_command("intel_index")
    got = ids(similar_cases(sue, title=PROPERTY[0], text=PROPERTY[1]))
    assert street_case.pk in got and with_office.pk not in got


def test_large_archive_builds_in_background_and_answers_meanwhile(
    world: World, reg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above SYNC_BUILD_MAX vectors the first use starts a background build; until it is done
    the answer is the petitioner's own cases (from the database), never a minutes-long wait."""
    started: list[Any] = []

    class FakeThread:
        def __init__(self, target: Any, **kwargs: Any) -> None:
            self.target = target

        def start(self) -> None:
            started.append(self.target)

    monkeypatch.setattr(similar_index, "SYNC_BUILD_MAX", 0)
    monkeypatch.setattr(similar_index.threading, "Thread", FakeThread)
    own = reg(*SCHOOL)
    twin = reg(*PROPERTY, petitioners=person(OTHER_ID, "李四"))
    pid = own.petitioners.get().pk
    hits = similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1], petitioner_ids=[pid])
    assert ids(hits) == [own.pk] and len(started) == 1
    assert similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1]) == []
    assert len(started) == 1  # one build at a time
    similar_index.get_index().build()  # what the thread does (here: in the test's transaction)
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])) == [twin.pk]


def test_bulk_write_rebuilds_a_large_index_beside_the_serving_one(
    world: World, reg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many new vectors at once (a bulk fill) in a large index: a fresh index is built in a
    thread and swapped in; the old one keeps answering meanwhile."""
    import django.db

    started: list[Any] = []

    class FakeThread:
        def __init__(self, target: Any, **kwargs: Any) -> None:
            self.target = target

        def start(self) -> None:
            started.append(self.target)

    first = reg(*PROPERTY)
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])) == [first.pk]
    old = similar_index.get_index()
    monkeypatch.setattr(similar_index, "MERGE_AT", 1)
    monkeypatch.setattr(similar_index, "SYNC_BUILD_MAX", 0)
    monkeypatch.setattr(similar_index.threading, "Thread", FakeThread)
    monkeypatch.setattr(django.db.connection, "close", lambda: None)
    second = reg(*PROPERTY)
    assert ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1])) == [first.pk]
    assert len(started) == 1
    started[0]()  # the thread's work: build a fresh index and swap it in
    assert similar_index.get_index() is not old
    got = ids(similar_cases(world.alice, title=PROPERTY[0], text=PROPERTY[1]))
    assert set(got) == {first.pk, second.pk}
