"""Routing suggestions: top-3 categories on the registration form, units on the routing actions,
and the ``intel_suggest`` timeline event recording suggestion, model version and the clerk's
choice — through the real registration and routing services."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from xinfang.cases.models import Case, CaseEvent, Category
from xinfang.cases.services import case_assign, case_forward, case_return, case_sign_in
from xinfang.intel import suggest
from xinfang.intel.classifier import Model, load

pytestmark = pytest.mark.django_db

LABELS = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生"]
WAGE_TEXT = "公司拖欠农民工工资三个月，劳动监察部门不处理，请求帮助讨薪。"
SCHOOL_TEXT = "学校违规补课收费，教育局不管，孩子周末也要上课，家长负担很重。"


@pytest.fixture
def categories() -> dict[str, Category]:
    """The seeded real tree (data migration): its first levels and one labour leaf."""
    cats = {c.name: c for c in Category.objects.filter(level=1, name__in=LABELS)}
    assert len(cats) == len(LABELS)
    cats["欠薪"] = Category.objects.filter(level=3, parent__parent=cats["劳动和社会保障"])[0]
    return cats


@pytest.fixture
def active(model_dir: Any, monkeypatch: pytest.MonkeyPatch) -> Model:
    """The session's fixture-trained model, as saved and loaded, as the active one (the registry
    is tested elsewhere)."""
    model = load(model_dir)
    assert model.version
    version = SimpleNamespace(version=model.version)
    monkeypatch.setattr(suggest, "_active", lambda: (model, version))
    return model


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _register_committed(register: Any, django_capture_on_commit_callbacks: Any, **kw: Any) -> Case:
    with django_capture_on_commit_callbacks(execute=True):
        case = register(**kw)
    return case


def test_top3_with_scores_and_first_level_ids(active: Model, categories: dict) -> None:
    s = suggest.suggest_categories(title="拖欠工资", text=WAGE_TEXT)
    assert s is not None and s.version == active.version
    assert len(s.guesses) == 3
    ps = [g.p for g in s.guesses]
    assert ps == sorted(ps, reverse=True) and all(0 <= p <= 1 for p in ps)
    assert s.guesses[0].label == "劳动和社会保障"
    assert s.guesses[0].category_id == categories["劳动和社会保障"].pk


@pytest.mark.parametrize(
    "title,text",
    [
        ("", ""),
        ("！！？。", "，，，"),
        ("", "拖欠" * 25_000),
        ("Hello world", "😀😀 emoji only"),
        ("學校違規補課", "繁體字內容"),
    ],
)
def test_bad_input_degrades(active: Model, categories: dict, title: str, text: str) -> None:
    s = suggest.suggest_categories(title=title, text=text)
    assert s is not None and len(s.guesses) == 3
    assert sum(g.p for g in s.guesses) <= 1.0001  # the top 3 of a distribution


def test_no_model_means_no_suggestion_and_no_event(
    monkeypatch: pytest.MonkeyPatch, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(suggest, "_active", lambda: None)
    assert suggest.suggest_categories(title="x", text="y") is None
    case = _register_committed(register, django_capture_on_commit_callbacks)
    assert not case.events.filter(kind="intel_suggest").exists()


def test_registration_records_suggestion_version_and_choice(
    active: Model, categories: dict, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = _register_committed(
        register,
        django_capture_on_commit_callbacks,
        summary="拖欠工资",
        content=WAGE_TEXT,
        category_id=categories["欠薪"].pk,  # a leaf under the suggested first level
    )
    ev = case.events.get(kind="intel_suggest")
    assert ev.data["stage"] == "register"
    assert ev.data["model_version"] == active.version
    assert ev.data["suggestions"][0]["label"] == "劳动和社会保障"
    assert ev.data["chosen"] == {"category_id": categories["欠薪"].pk, "label": "劳动和社会保障"}
    assert ev.data["top1"] is True and ev.data["top3"] is True
    assert "与首选建议一致" in ev.text and ev.actor_id == case.registered_by_id


def test_registration_records_a_rejected_suggestion(
    active: Model, categories: dict, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = _register_committed(
        register,
        django_capture_on_commit_callbacks,
        summary="拖欠工资",
        content=WAGE_TEXT,
        category_id=categories["环境保护"].pk,
    )
    ev = case.events.get(kind="intel_suggest")
    assert ev.data["top1"] is False
    assert ev.data["chosen"]["label"] == "环境保护"
    assert ("未采用建议" in ev.text) == (ev.data["top3"] is False)


def test_idempotent_replay_records_once(
    active: Model, categories: dict, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    a = _register_committed(register, django_capture_on_commit_callbacks, idempotency_key="k-1")
    b = _register_committed(register, django_capture_on_commit_callbacks, idempotency_key="k-1")
    assert a.pk == b.pk
    assert CaseEvent.objects.filter(case=a, kind="intel_suggest").count() == 1


def _routed_history(
    world: Any, register: Any, categories: dict, n_street: int, n_comm: int
) -> None:
    """Earlier cases of the labour category routed to 东湖街道 ×n_street and 东湖社区 ×n_comm."""
    for i in range(n_street + n_comm):
        case = register(summary=f"欠薪{i}", category_id=categories["欠薪"].pk)
        unit = world.street if i < n_street else world.community
        case_assign(case=case, by=world.alice, unit=unit)


def test_unit_suggestions_from_routing_history(
    world: Any, active: Model, categories: dict, register: Any
) -> None:
    _routed_history(world, register, categories, 3, 1)
    case = register(summary="拖欠工资", content=WAGE_TEXT)  # no category: the model's is used
    first = suggest.category_of(case)
    assert first == categories["劳动和社会保障"].pk
    guesses = suggest.suggest_units(case=case, first_level_id=first)
    assert [(g.unit.pk, g.count) for g in guesses] == [
        (world.street.pk, 3),
        (world.community.pk, 1),
    ]
    assert guesses[0].percent == 75
    # Another first-level category has no history here.
    assert suggest.suggest_units(case=case, first_level_id=categories["环境保护"].pk) == []


def test_returned_case_is_not_suggested_back(
    world: Any, active: Model, categories: dict, register: Any
) -> None:
    _routed_history(world, register, categories, 3, 1)
    case = register(summary="拖欠工资", content=WAGE_TEXT, category_id=categories["欠薪"].pk)
    case_assign(case=case, by=world.alice, unit=world.street)
    case_sign_in(case=case, by=world.hank)
    case_return(case=case, by=world.hank, reason="不属于本街道职责范围")
    case.refresh_from_db()
    guesses = suggest.suggest_units(case=case, first_level_id=categories["劳动和社会保障"].pk)
    assert world.street.pk not in [g.unit.pk for g in guesses]


def test_routing_records_unit_suggestion_and_choice(
    world: Any,
    active: Model,
    categories: dict,
    register: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _routed_history(world, register, categories, 3, 1)
    case = register(summary="拖欠工资", content=WAGE_TEXT, category_id=categories["欠薪"].pk)
    with django_capture_on_commit_callbacks(execute=True):
        case_forward(case=case, by=world.alice, unit=world.community)
    ev = CaseEvent.objects.get(case=case, kind="intel_suggest", data__stage="route")
    assert ev.actor_id == world.alice.pk
    assert ev.data["action"] == "forward"
    assert [s["unit_id"] for s in ev.data["suggestions"]] == [world.street.pk, world.community.pk]
    # The routing being recorded is not part of the history it is compared with.
    assert [s["n"] for s in ev.data["suggestions"]] == [3, 1]
    assert ev.data["chosen"]["unit_id"] == world.community.pk
    assert ev.data["top1"] is False and ev.data["top3"] is True
    assert "与第2项建议一致" in ev.text
    # The registered category was the basis, not the model.
    assert ev.data["model_version"] == "" and ev.data["category_from"] == "clerk"


def test_routing_by_the_models_category_records_its_version(
    world: Any,
    active: Model,
    categories: dict,
    register: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _routed_history(world, register, categories, 1, 0)
    case = register(summary="拖欠工资", content=WAGE_TEXT)  # no category
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, by=world.alice, unit=world.street)
    ev = CaseEvent.objects.get(case=case, kind="intel_suggest", data__stage="route")
    assert ev.data["model_version"] == active.version and ev.data["category_from"] == "model"
    assert ev.data["top1"] is True


def test_routing_without_suggestions_records_nothing(
    world: Any,
    active: Model,
    categories: dict,
    register: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    case = register(summary="拖欠工资", content=WAGE_TEXT)  # no history at all
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, by=world.alice, unit=world.street)
    assert not CaseEvent.objects.filter(case=case, kind="intel_suggest", data__stage="route")


# --- views -------------------------------------------------------------------------------------


def test_suggest_view_for_desk_staff(
    client: Any, world: Any, active: Model, categories: dict
) -> None:
    client.force_login(world.rita)
    r = client.post(reverse("intel_suggest"), {"summary": "拖欠工资", "content": WAGE_TEXT})
    assert r.status_code == 200
    body = r.content.decode()
    assert "劳动和社会保障" in body and 'data-set-field="id_category"' in body
    assert f'data-value="{categories["劳动和社会保障"].pk}"' in body
    assert active.version[:8] in body
    r = client.post(reverse("intel_suggest"), {"summary": " ", "content": ""})
    assert "输入诉求摘要" in r.content.decode()


def test_suggest_view_without_model(
    client: Any, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suggest, "_active", lambda: None)
    client.force_login(world.rita)
    r = client.post(reverse("intel_suggest"), {"summary": "拖欠工资", "content": WAGE_TEXT})
    assert r.status_code == 200 and "暂无可用的分类模型" in r.content.decode()


@pytest.mark.parametrize("who", ["hank", "leo", "sam", "bob"])
def test_suggest_view_is_404_for_non_desk_staff(
    client: Any, world: Any, active: Model, who: str
) -> None:
    client.force_login(getattr(world, who))
    r = client.post(reverse("intel_suggest"), {"summary": "拖欠工资", "content": WAGE_TEXT})
    assert r.status_code == 404


def test_suggest_view_needs_post_and_csrf(world: Any, active: Model) -> None:
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(world.rita)
    assert c.get(reverse("intel_suggest")).status_code == 405
    assert c.post(reverse("intel_suggest"), {"summary": "x"}).status_code == 403


def test_route_suggest_view(
    client: Any, world: Any, active: Model, categories: dict, register: Any
) -> None:
    _routed_history(world, register, categories, 2, 1)
    case = register(summary="拖欠工资", content=WAGE_TEXT, category_id=categories["欠薪"].pk)
    url = reverse("intel_route_suggest", args=[case.pk])
    client.force_login(world.alice)
    r = client.get(url, {"action": "assign"})
    body = r.content.decode()
    assert r.status_code == 200
    assert world.street.name in body and 'data-set-field="id_a_assign-unit"' in body
    assert "登记分类：劳动和社会保障" in body
    assert client.get(url, {"action": "reply"}).status_code == 404
    # The desk receptionist cannot route (no assign action): 404; another unit's staff: 404.
    for user in (world.rita, world.bob, world.hank):
        client.force_login(user)
        assert client.get(url, {"action": "assign"}).status_code == 404


def test_detail_page_lazy_loads_route_suggestions(
    client: Any, world: Any, categories: dict, register: Any
) -> None:
    case = register(summary="拖欠工资", content=WAGE_TEXT)
    client.force_login(world.alice)
    body = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("intel_route_suggest", args=[case.pk]) + "?action=assign" in body


def test_register_page_has_suggestion_panel(client: Any, world: Any) -> None:
    client.force_login(world.rita)
    body = client.get(reverse("case_register")).content.decode()
    assert 'id="intel-suggest"' in body and reverse("intel_suggest") in body


# --- API ---------------------------------------------------------------------------------------


def test_api_category_suggestions(client: Any, world: Any, active: Model, categories: dict) -> None:
    client.force_login(world.rita)
    r = client.post(
        "/api/intel/suggest",
        {"title": "拖欠工资", "text": WAGE_TEXT},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["model_version"] == active.version and body["confident"] is True
    assert body["suggestions"][0] == {
        "label": "劳动和社会保障",
        "category_id": categories["劳动和社会保障"].pk,
        "p": body["suggestions"][0]["p"],
    }
    assert len(body["suggestions"]) == 3
    empty = client.post("/api/intel/suggest", {"title": " "}, content_type="application/json")
    assert empty.json() == {"model_version": None, "confident": False, "suggestions": []}
    client.force_login(world.hank)
    assert (
        client.post(
            "/api/intel/suggest", {"title": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_api_route_suggestions(
    client: Any, world: Any, active: Model, categories: dict, register: Any
) -> None:
    _routed_history(world, register, categories, 2, 1)
    case = register(summary="拖欠工资", content=WAGE_TEXT)
    client.force_login(world.alice)
    r = client.get(f"/api/cases/{case.pk}/route-suggestions", {"action": "forward"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["category_id"] == categories["劳动和社会保障"].pk and body["from_model"] is True
    assert [(u["unit_id"], u["count"]) for u in body["units"]] == [
        (world.street.pk, 2),
        (world.community.pk, 1),
    ]
    bad = client.get(f"/api/cases/{case.pk}/route-suggestions", {"action": "x"})
    assert bad.status_code == 422 and "取值无效" in bad.json()["detail"]
    many = client.get("/api/intel/similar", {"title": "物业", "petitioner": list(range(1, 30))})
    assert many.status_code == 422 and "最多20项" in many.json()["detail"]
    client.force_login(world.bob)  # another unit: the case does not exist for him
    assert client.get(f"/api/cases/{case.pk}/route-suggestions").status_code == 404


def test_registration_similar_panel(
    client: Any, world: Any, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.conftest import VALID_ID

    with django_capture_on_commit_callbacks(execute=True):  # indexed on registration
        earlier = register(
            summary="反映小区物业费上涨问题", content="物业公司未经业主大会同意上调物业费。"
        )
    client.force_login(world.rita)
    url = reverse("intel_similar_register")
    # By the ID number typed on the form: the same person's case, whatever the text.
    r = client.post(url, {"summary": "别的事情", "content": "", "p-0-id_number": VALID_ID})
    body = r.content.decode()
    assert r.status_code == 200 and earlier.number in body
    assert '<span class="tag">同一信访人' in body
    # By the text alone.
    r = client.post(url, {"summary": "物业费上涨", "content": "物业公司上调物业费，业主不同意"})
    body = r.content.decode()
    assert earlier.number in body and '<span class="tag">同一信访人' not in body
    r = client.post(url, {"summary": "", "content": ""})
    assert "输入诉求摘要" in r.content.decode()
    client.force_login(world.hank)  # handling-unit staff do not register
    assert client.post(url, {"summary": "物业费"}).status_code == 404
