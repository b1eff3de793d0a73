"""API of the desk, reception days and 包案 — same services; another office's rows are 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import VALID_ID, World


def test_desk_api(world: World, dora: Any) -> None:
    rita, alice = token_client(world.rita), token_client(world.alice)
    r = rita.post("/reception/visits", {"visitor_name": "王五", "headcount": 2})
    assert r.status_code == 201, r.content
    v = r.json()
    assert v["ticket"] == 1 and v["state"] == "waiting"
    assert rita.post("/reception/visits", {"headcount": 0}).status_code == 422
    assert rita.post(f"/reception/visits/{v['id']}/call").json()["state"] == "in_reception"
    again = alice.post(f"/reception/visits/{v['id']}/call")
    assert again.status_code == 409 and again.json()["detail"] == "该来访人已由他人接待"
    bad = rita.post(f"/reception/visits/{v['id']}/finish", {"outcome": "registered"})
    assert bad.status_code == 400 and bad.json()["field"] == "outcome"
    done = rita.post(f"/reception/visits/{v['id']}/finish", {"outcome": "answered"})
    assert done.status_code == 200 and done.json()["state"] == "done"
    listed = rita.get("/reception/visits").json()
    assert [x["id"] for x in listed] == [v["id"]]
    stats = rita.get("/reception/stats").json()
    assert stats["total"] == 1 and stats["done"] == 1 and stats["avg_wait_minutes"] is not None
    dora_api = token_client(dora)
    assert dora_api.post(f"/reception/visits/{v['id']}/leave").status_code == 404
    assert dora_api.get("/reception/visits", office_id=world.office.pk).status_code == 404
    assert dora_api.get("/reception/visits").json() == []
    assert token_client(world.hank).get("/reception/visits").status_code == 404
    assert rita.post(f"/reception/visits/{2**62 + 5}/call").status_code == 422


def test_days_bookings_record_owner_api(world: World, register: Any, dora: Any) -> None:
    case = register()
    rita, leo = token_client(world.rita), token_client(world.leo)
    date = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    r = rita.post(
        "/reception/days",
        {
            "leader_id": world.leo.pk,
            "date": date,
            "start_time": "09:00",
            "end_time": "11:00",
            "place": "接待室",
            "capacity": 1,
        },
    )
    assert r.status_code == 201, r.content
    day = r.json()
    b = rita.post(
        f"/reception/days/{day['id']}/bookings",
        {"name": "张三", "id_number": VALID_ID, "topic": "物业费"},
    )
    assert b.status_code == 201, b.content
    full = rita.post(
        f"/reception/days/{day['id']}/bookings", {"case_id": case.pk, "topic": "又一人"}
    )
    assert full.status_code == 400  # the same person (the case's petitioner) or full
    bid = b.json()["id"]
    assert rita.post(f"/reception/bookings/{bid}/arrive").json()["state"] == "arrived"
    assert rita.post(f"/reception/bookings/{bid}/case", {"case_id": case.pk}).status_code == 200
    rec = leo.post(f"/reception/bookings/{bid}/record", {"record": "请依法处理", "attendees": ""})
    assert rec.status_code == 200 and rec.json()["state"] == "received"
    assert [d["id"] for d in leo.get("/reception/days").json()] == [day["id"]]
    assert token_client(dora).get(f"/reception/days/{day['id']}/bookings").status_code == 404
    assert token_client(world.bob).post(f"/reception/bookings/{bid}/arrive").status_code == 404
    own = token_client(world.alice).post(f"/cases/{case.pk}/owner", {"leader_id": world.leo.pk})
    assert own.status_code == 201 and own.json()["leader_id"] == world.leo.pk
    assert token_client(world.rita).post(f"/cases/{case.pk}/owner/end", {}).status_code == 403
    assert token_client(world.bob).post(f"/cases/{case.pk}/owner/end", {}).status_code == 404
    end = leo.post(f"/cases/{case.pk}/owner/end", {"note": "已化解"})
    assert end.status_code == 200 and end.json()["ended_at"] is not None
