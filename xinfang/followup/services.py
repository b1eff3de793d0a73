"""Writes after the reply: evaluation by SMS, the office's 不满意 review task, 回访.

Each function: guard → conditional UPDATE or unique index → ``CaseEvent`` → notifications, in one
transaction. The receivers at the bottom hang these on ``cases.signals.case_evaluated`` /
``case_closed`` (sent inside the evaluation's / closing's own transaction), so ``cases`` never
imports this app and a task or 回访 exists exactly when the change committed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import Case, CaseEvent, Evaluation, EvaluationChannel
from xinfang.cases.services import case_evaluate
from xinfang.core import workcalendar
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.core.text import clean_text
from xinfang.followup.models import FollowUp, FollowUpMethod, FollowUpResult, OfficeTask
from xinfang.org import roles as R
from xinfang.org.policy import holds_role_over

# --- evaluation by SMS -----------------------------------------------------------------------

_DIGITS = {"1": Evaluation.SATISFIED, "2": Evaluation.BASICALLY, "3": Evaluation.UNSATISFIED}
# Longest first: 不满意 and 基本满意 both contain 满意.
_WORDS = [
    ("不满意", Evaluation.UNSATISFIED),
    ("基本满意", Evaluation.BASICALLY),
    ("满意", Evaluation.SATISFIED),
]
# Leading blanks, quotes and a short bracketed tag some phones add ("【回复】").
_LEAD = re.compile(r"^[\s\u3000]*(?:[【\[][^】\]]{0,10}[】\]])?[\s\u3000（(“\"'‘]*")
_SEP = re.compile(r"^[\s\u3000,，.。、:：;；!！)）\]】”\"'’-]+")
_HEDGED = re.compile(r"不太满意|不是很满意|不够满意|不算满意|还算满意|比较满意|说不上")
SMS_HELP = "请以 1（满意）、2（基本满意）、3（不满意），或“满意”“基本满意”“不满意”开头"


def parse_sms_reply(text: str) -> tuple[str, str]:
    """(evaluation, comment) from the petitioner's SMS reply: a leading 1/2/3 (full-width too)
    or 满意/基本满意/不满意; what follows is the comment. Raises ``DomainError`` otherwise."""
    raw = clean_text(text or "").strip()
    if not raw:
        raise DomainError("请粘贴信访人回复的短信内容", field="sms_text")
    body = _LEAD.sub("", raw).translate(str.maketrans("１２３", "123"))
    head = body[:1]
    if head in _DIGITS and (len(body) == 1 or not body[1].isdigit()):
        return _DIGITS[head], _SEP.sub("", body[1:]).strip()
    for word, value in _WORDS:
        if body.startswith(word):
            return value, _SEP.sub("", body[len(word) :]).strip()
    # A reply such as "对处理结果不满意，……": one unambiguous evaluation word inside the text.
    found, rest = set(), body
    for word, value in _WORDS:
        if word in rest:
            found.add(value)
            rest = rest.replace(word, "")
    if len(found) == 1 and not _HEDGED.search(body):
        return found.pop(), raw
    raise DomainError(f"无法识别短信中的评价：{SMS_HELP}", field="sms_text")


def evaluate_by_sms(*, case: Case, by: Any, sms_text: str, at: dt.datetime | None = None) -> Any:
    """记录短信回复: parse, then ``case_evaluate`` with channel 短信回复 (same guard and event);
    the event text is the whole message as received."""
    evaluation, _comment = parse_sms_reply(sms_text)
    return case_evaluate(
        case=case,
        by=by,
        evaluation=evaluation,
        comment=clean_text(sms_text).strip(),  # the channel is in the event data
        channel=EvaluationChannel.SMS,
        at=at,
    )


# --- the office's review task ---------------------------------------------------------------


def _office_officers(case: Case) -> Any:
    from xinfang.notify.services import unit_staff

    return unit_staff(case.office_unit, {R.CASE_OFFICER})


def may_work_task(user: Any, task: OfficeTask) -> bool:
    return holds_role_over(user, task.office_unit, {R.CASE_OFFICER})


def office_task_open(
    *, case: Case, source: CaseEvent, by: Any, summary: str, at: dt.datetime | None = None
) -> OfficeTask:
    """A 不满意 review task for the registering office. Guard: one per source event (unique
    index; a repeat returns the existing task). Effect: task row; event ``dissatisfied_task``;
    the office's 办案员 notified (once per task)."""
    existing = OfficeTask.objects.filter(source_event=source).first()
    if existing is not None:
        return existing
    now = at or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                task = OfficeTask.objects.create(
                    case=case,
                    kind=OfficeTask.Kind.DISSATISFIED,
                    source_event=source,
                    office_unit=case.office_unit,
                    summary=summary[:300],
                    created_at=now,
                    created_by=by,
                )
        except IntegrityError:
            return OfficeTask.objects.get(source_event=source)
        CaseEvent.objects.create(
            case=case,
            kind="dissatisfied_task",
            actor=by,
            actor_unit=case.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=summary,
            data={"task_id": task.pk, "source_event_id": source.pk},
        )
        from xinfang.notify.services import notify

        notify(
            _office_officers(case),
            kind="dissatisfied_task",
            title=f"信访人不满意，请复核：{case.number}",
            body=summary,
            case=case,
            url=f"/followup/tasks/?state=open&q={case.number}",
            dedupe_key=f"dissatisfied_task:{task.pk}",
            at=now,
        )
    return task


def office_task_close(
    *, task: OfficeTask, by: Any, outcome: str, at: dt.datetime | None = None
) -> CaseEvent:
    """办结 a review task with its outcome. Guard: 办案员 of the task's office; task open;
    outcome ≥ 4 characters. Effect: conditional UPDATE open → done. Event ``office_task_done``."""
    outcome = clean_text(outcome or "").strip()
    if len(outcome) < 4:
        raise DomainError("请填写处理结果（至少4个字）", field="outcome")
    if not may_work_task(by, task):
        raise PermissionDenied("只有登记单位的办案员可以办结该任务")
    now = at or timezone.now()
    with transaction.atomic():
        won = OfficeTask.objects.filter(pk=task.pk, state=OfficeTask.State.OPEN).update(
            state=OfficeTask.State.DONE, outcome=outcome, done_at=now, done_by=by
        )
        if not won:
            raise ConcurrentChange("该任务已办结，请刷新后查看")
        task.refresh_from_db()
        case = task.case
        return CaseEvent.objects.create(
            case=case,
            kind="office_task_done",
            actor=by,
            actor_unit=task.office_unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=outcome,
            data={"task_id": task.pk},
        )


# --- 回访 ------------------------------------------------------------------------------------


def followup_workdays() -> int:
    return int(getattr(settings, "FOLLOWUP_AFTER_CLOSE_WORKDAYS", 10))


def followup_plan(*, case: Case, close_event: CaseEvent, by: Any = None) -> FollowUp:
    """Plan the 回访 for a closing: due N working days after it (setting
    ``FOLLOWUP_AFTER_CLOSE_WORKDAYS``, 10), by the registering office. Guard: one per 办结 event
    (unique index; a repeat returns the existing one). Event ``followup_plan``."""
    existing = FollowUp.objects.filter(close_event=close_event).first()
    if existing is not None:
        return existing
    start = deadlines.local_date(close_event.at)
    due = workcalendar.add_days(start, followup_workdays(), working_days=True, roll_to_workday=True)
    with transaction.atomic():
        try:
            with transaction.atomic():
                fu = FollowUp.objects.create(
                    case=case,
                    close_event=close_event,
                    due_on=due,
                    unit=case.office_unit,
                    created_at=close_event.at,
                )
        except IntegrityError:
            return FollowUp.objects.get(close_event=close_event)
        CaseEvent.objects.create(
            case=case,
            kind="followup_plan",
            actor=None,
            actor_unit=case.office_unit,
            at=close_event.at,
            from_status=case.status,
            to_status=case.status,
            text=f"办结后{followup_workdays()}个工作日内回访，期限 {due:%Y-%m-%d}",
            data={"followup_id": fu.pk, "due_on": due.isoformat()},
        )
    return fu


def may_record_followup(user: Any, fu: FollowUp) -> bool:
    return (fu.assignee_id is not None and fu.assignee_id == user.pk) or holds_role_over(
        user, fu.unit, R.OFFICE_STAFF
    )


def followup_record(
    *,
    followup: FollowUp,
    by: Any,
    result: str,
    outcome: str,
    method: str = FollowUpMethod.PHONE,
    at: dt.datetime | None = None,
) -> CaseEvent:
    """记录回访. Guard: desk staff of the follow-up's unit or its assignee; not yet recorded;
    result one of 满意/基本满意/不满意/未联系上; method; outcome text. Effect: conditional UPDATE;
    a 不满意 result also opens the office's review task. Event ``followup_done``."""
    if result not in FollowUpResult.values:
        raise DomainError("请选择回访结果", field="result")
    if method not in FollowUpMethod.values:
        raise DomainError("请选择回访方式", field="method")
    outcome = clean_text(outcome or "").strip()
    if len(outcome) < 4:
        raise DomainError("请填写回访情况（至少4个字）", field="outcome")
    if not may_record_followup(by, followup):
        raise PermissionDenied("只有负责回访的信访机构工作人员可以记录回访")
    now = at or timezone.now()
    with transaction.atomic():
        won = FollowUp.objects.filter(pk=followup.pk, done_at__isnull=True).update(
            result=result, outcome=outcome, method=method, done_at=now, done_by=by
        )
        if not won:
            raise ConcurrentChange("该回访已记录，请刷新后查看")
        followup.refresh_from_db()
        case = followup.case
        ev = CaseEvent.objects.create(
            case=case,
            kind="followup_done",
            actor=by,
            actor_unit=followup.unit,
            at=now,
            from_status=case.status,
            to_status=case.status,
            text=outcome,
            data={
                "followup_id": followup.pk,
                "method": method,
                "outcome": result,
                "result_label": FollowUpResult(result).label,
            },
        )
        if result == FollowUpResult.UNSATISFIED:
            office_task_open(case=case, source=ev, by=by, summary=f"回访不满意：{outcome}", at=now)
        return ev


# --- receivers (connected in apps.py) ---------------------------------------------------------


def on_case_evaluated(sender: Any, *, case: Case, event: CaseEvent, by: Any, **_: Any) -> None:
    if event.data.get("evaluation") != Evaluation.UNSATISFIED:
        return
    channel = event.data.get("channel") or EvaluationChannel.IN_PERSON
    label = EvaluationChannel(channel).label if channel in EvaluationChannel.values else channel
    summary = f"信访人对答复不满意（{label}）" + (f"：{event.text}" if event.text else "")
    office_task_open(case=case, source=event, by=by, summary=summary, at=event.at)


def on_case_closed(sender: Any, *, case: Case, event: CaseEvent, by: Any, **_: Any) -> None:
    followup_plan(case=case, close_event=event, by=by)
