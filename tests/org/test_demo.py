"""manage.py load_demo: the demo jurisdiction is complete and its cases are what the services
would have produced (gap-free numbers, timelines that end in the case's status)."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from xinfang.cases import deadlines
from xinfang.cases.models import Case, CaseEvent, Status
from xinfang.core.idcard import validate_id_number
from xinfang.core.masking import validate_phone
from xinfang.org.demo import DEMO_PASSWORD, load_org
from xinfang.org.demo_cases import make_plans
from xinfang.org.models import Membership, Unit, UnitType
from xinfang.org.roles import SEED_ROLES
from xinfang.people.models import Petitioner

N_CASES = 200


def _load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_module(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Loaded once for the module inside a transaction that is rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _load("--cases", str(N_CASES), "--seed", "7")
        transaction.set_rollback(True)


@pytest.fixture
def demo(demo_module: str, db: Any) -> str:
    return demo_module


def test_units_and_users(demo: str) -> None:
    assert set(Unit.objects.values_list("unit_type", flat=True)) == set(UnitType.values)
    district = Unit.objects.get(unit_type=UnitType.DISTRICT)
    assert len(district.division_code) == 6
    offices = Unit.objects.filter(is_petition_office=True)
    assert offices.filter(name="区信访局").exists()
    assert offices.filter(unit_type=UnitType.STREET).count() >= 6
    assert Unit.objects.filter(unit_type=UnitType.COMMUNITY).count() >= 30
    assert Unit.objects.filter(unit_type=UnitType.DEPARTMENT).count() >= 12
    assert not Unit.objects.exclude(unit_type=UnitType.GRID).filter(phone="").exists()
    # Every role has a user; the login table lists them all.
    held = set(Membership.objects.values_list("role__code", flat=True))
    assert held == {code for code, _name, _desc in SEED_ROLES}
    for username in User.objects.values_list("username", flat=True):
        assert username in demo
    assert DEMO_PASSWORD in demo


def test_separation_of_duties(demo: str) -> None:
    assert not User.objects.filter(is_superuser=True).exists()
    admin = User.objects.get(username="xitong")
    assert admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert admin.has_perm("org.change_unit") and admin.has_perm("cases.change_category")
    assert admin.has_perm("core.add_calendarday")
    assert not admin.has_perm("cases.view_case") and not admin.has_perm("cases.view_caseevent")
    assert not admin.has_perm("people.view_petitioner")
    assert not User.objects.get(username="banan").is_staff


def test_cases_cover_every_status_and_deadline_state(demo: str) -> None:
    assert Case.objects.count() == N_CASES
    # 已合并 needs a duplicate pair picked by a clerk; the demo has none (yet).
    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values) - {
        Status.MERGED
    }
    assert "未执行的办理步骤" not in demo
    today = timezone.localdate()
    cases = Case.objects.all()
    assert deadlines.filter_deadline_state(cases, deadlines.OVERDUE, today).exists()
    assert deadlines.filter_deadline_state(cases, deadlines.DUE_SOON, today).exists()
    assert cases.filter(is_repeat=True).exists()
    assert cases.filter(is_collective=True, headcount__gte=5).exists()
    assert cases.filter(is_joint=True).exists()
    assert cases.filter(is_skip_level=True).exists()
    now = timezone.now()
    assert not cases.filter(received_at__lt=now - dt.timedelta(days=400)).exists()
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    assert not cases.filter(category__isnull=True).exists()


def test_numbers_gap_free_per_unit_and_year(demo: str) -> None:
    seqs: dict[tuple[int, str], list[int]] = defaultdict(list)
    for office_id, number in Case.objects.values_list("office_unit_id", "number"):
        _xf, _code, year, seq = number.split("-")
        seqs[(office_id, year)].append(int(seq))
    assert seqs
    for found in seqs.values():
        assert sorted(found) == list(range(1, len(found) + 1))


def test_timelines_match_status(demo: str) -> None:
    events: dict[int, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    for case_id, at, kind, to in CaseEvent.objects.order_by("case_id", "at", "id").values_list(
        "case_id", "at", "kind", "to_status"
    ):
        events[case_id].append((at, kind, to))
    for case_id, status, received in Case.objects.values_list("id", "status", "received_at"):
        timeline = events[case_id]
        assert timeline[0][1] == "register"
        assert timeline[0][0] >= received
        assert timeline[-1][2] == status, case_id


def test_petitioners_have_valid_ids_and_phones(demo: str) -> None:
    people = Petitioner.objects.all()
    assert people.filter(id_number_bidx__isnull=False).count() > people.count() // 2
    for id_number, phone in ((p.id_number, p.phone) for p in people):
        if id_number:
            assert validate_id_number(id_number).number == id_number
        if phone:
            assert validate_phone(phone) == phone


def test_if_empty_is_a_no_op_the_second_time(db: Any) -> None:
    before = Case.objects.count()  # the module's demo may be loaded already
    _load("--cases", "12")
    counts = (Case.objects.count(), Unit.objects.count(), User.objects.count())
    assert counts[0] == before + 12
    out = _load("--if-empty", "--cases", "12")
    assert "跳过" in out
    assert "jiedai" in out and DEMO_PASSWORD in out  # `make run` shows the logins every time
    assert (Case.objects.count(), Unit.objects.count(), User.objects.count()) == counts


def test_plans_are_deterministic(db: Any) -> None:
    org = load_org()
    now = timezone.now()

    def fingerprint(seed: int) -> list[tuple[Any, ...]]:
        return [
            (p.reg.summary, p.reg.received_at, p.channel, [s.code for s in p.steps])
            for p in make_plans(org, 40, seed, now)
        ]

    assert fingerprint(3) == fingerprint(3)
    assert fingerprint(3) != fingerprint(4)


def test_reception_demo(demo: str) -> None:
    """The desk has something to show: this week's 值班领导, a 领导接待日 with bookings, a 包案."""
    from xinfang.reception.models import Booking, CaseOwnership, DutyRoster, ReceptionDay

    assert DutyRoster.objects.count() == 7
    day = ReceptionDay.objects.get()
    assert day.leader.username == "lingdao"
    assert Booking.objects.filter(day=day).count() >= 1
    assert CaseOwnership.objects.filter(ended_at__isnull=True, leader=day.leader).count() == 1


def test_prevention_demo(demo: str) -> None:
    """预防排查 has something to show: informants, the register in every state, a round with
    reports in and units late, an urgent report with its alert, the sweep's alerts."""
    from xinfang.prevention.models import (
        Alert,
        Dispute,
        Informant,
        InformantReport,
        ScreeningReport,
    )

    assert Informant.objects.filter(is_active=True).count() == 2
    assert set(Dispute.objects.values_list("state", flat=True)) == {"open", "pending", "struck"}
    struck = Dispute.objects.get(state="struck")
    assert struck.attachments.count() == 1
    assert struck.struck_by is not None and struck.struck_by.username == "banan"
    assert ScreeningReport.objects.filter(state="submitted").count() == 2
    assert ScreeningReport.objects.filter(state="pending").exists()
    urgent = InformantReport.objects.get(urgency="urgent")
    assert Alert.objects.filter(rule="informant_urgent", informant_report=urgent).count() == 1
