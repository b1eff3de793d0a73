"""Property: whatever random workload goes through the real services — registrations on any
channel with 1–8 persons, back-dated up to 400 days (across a new year, on 29 February 2024),
routing, sign-in, acceptance or refusal, return, transfer, extension, reply, evaluation, close,
复查, merge and correction, at times moving forward — the incrementally kept rollups equal a
recomputation from the events (``rollup.check().ok``). And the ``stats_check`` command."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import VALID_ID, World, registration, serve_reply
from tests.stats.factory import at
from xinfang.cases import services as S
from xinfang.cases.corrections import case_correct
from xinfang.cases.handling import case_merge, case_transfer
from xinfang.cases.models import Case, Category, Channel, Status
from xinfang.cases.registration import case_register
from xinfang.core.errors import DomainError
from xinfang.people.services import PetitionerInput
from xinfang.stats import rollup
from xinfang.stats.models import IntakeDay, IntakeMonth

SPECIAL_DAYS = [
    at("2024-02-29", 15),
    at("2025-12-31", 23).replace(minute=45),
    at("2026-01-01", 0).replace(minute=15),
]
PLACES = ["", "110105", "110105001", "110105002", "110105001001"]
ACTIONS = [
    "inform",
    "assign",
    "forward",
    "sign_in",
    "accept",
    "refuse",
    "return",
    "transfer",
    "extension",
    "reply",
    "evaluate",
    "close",
    "request_review",
    "decide_review",
    "merge",
    "correct",
]

received = st.one_of(
    st.sampled_from(SPECIAL_DAYS),
    st.integers(min_value=0, max_value=400 * 24).map(
        lambda h: timezone.now() - dt.timedelta(hours=h, minutes=5)
    ),
)
case_spec = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(Channel.values),
        "headcount": st.integers(min_value=1, max_value=8),
        "category": st.integers(min_value=0, max_value=5),
        "place": st.sampled_from(PLACES),
        "received_at": received,
        "known": st.booleans(),  # the same identified person: later cases are 重复
    }
)
step = st.tuples(
    st.integers(min_value=0, max_value=7),  # which case
    # which of the actions its state allows (0, half the time: the next step of its life)
    st.one_of(st.just(0), st.integers(min_value=0, max_value=1000)),
    st.integers(min_value=0, max_value=1000),  # the action's parameter
    # hours the clock moves forward first: mostly within days, at times weeks
    st.one_of(st.integers(min_value=0, max_value=48), st.integers(min_value=0, max_value=20 * 24)),
)
# The next step of a case's life first (``_allowed``'s order).
PROGRESS = [
    "sign_in",
    "accept",
    "reply",
    "evaluate",
    "decide_review",
    "assign",
    "close",
    "request_review",
]


def _allowed(status: str) -> list[str]:
    """The workload's actions offered in ``status`` (the lifecycle table, plus extension and
    reply on an accepted case and a correction at any time): random steps reach every state."""
    from xinfang.cases.transitions import ACTIONS as LIFECYCLE

    out = []
    for code in ACTIONS:
        if code in ("extension", "reply"):
            ok = status == Status.ACCEPTED
        elif code == "correct":
            ok = True
        else:
            ok = status in LIFECYCLE[code].from_states
        if ok:
            out.append(code)
    return sorted(out, key=lambda c: PROGRESS.index(c) if c in PROGRESS else len(PROGRESS))


def _categories() -> list[int | None]:
    ids = list(Category.objects.filter(level=2, is_active=True).order_by("pk")[:5])
    return [None, *[c.pk for c in ids]]


class Workload:
    def __init__(self, world: World) -> None:
        self.w = world
        self.clock = timezone.now()
        self.cats = _categories()
        self.cases: list[int] = []

    def staff(self, case: Case) -> Any:
        return {self.w.street.pk: self.w.hank, self.w.sibling.pk: self.w.bob}.get(
            case.handling_unit_id or 0, self.w.hank
        )

    def register(self, spec: dict[str, Any]) -> None:
        person = (
            PetitionerInput(name="张三", id_number=VALID_ID)
            if spec["known"]
            else PetitionerInput(name=f"来访人{len(self.cases)}")
        )
        case = case_register(
            by=self.w.rita,
            office=self.w.office,
            reg=registration(
                channel=spec["channel"],
                headcount=spec["headcount"],
                category_id=self.cats[spec["category"] % len(self.cats)],
                place_code=spec["place"],
                received_at=spec["received_at"],
                petitioners=[person],
            ),
        )
        self.cases.append(case.pk)

    def act(self, index: int, choice: int, p: int, hours: int) -> str:
        self.clock += dt.timedelta(hours=hours, seconds=1)
        case = Case.objects.get(pk=self.cases[index % len(self.cases)])
        offered = _allowed(case.status)
        action = offered[choice % len(offered)]
        run = self.action(case, action, p, self.clock)
        try:
            with transaction.atomic():  # a refused step leaves nothing behind
                run()
        except DomainError as exc:
            return f"{action}: {exc.message}"
        return action

    def action(self, case: Case, action: str, p: int, t: dt.datetime) -> Callable[[], Any]:
        w = self.w
        unit = w.sibling if p % 4 == 3 else w.street  # mostly 东湖街道: it can reply
        staff = self.staff(case)
        day = timezone.localtime(t).date()
        ev = ["satisfied", "basically", "unsatisfied"][p % 3]
        other = Case.objects.get(pk=self.cases[p % len(self.cases)])
        table: dict[str, Callable[[], Any]] = {
            "inform": lambda: S.case_inform(case=case, by=w.rita, reason="属于诉讼途径解决", at=t),
            "assign": lambda: S.case_assign(case=case, by=w.alice, unit=unit, at=t),
            "forward": lambda: S.case_forward(case=case, by=w.alice, unit=unit, at=t),
            "sign_in": lambda: S.case_sign_in(case=case, by=staff, at=t),
            "accept": lambda: S.case_accept(case=case, by=staff, notice_text="决定受理。", at=t),
            "refuse": lambda: S.case_refuse(
                case=case, by=staff, notice_text="不属于本单位职责范围。", at=t
            ),
            "return": lambda: S.case_return(case=case, by=staff, reason="非本单位管辖", at=t),
            "transfer": lambda: case_transfer(
                case=case, by=w.alice, unit=unit, reason="调整承办单位", at=t
            ),
            "extension": lambda: self.extension(case, staff, p, t),
            "reply": lambda: self.reply(case, t, day),
            "evaluate": lambda: S.case_evaluate(case=case, by=w.rita, evaluation=ev, at=t),
            "close": lambda: S.case_close(case=case, by=w.alice, at=t),
            "request_review": lambda: S.case_request_review(
                case=case, by=w.rita, reason="对答复不服申请复查", at=t
            ),
            "decide_review": lambda: S.case_decide_review(
                case=case, by=w.alice, text="经复查，维持原处理意见。", at=t
            ),
            "merge": lambda: case_merge(case=case, by=w.alice, into=other, note="重复", at=t),
            "correct": lambda: self.correct(case, p, t),
        }
        return table[action]

    def extension(self, case: Case, staff: Any, p: int, t: dt.datetime) -> None:
        S.case_request_extension(case=case, by=staff, days=1 + p % 30, reason="情况复杂", at=t)
        S.case_decide_extension(
            case=case, by=self.w.alice, approve=bool(p % 2), note="理由不充分", at=t
        )

    def reply(self, case: Case, t: dt.datetime, day: dt.date) -> None:
        if case.handling_unit_id != self.w.street.pk:
            raise DomainError("只在东湖街道已受理的事项上答复（工作量的约定）")
        serve_reply(self.w, case, at=t, served_on=day)

    def correct(self, case: Case, p: int, t: dt.datetime) -> None:
        field = p % 4
        kw: dict[str, Any] = {}
        if field == 0:
            kw["category_id"] = self.cats[1 + p % (len(self.cats) - 1)]
        elif field == 1:
            kw["headcount"] = 1 + p % 8
        elif field == 2:
            kw["channel"] = Channel.values[p % len(Channel.values)]
        else:
            kw["place_code"] = PLACES[p % len(PLACES)]
        case_correct(case=case, by=self.w.alice, reason="更正登记错误", at=t, **kw)


@settings(
    max_examples=30,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    specs=st.lists(case_spec, min_size=1, max_size=6),
    steps=st.lists(step, min_size=4, max_size=36),
)
def test_rollups_equal_recomputation_after_random_workloads(
    world: World, specs: list[dict[str, Any]], steps: list[tuple[int, int, int, int]]
) -> None:
    load = Workload(world)
    for spec in specs:
        load.register(spec)
    done = [load.act(*s) for s in steps]
    for outcome in done:
        event(outcome if ":" not in outcome else outcome.split(":")[0] + " refused")
    report = rollup.check()
    assert report.ok, (
        f"rollups differ after {done}: {report.differences[:8]}, "
        f"wrong facts {report.wrong_cases[:8]}, missing {report.facts_missing}"
    )


# --- the stats_check command ---------------------------------------------------------------


def _run(*args: str) -> str:
    out = StringIO()
    call_command("stats_check", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_stats_check_command(world: World, register: Any) -> None:
    register(received_at=at("2026-01-10"), headcount=3)
    register(received_at=at("2026-03-05"))
    assert "一致。" in _run()
    # a corrupted day cell (January): listed, non-zero exit, repaired
    IntakeDay.objects.filter(day=dt.date(2026, 1, 10)).update(batches=F("batches") + 1)
    with pytest.raises(CommandError, match="不一致"):
        _run()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("stats_check", stdout=out, stderr=StringIO())
    assert "day ('i', '2026-01-10'" in out.getvalue() and "应为 [1, 3]，实为 [2, 3]" in (
        out.getvalue()
    )
    # --since after the corruption does not look at it; before it does
    assert "一致。" in _run("--since", "2026-03-01")
    with pytest.raises(CommandError):
        _run("--since", "2026-01-01")
    assert "已修复，复核一致。" in _run("--repair")
    assert "一致。" in _run()
    # a month cell, repaired through --since (the wrong case's cells are refreshed)
    IntakeMonth.objects.filter(month=dt.date(2026, 3, 1)).update(persons=F("persons") + 5)
    with pytest.raises(CommandError):
        _run("--since", "2026-03-01")
    assert "一致。" in _run("--since", "2026-03-02")  # month cells only from a 1st
    assert "已修复，复核一致。" in _run("--repair")
    assert "一致。" in _run()
    with pytest.raises(CommandError, match="--since 须为日期"):
        _run("--since", "2026-13-01")


def test_repair_since_fixes_a_corrupted_cell(world: World, register: Any) -> None:
    register(received_at=at("2026-03-05"))
    IntakeDay.objects.filter(day=dt.date(2026, 3, 5)).update(batches=F("batches") + 1)
    _run("--since", "2026-03-01", "--repair")
    assert "一致。" in _run()
