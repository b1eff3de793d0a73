"""The auditor's page and API: 审计员 only (everyone else 404), filters, paging, verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.audit.tamper import chain, modify
from tests.conftest import World, make_user
from xinfang.audit.models import AuditEntry
from xinfang.org import roles as R

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(world: World, settings: Any) -> Any:
    settings.ACCOUNTS_OTP_ENFORCED = False  # the second factor is the accounts tests' matter
    return make_user("shenji", world.street, R.AUDITOR, "沈计")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_auditors_see_the_page_the_api_and_the_link(
    world: World, auditor: Any, settings: Any
) -> None:
    for user in (world.alice, world.leo, world.sam):
        client = client_for(user)
        assert client.get("/audit/").status_code == 404
        assert client.post("/audit/verify/").status_code == 404
        assert client.get("/api/audit/entries").status_code == 404
        assert client.get("/api/audit/verify").status_code == 404
        assert "审计日志" not in client.get("/").content.decode()
    assert Client().get("/audit/").status_code == 302  # to the login page
    assert Client().get("/api/audit/entries").status_code == 401
    start = client_for(auditor).get("/")  # an auditor reads no cases: his start page is the log
    assert start.status_code == 302 and start["Location"] == "/audit/"
    page = client_for(auditor).get("/audit/").content.decode()
    assert 'href="/audit/">审计日志</a>' in page
    assert 'href="/cases/"' not in page  # no case links for a role that reads no cases


def test_list_newest_first_with_labels(world: World, auditor: Any, register: Any) -> None:
    case = register()
    response = client_for(auditor).get("/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "审计日志" in html and "事项动态" in html and f"{case.number} 登记" in html
    seqs = [r.seq for r in response.context["rows"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == AuditEntry.objects.count()


def test_filters_narrow_the_list(world: World, auditor: Any, register: Any) -> None:
    register()
    chain(3, actor=world.alice)
    client = client_for(auditor)

    def seqs(**params: Any) -> list[int]:
        response = client.get("/audit/", params)
        assert response.status_code == 200
        return [r.seq for r in response.context["rows"]]

    logins = list(AuditEntry.objects.filter(action="login").values_list("seq", flat=True))
    assert seqs(action="login") == sorted(logins, reverse=True)
    assert len(seqs(actor="艾丽")) == 3
    expected = AuditEntry.objects.filter(object_type="case", object_id="101").order_by("-seq")
    assert seqs(object_type="case", object_id="101") == [e.seq for e in expected]
    assert any(e.summary == "第2次操作" for e in expected)
    assert (
        len(seqs(object_type="membership"))
        == AuditEntry.objects.filter(object_type="membership").count()
    )
    assert len(seqs(q="第2次")) == 1
    today = timezone.localdate()
    assert len(seqs(date_from=today, date_to=today)) == AuditEntry.objects.count()
    assert seqs(date_to=today - dt.timedelta(days=1)) == []
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    response = client.get("/audit/", {"date_from": today.isoformat(), "date_to": yesterday})
    assert "截止日期不能早于起始日期" in response.content.decode()
    fragment = client.get("/audit/", {"action": "login"}, headers={"HX-Request": "true"})
    assert "<h1>" not in fragment.content.decode() and "<table" in fragment.content.decode()


def test_pagination(world: World, auditor: Any) -> None:
    client = client_for(auditor)  # (its login is audited too)
    base = AuditEntry.objects.count()  # the world's role grants
    chain(120 - base)
    first = client.get("/audit/")
    assert [r.seq for r in first.context["rows"]][:2] == [120, 119]
    assert len(first.context["rows"]) == 50 and "第 1 / 3 页" in first.content.decode()
    third = client.get("/audit/", {"page": 3})
    assert [r.seq for r in third.context["rows"]] == list(range(20, 0, -1))


def test_verify_button_reports_intact_and_tampered(world: World, auditor: Any) -> None:
    client = client_for(auditor)
    n = chain(5)[-1].seq
    ok = client.post("/audit/verify/", headers={"HX-Request": "true"})
    assert f"审计日志校验通过：共{n}条，链头#{n}" in ok.content.decode()
    modify(3, summary="改过")
    bad = client.post("/audit/verify/").content.decode()
    assert "审计日志校验未通过" in bad and "[修改] 第3条：第3条内容被修改（哈希不符）" in bad
    assert client.get("/audit/verify/").status_code == 405


def test_api_entries_filters_and_paging(world: World, auditor: Any) -> None:
    client = client_for(auditor)
    n = chain(7, actor=world.alice)[-1].seq
    body = client.get("/api/audit/entries", {"page_size": 3, "page": 2}).json()
    assert body["count"] == n and body["page"] == 2 and body["page_size"] == 3
    assert [e["seq"] for e in body["items"]] == [n - 3, n - 4, n - 5]
    item = client.get("/api/audit/entries", {"actor": "艾丽"}).json()["items"][0]
    assert item["action_label"] and item["actor_name"] == "艾丽" and len(item["hash"]) == 64
    only = client.get("/api/audit/entries", {"action": "logout"}).json()
    assert {e["action"] for e in only["items"]} == {"logout"} and only["count"] == 1
    assert client.get("/api/audit/entries", {"page_size": 500}).status_code == 422


def test_api_verify(world: World, auditor: Any) -> None:
    client = client_for(auditor)
    n = chain(4)[-1].seq
    assert client.get("/api/audit/verify").json() == {
        "ok": True,
        "checked": n,
        "head_seq": n,
        "summary": f"审计日志校验通过：共{n}条，链头#{n}",
        "findings": [],
    }
    modify(2, actor_name="别人")
    body = client.get("/api/audit/verify").json()
    assert body["ok"] is False
    assert body["findings"] == [
        {
            "seq": 2,
            "kind": "modified",
            "kind_label": "修改",
            "message": "第2条内容被修改（哈希不符）",
        }
    ]


def test_api_token_of_an_auditor_works(world: World, auditor: Any) -> None:
    from xinfang.org.models import ApiToken

    _, raw = ApiToken.issue(user=auditor, name="审计对接")
    response = Client().get("/api/audit/verify", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.json()["ok"] is True


def test_admin_shows_entries_read_only_to_auditors(world: World, auditor: Any) -> None:
    client = client_for(auditor)
    n = chain(2)[-1].seq
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    entry = AuditEntry.objects.get(seq=1)
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    response = client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEntry.objects.count() == n
    assert client_for(world.sam).get("/admin/audit/auditentry/").status_code == 403
