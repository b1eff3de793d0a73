"""信访统计 (/stats/intake/), the cases behind a figure (/stats/cases/) and the national-style
信访情况统计表 (/stats/form/).

Figures are read from the rollups (``stats.query``), never by scanning cases: a page costs a
fixed number of queries whatever the data. Every number links to the cases behind it
(``forms.figure_url``); that list is the only place cases are read, and only the cases the
reader may see (``cases.policy.cases_visible_to``) are listed, with a line saying how many are
not shown. The builders (``intake_table``, ``national_table``, ``behind``) are shared with the
XLSX exports and the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Greatest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from xinfang.cases import confidential
from xinfang.cases.models import Case, Category, Channel, Purpose
from xinfang.cases.policy import cases_visible_to
from xinfang.org.models import Unit
from xinfang.stats import forms, policy, query, rules
from xinfang.stats.compare import Change
from xinfang.stats.forms import FigureParams, figure_url
from xinfang.stats.narrative import visit_paragraph
from xinfang.stats.periods import Period

PAGE_SIZE = 50
# The group-by → the query parameter that narrows a figure to one row.
GROUP_PARAM = {
    "channel_group": "channel_group",
    "kind": "kind",
    "category_l1": "category_l1",
    "category_id": "category",
    "place_id": "place",
    "office_id": "office",
    "purpose": "purpose",
}


# --- scope -----------------------------------------------------------------------------------


@dataclass
class Scope:
    unit: Unit
    subtree: tuple[int, ...]


def read_scope(user: Any, p: FigureParams) -> Scope:
    """The scope unit (404 outside the reader's scope) and its subtree; ``office``/``hunit``
    must be inside it (404 otherwise, as a unit outside the scope)."""
    unit = policy.scope_unit(user, p.raw.get("unit") or None)
    subtree = policy.subtree_ids(unit)
    for key in ("office", "hunit"):
        value = getattr(p, key)
        if value is not None and value not in subtree:
            raise Http404("单位不存在")
    return Scope(unit, subtree)


def compare_period(period: Period, how: str) -> Period | None:
    if how == "yoy":
        return period.same_last_year()
    if how == "mom":
        return period.previous()
    return None


# --- the intake table ------------------------------------------------------------------------


@dataclass
class Fig:
    value: int
    url: str = ""


@dataclass
class Row:
    label: str
    batches: Fig
    persons: Fig
    prev_batches: Fig | None = None
    prev_persons: Fig | None = None
    basis: str = "同比"

    @property
    def change_batches(self) -> str:
        return signed(self.batches.value, self.prev_batches, self.basis)

    @property
    def change_persons(self) -> str:
        return signed(self.persons.value, self.prev_persons, self.basis)


def signed(cur: int, prev: Fig | int | None, basis: str = "同比") -> str:
    """+7% / −11% / 0%; none in the comparison period: 去年同期无 (同比) or 上期无 (环比)."""
    if prev is None:
        return ""
    before = prev.value if isinstance(prev, Fig) else prev
    if before == 0 and cur:
        return "去年同期无" if basis == "同比" else "上期无"
    return Change(cur, before).signed_text()


@dataclass
class IntakeTable:
    period: Period
    other: Period | None
    by: str
    rows: list[Row]
    total: Row
    basis: str  # 同比 / 环比 / ""
    paragraph: str = ""
    names: dict[str, str] = field(default_factory=dict)


def _slot(by: str, key: Any, period: Period) -> int:
    """Position of a month/day key inside its period (to pair a row with its comparison)."""
    if by == "day":
        return int((key - period.start).days)
    return (key.year - period.start.year) * 12 + key.month - period.start.month


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "channel_group":
        return {
            k: rules.CHANNEL_GROUPS[k][0] if k in rules.CHANNEL_GROUPS else "其他" for k in keys
        }
    if by == "kind":
        return {k: rules.Kind.LABELS.get(k, str(k)) for k in keys}
    if by == "purpose":
        return {k: rules.PURPOSE_LABELS.get(k, k) for k in keys}
    if by in ("category_l1", "category_id"):
        names = dict(
            Category.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name")
        )
        return {k: names.get(k, "未分类" if not k else f"分类{k}") for k in keys}
    if by in ("place_id", "office_id"):
        names = dict(Unit.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
        return {k: names.get(k, "属地不明" if not k else f"单位{k}") for k in keys}
    if by == "month":
        return {k: f"{k.year}年{k.month}月" for k in keys}
    return {k: k.isoformat() for k in keys}


def _order(
    by: str, keys: list[Any], cur: dict[Any, tuple[int, int]], labels: dict[Any, str]
) -> list[Any]:
    if by == "channel_group":
        order = list(rules.CHANNEL_GROUPS)
        return sorted(keys, key=lambda k: order.index(k) if k in order else 99)
    if by in ("kind", "month", "day"):
        return sorted(keys)
    if by == "purpose":
        order = list(rules.PURPOSE_LABELS)
        return sorted(keys, key=lambda k: order.index(k) if k in order else 99)
    return sorted(keys, key=lambda k: (-cur.get(k, (0, 0))[0], not k, labels[k]))


def intake_table(
    p: FigureParams, scope: Scope, *, today: dt.date, paragraph: bool = True
) -> IntakeTable:
    """批次/人次 of the period grouped by ``p.by``, with the comparison period's figures and
    each number's link. Reads: 2 × ``query.intake`` (+ names, + the paragraph's 4)."""
    assert p.period is not None
    period, by = p.period, p.by
    other = compare_period(period, p.compare)
    filters = p.filters(scope.subtree)
    base: dict[str, Any] = {"table": rules.INTAKE, "unit": scope.unit.pk, **p.filter_params()}

    def url(measure: str, per: Period, key: Any = None) -> str:
        params = dict(base, measure=measure, start=per.start, end=per.end)
        if key is not None:
            if by == "month":
                params["start"] = max(key, per.start)
                params["end"] = min(Period.month(key.year, key.month).end, per.end)
            elif by == "day":
                params["start"] = params["end"] = key
            else:
                params[GROUP_PARAM[by]] = key
        return figure_url(**params)

    cur = {r[by]: (r["batches"], r["persons"]) for r in query.intake(period, filters, by=[by])}
    prev: dict[Any, tuple[int, int]] = {}
    if other is not None:
        prev = {r[by]: (r["batches"], r["persons"]) for r in query.intake(other, filters, by=[by])}
    # month/day rows pair by position; other dimensions by value
    if by in ("month", "day") and other is not None:
        prev_by_slot = {_slot(by, k, other): k for k in prev}
        if by == "month":
            keys = [dt.date(y, m, 1) for y, m in period.months()]
        else:
            keys = [period.start + dt.timedelta(days=i) for i in range(period.days)]
        keys = [k for k in keys if k in cur or _slot(by, k, period) in prev_by_slot]
        pair = {k: prev_by_slot.get(_slot(by, k, period)) for k in keys}
    else:
        keys = list(set(cur) | set(prev))
        pair = {k: k for k in keys}
    labels = _labels(by, keys)
    basis = {"yoy": "同比", "mom": "环比"}.get(p.compare, "")
    rows = []
    for k in _order(by, keys, cur, labels):
        b, n = cur.get(k, (0, 0))
        row = Row(labels[k], Fig(b, url("batches", period, k)), Fig(n, url("persons", period, k)))
        if other is not None:
            pk = pair[k]
            pb, pn = prev.get(pk, (0, 0)) if pk is not None else (0, 0)
            row.basis = basis
            row.prev_batches = Fig(pb, url("batches", other, pk) if pk is not None else "")
            row.prev_persons = Fig(pn, url("persons", other, pk) if pk is not None else "")
        rows.append(row)
    tb, tn = sum(v[0] for v in cur.values()), sum(v[1] for v in cur.values())
    total = Row("合计", Fig(tb, url("batches", period)), Fig(tn, url("persons", period)))
    total.basis = basis
    if other is not None:
        total.prev_batches = Fig(sum(v[0] for v in prev.values()), url("batches", other))
        total.prev_persons = Fig(sum(v[1] for v in prev.values()), url("persons", other))
    text = ""
    if paragraph:
        subject = scope.unit.short_name or scope.unit.name
        text = visit_paragraph(period, filters, subject=subject, today=today, basis=basis or "同比")
    return IntakeTable(period, other, by, rows, total, basis, text)


# --- the national-style form ---------------------------------------------------------------

# (label, indent, params narrowing the figure). Rows of 信访情况统计表.
FORM_ROWS: list[tuple[str, int, dict[str, Any]]] = [
    ("来信", 0, {"channel_group": "letter"}),
    ("来访", 0, {"channel_group": "visit"}),
    ("其中：集体访", 1, {"channel_group": "visit", "kind": rules.Kind.COLLECTIVE}),
    ("群体访", 1, {"channel_group": "visit", "kind": rules.Kind.GROUP}),
    ("个人访", 1, {"channel_group": "visit", "kind": rules.Kind.INDIVIDUAL}),
    ("越级访", 1, {"channel_group": "visit", "skip": 1}),
    ("重复访", 1, {"channel_group": "visit", "repeat": 1}),
    ("来电（热线）", 0, {"channel_group": "phone"}),
    ("网上信访", 0, {"channel_group": "online"}),
    ("电子邮件", 0, {"channel_group": "email"}),
    ("传真", 0, {"channel_group": "fax"}),
    ("上级交办", 0, {"channel_group": "from_above"}),
    ("合计", 0, {}),
    ("按目的：建议意见", 1, {"purpose": Purpose.SUGGESTION.value}),
    ("检举控告", 1, {"purpose": Purpose.ACCUSATION.value}),
    ("申诉求决", 1, {"purpose": Purpose.APPEAL.value}),
]
FORM_BY = ["channel_group", "kind", "repeat", "skip", "purpose"]


def _matches(row: dict[str, Any], cond: dict[str, Any]) -> bool:
    for key, want in cond.items():
        have = row[key]
        if key in ("repeat", "skip"):
            have = int(bool(have))
        if have != want:
            return False
    return True


@dataclass
class FormRow:
    number: int
    label: str
    indent: int
    cells: list[Fig]  # 本期 b/p, 去年同期 b/p, 累计 b/p, 累计去年同期 b/p
    changes: list[str]  # 同比 b/p, 累计同比 b/p


@dataclass
class FormTable:
    period: Period
    last_year: Period
    ytd: Period
    ytd_last_year: Period
    rows: list[FormRow]


def national_table(p: FigureParams, scope: Scope) -> FormTable:
    """The 信访情况统计表 of ``p.period`` (4 × ``query.intake``: 本期, 去年同期, 1月至本期,
    its 去年同期)."""
    assert p.period is not None
    period = p.period
    ytd = Period(dt.date(period.end.year, 1, 1), period.end, "ytd")
    periods = [period, period.same_last_year(), ytd, ytd.same_last_year()]
    filters = p.filters(scope.subtree)
    data = [query.intake(per, filters, by=FORM_BY) for per in periods]
    base: dict[str, Any] = {"table": rules.INTAKE, "unit": scope.unit.pk, **p.filter_params()}
    rows = []
    for i, (label, indent, cond) in enumerate(FORM_ROWS, start=1):
        cells: list[Fig] = []
        for per, rows_of in zip(periods, data, strict=True):
            b = sum(r["batches"] for r in rows_of if _matches(r, cond))
            n = sum(r["persons"] for r in rows_of if _matches(r, cond))
            params = dict(base, start=per.start, end=per.end, **cond)
            cells.append(Fig(b, figure_url(measure="batches", **params)))
            cells.append(Fig(n, figure_url(measure="persons", **params)))
        changes = [
            signed(cells[0].value, cells[2].value),
            signed(cells[1].value, cells[3].value),
            signed(cells[4].value, cells[6].value),
            signed(cells[5].value, cells[7].value),
        ]
        rows.append(FormRow(i, label, indent, cells, changes))
    return FormTable(period, periods[1], ytd, periods[3], rows)


# --- the cases behind a figure -------------------------------------------------------------


@dataclass
class Behind:
    figure: int  # the number as the statistics show it (rollups)
    cases: int  # cases behind it (= figure for 批次; fewer than 次数 when a case counts twice)
    persons: int  # sum of 人数 of the cases (the 人次 of an intake figure)
    visible: QuerySet[Case]
    hidden: int


def behind(p: FigureParams, scope: Scope, user: Any) -> Behind:
    assert p.period is not None
    filters = p.filters(scope.subtree)
    if p.table == rules.INTAKE:
        qs = _exact_categories(query.intake_cases(p.period, filters), filters)
        agg = qs.aggregate(n=Count("pk"), persons=Sum(Greatest("headcount", 1)))
        cases, persons = agg["n"] or 0, agg["persons"] or 0
        figure = query.intake_total(p.period, filters)[0 if p.measure == "batches" else 1]
        visible = cases_visible_to(user).filter(pk__in=qs.values("pk"))
        shown = visible.count()
        return Behind(figure, cases, persons, visible, cases - shown)
    pks = query.cases_behind(p.period, filters, rules.HANDLING, p.measure)
    figure = query.handling_total(p.period, filters)[p.measure]
    visible = cases_visible_to(user).filter(pk__in=pks)
    return Behind(figure, len(pks), 0, visible, len(pks) - visible.count())


def _exact_categories(qs: QuerySet[Case], filters: query.Filters) -> QuerySet[Case]:
    """``query.intake_cases`` reads a first-level id as "it and everything below"; the rollups
    count under a first-level id only the cases classified at level 1 (``rules.CategoryMap``).
    Narrow the list to the rollups' rule (to be fixed in the core: see the report)."""
    if not filters.categories:
        return qs
    firsts = set(
        Category.objects.filter(pk__in=filters.categories, level=1).values_list("pk", flat=True)
    )
    if not firsts:
        return qs
    others = [c for c in filters.categories if c and c not in firsts]
    keep = Q(category_id__in=firsts) | Q(category_id__in=query.l2_category_members(others))
    if 0 in filters.categories:
        keep |= Q(category__isnull=True)
    return qs.filter(keep)


def behind_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("office_unit", "handling_unit", "category").order_by(
        "received_at", "id"
    )


# --- pages --------------------------------------------------------------------------------


def _choices(user: Any, scope: Scope) -> dict[str, Any]:
    return {
        "scope_units": Unit.objects.filter(pk__in=policy.scope_ids(user)).order_by("path"),
        "places": Unit.objects.filter(pk__in=scope.subtree)
        .exclude(division_code="")
        .order_by("path"),
        "categories": Category.objects.filter(level__lte=2, is_active=True).order_by("sort", "id"),
        "channel_groups": [(k, v[0]) for k, v in rules.CHANNEL_GROUPS.items()],
        "channels": Channel.choices,
        "kinds": list(rules.Kind.LABELS.items()),
        "purposes": Purpose.choices,
        "groups": list(forms.GROUPS.items()),
        "compares": list(forms.COMPARES.items()),
    }


def _page_params(request: HttpRequest, default_by: str = "channel_group") -> FigureParams:
    return forms.parse(request.GET, today=timezone.localdate(), default_by=default_by)


def _quick(p: FigureParams, scope: Scope, view: str) -> list[tuple[str, str]]:
    from django.urls import reverse

    keep = {k: v for k, v in p.raw.items() if k not in ("start", "end") and v}
    keep["unit"] = str(scope.unit.pk)
    return [
        (label, reverse(view) + "?" + forms.encode(dict(keep, start=per.start, end=per.end)))
        for label, per in forms.quick_periods(timezone.localdate())
    ]


@login_required
@require_GET
def intake_page(request: HttpRequest) -> HttpResponse:
    p = _page_params(request)
    scope = read_scope(request.user, p)
    table = intake_table(p, scope, today=timezone.localdate()) if p.ok else None
    context = {
        "st_tab": "intake",
        "scope": scope.unit,
        "period": p.period,
        "p": p,
        "raw": p.raw,
        "table": table,
        "group_label": forms.GROUPS.get(p.by, "分组"),
        "prev_label": "去年同期" if p.compare == "yoy" else "上期",
        "quick": _quick(p, scope, "stats_intake"),
        "export_query": _export_query(p, scope),
        **_choices(request.user, scope),
    }
    return render(request, "stats/intake.html", context, status=200 if p.ok else 400)


@login_required
@require_GET
def cases_behind_page(request: HttpRequest) -> HttpResponse:
    from xinfang.core.paging import paginate

    p = _page_params(request)
    scope = read_scope(request.user, p)
    context: dict[str, Any] = {
        "st_tab": "intake",
        "scope": scope.unit,
        "period": p.period,
        "p": p,
        "raw": p.raw,
        "measure_label": forms.MEASURE_LABELS.get(p.measure, p.measure),
        "export_query": _export_query(p, scope),
    }
    if not p.ok:
        return render(request, "stats/cases.html", context, status=400)
    found = behind(p, scope, request.user)
    page, q = paginate(request, behind_rows(found.visible), PAGE_SIZE)
    rows = list(page.object_list)
    confidential.mask_rows(rows, {})
    context.update(
        found=found,
        page=page,
        query=q,
        rows=rows,
        words=p.words(_names(p)),
        back=_back_url(p, scope),
    )
    return render(request, "stats/cases.html", context)


def _export_query(p: FigureParams, scope: Scope) -> str:
    """The page's parameters for its export link (repeated ``place`` kept)."""
    keep = {k: p.raw.get(k, "") for k in ("start", "end", "table", "measure", "by", "compare")}
    return forms.encode({**keep, "unit": scope.unit.pk, **p.filter_params()})


def _back_url(p: FigureParams, scope: Scope) -> str:
    from django.urls import reverse

    keep = {k: v for k, v in p.raw.items() if k not in ("table", "measure") and v}
    keep["unit"] = str(scope.unit.pk)
    return reverse("stats_intake") + "?" + forms.encode(keep)


def _names(p: FigureParams) -> dict[str, str]:
    """Names of the units and categories the filters name (for titles)."""
    out: dict[str, str] = {}
    units = {k: getattr(p, k) for k in ("place", "office", "hunit") if getattr(p, k)}
    cats = {k: getattr(p, k) for k in ("category", "category_l1") if getattr(p, k)}
    if units:
        names = dict(Unit.objects.filter(pk__in=units.values()).values_list("pk", "name"))
        out.update({k: names.get(v, str(v)) for k, v in units.items()})
    if cats:
        names = dict(Category.objects.filter(pk__in=cats.values()).values_list("pk", "name"))
        out.update({k: names.get(v, str(v)) for k, v in cats.items()})
    return out


@login_required
@require_GET
def national_form(request: HttpRequest) -> HttpResponse:
    p = _page_params(request)
    scope = read_scope(request.user, p)
    table = national_table(p, scope) if p.ok else None
    context = {
        "st_tab": "form",
        "scope": scope.unit,
        "period": p.period,
        "p": p,
        "raw": p.raw,
        "table": table,
        "quick": _quick(p, scope, "stats_form"),
        "today": timezone.localdate(),
        "maker": request.user.get_full_name() or request.user.get_username(),  # type: ignore[union-attr]
        "export_query": _export_query(p, scope),
        "scope_units": Unit.objects.filter(pk__in=policy.scope_ids(request.user)).order_by("path"),
    }
    return render(request, "stats/form.html", context, status=200 if p.ok else 400)
