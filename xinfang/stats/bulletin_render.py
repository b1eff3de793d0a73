"""The files of a bulletin, drawn from its snapshot (``bulletins.build_figures``) only.

- HTML (``stats/bulletin_doc.html``, A4 print CSS): the detail page and the PDF source; charts
  as inline SVG (``stats.charts``).
- PDF: WeasyPrint from that HTML, offline (``base_url=None``, no external URL), Noto CJK fonts.
- DOCX: python-docx in the house style of ``documents.wordfile`` (East Asian font per run, A4
  page setup); charts as PNG.
- XLSX: XlsxWriter, one sheet per table with header and % formats, a native chart on the
  channel sheet.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from xinfang.stats.charts import Chart


def cn_date(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def cell_text(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    return str(value)


def charts(figures: dict[str, Any]) -> list[Chart]:
    """The bulletin's charts: channels (批次/人次), trend, top categories."""
    out = []
    tables = {t["key"]: t for t in figures.get("tables", [])}
    ch = tables.get("channel")
    if ch:
        rows = [r for r in ch["rows"] if r["cells"][1] or r["cells"][2]] or ch["rows"]
        out.append(
            Chart.of(
                "bar",
                "各渠道信访量",
                [r["cells"][0] for r in rows],
                {"批次": [r["cells"][1] for r in rows], "人次": [r["cells"][2] for r in rows]},
                height=2.8,
            )
        )
    tr = figures.get("trend")
    if tr and tr.get("labels"):
        title = "近12个月信访量" if figures.get("kind") == "monthly" else "近8周信访量"
        out.append(
            Chart.of(
                "line",
                title,
                tr["labels"],
                {"批次": tr["batches"], "人次": tr["persons"]},
                height=2.6,
            )
        )
    cat = tables.get("category")
    if cat and cat["rows"]:
        out.append(
            Chart.of(
                "hbar",
                "信访量较多的内容分类（批次）",
                [r["cells"][0] for r in cat["rows"]],
                {"批次": [r["cells"][1] for r in cat["rows"]]},
                height=max(1.6, 0.3 * len(cat["rows"]) + 0.8),
            )
        )
    return out


def _view_tables(figures: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    numerals = "一二三四五六七八九十"
    for i, t in enumerate(figures.get("tables", [])):
        kinds = [c["type"] for c in t["columns"]]
        rows = [
            [(cell_text(v, k), k != "text") for v, k in zip(r["cells"], kinds, strict=False)]
            for r in t["rows"]
        ]
        total = [
            (cell_text(v, k), k != "text") for v, k in zip(t["total"] or [], kinds, strict=False)
        ]
        out.append(
            {
                **t,
                "heading": f"（{numerals[i]}）{t['title']}",
                "kinds": kinds,
                "text_rows": rows,
                "text_total": total,
            }
        )
    return out


def _unique_ids(svg: str, n: int) -> Any:
    """Several charts inline in one page: matplotlib's element ids repeat across charts."""
    prefix = f"b{n}-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = svg.replace("url(#", f"url(#{prefix}").replace('href="#', f'href="#{prefix}')
    return mark_safe(svg)


def _img(chart: Chart) -> Any:
    """On a page: an <img> of a data: URI — matplotlib styles shapes with style="…", which
    the page's CSP (style-src 'self') blocks when inline (the charts turn black)."""
    from django.utils.html import format_html

    data = base64.b64encode(chart.svg().encode("utf-8")).decode("ascii")
    return format_html(
        '<img src="data:image/svg+xml;base64,{}" alt="{}" class="chart-img">', data, chart.alt
    )


def doc_context(figures: dict[str, Any], *, page: bool = True) -> dict[str, Any]:
    """Template context of ``stats/bulletin_doc.html``: charts as images for a page
    (``page``), inline SVG for the PDF source (WeasyPrint, no CSP)."""
    drawn = charts(figures)
    return {
        "f": figures,
        "as_of": cn_date(figures["as_of"]),
        "tables": _view_tables(figures),
        "charts": [_img(c) for c in drawn]
        if page
        else [_unique_ids(c.svg(), i) for i, c in enumerate(drawn)],
    }


def render_html(figures: dict[str, Any], *, standalone: bool = True) -> str:
    """The bulletin as HTML: a whole A4 document (``standalone``, the PDF source) or the
    fragment the detail page includes."""
    ctx = doc_context(figures, page=not standalone)
    ctx["standalone"] = standalone
    return render_to_string("stats/bulletin_doc.html", ctx)


def render_pdf(figures: dict[str, Any]) -> bytes:
    from django.conf import settings
    from PIL import ImageFile
    from weasyprint import CSS, HTML

    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import; the upload checks
    # (cases.attachments) rely on truncated images being refused. Our bulletins embed only
    # images we drew, so the strict default is put back.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    sheet = CSS(filename=str(settings.BASE_DIR / "static" / "css" / "bulletin_pdf.css"))
    pdf: bytes = HTML(string=render_html(figures), base_url=None).write_pdf(stylesheets=[sheet])
    return pdf


# --- DOCX ------------------------------------------------------------------------------------


def render_docx(figures: dict[str, Any]) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from xinfang.documents import fonts as F
    from xinfang.documents.wordfile import (
        INDENT_2,
        _default_style,
        _page_setup,
        _para,
        set_run_font,
    )

    doc = Document()
    _page_setup(doc)
    _default_style(doc)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, figures["title"], "xiaobiaosong", F.SIZE_TITLE, align=center, indent=0)
    _para(doc, f"（{figures['number']}）", "kaiti", F.SIZE_BODY, align=center, indent=0)
    _para(doc, f"统计期：{figures['period']['range']}", "kaiti", 14, align=center, indent=0)
    _para(doc, "")
    _para(doc, "一、基本情况", "heiti", F.SIZE_BODY, indent=INDENT_2)
    for text in figures["paragraphs"]:
        _para(doc, text)

    def heading(text: str, role: str = "kaiti") -> None:
        _para(doc, text, role, F.SIZE_BODY, indent=INDENT_2).paragraph_format.keep_with_next = True

    def table(t: dict[str, Any]) -> None:
        """A grid whose first row repeats on every page it runs onto, whose rows never split,
        and which stays whole on one page when it fits (keep-with-next on all rows but the
        last: a heading is never left at the foot of a page without its table)."""
        from docx.oxml import OxmlElement

        kinds = [c["type"] for c in t["columns"]]
        grid = doc.add_table(rows=1, cols=len(kinds))
        grid.style = "Table Grid"
        for i, c in enumerate(t["columns"]):
            cell = grid.rows[0].cells[i]
            cell.text = ""
            set_run_font(cell.paragraphs[0].add_run(c["label"]), "heiti", 10.5)
        body = [r["cells"] for r in t["rows"]] + ([t["total"]] if t["total"] else [])
        for row in body:
            cells = grid.add_row().cells
            for i, (v, k) in enumerate(zip(row, kinds, strict=False)):
                cells[i].text = ""
                p = cells[i].paragraphs[0]
                if k != "text":
                    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                set_run_font(p.add_run(cell_text(v, k)), "fangsong", 10.5)
        for n, r in enumerate(grid.rows):
            tr_pr = r._tr.get_or_add_trPr()
            for tag in ("w:cantSplit", "w:tblHeader") if n == 0 else ("w:cantSplit",):
                tr_pr.append(OxmlElement(tag))
            for c in r.cells:
                for p in c.paragraphs:
                    p.paragraph_format.space_after = Pt(0)
                    p.paragraph_format.line_spacing = 1.0
                    p.paragraph_format.keep_with_next = n < len(grid.rows) - 1

    heading("二、统计表", "heiti")
    for view in _view_tables(figures):
        heading(view["heading"])
        if view["rows"] or view["total"]:
            table(view)
        else:
            _para(doc, "本期无。")
        if view.get("note"):
            _para(doc, f"注：{view['note']}", "fangsong", 10.5, indent=0)
    heading("三、图表", "heiti")
    for chart in charts(figures):
        doc.add_picture(io.BytesIO(chart.png(dpi=150)), width=Mm(150))
    for key, title in (("overdue", "四、超期未办结事项"), ("supervised", "五、督办事项")):
        block = figures[key]
        heading(f"{title}（截至{cn_date(figures['as_of'])}，共{block['total']}件）", "heiti")
        if not block["rows"]:
            _para(doc, "无。")
            continue
        cols = ["编号", "责任单位", "届满日", "超期天数", "诉求摘要"]
        t = {
            "columns": [{"label": c, "type": "text"} for c in cols],
            "rows": [
                {"cells": [r["number"], r["unit"], r["due"], str(r["days"]), r["summary"]]}
                for r in block["rows"]
            ],
            "total": None,
        }
        table(t)
        if block["total"] > len(block["rows"]):
            _para(doc, f"（仅列前{len(block['rows'])}件）", "fangsong", 10.5, indent=0)
    _para(doc, "")
    _para(doc, figures["unit"]["name"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=0)
    _para(doc, cn_date(figures["as_of"]), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=0)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- XLSX ------------------------------------------------------------------------------------


def render_xlsx(figures: dict[str, Any]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties({"title": figures["title"], "comments": figures["number"]})
    title = wb.add_format({"bold": True, "font_size": 14, "font_name": "Noto Sans CJK SC"})
    head = wb.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "align": "center"})
    text = wb.add_format({"border": 1})
    num = wb.add_format({"border": 1, "num_format": "#,##0"})
    pct = wb.add_format({"border": 1, "num_format": "0.0%"})
    bold = wb.add_format({"border": 1, "bold": True})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})

    summary = wb.add_worksheet("概况")
    summary.set_column(0, 0, 110)
    summary.write(0, 0, f"{figures['title']}（{figures['number']}）", title)
    summary.write(1, 0, f"统计期：{figures['period']['range']}")
    for i, p in enumerate(figures["paragraphs"]):
        summary.write(3 + i, 0, p, wrap)

    for t in figures["tables"]:
        ws = wb.add_worksheet(t["title"][:31].replace("（", "(").replace("）", ")")[:31])
        ws.write(0, 0, t["title"], title)
        kinds = [c["type"] for c in t["columns"]]
        for j, c in enumerate(t["columns"]):
            ws.write(2, j, c["label"], head)
            ws.set_column(j, j, 22 if kinds[j] == "text" else 12)
        body = [r["cells"] for r in t["rows"]]
        if t["total"]:
            body.append(t["total"])
        for i, row in enumerate(body, start=3):
            last = t["total"] and i == 2 + len(body)
            for j, (v, k) in enumerate(zip(row, kinds, strict=False)):
                if v is None:
                    ws.write_blank(i, j, None, text)
                elif k == "int":
                    ws.write_number(i, j, v, bold if last else num)
                elif k == "pct":
                    ws.write_number(i, j, float(v), pct)
                else:
                    ws.write_string(i, j, str(v), bold if last else text)
        if t.get("note"):
            ws.write(4 + len(body), 0, f"注：{t['note']}")
        if t["key"] == "channel" and t["rows"]:
            chart = wb.add_chart({"type": "column"})
            n = len(t["rows"])
            for col, name in ((1, "批次"), (2, "人次")):
                chart.add_series(
                    {
                        "name": name,
                        "categories": [ws.name, 3, 0, 2 + n, 0],
                        "values": [ws.name, 3, col, 2 + n, col],
                    }
                )
            chart.set_title({"name": "各渠道信访量"})
            ws.insert_chart(6 + len(body), 0, chart)

    for key, label in (("overdue", "超期未办结"), ("supervised", "督办事项")):
        ws = wb.add_worksheet(label)
        block = figures[key]
        ws.write(0, 0, f"{label}（截至{cn_date(figures['as_of'])}，共{block['total']}件）", title)
        cols = ["编号", "责任单位", "届满日", "超期天数", "诉求摘要"]
        for j, c in enumerate(cols):
            ws.write(2, j, c, head)
        ws.set_column(0, 1, 20)
        ws.set_column(4, 4, 50)
        for i, r in enumerate(block["rows"], start=3):
            ws.write_string(i, 0, r["number"], text)
            ws.write_string(i, 1, r["unit"], text)
            ws.write_string(i, 2, r["due"], text)
            ws.write_number(i, 3, r["days"], num)
            ws.write_string(i, 4, r["summary"], text)
    wb.close()
    return buf.getvalue()
