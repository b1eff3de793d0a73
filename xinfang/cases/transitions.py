"""The lifecycle as data: for each action, the states it may start from, the state it leads to,
which side acts (the petition office that registered the case, or the unit handling it) and with
which roles. Services and the access policy both read this table; nothing else knows the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xinfang.cases.models import Status as S
from xinfang.org import roles as R


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    from_states: frozenset[str]
    to_state: str | None  # None: the state does not change (e.g. an extension request)
    side: str  # "office" or "handling"
    roles: frozenset[str]


def _a(code: str, label: str, frm: Any, to: str | None, side: str, roles: set[str]) -> Action:
    return Action(code, label, frozenset(frm), to, side, frozenset(roles))


ROUTABLE: set[str] = {S.REGISTERED, S.RETURNED}
OFFICE = {R.CASE_OFFICER}
DESK = {R.RECEPTIONIST, R.CASE_OFFICER}
UNIT = {R.HANDLER, R.UNIT_HEAD}
# With a handling unit (合并 also before routing): 转办 moves it, 合并 ends a duplicate.
HANDLED: set[str] = {S.ASSIGNED, S.FORWARDED, S.SIGNED, S.ACCEPTED}
MERGEABLE: set[str] = ROUTABLE | HANDLED

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in [
        _a("assign", "交办", ROUTABLE, S.ASSIGNED, "office", OFFICE),
        _a("forward", "转送", ROUTABLE, S.FORWARDED, "office", OFFICE),
        _a("inform", "告知（不予受理）", ROUTABLE, S.INFORMED, "office", DESK),
        _a("sign_in", "签收", {S.ASSIGNED, S.FORWARDED}, S.SIGNED, "handling", UNIT),
        _a("accept", "受理", {S.SIGNED}, S.ACCEPTED, "handling", UNIT),
        _a("refuse", "不予受理", {S.SIGNED}, S.REFUSED, "handling", UNIT),
        _a(
            "return",
            "退回",
            {S.ASSIGNED, S.FORWARDED, S.SIGNED, S.ACCEPTED},
            S.RETURNED,
            "handling",
            UNIT,
        ),
        _a("request_extension", "申请延期", {S.ACCEPTED}, None, "handling", UNIT),
        _a("decide_extension", "审批延期", {S.ACCEPTED}, None, "office", OFFICE),
        _a("reply", "答复", {S.ACCEPTED}, S.REPLIED, "handling", UNIT),
        _a("evaluate", "满意度评价", {S.REPLIED}, S.EVALUATED, "office", DESK),
        _a(
            "close",
            "办结",
            {S.REPLIED, S.EVALUATED, S.INFORMED, S.REFUSED, S.REVIEWED},
            S.CLOSED,
            "office",
            OFFICE,
        ),
        _a(
            "request_review",
            "复查申请",
            {S.REPLIED, S.EVALUATED, S.CLOSED},
            S.REVIEW_REQUESTED,
            "office",
            DESK,
        ),
        _a("decide_review", "复查决定", {S.REVIEW_REQUESTED}, S.REVIEWED, "office", OFFICE),
        _a(
            "request_rereview",
            "复核申请",
            {S.REVIEWED, S.CLOSED},
            S.REREVIEW_REQUESTED,
            "office",
            DESK,
        ),
        _a(
            "decide_rereview", "复核决定（终结）", {S.REREVIEW_REQUESTED}, S.FINAL, "office", OFFICE
        ),
        _a("merge", "合并", MERGEABLE, S.MERGED, "office", OFFICE),
        _a("transfer", "转办", HANDLED, S.ASSIGNED, "office", OFFICE),
    ]
}


def actions_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.from_states]


# Timeline rows that are not state changes, then every action: the label a person reads.
EVENT_LABELS: dict[str, str] = {
    "register": "登记",
    "correct": "更正登记信息",
    "note": "备注",
    "attachment": "附件",
    "person_merge": "信访人合并",
    "accused": "补充被检举控告对象",
    "recuse": "回避收回",
    "intel_suggest": "智能建议",
    "progress_notice": "进展告知",
    "extension_notice": "延期告知",
    "petitioner_message": "告知信访人",
    "near_duplicate": "疑似重复/群发",
    "reply_draft": "起草答复意见书",
    "reply_submit": "答复意见书提交审批",
    "reply_approve": "答复意见书审批",
    "reply_check": "答复意见书审核",
    "reply_reject": "答复意见书退回修改",
    "final_repeat": "已终结事项再次信访",
    "final_override": "终结事项按新事项登记",
    "psych_referral": "转介心理疏导",
    "handover": "首问移交",
    "instruct": "领导批示",
    "instruction_report": "批示落实报告",
    "instruction_close": "批示办结",
    "instruction_return": "批示报告退回",
    "instruction_urge": "批示催办",
    "investigation": "调查记录",
    "evidence": "证据材料",
    "merge_in": "并入重复事项",
    "link": "关联事项",
    "dissatisfied_task": "不满意复核任务",
    "office_task_done": "复核任务办结",
    "followup_plan": "安排回访",
    "followup_done": "回访",
    "hearing_schedule": "安排听证",
    "hearing_record": "听证记录",
    "hearing_cancel": "取消听证",
    "remind": "临期提醒",
    "urge": "催办",
    "supervise": "督办",
    "escalate": "提级督办",
    "sign_in_remind": "签收提醒",
    "leader_reception": "领导接待",
    "ownership": "领导包案",
    "ownership_end": "结束包案",
    "collective_alert": "集体访提醒值班领导",
} | {code: a.label for code, a in ACTIONS.items()}


# Timeline rows a petitioner may see (the public portal, notices): state changes and what was
# sent to them — never internal notes, investigation records, evidence or supervision steps.
# Features add their public kinds here.
PUBLIC_EVENT_KINDS: frozenset[str] = frozenset(
    {
        "register",
        "assign",
        "forward",
        "transfer",  # 转办: the petitioner reads which unit now handles it (never the reason)
        "inform",
        "accept",
        "refuse",
        "reply",
        "evaluate",
        "close",
        "request_review",
        "decide_review",
        "request_rereview",
        "decide_rereview",
        "progress_notice",
        "extension_notice",
        "petitioner_message",
        "followup_done",
        "hearing_schedule",
        "hearing_record",
    }
)
