"""API: evaluation by SMS and channel, tasks, 回访, hearings — and another unit's 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World
from xinfang.cases import services as CS
from xinfang.followup.models import FollowUp, OfficeTask


def test_evaluate_action_channel(world: World, replied: Any) -> None:
    api = token_client(world.rita)
    r = api.act(replied.pk, "evaluate", {"evaluation": "satisfied", "channel": "portal"})
    assert r.status_code == 200, r.content
    assert r.json()["event"]["data"]["channel"] == "portal"


def test_sms_endpoint(world: World, replied: Any) -> None:
    api = token_client(world.rita)
    bad = api.post(f"/cases/{replied.pk}/evaluation/sms", {"text": "好的"})
    assert bad.status_code == 400 and bad.json()["field"] == "sms_text"
    assert "无法识别" in bad.json()["detail"]
    assert (
        token_client(world.bob)
        .post(f"/cases/{replied.pk}/evaluation/sms", {"text": "3"})
        .status_code
        == 404
    )
    ok = api.post(f"/cases/{replied.pk}/evaluation/sms", {"text": "3 不同意处理意见"})
    assert ok.status_code == 200, ok.content
    assert ok.json()["event"]["data"] == {"evaluation": "unsatisfied", "channel": "sms"}
    again = api.post(f"/cases/{replied.pk}/evaluation/sms", {"text": "3 不同意处理意见"})
    assert again.status_code == 409
    assert OfficeTask.objects.count() == 1


def test_tasks_api(world: World, replied: Any) -> None:
    CS.case_evaluate(case=replied, by=world.rita, evaluation="unsatisfied")
    alice = token_client(world.alice)
    rows = alice.get("/followup/tasks").json()
    assert [r["case_number"] for r in rows] == [replied.number]
    assert token_client(world.bob).get("/followup/tasks").json() == []
    tid = rows[0]["id"]
    assert (
        token_client(world.bob)
        .post(f"/followup/tasks/{tid}/close", {"outcome": "已复核完毕"})
        .status_code
        == 404
    )
    assert (
        token_client(world.hank)
        .post(f"/followup/tasks/{tid}/close", {"outcome": "已复核完毕"})
        .status_code
        == 403
    )
    done = alice.post(f"/followup/tasks/{tid}/close", {"outcome": "已复核完毕"})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert alice.get("/followup/tasks", state="done").json()[0]["outcome"] == "已复核完毕"


def test_followups_api(world: World, replied: Any) -> None:
    CS.case_close(case=replied, by=world.alice)
    fu = FollowUp.objects.get()
    rita = token_client(world.rita)
    rows = rita.get("/followup/followups", state="open").json()
    assert [r["id"] for r in rows] == [fu.pk]
    assert token_client(world.bob).get("/followup/followups", state="open").json() == []
    body = {"result": "unreached", "method": "phone", "outcome": "电话无人接听，三次未接通"}
    assert (
        token_client(world.bob).post(f"/followup/followups/{fu.pk}/record", body).status_code == 404
    )
    r = rita.post(f"/followup/followups/{fu.pk}/record", body)
    assert r.status_code == 200 and r.json()["result"] == "unreached"
    assert rita.post(f"/followup/followups/{fu.pk}/record", body).status_code == 409


def test_hearings_api(world: World, replied: Any, pool: list[Any]) -> None:
    alice = token_client(world.alice)
    assert len(alice.get("/hearings/members").json()) == 10
    when = (timezone.now() + dt.timedelta(days=5)).isoformat()
    body = {"scheduled_at": when, "place": "听证室", "member_ids": [m.pk for m in pool[:2]]}
    bad = alice.post(f"/cases/{replied.pk}/hearings", body)
    assert bad.status_code == 400 and bad.json()["field"] == "members"
    body["member_ids"] = [m.pk for m in pool[:3]]
    assert token_client(world.bob).post(f"/cases/{replied.pk}/hearings", body).status_code == 404
    r = alice.post(f"/cases/{replied.pk}/hearings", body)
    assert r.status_code == 201, r.content
    hid = r.json()["id"]
    votes = [
        {"member_id": pool[0].pk, "vote": "disagree"},
        {"member_id": pool[1].pk, "vote": "disagree", "opinion": "答复依据不足"},
        {"member_id": pool[2].pk, "vote": "agree"},
    ]
    record = {"record": "听证会依法举行，各方充分陈述。", "votes": votes}
    assert token_client(world.bob).post(f"/hearings/{hid}/record", record).status_code == 404
    done = alice.post(f"/hearings/{hid}/record", record)
    assert done.status_code == 200, done.content
    tally = done.json()["tally"]
    assert (tally["agree"], tally["disagree"], tally["abstain"]) == (1, 2, 0)
    assert tally["result"] == "disagree"
    listed = token_client(world.leo).get(f"/cases/{replied.pk}/hearings").json()
    assert listed[0]["state"] == "held"
    assert token_client(world.bob).get(f"/cases/{replied.pk}/hearings").status_code == 404
