"""The 答复意见书 over the API and on the case page (HTMX panel)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World, registration
from tests.replies.test_replies import PARTS, accepted
from xinfang.cases.models import Status
from xinfang.cases.registration import case_register


def test_api_draft_workflow_and_reply_action_serves(world: World) -> None:
    case = accepted(world)
    hank, uma, alice, bob = (
        token_client(u) for u in (world.hank, world.uma, world.alice, world.bob)
    )
    base = f"/cases/{case.pk}/reply-draft"
    start = hank.get(base).json()
    assert start["id"] is None and start["state"] is None
    assert start["template"] == {"code": "appeal", "label": "申诉求决"}
    assert start["review_organ"] == "示范区人民政府"
    assert "书面请求复查" in start["closing"]
    assert bob.get(base).status_code == 404  # another unit's case does not exist for bob

    bad = hank.post(base, dict(PARTS, basis=""))
    assert bad.status_code == 400, bad.content
    assert bad.json()["field"] == "basis" and "处理依据" in bad.json()["detail"]

    saved = hank.post(base, PARTS).json()
    assert saved["state"] == {"code": "draft", "label": "起草中"}
    assert saved["drafted"]["name"] == "韩克"
    assert uma.post(f"{base}/approve").status_code == 400  # not submitted yet
    assert hank.post(f"{base}/submit").json()["state"]["code"] == "submitted"
    denied = hank.post(f"{base}/approve")
    assert denied.status_code == 403 and "单位负责人" in denied.json()["detail"]
    rejected = uma.post(f"{base}/reject", {"reason": "事实部分需补充调查经过"}).json()
    assert rejected["state"]["code"] == "draft"
    assert rejected["reject_note"] == "事实部分需补充调查经过"
    hank.post(base, PARTS)
    hank.post(f"{base}/submit")
    assert uma.post(f"{base}/approve").json()["approved"]["name"] == "乌玛"
    checked = alice.post(f"{base}/check").json()
    assert checked["state"]["code"] == "checked" and checked["checked"]["name"] == "艾丽"

    today = timezone.localdate().isoformat()
    served = uma.act(case.pk, "reply", {"served_on": today, "method": "post"})
    assert served.status_code == 200, served.content
    body = served.json()
    assert body["event"]["kind"] == "reply"
    assert body["event"]["data"]["doc"]["review_organ"] == "示范区人民政府"
    assert body["case"]["status"]["code"] == Status.REPLIED
    final = hank.get(base).json()
    assert final["state"]["code"] == "served" and final["served_on"] == today


def test_api_serve_endpoint_and_direct_reply_refused(world: World) -> None:
    case = accepted(world)
    uma = token_client(world.uma)
    today = timezone.localdate().isoformat()
    refused = uma.act(
        case.pk,
        "reply",
        {"text": "直接答复的内容不少于十个字。", "served_on": today, "method": "post"},
    )
    assert refused.status_code == 400
    assert "答复意见书" in refused.json()["detail"]
    hank, alice = token_client(world.hank), token_client(world.alice)
    base = f"/cases/{case.pk}/reply-draft"
    hank.post(base, PARTS)
    hank.post(f"{base}/submit")
    uma.post(f"{base}/approve")
    alice.post(f"{base}/check")
    served = uma.post(f"{base}/serve", {"served_on": today, "method": "in_person"})
    assert served.status_code == 200, served.content
    assert served.json()["event"]["data"]["draft_id"]


def _htmx(client: Any, url: str, data: dict[str, Any]) -> str:
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def test_case_page_panel_steps_and_errors_keep_input(world: World, client: Any) -> None:
    case = accepted(world)
    page = f"/cases/{case.pk}/"
    client.force_login(world.hank)
    html = client.get(page).content.decode()
    assert "答复意见书" in html and "起草答复意见书" in html
    assert "一、查明的事实" in html and "示范区人民政府" in html
    assert "action-reply" not in html  # the old reply form is gone from the action panel

    typed = dict(PARTS, decision="太短")
    html = _htmx(client, f"/replies/cases/{case.pk}/save/", typed)
    assert "答复意见书缺少「处理意见」" in html
    assert PARTS["facts"] in html and PARTS["basis"] in html  # what was typed stays
    html = _htmx(client, f"/replies/cases/{case.pk}/save/", PARTS)
    assert "起草中" in html and "提交审批" in html
    html = _htmx(client, f"/replies/cases/{case.pk}/submit/", {})
    assert "待审批" in html

    client.force_login(world.uma)
    html = client.get(page).content.decode()
    assert "审批同意" in html and "退回修改" in html
    _htmx(client, f"/replies/cases/{case.pk}/approve/", {})
    client.force_login(world.alice)
    assert "审核通过" in client.get(page).content.decode()
    _htmx(client, f"/replies/cases/{case.pk}/check/", {})
    client.force_login(world.hank)
    html = _htmx(
        client,
        f"/replies/cases/{case.pk}/serve/",
        {"served_on": "2999-01-01", "method": "post"},
    )
    assert "送达日期不能晚于今天" in html
    html = _htmx(
        client,
        f"/replies/cases/{case.pk}/serve/",
        {"served_on": timezone.localdate().isoformat(), "method": "post"},
    )
    assert "已送达" in html and "已答复" in html


def test_other_units_case_is_404_for_the_panel_endpoints(world: World, client: Any) -> None:
    case = accepted(world)
    client.force_login(world.bob)
    assert client.post(f"/replies/cases/{case.pk}/save/", PARTS).status_code == 404
    assert client.post(f"/replies/cases/{case.pk}/nonsense/", {}).status_code == 404


def test_register_form_warns_about_a_final_case(world: World, client: Any) -> None:
    from tests.conftest import VALID_ID
    from tests.replies.test_replies import _final_case
    from xinfang.cases.models import Category

    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    client.force_login(world.rita)
    url = "/replies/final-check/"
    assert "不再受理" not in client.post(url, {"p-0-id_number": VALID_ID}).content.decode()
    final = _final_case(world, cat.pk)
    html = client.post(url, {"p-0-id_number": VALID_ID}).content.decode()
    assert "该事项已终结（复核意见已出具），同一事实和理由不再受理" in html
    assert final.number in html
    assert "不再受理" not in client.post(url, {"p-0-id_number": ""}).content.decode()
    # The form's one 口径一致 panel (cases.desk_views.desk_panel) carries the 终结 guidance.
    assert 'id="desk-panel"' in client.get("/cases/new/").content.decode()
    client.force_login(world.hank)  # no desk post: not for them
    assert client.post(url, {"p-0-id_number": VALID_ID}).status_code == 404
    assert case_register(by=world.rita, office=world.office, reg=registration()).is_repeat is False


NASTY = [
    {},
    {
        "facts": "\x00\u202e" * 50,
        "basis": "x" * 30000,
        "decision": "<script>",
        "review_organ": "y" * 300,
    },
    {"served_on": "2026-02-31", "method": "pigeon", "reason": "\u200b" * 10},
    {"served_on": "", "method": "", "title": "t" * 500},
]


def test_panel_steps_never_500(world: World, client: Any) -> None:
    case = accepted(world)
    for user in (world.hank, world.uma, world.alice, world.leo):
        client.force_login(user)
        for step in ("save", "submit", "approve", "reject", "check", "serve"):
            for data in NASTY:
                for headers in ({}, {"HX-Request": "true"}):
                    response = client.post(
                        f"/replies/cases/{case.pk}/{step}/", data, headers=headers
                    )
                    assert response.status_code < 500, (user, step, data)
