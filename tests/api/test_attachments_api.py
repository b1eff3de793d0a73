"""POST /api/cases/{id}/attachments: who may add files, the file checks, and the case detail."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from tests.api.conftest import registration_body
from xinfang.cases.models import Attachment, CaseEvent


def _png() -> bytes:
    """A real 4×4 PNG: images are decoded and re-encoded on upload, a bare header is refused."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png()


def _pixels(data: bytes) -> list[object]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return [img.convert("RGB").tobytes(), img.size]


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _register(world, as_user):
    response = as_user(world.rita).post("/cases", registration_body(world))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _assigned(world, as_user):
    cid = _register(world, as_user)
    assigned = as_user(world.alice).act(cid, "assign", {"unit_id": world.street.pk})
    assert assigned.status_code == 200, assigned.content
    return cid


def _refused(response, status, code, text):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert text in response.json()["detail"], response.json()["detail"]
    assert not Attachment.objects.exists()
    assert not CaseEvent.objects.filter(kind="attachment").exists()


def test_upload_png_and_pdf_shows_in_detail_and_timeline(world, as_user, _media):
    cid = _register(world, as_user)
    rita = as_user(world.rita)

    response = rita.upload(cid, "现场照片.png", PNG)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "现场照片.png"
    assert data["content_type"] == "image/png"
    assert data["uploaded_at"].endswith("+08:00")
    assert set(data) == {"id", "name", "size", "content_type", "sha256", "uploaded_at"}
    stored = Attachment.objects.get(pk=data["id"])
    assert stored.case_id == cid and stored.uploaded_by == world.rita
    # Images are re-encoded: size and digest describe the stored bytes, the pixels are the same.
    kept = (_media / stored.file.name).read_bytes()
    assert data["size"] == len(kept)
    assert data["sha256"] == hashlib.sha256(kept).hexdigest()
    assert _pixels(kept) == _pixels(PNG)

    pdf = rita.upload(cid, "材料.PDF", PDF)
    assert pdf.status_code == 201, pdf.content
    assert pdf.json()["content_type"] == "application/pdf"

    detail = rita.get(f"/cases/{cid}").json()
    assert [a["name"] for a in detail["attachments"]] == ["现场照片.png", "材料.PDF"]
    assert detail["attachments"][0] == data
    assert "file" not in str(detail["attachments"]) and "media" not in str(detail["attachments"])
    events = [e for e in detail["events"] if e["kind"] == "attachment"]
    assert len(events) == 2
    assert events[0]["label"] == "附件"
    assert events[0]["actor"] == "芮塔"
    assert "现场照片.png" in events[0]["text"]
    assert events[0]["from_status"] == events[0]["to_status"] == detail["status"]


def test_a_new_case_has_no_attachments(world, as_user):
    cid = _register(world, as_user)
    assert as_user(world.rita).get(f"/cases/{cid}").json()["attachments"] == []


def test_forbidden_type_is_400(world, as_user):
    cid = _register(world, as_user)
    response = as_user(world.rita).upload(cid, "setup.exe", b"MZ\x90\x00" + bytes(20))
    _refused(response, 400, "invalid", "类型不允许上传")
    assert response.json()["field"] == "file"
    assert "pdf" in response.json()["detail"]  # says what is allowed


def test_content_not_matching_the_extension_is_400(world, as_user):
    cid = _register(world, as_user)
    response = as_user(world.rita).upload(cid, "答复意见.pdf", b"MZ\x90\x00 really an exe")
    _refused(response, 400, "invalid", "内容与扩展名")
    assert response.json()["field"] == "file"


@override_settings(ATTACHMENT_MAX_BYTES=100)
def test_too_large_is_400(world, as_user):
    cid = _register(world, as_user)
    rita = as_user(world.rita)
    _refused(rita.upload(cid, "大图.png", PNG + bytes(100)), 400, "invalid", "超过上限")
    assert rita.upload(cid, "小图.png", PNG).status_code == 201  # under the limit is fine


def test_another_units_case_is_404(world, as_user):
    cid = _assigned(world, as_user)
    _refused(as_user(world.bob).upload(cid, "a.png", PNG), 404, "not_found", "未找到")
    _refused(as_user(world.sam).upload(cid, "a.png", PNG), 404, "not_found", "未找到")


def test_a_leader_who_sees_the_case_but_holds_no_post_in_it_is_403(world, as_user):
    cid = _assigned(world, as_user)
    leo = as_user(world.leo)
    assert leo.get(f"/cases/{cid}").status_code == 200
    response = leo.upload(cid, "a.png", PNG)
    _refused(response, 403, "permission_denied", "区信访局或东湖街道的工作人员")


def test_office_and_handling_unit_may_upload(world, as_user):
    cid = _register(world, as_user)
    hank = as_user(world.hank)
    assert hank.upload(cid, "a.png", PNG).status_code == 404  # not routed to his street yet
    as_user(world.alice).act(cid, "assign", {"unit_id": world.street.pk})
    for user in (world.alice, world.rita, world.hank, world.uma):
        assert as_user(user).upload(cid, f"{user.username}.png", PNG).status_code == 201
    assert Attachment.objects.filter(case_id=cid).count() == 4


def test_missing_file_is_422(world, as_user):
    cid = _register(world, as_user)
    response = as_user(world.rita).client.post(f"/api/cases/{cid}/attachments", {})
    assert response.status_code == 422
    assert response.json()["code"] == "validation"
    assert "file 必填" in response.json()["detail"]


def test_session_upload_needs_the_csrf_token(world, as_user):
    cid = _register(world, as_user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.rita)
    path = f"/api/cases/{cid}/attachments"

    refused = client.post(path, {"file": SimpleUploadedFile("a.png", PNG)})
    _refused(refused, 403, "csrf", "CSRF")

    client.get("/api/docs")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    created = client.post(
        path, {"file": SimpleUploadedFile("a.png", PNG)}, headers={"X-CSRFToken": token}
    )
    assert created.status_code == 201, created.content


def test_anonymous_is_401(world, as_user):
    cid = _register(world, as_user)
    response = Client().post(
        f"/api/cases/{cid}/attachments", {"file": SimpleUploadedFile("a.png", PNG)}
    )
    _refused(response, 401, "unauthenticated", "未登录")
