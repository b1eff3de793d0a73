"""Issuing official documents (公文) for case events: ``document_for_event``.

Every document kind belongs to one event kind (``DOCUMENT_KINDS``). The first call for an event
draws the 发文字号 from the gap-free ``DocumentCounter`` and stores the rendered body as a
snapshot (``IssuedDocument.body``); later calls return the same row, so a reprint is identical.
The body is built from ``event.data["doc"]`` when a service supplied one (答复意见书, 复查/复核
意见书 from the reply workflow), else from the case and the event (the unit, the deadline dates
of the case's ``Deadline`` rows, the event's text).

Body snapshot (what ``render`` and ``wordfile`` read, nothing else)::

    {"organ": 发文机关, "number": 发文字号, "doc_type": 文种, "title": 标题, "to": 主送机关,
     "paragraphs": [{"level": 0|1|2|3, "heading": "一、…", "text": "…"}, …],
     "closing": 结语, "date": "2026年1月5日", "seal": 署名（印章处）,
     "note": 附注, "cc": 抄送, "printer": 印发机关, "print_date": 印发日期,
     "case_number": 事项编号, "confidential": bool}

``level`` 0 is an ordinary body paragraph; 1 一、 (黑体), 2 （一） (楷体), 3 1. (仿宋 bold).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import Case, CaseEvent, Deadline, DeadlineKind
from xinfang.core.errors import DomainError
from xinfang.documents.models import DocumentCounter, IssuedDocument
from xinfang.org.models import Unit

K = DeadlineKind


@dataclass(frozen=True)
class DocSpec:
    code: str  # IssuedDocument.kind
    name: str  # 文种 (the document's title ends with it)
    mark: str  # in the 发文字号 after the 机关代字: 区信访局交〔2026〕3号
    issuer: str  # "office" (petition office) or "unit" (the handling unit)


DOCUMENT_KINDS: dict[str, DocSpec] = {
    "assign": DocSpec("assignment", "交办单", "交", "office"),
    "forward": DocSpec("forwarding", "转送函", "转", "office"),
    "reply": DocSpec("reply", "答复意见书", "答", "unit"),
    "supervise": DocSpec("supervision", "督办单", "督", "office"),
    "urge": DocSpec("urging", "催办单", "催", "office"),
    "instruction_urge": DocSpec("urging", "催办单", "催", "office"),
    "decide_review": DocSpec("review", "复查意见书", "复查", "office"),
    "decide_rereview": DocSpec("rereview", "复核意见书", "复核", "office"),
    "extension_notice": DocSpec("extension", "延期办理告知书", "延", "unit"),
    "inform": DocSpec("inform", "告知单", "告", "office"),
    "accept": DocSpec("acceptance", "受理告知书", "受", "unit"),
    "refuse": DocSpec("refusal", "不予受理告知书", "不受", "unit"),
}

# IssuedDocument.kind → 文种, for lists and the API.
KIND_NAMES: dict[str, str] = {spec.code: spec.name for spec in DOCUMENT_KINDS.values()}

DEADLINE_LABELS: dict[str, str] = {
    K.ROUTE: "登记转送交办期限",
    K.ACCEPT: "受理告知期限",
    K.HANDLE: "办理答复期限",
    K.REVIEW_DECIDE: "复查办理期限",
    K.REREVIEW_DECIDE: "复核办理期限",
}
PARAGRAPH_LIMIT = 60
TEXT_LIMIT = 20_000


def cn_date(day: dt.date | None) -> str:
    """2026年1月5日 (GB/T 9704-2012 7.3.5.4: Arabic numerals, no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def heading_level(heading: str) -> int:
    """一、 → 1, （一） → 2, 1. / 1． → 3, anything else → 1 (a heading is at least level 1)."""
    heading = heading.strip()
    if re.match(r"^[一二三四五六七八九十]+、", heading):
        return 1
    if re.match(r"^[（(][一二三四五六七八九十]+[)）]", heading):
        return 2
    if re.match(r"^\d+[.．]", heading):
        return 3
    return 1


# --- numbering ------------------------------------------------------------------------------


def _counter_next(prefix: str, year: int) -> int:
    """The next number of ``prefix``/``year``, as ``registration._counter_next`` issues case
    numbers: one ``UPDATE … RETURNING`` (row lock on PostgreSQL, the write lock on SQLite), the
    row created on the year's first number. Runs in the caller's transaction: a rollback gives
    the number back, so the sequence has no gaps."""
    connection = connections[router.db_for_write(DocumentCounter)]
    table = DocumentCounter._meta.db_table
    for _attempt in range(2):
        if connection.features.can_return_columns_from_insert:
            qn = connection.ops.quote_name
            sql = (
                f"UPDATE {qn(table)} SET {qn('last')} = {qn('last')} + 1 "
                f"WHERE {qn('prefix')} = %s AND {qn('year')} = %s RETURNING {qn('last')}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [prefix, year])
                row = cursor.fetchone()
            if row is not None:
                return int(row[0])
        elif DocumentCounter.objects.filter(prefix=prefix, year=year).update(last=F("last") + 1):
            return DocumentCounter.objects.values_list("last", flat=True).get(
                prefix=prefix, year=year
            )
        try:
            with transaction.atomic(using=connection.alias):
                DocumentCounter.objects.create(prefix=prefix, year=year, last=1)
            return 1
        except IntegrityError:
            continue  # created a moment ago by another clerk: increment theirs
    raise IntegrityError(f"document counter {prefix}/{year} could not be created")


def organ_code(unit: Unit) -> str:
    """机关代字: the unit's 简称, else its name."""
    return (unit.short_name or unit.name).strip()


def number_prefix(unit: Unit, spec: DocSpec) -> str:
    return f"{organ_code(unit)}{spec.mark}"


def format_number(prefix: str, year: int, seq: int) -> str:
    """发文字号: 机关代字 + 〔年份〕 (六角括号) + 序号 (no leading zeros) + 号."""
    return f"{prefix}〔{year}〕{seq}号"


# --- building the body ----------------------------------------------------------------------


def _issuer(event: CaseEvent, spec: DocSpec) -> Unit:
    case = event.case
    if event.actor_unit_id is not None:
        return event.actor_unit  # type: ignore[return-value]
    if spec.issuer == "unit" and case.handling_unit_id is not None:
        return case.handling_unit  # type: ignore[return-value]
    return case.office_unit


def _petitioner_name(case: Case) -> str:
    party = case.parties.select_related("petitioner").order_by("order", "id").first()
    return party.petitioner.name if party else "信访人"


def _deadline_at(case: Case, kind: str, day: dt.date) -> Deadline | None:
    """The ``kind`` deadline in force on ``day``: the latest opened on or before it."""
    return (
        case.deadlines.filter(kind=kind, started_on__lte=day).order_by("-started_on", "-id").first()
    )


def _unit_name(event: CaseEvent, case: Case) -> str:
    name = event.data.get("unit") if isinstance(event.data, dict) else None
    if name:
        return str(name)
    return case.handling_unit.name if case.handling_unit_id else ""  # type: ignore[union-attr]


def _case_facts(case: Case) -> str:
    parts = [
        f"事项编号：{case.number}",
        f"信访人：{_petitioner_name(case)}"
        + (f"等{case.headcount}人" if case.headcount > 1 else ""),
        f"来源渠道：{case.get_channel_display()}",  # type: ignore[attr-defined]
        f"收到日期：{cn_date(deadlines.local_date(case.received_at))}",
    ]
    if case.place_name:
        parts.append(f"问题属地：{case.place_name}")
    parts.append(f"诉求摘要：{case.summary}")
    return "\n".join(parts)


def _p(text: str, heading: str = "", level: int | None = None) -> dict[str, Any]:
    lvl = level if level is not None else (heading_level(heading) if heading else 0)
    return {"level": lvl, "heading": heading, "text": text}


def _routing(event: CaseEvent, case: Case, spec: DocSpec) -> dict[str, Any]:
    day = deadlines.local_date(event.at)
    unit = _unit_name(event, case)
    accept = _deadline_at(case, K.ACCEPT, day)
    accept_due = accept.due_on if accept else deadlines.due_date(K.ACCEPT, day)
    handle = _deadline_at(case, K.HANDLE, day) if case.deadlines.filter(kind=K.HANDLE) else None
    handle_rule = deadlines.rule_for(K.HANDLE)
    latest = handle.due_on if handle else deadlines.due_date(K.HANDLE, accept_due)
    verb = "交由你单位办理" if spec.code == "assignment" else "转送你单位依法处理"
    intro = (
        f"现将{case.number}号信访事项{verb}。请按照《信访工作条例》的规定，"
        f"于{cn_date(accept_due)}前决定是否受理并书面告知信访人；"
        f"受理后{handle_rule.days}日内办结，并将办理结果报送我单位。"
    )
    limits = [
        f"受理期限：{cn_date(accept_due)}前",
        f"办结期限：自受理之日起{handle_rule.days}日内（最迟{cn_date(latest)}）",
    ]
    paragraphs = [
        _p(intro),
        _p(_case_facts(case), "一、信访事项基本情况"),
        _p("\n".join(limits), "二、办理期限"),
    ]
    if event.text:
        paragraphs.append(
            _p(event.text, "三、交办意见" if spec.code == "assignment" else "三、转送说明")
        )
    return {
        "to": f"{unit}：" if unit else "",
        "paragraphs": paragraphs,
        "closing": "特此" + ("交办。" if spec.code == "assignment" else "函告。"),
        "cc": "",
        "limits": {"accept_due": accept_due.isoformat(), "handle_due": latest.isoformat()},
    }


def _overdue(event: CaseEvent, case: Case, spec: DocSpec) -> dict[str, Any]:
    """督办单 / 催办单: the deadline from the event's data (sweeps record it), else the case's
    earliest open obligation deadline."""
    data = event.data if isinstance(event.data, dict) else {}
    day = deadlines.local_date(event.at)
    due = _date(data.get("due_on"))
    kind_label = DEADLINE_LABELS.get(str(data.get("deadline_kind", "")), "办理期限")
    if event.kind == "instruction_urge":
        kind_label = "领导批示办理期限"
    if due is None:
        row = (
            case.deadlines.filter(deadlines.unmet_filter(), kind__in=list(DEADLINE_LABELS))
            .order_by("due_on")
            .first()
        )
        if row is not None:
            due = row.due_on
            kind_label = DEADLINE_LABELS.get(row.kind, kind_label)
    days = data.get("days_overdue")
    if not isinstance(days, int):
        days = (day - due).days if due else 0
    unit = _unit_name(event, case)
    if days > 0:
        state = f"已于{cn_date(due)}届满，现已超期{days}日"
    elif days == 0:
        state = f"于今日（{cn_date(due)}）届满"
    else:
        state = f"将于{cn_date(due)}届满，尚余{-days}日"
    what = "督办" if spec.code == "supervision" else "催办"
    intro = (
        f"{case.number}号信访事项（{case.summary}）由你单位办理，其{kind_label}{state}。"
        f"现予{what}，请你单位抓紧办理，"
        + (
            "于收到本督办单之日起5个工作日内办结，并将办理情况及超期原因书面报送我单位。"
            if spec.code == "supervision"
            else "按期办结并及时报送办理结果。"
        )
    )
    facts = [f"事项编号：{case.number}", f"{kind_label}届满日：{cn_date(due)}"]
    facts.append(f"超期天数：{days}日" if days > 0 else f"剩余天数：{max(-days, 0)}日")
    paragraphs = [_p(intro), _p("\n".join(facts), f"一、{what}事项")]
    if event.text:
        paragraphs.append(_p(event.text, "二、具体要求"))
    return {
        "to": f"{unit}：" if unit else "",
        "paragraphs": paragraphs,
        "closing": f"特此{what}。",
        "cc": "",
        "limits": {"due_on": due.isoformat() if due else "", "days_overdue": days},
    }


def _review_organ(case: Case) -> str:
    unit = case.handling_unit or case.office_unit
    parent = unit.parent if unit is not None else None
    return parent.name if parent is not None else case.office_unit.name


def _to_petitioner(event: CaseEvent, case: Case, spec: DocSpec) -> dict[str, Any]:
    name = _petitioner_name(case)
    received = cn_date(deadlines.local_date(case.received_at))
    data = event.data if isinstance(event.data, dict) else {}
    opening = f"你于{received}反映的“{case.summary}”问题（事项编号{case.number}），"
    paragraphs: list[dict[str, Any]] = []
    closing = ""
    if spec.code == "reply":
        paragraphs.append(_p(opening + "我单位已依法受理并调查核实。现答复如下："))
        paragraphs.append(_p(event.text))
        paragraphs.append(
            _p(
                f"如对本答复意见不服，可以自收到本答复意见书之日起30日内，"
                f"向{_review_organ(case)}请求复查。"
            )
        )
    elif spec.code == "review":
        paragraphs.append(_p(opening + "你不服原办理意见，请求复查。经复查，意见如下："))
        paragraphs.append(_p(event.text))
        paragraphs.append(
            _p(
                "如对本复查意见不服，可以自收到本复查意见书之日起30日内，"
                "向复查机关的上一级行政机关请求复核。"
            )
        )
    elif spec.code == "rereview":
        paragraphs.append(_p(opening + "你不服复查意见，请求复核。经复核，意见如下："))
        paragraphs.append(_p(event.text))
        paragraphs.append(
            _p(
                "本复核意见为终结意见。你对本复核意见不服，仍以同一事实和理由提出信访事项的，"
                "信访工作机构不再受理。"
            )
        )
    elif spec.code == "extension":
        due = _date(data.get("handle_due"))
        days = data.get("days")
        paragraphs.append(
            _p(
                opening
                + "因情况复杂，在规定期限内难以办结，"
                + (f"经批准延长办理期限{days}日，" if days else "经批准延长办理期限，")
                + (f"办理期限延至{cn_date(due)}。" if due else "")
                + "我单位将抓紧办理，并及时告知办理结果。"
            )
        )
        if event.text:
            paragraphs.append(_p(event.text))
        closing = "特此告知。"
    elif spec.code == "acceptance":
        paragraphs.extend(_acceptance(opening, event, data))
        closing = "特此告知。"
    elif spec.code == "refusal":
        paragraphs.extend(_refusal(opening, event))
        closing = "特此告知。"
    else:  # 告知单
        paragraphs.append(_p(opening + "经审查，告知如下："))
        paragraphs.append(_p(event.text))
        organ = data.get("organ")
        if isinstance(organ, dict) and organ.get("name"):
            paragraphs.extend(_organ_paragraphs(organ))
        closing = "特此告知。"
    return {"to": f"{name}：", "paragraphs": paragraphs, "closing": closing, "cc": ""}


def _acceptance(opening: str, event: CaseEvent, data: dict[str, Any]) -> list[dict[str, Any]]:
    """受理告知书: accepted by law, the handling period and its last day (from the ``accept``
    event's ``handle_due``, the deadline the service opened)."""
    rule = deadlines.rule_for(K.HANDLE)
    due = _date(data.get("handle_due"))
    out = [_p(opening + "经审查，符合受理条件，我单位决定依法予以受理。")]
    if event.text and event.text.strip() not in {"经审查，决定受理。", "决定受理"}:
        out.append(_p(event.text))
    out.append(
        _p(
            f"我单位将自受理之日起{rule.days}日内办结，"
            + (f"于{cn_date(due)}前" if due else "")
            + "向你出具书面答复意见。情况复杂的，经批准可以适当延长办理期限，"
            "延长期限的，将告知你延期理由。"
        )
    )
    return out


def _refusal(opening: str, event: CaseEvent) -> list[dict[str, Any]]:
    """不予受理告知书: the reason (the event's text, which also names the proper channel) and
    the standard remedy sentence."""
    return [
        _p(opening + "经审查，不符合信访事项受理条件，我单位决定不予受理。理由如下："),
        _p(event.text),
        _p(
            "对依法应当通过诉讼、仲裁、行政复议等法定途径解决的事项，请依照有关法律、"
            "行政法规规定的程序向有关机关提出。"
        ),
    ]


def _organ_paragraphs(organ: dict[str, Any]) -> list[dict[str, Any]]:
    """告知单 naming the competent organ (``inform`` event data, a snapshot from 办事指南)."""
    name = str(organ.get("name") or "")[:100]
    lines = [f"名称：{name}"]
    for key, label in (("address", "地址"), ("phone", "电话"), ("hours", "办公时间")):
        value = str(organ.get(key) or "").strip()[:200]
        if value:
            lines.append(f"{label}：{value}")
    notes = str(organ.get("notes") or "").strip()[:1000]
    if notes:
        lines.append(f"须知：{notes}")
    out = [
        _p(f"你反映的问题属于{name}的职责范围，请向该机关提出。"),
        _p("\n".join(lines), "一、有权处理机关"),
    ]
    remedy = str(organ.get("remedy") or "").strip()[:2000]
    if remedy:
        out.append(_p(remedy, "二、法定途径" if organ.get("legal_route") else "二、办理途径"))
    return out


def _from_doc(doc: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The structured body a service supplied (contract: event.data["doc"])."""
    paragraphs: list[dict[str, Any]] = []
    for section in list(doc.get("sections") or [])[:PARAGRAPH_LIMIT]:
        if not isinstance(section, dict):
            continue
        heading = str(section.get("heading") or "").strip()[:200]
        text = str(section.get("text") or "").strip()[:TEXT_LIMIT]
        if heading or text:
            paragraphs.append(_p(text, heading))
    said = " ".join(str(p.get("text", "")) for p in paragraphs) + str(doc.get("closing") or "")
    if doc.get("review_organ") and "复查" not in said:
        paragraphs.append(
            _p(
                f"如对本答复意见不服，可以自收到本答复意见书之日起30日内，"
                f"向{doc['review_organ']}请求复查。"
            )
        )
    body = dict(base)
    if paragraphs:
        body["paragraphs"] = paragraphs
    if doc.get("to"):
        to = str(doc["to"]).strip()[:200]
        body["to"] = to if to.endswith(("：", ":")) else to + "："
    if doc.get("closing"):
        body["closing"] = str(doc["closing"]).strip()[:500]
    return body


BUILDERS = {
    "assignment": _routing,
    "forwarding": _routing,
    "supervision": _overdue,
    "urging": _overdue,
    "reply": _to_petitioner,
    "review": _to_petitioner,
    "rereview": _to_petitioner,
    "extension": _to_petitioner,
    "inform": _to_petitioner,
    "acceptance": _to_petitioner,
    "refusal": _to_petitioner,
}


def build_body(event: CaseEvent, *, issuer: Unit, number: str, spec: DocSpec) -> dict[str, Any]:
    case = event.case
    data = event.data if isinstance(event.data, dict) else {}
    doc = data.get("doc") if isinstance(data.get("doc"), dict) else None
    organ = str((doc or {}).get("organ") or issuer.name).strip()[:100]
    body = BUILDERS[spec.code](event, case, spec)
    if doc:
        body = _from_doc(doc, body)
    day = deadlines.local_date(event.at)
    title = str((doc or {}).get("title") or "").strip()[:200]
    if not title:
        # 检举控告件: the stored title (API, lists) never names the accuser; 主送 still does.
        to = "信访人" if case.is_confidential else str(body.get("to") or "").rstrip("：:")
        petitioner_docs = {
            "reply",
            "review",
            "rereview",
            "extension",
            "inform",
            "acceptance",
            "refusal",
        }
        title = (
            f"关于{to}反映问题的{spec.name}"
            if spec.code in petitioner_docs and to
            else f"信访事项{spec.name}"
        )
    body.update(
        {
            "organ": organ,
            "number": number,
            "doc_type": spec.name,
            "title": title,
            "date": cn_date(day),
            "seal": organ,
            "note": "",
            "printer": organ,
            "print_date": cn_date(day),
            "case_number": case.number,
            "confidential": case.is_confidential,
        }
    )
    if issuer.phone or issuer.contact_person:
        contact = "，".join(
            x
            for x in (
                f"联系人：{issuer.contact_person}" if issuer.contact_person else "",
                f"联系电话：{issuer.phone}" if issuer.phone else "",
            )
            if x
        )
        body["note"] = f"（{contact}）"
    return body


# --- the service ----------------------------------------------------------------------------


def spec_for(kind: str) -> DocSpec | None:
    return DOCUMENT_KINDS.get(kind)


def document_for_event(event: CaseEvent, *, by: Any = None) -> IssuedDocument:
    """The document of ``event``: issued on the first call (发文字号 drawn, body snapshot
    stored), the same row on every later one — also when two clerks ask at the same moment
    (the loser's savepoint is rolled back with its counter increment: no number is lost).

    Access is the caller's: fetch the event's case through ``policy.cases_visible_to``."""
    spec = spec_for(event.kind)
    if spec is None:
        raise DomainError("该条事项动态没有对应的公文", field="event")
    existing = IssuedDocument.objects.filter(event_id=event.pk).first()
    if existing is not None:
        return existing
    event = CaseEvent.objects.select_related(
        "case", "case__office_unit", "case__handling_unit", "actor_unit"
    ).get(pk=event.pk)
    issuer = _issuer(event, spec)
    year = deadlines.local_date(event.at).year
    prefix = number_prefix(issuer, spec)
    try:
        with transaction.atomic():
            number = format_number(prefix, year, _counter_next(prefix, year))
            body = build_body(event, issuer=issuer, number=number, spec=spec)
            return IssuedDocument.objects.create(
                case=event.case,
                event=event,
                kind=spec.code,
                number=number,
                title=body["title"],
                issuing_unit=issuer,
                issued_at=timezone.now(),
                issued_by=by if getattr(by, "is_authenticated", False) else None,
                body=body,
            )
    except IntegrityError:
        existing = IssuedDocument.objects.filter(event_id=event.pk).first()
        if existing is None:
            raise
        return existing


def documents_of(case: Case) -> dict[int, IssuedDocument]:
    """Issued documents of ``case`` by event id (one query, for the timeline)."""
    return {d.event_id: d for d in IssuedDocument.objects.filter(case=case)}
