"""The timeline of one demo case: which service calls, in which order, after how many days.

Delays follow practice and the national time limits: routed within days (a few late), signed in
within 1–2 days, accepted within the 15-day limit (a few late), replied within 10–55 days of
acceptance (some past the 60-day limit, some after an extension), evaluated within a week,
closed; the unsatisfied may request 复查 and then 复核 within their 30-day windows.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from xinfang.cases.models import Channel, ServeMethod
from xinfang.core import workcalendar
from xinfang.org import demo_text as T
from xinfang.org.demo_topics import Topic, Variant

if TYPE_CHECKING:
    from xinfang.org.demo import DemoOrg

# Scenarios that run the whole handling path (a few of these are returned and re-routed).
FULL_PATH = {"closed", "evaluated", "replied", "accepted", "signed"}
REVIEW_PATH = {"review_requested", "reviewed", "closed_review", "rereview_requested", "final"}
SERVE_METHODS = [
    (ServeMethod.IN_PERSON, 35.0),
    (ServeMethod.POST, 30.0),
    (ServeMethod.SMS, 15.0),
    (ServeMethod.PORTAL, 20.0),
]
DEPARTMENTS = ("zj", "rs", "hb", "jy", "wj", "sj", "ga", "jt", "mz", "cg", "zr", "cz")


OFFICE_HOURS_CHANNELS = {
    Channel.VISIT,
    Channel.COLLECTIVE_VISIT,
    Channel.LETTER,
    Channel.FAX,
    Channel.LEADER_DAY,
    Channel.FIELD_VISIT,
    Channel.FROM_ABOVE,
}


@dataclass
class Step:
    code: str
    days: float  # delay after the previous step, before moving into office hours
    kwargs: dict[str, Any] = field(default_factory=dict)
    at: dt.datetime | None = None


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def _route_days(rng: random.Random) -> float:
    return rng.uniform(15, 19) if rng.random() < 0.03 else rng.uniform(0.1, 5)


def _units(rng: random.Random, topic: Topic, office: str, street: str) -> tuple[str, str]:
    """The unit the case goes to first, and the one it goes to if that unit returns it."""
    cands = [street if u == "street" else u for u in topic.units]
    if office != "office":  # a street's own petition office sends cases to district bodies
        cands = [u for u in cands if u != office] or ["zj"]
    first = rng.choice(cands)
    others = [u for u in cands if u != first] or [u for u in DEPARTMENTS if u != first]
    return first, rng.choice(others)


def _route_code(rng: random.Random, scenario: str, unit: str, variant: Variant) -> str:
    if scenario in ("assigned", "forwarded"):
        return "assign" if scenario == "assigned" else "forward"
    if variant.purpose == "accusation":
        return "forward"
    street_unit = unit not in DEPARTMENTS and unit not in ("jw", "ctjs")
    return "assign" if rng.random() < (0.7 if street_unit else 0.4) else "forward"


def _note(code: str, unit: str, org: DemoOrg) -> str:
    name = org.units[unit].name
    if code == "assign":
        return f"交办{name}办理，请于受理后60日内办结并报送办理结果。"
    return f"转送{name}依法处理。"


def _reply_text(rng: random.Random, topic: Topic, review: bool) -> str:
    weights = [(0, 20.0), (1, 50.0), (2, 30.0)] if review else [(0, 55.0), (1, 35.0), (2, 10.0)]
    outcome = _pick(rng, weights)
    if outcome == 0:
        return T.REPLY_SUPPORT.format(fix=rng.choice(topic.fixes))
    return T.REPLY_EXPLAIN if outcome == 1 else T.REPLY_REJECT


def build_steps(
    rng: random.Random,
    scenario: str,
    office: str,
    street: str,
    topic: Topic,
    variant: Variant,
    org: DemoOrg,
) -> list[Step]:
    u = rng.uniform
    steps: list[Step] = []
    if scenario == "registered":
        return steps
    if scenario in ("informed", "closed_inform"):
        reason = T.INFORM_LEGAL
        if topic.legal < 0.5 and rng.random() < 0.3:
            reason = T.INFORM_OTHER.format(other=rng.choice(T.OTHER_JURISDICTIONS))
        steps.append(Step("inform", _route_days(rng), {"reason": reason}))
        if scenario == "closed_inform":
            steps.append(Step("close", u(0, 3), {"note": "已书面告知信访人，办结。"}))
        return steps
    first, second = _units(rng, topic, office, street)
    code = _route_code(rng, scenario, first, variant)
    steps.append(Step(code, _route_days(rng), {"unit": first, "note": _note(code, first, org)}))
    if scenario == "returned" or (scenario in FULL_PATH and rng.random() < 0.05):
        if rng.random() < 0.5:
            steps.append(Step("sign_in", u(0.1, 2)))
        other = org.units[second].name
        reason = rng.choice(T.RETURN_REASONS).format(other=other)
        steps.append(Step("return", u(0.5, 5), {"reason": reason}))
        if scenario == "returned":
            return steps
        code = _route_code(rng, scenario, second, variant)
        note = "根据承办单位退回意见，" + _note(code, second, org)
        steps.append(Step(code, u(0.2, 3), {"unit": second, "note": note}))
    if scenario in ("assigned", "forwarded"):
        return steps
    steps.append(Step("sign_in", u(2, 6) if rng.random() < 0.08 else u(0.1, 2)))
    if scenario == "signed":
        return steps
    if scenario in ("refused", "closed_refuse"):
        steps.append(Step("refuse", u(1, 8), {"notice_text": T.REFUSE_REASON}))
        if scenario == "closed_refuse":
            steps.append(Step("close", u(0.5, 4), {"note": ""}))
        return steps
    steps.append(
        Step(
            "accept",
            u(10, 20) if rng.random() < 0.06 else u(0.2, 6),
            {"notice_text": T.ACCEPT_NOTICE},
        )
    )
    extension = rng.random() < (0.1 if scenario == "accepted" else 0.08)
    reply_after = u(55, 72) if rng.random() < 0.12 else u(8, 55)
    if extension:
        reason = rng.choice(T.EXTENSION_REASONS)
        days = rng.choice([15, 20, 30, 30])
        steps.append(Step("request_extension", u(38, 52), {"days": days, "reason": reason}))
        approve = rng.random() < 0.85
        note = "" if approve else T.EXTENSION_DENIED
        steps.append(Step("decide_extension", u(0.5, 3), {"approve": approve, "note": note}))
        reply_after = u(5, days) if approve else u(2, 15)
    if scenario == "accepted":
        return steps
    review = scenario in REVIEW_PATH
    method = _pick(rng, SERVE_METHODS)
    steps.append(
        Step("reply", reply_after, {"text": _reply_text(rng, topic, review), "method": method})
    )
    if scenario == "replied":
        return steps
    if review:
        evaluation = "unsatisfied" if rng.random() < 0.8 else "basically"
    else:
        evaluation = _pick(rng, [("satisfied", 70.0), ("basically", 20.0), ("unsatisfied", 10.0)])
    if review or scenario == "evaluated" or rng.random() < 0.87:
        comment = rng.choice(T.EVALUATION_COMMENTS[evaluation])
        steps.append(Step("evaluate", u(1, 6), {"evaluation": evaluation, "comment": comment}))
    if scenario == "evaluated":
        return steps
    if scenario == "closed":
        steps.append(Step("close", u(0, 5), {"note": rng.choice(T.CLOSE_NOTES)}))
        return steps
    if rng.random() < 0.5:
        steps.append(Step("close", u(0, 3), {"note": ""}))
    steps.append(Step("request_review", u(2, 8), {"reason": rng.choice(T.REVIEW_REASONS)}))
    if scenario == "review_requested":
        return steps
    steps.append(Step("decide_review", u(8, 27), {"text": T.REVIEW_DECISION}))
    if scenario == "reviewed":
        return steps
    if scenario == "closed_review":
        steps.append(Step("close", u(0.5, 5), {"note": "复查意见已送达，办结。"}))
        return steps
    steps.append(Step("request_rereview", u(3, 15), {"reason": T.REREVIEW_REASON}))
    if scenario == "rereview_requested":
        return steps
    steps.append(Step("decide_rereview", u(8, 27), {"text": T.REREVIEW_DECISION}))
    return steps


class Clock:
    """Office-hours arithmetic on the working calendar (times are Asia/Shanghai)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tz = timezone.get_current_timezone()

    def at_local(self, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), self.tz)

    def next_workday(self, day: dt.date) -> dt.date:
        while not workcalendar.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def office(self, t: dt.datetime) -> dt.datetime:
        """``t`` if within office hours of a working day, else the next opening + a little."""
        local = timezone.localtime(t)
        minutes = local.hour * 60 + local.minute
        day = local.date()
        if workcalendar.is_workday(day) and 510 <= minutes <= 1050:
            return t
        if minutes > 1050 or not workcalendar.is_workday(day):
            day = self.next_workday(day + dt.timedelta(days=1))
        return self.at_local(day, 510 + self.rng.randint(5, 180))

    def received(self, anchor: dt.datetime, channel: str) -> dt.datetime:
        day = timezone.localtime(anchor).date()
        rng = self.rng
        if channel == Channel.LEADER_DAY:  # every Wednesday
            day += dt.timedelta(days=(2 - day.weekday()) % 7)
            while not workcalendar.is_workday(day):
                day += dt.timedelta(days=7)
            return self.at_local(day, 540 + rng.randint(0, 360))
        if channel in OFFICE_HOURS_CHANNELS:
            return self.at_local(self.next_workday(day), 520 + rng.randint(0, 500))
        if channel == Channel.PHONE:
            return self.at_local(day, 480 + rng.randint(0, 780))
        return self.at_local(day, rng.choice([rng.randint(0, 1439), rng.randint(420, 1380)]))
