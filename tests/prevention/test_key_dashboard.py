"""The 预防排查 dashboard: exact numbers on a built fixture, scope (404 outside), the SVG unit map
(valid XML, colours by level, links, accessible), and the bounded query count."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import World, make_user
from tests.prevention._key_util import build, flag
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.people.models import KeyPerson
from xinfang.prevention import dashboard as D
from xinfang.prevention.alerts import alert_raise
from xinfang.prevention.models import (
    Alert,
    Dispute,
    Informant,
    InformantReport,
    ScreeningReport,
    ScreeningRound,
    ScreeningRule,
)

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def as_(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # no cached posts / scopes


@pytest.fixture
def scene(world: World, pv: Any) -> dict[str, Any]:
    w = world
    today = timezone.localdate()
    out: dict[str, Any] = {}
    out["low"] = pv.dispute(title="低风险纠纷")
    out["crit"] = pv.dispute(title="重大风险纠纷", risk_level="critical", headcount=60)
    out["high"] = pv.dispute(
        by=w.bob, title="西山高风险", place_unit=w.sibling, unit=w.sibling, risk_level="high"
    )
    out["med"] = pv.dispute(title="逾期中风险", risk_level="medium")
    Dispute.objects.filter(pk=out["med"].pk).update(due_on=today - dt.timedelta(days=3))
    out["pend"] = pv.dispute(title="待审核销号", risk_level="medium")
    Dispute.objects.filter(pk=out["pend"].pk).update(state="pending", requested_by=w.hank)
    out["struck"] = pv.dispute(title="已销号", risk_level="critical")
    Dispute.objects.filter(pk=out["struck"].pk).update(state="struck")
    # alerts: red @ 东湖社区, yellow @ 西山街道 open; a blue one closed
    alert_raise(
        rule="test",
        severity="red",
        unit=w.community,
        title="红色预警",
        dedupe_key="t1",
        notify_now=False,
    )
    alert_raise(
        rule="test",
        severity="yellow",
        unit=w.sibling,
        title="黄色预警",
        dedupe_key="t2",
        notify_now=False,
    )
    blue, _ = alert_raise(
        rule="test",
        severity="blue",
        unit=w.street,
        title="蓝色预警",
        dedupe_key="t3",
        notify_now=False,
    )
    Alert.objects.filter(pk=blue.pk).update(state="closed")
    # informant reports
    ivan = make_user("ivan", w.community, R.INFORMANT, "伊万")
    inf = Informant.objects.create(user=ivan, unit=w.community, since=today)
    now = timezone.now()
    for urgency, state, title in [
        ("urgent", "new", "拟集体上访"),
        ("urgent", "acknowledged", "聚集苗头"),
        ("urgent", "closed", "已办结"),
        ("routine", "new", "日常报告"),
    ]:
        InformantReport.objects.create(
            informant=inf,
            unit=w.community,
            urgency=urgency,
            state=state,
            title=title,
            text="情况",
            created_at=now,
        )
    # key person with an overdue review
    kw = build(w)
    kp = flag(kw)
    KeyPerson.objects.filter(pk=kp.pk).update(review_on=today - dt.timedelta(days=1))
    out["kw"] = kw
    # a screening round past its due date: 东湖社区 late, 东湖街道 submitted
    rule = ScreeningRule.objects.order_by("priority").first()
    assert rule is not None
    rnd = ScreeningRound.objects.create(
        rule=rule,
        label="测试轮次",
        period_start=today - dt.timedelta(days=7),
        period_end=today - dt.timedelta(days=1),
        due_on=today - dt.timedelta(days=1),
        opened_at=now - dt.timedelta(days=7),
    )
    ScreeningReport.objects.create(round=rnd, unit=w.community)
    ScreeningReport.objects.create(
        round=rnd, unit=w.street, state="submitted", submitted_by=w.hank, submitted_at=now
    )
    out["round"] = rnd
    return out


def test_numbers_for_the_district(world: World, scene: dict[str, Any]) -> None:
    data = D.summary(fresh(world.leo), world.district)
    assert data["open_total"] == 5
    assert data["by_risk"] == {"critical": 1, "high": 1, "medium": 2, "low": 1}
    assert data["overdue"] == 1
    assert data["pending_mine"] == 1
    assert data["urgent_new"] == 1 and data["urgent_ack"] == 1
    assert data["alerts_total"] == 2
    assert data["by_severity"] == {"red": 1, "orange": 0, "yellow": 1, "blue": 0}
    assert data["keys"] == {"persons": 1, "persons_overdue": 1, "groups": 0, "groups_overdue": 0}
    assert [d.title for d in data["top_disputes"]][:2] == ["重大风险纠纷", "西山高风险"]
    assert scene["struck"] not in data["top_disputes"]
    assert [a.title for a in data["newest_alerts"]] == ["黄色预警", "红色预警"]
    rounds = [r for r in data["rounds"] if r["label"].endswith("测试轮次")]
    assert len(rounds) == 1
    assert rounds[0]["expected"] == 2 and rounds[0]["submitted"] == 1
    assert rounds[0]["late_units"] == ["东湖社区"]


def test_screening_matches_helper_b(world: World, scene: dict[str, Any]) -> None:
    from xinfang.prevention import screening

    summary = getattr(screening, "screening_summary", None)
    if summary is None:
        pytest.skip("screening.screening_summary not written yet")
    for user, unit in ((world.leo, world.district), (world.hank, world.street)):
        theirs = {
            r["round"].pk: (r["expected"], r["submitted"], r["completion"], sorted(r["late_units"]))
            for r in summary(fresh(user), unit)
        }
        ours = {
            int(r["url"].rstrip("/").rsplit("/", 1)[-1]): (
                r["expected"],
                r["submitted"],
                r["completion"],
                sorted(r["late_units"]),
            )
            for r in D.summary(fresh(user), unit)["rounds"]
        }
        assert ours == theirs


def test_numbers_for_a_street_and_roles(world: World, scene: dict[str, Any]) -> None:
    street = D.summary(fresh(world.leo), world.street)
    assert street["open_total"] == 4 and street["by_risk"]["high"] == 0
    assert street["alerts_total"] == 1
    hank = D.summary(fresh(world.hank), world.street)
    assert hank["open_total"] == 4
    assert hank["keys"] is None  # 承办人: no key-person figures at all
    assert hank["pending_mine"] == 0
    uma = D.summary(fresh(world.uma), world.street)
    assert uma["pending_mine"] == 0  # her own unit's item: the level above decides
    assert uma["keys"] is not None and uma["keys"]["persons"] == 1
    rita = D.summary(fresh(world.rita), world.district)
    assert rita["keys"] is None and rita["open_total"] == 5


def test_pages_scope_and_404(world: World, scene: dict[str, Any]) -> None:
    r = as_(world.leo).get("/prevention/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "预防排查总览：示范区" in body and "<svg" in body and "重点人员" in body
    assert "/prevention/disputes/?state=overdue" in body
    assert as_(world.leo).get(f"/prevention/?unit={world.street.pk}").status_code == 200
    hank = as_(world.hank)
    page = hank.get("/prevention/").content.decode()
    assert "预防排查总览：东湖街道" in page and "重点人员" not in page.split("</nav>", 2)[-1]
    assert hank.get(f"/prevention/?unit={world.sibling.pk}").status_code == 404
    assert hank.get(f"/prevention/?unit={world.district.pk}").status_code == 404
    assert hank.get("/prevention/?unit=abc").status_code == 404
    assert hank.get(f"/prevention/map.svg?unit={world.sibling.pk}").status_code == 404
    assert as_(world.sam).get("/prevention/").status_code == 404  # sysadmin reads no cases
    assert Client().get("/prevention/").status_code == 302


def _nodes(root: ET.Element) -> dict[str, ET.Element]:
    """Map node name (first text) → its rect."""
    out = {}
    for g in root.iter():
        if g.tag in (SVG + "a", SVG + "g") and g.get("class") == "map-node":
            texts = [t.text for t in g.findall(SVG + "text")]
            out[texts[0] or ""] = g
    return out


def test_map_svg(world: World, scene: dict[str, Any]) -> None:
    r = as_(world.leo).get("/prevention/map.svg")
    assert r.status_code == 200 and r["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(r.content)  # valid XML
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.find(SVG + "title") is not None and root.find(SVG + "desc") is not None
    nodes = _nodes(root)
    fills = {name: g.find(SVG + "rect").get("fill") for name, g in nodes.items()}  # type: ignore[union-attr]
    assert fills["示范区"] == "#cf222e"  # the critical item below
    assert fills["东湖街道"] == "#cf222e"
    assert fills["东湖社区"] == "#cf222e"
    assert fills["西山街道"] == "#ffd8b5"  # high risk beats the yellow alert
    assert fills["区信访局"] == "#f6f8fa"  # nothing open
    assert nodes["东湖街道"].get("href") == f"/prevention/?unit={world.street.pk}"
    assert (
        nodes["东湖社区"].get("href")
        == f"/prevention/disputes/?state=active&place={world.community.pk}"
    )
    # not colour alone: each node says its level and counts in text and in its title
    texts = [t.text for t in nodes["东湖社区"].findall(SVG + "text")]
    assert "重大" in texts and "纠纷4 预警1" in texts
    assert "最高等级" in (nodes["东湖社区"].find(SVG + "title").text or "")  # type: ignore[union-attr]
    # the legend names every level
    legend = "".join(t.text or "" for t in root.iter(SVG + "text"))
    for label in ("无未结事项", "低风险", "中风险", "高风险", "重大风险"):
        assert label in legend
    # the street's map: its communities are the columns
    street = ET.fromstring(
        as_(world.leo).get(f"/prevention/map.svg?unit={world.street.pk}").content
    )
    assert "东湖社区" in _nodes(street)


def test_map_escapes_names(world: World) -> None:
    Unit.objects.create(name='<b>&"社区', unit_type=UnitType.COMMUNITY, parent=world.street)
    r = as_(world.leo).get("/prevention/map.svg")
    ET.fromstring(r.content)
    assert b"<b>" not in r.content


def test_many_communities_fold(world: World) -> None:
    for i in range(15):
        Unit.objects.create(name=f"社区{i:02d}", unit_type=UnitType.COMMUNITY, parent=world.street)
    root = ET.fromstring(as_(world.leo).get("/prevention/map.svg").content)
    assert "其余5个" in _nodes(root)


def test_query_count_bounded(
    world: World, scene: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for i in range(20):
        parent = world.street if i % 2 else world.sibling
        Unit.objects.create(name=f"社区{i:02d}", unit_type=UnitType.COMMUNITY, parent=parent)
    leo = fresh(world.leo)
    # 18: constant per request, not per unit — the alert counts read the viewer's case scope
    # once (unit count, accused cover, accused exclusions: a 检举控告 alert only for those who
    # see the case), and the 销号 queue reads the approver's own units once.
    with django_assert_max_num_queries(18):
        data = D.summary(leo, world.district)
        D.render_map(data["tree"])


def test_page_query_count_bounded(
    world: World, scene: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    c = as_(world.leo)
    with django_assert_max_num_queries(25):
        assert c.get("/prevention/").status_code == 200
