"""公文: numbering, every kind rendered (HTML and DOCX read back), access, 检举控告, audit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from docx import Document
from docx.shared import Pt

from tests.conftest import World
from tests.documents.conftest import add_event
from xinfang.audit.models import AuditEntry
from xinfang.cases import services as S
from xinfang.cases.models import CaseEvent
from xinfang.core.errors import DomainError
from xinfang.documents.models import DocumentCounter, IssuedDocument
from xinfang.documents.services import DOCUMENT_KINDS, cn_date, document_for_event
from xinfang.people.services import PetitionerInput

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _mm(*lengths: Any) -> tuple[float, ...]:
    """Lengths in mm to 0.1 mm (DOCX stores twentieths of a point)."""
    return tuple(round(x.mm, 1) for x in lengths)


def _docx(content: bytes) -> Any:
    return Document(io.BytesIO(content))


# --- numbering --------------------------------------------------------------------------------


def test_numbers_are_gap_free_per_prefix_kind_and_year(world: World, register: Any) -> None:
    docs = []
    for i in range(3):
        case = register(summary=f"反映问题{i}号")
        docs.append(document_for_event(S.case_assign(case=case, by=world.alice, unit=world.street)))
    year = docs[0].issued_at.year
    assert [d.number for d in docs] == [f"区信访局交〔{year}〕{n}号" for n in (1, 2, 3)]
    # Another kind has its own sequence.
    case = register()
    fwd = document_for_event(S.case_forward(case=case, by=world.alice, unit=world.street))
    assert fwd.number == f"区信访局转〔{year}〕1号"
    # Idempotent: the same event gives the same document; no number is used up.
    assert document_for_event(docs[0].event) == docs[0]
    assert DocumentCounter.objects.get(prefix="区信访局交").last == 3


def test_rolled_back_issue_gives_its_number_back(world: World, register: Any) -> None:
    first = S.case_assign(case=register(), by=world.alice, unit=world.street)
    second = S.case_assign(case=register(summary="反映第二件事"), by=world.alice, unit=world.street)
    with pytest.raises(RuntimeError), transaction.atomic():
        document_for_event(first)
        raise RuntimeError("the caller's transaction fails")
    assert not IssuedDocument.objects.exists()
    doc = document_for_event(second)
    assert doc.number.endswith("〕1号")


def test_short_name_is_the_organ_code(world: World, register: Any) -> None:
    world.office.short_name = "示信"
    world.office.save()
    doc = document_for_event(S.case_assign(case=register(), by=world.alice, unit=world.street))
    assert doc.number.startswith("示信交〔")
    assert doc.body["organ"] == "区信访局"


def test_event_without_a_document_kind(world: World, register: Any) -> None:
    case = register()
    ev = case.events.get(kind="register")
    with pytest.raises(DomainError) as exc:
        document_for_event(ev)
    assert exc.value.field == "event"


# --- every kind renders -------------------------------------------------------------------------


def test_every_kind_has_a_builder(events: dict[str, CaseEvent]) -> None:
    assert set(events) == set(DOCUMENT_KINDS)


@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_each_kind_renders_html_and_docx(
    kind: str, events: dict[str, CaseEvent], world: World
) -> None:
    doc = document_for_event(events[kind], by=world.alice)
    spec = DOCUMENT_KINDS[kind]
    assert doc.kind == spec.code
    assert doc.title.endswith(spec.name)
    assert f"{spec.mark}〔" in doc.number
    client = _client(world.alice)
    html = client.get(f"/documents/{doc.pk}/").content.decode()
    assert doc.number in html and doc.title in html
    assert doc.body["date"] in html and doc.case.number in html
    assert "data-doc-print" in html and "css/documents.css" in html
    response = client.get(f"/documents/{doc.pk}/docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    assert "attachment" in response["Content-Disposition"]
    word = _docx(response.content)
    section = word.sections[0]
    assert _mm(section.page_width, section.page_height) == (210, 297)  # A4
    assert _mm(section.top_margin, section.bottom_margin) == (37, 35)
    assert _mm(section.left_margin, section.right_margin) == (28, 26)
    text = "\n".join(p.text for p in word.paragraphs)
    assert doc.number in text and doc.title in text and doc.body["date"] in text
    # Reprints are identical (the body is a snapshot).
    assert _docx(client.get(f"/documents/{doc.pk}.docx").content).paragraphs[-1].text == (
        word.paragraphs[-1].text
    )


def _run_with(word: Any, text: str) -> Any:
    for p in word.paragraphs:
        for r in p.runs:
            if r.text == text:
                return r
    raise AssertionError(f"no run {text!r}")


def _east_asian(run: Any) -> str:
    fonts = run._r.rPr.rFonts
    return fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")


def test_docx_fonts_sizes_lines_and_page_numbers(
    events: dict[str, CaseEvent], world: World
) -> None:
    doc = document_for_event(events["assign"])
    word = _docx(_client(world.alice).get(f"/documents/{doc.pk}/docx").content)
    organ = _run_with(word, "区信访局")
    assert _east_asian(organ) == "方正小标宋简体"
    assert str(organ.font.color.rgb) == "FF0000"
    title = _run_with(word, doc.title)
    assert _east_asian(title) == "方正小标宋简体" and title.font.size == Pt(22)
    number = _run_with(word, doc.number)
    assert _east_asian(number) == "仿宋_GB2312" and number.font.size == Pt(16)
    heading = _run_with(word, "一、信访事项基本情况")
    assert _east_asian(heading) == "黑体"
    body = next(p for p in word.paragraphs if p.text.startswith("现将"))
    assert abs(body.paragraph_format.line_spacing.pt - 28.99) < 0.05  # 22 lines (twips)
    assert body.paragraph_format.first_line_indent == Pt(32)
    assert _east_asian(body.runs[0]) == "仿宋_GB2312" and body.runs[0].font.size == Pt(16)
    # 页码 — PAGE —, odd right and even left.
    assert word.settings.odd_and_even_pages_header_footer
    footer = word.sections[0].footer.paragraphs[0]
    assert "PAGE" in footer._p.xml and footer.text.startswith("— ")
    assert word.sections[0].even_page_footer.paragraphs[0].text.endswith(" —")
    grid = word.sections[0]._sectPr.xml
    assert 'w:linePitch="580"' in grid
    # The font table names the fallbacks packaged by Debian.
    font_table = next(
        r.target_part.blob for r in word.part.rels.values() if r.reltype.endswith("/fontTable")
    ).decode()
    assert "仿宋_GB2312" in font_table and "Noto Serif CJK SC" in font_table


def test_assignment_shows_acceptance_and_handling_dates(
    events: dict[str, CaseEvent], world: World
) -> None:
    ev = events["assign"]
    doc = document_for_event(ev)
    accept_due = ev.case.deadlines.get(kind="accept").due_on
    html = _client(world.alice).get(f"/documents/{doc.pk}/").content.decode()
    assert f"受理期限：{cn_date(accept_due)}前" in html
    assert "办结期限：自受理之日起60日内（最迟" in html
    assert doc.body["to"] == "东湖街道："
    assert "请依法办理" in html


def test_supervision_shows_the_overdue_deadline(events: dict[str, CaseEvent], world: World) -> None:
    ev = events["supervise"]
    doc = document_for_event(ev)
    html = _client(world.alice).get(f"/documents/{doc.pk}/").content.decode()
    due = cn_date(ev.case.deadlines.get(kind="accept").due_on)
    assert f"受理告知期限已于{due}届满，现已超期3日" in html
    assert "超期天数：3日" in html
    assert doc.issuing_unit == world.office  # a sweep has no actor: the petition office issues


def test_reply_names_the_review_organ(events: dict[str, CaseEvent]) -> None:
    doc = document_for_event(events["reply"])
    assert doc.body["to"] == "张三："
    assert doc.issuing_unit.name == "东湖街道"
    text = "".join(p["text"] for p in doc.body["paragraphs"]) + doc.body.get("closing", "")
    # From the reply workflow's structured body (event.data["doc"]) or built here.
    assert "自收到本答复意见书之日起30日内，向示范区" in text and "请求复查" in text


def test_structured_body_from_event_data(world: World, register: Any) -> None:
    case = register()
    ev = add_event(
        case,
        "reply",
        {
            "doc": {
                "to": "李四",
                "organ": "东湖街道办事处",
                "title": "东湖街道关于李四信访事项的答复意见书",
                "sections": [
                    {"heading": "一、查明的事实", "text": "经查，物业费调整未经业主大会表决。"},
                    {"heading": "（一）处理依据", "text": "《物业管理条例》第十一条。"},
                ],
                "review_organ": "示范区人民政府",
            }
        },
        text="答复正文",
        by=world.uma,
    )
    doc = document_for_event(ev)
    assert doc.title == "东湖街道关于李四信访事项的答复意见书"
    assert doc.body["to"] == "李四：" and doc.body["organ"] == "东湖街道办事处"
    levels = [p["level"] for p in doc.body["paragraphs"]]
    assert levels[:2] == [1, 2]
    html = _client(world.alice).get(f"/documents/{doc.pk}/").content.decode()
    assert 'class="doc-p doc-l1">一、查明的事实' in html
    assert 'class="doc-p doc-l2">（一）处理依据' in html
    assert "向示范区人民政府请求复查" in html
    word = _docx(_client(world.alice).get(f"/documents/{doc.pk}/docx").content)
    assert _east_asian(_run_with(word, "（一）处理依据")) == "楷体_GB2312"


def test_snapshot_survives_later_changes(events: dict[str, CaseEvent], world: World) -> None:
    doc = document_for_event(events["assign"])
    before = _client(world.alice).get(f"/documents/{doc.pk}/").content.decode()
    world.street.name = "东湖街道办事处"
    world.street.save()
    after = _client(world.alice).get(f"/documents/{doc.pk}/").content.decode()
    assert "东湖街道：" in after and before == after


# --- access -------------------------------------------------------------------------------------


def test_other_units_get_404(events: dict[str, CaseEvent], world: World) -> None:
    ev = events["assign"]
    doc = document_for_event(ev)
    bob = _client(world.bob)
    assert bob.get(f"/documents/{doc.pk}/").status_code == 404
    assert bob.get(f"/documents/{doc.pk}/docx").status_code == 404
    assert bob.get(f"/documents/event/{ev.pk}/").status_code == 404
    assert bob.post(f"/documents/event/{ev.pk}/").status_code == 404
    assert bob.get(f"/api/documents/{doc.pk}").status_code == 404
    assert bob.get(f"/api/documents/{doc.pk}/docx").status_code == 404
    assert bob.post(f"/api/events/{ev.pk}/document").status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="document_").exists()
    # The handling unit sees it.
    assert _client(world.hank).get(f"/documents/{doc.pk}/").status_code == 200


def test_event_view_issues_on_post_and_redirects(
    events: dict[str, CaseEvent], world: World
) -> None:
    ev = events["forward"]
    client = _client(world.alice)
    page = client.get(f"/documents/event/{ev.pk}/")
    assert page.status_code == 200 and "生成并打印" in page.content.decode()
    assert not IssuedDocument.objects.exists()
    response = client.post(f"/documents/event/{ev.pk}/", {"format": "docx"})
    doc = IssuedDocument.objects.get(event=ev)
    assert response.status_code == 302 and response["Location"] == f"/documents/{doc.pk}/docx"
    again = client.post(f"/documents/event/{ev.pk}/", {"format": "print"})
    assert again["Location"] == f"/documents/{doc.pk}/"
    assert client.get(f"/documents/event/{ev.pk}/")["Location"] == f"/documents/{doc.pk}/"
    assert IssuedDocument.objects.count() == 1
    # No document kind for this event: 404.
    reg = ev.case.events.get(kind="register")
    assert client.get(f"/documents/event/{reg.pk}/").status_code == 404


def test_post_needs_csrf(events: dict[str, CaseEvent], world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert client.post(f"/documents/event/{events['assign'].pk}/").status_code == 403


def test_timeline_hook_links(events: dict[str, CaseEvent], world: World) -> None:
    ev = events["assign"]
    client = _client(world.alice)
    html = client.get(f"/cases/{ev.case_id}/").content.decode()
    assert "公文（交办单）" in html and f'action="/documents/event/{ev.pk}/"' in html
    doc = document_for_event(ev)
    html = client.get(f"/cases/{ev.case_id}/").content.decode()
    assert f'href="/documents/{doc.pk}/"' in html and f'href="/documents/{doc.pk}/docx"' in html


# --- audit and 检举控告 --------------------------------------------------------------------------


def test_prints_and_downloads_are_audited(events: dict[str, CaseEvent], world: World) -> None:
    doc = document_for_event(events["assign"])
    client = _client(world.alice)
    client.get(f"/documents/{doc.pk}/")
    client.get(f"/documents/{doc.pk}/docx")
    client.get(f"/api/documents/{doc.pk}/docx")
    rows = list(AuditEntry.objects.order_by("seq").values_list("action", "object_id", "actor_id"))
    assert rows[-3:] == [
        ("document_print", str(doc.pk), world.alice.pk),
        ("document_download", str(doc.pk), world.alice.pk),
        ("document_download", str(doc.pk), world.alice.pk),
    ]
    assert not AuditEntry.objects.filter(action="reveal").exists()
    client.get(f"/api/documents/{doc.pk}")  # metadata only: not audited
    assert AuditEntry.objects.filter(action__startswith="document_").count() == 3


SECRET = "挪用扶贫资金"


@pytest.fixture
def accusation(world: World, register: Any) -> Any:
    case = register(
        purpose="accusation",
        summary=f"检举某干部{SECRET}",
        content="详细情况",
        petitioners=[PetitionerInput(name="赵检举")],
        accused_unit_ids=[world.sibling.pk],
    )
    return S.case_assign(case=case, by=world.alice, unit=world.street)


def test_confidential_document_needs_an_audited_confirmation(accusation: Any, world: World) -> None:
    doc = document_for_event(accusation)
    client = _client(world.alice)
    page = client.get(f"/documents/{doc.pk}/").content.decode()
    assert SECRET not in page and "记入审计日志" in page
    dl = client.get(f"/documents/{doc.pk}/docx")
    assert dl["Content-Type"].startswith("text/html") and SECRET not in dl.content.decode()
    assert not AuditEntry.objects.filter(action__in=["reveal", "document_print"]).exists()
    shown = client.post(f"/documents/{doc.pk}/")
    assert SECRET in shown.content.decode() and "no-store" in shown["Cache-Control"]
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", "detail"))
    assert actions[-2:] == [
        ("reveal", {"field": "document", "document": doc.pk}),
        ("document_print", {"case": doc.case.number, "number": doc.number, "kind": "assignment"}),
    ]
    word = _docx(client.post(f"/documents/{doc.pk}/docx").content)
    assert any(SECRET in p.text for p in word.paragraphs)
    assert AuditEntry.objects.filter(action="reveal").count() == 2
    # The audit summary names neither the accused matter nor the title.
    assert not AuditEntry.objects.filter(summary__contains=SECRET).exists()


def test_confidential_issue_from_the_timeline_is_the_confirmation(
    accusation: Any, world: World
) -> None:
    client = _client(world.alice)
    response = client.post(f"/documents/event/{accusation.pk}/", {"format": "print"})
    assert response.status_code == 200 and SECRET in response.content.decode()
    assert AuditEntry.objects.filter(action="reveal").count() == 1


def test_the_accused_unit_never_reaches_it(accusation: Any, world: World) -> None:
    doc = document_for_event(accusation)
    assert _client(world.bob).post(f"/documents/{doc.pk}/").status_code == 404
    assert _client(world.bob).get(f"/api/documents/{doc.pk}/docx").status_code == 404


def test_api_docx_of_a_confidential_case_is_a_reveal(accusation: Any, world: World) -> None:
    doc = document_for_event(accusation)
    response = _client(world.alice).get(f"/api/documents/{doc.pk}/docx")
    assert response.status_code == 200
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))[-2:] == [
        "reveal",
        "document_download",
    ]


# --- API ------------------------------------------------------------------------------------------


def test_api_issue_get_and_download(events: dict[str, CaseEvent], world: World) -> None:
    ev = events["reply"]
    client = _client(world.hank)
    created = client.post(f"/api/events/{ev.pk}/document")
    assert created.status_code == 201
    data = created.json()
    assert data["kind"] == "reply" and data["kind_label"] == "答复意见书"
    assert data["issuing_unit"] == "东湖街道" and data["issued_by"] == "韩克"
    again = client.post(f"/api/events/{ev.pk}/document")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    meta = client.get(f"/api/documents/{data['id']}").json()
    assert meta["number"] == data["number"] and meta["print_url"] == f"/documents/{data['id']}/"
    docx = client.get(meta["docx_url"])
    assert docx.status_code == 200 and _mm(_docx(docx.content).sections[0].page_width) == (210,)
    reg = ev.case.events.get(kind="register")
    bad = client.post(f"/api/events/{reg.pk}/document")
    assert bad.status_code == 400 and bad.json()["field"] == "event"
