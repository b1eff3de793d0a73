"""Messages to petitioners: backends, 进展告知 (service, page, API), 延期告知 on an approved
extension, and 检举控告 confidentiality of what is sent."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from tests.notify.conftest import ACCUSER, ACCUSER_PHONE, SECRET_WORD, leaks
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent
from xinfang.cases.transitions import EVENT_LABELS, PUBLIC_EVENT_KINDS
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.notify import backends
from xinfang.notify.models import OutboundMessage
from xinfang.notify.petitioner import case_progress_notice, send_to_petitioner
from xinfang.people.services import PetitionerInput

PHONE = "13812345678"  # tests/conftest.py registration()


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _accepted(world: World, case: Case) -> Case:
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    return case


def test_event_kinds_are_labelled_and_public() -> None:
    for kind in ("progress_notice", "extension_notice", "petitioner_message"):
        assert kind in EVENT_LABELS and kind in PUBLIC_EVENT_KINDS


def test_database_backend_stores_and_marks_sent(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = register()
    with django_capture_on_commit_callbacks(execute=True):
        ev = send_to_petitioner(case=case, by=world.alice, channel="sms", text="您的事项正在办理。")
    assert ev.kind == "petitioner_message" and ev.data["channel"] == "sms"
    m = OutboundMessage.objects.get()
    assert ev.data["message_ids"] == [m.pk] and m.event_id == ev.pk
    assert m.status == "sent" and m.backend == "database" and m.sent_at is not None
    assert m.body.startswith(f"您好！关于您的信访事项（编号{case.number}）：")
    # the raw phone is nowhere in the row
    row = OutboundMessage.objects.filter(pk=m.pk).values().get()
    assert not any(PHONE in str(v) for v in row.values())


def test_queued_until_commit(world: World, register: Any) -> None:
    case = register()
    send_to_petitioner(case=case, by=world.alice, channel="portal", text="正在办理中。")
    assert OutboundMessage.objects.get().status == "queued"


def test_console_backend_masks_phone(
    world: World,
    register: Any,
    settings: Any,
    caplog: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.XINFANG_MESSAGE_BACKEND = "console"
    case = register()
    with (
        caplog.at_level(logging.INFO, logger="xinfang.notify.messages"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_to_petitioner(case=case, by=world.alice, channel="sms", text="您的事项正在办理。")
    assert "138****5678" in caplog.text and PHONE not in caplog.text
    assert OutboundMessage.objects.get().backend == "console"


def test_failing_backend_records_failure(
    world: World,
    register: Any,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    class Broken(backends.MessageBackend):
        name = "broken"

        def send(self, message: Any) -> None:
            raise OSError("网关不可用")

    monkeypatch.setitem(backends.BACKENDS, "broken", Broken)
    settings.XINFANG_MESSAGE_BACKEND = "broken"
    case = register()
    with django_capture_on_commit_callbacks(execute=True):
        send_to_petitioner(case=case, by=world.alice, channel="portal", text="正在办理中。")
    m = OutboundMessage.objects.get()
    assert m.status == "failed" and "网关不可用" in m.error


def test_channel_rules(world: World, register: Any) -> None:
    case = register(petitioners=[PetitionerInput(name="李四")])  # no phone, no address
    with pytest.raises(DomainError) as e:
        send_to_petitioner(case=case, by=world.alice, channel="sms", text="正在办理中。")
    assert e.value.field == "channel" and "电话" in e.value.message
    with pytest.raises(DomainError) as e:
        send_to_petitioner(case=case, by=world.alice, channel="letter", text="正在办理中。")
    assert "住址" in e.value.message
    with pytest.raises(DomainError) as e:
        send_to_petitioner(case=case, by=world.alice, channel="pigeon", text="正在办理中。")
    assert e.value.field == "channel"
    with pytest.raises(DomainError) as e:
        send_to_petitioner(case=case, by=world.alice, channel="portal", text="好")
    assert e.value.field == "text"
    assert (
        not OutboundMessage.objects.exists()
        and not CaseEvent.objects.filter(kind="petitioner_message").exists()
    )


# --- 进展告知 ----------------------------------------------------------------------------------


def test_progress_notice_guard_and_event(world: World, register: Any) -> None:
    case = register()
    with pytest.raises(DomainError):  # 已登记: not yet with a unit
        case_progress_notice(case=case, by=world.alice, channel="portal", opening="received")
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(PermissionDenied):  # another unit's handler
        case_progress_notice(case=case, by=world.bob, channel="portal", opening="received")
    with pytest.raises(PermissionDenied):  # a leader is not the office or the unit
        case_progress_notice(case=case, by=world.leo, channel="portal", opening="received")
    with pytest.raises(DomainError) as e:
        case_progress_notice(case=case, by=world.hank, channel="portal")
    assert e.value.field == "text"
    ev = case_progress_notice(
        case=case, by=world.hank, channel="sms", opening="investigating", text="预计月底前答复。"
    )
    assert ev.kind == "progress_notice" and ev.actor_unit == world.street
    assert ev.text.startswith("承办单位正在调查核实") and ev.text.endswith("预计月底前答复。")
    assert ev.data["channel"] == "sms" and len(ev.data["message_ids"]) == 1
    ev2 = case_progress_notice(case=case, by=world.rita, channel="portal", text="已催促承办单位。")
    assert ev2.actor_unit == world.office


def test_progress_notice_on_case_page(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = _accepted(world, register())
    c = _client(world.hank)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "进展告知" in page and f"/notify/cases/{case.pk}/progress/" in page
    # bad input: the panel comes back with the message and what was typed
    r = c.post(
        f"/notify/cases/{case.pk}/progress/",
        {"pn-channel": "letter", "pn-text": "请耐心等待结果"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "住址" in body and "请耐心等待结果" in body
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            f"/notify/cases/{case.pk}/progress/",
            {"pn-channel": "portal", "pn-opening": "received", "pn-text": ""},
            headers={"HX-Request": "true"},
        )
    assert r.status_code == 204 and r["HX-Redirect"] == f"/cases/{case.pk}/"
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "进展告知" in page and "已发送" in page
    # bob (another unit) cannot reach the case at all
    assert (
        _client(world.bob)
        .post(
            f"/notify/cases/{case.pk}/progress/", {"pn-channel": "portal", "pn-opening": "received"}
        )
        .status_code
        == 404
    )
    # a leader sees the case but gets no form
    assert (
        f"/notify/cases/{case.pk}/progress/"
        not in _client(world.leo).get(f"/cases/{case.pk}/").content.decode()
    )


def test_progress_notice_api(world: World, register: Any) -> None:
    case = _accepted(world, register())
    r = token_client(world.hank).post(
        f"/cases/{case.pk}/progress-notice", {"channel": "portal", "opening": "coordinating"}
    )
    assert r.status_code == 200, r.content
    assert r.json()["event"]["kind"] == "progress_notice"
    assert r.json()["event"]["label"] == "进展告知"
    r = token_client(world.hank).post(f"/cases/{case.pk}/progress-notice", {"channel": "portal"})
    assert r.status_code == 400 and r.json()["field"] == "text"
    r = token_client(world.bob).post(
        f"/cases/{case.pk}/progress-notice", {"channel": "portal", "opening": "received"}
    )
    assert r.status_code == 404


def test_progress_notice_confidential(world: World, accusation: Case) -> None:
    _accepted(world, accusation)
    for text in (
        f"关于{SECRET_WORD}问题",
        f"{ACCUSER}同志您好",
        f"电话{ACCUSER_PHONE}",
        "副主任王某一事",
    ):
        with pytest.raises(DomainError) as e:
            case_progress_notice(case=accusation, by=world.hank, channel="portal", text=text)
        assert e.value.field == "text"
    ev = case_progress_notice(
        case=accusation, by=world.hank, channel="sms", opening="investigating"
    )
    msgs = OutboundMessage.objects.filter(event=ev)
    assert msgs.exists()
    for m in msgs:
        assert not leaks(m.body) and accusation.number in m.body
    assert not leaks(ev.text)


# --- 延期告知 ----------------------------------------------------------------------------------


def test_extension_approved_tells_the_petitioner(
    world: World, register: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = _accepted(world, register())
    S.case_request_extension(case=case, by=world.uma, days=15, reason="需要现场勘验")
    with django_capture_on_commit_callbacks(execute=True):
        S.case_decide_extension(case=case, by=world.alice, approve=True)
    decide = case.events.get(kind="decide_extension")
    ev = case.events.get(kind="extension_notice")
    assert ev.data["days"] == 15 and ev.data["handle_due"] == decide.data["handle_due"]
    assert ev.data["channels"] == ["portal", "sms"]
    assert "需要现场勘验" in ev.text and "延长15日" in ev.text
    y, m, d = (int(x) for x in decide.data["handle_due"].split("-"))
    assert f"{y}年{m}月{d}日" in ev.text
    msgs = OutboundMessage.objects.filter(event=ev)
    assert sorted(msgs.values_list("channel", flat=True)) == ["portal", "sms"]
    assert all(m.status == "sent" and m.kind == "extension_notice" for m in msgs)


def test_extension_denied_or_no_phone(world: World, register: Any) -> None:
    case = _accepted(world, register())
    S.case_request_extension(case=case, by=world.uma, days=10, reason="需要现场勘验")
    S.case_decide_extension(case=case, by=world.alice, approve=False, note="理由不充分")
    assert not case.events.filter(kind="extension_notice").exists()
    other = _accepted(world, register(petitioners=[PetitionerInput(name="李四")]))
    S.case_request_extension(case=other, by=world.uma, days=10, reason="需要现场勘验")
    S.case_decide_extension(case=other, by=world.alice, approve=True)
    ev = other.events.get(kind="extension_notice")
    assert ev.data["channel"] == "portal"


def test_extension_notice_confidential(world: World, accusation: Case) -> None:
    _accepted(world, accusation)
    S.case_request_extension(
        case=accusation, by=world.uma, days=10, reason=f"需进一步核查{SECRET_WORD}线索"
    )
    S.case_decide_extension(case=accusation, by=world.alice, approve=True)
    ev = accusation.events.get(kind="extension_notice")
    assert not leaks(ev.text)
    for m in OutboundMessage.objects.filter(case=accusation):
        assert not leaks(m.body)


def test_progress_notice_form_resent_sends_once(world: World, register: Any) -> None:
    case = _accepted(world, register())
    c = _client(world.hank)
    data = {"pn-channel": "portal", "pn-opening": "received", "idempotency_key": "k-1"}
    from xinfang.core.idempotency import FORM_FIELD

    data[FORM_FIELD] = data.pop("idempotency_key")
    assert c.post(f"/notify/cases/{case.pk}/progress/", data).status_code == 302
    assert c.post(f"/notify/cases/{case.pk}/progress/", data).status_code == 302
    assert case.events.filter(kind="progress_notice").count() == 1
    assert OutboundMessage.objects.count() == 1


def test_badge_for_anonymous_is_empty() -> None:
    assert Client().get("/notify/badge/").status_code == 204
