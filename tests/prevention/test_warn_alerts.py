"""Alert lifecycle, the 预警 pages, the 预测预报 and the alerts API (helper E)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.api.conftest import token_client
from tests.prevention._inf_util import make_net, urgent
from tests.prevention._warn_util import TZ, bulk_cases
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.prevention.alerts import alert_raise
from xinfang.prevention.models import (
    Alert,
    Dispute,
    InformantReportState,
    RiskLevel,
)
from xinfang.prevention.warning import (
    alert_acknowledge,
    alert_assign,
    alert_close,
    forecast_for,
    parse_week,
    warning_sweep,
)

pytestmark = pytest.mark.django_db

OUT_OF_SCOPE = "该预警不在您的职责范围内，不能确认或办结；请联系预警负责人"


def _alert(world: Any, **kw: Any) -> Alert:
    values: dict[str, Any] = {
        "rule": "dispute_overdue",
        "severity": "yellow",
        "unit": world.street,
        "title": "幸福里物业纠纷超过化解期限3天",
        "dedupe_key": f"test-{Alert.objects.count()}",
    }
    values.update(kw)
    return alert_raise(**values)[0]


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- services --------------------------------------------------------------------------------


def test_acknowledge_then_close(world: Any) -> None:
    a = _alert(world)
    assert a.owner == world.leo and a.state == "open"
    alert_acknowledge(world.alice, a, "已安排街道核实")
    a.refresh_from_db()
    assert a.state == "acknowledged" and a.acknowledged_by == world.alice
    with pytest.raises(DomainError, match=r"已由艾丽于.*确认"):
        alert_acknowledge(world.leo, a)
    with pytest.raises(DomainError, match="请填写处置结果"):
        alert_close(world.alice, a, " ")
    alert_close(world.alice, a, "街道已组织调解，双方达成协议。")
    a.refresh_from_db()
    assert a.state == "closed" and a.outcome.startswith("街道已组织调解")
    assert list(a.events.values_list("kind", flat=True)) == ["raise", "ack", "close"]
    with pytest.raises(DomainError, match=r"已由艾丽于.*办结"):
        alert_close(world.leo, a, "再次办结")


def test_acknowledge_by_someone_outside_scope_is_refused_and_nothing_changes(world: Any) -> None:
    a = _alert(world)
    for user in (world.bob, world.hank):  # another street; a handler without the post
        with pytest.raises(PermissionDenied) as exc:
            alert_acknowledge(user, a)
        assert exc.value.message == OUT_OF_SCOPE
    a.refresh_from_db()
    assert (
        a.state == "open"
        and a.acknowledged_by is None
        and list(a.events.values_list("kind", flat=True)) == ["raise"]
    )


def test_owner_may_act_even_without_post_in_scope(world: Any) -> None:
    a = _alert(world, owner=world.hank)
    alert_acknowledge(world.hank, a)
    assert a.state == "acknowledged"


def test_assign_checks_the_new_owner(world: Any) -> None:
    a = _alert(world)
    with pytest.raises(DomainError, match="辖区内的领导或办案员") as exc:
        alert_assign(world.leo, a, world.bob)
    assert exc.value.field == "owner"
    with pytest.raises(DomainError):
        alert_assign(world.leo, a, world.hank)  # in scope but a handler
    alert_assign(world.leo, a, world.alice)
    assert a.owner == world.alice
    from xinfang.notify.models import Notification

    assert Notification.objects.filter(recipient=world.alice, title__contains="预警交办").exists()
    with pytest.raises(PermissionDenied):
        alert_assign(world.bob, a, world.alice)


def test_acknowledging_an_urgent_alert_acknowledges_its_report(world: Any) -> None:
    net = make_net(world)
    report = urgent(world, net.ivan)
    a = Alert.objects.get(informant_report=report)
    alert_acknowledge(world.leo, a)
    report.refresh_from_db()
    assert report.state == InformantReportState.ACKNOWLEDGED
    assert report.acknowledged_by == world.leo
    assert report.events.filter(kind="ack").count() == 1


# --- pages -----------------------------------------------------------------------------------


def test_list_filters_orders_and_pages(world: Any) -> None:
    blue = _alert(world, severity="blue", title="蓝色甲")
    red = _alert(world, severity="red", title="红色乙")
    done = _alert(world, severity="red", title="红色已办结")
    alert_close(world.leo, done, "已处置完毕")
    _alert(world, unit=world.sibling, title="西山的预警")
    c = _client(world.uma)  # 东湖街道 单位负责人
    r = c.get("/prevention/alerts/")
    assert r.status_code == 200
    text = r.content.decode()
    assert "西山的预警" not in text
    assert text.index("红色乙") < text.index("蓝色甲") < text.index("红色已办结")
    r = c.get("/prevention/alerts/", {"severity": "blue"}, headers={"HX-Request": "true"})
    assert "蓝色甲" in r.content.decode() and "红色乙" not in r.content.decode()
    assert "<form" not in r.content.decode()  # the partial only
    r = c.get("/prevention/alerts/", {"q": "红色", "state": "active"})
    assert "红色乙" in r.content.decode() and "红色已办结" not in r.content.decode()
    assert blue.pk and red.pk


def test_detail_other_unit_is_404_and_ack_outside_scope_is_403_with_message(world: Any) -> None:
    a = _alert(world)
    assert _client(world.bob).get(f"/prevention/alerts/{a.pk}/").status_code == 404
    assert (
        _client(world.bob).post(f"/prevention/alerts/{a.pk}/act/", {"action": "ack"}).status_code
        == 404
    )
    r = _client(world.hank).post(f"/prevention/alerts/{a.pk}/act/", {"action": "ack"})
    assert r.status_code == 403
    assert OUT_OF_SCOPE in r.content.decode()
    a.refresh_from_db()
    assert a.state == "open"


def test_act_forms_keep_input_and_show_messages(world: Any) -> None:
    a = _alert(world)
    c = _client(world.leo)
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "close", "outcome": ""})
    assert r.status_code == 400 and "请填写处置结果" in r.content.decode()
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "close", "outcome": "好"})
    assert r.status_code == 400 and "至少2个字" in r.content.decode()
    assert ">好</textarea>" in r.content.decode()
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "assign", "owner": world.bob.pk})
    assert r.status_code == 400
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "ack", "note": "收到"})
    assert r.status_code == 302
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "ack"})
    assert r.status_code == 400 and "已由黎奥于" in r.content.decode()
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "assign", "owner": world.alice.pk})
    assert r.status_code == 302
    r = c.post(f"/prevention/alerts/{a.pk}/act/", {"action": "close", "outcome": "已化解"})
    assert r.status_code == 302
    page = c.get(f"/prevention/alerts/{a.pk}/").content.decode()
    assert "已化解" in page and "处置记录" in page and "更换负责人" in page


def test_spike_detail_shows_figures_and_the_cases_behind(world: Any) -> None:
    from tests.prevention.test_warn_rules import AS_OF, _only, _weekly_baseline_then

    _only("spike_place")
    _weekly_baseline_then(world, 9)
    bulk_cases(world, [AS_OF - dt.timedelta(days=2)], place_code="110105002")  # 西山: not here
    warning_sweep(AS_OF)
    a = Alert.objects.get(rule="spike_place")
    page = _client(world.leo).get(f"/prevention/alerts/{a.pk}/").content.decode()
    assert "预警依据" in page and "2026-06-08 至 2026-06-14" in page
    assert "您可查看的 9 件" in page
    assert "place=110105001" in page
    # bob (西山) cannot see the street's alert at all
    assert _client(world.bob).get(f"/prevention/alerts/{a.pk}/").status_code == 404


# --- 预测预报 ----------------------------------------------------------------------------------


def _week_fixture(world: Any, pv: Any) -> None:
    def at(day: int, hour: int = 10) -> dt.datetime:
        return dt.datetime(2026, 6, day, hour, 0, tzinfo=TZ)

    _alert(
        world,
        rule="informant_urgent",
        severity="red",
        unit=world.community,
        title="东湖社区拟进京上访",
        at=at(9),
    )
    _alert(
        world, rule="group_cluster", severity="orange", title="某厂退休职工30天内信访3件", at=at(10)
    )
    _alert(
        world,
        rule="dispute_overdue",
        severity="orange",
        title="MD2026-00001 征地补偿纠纷：超过化解期限5天",
        at=at(11),
    )
    _alert(
        world,
        rule="case_near_deadline",
        severity="blue",
        title="XF-1：受理告知期限2天后届满",
        at=at(12),
    )
    _alert(world, severity="red", title="下周的预警", at=at(15))
    d1 = pv.dispute(title="新排查纠纷")
    d2 = pv.dispute(title="已销号纠纷")
    d3 = pv.dispute(title="征地补偿纠纷", risk_level=RiskLevel.HIGH)
    Dispute.objects.filter(pk=d1.pk).update(created_at=at(9), due_on=dt.date(2026, 7, 30))
    Dispute.objects.filter(pk=d2.pk).update(
        created_at=at(1), state="struck", struck_at=at(12), due_on=dt.date(2026, 6, 30)
    )
    Dispute.objects.filter(pk=d3.pk).update(
        created_at=dt.datetime(2026, 5, 1, 9, tzinfo=TZ), due_on=dt.date(2026, 6, 10)
    )


EXPECTED = (
    "示范区6月8日至6月14日：本周共发出预警4条，其中红色1条、橙色2条、蓝色1条；"
    "新排查矛盾纠纷1件，化解销号1件，周末在册未销号2件（其中逾期1件）。"
    "需重点关注：一是东湖社区拟进京上访；二是某厂退休职工30天内信访3件；"
    "三是MD2026-00001 征地补偿纠纷：超过化解期限5天。"
)


def test_forecast_paragraph_exact_text(world: Any, pv: Any) -> None:
    _week_fixture(world, pv)
    fc = forecast_for(world.district, parse_week("2026-W24"))
    assert fc.narrative == EXPECTED
    assert fc.by_severity == {"red": 1, "orange": 2, "yellow": 0, "blue": 1}
    assert [r["rule"] for r in fc.by_rule] == [
        "group_cluster",
        "informant_urgent",
        "dispute_overdue",
        "case_near_deadline",
    ]
    street = forecast_for(world.sibling, parse_week("2026-W24"))
    assert street.narrative.startswith("西山街道6月8日至6月14日：本周未发出预警；")
    assert street.narrative.endswith("需重点关注：暂无。")


def test_parse_week() -> None:
    assert parse_week("2026-W48") == dt.date(2026, 11, 23)
    assert parse_week("", today=dt.date(2026, 11, 27)) == dt.date(2026, 11, 16)
    with pytest.raises(DomainError, match="2026-W48"):
        parse_week("48周")
    with pytest.raises(DomainError, match="没有这一周"):
        parse_week("2026-W60")


def test_forecast_page_docx_and_scope(world: Any, pv: Any) -> None:
    from docx import Document

    _week_fixture(world, pv)
    c = _client(world.leo)
    r = c.get("/prevention/forecast/", {"week": "2026-W24"})
    assert r.status_code == 200
    assert EXPECTED in r.content.decode()
    r = c.get("/prevention/forecast/", {"week": "上周"})
    assert r.status_code == 400 and "周次格式应为" in r.content.decode()
    r = c.get("/prevention/forecast.docx", {"week": "2026-W24"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    doc = Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "示范区信访稳定预测预报（2026-W24）" in text
    assert EXPECTED in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "信息员紧急报告" in cells or "合计" in cells
    # bob: his street only; the district is not his to summarise
    b = _client(world.bob)
    assert b.get("/prevention/forecast/", {"unit": world.district.pk}).status_code == 404
    r = b.get("/prevention/forecast/", {"week": "2026-W24"})
    assert r.status_code == 200 and "西山街道" in r.content.decode()


# --- API -------------------------------------------------------------------------------------


def test_api_list_detail_act_and_forecast(world: Any, pv: Any) -> None:
    a = _alert(world, severity="orange")
    other = _alert(world, unit=world.sibling, title="西山的预警")
    leo = token_client(world.leo)
    r = leo.get("/prevention/alerts", severity="orange")
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [a.pk]
    assert leo.get("/prevention/alerts", state="bad").status_code == 400
    bob = token_client(world.bob)
    assert bob.get(f"/prevention/alerts/{a.pk}").status_code == 404
    assert [i["id"] for i in bob.get("/prevention/alerts").json()["items"]] == [other.pk]
    hank = token_client(world.hank)
    r = hank.post(f"/prevention/alerts/{a.pk}/acknowledge", {})
    assert r.status_code == 403 and r.json()["detail"] == OUT_OF_SCOPE
    r = leo.post(f"/prevention/alerts/{a.pk}/acknowledge", {"note": "收到"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = leo.post(f"/prevention/alerts/{a.pk}/assign", {"owner_id": world.bob.pk})
    assert r.status_code == 400 and r.json()
    r = leo.post(f"/prevention/alerts/{a.pk}/assign", {"owner_id": world.alice.pk})
    assert r.status_code == 200 and r.json()["owner_id"] == world.alice.pk
    r = leo.post(f"/prevention/alerts/{a.pk}/close", {"outcome": ""})
    assert r.status_code == 400
    r = leo.post(f"/prevention/alerts/{a.pk}/close", {"outcome": "已处置"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    _week_fixture(world, pv)
    r = leo.get("/prevention/forecast", week="2026-W24")
    assert r.status_code == 200 and r.json()["narrative"] == EXPECTED
    assert leo.get("/prevention/forecast", week="x").status_code == 400
    assert bob.get("/prevention/forecast", unit_id=world.district.pk).status_code == 404


def test_sweep_command(world: Any, capsys: Any) -> None:
    from django.core.management import call_command

    call_command("warning_sweep", "--date", "2026-06-15")
    out = capsys.readouterr().out
    assert "预警扫描（2026-06-15）" in out and "spike_place" in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("warning_sweep", "--date", "15/06/2026")
    assert timezone.now()


# --- 检举控告 (review finding 2) ----------------------------------------------------------------


def _accusation(register: Any, world: Any, *, days_ago: float, **kw: Any) -> Any:
    values: dict[str, Any] = {  # the petitioner: 张三 (tests.conftest), the same person each time
        "purpose": "accusation",
        "summary": "检举西山街道干部挪用扶贫款",
        "content": "王某挪用扶贫款",
        "accused_unit_ids": [world.sibling.pk],
        "place_code": "110105002",
        "received_at": timezone.now() - dt.timedelta(days=days_ago),
    }
    values.update(kw)
    return register(**values)


def test_repeat_alert_on_an_accusation_stays_with_the_registering_office(
    world: Any, register: Any
) -> None:
    """The place (西山街道) is the accused: the alert is raised at 区信访局, its title, detail and
    data name no case number, the accused unit and the accused leader neither see it nor are
    told, and the owner is a leader who is not accused."""
    from tests.conftest import make_user
    from xinfang.cases.models import Case
    from xinfang.notify.models import Notification
    from xinfang.org import roles as R

    lin = make_user("lin", world.district, R.LEADER, "林")
    first = _accusation(register, world, days_ago=40, accused_person_ids=[world.leo.pk])
    Case.objects.filter(pk=first.pk).update(
        status="closed", closed_at=timezone.now() - dt.timedelta(days=20)
    )
    again = register(
        purpose="accusation",
        summary="再次检举",
        content="仍未处理",
        accused_unit_ids=[world.sibling.pk],
        accused_person_ids=[world.leo.pk],
        place_code="110105002",
        received_at=timezone.now() - dt.timedelta(hours=1),
    )
    warning_sweep(timezone.localdate())
    a = Alert.objects.get(rule="repeat_after_close")
    assert a.case == again and a.unit == world.office
    for text in (a.title, a.detail, str(a.data)):
        assert first.number not in text and again.number not in text
    assert "earlier_number" not in a.data and a.title.startswith("检举控告件")
    assert a.owner == lin  # leo, the first leader over the office, is accused
    # the accused unit and the accused leader: not in the list, 404 on the page and the API
    for user in (world.bob, world.leo):
        c = _client(user)
        assert c.get(f"/prevention/alerts/{a.pk}/").status_code == 404, user
        assert f"/prevention/alerts/{a.pk}/" not in c.get("/prevention/alerts/").content.decode()
        assert token_client(user).get(f"/prevention/alerts/{a.pk}").status_code == 404
    told = set(
        Notification.objects.filter(kind="alert", url=f"/prevention/alerts/{a.pk}/").values_list(
            "recipient__username", flat=True
        )
    )
    assert "alice" in told and "lin" in told and not told & {"leo", "bob"}
    assert not Notification.objects.filter(title__contains=again.number, kind="alert").exists()
    # the office reads it, with links to both cases and the summary masked
    body = _client(world.alice).get(f"/prevention/alerts/{a.pk}/").content.decode()
    assert again.number in body and first.number in body
    assert "挪用扶贫款" not in body and "【检举控告件，内容保密】" in body
    # nor may the alert be handed to the accused
    with pytest.raises(DomainError, match="负责人须为"):
        alert_assign(world.alice, a, world.leo)


def test_repeat_after_an_earlier_accusation_names_no_earlier_number(
    world: Any, register: Any
) -> None:
    """An ordinary petition from someone whose earlier case was an accusation: the link between
    the two is itself confidential — raised at the office, the earlier number nowhere."""
    from xinfang.cases.models import Case

    first = _accusation(register, world, days_ago=40)
    Case.objects.filter(pk=first.pk).update(
        status="closed", closed_at=timezone.now() - dt.timedelta(days=20)
    )
    again = register(
        summary="反映道路破损",
        place_code="110105002",
        received_at=timezone.now() - dt.timedelta(hours=1),
    )
    warning_sweep(timezone.localdate())
    a = Alert.objects.get(rule="repeat_after_close")
    assert a.case == again and a.unit == world.office
    assert first.number not in a.title + a.detail and "earlier_number" not in a.data
    assert _client(world.bob).get(f"/prevention/alerts/{a.pk}/").status_code == 404


def test_deadline_alert_of_an_accusation_is_neutral_and_at_the_office(
    world: Any, register: Any
) -> None:
    from xinfang.cases.models import Deadline

    case = _accusation(register, world, days_ago=0.05)
    Deadline.objects.filter(case=case).delete()
    today = timezone.localdate()
    Deadline.objects.create(
        case=case, kind="accept", started_on=today, due_on=today + dt.timedelta(days=1)
    )
    warning_sweep(today)
    a = Alert.objects.get(rule="case_near_deadline")
    assert a.unit == world.office and case.number not in a.title
    assert a.title.startswith("检举控告件")


def test_group_cluster_led_by_an_accusation_is_raised_at_the_office(
    world: Any, register: Any
) -> None:
    from xinfang.cases.models import Case
    from xinfang.people.models import PetitionerGroup

    g = PetitionerGroup.objects.create(name="某村村民")
    cases = [_accusation(register, world, days_ago=d) for d in (10, 5, 1)]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(group=g)
    warning_sweep(timezone.localdate())
    a = Alert.objects.get(rule="group_cluster")
    assert a.unit == world.office
    assert _client(world.bob).get(f"/prevention/alerts/{a.pk}/").status_code == 404


def test_alert_guard_and_page_never_leak_a_case_number_the_reader_may_not_see(
    world: Any, register: Any
) -> None:
    """Defence in depth, for alerts raised before the fix: an alert at the accused street about
    an accusation is hidden from its staff; an alert about an ordinary case they may not open
    stays visible (place-based), but the page and the API print the earlier number only to
    those who may see that case."""
    secret = _accusation(register, world, days_ago=1)
    old = _alert(world, unit=world.sibling, case=secret, title="旧预警", rule="repeat_after_close")
    assert _client(world.bob).get(f"/prevention/alerts/{old.pk}/").status_code == 404
    assert old.pk not in [
        i["id"] for i in token_client(world.bob).get("/prevention/alerts").json()["items"]
    ]
    plain = register(summary="反映道路破损")  # registered at the office: bob may not open it
    data = {
        "earlier_case_id": secret.pk,
        "earlier_number": secret.number,
        "days_after_close": 5,
        "within_days": 180,
        "case_numbers": [secret.number, plain.number],
    }
    shown = _alert(
        world, unit=world.sibling, case=plain, title="旧格式", rule="repeat_after_close", data=data
    )
    page = _client(world.bob).get(f"/prevention/alerts/{shown.pk}/")
    assert page.status_code == 200 and secret.number not in page.content.decode()
    got = token_client(world.bob).get(f"/prevention/alerts/{shown.pk}").json()["data"]
    assert "earlier_number" not in got and got["case_numbers"] == []
    got = token_client(world.alice).get(f"/prevention/alerts/{shown.pk}").json()["data"]
    assert got["earlier_number"] == secret.number
    assert sorted(got["case_numbers"]) == sorted([secret.number, plain.number])
    assert (
        secret.number
        in _client(world.alice).get(f"/prevention/alerts/{shown.pk}/").content.decode()
    )
