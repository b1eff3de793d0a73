"""调查记录 / 证据材料: internal to the handling unit's file, never public, safe uploads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.api.conftest import token_client
from tests.conftest import World
from xinfang.cases import handling as H
from xinfang.cases import services as S
from xinfang.cases.models import Attachment, Case, CaseEvent
from xinfang.cases.transitions import PUBLIC_EVENT_KINDS
from xinfang.core.errors import DomainError, PermissionDenied

Register = Callable[..., Case]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def signed(world: World, register: Register) -> Case:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    return case


def test_investigation_note_is_internal(world: World, signed: Case) -> None:
    ev = H.case_investigation_add(case=signed, by=world.hank, text="走访信访人及物业公司，核实情况")
    assert ev.kind == "investigation" and ev.actor_unit == world.street
    assert "investigation" not in PUBLIC_EVENT_KINDS and "evidence" not in PUBLIC_EVENT_KINDS
    with pytest.raises(DomainError, match="请填写调查情况") as err:
        H.case_investigation_add(case=signed, by=world.hank, text=" ")
    assert err.value.field == "text"


@pytest.mark.parametrize("who", ["alice", "bob", "leo"])
def test_only_handling_unit_records(world: World, signed: Case, who: str) -> None:
    with pytest.raises(PermissionDenied, match="只有承办单位"):
        H.case_investigation_add(case=signed, by=getattr(world, who), text="调查情况如下")


def test_not_before_sign_in(world: World, register: Register) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    with pytest.raises(DomainError, match="签收后、答复前"):
        H.case_investigation_add(case=case, by=world.hank, text="调查情况如下")


def test_evidence_upload_checked_and_internal(world: World, signed: Case) -> None:
    att = H.case_evidence_add(
        case=signed, by=world.hank, upload=SimpleUploadedFile("现场照片.pdf", PDF), note="现场核查"
    )
    assert att.is_internal
    ev = CaseEvent.objects.get(case=signed, kind="evidence")
    assert ev.data == {"attachment_id": att.pk} and "现场核查" in ev.text
    with pytest.raises(DomainError, match="类型不允许上传") as err:
        H.case_evidence_add(
            case=signed, by=world.hank, upload=SimpleUploadedFile("a.pdf", b"MZ\x90\x00")
        )
    assert err.value.field == "attachments"
    assert Attachment.objects.filter(case=signed).count() == 1


def test_panel_views_and_public_attachment_list(world: World, signed: Case) -> None:
    client = Client()
    client.force_login(world.hank)
    r = client.post(
        f"/cases/{signed.pk}/investigation/",
        {"text": "约谈物业公司负责人", "idempotency_key": "i1"},
        headers={"HX-Request": "true"},
    )
    assert "约谈物业公司负责人" in r.content.decode()
    again = client.post(
        f"/cases/{signed.pk}/investigation/",
        {"text": "约谈物业公司负责人", "idempotency_key": "i1"},
        headers={"HX-Request": "true"},
    )
    assert again.status_code == 200
    assert CaseEvent.objects.filter(case=signed, kind="investigation").count() == 1
    r = client.post(
        f"/cases/{signed.pk}/evidence/",
        {"file": SimpleUploadedFile("核查记录.pdf", PDF), "idempotency_key": "e1"},
        headers={"HX-Request": "true"},
    )
    assert "核查记录.pdf" in r.content.decode()
    bad = client.post(
        f"/cases/{signed.pk}/evidence/",
        {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00"), "idempotency_key": "e2"},
        headers={"HX-Request": "true"},
    )
    assert "类型不允许上传" in bad.content.decode()
    page = client.get(f"/cases/{signed.pk}/").content.decode()
    assert "调查与证据" in page
    # the public 附件 list of the case does not carry the evidence; the API detail neither
    main = page.split("调查与证据")[0]
    assert "<h2>附件</h2>" not in main
    detail = token_client(world.hank).get(f"/cases/{signed.pk}").json()
    assert detail["attachments"] == []
    # another unit: 404 for the view
    bob = Client()
    bob.force_login(world.bob)
    assert bob.post(f"/cases/{signed.pk}/investigation/", {"text": "x调查"}).status_code == 404


def test_api_investigation_and_evidence(world: World, signed: Case) -> None:
    api = token_client(world.hank)
    r = api.post(f"/cases/{signed.pk}/investigation", {"text": "现场核查，情况属实"})
    assert r.status_code == 201 and r.json()["kind"] == "investigation"
    r = api.client.post(
        f"/api/cases/{signed.pk}/evidence",
        {"file": SimpleUploadedFile("证据.pdf", PDF), "note": "物业合同"},
    )
    assert r.status_code == 201, r.content
    r = api.client.post(
        f"/api/cases/{signed.pk}/evidence", {"file": SimpleUploadedFile("x.pdf", b"MZ\x90")}
    )
    assert r.status_code == 400 and r.json()["field"] == "file"
    alice = token_client(world.alice)
    assert alice.post(f"/cases/{signed.pk}/investigation", {"text": "现场核查"}).status_code == 403
    assert (
        token_client(world.bob)
        .post(f"/cases/{signed.pk}/investigation", {"text": "现场核查"})
        .status_code
        == 404
    )
