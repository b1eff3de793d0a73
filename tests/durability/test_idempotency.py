"""Every create counts once per key: workbench forms (hidden field) and the API (header)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from tests.api.conftest import registration_body, token_client
from tests.conftest import VALID_ID, World
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.models import Attachment, Case, CaseEvent, Status
from xinfang.core import idempotency
from xinfang.core.models import IdempotencyRecord
from xinfang.people.models import PetitionerMerge
from xinfang.people.selectors import with_id_number, without_id_number
from xinfang.people.services import PetitionerInput


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 130, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the workbench -------------------------------------------------------------------------


def test_detail_forms_carry_a_fresh_key(world: World, register: Any) -> None:
    case = register()
    page = _login(world.alice).get(f"/cases/{case.pk}/").content.decode()
    assert page.count('name="idempotency_key"') >= 2  # each action form and the note form
    again = _login(world.alice).get(f"/cases/{case.pk}/").content.decode()
    key = page.split('name="idempotency_key" value="')[1][:32]
    assert key not in again  # a new page gets new keys


def test_resent_assign_form_acts_once_and_answers_like_the_first(
    world: World, register: Any
) -> None:
    case = register()
    alice = _login(world.alice)
    data = {"idempotency_key": "k-assign-1", "a_assign-unit": str(world.street.pk)}
    first = alice.post(f"/cases/{case.pk}/act/assign/", data, headers={"HX-Request": "true"})
    assert first.status_code == 200
    assert "已交办" in first.content.decode()
    again = alice.post(f"/cases/{case.pk}/act/assign/", data, headers={"HX-Request": "true"})
    body = again.content.decode()
    assert again.status_code == 200
    assert "「交办」已提交过，未重复执行" in body
    assert "不允许" not in body and "刚被他人处理" not in body
    assert CaseEvent.objects.filter(case=case, kind="assign").count() == 1
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED


def test_same_key_with_other_content_is_refused(world: World, register: Any) -> None:
    case = register()
    alice = _login(world.alice)
    alice.post(f"/cases/{case.pk}/note/", {"idempotency_key": "n-1", "text": "第一条备注"})
    other = alice.post(f"/cases/{case.pk}/note/", {"idempotency_key": "n-1", "text": "另一条"})
    assert "该提交标识已用于另一内容" in other.content.decode()
    assert list(
        CaseEvent.objects.filter(case=case, kind="note").values_list("text", flat=True)
    ) == ["第一条备注"]


def test_resent_note_and_return_once(world: World, register: Any) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    uma = _login(world.uma)
    note = {"idempotency_key": "n-2", "text": "已电话联系信访人"}
    for _ in range(3):
        assert uma.post(f"/cases/{case.pk}/note/", note).status_code == 200
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 1
    ret = {"idempotency_key": "r-1", "a_return-reason": "不属于本街道职责"}
    first = uma.post(f"/cases/{case.pk}/act/return/", ret)
    assert first.status_code == 302  # the case left the street's view
    again = uma.post(f"/cases/{case.pk}/act/return/", ret)
    assert again.status_code == 302 and again["Location"] == "/cases/"
    assert CaseEvent.objects.filter(case=case, kind="return").count() == 1


def test_a_failed_submission_does_not_use_up_its_key(world: World, register: Any) -> None:
    case = register()
    hank = _login(world.hank)  # may not route: the office does
    data = {"idempotency_key": "k-x", "a_assign-unit": str(world.street.pk)}
    hank.post(f"/cases/{case.pk}/act/assign/", data)
    assert not IdempotencyRecord.objects.exists()
    _login(world.alice).post(f"/cases/{case.pk}/act/assign/", data)
    assert CaseEvent.objects.filter(case=case, kind="assign").count() == 1


# --- the API ---------------------------------------------------------------------------------


def _post(client: Any, path: str, body: Any, key: str) -> Any:
    return client.client.post(
        f"/api{path}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def test_api_registration_retry_is_the_same_case(world: World) -> None:
    rita = token_client(world.rita)
    body = registration_body(world)
    first = _post(rita, "/cases", body, "reg-1")
    again = _post(rita, "/cases", body, "reg-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    assert not IdempotencyRecord.objects.exists()  # registration keeps its key on the case


def test_api_retried_accept_returns_the_first_result(world: World, register: Any) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    hank = token_client(world.hank)
    body = {"notice_text": "经审查，决定受理。"}
    first = _post(hank, f"/cases/{case.pk}/actions/accept", body, "acc-1")
    again = _post(hank, f"/cases/{case.pk}/actions/accept", body, "acc-1")
    assert first.status_code == again.status_code == 200, again.content
    assert again.content == first.content
    assert CaseEvent.objects.filter(case=case, kind="accept").count() == 1
    # Without the key the second one is refused as before: the state has moved on.
    assert hank.act(case.pk, "accept", body).status_code == 409


def test_api_same_key_other_body_is_409(world: World, register: Any) -> None:
    case = register()
    alice = token_client(world.alice)
    assert (
        _post(
            alice, f"/cases/{case.pk}/actions/note", {"text": "已电话联系信访人甲"}, "n"
        ).status_code
        == 200
    )
    other = _post(alice, f"/cases/{case.pk}/actions/note", {"text": "已电话联系信访人乙"}, "n")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_conflict"
    assert "该提交标识已用于另一内容" in other.json()["detail"]
    # Keys are per user: rita's "n" is another submission.
    rita = token_client(world.rita)
    assert (
        _post(
            rita, f"/cases/{case.pk}/actions/note", {"text": "已电话联系信访人乙"}, "n"
        ).status_code
        == 200
    )
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 2


def test_api_extension_request_and_failed_first_try(world: World, register: Any) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    uma = token_client(world.uma)
    path = f"/cases/{case.pk}/actions/request_extension"
    body = {"days": 20, "reason": "需要多部门会商核实"}
    early = _post(uma, path, body, "ext-1")  # not accepted yet: refused, key not used up
    assert early.status_code == 409
    S.case_accept(case=case, by=world.hank, notice_text="决定受理。")
    assert _post(uma, path, body, "ext-1").status_code == 200
    assert _post(uma, path, body, "ext-1").status_code == 200
    assert case.extensions.count() == 1


def test_api_upload_retry_stores_one_file(world: World, register: Any) -> None:
    case = register()
    rita = token_client(world.rita)
    png = _png()

    def upload() -> Any:
        return rita.client.post(
            f"/api/cases/{case.pk}/attachments",
            {"file": SimpleUploadedFile("现场.png", png)},
            headers={"Idempotency-Key": "up-1"},
        )

    first, again = upload(), upload()
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Attachment.objects.count() == 1
    assert CaseEvent.objects.filter(kind="attachment").count() == 1


def test_api_merge_retry_merges_once(world: World, register: Any) -> None:
    register(petitioners=[PetitionerInput(name="王五", phone="13600000000")])
    register(petitioners=[PetitionerInput(name="王五", id_number=VALID_ID)])
    source, target = without_id_number().get(), with_id_number(VALID_ID).get()
    alice = token_client(world.alice)
    body = {"target_id": target.pk, "reason": "同一人，未带证件"}
    first = _post(alice, f"/petitioners/{source.pk}/merge", body, "m-1")
    again = _post(alice, f"/petitioners/{source.pk}/merge", body, "m-1")
    assert first.status_code == again.status_code == 200, again.content
    assert (
        again.json()
        == first.json()
        == {
            "source_id": source.pk,
            "target_id": target.pk,
            "cases_moved": 1,
        }
    )
    assert PetitionerMerge.objects.count() == 1


def test_api_rejects_a_malformed_key(world: World, register: Any) -> None:
    case = register()
    r = _post(
        token_client(world.alice),
        f"/cases/{case.pk}/actions/note",
        {"text": "备注内容备注内容"},
        "键",
    )
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]
    assert not CaseEvent.objects.filter(kind="note").exists()


def test_purge_removes_old_records(world: World, register: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    case = register()
    alice = token_client(world.alice)
    _post(alice, f"/cases/{case.pk}/actions/note", {"text": "较早的一条备注"}, "old")
    _post(alice, f"/cases/{case.pk}/actions/note", {"text": "较新的一条备注"}, "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    out = io.StringIO()
    call_command("purge_idempotency", stdout=out)
    assert "1" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency.purge(older_than_days=0, now=timezone.now() + dt.timedelta(seconds=1)) == 1


# --- two copies at the same instant (PostgreSQL: the SQLite test database is per connection) --


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_copies_of_one_note_make_one_note(world: World, register: Any) -> None:
    case = register()
    from xinfang.org.models import ApiToken

    _, raw = ApiToken.issue(user=world.alice, name="并发")

    def work(i: int) -> Any:
        client = Client(headers={"Authorization": f"Bearer {raw}"})
        return client.post(
            f"/api/cases/{case.pk}/actions/note",
            data=json.dumps({"text": "同一条备注"}),
            content_type="application/json",
            headers={"Idempotency-Key": "same-instant"},
        )

    results = in_threads(6, work, timeout=60)
    assert all(getattr(r, "status_code", None) == 200 for r in results), results
    assert len({r.content for r in results}) == 1
    assert CaseEvent.objects.filter(case=case, kind="note").count() == 1
    assert IdempotencyRecord.objects.count() == 1
