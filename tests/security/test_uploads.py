"""Uploads: the kind comes from the content, images are re-encoded, downloads are access-checked
and audited. Forms (UI), the JSON API and the service are all tried."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.conftest import register_form
from xinfang.audit.models import AuditEntry
from xinfang.cases.attachments import (
    attachment_add,
    check_upload,
    content_disposition,
)
from xinfang.cases.models import Attachment, Purpose
from xinfang.core.errors import DomainError

# --- sample files -------------------------------------------------------------------------


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = "SECRET-DESCRIPTION"  # ImageDescription
    exif[0x0110] = "SECRET-CAMERA"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 27.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 17.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"SECRET-COMMENT")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", "SECRET-PNG-TEXT")
    out = io.BytesIO()
    Image.new("RGBA", (16, 16), (255, 0, 0, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny valid PNG whose header claims ``width``×``height`` pixels."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def zip_with(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    return out.getvalue()


DOCX = zip_with("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = zip_with("[Content_Types].xml", "xl/workbook.xml")
DOCM = zip_with("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")
PLAIN_ZIP = zip_with("a.txt")
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
DOC = OLE + "WordDocument".encode("utf-16-le") + bytes(64)
XLS = OLE + "Workbook".encode("utf-16-le") + bytes(64)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(400)
MP3_BARE = b"\xff\xfb\x90\x00" + bytes(400)
WAV = b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + bytes(28)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03" + bytes(100)


def up(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/octet-stream")


def stored_bytes(att: Attachment) -> bytes:
    with att.file.open("rb") as f:
        return bytes(f.read())


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("材料.pdf", PDF, "application/pdf"),
        (
            "起诉状.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("旧材料.doc", DOC, "application/msword"),
        ("录音.mp3", MP3, "audio/mpeg"),
        ("录音2.mp3", MP3_BARE, "audio/mpeg"),
        ("录音.wav", WAV, "audio/wav"),
        ("说明.txt", "信访人诉求：𠀀𪚥😀\n".encode(), "text/plain; charset=utf-8"),
        (
            "说明gbk.txt",
            "信访人诉求：拖欠工资\r\n".encode("gb18030"),
            "text/plain; charset=gb18030",
        ),
        ("照片.jpg", jpeg_with_gps(), "image/jpeg"),
        ("截图.png", png_with_text(), "image/png"),
    ],
)
def test_allowed_kinds_are_detected_from_content(name: str, data: bytes, content_type: str) -> None:
    checked = check_upload(up(name, data))
    assert checked.kind.content_type == content_type
    # The name is ignored for the decision: the same bytes under a meaningless name.
    assert check_upload(up("无扩展名", data)).kind == checked.kind


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("setup.exe", EXE, ["类型不允许上传", "Windows可执行程序", "pdf"]),
        ("答复.pdf", EXE, ["内容与扩展名.pdf不符", "Windows可执行程序"]),
        ("表格.docx", XLSX, ["Excel表格"]),
        ("打包.docx", PLAIN_ZIP, ["ZIP压缩包"]),
        ("宏.docx", DOCM, ["含宏"]),
        ("表格.doc", XLS, ["不是Word文档"]),
        ("二进制.txt", b"abc\x00def", ["内容与扩展名.txt不符"]),
        ("坏文本.txt", b"\x81\x30\xff\xfe\x00", ["类型不允许上传"]),
        ("动图.gif", b"GIF89a" + bytes(30), ["GIF图片"]),
        ("空.pdf", b"", ["空文件"]),
        ("坏.docx", b"PK\x03\x04garbage", ["损坏"]),
    ],
)
def test_refused_kinds_say_why_in_chinese(name: str, data: bytes, words: list[str]) -> None:
    with pytest.raises(DomainError) as err:
        check_upload(up(name, data))
    assert err.value.field == "attachments"
    for word in words:
        assert word in err.value.message, err.value.message


def test_size_limit(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(DomainError, match="超过上限100字节"):
        check_upload(up("大.pdf", PDF + bytes(200)))


# --- images -------------------------------------------------------------------------------


def test_jpeg_is_reencoded_without_exif_gps_or_comment() -> None:
    original = jpeg_with_gps()
    assert b"SECRET-DESCRIPTION" in original and b"SECRET-COMMENT" in original
    content = check_upload(up("照片.jpg", original)).content
    assert b"SECRET" not in content and b"Exif" not in content
    with Image.open(io.BytesIO(content)) as img:
        assert img.format == "JPEG" and img.size == (64, 48)
        assert not img.getexif()
        assert img.getexif().get_ifd(0x8825) == {}


def test_png_is_reencoded_without_text_chunks() -> None:
    content = check_upload(up("截图.png", png_with_text())).content
    assert b"SECRET-PNG-TEXT" not in content
    with Image.open(io.BytesIO(content)) as img:
        assert img.format == "PNG" and img.mode == "RGBA" and img.size == (16, 16)


def test_polyglot_tail_is_dropped() -> None:
    """A JPEG with an HTML/zip payload appended: the stored image has no trace of it."""
    payload = b"<script>alert(1)</script>" + PLAIN_ZIP
    content = check_upload(up("x.jpg", jpeg_with_gps() + payload)).content
    assert b"<script>" not in content and b"PK\x03\x04" not in content


def test_truncated_and_malformed_images_are_refused() -> None:
    good = jpeg_with_gps()
    with pytest.raises(DomainError, match="不是完整有效的JPEG图片"):
        check_upload(up("半张.jpg", good[: len(good) // 2]))
    with pytest.raises(DomainError, match="不是完整有效的PNG图片"):
        check_upload(up("假.png", b"\x89PNG\r\n\x1a\n" + bytes(40)))
    png = png_with_text()
    with pytest.raises(DomainError, match="被截断"):
        check_upload(up("半张.png", png[: len(png) - 30]))


def test_decompression_bomb_is_refused() -> None:
    bomb = png_bomb()
    assert len(bomb) < 200
    with pytest.raises(DomainError, match="解压炸弹") as err:
        check_upload(up("炸弹.png", bomb))
    assert "百万像素" in err.value.message


def test_pixel_limit_is_a_setting(settings: Any) -> None:
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 100
    with pytest.raises(DomainError, match="图像尺寸过大"):
        check_upload(up("照片.jpg", jpeg_with_gps()))


# --- storage ------------------------------------------------------------------------------


def test_mismatching_name_is_stored_as_the_detected_kind(
    world: Any, register: Any, _media: Any
) -> None:
    case = register()
    png = png_with_text()
    att = attachment_add(case=case, by=world.rita, upload=up("../../etc/答复意见.pdf", png))
    assert att.content_type == "image/png"
    assert att.original_name == "答复意见.pdf"  # no directory part
    assert att.stored_name.endswith(".png") and len(att.stored_name) == 36
    stored = str(att.file.name)
    assert "答复" not in stored and ".." not in stored
    path = _media / stored
    assert path.is_file() and path.resolve().is_relative_to(_media.resolve())
    assert stored_bytes(att) == check_upload(up("x.png", png)).content


def test_media_url_is_not_served(client: Client, world: Any, register: Any) -> None:
    case = register()
    att = attachment_add(case=case, by=world.rita, upload=up("材料.pdf", PDF))
    client.force_login(world.rita)
    for url in (
        f"/media/{att.file.name}",
        f"/{att.file.name}",
        f"/static/../var/media/{att.file.name}",
    ):
        assert client.get(url).status_code == 404, url


# --- download -----------------------------------------------------------------------------


def _download(client: Client, case_id: int, att_id: int) -> Any:
    return client.get(reverse("attachment_download", args=[case_id, att_id]))


def test_download_headers_and_audit(client: Client, world: Any, register: Any) -> None:
    case = register()
    att = attachment_add(case=case, by=world.rita, upload=up("信访材料（𠀀）.pdf", PDF))
    client.force_login(world.alice)
    response = _download(client, case.pk, att.pk)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote('信访材料（𠀀）.pdf')}" in disposition
    assert f'filename="attachment-{att.pk}.pdf"' in disposition
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]
    entry = AuditEntry.objects.filter(action="download").get()
    assert entry.actor_id == world.alice.pk
    assert entry.object_type == "attachment" and entry.object_id == str(att.pk)
    assert entry.detail["case"] == case.number
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_download_name_follows_detected_kind(client: Client, world: Any, register: Any) -> None:
    case = register()
    att = attachment_add(case=case, by=world.rita, upload=up("现场.pdf", png_with_text()))
    client.force_login(world.rita)
    response = _download(client, case.pk, att.pk)
    assert response["Content-Type"] == "image/png"
    assert quote("现场.png") in response["Content-Disposition"]


def test_download_outside_scope_is_404_and_not_audited(
    client: Client, world: Any, register: Any
) -> None:
    case = register()
    other = register(summary="另一件事")
    att = attachment_add(case=case, by=world.rita, upload=up("材料.pdf", PDF))
    for user in (world.bob, world.sam, world.hank):  # hank: not routed to his street yet
        client.force_login(user)
        assert _download(client, case.pk, att.pk).status_code == 404
    client.force_login(world.rita)
    assert _download(client, other.pk, att.pk).status_code == 404  # wrong case id
    assert not AuditEntry.objects.filter(action="download").exists()
    anonymous = Client()
    response = _download(anonymous, case.pk, att.pk)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(reverse("attachment_download", args=[case.pk, att.pk])).status_code == 405


def test_missing_file_is_404(client: Client, world: Any, register: Any) -> None:
    case = register()
    att = attachment_add(case=case, by=world.rita, upload=up("材料.pdf", PDF))
    att.file.storage.delete(str(att.file.name))
    client.force_login(world.rita)
    assert _download(client, case.pk, att.pk).status_code == 404
    assert not AuditEntry.objects.filter(action="download").exists()


def test_confidential_download_is_an_audited_reveal(
    client: Client, world: Any, register: Any
) -> None:
    case = register(purpose=Purpose.ACCUSATION, summary="检举某单位负责人收受财物")
    assert case.is_confidential
    att = attachment_add(case=case, by=world.rita, upload=up("证据.pdf", PDF))
    client.force_login(world.alice)
    assert _download(client, case.pk, att.pk).status_code == 200
    reveal = AuditEntry.objects.get(action="reveal")
    assert reveal.object_type == "case" and reveal.object_id == str(case.pk)
    assert reveal.detail == {"field": "attachment", "attachment": att.pk}
    assert AuditEntry.objects.filter(action="download").count() == 1


def test_detail_page_links_to_the_download(client: Client, world: Any, register: Any) -> None:
    case = register()
    att = attachment_add(case=case, by=world.rita, upload=up("材料 & 'x'<i>.pdf", PDF))
    client.force_login(world.rita)
    page = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("attachment_download", args=[case.pk, att.pk]) in page
    assert att.original_name == "材料 & 'x'i.pdf"  # <>:"|?* dropped from file names
    assert "材料 &amp; &#x27;x&#x27;i.pdf" in page


# --- the registration form and the API ----------------------------------------------------


def test_form_upload_of_a_photo_strips_gps(client: Client, world: Any) -> None:
    client.force_login(world.rita)
    data = register_form(
        "sec-up-1",
        attachments=SimpleUploadedFile("现场照片.jpg", jpeg_with_gps(), "image/jpeg"),
        **{"p-0-name": "王五"},
    )
    response = client.post(reverse("case_register"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    att = Attachment.objects.get()
    assert att.content_type == "image/jpeg" and b"SECRET" not in stored_bytes(att)


def test_form_refuses_a_renamed_executable_and_keeps_the_form(client: Client, world: Any) -> None:
    client.force_login(world.rita)
    data = register_form(
        "sec-up-2",
        summary="建议增设公交线路",
        attachments=SimpleUploadedFile("照片.jpg", EXE, "image/jpeg"),
        **{"p-0-name": "王五"},
    )
    page = client.post(reverse("case_register"), data).content.decode()
    assert "内容与扩展名.jpg不符" in page and "建议增设公交线路" in page
    assert not Attachment.objects.exists()


def test_api_upload_and_download(world: Any, as_user: Any, register: Any) -> None:
    case = register()
    rita = as_user(world.rita)
    created = rita.upload(case.pk, "照片.jpeg", jpeg_with_gps())
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["content_type"] == "image/jpeg"
    refused = rita.upload(case.pk, "表格.docx", XLSX)
    assert refused.status_code == 400 and "Excel表格" in refused.json()["detail"]
    assert refused.json()["field"] == "file"

    url = f"/api/cases/{case.pk}/attachments/{body['id']}"
    response = rita.client.get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert b"SECRET" not in content and len(content) == body["size"]
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment; ")
    assert quote("照片.jpeg") in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="download", object_id=str(body["id"])).count() == 1

    bob = as_user(world.bob).client.get(url)
    assert bob.status_code == 404 and bob.json()["code"] == "not_found"
    wrong = rita.client.get(f"/api/cases/{case.pk}/attachments/{body['id'] + 999}")
    assert wrong.status_code == 404 and "附件" in wrong.json()["detail"]
    assert AuditEntry.objects.filter(action="download").count() == 1


def test_content_disposition_quotes_everything() -> None:
    header = content_disposition('a";b\r\n.pdf', 'x";\r\n.pdf')
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename=\"x.pdf\"; filename*=UTF-8''")
    assert "%22%3Bb%0D%0A.pdf" in header


def test_truncated_images_stay_refused_after_weasyprint_is_loaded() -> None:
    """WeasyPrint (the bulletin PDFs) sets Pillow's LOAD_TRUNCATED_IMAGES on import; the upload
    check must refuse a truncated PNG all the same."""
    import weasyprint  # noqa: F401
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what its import does (once per process)
    good = jpeg_with_gps()
    with pytest.raises(DomainError, match="不是完整有效的JPEG图片"):
        check_upload(up("半张.jpg", good[: len(good) // 2]))
    png = png_with_text()
    with pytest.raises(DomainError, match="被截断"):
        check_upload(up("半张.png", png[: len(png) - 30]))
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
