"""Exact KPIs, scores, grades and ranks on a fixture built through the services
(``test_kpi_util``); weights change the ranking; 一票否决 puts a unit last; zero denominators."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.conftest import World
from tests.stats.test_kpi_util import SEPT, build
from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.stats import kpi, rollup
from xinfang.stats.models import AssessmentScheme, VetoFlag
from xinfang.stats.periods import Period


def _nd(row: kpi.Row, code: str) -> tuple[int, int, str]:
    r = row.rate(code)
    return r.num, r.den, r.pct_text


def _by_name(ranking: kpi.Ranking) -> dict[str, kpi.Row]:
    return {r.unit.name: r for r in ranking.rows}


def test_exact_rates_scores_and_ranks(world: World) -> None:
    build(world)
    assert rollup.check().ok
    r = kpi.ranking(SEPT, world.district)
    rows = _by_name(r)
    street, sibling, office = rows["东湖街道"], rows["西山街道"], rows["区信访局"]

    assert _nd(street, "timely_accept") == (1, 2, "50.0%")
    assert _nd(street, "on_time_reply") == (2, 2, "100.0%")
    assert _nd(street, "participation") == (2, 2, "100.0%")
    assert _nd(street, "satisfaction") == (1, 2, "50.0%")
    assert _nd(street, "repeat_rate") == (0, 2, "0.0%")
    assert _nd(street, "once_resolved") == (1, 2, "50.0%")
    assert _nd(street, "backlog_resolve") == (0, 0, "—")
    assert street.score == Decimal("72.5") and street.grade == "合格"

    # C never decided: its acceptance deadline fell due in September and is unmet → in the
    # denominator, so 西山街道 is not 100 %
    assert sibling.figures["accept_pending"] == 1
    assert _nd(sibling, "timely_accept") == (1, 2, "50.0%")
    assert _nd(sibling, "on_time_reply") == (1, 1, "100.0%")
    assert _nd(sibling, "participation") == (0, 1, "0.0%")
    assert _nd(sibling, "satisfaction") == (0, 0, "—")  # full marks (default)
    assert _nd(sibling, "repeat_rate") == (1, 2, "50.0%")
    assert _nd(sibling, "once_resolved") == (1, 1, "100.0%")
    assert sibling.score == Decimal("77.5") and sibling.grade == "良好"
    assert sibling.figures["overdue"] == 1  # C, live

    assert office.score is None and office.grade == "—"
    assert [(x.unit.name, x.rank) for x in r.rows] == [
        ("西山街道", 1),
        ("东湖街道", 2),
        ("区信访局", 3),
    ]
    # 合计 sums the subtree; 本级 (the district itself) holds nothing
    assert _nd(r.total, "timely_accept") == (2, 4, "50.0%")
    assert r.total.figures["overdue"] == 1
    assert r.own.figures == {} and r.own.rank is None and r.total.rank is None


def test_weights_change_the_ranking(world: World) -> None:
    build(world)
    scheme = kpi.ensure_default_scheme()
    weights = {k.code: 0 for k in kpi.KPIS} | {"participation": 100}
    kpi.scheme_update(scheme=scheme, by=world.leo, weights=weights, veto_rules=scheme.veto_rules)
    r = kpi.ranking(SEPT, world.district)
    rows = _by_name(r)
    assert rows["东湖街道"].score == Decimal("100.0") and rows["东湖街道"].rank == 1
    assert rows["西山街道"].score == Decimal("0.0") and rows["西山街道"].rank == 2
    assert rows["西山街道"].grade == "不合格"


def test_zero_denominator_policies(world: World) -> None:
    build(world)
    scheme = kpi.ensure_default_scheme()
    w = kpi.weights_of(scheme)
    for zero, expected in (("full", "77.5"), ("zero", "52.5"), ("skip", "70.0")):
        kpi.scheme_update(
            scheme=scheme, by=world.alice, weights=w, veto_rules=scheme.veto_rules, zero=zero
        )
        row = _by_name(kpi.ranking(SEPT, world.district))["西山街道"]
        assert row.score == Decimal(expected), zero


def test_an_empty_period_has_no_rates_and_no_scores(world: World) -> None:
    build(world)
    r = kpi.ranking(Period.month(2025, 2), world.district)
    for row in r.all_rows:
        assert all(rate.pct_text == "—" for rate in row.rates)
        assert row.score is None
    assert [x.rank for x in r.rows] == [1, 1, 1]  # all tied: no data


def test_a_street_scope_ranks_its_communities(world: World) -> None:
    build(world)
    r = kpi.ranking(SEPT, world.street)
    assert [x.unit.name for x in r.rows] == ["东湖社区"]
    assert r.rows[0].score is None
    assert _nd(r.own, "timely_accept") == (1, 2, "50.0%")  # the street's own cases: 本级
    assert r.own.score == Decimal("72.5")


def test_veto_puts_a_unit_last_and_fails_it(world: World) -> None:
    build(world)
    scheme = kpi.ensure_default_scheme()
    flag = kpi.veto_add(
        scheme=scheme,
        by=world.leo,
        unit=world.sibling,
        code="abnormal_visit",
        start=dt.date(2026, 9, 15),
        end=dt.date(2026, 9, 15),
        reason="9月15日发生赴省集体访一批，人数12人。",
    )
    r = kpi.ranking(SEPT, world.district)
    assert [(x.unit.name, x.rank, x.vetoed) for x in r.rows] == [
        ("东湖街道", 1, False),
        ("区信访局", 2, False),
        ("西山街道", 3, True),
    ]
    sibling = _by_name(r)["西山街道"]
    assert sibling.score == Decimal("77.5") and sibling.grade == "不合格"
    # a flag outside the period does not count; a revoked one neither
    assert not _by_name(kpi.ranking(Period.month(2026, 8), world.district))["西山街道"].vetoed
    kpi.veto_revoke(flag=flag, by=world.alice, reason="经核实不属实")
    assert _by_name(kpi.ranking(SEPT, world.district))["西山街道"].rank == 1
    with pytest.raises(DomainError):
        kpi.veto_revoke(flag=flag, by=world.alice, reason="再次撤销")


def test_veto_on_a_community_counts_for_its_street(world: World) -> None:
    build(world)
    kpi.veto_add(
        scheme=kpi.ensure_default_scheme(),
        by=world.leo,
        unit=world.community,
        code="concealment",
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 12, 31),
        reason="东湖社区瞒报重大信访信息一起，已查实。",
    )
    rows = _by_name(kpi.ranking(SEPT, world.district))
    assert rows["东湖街道"].vetoed and rows["东湖街道"].rank == 3


def test_ties_share_a_rank_and_the_next_skips() -> None:
    from xinfang.org.models import Unit

    def row(name: str, score: str | None, reply: tuple[int, int], vetoed: bool = False) -> kpi.Row:
        x = kpi.Row(unit=Unit(name=name), role="child", figures={})
        x.rates = [kpi.Rate(k, *(reply if k.code == "on_time_reply" else (0, 0))) for k in kpi.KPIS]
        x.score = Decimal(score) if score else None
        x.vetoes = [VetoFlag()] if vetoed else []
        return x

    ranked = kpi.rank(
        [
            row("丁", "80", (1, 2)),
            row("甲", "90", (1, 1), vetoed=True),
            row("乙", "80", (1, 2)),
            row("丙", "80", (2, 2)),
            row("戊", "70", (1, 1)),
            row("己", None, (0, 0)),
        ]
    )
    assert [(x.unit.name, x.rank) for x in ranked] == [
        ("丙", 1),
        ("丁", 2),
        ("乙", 2),
        ("戊", 4),
        ("己", 5),
        ("甲", 6),
    ]


def test_scheme_guard_and_validation(world: World) -> None:
    scheme = kpi.ensure_default_scheme()
    assert AssessmentScheme.objects.count() == 1 and kpi.ensure_default_scheme() == scheme
    w = kpi.weights_of(scheme)
    assert w["on_time_reply"] == 25 and sum(w.values()) == 100
    with pytest.raises(PermissionDenied):
        kpi.scheme_update(scheme=scheme, by=world.uma, weights=w, veto_rules=[])
    with pytest.raises(DomainError, match="权重之和须大于0"):
        kpi.scheme_update(scheme=scheme, by=world.leo, weights=dict.fromkeys(w, 0), veto_rules=[])
    with pytest.raises(DomainError, match="0至100"):
        kpi.scheme_update(
            scheme=scheme, by=world.leo, weights=w | {"satisfaction": 101}, veto_rules=[]
        )
    kpi.veto_add(
        scheme=scheme,
        by=world.leo,
        unit=world.street,
        code="mass_incident",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
        reason="发生因征地补偿引发的群体性事件。",
    )
    with pytest.raises(DomainError, match="不能删除"):
        kpi.scheme_update(scheme=scheme, by=world.leo, weights=w, veto_rules=[])


def test_veto_guard(world: World) -> None:
    scheme = kpi.ensure_default_scheme()
    args = {
        "scheme": scheme,
        "unit": world.street,
        "code": "mass_incident",
        "start": dt.date(2026, 1, 1),
        "end": dt.date(2026, 12, 31),
        "reason": "发生因征地补偿引发的群体性事件。",
    }
    with pytest.raises(PermissionDenied):
        kpi.veto_add(by=world.uma, **args)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="不少于10个字"):
        kpi.veto_add(by=world.leo, **(args | {"reason": "太短"}))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="一票否决情形"):
        kpi.veto_add(by=world.leo, **(args | {"code": "nope"}))  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="早于"):
        kpi.veto_add(by=world.leo, **(args | {"end": dt.date(2025, 1, 1)}))  # type: ignore[arg-type]
    from xinfang.audit.models import AuditEntry

    before = AuditEntry.objects.count()
    kpi.veto_add(by=world.leo, **args)  # type: ignore[arg-type]
    assert AuditEntry.objects.count() == before + 1


def test_kpi_rows_are_plain(world: World) -> None:
    build(world)
    rows = kpi.kpi_rows(SEPT, world.district)
    by = {r["unit"]: r for r in rows}
    assert by["西山街道"]["timely_accept"] == {"num": 1, "den": 2, "rate": 50.0}
    assert by["西山街道"]["score"] == 77.5 and by["西山街道"]["rank"] == 1
    assert by["合计"]["role"] == "total" and by["示范区（本级）"]["role"] == "self"


def test_a_transferred_case_counts_where_it_was_and_its_deadline_where_it_is(
    world: World,
) -> None:
    from tests.conftest import registration
    from tests.stats.test_kpi_util import at
    from xinfang.cases import services as S
    from xinfang.cases.handling import case_transfer
    from xinfang.cases.registration import case_register

    build(world)
    e = case_register(
        by=world.rita, office=world.office, reg=registration(received_at=at("2026-09-01", 9))
    )
    S.case_assign(case=e, by=world.alice, unit=world.street, at=at("2026-09-01", 11))
    S.case_sign_in(case=e, by=world.hank, at=at("2026-09-02"))
    # 东湖街道's acceptance deadline is cancelled by the 转办: not pending there; 西山街道's new
    # one falls due in September unmet
    case_transfer(
        case=e, by=world.alice, unit=world.sibling, reason="属西山街道管辖", at=at("2026-09-04")
    )
    rows = _by_name(kpi.ranking(SEPT, world.district))
    assert rows["东湖街道"].figures["assigned"] == 3
    assert rows["东湖街道"].figures.get("accept_pending", 0) == 0
    assert _nd(rows["东湖街道"], "timely_accept") == (1, 2, "50.0%")
    assert rows["西山街道"].figures["assigned"] == 3
    assert _nd(rows["西山街道"], "timely_accept") == (1, 3, "33.3%")
    assert rows["西山街道"].figures["overdue"] == 2


def test_every_numerator_traces_to_its_cases(world: World) -> None:
    """The link behind a numerator lists exactly as many cases as the figure (each case
    counts once per measure in this fixture)."""
    from xinfang.stats import policy as P
    from xinfang.stats.query import Filters, cases_behind

    build(world)
    r = kpi.ranking(SEPT, world.district)
    for row in r.rows:
        units = Filters(units=P.subtree_ids(row.unit))
        for rate in row.rates:
            ids = cases_behind(SEPT, units, "h", rate.kpi.num_measure)
            assert len(ids) == rate.num, (row.unit.name, rate.kpi.code)


def test_inactive_unit_with_figures_stays_and_an_empty_new_one_shows(world: World) -> None:
    from xinfang.org.models import Unit, UnitType

    build(world)
    Unit.objects.filter(pk=world.sibling.pk).update(is_active=False)
    Unit.objects.create(name="新区街道", unit_type=UnitType.STREET, parent=world.district)
    Unit.objects.create(
        name="旧街道", unit_type=UnitType.STREET, parent=world.district, is_active=False
    )
    names = [x.unit.name for x in kpi.ranking(SEPT, world.district).rows]
    assert "西山街道" in names and "新区街道" in names and "旧街道" not in names
