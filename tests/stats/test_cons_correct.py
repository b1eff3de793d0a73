"""更正登记信息 (``cases.corrections.case_correct``): its guard, its event, the rollups moving
the case to the corrected cells in every period, the case page's form and the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from tests.conftest import World, reply_case
from tests.stats.factory import at
from xinfang.audit.models import AuditEntry
from xinfang.cases import services as S
from xinfang.cases.corrections import case_correct
from xinfang.cases.models import Case, CaseEvent, Category
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.stats import rollup
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, handling_total, intake, intake_cases, intake_total


def two_categories() -> tuple[Category, Category]:
    a, b = Category.objects.filter(level=2, is_active=True).order_by("pk")[:2]
    return a, b


def _case(register: Any, **kw: Any) -> Case:
    a, _ = two_categories()
    values: dict[str, Any] = {"category_id": a.pk, "received_at": at("2026-01-15")}
    values.update(kw)
    case: Case = register(**values)
    return case


# --- the guard ------------------------------------------------------------------------------


def test_only_the_registering_offices_case_officer(world: World, register: Any) -> None:
    case = _case(register)
    _, b = two_categories()
    for user in (world.rita, world.hank, world.bob, world.leo):
        with pytest.raises(PermissionDenied, match="办案员"):
            case_correct(case=case, by=user, category_id=b.pk, reason="分类登记错误")
    assert not CaseEvent.objects.filter(case=case, kind="correct").exists()


@pytest.mark.parametrize(
    ("kw", "field", "message"),
    [
        ({"category_id": 10**9}, "category_id", "内容分类不存在或已停用"),
        ({"place_code": "1101"}, "place_code", "6至12位数字"),
        ({"place_code": "11010500100x"}, "place_code", "6至12位数字"),
        ({"place_code": "1101050010011"}, "place_code", "6至12位数字"),
        ({"headcount": 0}, "headcount", "人数至少为1"),
        ({"channel": "pigeon"}, "channel", "请选择来源渠道"),
    ],
)
def test_field_rules(
    world: World, register: Any, kw: dict[str, Any], field: str, message: str
) -> None:
    case = _case(register)
    with pytest.raises(DomainError, match=message) as err:
        case_correct(case=case, by=world.alice, reason="登记时填写有误", **kw)
    assert err.value.field == field


def test_reason_change_inactive_category_and_people(world: World, register: Any) -> None:
    case = _case(register)
    a, b = two_categories()
    with pytest.raises(DomainError, match="至少4个字") as err:
        case_correct(case=case, by=world.alice, category_id=b.pk, reason="错了")
    assert err.value.field == "reason"
    with pytest.raises(DomainError, match="没有需要更正的内容"):
        case_correct(
            case=case,
            by=world.alice,
            category_id=a.pk,
            headcount=case.headcount,
            channel=case.channel,
            place_code=case.place_code,
            reason="核对后无误",
        )
    Category.objects.filter(pk=b.pk).update(is_active=False)
    with pytest.raises(DomainError, match="已停用") as err:
        case_correct(case=case, by=world.alice, category_id=b.pk, reason="分类登记错误")
    assert err.value.field == "category_id"
    Category.objects.filter(pk=a.pk).update(is_active=False)  # unchanged: no objection
    case_correct(case=case, by=world.alice, category_id=a.pk, headcount=2, reason="人数有误")
    from tests.conftest import VALID_ID
    from xinfang.people.services import PetitionerInput

    two = _case(
        register,
        petitioners=[
            PetitionerInput(name="张三", id_number=VALID_ID),
            PetitionerInput(name="李四"),
        ],
    )
    assert two.headcount == 2
    with pytest.raises(DomainError, match=r"不能少于.*（2人）") as err:
        case_correct(case=two, by=world.alice, headcount=1, reason="人数登记错误")
    assert err.value.field == "headcount"


def test_merged_case_is_not_corrected(world: World, register: Any) -> None:
    keep, dup = _case(register), _case(register)
    from xinfang.cases.handling import case_merge

    case_merge(case=dup, by=world.alice, into=keep, note="重复登记")
    dup.refresh_from_db()
    _, b = two_categories()
    with pytest.raises(DomainError, match="已合并的事项不能更正"):
        case_correct(case=dup, by=world.alice, category_id=b.pk, reason="分类登记错误")


# --- the effect -----------------------------------------------------------------------------


def test_closed_month_moves_to_the_corrected_category_in_every_period(
    world: World, register: Any
) -> None:
    a, b = two_categories()
    case = _case(register, headcount=3)  # received 2026-01-15: January is closed
    reply_case(world, case)
    S.case_evaluate(case=case, by=world.rita, evaluation="satisfied")
    S.case_close(case=case, by=world.alice)
    january = Period.month(2026, 1)
    year = Period.year(2026)
    office = Filters(units=(world.office.pk,))
    assert intake_total(january, office.narrow(categories=(a.pk,))) == (1, 3)
    done = handling_total(year, Filters(units=(world.street.pk,), categories=(a.pk,)))
    assert done["reply_done"] == 1 and done["closed"] == 1

    ev = case_correct(
        case=case,
        by=world.alice,
        category_id=b.pk,
        headcount=6,
        channel="letter",
        place_code="110105001",
        reason="复核登记材料，分类与人数登记有误",
    )

    assert ev.kind == "correct" and ev.to_status == "" and ev.actor == world.alice
    assert ev.data == {
        "category_id": [a.pk, b.pk],
        "place_code": ["", "110105001"],
        "headcount": [3, 6],
        "channel": ["visit", "letter"],
        "reason": "复核登记材料，分类与人数登记有误",
    }
    assert "人数：3 → 6" in ev.text and "来源渠道：来访 → 来信" in ev.text
    assert ev.text.endswith("更正理由：复核登记材料，分类与人数登记有误")
    case.refresh_from_db()
    assert (case.category_id, case.headcount, case.is_collective) == (b.pk, 6, True)
    # every period: the closed month, the year, by category, kind, channel and place
    for period in (january, year):
        assert intake_total(period, office.narrow(categories=(a.pk,))) == (0, 0)
        assert intake_total(period, office.narrow(categories=(b.pk,))) == (1, 6)
    rows = intake(january, office, by=["category_id", "kind", "channel", "place_id"])
    assert rows == [
        {
            "category_id": b.pk,
            "kind": 3,
            "channel": "letter",
            "place_id": world.street.pk,
            "batches": 1,
            "persons": 6,
        }
    ]
    # the cases behind the figures follow too (a click on the number lists this case)
    assert list(intake_cases(january, office.narrow(categories=(b.pk,)))) == [case]
    assert not intake_cases(january, office.narrow(categories=(a.pk,))).exists()
    moved = handling_total(year, Filters(units=(world.street.pk,), categories=(b.pk,)))
    assert moved["reply_done"] == 1 and moved["closed"] == 1 and moved["satisfied"] == 1
    left = handling_total(year, Filters(units=(world.street.pk,), categories=(a.pk,)))
    assert not any(left.values())
    report = rollup.check()
    assert report.ok, report.differences
    # the timeline's label and the audit row
    assert AuditEntry.objects.filter(object_id=str(case.pk), summary__contains="更正登记信息")


def test_headcount_down_leaves_collective(world: World, register: Any) -> None:
    case = _case(register, headcount=7)
    assert case.is_collective
    case_correct(case=case, by=world.alice, headcount=2, reason="人数登记有误")
    case.refresh_from_db()
    assert not case.is_collective
    assert intake(Period.month(2026, 1), Filters(), by=["kind"]) == [
        {"kind": 2, "batches": 1, "persons": 2}
    ]
    assert rollup.check().ok


def test_place_cleared_and_accusation(world: World, register: Any) -> None:
    case = _case(register, place_code="110105002", purpose="accusation")
    case_correct(case=case, by=world.alice, place_code="", reason="属地登记错误，暂不明确")
    assert intake(Period.month(2026, 1), Filters(), by=["place_id"]) == [
        {"place_id": 0, "batches": 1, "persons": 1}
    ]
    assert rollup.check().ok


def test_stale_copy_gets_concurrent_change(world: World, register: Any) -> None:
    case = _case(register)
    stale = Case.objects.get(pk=case.pk)
    a, b = two_categories()
    case_correct(case=case, by=world.alice, headcount=2, reason="人数登记有误")
    with pytest.raises(ConcurrentChange, match="刚被他人修改"):
        case_correct(case=stale, by=world.alice, category_id=b.pk, reason="分类登记有误")
    # a lifecycle step in the meantime, too
    stale = Case.objects.get(pk=case.pk)
    S.case_assign(case=Case.objects.get(pk=case.pk), by=world.alice, unit=world.street)
    with pytest.raises(ConcurrentChange):
        case_correct(case=stale, by=world.alice, category_id=b.pk, reason="分类登记有误")
    case.refresh_from_db()
    assert case.category_id == a.pk
    assert CaseEvent.objects.filter(case=case, kind="correct").count() == 1
    assert rollup.check().ok


def test_correction_at_a_given_time(world: World, register: Any) -> None:
    case = _case(register)
    _, b = two_categories()
    when = at("2026-03-01", 9)
    ev = case_correct(case=case, by=world.alice, category_id=b.pk, reason="分类有误", at=when)
    assert ev.at == when


# --- the case page -------------------------------------------------------------------------


def _post(client: Client, case: Case, **fields: Any) -> Any:
    data = {
        "idempotency_key": f"k-{dt.datetime.now().timestamp()}",
        "corr-category_id": str(case.category_id or ""),
        "corr-place_code": case.place_code,
        "corr-headcount": str(case.headcount),
        "corr-channel": case.channel,
        "corr-reason": "",
    }
    data.update({f"corr-{k}": v for k, v in fields.items()})
    return client.post(f"/cases/{case.pk}/correct/", data)


def test_form_on_the_case_page(world: World, register: Any, client: Client) -> None:
    case = _case(register)
    _, b = two_categories()
    client.force_login(world.alice)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="correction-panel"' in page and "更正登记信息" in page
    response = _post(client, case, category_id=str(b.pk), reason="分类登记错误")
    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.category_id == b.pk
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "已更正登记信息" in page and "更正理由：分类登记错误" in page
    assert "<strong>更正登记信息</strong>" in page  # the timeline's label


def test_form_errors_are_chinese_and_keep_the_input(
    world: World, register: Any, client: Client
) -> None:
    case = _case(register)
    client.force_login(world.alice)
    response = _post(client, case, place_code="12AB", headcount="4", reason="属地错误")
    assert response.status_code == 200
    page = response.content.decode()
    assert "问题属地代码应为6至12位数字" in page
    assert 'value="12AB"' in page and 'value="4"' in page and "属地错误" in page
    assert "<details open" in page
    response = _post(client, case, headcount="0", reason="")
    page = response.content.decode()
    assert "人数至少为1" in page and "请填写更正理由" in page
    response = _post(client, case, reason="核对无误的")
    assert "没有需要更正的内容" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind="correct").exists()


def test_who_may_use_the_form(world: World, register: Any, client: Client) -> None:
    case = _case(register)
    _, b = two_categories()
    client.force_login(world.rita)  # sees the case, not a 办案员
    assert 'id="correction-panel"' not in client.get(f"/cases/{case.pk}/").content.decode()
    response = _post(client, case, category_id=str(b.pk), reason="分类登记错误")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "需要登记单位（信访机构）的办案员岗位" in page
    client.force_login(world.bob)  # another unit: the case does not exist
    assert _post(client, case, category_id=str(b.pk), reason="分类登记错误").status_code == 404
    client.logout()
    response = _post(client, case, category_id=str(b.pk), reason="分类登记错误")
    assert response.status_code == 302 and "/login/" in response.url
    case.refresh_from_db()
    assert case.category_id != b.pk


def test_form_needs_csrf_and_post(world: World, register: Any) -> None:
    case = _case(register)
    _, b = two_categories()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.alice)
    assert _post(strict, case, category_id=str(b.pk), reason="分类登记错误").status_code == 403
    assert strict.get(f"/cases/{case.pk}/correct/").status_code == 405


def test_resent_form_corrects_once(world: World, register: Any, client: Client) -> None:
    case = _case(register)
    client.force_login(world.alice)
    data = {
        "idempotency_key": "same-key-1",
        "corr-category_id": str(case.category_id),
        "corr-place_code": "",
        "corr-headcount": "3",
        "corr-channel": "visit",
        "corr-reason": "人数登记错误",
    }
    assert client.post(f"/cases/{case.pk}/correct/", data).status_code == 302
    assert client.post(f"/cases/{case.pk}/correct/", data).status_code == 302
    assert CaseEvent.objects.filter(case=case, kind="correct").count() == 1


# --- the API --------------------------------------------------------------------------------


def _api_post(user: Any, case_id: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Through /api/ when the router is mounted (api.py), else through ninja's test client."""
    try:
        resolve(f"/api/cases/{case_id}/correct")
        mounted = True
    except Resolver404:
        mounted = False
    if mounted:
        from tests.api.conftest import token_client

        response = token_client(user).post(f"/cases/{case_id}/correct", body)
        return response.status_code, response.json()
    from ninja import NinjaAPI
    from ninja.testing import TestClient

    from xinfang.api import corrections, errors

    global _test_api
    if _test_api is None:
        _test_api = NinjaAPI(urls_namespace="cons_test_api")
        errors.install(_test_api)
        _test_api.add_router("", corrections.router)
    tc = TestClient(_test_api)
    res = tc.post(f"/cases/{case_id}/correct", json=body, auth=user)  # request.auth = user
    return res.status_code, json.loads(res.content)


_test_api: Any = None


def test_api_correct(world: World, register: Any) -> None:
    case = _case(register)
    a, b = two_categories()
    status, body = _api_post(
        world.alice, case.pk, {"category_id": b.pk, "headcount": 5, "reason": "分类人数有误"}
    )
    assert status == 200, body
    assert (
        body["event"]["kind"]["code"] == "correct"
        if isinstance(body["event"]["kind"], dict)
        else body["event"]["kind"] == "correct"
    )
    case.refresh_from_db()
    assert (case.category_id, case.headcount, case.is_collective) == (b.pk, 5, True)
    status, body = _api_post(world.alice, case.pk, {"place_code": "12", "reason": "属地有误"})
    assert status == 400 and body["field"] == "place_code" and "6至12位数字" in body["detail"]
    status, body = _api_post(world.rita, case.pk, {"category_id": a.pk, "reason": "分类有误"})
    assert status == 403, body
    status, body = _api_post(world.bob, case.pk, {"category_id": a.pk, "reason": "分类有误"})
    assert status == 404, body
    assert rollup.check().ok


def test_a_stale_form_does_not_revert_a_colleagues_correction(world: World) -> None:
    """The form carries what the clerk saw (hidden initial values): only the fields the clerk
    changed are corrected, and one a colleague corrected meanwhile is a conflict."""
    from tests.conftest import make_user
    from tests.stats.factory import at, bulk_cases
    from xinfang.cases.correction_views import correction_form
    from xinfang.org import roles as R

    x, y, z = list(Category.objects.filter(level=2, is_active=True).order_by("id")[:3])
    (case,) = bulk_cases(world, [(1, {"category": x, "received_at": at("2026-03-02")})])
    form = correction_form(case)  # what alice's browser holds
    seen = {k: ("" if v is None else str(v)) for k, v in form.initial.items()}
    data = {f"corr-{k}": v for k, v in seen.items()}
    data |= {f"initial-corr-{k}": v for k, v in seen.items()}
    colleague = make_user("al2", world.office, R.CASE_OFFICER, "同事")
    case.refresh_from_db()
    case_correct(case=case, by=colleague, category_id=y.pk, reason="分类登记错误，予以更正")
    client = Client()
    client.force_login(world.alice)
    # alice changes only 人数: the colleague's category stays
    client.post(
        f"/cases/{case.pk}/correct/",
        data | {"corr-headcount": "2", "corr-reason": "人数登记有误，实为二人"},
    )
    case.refresh_from_db()
    assert (case.category_id, case.headcount) == (y.pk, 2)
    # alice, still on her old form, changes the category: refused, nothing reverted
    r = client.post(
        f"/cases/{case.pk}/correct/",
        data | {"corr-category_id": str(z.pk), "corr-reason": "分类应为另一类"},
    )
    case.refresh_from_db()
    assert case.category_id == y.pk
    assert "内容分类刚被他人更正" in r.content.decode()
