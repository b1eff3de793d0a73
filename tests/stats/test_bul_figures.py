"""通报: exact figures of a bulletin on a bulk fixture, the files re-opened, reissue diff."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from xinfang.cases.models import Category
from xinfang.stats import rollup
from xinfang.stats.bulletin_render import render_html
from xinfang.stats.bulletins import (
    BulletinError,
    build_figures,
    figures_diff,
    issue_bulletin,
    reissue,
)
from xinfang.stats.periods import Period

from .factory import at, bulk_cases

SHOTS = Path("test-output/screenshots")
TODAY = dt.date(2026, 4, 6)


def _cats() -> tuple[Category, Category]:
    l2 = list(Category.objects.filter(level=2).select_related("parent")[:40])
    a = l2[0]
    b = next(c for c in l2 if c.parent_id != a.parent_id)
    return a, b


def _l1(c: Category) -> str:
    assert c.parent is not None
    return c.parent.name


def _bytes(field: Any) -> bytes:
    assert field is not None
    return bytes(field)


def _fixture(world: Any) -> tuple[Category, Category]:
    a, b = _cats()
    bulk_cases(
        world,
        [
            # March 2026: 6 visits (1 collective of 7, 1 group of 3, 4 individuals), 3 letters,
            # 2 calls; categories a ×8, b ×3; places: street ×5
            (
                1,
                {
                    "headcount": 7,
                    "received_at": at("2026-03-03"),
                    "category": a,
                    "place_code": "110105001",
                },
            ),
            (
                1,
                {
                    "headcount": 3,
                    "received_at": at("2026-03-10"),
                    "category": a,
                    "place_code": "110105001",
                },
            ),
            (4, {"received_at": at("2026-03-31", 23), "category": a, "place_code": "110105001"}),
            (3, {"channel": "letter", "received_at": at("2026-03-15"), "category": b}),
            (
                2,
                {
                    "channel": "phone",
                    "received_at": at("2026-03-01", 0),
                    "category": a,
                    "place_code": "110105002",
                },
            ),
            # February 2026 (环比): 4 visits
            (4, {"received_at": at("2026-02-20"), "category": b}),
            # March 2025 (同比): 5 visits, 1 letter
            (5, {"received_at": at("2025-03-20"), "category": a}),
            (1, {"channel": "letter", "received_at": at("2025-03-21"), "category": b}),
            # April 2026: outside the period
            (9, {"received_at": at("2026-04-01", 0), "category": b}),
        ],
    )
    return a, b


def _table(figures: dict[str, Any], key: str) -> dict[str, Any]:
    return next(t for t in figures["tables"] if t["key"] == key)


def test_monthly_figures_exact(world: Any) -> None:
    a, b = _fixture(world)
    f = build_figures("monthly", world.district, Period.month(2026, 3), today=TODAY)
    assert f["totals"] == {"batches": 11, "persons": 19}
    assert f["paragraphs"][0] == (
        "今年3月份，示范区共接待群众来访6批（次）、14人（次），同比分别上升了20%和180%。"
        "其中：集体访1批（次）、7人（次），去年同期无；群体访1批（次）、3人（次），去年同期无；"
        "个人访4人（次），同比下降了20%。热线电话2个，去年同期无；来信3件，同比上升了200%。"
    )
    assert f["paragraphs"][-1] == (
        "本月全部渠道共受理群众信访11件（批）、19人（次），环比分别上升了175%和375%。"
    )
    ch = {r["key"]: r["cells"] for r in _table(f, "channel")["rows"]}
    assert ch["visit"] == ["来访", 6, 14, "+20%", "+50%"]
    assert ch["letter"] == ["来信", 3, 3, "+200%", "新增"]
    assert ch["phone"] == ["来电（热线）", 2, 2, "新增", "新增"]
    assert _table(f, "channel")["total"] == ["合计", 11, 19, "+83%", "+175%"]
    kinds = {r["key"]: r["cells"] for r in _table(f, "kind")["rows"]}
    assert kinds["3"][1:3] == [1, 7] and kinds["2"][1:3] == [1, 3] and kinds["1"][1:3] == [9, 9]
    cat = _table(f, "category")["rows"]
    assert [r["cells"][0] for r in cat] == [_l1(a), _l1(b)]
    # shares are the percentage rounded half up to one decimal, as on every page (72.7%, 27.3%)
    assert [r["cells"][1:4] for r in cat] == [[8, 16, 0.727], [3, 3, 0.273]]
    places = {r["cells"][0]: r["cells"][1:3] for r in _table(f, "place")["rows"]}
    assert places == {"东湖街道": [6, 14], "西山街道": [2, 2], "属地不明": [3, 3]}
    hot = _table(f, "hotspot")["rows"][0]["cells"]
    assert hot[:4] == [_l1(a), "东湖街道", 6, 0]


def test_weekly_and_empty_period(world: Any) -> None:
    f = build_figures("weekly", world.district, Period.week_of(dt.date(2026, 3, 2)), today=TODAY)
    assert f["totals"] == {"batches": 0, "persons": 0}
    assert f["paragraphs"][0].startswith(
        "2026年3月2日至8日，示范区共接待群众来访0批（次）、0人（次）。"
    )
    assert f["title"] == "示范区信访工作周通报"
    html = render_html(f)
    assert "本期无" in html


def test_issue_renders_three_files_and_numbers(world: Any) -> None:
    _fixture(world)
    march = issue_bulletin(
        "monthly", world.district, Period.month(2026, 3), world.alice, today=TODAY
    )
    assert march.state == "ready" and march.number == "2026年第1期"
    assert march.seconds is not None and march.seconds > 0
    again = issue_bulletin("monthly", world.district, Period.month(2026, 3), world.alice)
    assert again.pk == march.pk  # idempotent
    feb = issue_bulletin("monthly", world.district, Period.month(2026, 2), today=TODAY)
    assert feb.number == "2026年第2期"  # issue order, gap-free
    week = issue_bulletin(
        "weekly", world.district, Period.week_of(dt.date(2026, 3, 30)), today=TODAY
    )
    assert week.number == "2026年第1期"  # numbered per kind
    other = issue_bulletin("monthly", world.street, Period.month(2026, 3), today=TODAY)
    assert other.number == "2026年第1期"  # and per unit

    # DOCX: the narrative, tables and a picture
    from docx import Document

    doc = Document(io.BytesIO(_bytes(march.docx)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert march.figures["paragraphs"][0] in text and "（2026年第1期）" in text
    assert len(doc.tables) == 5  # 渠道 形式 分类 属地 热点 (no handling: 本期无)
    assert doc.inline_shapes and len(doc.inline_shapes) == 3
    # XLSX: sheets and numbers
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(_bytes(march.xlsx)))
    assert "信访渠道" in wb.sheetnames and "超期未办结" in wb.sheetnames
    ws = wb["信访渠道"]
    assert [c.value for c in ws[4]][:3] == ["来访", 6, 14]
    assert [c.value for c in ws[11]][:3] == ["合计", 11, 19]
    cat = wb["内容分类(一级)"]
    assert cat["D4"].number_format == "0.0%" and abs(cat["D4"].value - 8 / 11) < 1e-3
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(_bytes(march.xlsx))).namelist()
    assert any(n.startswith("xl/charts/chart") for n in names)
    # PDF → PNG (look at it)
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(_bytes(march.pdf))
    assert len(pdf) >= 2
    assert "基本情况" in pdf[0].get_textpage().get_text_range()
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i in range(min(len(pdf), 3)):
        pdf[i].render(scale=1.4).to_pil().save(SHOTS / f"bul-monthly-pdf-p{i + 1}.png")


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: .ci/run does"
)
def test_the_docx_renders_in_a_word_processor(world: Any, tmp_path: Path) -> None:
    """The DOCX as an office opens it: LibreOffice converts it to PDF (headless), and the pages
    are rendered to PNG — the narrative, the tables with their numbers, the charts."""
    _fixture(world)
    march = issue_bulletin("monthly", world.district, Period.month(2026, 3), today=TODAY)
    docx = tmp_path / "bulletin.docx"
    docx.write_bytes(_bytes(march.docx))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument((tmp_path / "bulletin.pdf").read_bytes())
    assert len(pdf) >= 2
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    squeezed = "".join(text.split())
    assert "".join(march.figures["paragraphs"][0].split()) in squeezed  # no missing glyphs
    assert "（2026年第1期）" in squeezed and "合计" in squeezed
    # a table is not cut from its header: the page with the channel rows has the header too
    pages_text = ["".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    channel_page = next(t for t in pages_text if "来电（热线）" in t)
    assert "（一）信访渠道渠道批次人次同比环比来访" in channel_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    colored = []
    for i in range(len(pdf)):
        image = pdf[i].render(scale=1.4).to_pil()
        if i < 4:
            image.save(SHOTS / f"bul-monthly-docx-p{i + 1}.png")
        saturation = image.convert("HSV").split()[1].histogram()
        colored.append(sum(saturation[100:]) / (image.width * image.height))
    # the three charts are drawn (colored: saturated pixels), on the pages from 三、图表 on
    charts_at = next(i for i, t in enumerate(pages_text) if "三、图表" in t)
    assert max(colored[charts_at:]) > 0.03 and max(colored[:charts_at]) < 0.005, colored


def test_reissue_after_category_correction_shows_difference(world: Any) -> None:
    a, b = _fixture(world)
    old = issue_bulletin("monthly", world.district, Period.month(2026, 3), today=TODAY)
    from xinfang.cases.models import Case

    case = Case.objects.filter(category=b, received_at__month=3, received_at__year=2026).first()
    assert case is not None
    Case.objects.filter(pk=case.pk).update(category=a)
    rollup.refresh(case.pk)
    new = reissue(old, world.alice)
    assert new.replaces_id == old.pk and new.number == old.number
    paths = {d["path"]: (d["old"], d["new"]) for d in new.diff}
    assert paths[f"内容分类（一级）/{_l1(a)}/批次"] == (8, 9)
    assert paths[f"内容分类（一级）/{_l1(b)}/批次"] == (3, 2)
    assert "合计/批次" not in paths  # the totals did not change
    # the current one is now the reissue; reissuing the old one again is refused
    assert issue_bulletin("monthly", world.district, Period.month(2026, 3)).pk == new.pk
    with pytest.raises(BulletinError):
        reissue(old, world.alice)


def test_diff_ignores_equal_snapshots() -> None:
    f = {"totals": {"batches": 1, "persons": 2}, "tables": [], "paragraphs": ["a"]}
    assert figures_diff(f, f) == []


def test_bad_period_is_refused(world: Any) -> None:
    with pytest.raises(BulletinError, match="整周"):
        issue_bulletin("weekly", world.district, Period.month(2026, 3))


def test_overdue_and_supervised_lists_mask_accusations(world: Any) -> None:
    from django.utils import timezone

    from xinfang.cases.models import Deadline
    from xinfang.supervision.models import SupervisionStep

    plain, secret, done, outside = bulk_cases(
        world,
        [
            (1, {"summary": "反映小区噪音扰民", "handling_unit": world.street}),
            (1, {"summary": "举报某干部收受好处", "purpose": "accusation"}),
            (1, {"summary": "已办结", "status": "closed"}),
            (1, {"summary": "他区事项", "office_unit": world.sibling}),
        ],
    )
    for c in (plain, secret, done):
        Deadline.objects.create(
            case=c,
            kind="accept",
            started_on=dt.date(2026, 3, 2),
            due_on=dt.date(2026, 3, 20),
            # closing a case cancels its open obligations (services.case_close)
            cancelled_at=timezone.now() if c is done else None,
        )
    Deadline.objects.create(  # a met deadline is not overdue
        case=outside,
        kind="accept",
        started_on=dt.date(2026, 3, 2),
        due_on=dt.date(2026, 3, 5),
        met_at=timezone.now(),
    )
    SupervisionStep.objects.create(
        case=plain,
        stage="supervise",
        unit=world.street,
        due_on=dt.date(2026, 3, 20),
        days_overdue=5,
        at=timezone.now(),
    )
    SupervisionStep.objects.create(case=plain, stage="urge", unit=world.street, at=timezone.now())
    f = build_figures("monthly", world.district, Period.month(2026, 3), today=TODAY)
    assert f["overdue"]["total"] == 2
    rows = {r["number"]: r for r in f["overdue"]["rows"]}
    assert rows[plain.number] == {
        "number": plain.number,
        "unit": "东湖街道",
        "due": "2026-03-20",
        "days": 17,
        "summary": "反映小区噪音扰民",
    }
    assert rows["（检举控告件）"]["summary"] == "【检举控告件，内容保密】"
    assert secret.number not in str(f) and "收受好处" not in str(f)
    assert f["supervised"]["total"] == 1
    assert f["supervised"]["rows"][0]["number"] == plain.number
    assert f["supervised"]["rows"][0]["stage"] == "督办"
    # the street's bulletin has the street's case only; the sibling's has none
    street = build_figures("monthly", world.street, Period.month(2026, 3), today=TODAY)
    assert [r["number"] for r in street["overdue"]["rows"]] == [plain.number]
    sib = build_figures("monthly", world.sibling, Period.month(2026, 3), today=TODAY)
    assert sib["overdue"]["total"] == 0
    html = render_html(f)
    assert plain.number in html and "【检举控告件，内容保密】" in html
