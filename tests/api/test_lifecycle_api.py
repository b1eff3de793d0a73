"""Every transition of the lifecycle through the API, and what each user may see and do."""

from __future__ import annotations

from django.utils import timezone

from tests.api.conftest import registration_body
from tests.conftest import VALID_ID
from xinfang.api import access
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent, ExtensionRequest, Status
from xinfang.cases.transitions import ACTIONS


def _register(world, as_user, **overrides):
    response = as_user(world.rita).post("/cases", registration_body(world, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def _ok(response, status):
    assert response.status_code == 200, response.content
    result = response.json()
    data = result["case"]
    assert data["status"]["code"] == status, data["status"]
    assert result["event"]["to_status"]["code"] == status
    # The action's own row; rows after it are its consequences (e.g. 延期告知 after an approval).
    assert result["event"] == next(e for e in data["events"] if e["id"] == result["event"]["id"])
    return data


def test_full_lifecycle_through_the_api(world, as_user):
    case = _register(world, as_user)
    cid = case["id"]
    alice, rita, hank, uma = (as_user(u) for u in (world.alice, world.rita, world.hank, world.uma))
    today = timezone.localdate().isoformat()

    data = _ok(
        alice.act(cid, "assign", {"unit_id": world.street.pk, "note": "请依法办理"}), "assigned"
    )
    assert data["handling_unit"] == {"id": world.street.pk, "name": "东湖街道"}
    assert [d["kind"]["code"] for d in data["deadlines"]] == ["accept"]
    hank_view = hank.get(f"/cases/{cid}").json()
    assert {a["code"] for a in hank_view["allowed_actions"]} == {"sign_in", "return"}

    _ok(hank.act(cid, "sign_in"), "signed")
    data = _ok(hank.act(cid, "accept", {"notice_text": "经审查，决定受理。"}), "accepted")
    assert [d["kind"]["code"] for d in data["deadlines"]] == ["handle"]
    due_before = data["deadlines"][0]["due_on"]

    data = _ok(
        uma.act(cid, "request_extension", {"days": 20, "reason": "需要多部门会商核实"}), "accepted"
    )
    assert data["pending_extension"]["days"] == 20
    data = _ok(alice.act(cid, "decide_extension", {"approve": True}), "accepted")
    assert data["pending_extension"] is None
    assert data["deadlines"][0]["due_on"] > due_before

    # 答复: the 答复意见书 is drafted, approved by the head, checked by the office, then served.
    draft = {
        "facts": "经调查核实，物业公司调整物业费未经业主大会表决。",
        "basis": "依据《物业管理条例》第十一条的规定。",
        "decision": "物业费调整程序不合规，已责令整改。",
        "review_organ": "示范区人民政府",
    }
    base = f"/cases/{cid}/reply-draft"
    assert hank.post(base, draft).status_code == 200
    assert hank.post(f"{base}/submit").status_code == 200
    assert uma.post(f"{base}/approve").status_code == 200
    assert alice.post(f"{base}/check").status_code == 200
    reply = {"served_on": today, "method": "in_person"}
    data = _ok(uma.act(cid, "reply", reply), "replied")
    assert data["served_at"] == today
    _ok(rita.act(cid, "evaluate", {"evaluation": "satisfied", "comment": "满意"}), "evaluated")
    data = _ok(alice.act(cid, "close", {"note": "已答复并评价"}), "closed")
    assert data["closed_at"] is not None
    assert data["evaluation"] == {"code": "satisfied", "label": "满意"}

    _ok(rita.act(cid, "request_review", {"reason": "对答复不服，请求复查"}), "review_requested")
    _ok(alice.act(cid, "decide_review", {"text": "经复查，维持原答复意见，理由如下。"}), "reviewed")
    _ok(rita.act(cid, "request_rereview", {"reason": "对复查意见不服"}), "rereview_requested")
    data = _ok(
        alice.act(cid, "decide_rereview", {"text": "经复核，维持复查意见，本事项终结。"}), "final"
    )
    data = _ok(hank.act(cid, "note", {"text": "已归档纸质材料"}), "final")

    kinds = [e["kind"] for e in data["events"]]
    assert kinds == [
        "register", "assign", "sign_in", "accept", "request_extension", "decide_extension",
        "extension_notice", "reply_draft", "reply_submit", "reply_approve", "reply_check",
        "reply", "evaluate", "close", "followup_plan", "request_review", "decide_review",
        "request_rereview", "decide_rereview", "note",
    ]  # fmt: skip
    assign = data["events"][1]
    assert assign["label"] == "交办"
    assert assign["actor"] == "艾丽"
    assert assign["unit"] == {"id": world.office.pk, "name": "区信访局"}
    assert assign["from_status"] == {"code": "registered", "label": "已登记"}
    assert assign["to_status"] == {"code": "assigned", "label": "已交办"}
    assert assign["text"] == "请依法办理"
    assert data["allowed_actions"] == []


def test_forward_return_refuse_inform_and_denied_extension(world, as_user):
    alice, rita, hank = (as_user(u) for u in (world.alice, world.rita, world.hank))
    cid = _register(world, as_user)["id"]
    _ok(alice.act(cid, "forward", {"unit_id": world.street.pk}), "forwarded")
    _ok(hank.act(cid, "sign_in"), "signed")
    returned = hank.act(cid, "return", {"reason": "不属于本单位职责范围"})
    assert returned.status_code == 200, returned.content
    # returned: hank's unit no longer handles it, so it is out of his sight again
    assert returned.json()["case"] is None
    assert returned.json()["event"]["kind"] == "return"
    assert returned.json()["event"]["unit"] == {"id": world.street.pk, "name": "东湖街道"}
    assert hank.get(f"/cases/{cid}").status_code == 404
    data = alice.get(f"/cases/{cid}").json()
    assert data["status"]["code"] == "returned"
    assert data["handling_unit"] is None
    assert [d["kind"]["code"] for d in data["deadlines"]] == ["route"]

    _ok(alice.act(cid, "assign", {"unit_id": world.street.pk}), "assigned")
    _ok(hank.act(cid, "sign_in"), "signed")
    _ok(hank.act(cid, "refuse", {"notice_text": "属于诉讼程序，请依法向法院起诉。"}), "refused")
    _ok(alice.act(cid, "close", {}), "closed")

    other = _register(world, as_user)["id"]
    _ok(rita.act(other, "inform", {"reason": "已进入诉讼程序，请向法院反映"}), "informed")

    third = _register(world, as_user)["id"]
    _ok(alice.act(third, "assign", {"unit_id": world.street.pk}), "assigned")
    _ok(hank.act(third, "sign_in"), "signed")
    _ok(hank.act(third, "accept", {"notice_text": "决定受理。"}), "accepted")
    _ok(hank.act(third, "request_extension", {"days": 10, "reason": "需要现场勘查"}), "accepted")
    missing_note = alice.act(third, "decide_extension", {"approve": False})
    assert missing_note.status_code == 400
    assert missing_note.json()["field"] == "note"
    _ok(alice.act(third, "decide_extension", {"approve": False, "note": "理由不充分"}), "accepted")
    assert ExtensionRequest.objects.get(case_id=third).state == "denied"


def test_every_transition_has_an_endpoint(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for code in [*ACTIONS, "note"]:
        assert f"/api/cases/{{case_id}}/actions/{code}" in paths, code
        operation = paths[f"/api/cases/{{case_id}}/actions/{code}"]["post"]
        assert operation["operationId"] == f"case_{code}"


def test_domain_errors_of_actions_name_the_body_field(world, as_user):
    cid = _register(world, as_user)["id"]
    alice = as_user(world.alice)
    unknown = alice.act(cid, "assign", {"unit_id": 999999})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "unit_id"
    world.sibling.is_active = False
    world.sibling.save()
    inactive = alice.act(cid, "assign", {"unit_id": world.sibling.pk})
    assert inactive.status_code == 400
    assert inactive.json() == {
        "detail": "单位「西山街道」已停用，请选择其他单位",
        "field": "unit_id",
        "code": "invalid",
    }
    short = as_user(world.rita).act(cid, "inform", {"reason": "不"})
    assert short.status_code == 400
    assert short.json()["field"] == "reason"
    no_fields = alice.act(cid, "assign", {})
    assert no_fields.status_code == 422
    assert no_fields.json()["errors"][0]["loc"][-1] == "unit_id"
    not_json = alice.client.post(
        f"/api/cases/{cid}/actions/close", data="{oops", content_type="application/json"
    )
    assert not_json.status_code == 400
    assert not_json.json()["code"] == "bad_request"
    assert "JSON" in not_json.json()["detail"]


def test_wrong_state_and_wrong_role_on_a_visible_case(world, as_user):
    cid = _register(world, as_user)["id"]
    alice, hank, leo = (as_user(u) for u in (world.alice, world.hank, world.leo))
    early = alice.act(cid, "close", {})
    assert early.status_code == 409
    assert early.json()["code"] == "transition_not_allowed"
    assert "当前状态为「已登记」" in early.json()["detail"]

    _ok(alice.act(cid, "assign", {"unit_id": world.street.pk}), "assigned")
    # hank sees the case (his unit handles it) but 交办 is the office's: 403, not 404
    wrong_side = hank.act(cid, "assign", {"unit_id": world.street.pk})
    assert wrong_side.status_code == 403
    assert wrong_side.json()["code"] == "permission_denied"
    assert "办案员" in wrong_side.json()["detail"]
    # the district leader sees everything below but signs nothing in for the street
    assert leo.get(f"/cases/{cid}").status_code == 200
    assert leo.act(cid, "sign_in").status_code == 403


def test_routing_twice_is_409(world, as_user):
    cid = _register(world, as_user)["id"]
    alice = as_user(world.alice)
    _ok(alice.act(cid, "assign", {"unit_id": world.street.pk}), "assigned")
    again = alice.act(cid, "assign", {"unit_id": world.sibling.pk})
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"
    assert Case.objects.get(pk=cid).handling_unit_id == world.street.pk


def test_concurrent_change_between_read_and_write_is_409(world, as_user, monkeypatch):
    """Two clerks open the same registered case; the other one forwards it first."""
    cid = _register(world, as_user)["id"]
    original = access.case_or_404
    calls: list[int] = []

    def stale_read(request, case_id):
        case = original(request, case_id)  # what our clerk loaded ...
        if not calls:
            calls.append(case_id)  # ... then the other clerk acts before our UPDATE
            S.case_forward(case=Case.objects.get(pk=case_id), by=world.alice, unit=world.sibling)
        return case

    monkeypatch.setattr(access, "case_or_404", stale_read)
    response = as_user(world.alice).act(cid, "assign", {"unit_id": world.street.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "concurrent_change"
    assert "当前状态：已转送" in response.json()["detail"]
    case = Case.objects.get(pk=cid)
    assert case.status == Status.FORWARDED
    assert case.handling_unit_id == world.sibling.pk
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        "register",
        "forward",
    ]


def test_another_units_case_does_not_exist_for_them(world, as_user):
    cid = _register(world, as_user)["id"]
    number = Case.objects.get(pk=cid).number
    _ok(as_user(world.alice).act(cid, "assign", {"unit_id": world.street.pk}), "assigned")
    bob = as_user(world.bob)  # 西山街道: a sibling street, not involved

    detail = bob.get(f"/cases/{cid}")
    assert detail.status_code == 404
    assert detail.json()["code"] == "not_found"
    action = bob.act(cid, "sign_in")
    assert action.status_code == 404
    assert Case.objects.get(pk=cid).status == Status.ASSIGNED
    listing = bob.get("/cases")
    assert listing.json()["count"] == 0
    assert number not in listing.content.decode()
    lookup = bob.get("/petitioners/lookup", q=VALID_ID)
    assert lookup.status_code == 200
    assert lookup.json()["items"] == []  # not even that such a person is on file
    assert number not in lookup.content.decode()
    # while the street that handles it sees it everywhere
    hank = as_user(world.hank)
    assert hank.get(f"/cases/{cid}").status_code == 200
    assert hank.get("/cases").json()["count"] == 1
    cases = hank.get("/petitioners/lookup", q=VALID_ID).json()["items"][0]["cases"]
    assert [c["number"] for c in cases] == [number]


def test_sysadmin_sees_no_cases(world, as_user):
    cid = _register(world, as_user)["id"]
    sam = as_user(world.sam)
    assert sam.get("/cases").json() == {"count": 0, "page": 1, "page_size": 20, "items": []}
    assert sam.get(f"/cases/{cid}").status_code == 404
    assert sam.act(cid, "note", {"text": "看看"}).status_code == 404
    lookup = sam.get("/petitioners/lookup", q=VALID_ID)
    assert lookup.status_code == 403
    assert "张三" not in lookup.content.decode()
