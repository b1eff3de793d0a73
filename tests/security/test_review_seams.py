"""Adversarial review of the seams between the parts of issue 4 (idempotency × access ×
confidentiality × sessions × audit × admin). Each test tries to break one rule across two
parts that were written separately.

Cast: tests/conftest.py ``world``. The accusation (like tests/cases/test_confidential.py) is
registered by rita at 区信访局 and names nobody at first; tests name the accused when they need it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import token_client
from tests.conftest import World
from xinfang.accounts import sessions as S
from xinfang.audit.models import AuditEntry
from xinfang.cases import services as CS
from xinfang.cases.confidential import case_set_accused
from xinfang.cases.models import Case
from xinfang.core.idcard import id_check_digit
from xinfang.core.models import IdempotencyRecord
from xinfang.org.models import Membership
from xinfang.people.services import PetitionerInput

pytestmark = pytest.mark.django_db

SECRET_WORD = "挪用扶贫款"
CONTENT = f"东湖街道副主任王某{SECRET_WORD}二十万元。"
ACCUSER = "钱多多"
ACCUSER_PHONE = "13900001111"
ACCUSER_ID = "11010519800101003" + id_check_digit("11010519800101003")


def _leaks(text: str) -> list[str]:
    return [s for s in (SECRET_WORD, ACCUSER, ACCUSER_PHONE, ACCUSER_ID, "王某") if s in text]


@pytest.fixture
def accusation(world: World, register: Any) -> Case:
    """A 检举控告 case routed to 东湖街道 and signed in by hank (so hank sees it)."""
    case = register(
        purpose="accusation",
        summary=f"检举干部{SECRET_WORD}",
        content=CONTENT,
        petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)],
        accused_text="副主任王某",
    )
    CS.case_assign(case=case, by=world.alice, unit=world.street)
    CS.case_sign_in(case=case, by=world.hank)
    return Case.objects.get(pk=case.pk)


def _post(client: Client, path: str, body: Any, key: str, **headers: str) -> Any:
    return client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key, **headers},
    )


def _session(user: Any) -> tuple[Client, str]:
    """A browser-like session client with CSRF enforced, and its CSRF token."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    c.get("/account/")  # a page with a form: sets the csrftoken cookie
    return c, c.cookies["csrftoken"].value


def _stored_bodies() -> str:
    return "\n".join(IdempotencyRecord.objects.values_list("body", flat=True))


# --- 1. the generic idempotency layer ----------------------------------------------------------


def test_api_reveal_of_a_petitioner_is_not_stored_and_every_reveal_is_audited(
    world: World, accusation: Case
) -> None:
    person = accusation.petitioners.get()
    alice = token_client(world.alice).client
    path = f"/api/petitioners/{person.pk}/reveal"
    body = {"field": "id_number", "case_id": accusation.pk}
    first = _post(alice, path, body, "rv-1")
    again = _post(alice, path, body, "rv-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["value"] == again.json()["value"] == ACCUSER_ID
    assert "Idempotent-Replayed" not in again
    assert again["Cache-Control"] == "no-store"
    # the plaintext number is nowhere in the idempotency table
    assert ACCUSER_ID not in _stored_bodies()
    assert not IdempotencyRecord.objects.filter(scope__contains="reveal").exists()
    # each answer with the full number left an audit row
    assert AuditEntry.objects.filter(action="reveal", object_id=str(person.pk)).count() == 2


def test_api_reveal_of_an_accusation_is_not_stored_and_every_reveal_is_audited(
    world: World, accusation: Case
) -> None:
    alice = token_client(world.alice).client
    path = f"/api/cases/{accusation.pk}/reveal"
    first = _post(alice, path, {}, "rv-2")
    again = _post(alice, path, {}, "rv-2")
    assert first.status_code == again.status_code == 200
    assert SECRET_WORD in again.json()["content"]
    assert "Idempotent-Replayed" not in again
    assert not _leaks(_stored_bodies())
    assert not IdempotencyRecord.objects.exists()
    reveals = AuditEntry.objects.filter(action="reveal", detail__field="accusation")
    assert reveals.count() == 2


def test_ui_reveals_are_not_stored_even_with_a_key(world: World, accusation: Case) -> None:
    person = accusation.petitioners.get()
    c = Client()
    c.force_login(world.alice)
    for url, data in [
        (f"/people/{person.pk}/reveal/", {"field": "phone", "case": accusation.pk}),
        (f"/cases/{accusation.pk}/reveal/", {}),
    ]:
        for _ in range(2):
            r = c.post(url, {**data, "idempotency_key": "ui-rv"}, headers={"HX-Request": "true"})
            assert r.status_code == 200
    assert not _leaks(_stored_bodies())
    assert AuditEntry.objects.filter(action="reveal").count() == 4


def test_another_user_reusing_a_key_gets_nothing_of_the_first_answer(
    world: World, accusation: Case
) -> None:
    hank = token_client(world.hank).client
    uma = token_client(world.uma).client
    bob = token_client(world.bob).client
    path = f"/api/cases/{accusation.pk}/actions/note"
    first = _post(hank, path, {"text": "已约谈"}, "shared-key")
    assert first.status_code == 200
    # bob (another street) with hank's key on the same path: 404, not hank's stored answer
    r = _post(bob, path, {"text": "已约谈"}, "shared-key")
    assert r.status_code == 404 and "Idempotent-Replayed" not in r
    # uma (same unit) with the same key: a fresh request of her own (her own note)
    r = _post(uma, path, {"text": "已约谈"}, "shared-key")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r
    assert accusation.events.filter(kind="note").count() == 2
    # what is stored for replays holds no identity and no accusation (the answers are masked)
    assert IdempotencyRecord.objects.count() == 2
    assert not _leaks(_stored_bodies())


def test_a_stored_answer_is_not_replayed_after_the_role_is_lost(
    world: World, accusation: Case
) -> None:
    hank = token_client(world.hank).client
    path = f"/api/cases/{accusation.pk}/actions/note"
    first = _post(hank, path, {"text": "已约谈"}, "k-role")
    assert first.status_code == 200 and first.json()["case"] is not None
    Membership.objects.filter(user=world.hank).delete()
    again = _post(hank, path, {"text": "已约谈"}, "k-role")
    assert again.status_code == 404, again.content
    assert accusation.number not in again.content.decode()


def test_a_stored_answer_is_not_replayed_to_a_unit_named_accused_later(
    world: World, accusation: Case
) -> None:
    hank = token_client(world.hank).client
    path = f"/api/cases/{accusation.pk}/actions/note"
    assert _post(hank, path, {"text": "已约谈"}, "k-acc").status_code == 200
    case_set_accused(case=accusation, by=world.alice, unit_ids=[world.street.pk])
    again = _post(hank, path, {"text": "已约谈"}, "k-acc")
    assert again.status_code == 404, again.content
    assert accusation.number not in again.content.decode()


def test_replay_after_logout_everywhere_is_refused(world: World, register: Any) -> None:
    from xinfang.accounts.services import logout_all

    case = register()
    c, csrf = _session(world.alice)
    path = f"/api/cases/{case.pk}/actions/note"
    first = _post(c, path, {"text": "已电话联系"}, "k-epoch", **{"X-CSRFToken": csrf})
    assert first.status_code == 200, first.content
    logout_all(user=world.alice)
    again = _post(c, path, {"text": "已电话联系"}, "k-epoch", **{"X-CSRFToken": csrf})
    assert again.status_code == 401 and again.json()["code"] == "session_expired"


def test_replay_after_the_idle_timeout_is_refused(world: World, register: Any) -> None:
    case = register()
    c, csrf = _session(world.alice)
    path = f"/api/cases/{case.pk}/actions/note"
    assert (
        _post(c, path, {"text": "已电话联系"}, "k-idle", **{"X-CSRFToken": csrf}).status_code == 200
    )
    session = c.session
    session[S.SEEN_AT] = int(time.time()) - 31 * 60
    session.save()
    again = _post(c, path, {"text": "已电话联系"}, "k-idle", **{"X-CSRFToken": csrf})
    assert again.status_code == 401 and again.json()["code"] == "session_expired"


def test_replay_needs_the_csrf_token_like_the_first_request(world: World, register: Any) -> None:
    case = register()
    c, csrf = _session(world.alice)
    path = f"/api/cases/{case.pk}/actions/note"
    # without the token: refused, and the key is not used up
    assert _post(c, path, {"text": "已电话联系"}, "k-csrf").status_code == 403
    assert not IdempotencyRecord.objects.exists()
    assert (
        _post(c, path, {"text": "已电话联系"}, "k-csrf", **{"X-CSRFToken": csrf}).status_code == 200
    )
    # the replay of a stored answer needs it too
    assert _post(c, path, {"text": "已电话联系"}, "k-csrf").status_code == 403


def test_registration_key_of_another_clerk_reveals_nothing(world: World, register: Any) -> None:
    from tests.api.conftest import registration_body

    rita = token_client(world.rita).client
    alice = token_client(world.alice).client
    body = registration_body(world, summary=f"检举{SECRET_WORD}", purpose="accusation")
    body["petitioners"] = [{"name": ACCUSER, "id_number": ACCUSER_ID, "phone": ACCUSER_PHONE}]
    assert _post(rita, "/api/cases", body, "reg-shared").status_code == 201
    r = _post(alice, "/api/cases", body, "reg-shared")
    assert r.status_code == 409 and not _leaks(r.content.decode())
    assert Case.objects.count() == 1


def test_form_replay_after_losing_sight_of_the_case_shows_nothing(
    world: World, accusation: Case
) -> None:
    c = Client()
    c.force_login(world.hank)
    data = {"text": "已约谈", "idempotency_key": "form-k"}
    assert c.post(f"/cases/{accusation.pk}/note/", data).status_code == 200
    case_set_accused(case=accusation, by=world.alice, unit_ids=[world.street.pk])
    r = c.post(f"/cases/{accusation.pk}/note/", data, follow=True)
    assert r.status_code in (200, 404)
    assert not _leaks(r.content.decode()) and accusation.number not in r.content.decode()
    _ = timezone.now() - dt.timedelta(0)


# --- 2. 检举控告 confidentiality on the newer paths ------------------------------------------


def _auditor(world: World) -> Any:
    from tests.conftest import make_user
    from xinfang.org import roles as R

    return make_user("aud", world.district, R.AUDITOR, "审计员")


def _attach(case: Case, by: Any, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinfang.cases.attachments import attachment_add

    return attachment_add(
        case=case, by=by, upload=SimpleUploadedFile(name, "举报材料正文".encode(), "text/plain")
    )


def test_audit_log_never_holds_accusation_content_names_or_numbers(
    world: World, accusation: Case
) -> None:
    att = _attach(accusation, world.alice, f"{ACCUSER}举报{SECRET_WORD}材料.txt")
    person = accusation.petitioners.get()
    alice = token_client(world.alice).client
    c = Client()
    c.force_login(world.alice)
    # every kind of act that writes an audit row about this case or its people
    assert c.post(f"/cases/{accusation.pk}/reveal/", headers={"HX-Request": "1"}).status_code == 200
    assert c.post(f"/people/{person.pk}/reveal/", {"field": "id_number"}).status_code == 200
    assert c.get(f"/cases/{accusation.pk}/attachments/{att.pk}").status_code == 200
    assert alice.get(f"/api/cases/{accusation.pk}/attachments/{att.pk}").status_code == 200
    for q in (ACCUSER, ACCUSER_ID, ACCUSER_PHONE, SECRET_WORD):
        assert accusation.number in _body(c.get("/cases/export", {"q": q}))
        assert accusation.number in _body(alice.get("/api/cases/export.csv", {"q": q}))
    assert _post(alice, f"/api/cases/{accusation.pk}/actions/note", {"text": SECRET_WORD}, "n1")
    entries = token_client(_auditor(world)).get("/audit/entries", page_size=200)
    assert entries.status_code == 200
    items = entries.json()["items"]
    assert {i["action"] for i in items} >= {"reveal", "download", "export", "case_event"}
    leaking = [
        (i["action"], i["summary"], i["detail"])
        for i in items
        if _leaks(json.dumps(i, ensure_ascii=False))
    ]
    assert not leaking, leaking
    # also what the /audit/ page shows
    aud = Client()
    aud.force_login(_user("aud"))
    page = aud.get("/audit/").content.decode()
    assert not _leaks(page)


def _user(username: str) -> Any:
    from django.contrib.auth.models import User

    return User.objects.get(username=username)


def test_downloads_and_reveals_of_a_unit_named_accused_later_are_404(
    world: World, accusation: Case
) -> None:
    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    case_set_accused(case=accusation, by=world.alice, unit_ids=[world.street.pk])
    before = AuditEntry.objects.latest("seq").seq
    for user in (world.hank, world.uma):
        c = Client()
        c.force_login(user)
        api = token_client(user).client
        for r in (
            c.get(f"/cases/{accusation.pk}/attachments/{att.pk}"),
            api.get(f"/api/cases/{accusation.pk}/attachments/{att.pk}"),
            c.post(f"/people/{person.pk}/reveal/", {"field": "phone"}),
            c.post(f"/people/{person.pk}/reveal/", {"field": "phone", "case": accusation.pk}),
            _post(api, f"/api/petitioners/{person.pk}/reveal", {"field": "phone"}, "x"),
            _post(api, f"/api/cases/{accusation.pk}/reveal", {}, "y"),
            c.get(f"/cases/{accusation.pk}/", headers={"HX-Request": "1"}),
            c.get("/", headers={"HX-Request": "1"}),
        ):
            assert r.status_code in (200, 404), r.status_code
            body = _body(r)
            assert not _leaks(body)
            if r.status_code == 200:  # only the home page
                assert accusation.number not in body
    after = list(
        AuditEntry.objects.filter(seq__gt=before)
        .exclude(action="login")  # force_login
        .values_list("action", "summary")
    )
    assert not after  # nothing was revealed or downloaded


def test_person_reveal_through_an_accusation_naming_the_user_is_404(
    world: World, accusation: Case, register: Any
) -> None:
    """bob gets a district-wide 督查员 post (sees every case) but his unit is accused: the
    accuser's number is not his to see through that case — only through a case he may see."""
    from xinfang.org import roles as R
    from xinfang.org.models import Role

    Membership.objects.create(
        user=world.bob, unit=world.district, role=Role.objects.get(code=R.SUPERVISOR)
    )
    case_set_accused(case=accusation, by=world.alice, unit_ids=[world.sibling.pk])
    person = accusation.petitioners.get()
    c = Client()
    c.force_login(world.bob)
    assert c.post(f"/people/{person.pk}/reveal/", {"field": "id_number"}).status_code == 404
    r = c.post(f"/people/{person.pk}/reveal/", {"field": "id_number", "case": accusation.pk})
    assert r.status_code == 404
    api = token_client(world.bob).client
    r = _post(api, f"/api/petitioners/{person.pk}/reveal", {"field": "phone"}, "b1")
    assert r.status_code == 404 and not _leaks(r.content.decode())
    # the person's other, ordinary case: bob may reveal through it, and the audit names it
    other = register(
        petitioners=[PetitionerInput(name=ACCUSER, id_number=ACCUSER_ID, phone=ACCUSER_PHONE)]
    )
    r = c.post(f"/people/{person.pk}/reveal/", {"field": "phone", "case": accusation.pk})
    assert r.status_code == 404  # naming the accusation as the ground is still refused
    r = c.post(f"/people/{person.pk}/reveal/", {"field": "phone"})
    assert r.status_code == 200
    entry = AuditEntry.objects.filter(action="reveal").latest("seq")
    assert entry.detail["case"] == other.number


def test_admin_shows_no_case_people_or_stored_answers(world: World, accusation: Case) -> None:
    sam = Client()
    sam.force_login(world.sam)
    index = sam.get("/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    for path in (
        "/admin/cases/case/",
        "/admin/cases/caseevent/",
        "/admin/cases/attachment/",
        "/admin/cases/casepetitioner/",
        "/admin/people/petitioner/",
        "/admin/core/idempotencyrecord/",
        "/admin/admin/logentry/",
        "/admin/audit/auditentry/",
    ):
        assert path not in body
        r = sam.get(path)
        assert r.status_code in (302, 403, 404), path
        assert not _leaks(r.content.decode())
    # the user admin and the autocomplete endpoint do not reach cases either
    for path in (
        f"/admin/auth/user/{world.alice.pk}/change/",
        "/admin/auth/user/?q=" + ACCUSER,
        "/admin/autocomplete/?app_label=cases&model_name=case&field_name=related_to&term=检举",
    ):
        r = sam.get(path)
        body = r.content.decode().replace(ACCUSER, "")  # the search box echoes the term
        assert not _leaks(body) and accusation.number not in body


# --- 3. access to every new view and endpoint -------------------------------------------------


def _new_endpoints(case: Case, person_id: int, att_id: int) -> list[tuple[str, str, str]]:
    """(method, path, kind) of the views and endpoints issue 4 added."""
    pk = case.pk
    return [
        ("get", "/cases/export", "ui"),
        ("post", f"/cases/{pk}/reveal/", "ui"),
        ("post", f"/cases/{pk}/accused/", "ui"),
        ("get", f"/cases/{pk}/attachments/{att_id}", "ui"),
        ("post", f"/people/{person_id}/reveal/", "ui"),
        ("get", "/audit/", "ui"),
        ("post", "/audit/verify/", "ui"),
        ("get", "/api/cases/export.csv", "api"),
        ("post", f"/api/cases/{pk}/reveal", "api"),
        ("post", f"/api/cases/{pk}/accused", "api"),
        ("get", f"/api/cases/{pk}/attachments/{att_id}", "api"),
        ("post", f"/api/petitioners/{person_id}/reveal", "api"),
        ("get", "/api/audit/entries", "api"),
        ("get", "/api/audit/verify", "api"),
    ]


def _body(r: Any) -> str:
    return (b"".join(r.streaming_content) if r.streaming else r.content).decode("utf-8", "replace")


def _call(c: Client, method: str, path: str, **headers: str) -> Any:
    if method == "get":
        return c.get(path, headers=headers)
    if path.startswith("/api/"):
        body = json.dumps({"field": "id_number"})
        return c.post(path, body, content_type="application/json", headers=headers)
    return c.post(path, {"field": "id_number"}, headers=headers)


def test_logged_out_callers_get_nothing(world: World, accusation: Case) -> None:
    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    c = Client()
    for method, path, kind in _new_endpoints(accusation, person.pk, att.pk):
        r = _call(c, method, path)
        if kind == "ui":
            assert r.status_code == 302 and "/login/" in r["Location"], (path, r.status_code)
        else:
            assert r.status_code == 401, (path, r.status_code)
        assert not _leaks(_body(r))


@pytest.mark.parametrize("role", ["sysadmin", "secadmin", "auditor"])
def test_admin_roles_read_no_case_and_no_person(world: World, accusation: Case, role: str) -> None:
    from tests.conftest import make_user

    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    user = make_user(f"x_{role}", world.district, role)
    c = Client()
    c.force_login(user)
    api = token_client(user).client
    for method, path, kind in _new_endpoints(accusation, person.pk, att.pk):
        if "/audit/" in path and role == "auditor":
            continue
        r = _call(api if kind == "api" else c, method, path)
        body = _body(r)
        assert not _leaks(body), path
        assert accusation.number not in body, path
        assert r.status_code in (200, 404, 405), (path, r.status_code)
    for path in ("/cases/", f"/cases/{accusation.pk}/", "/"):
        body = c.get(path).content.decode()
        assert not _leaks(body) and accusation.number not in body
    for path in ("/api/cases", f"/api/cases/{accusation.pk}", "/api/petitioners/lookup?q=钱多多"):
        body = api.get(path).content.decode()
        assert not _leaks(body.replace("钱多多", "")) and accusation.number not in body
    assert not AuditEntry.objects.filter(action__in=["reveal", "download"]).exists()


def test_another_units_case_is_404_on_every_new_path(world: World, accusation: Case) -> None:
    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    c = Client()
    c.force_login(world.bob)  # 西山街道: not the handling unit
    api = token_client(world.bob).client
    for method, path, kind in _new_endpoints(accusation, person.pk, att.pk):
        if "/audit/" in path or "export" in path:
            continue
        r = _call(api if kind == "api" else c, method, path)
        assert r.status_code == 404, (path, r.status_code)
        assert not _leaks(_body(r))
    # an attachment id of this case under a case bob may see is not found either
    assert c.get(f"/cases/{accusation.pk + 999}/attachments/{att.pk}").status_code == 404


def test_session_posts_need_the_csrf_token(world: World, accusation: Case) -> None:
    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    c, csrf = _session(world.alice)
    aud, aud_csrf = _session(_auditor(world))
    before = AuditEntry.objects.latest("seq").seq
    for method, path, _kind in _new_endpoints(accusation, person.pk, att.pk):
        if method != "post":
            continue
        client = aud if "/audit/" in path else c
        r = _call(client, method, path)
        assert r.status_code == 403, (path, r.status_code)
        assert not _leaks(_body(r))
    assert not AuditEntry.objects.filter(seq__gt=before).exclude(action="login").exists()
    # with the token the same requests work (so the 403 above was the CSRF check)
    assert _call(c, "post", f"/cases/{accusation.pk}/reveal/", X_CSRFToken=csrf).status_code == 200
    r = _call(c, "post", f"/api/cases/{accusation.pk}/reveal", X_CSRFToken=csrf)
    assert r.status_code == 200
    assert _call(aud, "post", "/audit/verify/", X_CSRFToken=aud_csrf).status_code == 200


def test_get_never_reveals_or_changes_anything(world: World, accusation: Case) -> None:
    person = accusation.petitioners.get()
    c = Client()
    c.force_login(world.alice)
    api = token_client(world.alice).client
    before = AuditEntry.objects.latest("seq").seq
    for path in (
        f"/cases/{accusation.pk}/reveal/",
        f"/cases/{accusation.pk}/accused/",
        f"/people/{person.pk}/reveal/",
        f"/cases/{accusation.pk}/act/accept/",
        f"/cases/{accusation.pk}/note/",
    ):
        r = c.get(path, {"field": "id_number", "text": "x"})
        assert r.status_code == 405, path
    for path in (
        f"/api/cases/{accusation.pk}/reveal",
        f"/api/petitioners/{person.pk}/reveal",
        f"/api/cases/{accusation.pk}/accused",
    ):
        assert api.get(path, {"field": "id_number"}).status_code in (404, 405), path
    body = c.get(f"/cases/{accusation.pk}/").content.decode()
    assert not _leaks(body)
    assert not AuditEntry.objects.filter(seq__gt=before).exclude(action="login").exists()


def test_full_values_are_never_cacheable(world: World, accusation: Case) -> None:
    att = _attach(accusation, world.alice, "材料.txt")
    person = accusation.petitioners.get()
    c = Client()
    c.force_login(world.alice)
    api = token_client(world.alice).client
    responses = {
        "ui case reveal (htmx)": c.post(
            f"/cases/{accusation.pk}/reveal/", headers={"HX-Request": "1"}
        ),
        "ui case reveal (page)": c.post(f"/cases/{accusation.pk}/reveal/"),
        "ui person reveal": c.post(f"/people/{person.pk}/reveal/", {"field": "id_number"}),
        "api case reveal": _post(api, f"/api/cases/{accusation.pk}/reveal", {}, "c1"),
        "api person reveal": _post(
            api, f"/api/petitioners/{person.pk}/reveal", {"field": "phone"}, "c2"
        ),
        "ui download": c.get(f"/cases/{accusation.pk}/attachments/{att.pk}"),
        "api download": api.get(f"/api/cases/{accusation.pk}/attachments/{att.pk}"),
        "ui detail": c.get(f"/cases/{accusation.pk}/"),
    }
    for name, r in responses.items():
        assert r.status_code == 200, name
        assert "no-store" in r.get("Cache-Control", ""), (name, r.get("Cache-Control"))


# --- 4. sessions and the second factor --------------------------------------------------------


@pytest.fixture
def otp_on(settings: Any) -> Any:
    settings.ACCOUNTS_OTP_ENFORCED = True
    return settings


@pytest.mark.parametrize("role", ["sysadmin", "secadmin", "auditor"])
def test_admin_role_without_a_verified_session_reaches_nothing(
    world: World, otp_on: Any, role: str
) -> None:
    from tests.conftest import make_user

    user = make_user(f"y_{role}", world.district, role)
    c = Client()
    c.force_login(user)  # a password session, no device, not verified
    for path in ("/api/cases", "/api/audit/entries", "/api/audit/verify"):
        r = c.get(path)
        assert r.status_code == 401 and r.json()["code"] == "otp_setup_required", path
    r = c.post(
        "/api/cases/1/actions/note",
        "{}",
        content_type="application/json",
        headers={"Idempotency-Key": "otp-k"},
    )
    assert r.status_code == 401
    for path in ("/audit/", "/admin/", "/admin/auth/user/", "/account/lockouts/", "/cases/"):
        r = c.get(path)
        assert r.status_code == 302 and "/account/otp/setup/" in r["Location"], path
    # with a device but an unverified session: the verify page, for the API a 401
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=user, name="手机", confirmed=True)
    c2 = Client()
    c2.force_login(user)
    session = c2.session
    session[S.HAS_OTP] = True
    session.save()
    assert c2.get("/api/audit/entries").json()["code"] == "otp_required"
    assert "/account/otp/verify/" in c2.get("/admin/")["Location"]


def test_logout_everywhere_ends_api_session_calls_and_htmx(world: World, register: Any) -> None:
    from xinfang.accounts.services import logout_all

    register()
    c, _ = _session(world.alice)
    htmx = Client()
    htmx.force_login(world.alice)
    assert c.get("/api/cases").status_code == 200
    logout_all(user=world.alice)
    r = c.get("/api/cases")
    assert r.status_code == 401 and r.json()["code"] == "session_expired"
    r = htmx.get("/cases/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r["HX-Redirect"].startswith("/login/")
    assert "反映" not in r.content.decode()
    # tokens are separate credentials and keep working (documented)
    assert token_client(world.alice).get("/cases").status_code == 200


def test_idle_timeout_applies_to_htmx_and_api_session_calls(world: World, register: Any) -> None:
    register()
    for kind in ("api", "htmx"):
        c = Client()
        c.force_login(world.alice)
        c.get("/")
        session = c.session
        session[S.SEEN_AT] = int(time.time()) - 31 * 60
        session.save()
        if kind == "api":
            r = c.get("/api/cases")
            assert r.status_code == 401 and r.json()["code"] == "session_expired"
        else:
            r = c.get("/cases/", headers={"HX-Request": "true"})
            assert r["HX-Redirect"].startswith("/login/")
        assert c.get("/api/cases").status_code == 401  # and the session is gone
