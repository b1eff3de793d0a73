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
    ]
}


def actions_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.from_states]


# Timeline rows that are not state changes, then every action: the label a person reads.
EVENT_LABELS: dict[str, str] = {
    "register": "登记",
    "note": "备注",
    "attachment": "附件",
    "person_merge": "信访人合并",
    "accused": "补充被检举控告对象",
    "recuse": "回避收回",
    "intel_suggest": "智能建议",
    "near_duplicate": "疑似重复/群发",
} | {code: a.label for code, a in ACTIONS.items()}
