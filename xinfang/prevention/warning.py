"""预警 (early warning): the rules, the sweep that runs them, and the alert lifecycle.

Rules are data (``WarningRule`` rows, seeded in ``seeds.WARNING_RULES``): ``code`` picks the
test implemented here (``RULES``), ``params`` its parameters, ``severity`` its default colour,
``is_active`` whether it runs at all. ``warning_sweep`` runs every active rule once; each rule
reads only its window through aggregate (GROUP BY) queries and raises through
``alerts.alert_raise`` with a dedupe key, so a re-run or two sweeps at once raise each alert once.

The spike rules use a one-sided Poisson test (``spike_test``): the count of the last
``window_days`` complete days against λ = (daily mean of the ``baseline_days`` before the window)
× ``window_days``; a spike when P(X ≥ observed | λ) < ``alpha`` and observed ≥ ``min_count``.
``poisson_sf`` is plain ``math`` (regularised incomplete gamma), stable for large λ.

Lifecycle: ``alert_acknowledge`` (open → acknowledged), ``alert_close`` (outcome required),
``alert_assign`` (a leader / case officer in scope). Each is a conditional UPDATE on the state in
one transaction, appends a row to the alert's timeline (``AlertEvent``) and checks
``policy.require_act_on_alert``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from xinfang.core.errors import DomainError
from xinfang.core.text import clean_text
from xinfang.org import roles as R
from xinfang.org.models import Unit, UnitType
from xinfang.prevention import policy
from xinfang.prevention.alerts import alert_raise, default_owner, recipient_cache
from xinfang.prevention.models import (
    Alert,
    AlertEvent,
    AlertState,
    Dispute,
    DisputeState,
    InformantReport,
    InformantReportEvent,
    InformantReportState,
    RiskLevel,
    Severity,
    WarningRule,
    WarningSweep,
)

log = logging.getLogger(__name__)

# --- statistics (pure functions, no database) ------------------------------------------------

_EPS = 1e-15
_MAX_ITER = 100000


def _log_gamma_prefix(a: float, x: float) -> float:
    """log(x^a e^-x / Γ(a))."""
    return a * math.log(x) - x - math.lgamma(a)


def _lower_gamma_series(a: float, x: float) -> float:
    """Regularised lower incomplete gamma P(a, x) by its power series (x < a + 1)."""
    term = 1.0 / a
    total = term
    ap = a
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return math.exp(_log_gamma_prefix(a, x) + math.log(total))


def _upper_gamma_fraction(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) by its continued fraction (x ≥ a + 1),
    modified Lentz."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(_log_gamma_prefix(a, x) + math.log(h))


def poisson_sf(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(λ) — the one-sided upper tail, observed count included.

    P(X ≥ k) equals the regularised lower incomplete gamma P(k, λ). For λ < k + 1 (the tail
    we test: small probabilities) the power series converges fast and is summed in log space;
    otherwise 1 − Q(k, λ) by the continued fraction (the result is then ≥ about ½, no
    cancellation). Stable for λ in the millions; no scipy."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    a = float(k)
    if lam < a + 1.0:
        return min(1.0, max(0.0, _lower_gamma_series(a, lam)))
    return min(1.0, max(0.0, 1.0 - _upper_gamma_fraction(a, lam)))


@dataclass(frozen=True)
class SpikeResult:
    observed: int
    expected: float  # λ = baseline daily mean × window days
    p: float
    is_spike: bool
    baseline_total: int
    baseline_days: int
    window_days: int


# With no history at all the daily mean would be 0 and any count "infinitely" unlikely; half a
# case over the baseline (a Jeffreys-style prior) keeps a brand-new place from alerting on its
# first few cases (min_count also guards).
BASELINE_PRIOR = 0.5


def spike_test(
    observed: int,
    baseline_total: int,
    *,
    baseline_days: int,
    window_days: int,
    alpha: float,
    min_count: int,
) -> SpikeResult:
    """One-sided Poisson test of ``observed`` cases in ``window_days`` against the daily mean
    of ``baseline_total`` cases over ``baseline_days``."""
    mean = (baseline_total + BASELINE_PRIOR) / max(1, baseline_days)
    lam = mean * window_days
    p = poisson_sf(observed, lam)
    return SpikeResult(
        observed=observed,
        expected=lam,
        p=p,
        is_spike=observed >= min_count and p < alpha,
        baseline_total=baseline_total,
        baseline_days=baseline_days,
        window_days=window_days,
    )


def spike_severity(p: float, params: dict[str, Any], default: str) -> str:
    """Escalate with the p-value: below ``red_p`` red, below ``orange_p`` orange, else the
    rule's colour."""
    if p < float(params.get("red_p", 1e-10)):
        return Severity.RED
    if p < float(params.get("orange_p", 1e-6)):
        return Severity.ORANGE
    return default


def detect_series(
    counts: Sequence[int],
    *,
    window_days: int = 7,
    baseline_days: int = 84,
    alpha: float = 0.001,
    min_count: int = 5,
) -> list[tuple[int, SpikeResult]]:
    """Run ``spike_test`` day by day over a daily count series, as the sweep does (day ``d``
    tests the window ``d - window_days + 1 … d`` against the ``baseline_days`` before it) with
    the sweep's suppression: no second alert for the same key while the last alert's window
    still overlaps. Returns (day index, result) of each alert. The bench uses this."""
    prefix = [0]
    for c in counts:
        prefix.append(prefix[-1] + c)
    alerts: list[tuple[int, SpikeResult]] = []
    last = -(10**9)
    for d in range(baseline_days + window_days - 1, len(counts)):
        w_start = d - window_days + 1
        observed = prefix[d + 1] - prefix[w_start]
        base = prefix[w_start] - prefix[w_start - baseline_days]
        result = spike_test(
            observed,
            base,
            baseline_days=baseline_days,
            window_days=window_days,
            alpha=alpha,
            min_count=min_count,
        )
        if result.is_spike and d - last >= window_days:
            alerts.append((d, result))
            last = d
    return alerts


# --- helpers ---------------------------------------------------------------------------------


def _tz() -> dt.tzinfo:
    return timezone.get_current_timezone()


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, _tz())


def _beijing_today() -> dt.date:
    return timezone.localtime(timezone.now()).date()


PLACE_UNIT_TYPES = frozenset({UnitType.STREET, UnitType.COMMUNITY, UnitType.GRID})


class PlaceUnits:
    """Map ``Case.place_code`` to its place unit: the unit whose division code is the longest
    prefix of the code (ties: the shallowest unit) — the rule of
    ``cases.registration._levels_skipped`` — loaded once (units are few) and cached per code."""

    def __init__(self) -> None:
        self.by_code: dict[str, Unit] = {}
        for unit in Unit.objects.exclude(division_code="").filter(is_active=True).order_by("path"):
            best = self.by_code.get(unit.division_code)
            if best is None or unit.path.count(".") < best.path.count("."):
                self.by_code[unit.division_code] = unit
        self._cache: dict[str, Unit | None] = {}

    def unit_for(self, code: str) -> Unit | None:
        code = (code or "").strip()
        if code in self._cache:
            return self._cache[code]
        found = None
        if code.isdigit() and len(code) >= 6:
            for n in range(len(code), 5, -1):
                unit = self.by_code.get(code[:n])
                if unit is not None:
                    found = unit
                    break
        self._cache[code] = found
        return found

    def deeper_codes(self, unit: Unit) -> list[str]:
        """Division codes under ``unit``'s own code that belong to other units (their cases are
        counted there, not here)."""
        own = unit.division_code
        return sorted(c for c in self.by_code if c != own and c.startswith(own))


def place_unit_for(code: str) -> Unit | None:
    return PlaceUnits().unit_for(code)


def place_cases_q(unit: Unit, places: PlaceUnits | None = None) -> Q:
    """The cases whose place unit is ``unit`` (by code prefix, minus deeper units' codes)."""
    places = places or PlaceUnits()
    q = Q(place_code__startswith=unit.division_code)
    for code in places.deeper_codes(unit):
        q &= ~Q(place_code__startswith=code)
    return q


def _root_of(unit_path: str) -> int:
    return int(unit_path.split(".", 1)[0])


class _Owners:
    """default_owner per unit, cached for one sweep."""

    def __init__(self) -> None:
        self._by_unit: dict[int, Any] = {}

    def __call__(self, unit: Unit) -> Any:
        if unit.pk not in self._by_unit:
            self._by_unit[unit.pk] = default_owner(unit)
        return self._by_unit[unit.pk]


@dataclass
class RuleContext:
    rule: WarningRule
    as_of: dt.date
    owners: _Owners = field(default_factory=_Owners)
    # When the alerts are stamped (``raised_at``): None = now; a catch-up sweep for a past day
    # stamps that day, so its alerts land in that day's week of the 预测预报.
    at: dt.datetime | None = None
    raised: int = 0
    candidates: int = 0

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.rule.params or {})

    def param(self, name: str, default: Any) -> Any:
        return self.params.get(name, default)


def _existing(keys: Iterable[str]) -> set[str]:
    keys = [k[:150] for k in keys]
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        found.update(
            Alert.objects.filter(dedupe_key__in=keys[i : i + 500]).values_list(
                "dedupe_key", flat=True
            )
        )
    return found


def _raise(ctx: RuleContext, **kwargs: Any) -> bool:
    unit = kwargs["unit"]
    kwargs.setdefault("owner", None)
    if kwargs["owner"] is None:
        kwargs["owner"] = ctx.owners(unit)
    at = ctx.at
    case = kwargs.get("case")
    if at is not None and case is not None and case.received_at > at:
        at = case.received_at  # a catch-up stamp never precedes the case it is about
    kwargs.setdefault("at", at)
    _alert, created = alert_raise(rule=ctx.rule.code, **kwargs)
    if created:
        ctx.raised += 1
    return created


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-300 else "<1e-300"


def _window(ctx: RuleContext) -> tuple[int, int, dt.date, dt.date, dt.date]:
    window = int(ctx.param("window_days", 7))
    baseline = int(ctx.param("baseline_days", 84))
    end = ctx.as_of  # exclusive: the window is the last complete days before as_of
    start = end - dt.timedelta(days=window)
    base_start = start - dt.timedelta(days=baseline)
    return window, baseline, base_start, start, end


def _window_counts(ctx: RuleContext, key_fields: Sequence[str]) -> list[dict[str, Any]]:
    """Per key: cases received in the window (``win``) and in the baseline (``base``) — one
    GROUP BY over the 13 weeks, through the ``received_at`` index."""
    _w, _b, base_start, start, end = _window(ctx)
    return list(
        # ``received_at`` (indexed; the case list's date filter) is when the petition arrived.
        _cases_between(base_start, end)
        .values(*key_fields)
        .annotate(
            win=Count("id", filter=Q(received_at__gte=_start_of(start))),
            base=Count("id", filter=Q(received_at__lt=_start_of(start))),
        )
        .order_by()
    )


def _cases_between(start: dt.date, end: dt.date) -> Any:
    from xinfang.cases.models import Case

    return Case.objects.filter(
        received_at__gte=_start_of(start), received_at__lt=_start_of(end)
    ).exclude(status="merged")


def _spike_suppressed(prefix: str, end: dt.date, window: int) -> bool:
    """An alert for the same key whose window still overlaps this one (raised in the last
    ``window - 1`` days) — a spike is reported once, not every day it stays in the window."""
    keys = [f"{prefix}:{end - dt.timedelta(days=i)}" for i in range(1, window)]
    return bool(_existing(keys))


def _spike(
    ctx: RuleContext,
    *,
    prefix: str,
    unit: Unit,
    observed: int,
    base: int,
    title: str,
    link: str,
    data: dict[str, Any],
) -> None:
    window, baseline, _bs, start, end = _window(ctx)
    res = spike_test(
        observed,
        base,
        baseline_days=baseline,
        window_days=window,
        alpha=float(ctx.param("alpha", 0.001)),
        min_count=int(ctx.param("min_count", 5)),
    )
    if not res.is_spike:
        return
    ctx.candidates += 1
    key = f"{prefix}:{end}"
    if key in _existing([key]) or _spike_suppressed(prefix, end, window):
        return
    last = end - dt.timedelta(days=1)
    detail = (
        f"{start.month}月{start.day}日至{last.month}月{last.day}日共{observed}件，"
        f"按前{baseline}天日均{res.baseline_total / baseline:.2f}件推算应为{res.expected:.1f}件"
        f"（泊松上尾检验 p={_fmt_p(res.p)}）。"
    )
    _raise(
        ctx,
        severity=spike_severity(res.p, ctx.params, ctx.rule.severity),
        unit=unit,
        title=title,
        detail=detail,
        dedupe_key=key,
        data={
            **data,
            "observed": observed,
            "expected": round(res.expected, 3),
            "baseline_total": base,
            "baseline_days": baseline,
            "window_days": window,
            "window_start": start.isoformat(),
            "window_end": last.isoformat(),
            "p": res.p,
            "cases_url": link,
        },
    )


# --- the rules ---------------------------------------------------------------------------------


def _case_list_url(**params: Any) -> str:
    from urllib.parse import urlencode

    from django.urls import reverse

    return reverse("case_list") + "?" + urlencode({k: v for k, v in params.items() if v})


def rule_spike_place(ctx: RuleContext) -> None:
    places = PlaceUnits()
    per_unit: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    units: dict[int, Unit] = {}
    for row in _window_counts(ctx, ["place_code"]):
        unit = places.unit_for(row["place_code"])
        if unit is None or unit.unit_type not in PLACE_UNIT_TYPES:
            continue
        units[unit.pk] = unit
        per_unit[unit.pk][0] += row["win"]
        per_unit[unit.pk][1] += row["base"]
    _w, _b, _bs, start, end = _window(ctx)
    for pk, (win, base) in per_unit.items():
        unit = units[pk]
        _spike(
            ctx,
            prefix=f"spike_place:u{pk}",
            unit=unit,
            observed=win,
            base=base,
            title=f"{unit.name}近{_w}天信访量异常增长（{win}件）",
            link=_case_list_url(
                place=unit.division_code,
                date_from=start.isoformat(),
                date_to=(end - dt.timedelta(days=1)).isoformat(),
            ),
            data={"key": "place", "place_unit_id": pk, "place_code": unit.division_code},
        )


def rule_spike_topic(ctx: RuleContext) -> None:
    from xinfang.cases.models import Category

    cats = {c.pk: c for c in Category.objects.all()}

    def root(cid: int) -> Any:
        c = cats.get(cid)
        seen = 0
        while c is not None and c.parent_id is not None and seen < 20:
            c = cats.get(c.parent_id)
            seen += 1
        return c

    offices = dict(Unit.objects.values_list("pk", "path"))
    roots = {u.pk: u for u in Unit.objects.filter(parent__isnull=True)}
    per_key: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in _window_counts(ctx, ["office_unit_id", "category_id"]):
        if row["category_id"] is None:
            continue
        top = root(row["category_id"])
        path = offices.get(row["office_unit_id"])
        if top is None or path is None:
            continue
        key = (_root_of(path), top.pk)
        per_key[key][0] += row["win"]
        per_key[key][1] += row["base"]
    window, _b, _bs, start, end = _window(ctx)
    for (root_id, cat_id), (win, base) in per_key.items():
        unit = roots.get(root_id)
        if unit is None:
            continue
        name = cats[cat_id].name
        _spike(
            ctx,
            prefix=f"spike_topic:u{root_id}:c{cat_id}",
            unit=unit,
            observed=win,
            base=base,
            title=f"“{name}”类信访量近{window}天异常增长（{win}件）",
            link=_case_list_url(
                category=cat_id,
                date_from=start.isoformat(),
                date_to=(end - dt.timedelta(days=1)).isoformat(),
            ),
            data={"key": "topic", "category_id": cat_id, "category": name},
        )


def _case_unit(case: Any, places: PlaceUnits) -> Unit:
    """Where a per-case alert is raised: the case's place unit, else its handling or
    registering unit. A 检举控告 case: always the registering office — the place or the
    handling unit may be the accused (``cases.confidential`` rule 1)."""
    if case.is_confidential:
        return case.office_unit  # type: ignore[no-any-return]
    unit = places.unit_for(case.place_code)
    if unit is not None:
        return unit
    return case.handling_unit or case.office_unit


def _group_clusters(ctx: RuleContext, group_ids: Iterable[int] | None = None) -> None:
    from xinfang.cases.models import Case

    window = int(ctx.param("window_days", 30))
    min_cases = int(ctx.param("min_cases", 3))
    start = ctx.as_of - dt.timedelta(days=window - 1)
    qs = _cases_between(start, ctx.as_of + dt.timedelta(days=1)).filter(group__isnull=False)
    if group_ids is not None:
        qs = qs.filter(group_id__in=list(group_ids))
    rows = list(
        qs.values("group_id")
        .annotate(n=Count("id"), first=Min("received_at"), last=Max("received_at"), top=Max("id"))
        .filter(n__gte=min_cases)
        .order_by()
    )
    if not rows:
        return
    ctx.candidates += len(rows)
    since = _start_of(start)
    recent = set(
        Alert.objects.filter(
            rule=ctx.rule.code,
            group_id__in=[r["group_id"] for r in rows],
            raised_at__gte=since,
        ).values_list("group_id", flat=True)
    )
    places = PlaceUnits()
    latest = {
        c.pk: c
        for c in Case.objects.filter(pk__in=[r["top"] for r in rows]).select_related(
            "group", "office_unit", "handling_unit"
        )
    }
    for r in rows:
        if r["group_id"] in recent:
            continue  # this group's cluster was reported within the window already
        case = latest[r["top"]]
        unit = _case_unit(case, places)
        numbers = list(
            qs.filter(group_id=r["group_id"])
            .order_by("received_at")
            .values_list("number", flat=True)[:50]
        )
        gname = case.group.name if case.group is not None else ""
        _raise(
            ctx,
            severity=ctx.rule.severity,
            unit=unit,
            title=f"{gname}{window}天内信访{r['n']}件",
            detail=(
                f"信访群体“{gname}”自{timezone.localtime(r['first']):%m月%d日}"
                f"至{timezone.localtime(r['last']):%m月%d日}共登记{r['n']}件"
                f"（阈值：{window}天内{min_cases}件）。"
            ),
            dedupe_key=f"group_cluster:g{r['group_id']}:{ctx.as_of}",
            group=case.group,
            case=case,
            data={
                "observed": r["n"],
                "min_cases": min_cases,
                "window_days": window,
                "window_start": start.isoformat(),
                "window_end": ctx.as_of.isoformat(),
                "case_numbers": numbers,
            },
        )


def rule_group_cluster(ctx: RuleContext) -> None:
    _group_clusters(ctx)


def _repeat_matches(
    ctx: RuleContext, case_rows: Sequence[tuple[int, dt.datetime, int | None]]
) -> dict[int, tuple[int, str, dt.datetime]]:
    """For cases (id, received_at, related_to_id): the earlier case closed (办结/终结) within
    ``within_days`` before, of the same petitioner or the related case."""
    from xinfang.cases.models import Case, CasePetitioner

    within = int(ctx.param("within_days", 180))
    if not case_rows:
        return {}
    ids = [c[0] for c in case_rows]
    people: dict[int, set[int]] = defaultdict(set)
    for case_id, pid in CasePetitioner.objects.filter(case_id__in=ids).values_list(
        "case_id", "petitioner_id"
    ):
        people[case_id].add(pid)
    earliest = min(c[1] for c in case_rows) - dt.timedelta(days=within)
    all_people = {p for s in people.values() for p in s}
    closed_by_person: dict[int, list[tuple[int, str, dt.datetime]]] = defaultdict(list)
    if all_people:
        for pid, cid, number, closed_at in CasePetitioner.objects.filter(
            petitioner_id__in=list(all_people),
            case__closed_at__isnull=False,
            case__closed_at__gte=earliest,
        ).values_list("petitioner_id", "case_id", "case__number", "case__closed_at"):
            if closed_at is not None:
                closed_by_person[pid].append((cid, number, closed_at))
    related = {
        c.pk: (c.pk, c.number, c.closed_at)
        for c in Case.objects.filter(
            pk__in=[c[2] for c in case_rows if c[2]], closed_at__isnull=False
        ).only("pk", "number", "closed_at")
        if c.closed_at is not None
    }
    found: dict[int, tuple[int, str, dt.datetime]] = {}
    for case_id, received, related_id in case_rows:
        lo = received - dt.timedelta(days=within)
        options = [
            row
            for pid in people.get(case_id, ())
            for row in closed_by_person.get(pid, ())
            if row[0] != case_id and lo <= row[2] <= received
        ]
        if related_id in related and lo <= related[related_id][2] <= received:
            options.append(related[related_id])
        if options:
            found[case_id] = max(options, key=lambda r: r[2])
    return found


def _raise_repeats(
    ctx: RuleContext, case_rows: Sequence[tuple[int, dt.datetime, int | None]]
) -> None:
    from xinfang.cases.models import Case, Purpose

    matches = _repeat_matches(ctx, case_rows)
    ctx.candidates += len(matches)
    if not matches:
        return
    done = _existing(f"repeat_after_close:c{cid}" for cid in matches)
    places = PlaceUnits()
    cases = Case.objects.filter(pk__in=list(matches)).select_related("office_unit", "handling_unit")
    # Earlier cases that are 检举控告: the link between the two is itself confidential.
    secret_earlier = set(
        Case.objects.filter(
            pk__in=sorted({m[0] for m in matches.values()}), purpose=Purpose.ACCUSATION
        ).values_list("pk", flat=True)
    )
    within = int(ctx.param("within_days", 180))
    for case in cases:
        key = f"repeat_after_close:c{case.pk}"
        if key in done:
            continue
        earlier_id, earlier_number, closed_at = matches[case.pk]
        days = (case.received_at - closed_at).days
        closed_on = f"{timezone.localtime(closed_at):%Y年%m月%d日}"
        data: dict[str, Any] = {
            "earlier_case_id": earlier_id,
            "closed_at": closed_at.isoformat(),
            "days_after_close": days,
            "within_days": within,
        }
        if case.is_confidential or earlier_id in secret_earlier:
            # 检举控告 on either side: raised at the registering office (never the place or
            # handling unit, which may be the accused), and neither title, detail nor data names
            # a case number; the alert page links the cases its reader may see.
            unit = case.office_unit
            title = (
                f"检举控告件办结后{days}天再次信访"
                if case.is_confidential
                else f"{case.number}：办结后{days}天再次信访"
            )
            detail = (
                f"信访人此前的一件事项于{closed_on}办结（终结），"
                f"{days}天后再次信访（阈值{within}天）。"
            )
        else:
            unit = _case_unit(case, places)
            title = f"{case.number}：办结后{days}天再次信访"
            detail = (
                f"信访人此前的事项{earlier_number}于{closed_on}"
                f"办结（终结），{days}天后再次信访（阈值{within}天）。"
            )
            data["earlier_number"] = earlier_number
        _raise(
            ctx,
            severity=ctx.rule.severity,
            unit=unit,
            title=title,
            detail=detail,
            dedupe_key=key,
            case=case,
            data=data,
        )


def rule_repeat_after_close(ctx: RuleContext) -> None:
    """Catch-up of the per-case receiver: the cases received in the last ``catchup_days``."""
    days = int(ctx.param("catchup_days", 7))
    rows = list(
        _cases_between(ctx.as_of - dt.timedelta(days=days - 1), ctx.as_of + dt.timedelta(days=1))
        .values_list("pk", "received_at", "related_to_id")
        .order_by()
    )
    for i in range(0, len(rows), 2000):
        _raise_repeats(ctx, rows[i : i + 2000])


def rule_dispute_overdue(ctx: RuleContext) -> None:
    qs = Dispute.objects.filter(
        state__in=[DisputeState.OPEN, DisputeState.PENDING], due_on__lt=ctx.as_of
    ).select_related("unit")
    rows = list(qs)
    ctx.candidates += len(rows)
    done = _existing(f"dispute_overdue:d{d.pk}:{d.due_on}" for d in rows)
    for d in rows:
        key = f"dispute_overdue:d{d.pk}:{d.due_on}"
        if key in done:
            continue
        high = d.risk_level in (RiskLevel.HIGH, RiskLevel.CRITICAL)
        days = (ctx.as_of - d.due_on).days
        _raise(
            ctx,
            severity=Severity.ORANGE if high else ctx.rule.severity,
            unit=d.unit,
            title=f"{d.number} {d.title}：超过化解期限{days}天",
            detail=(
                f"化解期限{d.due_on:%Y年%m月%d日}，现状态“{d.get_state_display()}”，"
                f"风险等级“{d.get_risk_level_display()}”。"
            ),
            dedupe_key=key,
            dispute=d,
            owner=d.owner or d.leader,
            data={"due_on": d.due_on.isoformat(), "days_overdue": days, "risk": d.risk_level},
        )


def rule_case_near_deadline(ctx: RuleContext) -> None:
    from xinfang.cases.models import OBLIGATION_KINDS, OPEN_STATUSES, Deadline

    days = int(ctx.param("days", 3))
    # The partial index deadline_open_kind_due (kind, due_on) holds exactly these rows.
    qs = Deadline.objects.filter(
        kind__in=sorted(OBLIGATION_KINDS),
        due_on__gte=ctx.as_of,
        due_on__lte=ctx.as_of + dt.timedelta(days=days),
        met_at__isnull=True,
        cancelled_at__isnull=True,
        paused=False,
        case__status__in=sorted(OPEN_STATUSES),
    ).select_related("case", "case__office_unit", "case__handling_unit")
    rows = list(qs)
    ctx.candidates += len(rows)
    done = _existing(f"case_deadline:{d.pk}:{d.due_on}" for d in rows)
    for d in rows:
        key = f"case_deadline:{d.pk}:{d.due_on}"
        if key in done:
            continue
        case = d.case
        left = (d.due_on - ctx.as_of).days
        when = "今天" if left == 0 else f"{left}天后"
        # 检举控告: at the registering office, no number in the title (see _case_unit).
        secret = case.is_confidential
        _raise(
            ctx,
            severity=ctx.rule.severity,
            unit=case.office_unit if secret else (case.handling_unit or case.office_unit),
            title=(
                f"检举控告件：{d.get_kind_display()}期限{when}届满"
                if secret
                else f"{case.number}：{d.get_kind_display()}期限{when}届满"
            ),
            detail=f"{d.get_kind_display()}期限{d.due_on:%Y年%m月%d日}届满，尚未完成。",
            dedupe_key=key,
            case=case,
            data={"deadline_id": d.pk, "kind": d.kind, "due_on": d.due_on.isoformat()},
        )


RULES: dict[str, Callable[[RuleContext], None]] = {
    "spike_place": rule_spike_place,
    "spike_topic": rule_spike_topic,
    "group_cluster": rule_group_cluster,
    "repeat_after_close": rule_repeat_after_close,
    "dispute_overdue": rule_dispute_overdue,
    "case_near_deadline": rule_case_near_deadline,
    # informant_urgent is raised by informants.py when the report is made.
}


def warning_sweep(as_of: dt.date | None = None) -> WarningSweep:
    """Run every active rule for ``as_of`` (default: today, Beijing). Idempotent: alerts are
    keyed (rule × subject × window), so re-runs and concurrent runs raise each once. A rule that
    fails is logged and recorded in ``stats``; the others still run."""
    as_of = as_of or _beijing_today()
    sweep = WarningSweep.objects.create(started_at=timezone.now(), as_of=as_of)
    # A catch-up run for a past day stamps its alerts at the start of that day (Beijing), not
    # now: they belong to that day's week in the 预测预报 and the alert list's date filter.
    stamp = _start_of(as_of) if as_of < _beijing_today() else None
    owners = _Owners()
    stats: dict[str, Any] = {}
    total = 0
    with recipient_cache():
        for rule in WarningRule.objects.filter(is_active=True).order_by("id"):
            fn = RULES.get(rule.code)
            if fn is None:
                continue
            ctx = RuleContext(rule=rule, as_of=as_of, owners=owners, at=stamp)
            t0 = time.perf_counter()
            entry: dict[str, Any] = {}
            try:
                fn(ctx)
            except Exception as exc:  # one broken rule must not stop the others
                log.exception("warning rule %s failed", rule.code)
                entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
            entry.update(
                raised=ctx.raised,
                candidates=ctx.candidates,
                ms=round((time.perf_counter() - t0) * 1000, 1),
            )
            stats[rule.code] = entry
            total += ctx.raised
    # The key-person review reminders ride on the same daily job (keypersons.key_reviews_due).
    t0 = time.perf_counter()
    try:
        from xinfang.prevention.keypersons import key_reviews_due

        reviews = key_reviews_due(as_of)
        stats["key_reviews"] = {
            "notified": reviews.notified,
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
    except Exception as exc:
        log.exception("key review reminders failed")
        stats["key_reviews"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    sweep.finished_at = timezone.now()
    sweep.raised = total
    sweep.stats = stats
    sweep.save(update_fields=["finished_at", "raised", "stats"])
    return sweep


# --- per case (receivers.py) --------------------------------------------------------------------


def on_case_registered(case: Any) -> int:
    """The per-case rules for a newly registered case: a repeat after closing, and the group's
    cluster. Returns how many alerts were raised."""
    raised = 0
    rules = {r.code: r for r in WarningRule.objects.filter(is_active=True)}
    as_of = timezone.localtime(case.received_at).date()
    rule = rules.get("repeat_after_close")
    if rule is not None:
        ctx = RuleContext(rule=rule, as_of=as_of)
        _raise_repeats(ctx, [(case.pk, case.received_at, case.related_to_id)])
        raised += ctx.raised
    rule = rules.get("group_cluster")
    if rule is not None and case.group_id:
        ctx = RuleContext(rule=rule, as_of=as_of)
        _group_clusters(ctx, [case.group_id])
        raised += ctx.raised
    return raised


def on_cases_bulk_registered(case_ids: Sequence[int]) -> int:
    from xinfang.cases.models import Case

    rule = WarningRule.objects.filter(is_active=True, code="repeat_after_close").first()
    if rule is None:
        return 0
    rows = list(
        Case.objects.filter(pk__in=list(case_ids)).values_list("pk", "received_at", "related_to_id")
    )
    ctx = RuleContext(rule=rule, as_of=_beijing_today())
    for i in range(0, len(rows), 2000):
        _raise_repeats(ctx, rows[i : i + 2000])
    return ctx.raised


# --- the alert lifecycle -----------------------------------------------------------------------


def _who(user: Any) -> str:
    return str(user.get_full_name() or user.username) if user is not None else "系统"


def _log(alert: Alert, kind: str, by: Any, text: str = "", at: dt.datetime | None = None) -> None:
    """Append one row to the alert's timeline (``AlertEvent``)."""
    AlertEvent.objects.create(alert=alert, kind=kind, actor=by, at=at or timezone.now(), text=text)


def _state_message(alert: Alert) -> str:
    fresh = Alert.objects.select_related("acknowledged_by", "closed_by").get(pk=alert.pk)
    if fresh.state == AlertState.CLOSED:
        return (
            f"该预警已由{_who(fresh.closed_by)}于"
            f"{timezone.localtime(fresh.closed_at):%Y-%m-%d %H:%M}办结"
            if fresh.closed_at
            else "该预警已办结"
        )
    if fresh.state == AlertState.ACKNOWLEDGED:
        return (
            f"该预警已由{_who(fresh.acknowledged_by)}于"
            f"{timezone.localtime(fresh.acknowledged_at):%Y-%m-%d %H:%M}确认"
            if fresh.acknowledged_at
            else "该预警已确认"
        )
    return "该预警状态已变化，请刷新后重试"


def _ack_report(by: Any, report_id: int, now: dt.datetime) -> None:
    """Acknowledging an informant_urgent alert acknowledges its report if still new (the same
    conditional UPDATE as the report page)."""
    done = InformantReport.objects.filter(pk=report_id, state=InformantReportState.NEW).update(
        state=InformantReportState.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=now
    )
    if done:
        InformantReportEvent.objects.create(
            report_id=report_id, kind="ack", actor=by, at=now, text="通过预警确认"
        )


def alert_acknowledge(
    by: Any, alert: Alert, note: str = "", at: dt.datetime | None = None
) -> Alert:
    """open → acknowledged (处置中). Outside the alert's scope: ``PermissionDenied``; already
    acknowledged or closed: ``DomainError`` naming who and when; nothing changes."""
    policy.require_act_on_alert(by, alert)
    now = at or timezone.now()
    note = clean_text(note or "")
    with transaction.atomic():
        done = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=now
        )
        if not done:
            raise DomainError(_state_message(alert))
        _log(alert, "ack", by, note or "确认预警，开始处置", now)
        if alert.informant_report_id:
            _ack_report(by, alert.informant_report_id, now)
    alert.refresh_from_db()
    return alert


def alert_close(by: Any, alert: Alert, outcome: str, at: dt.datetime | None = None) -> Alert:
    """open/acknowledged → closed with the outcome (required). Closing an open alert also
    records its acknowledgement."""
    policy.require_act_on_alert(by, alert)
    outcome = clean_text(outcome or "")
    if len(outcome) < 2:
        raise DomainError("请填写处置结果（至少2个字）", field="outcome")
    if len(outcome) > 4000:
        raise DomainError("处置结果不能超过4000字", field="outcome")
    now = at or timezone.now()
    with transaction.atomic():
        done = Alert.objects.filter(
            pk=alert.pk, state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]
        ).update(state=AlertState.CLOSED, closed_by=by, closed_at=now, outcome=outcome)
        if not done:
            raise DomainError(_state_message(alert))
        Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=by, acknowledged_at=now
        )
        _log(alert, "close", by, outcome, now)
        if alert.informant_report_id:
            _ack_report(by, alert.informant_report_id, now)
    alert.refresh_from_db()
    return alert


ASSIGNABLE = frozenset({R.LEADER, R.CASE_OFFICER})


def may_own_alert(user: Any, alert: Alert) -> bool:
    if not (user.is_active and policy.in_scope(user, alert.unit_id, ASSIGNABLE)):
        return False
    case = alert.case if alert.case_id else None
    if case is not None and case.is_confidential:
        from xinfang.notify.services import accused_user_ids

        return not accused_user_ids(case, [user.pk])  # 检举控告: never to the accused
    return True


def assignable_owners(alert: Alert) -> list[Any]:
    """Leaders and case officers whose scope holds the alert's unit."""
    from django.contrib.auth import get_user_model

    from xinfang.org.models import Membership

    root = alert.unit.path.split(".", 1)[0] + "."
    user_ids = set(
        Membership.objects.filter(
            role__code__in=sorted(ASSIGNABLE), unit__path__startswith=root, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    users = get_user_model().objects.filter(pk__in=user_ids).order_by("id")
    return [u for u in users if may_own_alert(u, alert)]


def alert_assign(by: Any, alert: Alert, owner: Any, at: dt.datetime | None = None) -> Alert:
    """Hand the alert to ``owner`` (a 领导 or 办案员 whose scope holds its unit)."""
    policy.require_act_on_alert(by, alert)
    if owner is None:
        raise DomainError("请选择负责人", field="owner")
    if not may_own_alert(owner, alert):
        raise DomainError("负责人须为该预警涉及单位辖区内的领导或办案员", field="owner")
    now = at or timezone.now()
    with transaction.atomic():
        done = (
            Alert.objects.filter(pk=alert.pk).exclude(state=AlertState.CLOSED).update(owner=owner)
        )
        if not done:
            raise DomainError(_state_message(alert))
        _log(alert, "assign", by, f"负责人改为{_who(owner)}", now)
    if owner.pk != by.pk:
        from xinfang.notify.services import notify

        notify(
            [owner],
            kind="alert",
            title=f"【预警交办】{alert.title}",
            body=f"{_who(by)}将此预警交由您负责处置。",
            url=f"/prevention/alerts/{alert.pk}/",
            dedupe_key=f"alert-{alert.pk}-assign-{owner.pk}-{int(now.timestamp())}",
            at=now,
        )
    alert.refresh_from_db()
    return alert


LOG_LABELS = {"raise": "发出预警", "ack": "确认", "close": "办结", "assign": "更换负责人"}


# --- the weekly 预测预报 --------------------------------------------------------------------------

SEVERITY_SEQ = [Severity.RED, Severity.ORANGE, Severity.YELLOW, Severity.BLUE]
SEVERITY_SHORT = {
    Severity.RED: "红色",
    Severity.ORANGE: "橙色",
    Severity.YELLOW: "黄色",
    Severity.BLUE: "蓝色",
}
CN_ORDINALS = "一二三四五六七八九十"


def parse_week(value: str | None, today: dt.date | None = None) -> dt.date:
    """The Monday of ``2026-W48`` (ISO week); empty → the last full week."""
    value = (value or "").strip()
    if not value:
        today = today or _beijing_today()
        return today - dt.timedelta(days=today.weekday() + 7)
    import re

    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", value, flags=re.IGNORECASE)
    if not m:
        raise DomainError("周次格式应为“2026-W48”", field="week")
    try:
        return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError as exc:
        raise DomainError("没有这一周（周次应为1–52或53）", field="week") from exc


def week_label(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Forecast:
    unit: Unit
    monday: dt.date
    sunday: dt.date
    week: str
    alerts_total: int
    by_severity: dict[str, int]
    by_rule: list[dict[str, Any]]
    spikes: list[Alert]
    focus_alerts: list[Alert]
    urgent_reports: list[Any]
    disputes_new: int
    disputes_struck: int
    disputes_open: int
    disputes_overdue: int
    overdue_high: list[Any]
    screening_expected: int
    screening_submitted: int
    screening_late: int
    screening_missing: list[str]
    narrative: str = ""
    prev_week: str = ""
    next_week: str = ""

    @property
    def title(self) -> str:
        return f"{self.unit.name}信访稳定预测预报（{self.week}）"


def forecast_for(unit: Unit, monday: dt.date, alerts: Any = None) -> Forecast:
    """The weekly summary of ``unit``'s subtree for the ISO week starting ``monday``.
    ``alerts``: the alerts the viewer may see (default: all)."""
    from xinfang.prevention.models import ScreeningReport, Urgency

    sunday = monday + dt.timedelta(days=6)
    start, end = _start_of(monday), _start_of(sunday + dt.timedelta(days=1))
    sub = unit.path
    rules = {r.code: r.name for r in WarningRule.objects.all()}
    aq = (alerts if alerts is not None else Alert.objects.all()).filter(
        unit__path__startswith=sub, raised_at__gte=start, raised_at__lt=end
    )
    counts: dict[tuple[str, str], int] = {
        (r["rule"], r["severity"]): r["n"]
        for r in aq.values("rule", "severity").annotate(n=Count("id")).order_by()
    }
    by_severity = {s.value: 0 for s in SEVERITY_SEQ}
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in SEVERITY_SEQ})
    for (rule, sev), n in counts.items():
        by_severity[sev] = by_severity.get(sev, 0) + n
        per_rule[rule][sev] = n
    order = list(rules)
    by_rule = [
        {
            "rule": code,
            "name": rules.get(code, code),
            "counts": [per_rule[code][s.value] for s in SEVERITY_SEQ],
            "total": sum(per_rule[code].values()),
        }
        for code in sorted(per_rule, key=lambda c: order.index(c) if c in order else 99)
    ]
    total = sum(by_severity.values())
    spikes = list(aq.filter(rule__in=["spike_place", "spike_topic"]).select_related("unit"))
    focus = list(
        aq.filter(severity__in=[Severity.RED, Severity.ORANGE])
        .select_related("unit")
        .order_by("-raised_at", "-id")
    )
    focus.sort(key=lambda a: (0 if a.severity == Severity.RED else 1, a.raised_at))
    urgent = list(
        InformantReport.objects.filter(
            urgency=Urgency.URGENT,
            unit__path__startswith=sub,
            created_at__gte=start,
            created_at__lt=end,
        )
        .select_related("unit")
        .order_by("created_at")
    )
    dq = Dispute.objects.filter(Q(unit__path__startswith=sub) | Q(place_unit__path__startswith=sub))
    new = dq.filter(created_at__gte=start, created_at__lt=end).count()
    struck = dq.filter(state=DisputeState.STRUCK, struck_at__gte=start, struck_at__lt=end).count()
    # On the register at the week's end (history-true: created before it, not struck by then).
    on_register = dq.filter(created_at__lt=end).filter(
        Q(struck_at__isnull=True) | Q(struck_at__gte=end)
    )
    open_end = on_register.count()
    overdue_q = on_register.filter(due_on__lte=sunday)
    overdue = overdue_q.count()
    overdue_high = list(
        overdue_q.filter(risk_level__in=[RiskLevel.HIGH, RiskLevel.CRITICAL]).order_by("due_on")[:5]
    )
    reports = ScreeningReport.objects.filter(
        unit__path__startswith=sub, round__due_on__gte=monday, round__due_on__lte=sunday
    ).select_related("unit", "round")
    expected = submitted = late = 0
    missing: list[str] = []
    for r in reports:
        expected += 1
        if r.state == "submitted":
            submitted += 1
            if r.is_late:
                late += 1
        else:
            missing.append(r.unit.name)
    fc = Forecast(
        unit=unit,
        monday=monday,
        sunday=sunday,
        week=week_label(monday),
        alerts_total=total,
        by_severity=by_severity,
        by_rule=by_rule,
        spikes=spikes,
        focus_alerts=focus[:5],
        urgent_reports=urgent,
        disputes_new=new,
        disputes_struck=struck,
        disputes_open=open_end,
        disputes_overdue=overdue,
        overdue_high=overdue_high,
        screening_expected=expected,
        screening_submitted=submitted,
        screening_late=late,
        screening_missing=sorted(set(missing)),
        prev_week=week_label(monday - dt.timedelta(days=7)),
        next_week=week_label(monday + dt.timedelta(days=7)),
    )
    fc.narrative = forecast_narrative(fc)
    return fc


def forecast_narrative(fc: Forecast) -> str:
    """The paragraph in the style of the seed reports."""
    parts: list[str] = []
    if fc.alerts_total:
        colours = "、".join(
            f"{SEVERITY_SHORT[s]}{fc.by_severity[s.value]}条"
            for s in SEVERITY_SEQ
            if fc.by_severity.get(s.value)
        )
        parts.append(f"本周共发出预警{fc.alerts_total}条，其中{colours}")
    else:
        parts.append("本周未发出预警")
    if fc.urgent_reports:
        parts.append(f"信息员紧急报告{len(fc.urgent_reports)}件")
    parts.append(
        f"新排查矛盾纠纷{fc.disputes_new}件，化解销号{fc.disputes_struck}件，"
        f"周末在册未销号{fc.disputes_open}件"
        + (f"（其中逾期{fc.disputes_overdue}件）" if fc.disputes_overdue else "")
    )
    if fc.screening_expected:
        s = f"排查报告应报{fc.screening_expected}个单位，已报{fc.screening_submitted}个"
        if fc.screening_late:
            s += f"（逾期报送{fc.screening_late}个）"
        if fc.screening_missing:
            s += f"，{'、'.join(fc.screening_missing[:5])}未报"
        parts.append(s)
    focus: list[str] = [a.title for a in fc.focus_alerts[:3]]
    focus += [f"{d.title}逾期未化解" for d in fc.overdue_high[: max(0, 3 - len(focus))]]
    mon, sun = fc.monday, fc.sunday
    head = f"{fc.unit.name}{mon.month}月{mon.day}日至{sun.month}月{sun.day}日："
    text = head + "；".join(parts) + "。"
    if focus:
        items = "；".join(f"{CN_ORDINALS[i]}是{t}" for i, t in enumerate(focus))
        text += f"需重点关注：{items}。"
    else:
        text += "需重点关注：暂无。"
    return text
