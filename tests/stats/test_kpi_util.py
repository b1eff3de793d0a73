"""A KPI fixture built through the lifecycle services, with past ``at=`` times for lateness.

September 2026 (``SEPT``), district 示范区: its direct children are 区信访局, 东湖街道, 西山街道.

东湖街道 (hank, uma):
  A  交办 09-01, 签收 09-02, 受理 09-03 (on time), 答复 09-10, 满意, 办结 09-12 (一次性化解)
  B  交办 09-01, 签收 09-02, 受理 09-25 (late: due 09-16), 答复 09-28, 不满意, 办结 09-30
西山街道 (bob, sue):
  C  a 重复信访 (of A), 交办 09-01, never signed in: its 受理告知 deadline fell due in
     September, unmet → pending, and overdue now
  D  交办 09-01, 签收 09-02, 受理 09-05, 答复 09-20, not evaluated, 办结 09-21 (一次性化解)

Expected (default weights 15/25/10/25/10/15/0):
  东湖街道  及时受理 1/2, 按期办结 2/2, 参评 2/2, 满意 1/2, 重复 0/2, 一次性 1/2 → 72.5 合格
  西山街道  及时受理 1/(1+1), 按期办结 1/1, 参评 0/1, 满意 0/0 (—, full), 重复 1/2, 一次性 1/1
            → 77.5 良好
  区信访局  nothing to assess → no score, ranked after both
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.conftest import World, make_user, registration
from xinfang.cases import services as S
from xinfang.cases.registration import case_register
from xinfang.org import roles as R
from xinfang.stats.periods import Period

SEPT = Period.month(2026, 9)


def at(day: str, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def reply_at(case: Any, handler: Any, head: Any, office: Any, day: str) -> None:
    """The 答复意见书 workflow, served on ``day`` (the reply event dated that day)."""
    from xinfang.replies import services as RS

    RS.draft_save(
        case=case,
        by=handler,
        facts="经调查核实，信访人反映的情况基本属实。",
        basis="依据《信访工作条例》及有关政策规定。",
        decision="经调查核实，已协调有关部门处理完毕。",
        review_organ="示范区人民政府",
    )
    RS.draft_submit(case=case, by=handler)
    RS.draft_approve(case=case, by=head)
    RS.draft_check(case=case, by=office)
    RS.draft_serve(
        case=case,
        by=head,
        served_on=dt.date.fromisoformat(day),
        method="in_person",
        at=at(day, 15),
    )


@dataclass
class KpiWorld:
    w: World
    sue: Any
    cases: dict[str, Any]


def build(world: World) -> KpiWorld:
    sue = make_user("sue", world.sibling, R.UNIT_HEAD, "苏")
    cases: dict[str, Any] = {}

    def reg(name: str, **kw: Any) -> Any:
        c = case_register(
            by=world.rita,
            office=world.office,
            reg=registration(received_at=at("2026-09-01", 9), **kw),
        )
        cases[name] = c
        return c

    def route(case: Any, unit: Any) -> None:
        S.case_assign(case=case, by=world.alice, unit=unit, at=at("2026-09-01", 11))

    a = reg("A")
    route(a, world.street)
    S.case_sign_in(case=a, by=world.hank, at=at("2026-09-02"))
    S.case_accept(case=a, by=world.hank, notice_text="经审查，决定受理。", at=at("2026-09-03"))
    reply_at(a, world.hank, world.uma, world.alice, "2026-09-10")
    S.case_evaluate(case=a, by=world.rita, evaluation="satisfied", at=at("2026-09-11"))
    S.case_close(case=a, by=world.alice, at=at("2026-09-12"))

    b = reg("B")
    route(b, world.street)
    S.case_sign_in(case=b, by=world.hank, at=at("2026-09-02"))
    S.case_accept(case=b, by=world.hank, notice_text="经审查，决定受理。", at=at("2026-09-25"))
    reply_at(b, world.hank, world.uma, world.alice, "2026-09-28")
    S.case_evaluate(case=b, by=world.rita, evaluation="unsatisfied", at=at("2026-09-29"))
    S.case_close(case=b, by=world.alice, at=at("2026-09-30"))

    c = reg("C", related_to_id=a.pk)
    route(c, world.sibling)

    d = reg("D")
    route(d, world.sibling)
    S.case_sign_in(case=d, by=world.bob, at=at("2026-09-02"))
    S.case_accept(case=d, by=world.bob, notice_text="经审查，决定受理。", at=at("2026-09-05"))
    reply_at(d, world.bob, sue, world.alice, "2026-09-20")
    S.case_close(case=d, by=world.alice, at=at("2026-09-21"))
    return KpiWorld(world, sue, cases)


def test_rates_round_the_same_everywhere() -> None:
    """1/16 = 6.25 %: half up to 6.3 % on the dashboard, in the 考核 table and in the bulletins
    (binary floats would write 6.2 %)."""
    from decimal import Decimal

    from xinfang.stats import bulletin_render, bulletins, dashboard
    from xinfang.stats.compare import rate_pct, rate_text
    from xinfang.stats.kpi import KPIS, Rate

    assert rate_pct(1, 16) == Decimal("6.3") and rate_text(1, 16) == "6.3%"
    assert rate_text(0, 0) == "—" and rate_pct(3, 0) is None
    assert dashboard.rate(1, 16) == "6.3%"
    assert Rate(KPIS[0], 1, 16).pct_text == "6.3%" and Rate(KPIS[0], 1, 16).pct == 6.3
    assert bulletin_render.cell_text(bulletins._pct(1, 16), "pct") == "6.3%"
    assert bulletin_render.cell_text(bulletins._pct(2, 3), "pct") == "66.7%"
