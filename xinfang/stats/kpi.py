"""考核指标 (KPIs) per unit, the ranking and the 考核 score (docs/statistics.md, "考核").

KPIs are data (``KPIS``): a code, the Chinese name and formula, and the numerator/denominator
read from a unit's ``Figures`` — the handling rollups summed over the period (``query``) plus
the few live counts the rollups cannot know (a deadline passing is not an event):

- ``accept_pending`` / ``reply_pending``: 受理告知 / 办理答复 deadlines that fell due in the
  period (due date in the period and before today), are still unmet now, not cancelled, not
  paused — added to the denominators so a unit that never decides is not 100 %;
- ``overdue``: cases with an open obligation deadline past due today (at the unit holding the
  case, the registering office while none does);
- ``backlog_start`` / ``backlog_end``: 积案 at the end of the day before the period and at its
  end (``query.backlog_on``).

Rows: the **direct children** of the scope unit, each summing its subtree, ranked; then "本级"
(the scope unit itself only) and "合计" (the whole subtree), not ranked. Score = Σ weight ×
normalised rate ÷ Σ weights × 100 (one decimal, half up); "lower is better" KPIs count
1 − rate. A zero denominator gives no rate ("—") and scores as the scheme says (default: full
marks); a unit with no denominator at all has no score ("—", ranked after the scored ones).
一票否决: a flag on the row's unit or a unit below it, not revoked, overlapping the period →
the row is ranked after every other and graded 不合格. Writes (scheme, flags) are services
here: guard, write, audit row, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from xinfang.core.errors import DomainError, PermissionDenied
from xinfang.org.models import Unit
from xinfang.stats import policy
from xinfang.stats.compare import rate_pct, rate_text
from xinfang.stats.models import HANDLING_MEASURES, AssessmentScheme, VetoFlag
from xinfang.stats.periods import Period
from xinfang.stats.query import Filters, backlog_on, handling

Figures = dict[str, int]


@dataclass(frozen=True)
class KPI:
    code: str
    name: str
    formula: str
    numerator: Callable[[Figures], int]
    denominator: Callable[[Figures], int]
    # rollup measures behind the numerator and the denominator (for the links to the cases)
    num_measure: str
    den_measure: str
    lower_is_better: bool = False


def _f(name: str) -> Callable[[Figures], int]:
    return lambda f: f.get(name, 0)


KPIS: tuple[KPI, ...] = (
    KPI(
        "timely_accept",
        "及时受理率",
        "按期受理件数 ÷（作出受理或不予受理决定件数 + 本期届满仍未作出决定件数）",
        _f("accept_timely"),
        lambda f: f.get("accept_done", 0) + f.get("accept_pending", 0),
        "accept_timely",
        "accept_done",
    ),
    KPI(
        "on_time_reply",
        "按期办结率",
        "按期答复件数 ÷（答复件数 + 本期届满仍未答复件数）",
        _f("reply_timely"),
        lambda f: f.get("reply_done", 0) + f.get("reply_pending", 0),
        "reply_timely",
        "reply_done",
    ),
    KPI(
        "participation",
        "群众参评率",
        "参评件数 ÷ 答复件数（本期答复的事项中，信访人作出评价的）",
        _f("evaluated"),
        _f("reply_done"),
        "evaluated",
        "reply_done",
    ),
    KPI(
        "satisfaction",
        "满意率",
        "满意（含基本满意）件数 ÷ 参评件数",
        _f("satisfied"),
        _f("evaluated"),
        "satisfied",
        "evaluated",
    ),
    KPI(
        "repeat_rate",
        "重复信访率",
        "交办转送的重复信访件数 ÷ 交办转送件数（越低越好）",
        _f("assigned_repeat"),
        _f("assigned"),
        "assigned_repeat",
        "assigned",
        lower_is_better=True,
    ),
    KPI(
        "once_resolved",
        "一次性化解率",
        "一次性化解件数（办结前未申请复查、最后评价非不满意）÷ 办结件数",
        _f("closed_once"),
        _f("closed"),
        "closed_once",
        "closed",
    ),
    KPI(
        "backlog_resolve",
        "积案化解率",
        "本期化解积案件数 ÷（期初积案件数 + 本期新增积案件数）",
        _f("backlog_out"),
        lambda f: f.get("backlog_start", 0) + f.get("backlog_in", 0),
        "backlog_out",
        "backlog_in",
    ),
)
KPI_BY_CODE = {k.code: k for k in KPIS}

DEFAULT_WEIGHTS: dict[str, int] = {
    "timely_accept": 15,
    "on_time_reply": 25,
    "participation": 10,
    "satisfaction": 25,
    "repeat_rate": 10,
    "once_resolved": 15,
    "backlog_resolve": 0,
}
DEFAULT_VETO_RULES: list[dict[str, str]] = [
    {"code": "abnormal_visit", "label": "发生进京非正常上访或赴省集体访"},
    {"code": "mass_incident", "label": "发生因信访问题引发的重大群体性事件或极端事件"},
    {"code": "concealment", "label": "瞒报、漏报重大信访信息"},
]
# Options kept in the scheme's weights JSON under keys that are not KPI codes.
ZERO_KEY, GRADES_KEY = "_zero", "_grades"
ZERO_POLICIES = {"full": "计满分", "zero": "计零分", "skip": "不计入（权重剔除）"}
DEFAULT_GRADES = (90, 75, 60)  # ≥ 优秀, ≥ 良好, ≥ 合格, else 不合格
GRADE_NAMES = ("优秀", "良好", "合格", "不合格")


# --- the scheme --------------------------------------------------------------------------


def ensure_default_scheme() -> AssessmentScheme:
    """The active scheme; the default one is created on first use."""
    scheme = AssessmentScheme.objects.filter(is_active=True).order_by("-id").first()
    if scheme is None:
        scheme = AssessmentScheme.objects.create(
            name="信访工作考核（默认方案）",
            weights={**DEFAULT_WEIGHTS, ZERO_KEY: "full", GRADES_KEY: list(DEFAULT_GRADES)},
            veto_rules=list(DEFAULT_VETO_RULES),
        )
    return scheme


def weights_of(scheme: AssessmentScheme) -> dict[str, int]:
    raw = scheme.weights or {}
    return {k.code: int(raw.get(k.code, 0) or 0) for k in KPIS}


def zero_policy(scheme: AssessmentScheme) -> str:
    value = str((scheme.weights or {}).get(ZERO_KEY) or "full")
    return value if value in ZERO_POLICIES else "full"


def grades_of(scheme: AssessmentScheme) -> tuple[int, int, int]:
    raw = (scheme.weights or {}).get(GRADES_KEY) or DEFAULT_GRADES
    try:
        a, b, c = (int(x) for x in raw)
    except (TypeError, ValueError):
        return DEFAULT_GRADES
    return a, b, c


def grade(score: Decimal | None, grades: tuple[int, int, int], vetoed: bool) -> str:
    if vetoed:
        return GRADE_NAMES[3]
    if score is None:
        return "—"
    for name, floor in zip(GRADE_NAMES, grades, strict=False):
        if score >= floor:
            return name
    return GRADE_NAMES[3]


def veto_labels(scheme: AssessmentScheme) -> dict[str, str]:
    return {str(r.get("code")): str(r.get("label")) for r in scheme.veto_rules or []}


# --- figures per unit --------------------------------------------------------------------


@dataclass
class Rate:
    kpi: KPI
    num: int
    den: int

    @property
    def value(self) -> Decimal | None:
        """The rate as 0..1 (None when the denominator is 0)."""
        if not self.den:
            return None
        return Decimal(self.num) / Decimal(self.den)

    @property
    def pct_text(self) -> str:
        return rate_text(self.num, self.den)

    @property
    def pct(self) -> float | None:
        v = rate_pct(self.num, self.den)
        return None if v is None else float(v)


@dataclass
class Row:
    unit: Unit
    role: str  # "child" | "self" (本级) | "total" (合计)
    figures: Figures
    rates: list[Rate] = field(default_factory=list)
    score: Decimal | None = None
    rank: int | None = None
    grade: str = ""
    vetoes: list[VetoFlag] = field(default_factory=list)

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    def rate(self, code: str) -> Rate:
        return next(r for r in self.rates if r.kpi.code == code)

    @property
    def label(self) -> str:
        if self.role == "self":
            return f"{self.unit.name}（本级）"
        if self.role == "total":
            return "合计"
        return self.unit.name

    @property
    def backlog_reduced(self) -> int:
        return self.figures.get("backlog_start", 0) - self.figures.get("backlog_end", 0)


def _depth(path: str) -> int:
    return path.count(".")


def _live_counts(
    period: Period, unit_ids: Sequence[int], today: dt.date
) -> dict[str, dict[int, int]]:
    """Per holding unit: deadlines that fell due in the period still unmet (``accept_pending``,
    ``reply_pending``) and cases overdue now (``overdue``). Two grouped queries on
    ``OpenDeadline`` (the open obligation deadlines with their holder, kept by triggers)."""
    from xinfang.cases.models import DeadlineKind, OpenDeadline

    out: dict[str, dict[int, int]] = {
        "accept_pending": defaultdict(int),
        "reply_pending": defaultdict(int),
        "overdue": defaultdict(int),
    }
    open_rows = OpenDeadline.objects.filter(holder_id__in=unit_ids)
    last_due = min(period.end, today - dt.timedelta(days=1))
    if last_due >= period.start:
        for kind, holder, n in (
            open_rows.filter(
                kind__in=(DeadlineKind.ACCEPT, DeadlineKind.HANDLE),
                due_on__gte=period.start,
                due_on__lte=last_due,
            )
            .values_list("kind", "holder_id")
            .annotate(n=Count("pk"))
        ):
            key = "accept_pending" if kind == DeadlineKind.ACCEPT else "reply_pending"
            out[key][holder] += n
    for holder, n in (
        open_rows.filter(due_on__lt=today)
        .values_list("holder_id")
        .annotate(n=Count("case", distinct=True))
    ):
        out["overdue"][holder] += n
    return out


def unit_figures(
    period: Period, scope: Unit, *, today: dt.date | None = None
) -> tuple[list[Unit], dict[int, Figures]]:
    """The row units (direct children of ``scope`` that are active or hold figures, then
    ``scope``) and the figures of each row keyed by unit id; the key ``-scope.pk`` is the
    subtree total. A fixed number of queries whatever the size of the tree."""
    today = today or timezone.localdate()
    tree = list(
        Unit.objects.filter(path__startswith=scope.path).only(
            "pk", "name", "path", "parent_id", "is_active", "unit_type"
        )
    )
    children = sorted((u for u in tree if u.parent_id == scope.pk), key=lambda u: (u.path, u.pk))
    row_of: dict[int, int] = {}
    for u in tree:
        if u.pk == scope.pk:
            row_of[u.pk] = scope.pk
            continue
        for c in children:
            if u.path.startswith(c.path):
                row_of[u.pk] = c.pk
                break
    ids = tuple(row_of)
    flt = Filters(units=ids)
    figs: dict[int, Figures] = defaultdict(lambda: defaultdict(int))

    def add(unit_id: int, name: str, value: int) -> None:
        row = row_of.get(unit_id)
        if row is None:
            return
        figs[row][name] += value
        figs[-scope.pk][name] += value

    for r in handling(period, flt, by=["unit_id"]):
        for m in HANDLING_MEASURES:
            add(r["unit_id"], m, r[m])
    for name, day in (
        ("backlog_start", period.start - dt.timedelta(days=1)),
        ("backlog_end", period.end),
    ):
        try:
            rows = backlog_on(day, flt, by=["unit_id"])
        except ValueError:  # the day is before the first rollup month (query.backlog_on)
            rows = []
        for r in rows:
            add(r["unit_id"], name, r["backlog"])
    for name, per_unit in _live_counts(period, ids, today).items():
        for unit_id, n in per_unit.items():
            add(unit_id, name, n)
    shown = [c for c in children if c.is_active or any(figs.get(c.pk, {}).values())]
    return [*shown, scope], {k: dict(v) for k, v in figs.items()}


def _vetoes(period: Period, scope: Unit) -> list[VetoFlag]:
    return list(
        VetoFlag.objects.filter(
            unit__path__startswith=scope.path,
            revoked_at__isnull=True,
            period_start__lte=period.end,
            period_end__gte=period.start,
        ).select_related("unit")
    )


def score_of(rates: list[Rate], weights: dict[str, int], zero: str) -> Decimal | None:
    total_w = Decimal(0)
    acc = Decimal(0)
    if not any(r.den for r in rates if weights.get(r.kpi.code)):
        return None  # nothing to assess in the period: no score (not 100 by default)
    for r in rates:
        w = Decimal(weights.get(r.kpi.code, 0))
        if not w:
            continue
        v = r.value
        if v is None:
            if zero == "skip":
                continue
            norm = Decimal(1) if zero == "full" else Decimal(0)
        else:
            norm = (Decimal(1) - v) if r.kpi.lower_is_better else v
        total_w += w
        acc += w * norm
    if not total_w:
        return None
    return (acc / total_w * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rank_key(row: Row) -> tuple[Any, ...]:
    reply = row.rate("on_time_reply").value
    score = row.score if row.score is not None else Decimal(-1)
    return (row.vetoed, -score, -(reply if reply is not None else Decimal(-1)))


def rank(rows: list[Row]) -> list[Row]:
    """Order by (vetoed last, score desc, 按期办结率 desc, name); equal keys share a rank and
    the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda r: (*_rank_key(r), r.unit.name, r.unit.pk))
    prev: tuple[Any, ...] | None = None
    for i, row in enumerate(ordered, start=1):
        key = _rank_key(row)
        row.rank = ordered[i - 2].rank if key == prev else i
        prev = key
    return ordered


@dataclass
class Ranking:
    period: Period
    scope: Unit
    scheme: AssessmentScheme
    weights: dict[str, int]
    rows: list[Row]  # ranked children
    own: Row  # 本级
    total: Row  # 合计

    @property
    def all_rows(self) -> list[Row]:
        return [*self.rows, self.own, self.total]


def _row(
    unit: Unit,
    role: str,
    figures: Figures,
    scheme: AssessmentScheme,
    weights: dict[str, int],
    vetoes: list[VetoFlag],
) -> Row:
    row = Row(unit=unit, role=role, figures=figures)
    row.rates = [Rate(k, k.numerator(figures), k.denominator(figures)) for k in KPIS]
    row.score = score_of(row.rates, weights, zero_policy(scheme))
    row.vetoes = vetoes
    row.grade = grade(row.score, grades_of(scheme), row.vetoed)
    return row


def ranking(
    period: Period,
    scope: Unit,
    *,
    scheme: AssessmentScheme | None = None,
    today: dt.date | None = None,
) -> Ranking:
    """The KPI table of ``scope`` over ``period`` with scores, grades and ranks."""
    scheme = scheme or ensure_default_scheme()
    weights = weights_of(scheme)
    units, figs = unit_figures(period, scope, today=today)
    flags = _vetoes(period, scope)
    rows: list[Row] = []
    for u in units[:-1]:
        mine = [f for f in flags if f.unit.path.startswith(u.path)]
        rows.append(_row(u, "child", figs.get(u.pk, {}), scheme, weights, mine))
    own_flags = [f for f in flags if f.unit_id == scope.pk]
    own = _row(scope, "self", figs.get(scope.pk, {}), scheme, weights, own_flags)
    total = _row(scope, "total", figs.get(-scope.pk, {}), scheme, weights, [])
    total.grade = ""
    return Ranking(period, scope, scheme, weights, rank(rows), own, total)


def kpi_rows(period: Period, scope: Unit) -> list[dict[str, Any]]:
    """Plain rows of the ranking (for exports and the API): unit, rank, score, grade, veto,
    every KPI's numerator/denominator/rate (% one decimal or None) and the counts."""
    return kpi_rows_of(ranking(period, scope))


def kpi_rows_of(r: Ranking) -> list[dict[str, Any]]:
    out = []
    for row in r.all_rows:
        item: dict[str, Any] = {
            "unit_id": row.unit.pk,
            "unit": row.label,
            "role": row.role,
            "rank": row.rank,
            "score": float(row.score) if row.score is not None else None,
            "grade": row.grade,
            "veto": row.vetoed,
            "veto_reasons": [veto_labels(r.scheme).get(f.code, f.code) for f in row.vetoes],
        }
        for rate in row.rates:
            item[rate.kpi.code] = {"num": rate.num, "den": rate.den, "rate": rate.pct}
        for name in ("overdue", "backlog_start", "backlog_end", "backlog_in", "backlog_out"):
            item[name] = row.figures.get(name, 0)
        item["backlog_reduced"] = row.backlog_reduced
        out.append(item)
    return out


# --- writes: the scheme and 一票否决 -----------------------------------------------------------


def _audit(by: Any, obj: Any, summary: str, detail: dict[str, Any]) -> None:
    from xinfang.audit.services import ACTIONS, audit_record

    # "assessment_change" is asked of the audit module (report); until then an admin change.
    action = "assessment_change" if "assessment_change" in ACTIONS else "admin_change"
    audit_record(action=action, actor=by, obj=obj, summary=summary, detail=detail)


def _require_manager(by: Any) -> None:
    if not policy.may_manage_assessment(by):
        raise PermissionDenied("只有信访部门的领导或办案员可以设置考核方案和一票否决")


def scheme_update(
    *,
    scheme: AssessmentScheme,
    by: Any,
    weights: dict[str, int],
    veto_rules: list[dict[str, str]],
    zero: str = "full",
    grades: tuple[int, int, int] = DEFAULT_GRADES,
) -> AssessmentScheme:
    """Set the weights (0–100 each, sum > 0), the zero-denominator policy, the grade floors
    (descending, 0–100) and the 一票否决 rules (codes unique; a code in use by a flag stays).
    Guard: ``policy.may_manage_assessment``. Audit row with the old and new values."""
    _require_manager(by)
    for code, w in weights.items():
        if code not in KPI_BY_CODE:
            raise DomainError(f"未知的考核指标：{code}", field="weights")
        if not 0 <= int(w) <= 100:
            raise DomainError(f"「{KPI_BY_CODE[code].name}」的权重应为0至100", field=code)
    if sum(int(w) for w in weights.values()) <= 0:
        raise DomainError("权重之和须大于0：至少为一项指标设置权重", field="weights")
    if zero not in ZERO_POLICIES:
        raise DomainError("请选择分母为零时的计分方式", field="zero")
    a, b, c = grades
    if not 100 >= a > b > c >= 0:
        raise DomainError("等次分数线应满足 100 ≥ 优秀 > 良好 > 合格 ≥ 0", field="grades")
    codes = [r["code"] for r in veto_rules]
    if len(set(codes)) != len(codes):
        raise DomainError("一票否决情形的代码不能重复", field="veto_rules")
    used = set(
        VetoFlag.objects.filter(scheme=scheme, revoked_at__isnull=True).values_list(
            "code", flat=True
        )
    )
    missing = used - set(codes)
    if missing:
        raise DomainError(
            f"情形「{'、'.join(sorted(missing))}」已有生效的一票否决记录，不能删除",
            field="veto_rules",
        )
    old = {"weights": scheme.weights, "veto_rules": scheme.veto_rules}
    with transaction.atomic():
        scheme.weights = {
            **{k: int(v) for k, v in weights.items()},
            ZERO_KEY: zero,
            GRADES_KEY: [a, b, c],
        }
        scheme.veto_rules = veto_rules
        scheme.updated_by = by
        scheme.save()
        _audit(
            by,
            scheme,
            f"修改考核方案「{scheme.name}」",
            {"old": old, "new": {"weights": scheme.weights, "veto_rules": veto_rules}},
        )
    return scheme


def veto_add(
    *,
    scheme: AssessmentScheme,
    by: Any,
    unit: Unit,
    code: str,
    start: dt.date,
    end: dt.date,
    reason: str,
    case: Any = None,
) -> VetoFlag:
    """Record 一票否决 against ``unit`` for [start, end]. Guard: assessment manager; unit in
    the user's statistics scope; ``code`` one of the scheme's rules; end ≥ start; reason ≥ 10
    characters. Audit row."""
    _require_manager(by)
    if unit.pk not in set(policy.scope_ids(by)):
        raise DomainError("该单位不在您的统计范围内", field="unit")
    if code not in veto_labels(scheme):
        raise DomainError("请选择一票否决情形", field="code")
    if end < start:
        raise DomainError("结束日期不能早于开始日期", field="period_end")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError("请写明事实与依据（不少于10个字）", field="reason")
    with transaction.atomic():
        flag = VetoFlag.objects.create(
            scheme=scheme,
            unit=unit,
            code=code,
            period_start=start,
            period_end=end,
            reason=reason,
            case=case,
            created_by=by,
            created_at=timezone.now(),
        )
        _audit(
            by,
            flag,
            f"记录一票否决：{unit.name}（{veto_labels(scheme)[code]}）",
            {
                "unit_id": unit.pk,
                "code": code,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "case_id": getattr(case, "pk", None),
            },
        )
    return flag


def veto_revoke(*, flag: VetoFlag, by: Any, reason: str) -> VetoFlag:
    """Revoke a flag (not deleted: the record stays with who revoked it and why). Guard:
    assessment manager with the unit in scope; not yet revoked; reason ≥ 4 characters."""
    _require_manager(by)
    if flag.unit_id not in set(policy.scope_ids(by)):
        raise DomainError("该单位不在您的统计范围内", field="unit")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("请填写撤销理由（不少于4个字）", field="reason")
    with transaction.atomic():
        now = timezone.now()
        won = VetoFlag.objects.filter(pk=flag.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=by, revoke_reason=reason
        )
        if not won:
            raise DomainError("该一票否决记录已被撤销")
        flag.refresh_from_db()
        _audit(by, flag, f"撤销一票否决：{flag.unit.name}", {"reason": reason})
    return flag


def vetoes_visible_to(user: Any) -> Any:
    """Flags on units in the user's statistics scope (others: 404). ``case_visible``: whether
    the reader may see the linked case — its number is shown only then (a flag can cite a
    检举控告 case that the flagged unit's own readers must not learn of)."""
    from django.db.models import Exists, OuterRef

    from xinfang.cases.policy import cases_visible_to

    return (
        VetoFlag.objects.filter(unit_id__in=policy.scope_ids(user))
        .select_related("unit", "created_by", "revoked_by", "case")
        .annotate(case_visible=Exists(cases_visible_to(user).filter(pk=OuterRef("case_id"))))
    )
