"""The portal's core seams: the petitioner as actor, online registration, the query-code check,
the receiving office and the database rate limiter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import VALID_ID, World, registration, reply_case
from tests.threads import in_threads, needs_server_db
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent, Status
from xinfang.cases.policy import PetitionerPrincipal, allowed_actions, cases_visible_to
from xinfang.cases.registration import case_register_online
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.core.models import RateCounter
from xinfang.core.ratelimit import RateRule, rate_hit, rate_peek
from xinfang.people.services import PetitionerInput
from xinfang.portal import services as P


def online(world: World, key: str = "portal:t1", **overrides: Any) -> Case:
    values: dict[str, Any] = {"channel": "online"} | overrides
    return case_register_online(
        by=P.portal_user(),
        office=P.portal_office(),
        reg=registration(**values),
        idempotency_key=key,
    )


# --- online registration -------------------------------------------------------------------


def test_online_registration_is_an_ordinary_case_of_the_office(world: World) -> None:
    case = online(world)
    assert case.channel == "online" and case.status == Status.REGISTERED
    assert case.office_unit == world.office  # the topmost petition office
    assert case.registered_by.username == "portal" and not case.registered_by.is_active
    assert not case.registered_by.has_usable_password()
    ev = case.events.get(kind="register")
    assert ev.text == "信访人通过网上信访平台提交"
    assert case.deadlines.filter(kind="route", met_at__isnull=True).exists()
    # the office's clerks see it like any other case
    assert cases_visible_to(world.alice).filter(pk=case.pk).exists()


def test_online_registration_is_idempotent_by_key(world: World) -> None:
    first = online(world, key="portal:same")
    again = online(world, key="portal:same", summary="另一个摘要")
    assert again.pk == first.pk and Case.objects.count() == 1


def test_online_registration_takes_only_what_a_citizen_states(world: World) -> None:
    with pytest.raises(DomainError, match="网上信访平台只能登记网上信访事项"):
        online(world, channel="visit")
    for extra in (
        {"desk_purpose": "petition"},
        {"accused_unit_ids": [world.street.pk]},
        {"known_petitioner_ids": [1]},
        {"final_inform": True},
    ):
        with pytest.raises(DomainError, match="只能填写信访人本人陈述的内容"):
            online(world, key=f"portal:{extra}", **extra)
    assert not Case.objects.exists()


def test_online_registration_validates_like_the_desk(world: World) -> None:
    bad = [PetitionerInput(name="张三", id_number="110105194912310021")]  # wrong check digit
    with pytest.raises(DomainError) as err:
        online(world, petitioners=bad)
    assert err.value.field == "p0_id_number"
    text = "𠀀𪚥 反映😀问题"
    case = online(world, key="portal:ext", summary=text, content=text * 3)
    case.refresh_from_db()
    assert case.summary == text and case.content == text * 3


def test_portal_office_setting(world: World, settings: Any) -> None:
    settings.XINFANG_PORTAL_OFFICE = "110105001"  # 东湖街道's division code
    assert P.portal_office() == world.street
    settings.XINFANG_PORTAL_OFFICE = str(world.office.pk)
    assert P.portal_office() == world.office
    settings.XINFANG_PORTAL_OFFICE = "nonexistent"
    assert P.portal_office() == world.office  # falls back to the topmost office


# --- the petitioner as actor ---------------------------------------------------------------


def test_principal_may_do_only_the_petitioners_acts_on_its_own_case(world: World) -> None:
    case = reply_case(world, online(world))
    other = online(world, key="portal:other")
    me = P.principal(case)
    assert [a.code for a in allowed_actions(me, case)] == ["evaluate", "request_review"]
    assert allowed_actions(me, other) == []
    with pytest.raises(PermissionDenied):
        S.case_close(case=case, by=me)
    with pytest.raises(PermissionDenied):
        S.case_evaluate(case=other, by=P.principal(case), evaluation="satisfied")
    ev = S.case_evaluate(
        case=case, by=me, evaluation="unsatisfied", comment="答复未解决问题", channel="portal"
    )
    assert ev.actor is None and ev.actor_unit is None
    assert ev.data == {"evaluation": "unsatisfied", "channel": "portal", "by_petitioner": "portal"}
    # 不满意 → the office's review task (followup), with no staff creator
    task = ev.case.office_tasks.get() if hasattr(ev.case, "office_tasks") else None
    from xinfang.followup.models import OfficeTask

    task = OfficeTask.objects.get(case=case)
    assert task.created_by is None
    review = S.case_request_review(case=case, by=me, reason="对答复意见不服，请求复查")
    assert review.actor is None and review.data["by_petitioner"] == "portal"
    case.refresh_from_db()
    assert case.status == Status.REVIEW_REQUESTED


def test_principal_is_never_a_staff_user(world: World) -> None:
    me = PetitionerPrincipal(case_id=1)
    assert not me.is_authenticated
    assert not cases_visible_to(me).exists()


# --- the query-code check ------------------------------------------------------------------


def test_verify_access_by_phone_or_id_tail(world: World) -> None:
    case = online(world)
    code = case.query_code
    assert P.verify_access(code, "13812345678") == case
    assert P.verify_access(code.lower(), "138 1234 5678") == case
    assert P.verify_access(f"{code[:5]}-{code[5:]}", "+86 13812345678") == case
    assert P.verify_access(code, VALID_ID[-6:]) == case
    assert P.verify_access(code, VALID_ID[-6:].lower()) == case


def test_verify_access_is_uniformly_none(world: World) -> None:
    case = online(world)
    other = online(
        world,
        key="portal:o",
        petitioners=[PetitionerInput(name="李四", phone="13900001111")],
    )
    for code, secret in [
        ("ZZZZZZZZZZ", "13812345678"),  # unknown code
        (case.query_code, "13900001111"),  # someone else's phone
        (case.query_code, "000000"),  # wrong ID tail
        (case.query_code, ""),
        ("", "13812345678"),
        ("bad code!", "13812345678"),
        (other.query_code, VALID_ID[-6:]),
    ]:
        assert P.verify_access(code, secret) is None


def test_normalise_code() -> None:
    assert P.normalise_code("ab cd-ef gh jk") == "ABCDEFGHJK"
    assert P.normalise_code("ＡＢＣＤＥＦＧＨＪＫ") == "ABCDEFGHJK"
    assert P.normalise_code("ABCDEFGHI1") == ""  # I and 1 are never in a code
    assert P.normalise_code("ABC") == ""


def test_cosigner_phone_opens_a_joint_petition(world: World) -> None:
    case = online(
        world,
        petitioners=[
            PetitionerInput(name="张三", phone="13812345678"),
            PetitionerInput(name="王五", phone="13700002222"),
        ],
    )
    assert case.is_joint
    assert P.verify_access(case.query_code, "13700002222") == case


# --- rate limits ---------------------------------------------------------------------------


def test_rate_rule_parsing() -> None:
    assert RateRule.parse("30/10m") == RateRule(30, 600)
    assert RateRule.parse("5/1h") == RateRule(5, 3600)
    assert RateRule.parse("100/1d") == RateRule(100, 86400)
    assert RateRule.parse("7/45") == RateRule(7, 45)
    assert RateRule.parse("0").limit == 0


def test_rate_hit_counts_per_identity_and_window(db: Any) -> None:
    rule = RateRule(3, 60)
    t = 1_000_020.0
    results = [rate_hit("t", "1.2.3.4", rule, now=t).allowed for _ in range(4)]
    assert results == [True, True, True, False]
    assert rate_hit("t", "5.6.7.8", rule, now=t).allowed  # another identity
    assert rate_hit("t", "1.2.3.4", rule, now=t + 60).allowed  # the next window
    assert rate_peek("t", "1.2.3.4", rule, now=t) == 4
    # identities are stored as HMACs, never as the value
    assert not RateCounter.objects.filter(ident__contains="1.2.3.4").exists()
    assert rate_hit("t", "x", RateRule(0, 60)).allowed  # disabled rule


@needs_server_db
@pytest.mark.django_db(transaction=True)
def test_rate_hit_is_atomic_across_connections() -> None:
    rule = RateRule(1000, 3600)
    now = timezone.now().timestamp()
    counts = in_threads(
        8, lambda i: [rate_hit("c", "same", rule, now=now).count for _ in range(25)]
    )
    flat = sorted(c for run in counts for c in run)
    assert flat == list(range(1, 201)), "every request counted exactly once"
    assert connection.vendor == "postgresql"


def test_event_kinds_are_unchanged_for_staff(world: World) -> None:
    """A staff action still records its actor and unit (the principal changed nothing there)."""
    case = online(world)
    ev = S.case_assign(case=case, by=world.alice, unit=world.street)
    assert ev.actor == world.alice and ev.actor_unit == world.office
    assert "by_petitioner" not in ev.data
    assert CaseEvent.objects.filter(case=case, actor__isnull=True, kind="register").count() == 0
    assert timezone.now() - ev.at < dt.timedelta(minutes=1)
