"""登记回执: the slip handed to the petitioner when a case is registered.

Not a numbered 公文 — no 发文字号, no snapshot: it is rebuilt from the case each time, so a
reprint shows the case's current time points. It tells the petitioner the case number and the
query code (查询码), who registered it (首问责任人), the office's address/phone/hours, what
happens next with the dates computed from the ``DeadlineRule`` table (worded as 预计 — each
step's clock starts when the previous one ends, so the later dates are the latest dates if
every step takes its full time), and how to follow it online: the portal URL
(``settings.XINFANG_PUBLIC_URL`` + ``/track/?code=<查询码>``) as text and as a QR code made
offline with ``segno`` (inline SVG in the HTML, PNG in the DOCX).

检举控告 (``case.is_confidential``): the receipt shows the number, the query code and the dates
only — no summary, no content, no name.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings

from xinfang.cases import deadlines
from xinfang.cases.models import Case, DeadlineKind, Status
from xinfang.documents.services import cn_date

K = DeadlineKind
SUMMARY_LIMIT = 120
NAMES_SHOWN = 3


def track_url(case: Case) -> str:
    base = str(getattr(settings, "XINFANG_PUBLIC_URL", "") or "http://127.0.0.1:8000")
    return f"{base.rstrip('/')}/track/?{urlencode({'code': case.query_code})}"


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str) -> str:
    """The QR code as an inline ``<svg>`` element (no XML declaration), 4 px per module."""
    return str(qr_code(url).svg_inline(scale=4, title="网上查询二维码"))


def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    qr_code(url).save(buf, kind="png", scale=8, border=2)
    return buf.getvalue()


def _latest(case: Case, kind: str) -> Any:
    return case.deadlines.filter(kind=kind).order_by("-started_on", "-id").first()


def _names(case: Case) -> str:
    names = [
        p.petitioner.name for p in case.parties.select_related("petitioner").order_by("order", "id")
    ]
    if not names:
        return ""
    shown = "、".join(names[:NAMES_SHOWN])
    total = max(case.headcount, len(names))
    return shown + (f"等{total}人" if total > len(names[:NAMES_SHOWN]) else "")


def _steps(case: Case) -> list[dict[str, Any]]:
    """What happens next: one row per step, with its (expected) last day."""
    registered = deadlines.local_date(case.registered_at)
    route = _latest(case, K.ROUTE)
    route_rule = deadlines.rule_for(K.ROUTE)
    accept_rule = deadlines.rule_for(K.ACCEPT)
    handle_rule = deadlines.rule_for(K.HANDLE)
    route_due = route.due_on if route else deadlines.due_date(K.ROUTE, registered)
    accept = _latest(case, K.ACCEPT)
    accept_due = accept.due_on if accept else deadlines.due_date(K.ACCEPT, route_due)
    handle = _latest(case, K.HANDLE)
    handle_due = handle.due_on if handle else deadlines.due_date(K.HANDLE, accept_due)
    steps = [
        {
            "what": f"登记后{route_rule.days}日内转送、交办有权处理机关，或者告知你不予受理的理由"
            "及应当向何处反映",
            "due": route_due,
            "expected": False,
            "done": bool(route and route.met_at),
        },
        {
            "what": f"有权处理机关收到后{accept_rule.days}日内决定是否受理，并书面告知你",
            "due": accept_due,
            "expected": accept is None,
            "done": bool(accept and accept.met_at),
        },
        {
            "what": f"受理之日起{handle_rule.days}日内办结，并出具书面答复意见"
            "（情况复杂的，经批准可以适当延长，并告知你延期理由）",
            "due": handle_due,
            "expected": handle is None,
            "done": bool(handle and handle.met_at),
        },
    ]
    ended = case.events.filter(kind__in=["inform", "refuse"]).order_by("-at").first()
    if ended is not None:
        # Not to be handled here: the later steps do not apply; the notice says where to go.
        what = "告知单" if ended.kind == "inform" else "不予受理告知书"
        steps = steps[: 1 if ended.kind == "inform" else 2]
        steps.append(
            {
                "what": f"已出具{what}，请按{what}所列机关和途径反映",
                "due": deadlines.local_date(ended.at),
                "expected": False,
                "done": False,
                "on": True,
            }
        )
    for step in steps:
        due = step["due"]
        assert isinstance(due, dt.date)
        if step.get("on"):
            step["due_text"] = f"{cn_date(due)}出具"
        else:
            step["due_text"] = ("预计" if step["expected"] else "") + cn_date(due) + "前"
    return steps


def receipt_data(case: Case) -> dict[str, Any]:
    """Everything the receipt prints (HTML and DOCX read only this)."""
    office = case.office_unit
    first = case.registered_by
    url = track_url(case)
    confidential = case.is_confidential
    summary = "" if confidential else case.summary[:SUMMARY_LIMIT]
    routed = case.status not in {Status.REGISTERED, Status.RETURNED}
    return {
        "title": "信访事项登记回执",
        "office": office.name,
        "office_address": office.address,
        "office_phone": office.phone,
        "office_hours": office.office_hours,
        "number": case.number,
        "query_code": case.query_code,
        "received": cn_date(deadlines.local_date(case.received_at)),
        "registered": cn_date(deadlines.local_date(case.registered_at)),
        "channel": case.get_channel_display(),  # type: ignore[attr-defined]
        "names": "" if confidential else _names(case),
        "summary": summary,
        "confidential": confidential,
        "first_handler": (first.get_full_name() or first.get_username()) if first else "",
        "status": case.get_status_display(),  # type: ignore[attr-defined]
        "routed": routed,
        "steps": _steps(case),
        "url": url,
        "portal_open": bool(getattr(settings, "XINFANG_PUBLIC_URL_SET", False)),
        "printed": cn_date(dt.date.today()),
    }


def receipt_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The label/value rows of the slip, in order (HTML table and DOCX table)."""
    rows = [
        ("事项编号", data["number"]),
        ("查询码", data["query_code"]),
        ("收到日期", data["received"]),
        ("登记日期", data["registered"]),
        ("来源渠道", data["channel"]),
    ]
    if data["confidential"]:
        rows.append(("事项类别", "检举控告（内容保密，本回执不记载反映内容）"))
    else:
        if data["names"]:
            rows.append(("信访人", data["names"]))
        if data["summary"]:
            rows.append(("反映问题", data["summary"]))
    rows.append(("登记单位", data["office"]))
    rows.append(("首问责任人", data["first_handler"]))
    return rows


def tracking_text(data: dict[str, Any]) -> str:
    if data["portal_open"]:
        return f"网上查询：扫描二维码或访问 {data['url']}，凭查询码查询办理进展。"
    return (
        f"网上查询（即将开通）：开通后扫描二维码或访问 {data['url']}，凭查询码查询办理进展；"
        "开通前请凭事项编号和查询码电话或到登记单位查询。"
    )


def receipt_docx(data: dict[str, Any]) -> bytes:
    """The slip as DOCX: A5 portrait, a label/value table, the steps, the QR code (PNG)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from xinfang.documents.wordfile import set_run_font

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(148), Mm(210)
    section.top_margin = section.bottom_margin = Mm(12)
    section.left_margin = section.right_margin = Mm(14)

    def para(text: str, role: str = "fangsong", size: float = 10.5, **kw: Any) -> Any:
        p = doc.add_paragraph()
        p.paragraph_format.space_after = Pt(2)
        if kw.get("center"):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_run_font(p.add_run(text), role, size, bold=bool(kw.get("bold")))
        return p

    para(data["office"], "xiaobiaosong", 14, center=True, bold=True)
    para(data["title"], "xiaobiaosong", 16, center=True, bold=True)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.autofit = False
    strong = {"事项编号", "查询码"}
    for label, value in receipt_lines(data):
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Mm(26), Mm(94)
        set_run_font(cells[0].paragraphs[0].add_run(label), "heiti", 10.5)
        set_run_font(cells[1].paragraphs[0].add_run(value), "fangsong", 10.5, bold=label in strong)
    table.columns[0].width, table.columns[1].width = Mm(26), Mm(94)
    heading = para("后续办理（时间节点）", "heiti", 11, bold=True)
    heading.paragraph_format.space_before = Pt(6)
    for i, step in enumerate(data["steps"], start=1):
        mark = "（已完成）" if step["done"] else ""
        para(f"{i}. {step['what']}：{step['due_text']}{mark}")
    para("以上“预计”日期按各环节用足法定期限推算，实际以书面告知为准。", size=9)
    para(tracking_text(data), size=10)
    pic = doc.add_paragraph()
    pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pic.add_run().add_picture(io.BytesIO(qr_png(data["url"])), width=Mm(28))
    contact = "，".join(
        x
        for x in (
            f"地址：{data['office_address']}" if data["office_address"] else "",
            f"电话：{data['office_phone']}" if data["office_phone"] else "",
            f"办公时间：{data['office_hours']}" if data["office_hours"] else "",
        )
        if x
    )
    if contact:
        para(contact, size=9)
    para(f"{data['office']}　{data['printed']}", size=10)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
