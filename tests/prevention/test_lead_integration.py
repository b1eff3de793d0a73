"""What the lead wired between the parts of 预防排查: who answers for a place, the informant's
start page, the alert timeline following its report, the review reminders on the daily sweep,
and the 未销号 filter the dashboard links to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from tests.prevention._inf_util import make_net, urgent
from xinfang.core.errors import DomainError
from xinfang.notify.models import Notification
from xinfang.org.models import Unit, UnitType
from xinfang.prevention import informants as I
from xinfang.prevention import services as S
from xinfang.prevention.models import Alert, RiskLevel


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_another_street_never_answers_for_a_place_but_a_district_department_does(
    world: World,
) -> None:
    assert not S.answers_for(world.sibling, world.community)
    dept = Unit.objects.create(
        name="区住建局", unit_type=UnitType.DEPARTMENT, parent=world.district
    )
    assert S.answers_for(dept, world.community)
    assert S.answers_for(world.street, world.community)
    assert S.answers_for(world.district, world.community)
    with pytest.raises(DomainError, match="责任单位应为发生地所属单位") as exc:
        S.dispute_create(
            world.leo,
            title="物业纠纷",
            description="物业费上调引发争议。",
            source="screening",
            parties="业主\n物业公司",
            place_unit=world.community,
            unit=world.sibling,
            risk_level=RiskLevel.LOW,
        )
    assert exc.value.field == "unit"


def test_an_informant_starts_on_the_phone_page(world: World) -> None:
    net = make_net(world)
    r = _client(net.ivan).get("/")
    assert r.status_code == 302 and r["Location"] == "/prevention/m/"
    # staff still start on the workbench
    assert _client(world.hank).get("/").status_code == 200


def test_the_alert_timeline_follows_its_report(world: World) -> None:
    net = make_net(world)
    report = urgent(world, net.ivan)
    alert = Alert.objects.get(informant_report=report)
    assert list(alert.events.values_list("kind", flat=True)) == ["raise"]
    I.report_acknowledge(world.leo, report)
    I.report_close(world.leo, report, "街道已约谈代表，承诺本周内答复。")
    alert.refresh_from_db()
    assert alert.state == "closed" and alert.outcome.startswith("街道已约谈")
    events = list(alert.events.values_list("kind", "actor__username"))
    assert events == [("raise", None), ("ack", "leo"), ("close", "leo")]


def test_the_daily_sweep_sends_the_key_person_review_reminders(world: World, register: Any) -> None:
    from xinfang.people.models import KeyPerson
    from xinfang.prevention.warning import warning_sweep

    case = register()
    person = case.petitioners.first()
    today = dt.date(2026, 11, 27)
    KeyPerson.objects.create(
        petitioner=person,
        reason="多次越级走访",
        since=dt.date(2026, 1, 5),
        added_by=world.alice,
        unit=world.street,
        leader=world.leo,
        review_on=today,
    )
    sweep = warning_sweep(today)
    assert sweep.stats["key_reviews"]["notified"] == 1
    assert Notification.objects.filter(recipient=world.leo, kind="key_review").count() == 1
    warning_sweep(today)  # daily re-run: reminded once
    assert Notification.objects.filter(recipient=world.leo, kind="key_review").count() == 1


def test_the_active_filter_lists_open_and_pending_items(pv: Any) -> None:
    open_item = pv.dispute(title="未化解的纠纷")
    pending = pv.pending(title="待审核的纠纷")
    c = _client(pv.leo)
    body = c.get("/prevention/disputes/?state=active").content.decode()
    assert open_item.number in body and pending.number in body
    body = c.get("/prevention/disputes/?state=open").content.decode()
    assert open_item.number in body and pending.number not in body


def test_a_dispute_links_back_to_the_informant_report(world: World) -> None:
    net = make_net(world)
    report = urgent(world, net.ivan)
    d = I.report_to_dispute(
        world.leo, report, parties="拆迁安置户代表\n区城发集团", risk_level="high"
    )
    body = _client(world.leo).get(f"/prevention/disputes/{d.pk}/").content.decode()
    assert f"/prevention/reports/{report.pk}/" in body


def test_the_case_page_offers_flagging_a_petitioner_to_key_readers_only(
    world: World, register: Any
) -> None:
    case = register()
    person = case.petitioners.first()
    link = f"/prevention/keys/person/new/?petitioner={person.pk}"
    assert link in _client(world.alice).get(f"/cases/{case.pk}/").content.decode()
    body = _client(world.rita).get(f"/cases/{case.pk}/").content.decode()
    assert person.name in body and link not in body
