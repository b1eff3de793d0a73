"""The 答复意见书 templates as data: per 信访目的 the title, the opening, the mandatory parts with
guiding placeholder text, and the fixed legal paragraph on 复查 — plus the rule that names the
default 复查机关 and the composition of the text and of ``event.data["doc"]``.

复查机关 default rule (editable on each draft): the organ one level above the handling unit —
its parent unit; when that parent is a district/county (区/县) the organ is the district's
people's government ("示范区" → "示范区人民政府"); a unit without a parent names itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from xinfang.cases.models import Purpose
from xinfang.org.models import Unit, UnitType

LEGAL_PARAGRAPH = "如对本答复意见不服，可自收到本答复意见书之日起30日内，向{organ}书面请求复查。"
REREVIEW_PARAGRAPH = "如对本复查意见不服，可自收到本复查意见书之日起30日内，向{organ}书面请求复核。"
FINAL_PARAGRAPH = "本复核意见为终结意见，信访人以同一事实和理由再提出信访的，不再受理。"
MIN_PART = 10  # characters a mandatory part must have


@dataclass(frozen=True)
class Part:
    field: str
    heading: str
    placeholder: str


@dataclass(frozen=True)
class ReplyTemplate:
    code: str
    label: str
    title: str  # with {name}
    opening: str  # with {received}, {summary}, {accepted}
    parts: tuple[Part, ...]


OPENING = (
    "你（们）于{received}反映的{summary}问题，本机关于{accepted}受理。经调查核实，现答复如下："
)

TEMPLATES: dict[str, ReplyTemplate] = {
    Purpose.SUGGESTION: ReplyTemplate(
        Purpose.SUGGESTION,
        "建议意见",
        "关于{name}所提建议的答复意见书",
        OPENING,
        (
            Part(
                "facts",
                "一、建议的主要内容及研究情况",
                "概述建议的内容，写明调查、论证、征求意见的情况……",
            ),
            Part("basis", "二、处理依据", "写明研究采纳所依据的法律法规、政策文件及条款……"),
            Part(
                "decision", "三、处理意见", "写明是否采纳、采纳的方式和时间安排，不采纳的说明理由……"
            ),
        ),
    ),
    Purpose.ACCUSATION: ReplyTemplate(
        Purpose.ACCUSATION,
        "检举控告",
        "关于{name}反映问题的答复意见书",
        OPENING,
        (
            Part(
                "facts",
                "一、查明的事实",
                "写明核查的方式、经过和查明的事实，注意不得泄露检举控告人信息……",
            ),
            Part("basis", "二、处理依据", "写明认定和处理所依据的法律法规、党纪政纪条款……"),
            Part("decision", "三、处理意见", "写明对被检举控告对象的处理结果或移送情况……"),
        ),
    ),
    Purpose.APPEAL: ReplyTemplate(
        Purpose.APPEAL,
        "申诉求决",
        "关于{name}反映问题的答复意见书",
        OPENING,
        (
            Part("facts", "一、查明的事实", "写明调查核实的经过和查明的事实……"),
            Part("basis", "二、处理依据", "写明所依据的法律法规、政策文件及具体条款……"),
            Part("decision", "三、处理意见", "写明支持、部分支持或不支持诉求的意见及落实措施……"),
        ),
    ),
}

REVIEW_PARTS = (
    Part("facts", "一、复查（复核）查明的事实", "写明复查（复核）的经过和查明的事实……"),
    Part("basis", "二、依据", "写明所依据的法律法规、政策文件及条款……"),
    Part("decision", "三、意见", "写明维持、撤销或变更原处理意见及理由……"),
)

PART_LABELS = {"facts": "查明的事实", "basis": "处理依据", "decision": "处理意见"}


def template_for(purpose: str) -> ReplyTemplate:
    return TEMPLATES.get(purpose) or TEMPLATES[Purpose.APPEAL]


def default_review_organ(unit: Unit | None) -> str:
    """The organ that hears a 复查 of a reply by ``unit`` (rule in the module docstring)."""
    if unit is None:
        return ""
    parent = unit.parent
    if parent is None:
        return unit.name
    if parent.unit_type == UnitType.DISTRICT and not parent.name.endswith("政府"):
        return f"{parent.name}人民政府"
    return parent.name


def principal_name(case: Any) -> str:
    names = [
        link.petitioner.name
        for link in case.parties.select_related("petitioner").all()
        if link.role != "representative"
    ]
    if not names:
        return "信访人"
    return names[0] + ("等" if len(names) > 1 else "")


def title_name(case: Any) -> str:
    """Who a title names: a 检举控告件's titles (draft title, event text, the document's stored
    title, the API) never carry the accuser's name — only the printed 主送, behind the audited
    reveal of ``xinfang.documents``."""
    return "信访人" if case.is_confidential else principal_name(case)


def _addressee(case: Any) -> dict[str, str]:
    """``doc["to"]``: omitted for a 检举控告件 (``event.data`` and its text reach every reader
    of the case and the API unmasked); the document fills in the name when it is printed."""
    return {} if case.is_confidential else {"to": principal_name(case)}


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def accepted_on(case: Any) -> dt.date | None:
    from xinfang.cases.deadlines import local_date

    at = case.events.filter(kind="accept").order_by("-at").values_list("at", flat=True).first()
    return local_date(at) if at else None


def opening_for(case: Any) -> str:
    from xinfang.cases.deadlines import local_date

    accepted = accepted_on(case)
    summary = "有关" if case.is_confidential else f"“{case.summary.rstrip('。')}”"
    return OPENING.format(
        received=_cn_date(local_date(case.received_at)),
        summary=summary,
        accepted=_cn_date(accepted) if accepted else "×年×月×日",
    )


def reply_doc(draft: Any) -> dict[str, Any]:
    """``event.data["doc"]`` of the served reply (the shared contract's structure)."""
    tpl = template_for(draft.template)
    case = draft.case
    sections = [{"heading": "", "text": opening_for(case)}]
    sections += [{"heading": p.heading, "text": getattr(draft, p.field)} for p in tpl.parts]
    if draft.extra.strip():
        sections.append({"heading": "四、其他事项", "text": draft.extra.strip()})
    return {
        **_addressee(case),
        "organ": case.handling_unit.name if case.handling_unit else "",
        "title": draft.title,
        "sections": sections,
        "closing": LEGAL_PARAGRAPH.format(organ=draft.review_organ),
        "review_organ": draft.review_organ,
    }


def review_doc(case: Any, *, final: bool, facts: str, basis: str, decision: str) -> dict[str, Any]:
    """``event.data["doc"]`` of a 复查/复核 opinion; the deciding organ is the office."""
    organ = case.office_unit.name
    what = "复核" if final else "复查"
    sections = [
        {
            "heading": "",
            "text": f"你（们）对本事项的处理意见不服，提出{what}请求。"
            f"本机关依法进行了{what}，现提出{what}意见如下：",
        }
    ]
    for part, text in zip(REVIEW_PARTS, (facts, basis, decision), strict=True):
        if text.strip():
            sections.append({"heading": part.heading.replace("复查（复核）", what), "text": text})
    closing = (
        FINAL_PARAGRAPH
        if final
        else REREVIEW_PARAGRAPH.format(organ=default_review_organ(case.office_unit))
    )
    return {
        **_addressee(case),
        "organ": organ,
        "title": f"关于{title_name(case)}信访事项的{what}意见书",
        "sections": sections,
        "closing": closing,
    }


def compose_text(doc: dict[str, Any]) -> str:
    """The plain text of a document (the event text the timeline and the portal show)."""
    lines = [doc.get("title", ""), f"{doc.get('to', '')}：" if doc.get("to") else ""]
    for s in doc.get("sections", []):
        if s.get("heading"):
            lines.append(s["heading"])
        lines.append(s.get("text", ""))
    if doc.get("closing"):
        lines.append(doc["closing"])
    if doc.get("organ"):
        lines.append(doc["organ"])
    return "\n".join(line for line in lines if line)
