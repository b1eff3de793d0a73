"""Notifications: the inbox (own rows only), read/unread, dedupe, e-mail once, routing notifies
the unit's staff, 检举控告 confidentiality, the API."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from tests.notify.conftest import ACCUSER, SECRET_WORD, leaks
from xinfang.cases import services as S
from xinfang.cases.models import Case
from xinfang.notify import services as N
from xinfang.notify.models import Notification
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- notify() ------------------------------------------------------------------------------


def test_dedupe_key_is_idempotent_per_recipient(world: World, register: Any) -> None:
    case = register()
    assert (
        N.notify([world.hank, world.uma], kind="urge", title="催办", case=case, dedupe_key="k1")
        == 2
    )
    assert (
        N.notify([world.hank, world.uma], kind="urge", title="催办", case=case, dedupe_key="k1")
        == 0
    )
    assert (
        N.notify([world.hank, world.bob], kind="urge", title="催办", case=case, dedupe_key="k1")
        == 1
    )
    assert Notification.objects.filter(dedupe_key="k1").count() == 3
    # without a key every call stores
    N.notify([world.hank], kind="note", title="x")
    N.notify([world.hank], kind="note", title="x")
    assert Notification.objects.filter(recipient=world.hank, kind="note").count() == 2


def test_email_sent_once_after_commit(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.hank.email = "hank@example.cn"
    world.hank.save()
    case = register()
    with django_capture_on_commit_callbacks(execute=True):
        N.notify(
            [world.hank, world.uma],
            kind="overdue",
            title="超期提醒",
            body="请尽快办理",
            case=case,
            dedupe_key="od1",
            email=True,
        )
    assert len(mail.outbox) == 1  # uma has no address
    assert mail.outbox[0].to == ["hank@example.cn"]
    assert "超期提醒" in mail.outbox[0].subject
    assert f"/cases/{case.pk}/" in mail.outbox[0].body
    row = Notification.objects.get(recipient=world.hank, dedupe_key="od1")
    assert row.emailed_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        N.notify(
            [world.hank], kind="overdue", title="超期提醒", case=case, dedupe_key="od1", email=True
        )
    assert len(mail.outbox) == 1  # deduped: nothing new, nothing mailed


def test_mail_failure_is_logged_not_raised(
    world: World,
    register: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    from django.core.mail.backends.locmem import EmailBackend

    def boom(self: Any, messages: Any) -> int:
        raise OSError("smtp down")

    monkeypatch.setattr(EmailBackend, "send_messages", boom)
    world.hank.email = "hank@example.cn"
    world.hank.save()
    with django_capture_on_commit_callbacks(execute=True):
        N.notify([world.hank], kind="overdue", title="超期", dedupe_key="f1", email=True)
    assert Notification.objects.get(dedupe_key="f1").emailed_at is None
    assert "notification mail" in caplog.text


def test_no_email_without_commit(world: World, django_capture_on_commit_callbacks: Any) -> None:
    world.hank.email = "hank@example.cn"
    world.hank.save()
    with django_capture_on_commit_callbacks(execute=False):
        N.notify([world.hank], kind="overdue", title="超期", dedupe_key="f2", email=True)
    assert mail.outbox == []


# --- routing -------------------------------------------------------------------------------


def test_routing_notifies_unit_staff_once(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.uma.email = "uma@example.cn"
    world.uma.save()
    case = register()
    with django_capture_on_commit_callbacks(execute=True):
        S.case_assign(case=case, by=world.alice, unit=world.street)
    rows = Notification.objects.filter(kind="assignment", case=case)
    assert {r.recipient_id for r in rows} == {world.hank.pk, world.uma.pk}
    assert all(case.number in r.title and "交办" in r.title for r in rows)
    assert not rows.filter(recipient__in=[world.bob, world.alice]).exists()
    assert [m.to for m in mail.outbox] == [["uma@example.cn"]]
    # the signal repeated (a retry) for the same routing event: nobody twice
    from xinfang.notify.receivers import notify_routed

    ev = case.events.get(kind="assign")
    with django_capture_on_commit_callbacks(execute=True):
        notify_routed(None, case=case, unit=world.street, by=world.alice, action="assign", at=ev.at)
    assert rows.count() == 2 and len(mail.outbox) == 1


def test_routing_confidential_case_names_number_only(
    world: World, accusation: Case, django_capture_on_commit_callbacks: Any
) -> None:
    world.hank.email = "hank@example.cn"
    world.hank.save()
    with django_capture_on_commit_callbacks(execute=True):
        S.case_assign(case=accusation, by=world.alice, unit=world.street)
    rows = list(Notification.objects.filter(case=accusation))
    assert rows
    for r in rows:
        assert r.title.startswith("【检举控告件】") and accusation.number in r.title
        assert not leaks(r.title + r.body)
    assert len(mail.outbox) == 1
    assert not leaks(f"{mail.outbox[0].subject} {mail.outbox[0].body}")


def test_accused_are_never_notified(world: World, accusation: Case) -> None:
    accusation.accused_persons.add(world.leo)
    cora = Membership.objects.get(user__username="cora").user
    # bob: post in the accused unit; leo: accused person; a sibling-subtree post counts too
    Membership.objects.create(user=cora, unit=world.sibling, role=Role.objects.get(code=R.HANDLER))
    n = N.notify(
        [world.bob, world.leo, cora, world.hank],
        kind="urge",
        title=f"催办：{SECRET_WORD}",
        body=ACCUSER,
        case=accusation,
        dedupe_key="c1",
    )
    assert n == 1
    row = Notification.objects.get(dedupe_key="c1")
    assert row.recipient_id == world.hank.pk
    assert not leaks(row.title + row.body)


# --- inbox UI ------------------------------------------------------------------------------


def test_inbox_shows_only_own_rows_and_marks_read(world: World, register: Any) -> None:
    case = register()
    N.notify([world.hank], kind="assignment", title="给韩克的消息", case=case)
    N.notify([world.bob], kind="assignment", title="给鲍勃的消息")
    mine = Notification.objects.get(recipient=world.hank)
    other = Notification.objects.get(recipient=world.bob)
    c = _client(world.hank)
    body = c.get("/notify/").content.decode()
    assert "给韩克的消息" in body and "给鲍勃的消息" not in body
    assert f"/cases/{case.pk}/" in body
    assert c.get("/notify/badge/").content.decode().count("1") >= 1
    # someone else's row: 404 for read and open
    assert c.post(f"/notify/{other.pk}/read/").status_code == 404
    assert c.get(f"/notify/{other.pk}/open/").status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None
    r = c.post(f"/notify/{mine.pk}/read/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r["HX-Trigger"] == "notify-changed"
    assert Notification.objects.get(pk=mine.pk).read_at is not None
    assert "没有未读消息" in r.content.decode()
    assert "给韩克的消息" in c.get("/notify/?state=all").content.decode()
    assert "notify-badge" not in c.get("/notify/badge/").content.decode()


def test_inbox_filters_search_pagination_and_read_all(world: World) -> None:
    for i in range(35):
        N.notify([world.hank], kind="urge" if i % 2 else "overdue", title=f"消息{i:02d}")
    c = _client(world.hank)
    page1 = c.get("/notify/").content.decode()
    assert "第 1 / 2 页" in page1
    assert "消息34" in page1 and "消息00" not in page1
    assert "消息00" in c.get("/notify/?page=2").content.decode()
    urge = c.get("/notify/?kind=urge&state=all").content.decode()
    assert "消息33" in urge and "消息34" not in urge
    found = c.get("/notify/", {"q": "消息07"}).content.decode()
    assert "消息07" in found and "消息08" not in found
    r = c.post("/notify/read-all/")
    assert r.status_code == 302
    assert N.unread_count(world.hank) == 0


def test_open_marks_read_and_goes_to_case(world: World, register: Any) -> None:
    case = register()
    N.notify([world.alice], kind="x", title="t", case=case)
    n = Notification.objects.get(recipient=world.alice)
    r = _client(world.alice).get(f"/notify/{n.pk}/open/")
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.pk}/"
    assert Notification.objects.get(pk=n.pk).read_at is not None


def test_nav_has_inbox_link(world: World) -> None:
    body = _client(world.hank).get("/").content.decode()
    assert 'href="/notify/"' in body and 'hx-get="/notify/badge/"' in body


# --- API -----------------------------------------------------------------------------------


def test_api_notifications(world: World, register: Any) -> None:
    case = register()
    N.notify([world.hank], kind="assignment", title="甲", case=case)
    N.notify([world.hank], kind="urge", title="乙")
    N.notify([world.bob], kind="urge", title="丙")
    api = token_client(world.hank)
    r = api.get("/notifications")
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 2 and data["unread"] == 2
    assert {i["title"] for i in data["items"]} == {"甲", "乙"}
    assert api.get("/notifications", kind="urge").json()["count"] == 1
    assert api.get("/notifications", q="甲").json()["items"][0]["case_id"] == case.pk
    bobs = Notification.objects.get(recipient=world.bob)
    r = api.post(f"/notifications/{bobs.pk}/read")
    assert r.status_code == 404
    mine = Notification.objects.filter(recipient=world.hank).first()
    assert mine is not None
    r = api.post(f"/notifications/{mine.pk}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert api.get("/notifications", unread="true").json()["count"] == 1
    r = api.post("/notifications/read-all")
    assert r.json() == {"marked": 1, "unread": 0}
    assert Notification.objects.get(recipient=world.bob).read_at is None


def test_unread_count_is_one_query(world: World, django_assert_num_queries: Any) -> None:
    N.notify([world.hank], kind="x", title="t")
    with django_assert_num_queries(1):
        assert N.unread_count(world.hank) == 1
