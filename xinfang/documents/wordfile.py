"""The DOCX of an issued document (python-docx), laid out as GB/T 9704-2012.

Page A4 with margins 37/35/28/26 mm; 22 lines of 28 characters (exact line pitch 28.95 pt and
a line document grid); every run names its East Asian font (``w:eastAsia``) — the official
face first, the Debian fallback recorded as ``w:altName`` in the font table — and its size;
page numbers "— 1 —" in 4号宋体, odd pages right, even pages left, one character in.
Rendered from ``IssuedDocument.body`` only, so every download is the same document.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from xinfang.documents import fonts as F

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
INDENT_2 = Pt(F.SIZE_BODY * 2)  # 首行缩进二字


def set_run_font(
    run: Run, role: str, size: float, *, bold: bool = False, red: bool = False
) -> None:
    """Font of one run: East Asian face (w:eastAsia) and Latin face, size, weight, colour."""
    run.font.name = F.LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    if red:
        run.font.color.rgb = RGBColor.from_string(F.RED)
    r_pr = run._r.get_or_add_rPr()
    r_fonts = r_pr.find(qn("w:rFonts"))
    if r_fonts is None:
        r_fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, r_fonts)
    r_fonts.set(qn("w:eastAsia"), F.first(role))
    r_fonts.set(qn("w:ascii"), F.LATIN)
    r_fonts.set(qn("w:hAnsi"), F.LATIN)


def _spacing(paragraph: Paragraph, *, before: float = 0, after: float = 0) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(F.LINE_PITCH_PT)
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)


def _para(
    doc: Any,
    text: str,
    role: str = "fangsong",
    size: float = F.SIZE_BODY,
    *,
    align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: Any = INDENT_2,
    bold: bool = False,
    red: bool = False,
    right_indent: Any = None,
) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.alignment = align
    _spacing(paragraph)
    paragraph.paragraph_format.first_line_indent = indent
    if right_indent is not None:
        paragraph.paragraph_format.right_indent = right_indent
    if text:
        set_run_font(paragraph.add_run(text), role, size, bold=bold, red=red)
    return paragraph


def _border_bottom(paragraph: Paragraph, *, color: str, size_eighths: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(size_eighths))
    bottom.set(qn("w:space"), "1")
    bottom.set(qn("w:color"), color)
    borders.append(bottom)
    p_pr.append(borders)


def _border_top(paragraph: Paragraph, *, size_eighths: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    top.set(qn("w:val"), "single")
    top.set(qn("w:sz"), str(size_eighths))
    top.set(qn("w:space"), "1")
    top.set(qn("w:color"), "000000")
    borders.append(top)
    p_pr.append(borders)


def _field(paragraph: Paragraph, instruction: str, role: str, size: float) -> None:
    """A field (``PAGE``) as begin/instr/separate/result/end runs."""
    for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("text", "1")):
        run = paragraph.add_run()
        set_run_font(run, role, size)
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run._r.append(instr)
        elif kind == "text":
            run.text = text or ""
        else:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
    end = paragraph.add_run()
    set_run_font(end, role, size)
    fld = OxmlElement("w:fldChar")
    fld.set(qn("w:fldCharType"), "end")
    end._r.append(fld)


def _page_number(paragraph: Paragraph, *, odd: bool) -> None:
    """— 1 —: 4号半角宋体, odd pages right, even pages left, one character (4号) in."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    if odd:
        fmt.right_indent = Pt(F.SIZE_PAGE_NUMBER)
    else:
        fmt.left_indent = Pt(F.SIZE_PAGE_NUMBER)
    set_run_font(paragraph.add_run("— "), "song", F.SIZE_PAGE_NUMBER)
    _field(paragraph, "PAGE", "song", F.SIZE_PAGE_NUMBER)
    set_run_font(paragraph.add_run(" —"), "song", F.SIZE_PAGE_NUMBER)


def _page_setup(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width = Mm(F.PAGE_MM[0])
    section.page_height = Mm(F.PAGE_MM[1])
    section.top_margin = Mm(F.MARGINS_MM["top"])
    section.bottom_margin = Mm(F.MARGINS_MM["bottom"])
    section.left_margin = Mm(F.MARGINS_MM["left"])
    section.right_margin = Mm(F.MARGINS_MM["right"])
    section.footer_distance = Mm(28 - 7)  # 页码: 一字线上距版心下边缘 7 mm
    # Document grid: 22 lines per page (line pitch in twentieths of a point).
    sect_pr = section._sectPr
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect_pr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(F.LINE_PITCH_PT * 20)))
    doc.settings.odd_and_even_pages_header_footer = True
    footer_odd = section.footer.paragraphs[0]
    _page_number(footer_odd, odd=True)
    footer_even = section.even_page_footer.paragraphs[0]
    _page_number(footer_even, odd=False)


def _default_style(doc: Any) -> None:
    style = doc.styles["Normal"]
    style.font.name = F.LATIN
    style.font.size = Pt(F.SIZE_BODY)
    r_fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), F.first("fangsong"))
    style.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    style.paragraph_format.line_spacing = Pt(F.LINE_PITCH_PT)


def _font_table_fallbacks(doc: Any) -> None:
    """Name each official face in the font table with its Debian fallback (``w:altName``), so
    a word processor without the official font substitutes the packaged one."""
    for rel in doc.part.rels.values():
        if not rel.reltype.endswith("/fontTable"):
            continue
        part = rel.target_part
        root = etree.fromstring(part.blob)
        present = {el.get(qn("w:name")) for el in root.findall(qn("w:font"))}
        for role in F.FONTS:
            name = F.first(role)
            if name in present:
                continue
            font = etree.SubElement(root, qn("w:font"))
            font.set(qn("w:name"), name)
            alt = etree.SubElement(font, qn("w:altName"))
            alt.set(qn("w:val"), F.fallback(role))
            charset = etree.SubElement(font, qn("w:charset"))
            charset.set(qn("w:val"), "86")  # GB2312
            present.add(name)
        part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _text_width(text: str) -> float:
    """Width in 3号 characters: CJK full width, ASCII half."""
    return sum(0.5 if ord(ch) < 128 else 1.0 for ch in text)


def render_docx(body: dict[str, Any]) -> bytes:
    doc = Document()
    _default_style(doc)
    _page_setup(doc)
    center = WD_ALIGN_PARAGRAPH.CENTER
    # 版头: 发文机关标志 (red 小标宋), 发文字号, red separator line.
    first = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    first.alignment = center
    first.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    set_run_font(first.add_run(body.get("organ", "")), "xiaobiaosong", F.SIZE_ORGAN, red=True)
    _para(doc, "", indent=None)
    number = _para(doc, body.get("number", ""), align=center, indent=None)
    _border_bottom(number, color=F.RED, size_eighths=12)  # 版头分隔线 (red)
    _para(doc, "", indent=None)  # 标题 two lines below the separator line
    _para(doc, "", indent=None)
    # 标题 2号小标宋 centred; one blank line after.
    _para(doc, body.get("title", ""), "xiaobiaosong", F.SIZE_TITLE, align=center, indent=None)
    _para(doc, "", indent=None)
    if body.get("to"):
        _para(doc, body["to"], align=WD_ALIGN_PARAGRAPH.LEFT, indent=None)  # 主送机关 顶格
    for item in body.get("paragraphs", []):
        heading, text, level = item.get("heading", ""), item.get("text", ""), item.get("level", 0)
        if heading:
            role = {1: "heiti", 2: "kaiti"}.get(level, "fangsong")
            _para(doc, heading, role, bold=level == 3)
        for line in str(text).splitlines():
            if line.strip():
                _para(doc, line.strip())
    if body.get("closing"):
        _para(doc, body["closing"])
    # 署名 and 成文日期: the date 右空四字, the name centred over it (seal area).
    _para(doc, "", indent=None)
    _para(doc, "", indent=None)
    date = body.get("date", "")
    seal = body.get("seal", "")
    offset = 4 + max(_text_width(date) - _text_width(seal), 0) / 2
    _para(
        doc,
        seal,
        align=WD_ALIGN_PARAGRAPH.RIGHT,
        indent=None,
        right_indent=Pt(F.SIZE_BODY * offset),
    )
    _para(doc, date, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=None, right_indent=Pt(F.SIZE_BODY * 4))
    if body.get("note"):
        _para(doc, body["note"])  # 附注: 居左空二字加圆括号
    # 版记: 抄送, 印发机关 and 印发日期 between lines (4号仿宋).
    _para(doc, "", indent=None)
    if body.get("cc"):
        cc = _para(
            doc,
            f"抄送：{body['cc']}",
            size=F.SIZE_RECORD,
            indent=Pt(F.SIZE_RECORD),
            align=WD_ALIGN_PARAGRAPH.LEFT,
        )
        _border_top(cc, size_eighths=4)
    record = _para(doc, "", size=F.SIZE_RECORD, indent=None, align=WD_ALIGN_PARAGRAPH.LEFT)
    _border_top(record, size_eighths=8)
    _border_bottom(record, color="000000", size_eighths=8)
    record.paragraph_format.left_indent = Pt(F.SIZE_RECORD)
    record.paragraph_format.right_indent = Pt(F.SIZE_RECORD)
    set_run_font(record.add_run(body.get("printer", "")), "fangsong", F.SIZE_RECORD)
    tab_stops = record.paragraph_format.tab_stops
    width_pt = (F.PAGE_MM[0] - F.MARGINS_MM["left"] - F.MARGINS_MM["right"]) / F.MM_PER_PT
    from docx.enum.text import WD_TAB_ALIGNMENT

    tab_stops.add_tab_stop(Pt(width_pt - F.SIZE_RECORD), WD_TAB_ALIGNMENT.RIGHT)
    set_run_font(record.add_run(f"\t{body.get('print_date', '')}印发"), "fangsong", F.SIZE_RECORD)
    _font_table_fallbacks(doc)
    doc.core_properties.title = body.get("title", "")
    doc.core_properties.subject = body.get("number", "")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
