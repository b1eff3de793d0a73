"""接待台: gap-free tickets (also from threads on PostgreSQL), call/finish/leave conflicts,
exact averages, the desk_case_registered receiver, scoping and the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World
from tests.threads import in_threads, needs_server_db
from xinfang.cases.signals import desk_case_registered
from xinfang.core.errors import ConcurrentChange, DomainError, PermissionDenied
from xinfang.reception import services as S
from xinfang.reception.models import DeskVisit, VisitOutcome, VisitState

TZ = timezone.get_default_timezone()


def at(h: int, m: int = 0, day: int = 5) -> dt.datetime:
    return dt.datetime(2026, 1, day, h, m, tzinfo=TZ)


def test_tickets_are_gap_free_per_office_and_day(world: World, dora: Any) -> None:
    a = [S.visit_check_in(office=world.office, by=world.rita, at=at(9, i)).ticket for i in range(3)]
    assert a == [1, 2, 3]
    assert S.visit_check_in(office=world.street, by=dora, at=at(9)).ticket == 1
    assert S.visit_check_in(office=world.office, by=world.alice, at=at(9, day=6)).ticket == 1
    assert S.visit_check_in(office=world.office, by=world.rita, at=at(10)).ticket == 4


def test_check_in_guards(world: World) -> None:
    with pytest.raises(PermissionDenied):
        S.visit_check_in(office=world.office, by=world.hank)
    with pytest.raises(DomainError) as e:
        S.visit_check_in(office=world.office, by=world.rita, headcount=0)
    assert e.value.field == "headcount"
    with pytest.raises(DomainError) as e:
        S.visit_check_in(office=world.office, by=world.rita, visitor_name="张" * 51)
    assert e.value.field == "visitor_name"


@needs_server_db
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_clerks_at_once_get_distinct_numbers() -> None:
    from django.contrib.auth.models import User

    from tests.conftest import ensure_reference_data, make_user
    from xinfang.org import roles as R
    from xinfang.org.models import Unit, UnitType

    ensure_reference_data()
    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    clerks = [make_user(f"clerk{i}", office, R.RECEPTIONIST) for i in range(8)]
    ids = [c.pk for c in clerks]

    def work(i: int) -> int:
        return S.visit_check_in(office=office, by=User.objects.get(pk=ids[i])).ticket

    results = in_threads(8, work)
    assert sorted(results) == list(range(1, 9)), results


def test_call_conflict_one_wins(world: World) -> None:
    v = S.visit_check_in(office=world.office, by=world.rita, at=at(9))
    S.visit_call(visit=v, by=world.rita, at=at(9, 5))
    with pytest.raises(ConcurrentChange) as e:
        S.visit_call(visit=DeskVisit.objects.get(pk=v.pk), by=world.alice, at=at(9, 6))
    assert e.value.message == "该来访人已由他人接待"
    v.refresh_from_db()
    assert v.clerk == world.rita and v.called_at == at(9, 5)
    with pytest.raises(ConcurrentChange):
        S.visit_leave(visit=v, by=world.alice)


def test_finish_and_leave(world: World) -> None:
    v = S.visit_check_in(office=world.office, by=world.rita, at=at(9))
    with pytest.raises(ConcurrentChange):
        S.visit_finish(visit=v, by=world.rita, outcome=VisitOutcome.ANSWERED)
    S.visit_call(visit=v, by=world.rita, at=at(9, 1))
    with pytest.raises(DomainError) as e:
        S.visit_finish(visit=v, by=world.rita, outcome=VisitOutcome.REGISTERED)
    assert e.value.field == "outcome"
    with pytest.raises(DomainError):
        S.visit_finish(visit=v, by=world.rita, outcome="bogus")
    S.visit_finish(visit=v, by=world.rita, outcome=VisitOutcome.ANSWERED, note="政策解释")
    v.refresh_from_db()
    assert v.state == VisitState.DONE and v.outcome_note == "政策解释"
    w = S.visit_check_in(office=world.office, by=world.rita, at=at(9, 2))
    S.visit_leave(visit=w, by=world.alice, at=at(9, 30))
    w.refresh_from_db()
    assert (w.state, w.outcome) == (VisitState.LEFT, VisitOutcome.LEFT)


def test_averages_exact_on_fixed_times(world: World) -> None:
    a = S.visit_check_in(office=world.office, by=world.rita, at=at(9, 0))
    b = S.visit_check_in(office=world.office, by=world.rita, at=at(9, 10))
    c = S.visit_check_in(office=world.office, by=world.rita, at=at(9, 20))
    S.visit_check_in(office=world.office, by=world.rita, at=at(9, 40))  # still waiting
    S.visit_call(visit=a, by=world.rita, at=at(9, 5))  # waited 5
    S.visit_call(visit=b, by=world.alice, at=at(9, 30))  # waited 20
    S.visit_finish(visit=a, by=world.rita, outcome=VisitOutcome.ANSWERED, at=at(9, 15))  # 10
    S.visit_finish(visit=b, by=world.alice, outcome=VisitOutcome.REFERRED, at=at(9, 50))  # 20
    S.visit_leave(visit=c, by=world.rita, at=at(9, 45))  # not called: not in the average
    st = S.desk_stats(world.office, dt.date(2026, 1, 5))
    assert (st.total, st.waiting, st.in_reception, st.done, st.left) == (4, 1, 0, 2, 1)
    assert st.avg_wait_minutes == 12.5
    assert st.avg_reception_minutes == 15.0
    empty = S.desk_stats(world.office, dt.date(2026, 1, 7))
    assert empty.avg_wait_minutes is None and empty.total == 0


def test_receiver_links_visit_to_case(world: World, register: Any, dora: Any) -> None:
    v = S.visit_check_in(office=world.office, by=world.rita)
    S.visit_call(visit=v, by=world.rita)
    case = register()
    desk_case_registered.send(sender=None, case=case, visit_id=v.pk, booking_id=None, by=world.rita)
    v.refresh_from_db()
    assert (v.state, v.outcome, v.case_id) == (VisitState.DONE, VisitOutcome.REGISTERED, case.pk)
    assert v.petitioner_id == case.parties.first().petitioner_id
    # straight from the waiting column: called now by the registrar
    w = S.visit_check_in(office=world.office, by=world.rita)
    desk_case_registered.send(sender=None, case=register(), visit_id=w.pk, by=world.alice)
    w.refresh_from_db()
    assert w.state == VisitState.DONE and w.clerk == world.alice and w.called_at is not None
    # another office's visit, a finished visit, junk ids: ignored
    other = S.visit_check_in(office=world.street, by=dora)
    desk_case_registered.send(sender=None, case=register(), visit_id=other.pk, by=world.rita)
    other.refresh_from_db()
    assert other.case_id is None and other.state == VisitState.WAITING
    desk_case_registered.send(sender=None, case=register(), visit_id=v.pk, by=world.rita)
    v.refresh_from_db()
    assert v.case_id == case.pk
    desk_case_registered.send(sender=None, case=case, visit_id=2**70, by=world.rita)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_desk_pages_and_scoping(world: World, dora: Any) -> None:
    c = _client(world.rita)
    r = c.post("/reception/", {"visitor_name": "王五", "headcount": "2", "note": ""})
    assert r.status_code == 302
    v = DeskVisit.objects.get()
    page = c.get("/reception/").content.decode()
    assert "王五" in page and "等候中（1）" in page and "001" in page
    r = c.post(f"/reception/visits/{v.pk}/call/", HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Redirect"] == f"/reception/visits/{v.pk}/"
    again = _client(world.alice).post(f"/reception/visits/{v.pk}/call/", HTTP_HX_REQUEST="true")
    assert "该来访人已由他人接待" in again.content.decode()
    detail = c.get(f"/reception/visits/{v.pk}/").content.decode()
    assert f"/cases/new/?visit={v.pk}" in detail
    bad = c.post(f"/reception/visits/{v.pk}/", {"outcome": "", "note": "说明保留"})
    assert "说明保留" in bad.content.decode()
    ok = c.post(f"/reception/visits/{v.pk}/", {"outcome": "answered", "note": ""})
    assert ok.status_code == 302
    board = c.get("/reception/board/").content.decode()
    assert "已完成（1）" in board and "平均等候" in board
    hist = c.get("/reception/history/", {"state": "done", "q": "王五"}).content.decode()
    assert "王五" in hist
    # 东湖街道's clerk, a handler, a leader: not rita's visits
    assert _client(dora).get(f"/reception/visits/{v.pk}/").status_code == 404
    assert _client(dora).post(f"/reception/visits/{v.pk}/leave/").status_code == 404
    assert _client(world.hank).get("/reception/").status_code == 404
    assert _client(world.leo).get(f"/reception/visits/{v.pk}/").status_code == 404
    assert c.get("/reception/history/", {"date": "bogus", "page": "x"}).status_code == 200


def test_registration_form_from_a_visit_links_it(world: World) -> None:
    """Through the real registration form (H2 sends desk_case_registered in its transaction)."""
    import uuid

    from tests.conftest import register_form

    v = S.visit_check_in(office=world.office, by=world.rita)
    S.visit_call(visit=v, by=world.rita)
    c = _client(world.rita)
    form = register_form(uuid.uuid4().hex, visit=str(v.pk))
    form["received_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    r = c.post("/cases/new/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    v.refresh_from_db()
    assert v.state == VisitState.DONE and v.outcome == VisitOutcome.REGISTERED
    assert v.case is not None and v.case.registered_by == world.rita


def test_check_in_double_submit_issues_one_ticket(world: World) -> None:
    c = _client(world.rita)
    form = {"visitor_name": "王五", "headcount": "1", "note": "", "idempotency_key": "k" * 32}
    assert c.post("/reception/", form).status_code == 302
    assert c.post("/reception/", form).status_code == 302
    assert DeskVisit.objects.count() == 1
    assert c.post("/reception/", form | {"idempotency_key": "j" * 32}).status_code == 302
    assert DeskVisit.objects.count() == 2
