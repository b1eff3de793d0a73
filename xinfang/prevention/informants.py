"""信息员网络 services: who is an informant, their reports, and how an urgent report is handled.

- :func:`informant_add` / :func:`informant_end` — the network (one active row per user × unit;
  adding grants the 信息员 post, ending removes it only when no other active row needs it).
- :func:`report_submit` — a routine or urgent report. An urgent one raises an ``informant_urgent``
  alert in the same transaction (owner: the on-duty leader of the petition office serving the
  unit, else the leaders over it), which notifies the leaders over the unit and the office's case
  officers in-app and by e-mail, and goes to the staff SMS interface (:func:`send_staff_sms`).
  ``client_key`` makes a retried submission (a double tap, a lost answer) return the first
  report (a unique index, not a read-then-write).
- :func:`report_acknowledge`, :func:`report_note`, :func:`report_to_dispute`,
  :func:`report_close` — handling; each writes an ``InformantReportEvent``.
- :func:`urgent_unacknowledged` — urgent reports still unacknowledged after N minutes re-alert
  the leaders one level further up (one level per run, up to the root or the rule's
  ``max_steps``, then one reminder a day); ``manage.py informant_escalate`` and the
  ``informant_escalate_task`` run it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.masking import mask_phone
from xinfang.core.text import clean_line, clean_text
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role, Unit
from xinfang.org.policy import posts_of
from xinfang.prevention.alerts import alerts_follow_report
from xinfang.prevention.models import (
    Alert,
    AlertState,
    Informant,
    InformantReport,
    InformantReportEvent,
    InformantReportState,
    Severity,
    Signal,
    Urgency,
    WarningRule,
)

log = logging.getLogger("xinfang.notify.messages")

TITLE_MAX = 100
TEXT_MAX = 3000
NOTE_MAX = 2000
CLIENT_KEY_MAX = 64
RULE = "informant_urgent"
NOT_MINE = (
    "您不是「{unit}」的信息员，不能报送该单位的信息；"
    "请选择您负责的村（社区）或单位，填写的内容已保留"
)
NO_MANAGE = "只有该单位的负责人、上级领导或服务该单位的信访部门办案员可以{act}信息员"
ELSEWHERE = "该用户在其他单位任职，不能聘任为本单位信息员；请为信息员单独开设账户"
OUT_OF_SCOPE = "该报告不在您的职责范围内，不能确认或处置；请联系报告所在单位的上级领导或信访部门"


# --- the network ---------------------------------------------------------------------------


def may_manage_informants(by: Any, unit: Unit) -> bool:
    """办案员 of the petition office serving ``unit``, or a 单位负责人/领导 at or above it."""
    from xinfang.prevention.alerts import office_for

    posts = posts_of(by)
    if any(p.role in (R.UNIT_HEAD, R.LEADER) and unit.path.startswith(p.unit_path) for p in posts):
        return True
    office = office_for(unit)
    return office is not None and any(
        p.role == R.CASE_OFFICER and p.unit_id == office.pk for p in posts
    )


def _forget_posts(user: Any) -> None:
    for attr in list(vars(user)):
        if attr.startswith("_xf_"):
            delattr(user, attr)


def informant_add(
    by: Any,
    *,
    user: Any,
    unit: Unit,
    phone: str = "",
    since: dt.date | None = None,
    note: str = "",
) -> Informant:
    """Appoint ``user`` as 信息员 of ``unit`` (grants the 信息员 post there if missing)."""
    if not may_manage_informants(by, unit):
        raise PermissionDenied(
            "只有该单位的负责人、上级领导或服务该单位的信访部门办案员可以聘任信息员"
        )
    if not unit.is_active:
        raise DomainError("所选单位已停用", field="unit")
    if not user.is_active:
        raise DomainError("该用户已停用，不能聘任为信息员", field="user")
    # A post of any role in or below a unit hides 检举控告 cases accusing that unit from its
    # holder (cases.confidential), so an appointment must not reach a staff member of another
    # unit: only informant-only accounts, or staff of this unit or below, may be appointed.
    if any(
        m.role.code != R.INFORMANT and not m.unit.path.startswith(unit.path)
        for m in Membership.objects.filter(user=user).select_related("unit", "role")
    ):
        raise DomainError(ELSEWHERE, field="user")
    phone = clean_line(phone or "").replace(" ", "")
    if phone and (not phone.replace("-", "").isdigit() or not 7 <= len(phone) <= 20):
        raise DomainError("联系电话应为7至20位数字", field="phone")
    note = clean_line(note or "")
    if len(note) > 200:
        raise DomainError("备注不能超过200字", field="note")
    if Informant.objects.filter(user=user, unit=unit, is_active=True).exists():
        raise DomainError(
            f"{user.get_full_name() or user.username} 已是「{unit.name}」的信息员", field="user"
        )
    try:
        with transaction.atomic():
            row = Informant.objects.create(
                user=user,
                unit=unit,
                phone=phone,
                since=since or timezone.localdate(),
                note=note,
            )
            # get_or_create saves the Membership through the ORM: the audit signal records
            # the role grant, as for any post created in the admin.
            Membership.objects.get_or_create(
                user=user, unit=unit, role=Role.objects.get(code=R.INFORMANT)
            )
    except IntegrityError:
        raise DomainError(
            f"{user.get_full_name() or user.username} 已是「{unit.name}」的信息员", field="user"
        ) from None
    _forget_posts(user)
    return row


def informant_end(by: Any, informant: Informant, reason: str) -> Informant:
    """End an appointment (the row stays, with its reports). The 信息员 post in the unit is
    removed only when no other active appointment there needs it."""
    reason = clean_line(reason or "")
    if not reason:
        raise DomainError("请填写解聘原因", field="reason")
    if not may_manage_informants(by, informant.unit):
        raise PermissionDenied(
            "只有该单位的负责人、上级领导或服务该单位的信访部门办案员可以解聘信息员"
        )
    now = timezone.now()
    note = f"{informant.note}；解聘：{reason}".strip("；")[:200]
    with transaction.atomic():
        changed = Informant.objects.filter(pk=informant.pk, is_active=True).update(
            is_active=False, ended_at=now, note=note
        )
        if not changed:
            raise ConcurrentChange("该信息员已被解聘，请刷新页面")
        still = Informant.objects.filter(
            user_id=informant.user_id, unit_id=informant.unit_id, is_active=True
        ).exists()
        if not still:
            for m in Membership.objects.filter(
                user_id=informant.user_id, unit_id=informant.unit_id, role__code=R.INFORMANT
            ):
                m.delete()  # per row: the audit signal records the revocation
    informant.refresh_from_db()
    _forget_posts(informant.user)
    return informant


def active_informant_for(user: Any, unit: Unit) -> Informant | None:
    """The user's active appointment in ``unit`` or in the nearest unit above it."""
    rows = list(
        Informant.objects.filter(user_id=user.pk, is_active=True, unit__is_active=True)
        .select_related("unit")
        .order_by("id")
    )
    best = None
    for row in rows:
        if unit.path.startswith(row.unit.path) and (
            best is None or len(row.unit.path) > len(best.unit.path)
        ):
            best = row
    return best


def report_units(user: Any) -> QuerySet[Unit]:
    """Units the user may report for: each unit they serve and everything under it."""
    paths = list(
        Informant.objects.filter(user_id=user.pk, is_active=True).values_list(
            "unit__path", flat=True
        )
    )
    if not paths:
        return Unit.objects.none()
    cond = Q()
    for path in paths:
        cond |= Q(path__startswith=path)
    return Unit.objects.filter(cond, is_active=True).order_by("path")


# --- reports -------------------------------------------------------------------------------


def urgent_first(qs: QuerySet[Any]) -> QuerySet[Any]:
    """Urgent reports still 待确认 first, then other 待确认, then the rest; newest first."""
    return qs.annotate(
        _prio=CaseWhen(
            When(urgency=Urgency.URGENT, state=InformantReportState.NEW, then=Value(0)),
            When(state=InformantReportState.NEW, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    ).order_by("_prio", "-created_at", "-id")


def _event(
    report: InformantReport,
    kind: str,
    by: Any,
    *,
    text: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> InformantReportEvent:
    return InformantReportEvent.objects.create(
        report=report, kind=kind, actor=by, at=at or timezone.now(), text=text, data=data or {}
    )


def responsible_leader(unit: Unit, day: dt.date) -> Any:
    """The on-duty leader of the petition office serving ``unit``, else a leader over it."""
    from xinfang.notify.services import leaders_over
    from xinfang.prevention.alerts import office_for
    from xinfang.reception.duty import on_duty_leaders

    office = office_for(unit)
    if office is not None:
        leaders = on_duty_leaders(office, day)
        if leaders:
            return leaders[0]
    return leaders_over(unit).order_by("id").first()


def urgent_severity(signal: str) -> str:
    rule = WarningRule.objects.filter(code=RULE).first()
    red = (rule.params or {}).get("red_signals", []) if rule is not None else ["capital", "extreme"]
    if signal in red:
        return Severity.RED
    return Severity.ORANGE


def report_submit(
    user: Any,
    *,
    unit: Unit,
    urgency: str,
    signal: str = "",
    title: str,
    text: str,
    place_text: str = "",
    headcount: int | None = None,
    expected_at: dt.datetime | None = None,
    destination: str = "",
    client_key: str | None = None,
    at: dt.datetime | None = None,
) -> InformantReport:
    """File a report. The same ``client_key`` returns the first report (a retry)."""
    client_key = (client_key or "").strip() or None
    if client_key is not None:
        if len(client_key) > CLIENT_KEY_MAX:
            raise DomainError("提交标识过长，请刷新页面后重新提交", field="client_key")
        first = InformantReport.objects.filter(client_key=client_key).first()
        if first is not None:
            if first.informant.user_id != user.pk:
                raise DomainError("该提交标识已被使用，请刷新页面后重新提交", field="client_key")
            return first
    now = at or timezone.now()
    informant = active_informant_for(user, unit)
    if informant is None:
        raise DomainError(NOT_MINE.format(unit=unit.name), field="unit")
    if urgency not in Urgency.values:
        raise DomainError("请选择报告类别：日常报告或紧急报告", field="urgency")
    signal = signal or ""
    if urgency == Urgency.URGENT and not signal:
        raise DomainError(
            "紧急报告须选择紧急情形（拟集体上访、进京赴省苗头、聚集苗头、个人极端苗头或其他）",
            field="signal",
        )
    if urgency == Urgency.ROUTINE and signal:
        raise DomainError("日常报告不选紧急情形；如情况紧急，请改为紧急报告", field="signal")
    if signal and signal not in Signal.values:
        raise DomainError("请从列表中选择紧急情形", field="signal")
    title = clean_line(title or "")
    text = clean_text(text or "").strip()
    if not title:
        raise DomainError("请填写标题（一句话说明情况）", field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(f"标题不能超过{TITLE_MAX}字", field="title")
    if not text:
        raise DomainError("请填写具体情况（人员、起因、诉求等）", field="text")
    if len(text) > TEXT_MAX:
        raise DomainError(f"具体情况不能超过{TEXT_MAX}字", field="text")
    place_text = clean_line(place_text or "")
    if len(place_text) > 200:
        raise DomainError("地点不能超过200字", field="place_text")
    destination = clean_line(destination or "")
    if len(destination) > 100:
        raise DomainError("去向不能超过100字", field="destination")
    if headcount is not None and not 1 <= headcount <= 100000:
        raise DomainError("预计人数应在1至100000之间", field="headcount")
    if expected_at is not None and expected_at < now - dt.timedelta(days=30):
        raise DomainError("预计时间不能早于30天前", field="expected_at")
    try:
        with transaction.atomic():
            report = InformantReport.objects.create(
                informant=informant,
                unit=unit,
                urgency=urgency,
                signal=signal,
                title=title,
                text=text,
                place_text=place_text,
                headcount=headcount,
                expected_at=expected_at,
                destination=destination,
                created_at=now,
                client_key=client_key,
            )
            _event(report, "create", user, at=now, data={"urgency": urgency, "signal": signal})
            if urgency == Urgency.URGENT:
                _raise_urgent(report, now)
    except IntegrityError:
        if client_key is not None:
            first = (
                InformantReport.objects.filter(client_key=client_key)
                .select_related("informant")
                .first()
            )
            if first is not None:
                if first.informant.user_id != user.pk:
                    raise DomainError(
                        "该提交标识已被使用，请刷新页面后重新提交", field="client_key"
                    ) from None
                return first
        raise
    return report


def _raise_urgent(report: InformantReport, now: dt.datetime) -> Alert:
    from xinfang.prevention.alerts import alert_raise, alert_recipients

    unit = report.unit
    owner = responsible_leader(unit, timezone.localtime(now).date())
    severity = urgent_severity(report.signal)
    facts = [f"{unit.name}信息员报告：{report.get_signal_display()}"]
    if report.headcount:
        facts.append(f"约{report.headcount}人")
    if report.expected_at:
        facts.append(f"预计{timezone.localtime(report.expected_at):%m月%d日 %H:%M}")
    if report.destination:
        facts.append(f"去向{report.destination}")
    detail = "，".join(facts) + f"。{report.title}"
    alert, _ = alert_raise(
        rule=RULE,
        severity=severity,
        unit=unit,
        title=f"{report.get_signal_display()}：{unit.name} {report.title}",
        detail=detail,
        data={"report": report.pk, "signal": report.signal, "headcount": report.headcount},
        dedupe_key=f"informant-{report.pk}",
        owner=owner,
        informant_report=report,
        at=now,
    )
    people = alert_recipients(unit, owner)
    transaction.on_commit(
        lambda: send_staff_sms(people, f"【民声预警】{detail[:60]}请立即登录系统确认处置。")
    )
    return alert


# --- staff SMS (the gateway interface) -----------------------------------------------------


def staff_phone(user: Any) -> str:
    """A staff member's mobile number for alert SMS. Staff accounts carry no phone field yet:
    an active informant appointment's phone is used when the person has one, else ""."""
    return str(
        Informant.objects.filter(user_id=user.pk, is_active=True)
        .exclude(phone="")
        .values_list("phone", flat=True)
        .first()
        or ""
    )


def send_staff_sms(users: Iterable[Any], text: str) -> int:
    """Send ``text`` by SMS to staff ``users``; returns how many were handed to the gateway.

    ``OutboundMessage`` holds petitioners only, so staff SMS goes through the backend chosen
    by ``XINFANG_MESSAGE_BACKEND`` (``notify.backends.get_backend``): a backend with a
    ``send_staff(user, phone, text)`` method (a real gateway) gets each message; the built-in
    database/console backends log one line per recipient with the number masked. The number
    is never written to a log in full."""
    from xinfang.notify.backends import get_backend

    backend = get_backend()
    sender = getattr(backend, "send_staff", None)
    sent = 0
    for user in users:
        if user is None or not user.is_active:
            continue
        phone = staff_phone(user)
        if callable(sender):
            try:
                sender(user, phone, text)
            except Exception:  # a gateway failure never breaks the report
                log.exception("员工短信发送失败 user=%s", user.pk)
                continue
        else:
            log.info(
                "员工短信 backend=%s user=%s to=%s: %s",
                backend.name,
                user.pk,
                mask_phone(phone) if phone else "（未登记手机）",
                text,
            )
        sent += 1
    return sent


# --- handling ------------------------------------------------------------------------------


def require_handle(by: Any, report: InformantReport) -> None:
    from xinfang.prevention.policy import may_handle_report

    if not may_handle_report(by, report):
        raise PermissionDenied(OUT_OF_SCOPE)


def report_acknowledge(
    by: Any, report: InformantReport, *, at: dt.datetime | None = None
) -> InformantReport:
    """待确认 → 已确认处置中 (conditional UPDATE); its open alert is acknowledged with it."""
    require_handle(by, report)
    now = at or timezone.now()
    with transaction.atomic():
        changed = InformantReport.objects.filter(
            pk=report.pk, state=InformantReportState.NEW
        ).update(state=InformantReportState.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=now)
        if not changed:
            report.refresh_from_db()
            who = report.acknowledged_by
            name = (who.get_full_name() or who.username) if who else "他人"
            raise ConcurrentChange(f"该报告已由{name}确认，无需重复确认")
        alerts_follow_report(report, state=AlertState.ACKNOWLEDGED, by=by, at=now)
        _event(report, "ack", by, at=now)
    report.refresh_from_db()
    return report


def report_note(by: Any, report: InformantReport, text: str) -> InformantReportEvent:
    """A handling note (staff only; the informant does not see notes)."""
    require_handle(by, report)
    text = clean_text(text or "").strip()
    if not text:
        raise DomainError("请填写处置情况", field="text")
    if len(text) > NOTE_MAX:
        raise DomainError(f"处置情况不能超过{NOTE_MAX}字", field="text")
    if report.state == InformantReportState.CLOSED:
        raise DomainError("该报告已办结，不能再添加处置记录", field="text")
    with transaction.atomic():
        return _event(report, "note", by, text=text)


def report_to_dispute(by: Any, report: InformantReport, **fields: Any) -> Any:
    """Register the report as a 矛盾纠纷 (source 信息员报告); the report gets a ``dispute`` event.
    ``fields`` are ``services.dispute_create``'s (title, description, parties, risk_level …);
    place and responsible unit default to the report's unit."""
    from xinfang.prevention import services
    from xinfang.prevention.models import Dispute

    require_handle(by, report)
    existing = Dispute.objects.filter(informant_report=report).order_by("id").first()
    if existing is not None:
        return existing
    if report.state == InformantReportState.CLOSED:
        raise DomainError("该报告已办结，不能再登记为矛盾纠纷")
    fields.setdefault("title", report.title)
    fields.setdefault("description", report.text)
    fields.setdefault("place_unit", report.unit)
    fields.setdefault("unit", report.unit)
    fields.setdefault("place_text", report.place_text)
    if report.headcount and "headcount" not in fields:
        fields["headcount"] = report.headcount
    fields.setdefault("idempotency_key", f"informant-report-{report.pk}")
    with transaction.atomic():
        if report.state == InformantReportState.NEW:
            report_acknowledge(by, report)
        dispute = services.dispute_create(by, source="informant", informant_report=report, **fields)
        _event(
            report,
            "dispute",
            by,
            text=f"登记为矛盾纠纷 {dispute.number}",
            data={"dispute": dispute.pk, "number": dispute.number},
        )
    report.refresh_from_db()
    return dispute


def report_close(by: Any, report: InformantReport, outcome: str) -> InformantReport:
    """办结: the handling outcome is required; closes the report's open/acknowledged alert."""
    require_handle(by, report)
    outcome = clean_text(outcome or "").strip()
    if not outcome:
        raise DomainError("请填写处置结果", field="outcome")
    if len(outcome) > NOTE_MAX:
        raise DomainError(f"处置结果不能超过{NOTE_MAX}字", field="outcome")
    now = timezone.now()
    with transaction.atomic():
        changed = (
            InformantReport.objects.filter(pk=report.pk)
            .exclude(state=InformantReportState.CLOSED)
            .update(
                state=InformantReportState.CLOSED,
                handling=outcome,
                closed_by=by,
                closed_at=now,
            )
        )
        if not changed:
            raise ConcurrentChange("该报告已办结")
        InformantReport.objects.filter(pk=report.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=by, acknowledged_at=now
        )
        alerts_follow_report(report, state=AlertState.CLOSED, by=by, at=now, text=outcome)
        _event(report, "close", by, text=outcome, at=now)
    report.refresh_from_db()
    return report


# --- escalation ----------------------------------------------------------------------------


def _leader_unit(unit: Unit) -> Unit:
    """The unit whose leaders ``leaders_over(unit)`` returns (the unit or the nearest above)."""
    from xinfang.notify.services import unit_staff

    node: Unit | None = unit
    while node is not None:
        if unit_staff(node, {R.LEADER}).exists():
            return node
        node = node.parent
    return unit


MAX_STEPS = 4  # default of the informant_urgent rule's ``max_steps`` parameter
REMIND_EVERY = dt.timedelta(days=1)


def _max_steps() -> int:
    rule = WarningRule.objects.filter(code=RULE).first()
    raw = (rule.params or {}).get("max_steps", MAX_STEPS) if rule is not None else MAX_STEPS
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return MAX_STEPS


def _leader_unit_above(unit: Unit) -> Unit | None:
    """The nearest unit strictly above ``unit`` that has leaders (None: ``unit`` is the top)."""
    from xinfang.notify.services import unit_staff

    node = unit.parent
    while node is not None:
        if unit_staff(node, {R.LEADER}).exists():
            return node
        node = node.parent
    return None


def urgent_unacknowledged(now: dt.datetime | None = None, minutes: int = 30) -> int:
    """Urgent reports still 待确认 re-alert the leaders one level further up, one level per
    ``minutes``: step k (the last ``escalate`` event's ``data.step`` + 1, due ``minutes`` after
    the report or the previous step) goes to the leaders of the k-th unit with leaders above the
    unit whose leaders were alerted first. A missed or late run does not skip levels: each run
    climbs one level. The ladder ends at the root of the tree, or after the ``max_steps``
    parameter of the ``informant_urgent`` rule (default 4); after that the last leaders get at
    most one reminder a day while the report stays 待确认. Returns how many were sent."""
    from xinfang.notify.services import leaders_over, notify

    now = now or timezone.now()
    window = dt.timedelta(minutes=minutes)
    max_steps = _max_steps()
    sent = 0
    rows = InformantReport.objects.filter(
        urgency=Urgency.URGENT, state=InformantReportState.NEW, created_at__lte=now - window
    ).select_related("unit")
    for report in rows:
        last = (
            InformantReportEvent.objects.filter(report=report, kind="escalate")
            .order_by("-at", "-id")
            .first()
        )
        last_step = int((last.data or {}).get("step") or 0) if last is not None else 0
        final = last is not None and bool((last.data or {}).get("final"))
        if last is not None and now - last.at < (REMIND_EVERY if final else window):
            continue
        step = last_step if final else last_step + 1
        node = _leader_unit(report.unit)
        for _ in range(step):
            up = _leader_unit_above(node)
            if up is None:
                break
            node = up
        reminder = final
        final = final or step >= max_steps or _leader_unit_above(node) is None
        people = list(leaders_over(node))
        waited = int((now - report.created_at).total_seconds() // 60)
        waited_text = f"{waited}分钟" if waited < 24 * 60 else f"{waited // (24 * 60)}天"
        if reminder:
            key = f"informant-remind-{report.pk}-{timezone.localdate(now).isoformat()}"
            text = f"超过{waited_text}仍未确认，每日提醒{node.name}领导"
        else:
            key = f"informant-escalate-{report.pk}-{step}"
            text = f"超过{waited_text}未确认，已提醒{node.name}领导"
        with transaction.atomic():
            notify(
                people,
                kind="urgent_report",
                title=f"【紧急报告超{waited_text}未确认】{report.unit.name} {report.title}",
                body=f"{report.get_signal_display()}；请立即确认处置。",
                url=f"/prevention/reports/{report.pk}/",
                dedupe_key=key,
                email=True,
                at=now,
            )
            _event(
                report,
                "escalate",
                None,
                at=now,
                text=text,
                data={"step": step, "unit": node.pk, "final": final, "reminder": reminder},
            )
        send_staff_sms(people, f"【民声预警】紧急报告超{waited_text}未确认：{report.title[:30]}")
        sent += 1
    return sent
