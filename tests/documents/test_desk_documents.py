"""Desk documents (issue 5): 登记回执 with the QR code, 受理告知书, 不予受理告知书."""

from __future__ import annotations

import io
from typing import Any

import pytest
import segno
from django.test import Client, override_settings
from docx import Document

from tests.conftest import World
from xinfang.audit.models import AuditEntry
from xinfang.cases import deadlines
from xinfang.cases import services as S
from xinfang.cases.models import DeadlineKind
from xinfang.documents.receipt import receipt_data, track_url
from xinfang.documents.services import cn_date, document_for_event

pytestmark = pytest.mark.django_db
K = DeadlineKind


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _docx_text(content: bytes) -> str:
    word = Document(io.BytesIO(content))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in word.paragraphs] + cells)


# --- 登记回执 -----------------------------------------------------------------------------------


def test_receipt_content_and_dates(world: World, register: Any) -> None:
    case = register(summary="反映小区物业费上涨问题")
    html = _client(world.rita).get(f"/documents/receipt/{case.pk}/").content.decode()
    assert "信访事项登记回执" in html and case.number in html and case.query_code in html
    assert "区信访局" in html and "芮塔" in html  # office and 首问责任人
    assert "反映小区物业费上涨问题" in html and "张三" in html
    # The time points come from the deadline rows and rules.
    route = case.deadlines.get(kind=K.ROUTE)
    accept_due = deadlines.due_date(K.ACCEPT, route.due_on)
    handle_due = deadlines.due_date(K.HANDLE, accept_due)
    assert f"{cn_date(route.due_on)}前" in html
    assert f"预计{cn_date(accept_due)}前" in html and f"预计{cn_date(handle_due)}前" in html
    assert f"{deadlines.rule_for(K.ROUTE).days}日内转送、交办" in html
    assert f"受理之日起{deadlines.rule_for(K.HANDLE).days}日内办结" in html
    # After routing, the real accept deadline replaces the estimate.
    S.case_assign(case=case, by=world.alice, unit=world.street)
    data = receipt_data(case)
    real = case.deadlines.get(kind=K.ACCEPT).due_on
    assert data["steps"][0]["done"] and data["steps"][1]["due"] == real
    assert not data["steps"][1]["expected"] and data["steps"][2]["expected"]


def test_receipt_qr_encodes_tracking_url(world: World, register: Any) -> None:
    case = register()
    html = _client(world.rita).get(f"/documents/receipt/{case.pk}/").content.decode()
    url = f"http://127.0.0.1:8000/track/?code={case.query_code}"
    assert track_url(case) == url
    expected = segno.make(url, error="m", micro=False).svg_inline(scale=4, title="网上查询二维码")
    assert "<svg" in html and expected in html
    assert "网上查询（即将开通）" in html
    with override_settings(
        XINFANG_PUBLIC_URL="https://xf.example.gov.cn/", XINFANG_PUBLIC_URL_SET=True
    ):
        html = _client(world.rita).get(f"/documents/receipt/{case.pk}/").content.decode()
        url = f"https://xf.example.gov.cn/track/?code={case.query_code}"
        assert (
            segno.make(url, error="m", micro=False).svg_inline(scale=4, title="网上查询二维码")
            in html
        )
        assert "即将开通" not in html and url.replace("&", "&amp;") in html


def test_receipt_docx(world: World, register: Any) -> None:
    case = register(summary="反映道路破损")
    r = _client(world.rita).get(f"/documents/receipt/{case.pk}/?format=docx")
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    word = Document(io.BytesIO(r.content))
    width = word.sections[0].page_width
    assert width is not None and round(width.mm) == 148  # A5
    text = _docx_text(r.content)
    assert case.number in text and case.query_code in text and "反映道路破损" in text
    assert "后续办理" in text and "预计" in text
    assert len(word.inline_shapes) == 1  # the QR code (PNG)


def test_receipt_of_accusation_has_no_content(world: World, register: Any) -> None:
    case = register(
        purpose="accusation",
        summary="检举某街道干部收受贿赂",
        content="某某收受开发商好处费。",
        accused_text="某街道某科长",
    )
    assert case.is_confidential
    c = _client(world.rita)
    html = c.get(f"/documents/receipt/{case.pk}/").content.decode()
    assert case.number in html and case.query_code in html
    assert "检举某街道干部" not in html and "收受" not in html and "某科长" not in html
    assert "张三" not in html and "内容保密" in html
    text = _docx_text(c.get(f"/documents/receipt/{case.pk}/?format=docx").content)
    assert case.number in text and "收受" not in text and "张三" not in text


def test_receipt_access_and_audit(world: World, register: Any) -> None:
    case = register()
    assert _client(world.bob).get(f"/documents/receipt/{case.pk}/").status_code == 404
    assert _client(world.sam).get(f"/documents/receipt/{case.pk}/").status_code == 404
    c = _client(world.rita)
    before = AuditEntry.objects.count()
    c.get(f"/documents/receipt/{case.pk}/")
    c.get(f"/documents/receipt/{case.pk}/?format=docx")
    rows = list(AuditEntry.objects.order_by("seq")[before:])
    assert [r.action for r in rows] == ["document_print", "document_download"]
    assert all(case.number in r.summary and "登记回执" in r.summary for r in rows)
    assert rows[0].detail["kind"] == "receipt"


def test_receipt_link_on_the_timeline(world: World, register: Any) -> None:
    case = register()
    html = _client(world.rita).get(f"/cases/{case.pk}/").content.decode()
    assert f"/documents/receipt/{case.pk}/" in html and "登记回执" in html


# --- 受理告知书 / 不予受理告知书 ----------------------------------------------------------------


def _signed(world: World, register: Any, summary: str) -> Any:
    case = register(summary=summary)
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    return case


def test_acceptance_notice(world: World, register: Any) -> None:
    case = _signed(world, register, "反映楼道照明损坏")
    ev = S.case_accept(case=case, by=world.hank, notice_text="经审查，决定受理。")
    doc = document_for_event(ev, by=world.hank)
    assert doc.kind == "acceptance" and doc.title.endswith("受理告知书")
    assert doc.number.startswith("东湖街道受〔")
    assert doc.issuing_unit == world.street
    text = "\n".join(p["text"] for p in doc.body["paragraphs"])
    handle_due = case.deadlines.get(kind=K.HANDLE).due_on
    assert "决定依法予以受理" in text and f"于{cn_date(handle_due)}前" in text
    assert f"{deadlines.rule_for(K.HANDLE).days}日内办结" in text
    assert "复查" not in text
    assert doc.body["to"] == "张三："
    r = _client(world.hank).get(f"/documents/{doc.pk}/docx")
    assert "决定依法予以受理" in _docx_text(r.content)


def test_refusal_notice(world: World, register: Any) -> None:
    case = _signed(world, register, "反映已起诉的合同纠纷")
    ev = S.case_refuse(
        case=case, by=world.uma, notice_text="该事项已进入诉讼程序，请向受理法院反映。"
    )
    doc = document_for_event(ev, by=world.uma)
    assert doc.kind == "refusal" and doc.title.endswith("不予受理告知书")
    assert "不受〔" in doc.number
    text = "\n".join(p["text"] for p in doc.body["paragraphs"])
    assert "决定不予受理" in text and "该事项已进入诉讼程序" in text
    assert "诉讼、仲裁、行政复议等法定途径" in text
    html = _client(world.uma).get(f"/documents/{doc.pk}/").content.decode()
    assert "不予受理告知书" in html and doc.number in html
    # Another unit's case: 404 for the document.
    assert _client(world.bob).get(f"/documents/{doc.pk}/").status_code == 404


def test_receipt_after_inform_drops_later_steps(world: World, register: Any) -> None:
    case = register()
    S.case_inform(case=case, by=world.rita, reason="属于劳动争议，请申请劳动仲裁。")
    data = receipt_data(case)
    assert len(data["steps"]) == 2 and "已出具告知单" in data["steps"][1]["what"]
    assert data["steps"][0]["done"]
