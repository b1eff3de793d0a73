"""预防排查总览 (issue 10, item 6): the numbers of the district or of one street, and the SVG map
of the unit tree coloured by the highest open risk / alert severity in each subtree.

Bounded: every figure is one aggregate (``GROUP BY``) over the scope — no query per unit. The
map is built in Python from one list of units plus the grouped counts.

Scope: the user's top reading scope (``?unit=`` narrows it to a unit inside the scope; a unit
outside is a 404 in the view). Key-person figures only for those who use the key register.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils.html import escape

from xinfang.org.models import Unit
from xinfang.org.policy import posts_of, subtree_roots
from xinfang.prevention import policy
from xinfang.prevention.models import (
    AlertState,
    DisputeState,
    InformantReportState,
    ReportState,
    RiskLevel,
    ScreeningReport,
    Severity,
    Urgency,
)
from xinfang.prevention.services import beijing_today

OPEN_DISPUTE = (DisputeState.OPEN, DisputeState.PENDING)
OPEN_ALERT = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
OPEN_REPORT = (InformantReportState.NEW, InformantReportState.ACKNOWLEDGED)
RISKS = (RiskLevel.CRITICAL, RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW)
SEVERITIES = (Severity.RED, Severity.ORANGE, Severity.YELLOW, Severity.BLUE)
RISK_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2, RiskLevel.CRITICAL: 3}
SEV_RANK = {Severity.BLUE: 0, Severity.YELLOW: 1, Severity.ORANGE: 2, Severity.RED: 3}

# The map's four levels (risk 低/中/高/重大 ~ severity 蓝/黄/橙/红), plus "nothing open".
LEVELS = (
    # rank, label, fill, text colour
    (-1, "无未结事项", "#f6f8fa", "#1f2328"),
    (0, "低风险 / 蓝色预警", "#ddf4ff", "#0a3069"),
    (1, "中风险 / 黄色预警", "#fff8c5", "#4d2d00"),
    (2, "高风险 / 橙色预警", "#ffd8b5", "#762c00"),
    (3, "重大风险 / 红色预警", "#cf222e", "#ffffff"),
)
LEVEL_BY_RANK = {rank: (label, fill, ink) for rank, label, fill, ink in LEVELS}
LEVEL_SHORT = {-1: "无", 0: "低", 1: "中", 2: "高", 3: "重大"}

# The list pages' filters the tiles link to (helpers A, C, E own the lists).
DISPUTES_URL = "/prevention/disputes/"
REPORTS_URL = "/prevention/reports/"
ALERTS_URL = "/prevention/alerts/"
KEYS_URL = "/prevention/keys/"
ROUNDS_URL = "/prevention/rounds/"
DASHBOARD_URL = "/prevention/"


def link(base: str, **params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return base + ("?" + urlencode(clean) if clean else "")


# --- scope ---------------------------------------------------------------------------------


def top_unit(user: Any) -> Unit | None:
    """The user's top reading scope (the first subtree root by path)."""
    roots = subtree_roots(user, policy.READERS)
    if not roots:
        return None
    return Unit.objects.filter(path=roots[0]).first()


def dashboard_unit(user: Any, unit_id: int | None) -> Unit | None:
    """The unit the dashboard shows: ``unit_id`` if in the user's scope, else the top scope.
    None when the user reads no prevention data or asks for a unit outside their scope."""
    if unit_id is None:
        return top_unit(user)
    if not 0 < unit_id < 2**62 or not policy.in_scope(user, unit_id):
        return None
    return Unit.objects.filter(pk=unit_id, is_active=True).first()


# --- the tree ------------------------------------------------------------------------------


@dataclass
class Node:
    pk: int
    name: str
    short: str
    depth: int
    unit_type: str
    children: list[Node] = field(default_factory=list)
    disputes: int = 0
    risk: int = -1
    alerts: int = 0
    severity: int = -1
    more: int = 0  # for the "其余 n 个" node: how many units it stands for

    @property
    def level(self) -> int:
        return max(self.risk, self.severity)


def _short(unit: Any) -> str:
    name = str(unit["short_name"] or unit["name"])
    return name if len(name) <= 8 else name[:7] + "…"


# --- the summary ---------------------------------------------------------------------------


def _pending_for_me(user: Any) -> Q | None:
    """Disputes awaiting a 销号 decision that ``user`` may take — the rule of
    ``policy.approver_unit`` as one filter: a post in a strict ancestor of the responsible unit,
    or in the petition office serving the responsible unit's parent (区信访局 beside the
    district's streets and departments)."""
    from xinfang.prevention.alerts import office_for

    cond: Q | None = None
    posts = [p for p in posts_of(user) if p.role in policy.APPROVERS]
    units = {
        u.pk: u
        for u in Unit.objects.filter(pk__in={p.unit_id for p in posts}).select_related("parent")
    }
    for p in posts:
        q = Q(unit__path__startswith=p.unit_path) & ~Q(unit_id=p.unit_id)
        unit = units.get(p.unit_id)
        if unit is not None and unit.is_petition_office and unit.parent_id is not None:
            parent = unit.parent
            served = office_for(parent) if parent is not None else None
            if served is not None and served.pk == unit.pk:
                q |= Q(unit__parent_id=unit.parent_id) & ~Q(unit_id=unit.pk)
        cond = q if cond is None else cond | q
    return cond


def _screening(user: Any, root: Unit, today: dt.date) -> list[dict[str, Any]]:
    """The current screening rounds of the subtree, as ``screening.screening_summary`` (per
    active rule: its two latest rounds that have begun; expected, submitted, completion %, late
    units) — but in two grouped queries whatever the number of rules and rounds, so the
    dashboard stays bounded. (A round of which no unit of the subtree reports is skipped, as
    there; here it also does not take one of the rule's two places.)"""
    window = today - dt.timedelta(days=75)  # two monthly periods and their due dates
    base = ScreeningReport.objects.filter(
        unit__path__startswith=root.path,
        round__period_start__lte=today,
        round__period_start__gte=window,
        round__rule__is_active=True,
    )
    grouped = (
        base.values(
            "round_id",
            "round__rule_id",
            "round__rule__name",
            "round__rule__priority",
            "round__label",
            "round__period_start",
            "round__due_on",
            "state",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    rounds: dict[int, dict[str, Any]] = {}
    for row in grouped:
        r = rounds.setdefault(
            row["round_id"],
            {
                "label": f"{row['round__rule__name']} {row['round__label']}",
                "rule": row["round__rule_id"],
                "priority": row["round__rule__priority"],
                "start": row["round__period_start"],
                "due_on": row["round__due_on"],
                "expected": 0,
                "submitted": 0,
                "late_units": [],
                "url": f"{ROUNDS_URL}{row['round_id']}/",
            },
        )
        r["expected"] += row["n"]
        if row["state"] == ReportState.SUBMITTED:
            r["submitted"] += row["n"]
    per_rule: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for round_id, r in rounds.items():
        per_rule.setdefault(r["rule"], []).append((round_id, r))
    chosen: dict[int, dict[str, Any]] = {}
    for rule_rounds in per_rule.values():
        for round_id, r in sorted(rule_rounds, key=lambda x: x[1]["start"], reverse=True)[:2]:
            chosen[round_id] = r
    if chosen:
        late = (
            base.filter(round_id__in=list(chosen))
            .filter(
                Q(state=ReportState.SUBMITTED, is_late=True)
                | Q(state=ReportState.PENDING, round__due_on__lt=today)
            )
            .order_by("unit__path")
            .values_list("round_id", "unit__name")
        )
        for round_id, name in late:
            chosen[round_id]["late_units"].append(name)
    out = sorted(chosen.values(), key=lambda r: (r["priority"], -r["start"].toordinal()))
    for r in out:
        r["completion"] = round(100 * r["submitted"] / r["expected"]) if r["expected"] else 0
    return out


RISK_ORDER_EXPR = Case(
    *(When(risk_level=level, then=Value(rank)) for level, rank in RISK_RANK.items()),
    default=Value(-1),
    output_field=IntegerField(),
)


def summary(
    user: Any, root: Unit, today: dt.date | None = None, *, with_unit: bool = False
) -> dict[str, Any]:
    """Everything the dashboard shows for ``root`` (in ``user``'s scope): 13 queries whatever
    the size of the tree. ``with_unit``: the tiles' links carry ``unit=<root>`` (a street's
    dashboard), else they are unfiltered (the user's whole scope)."""
    today = today or beijing_today()
    path = root.path
    # 1. the units of the subtree (for the map; one query)
    units: list[dict[str, Any]] = [
        dict(u)
        for u in Unit.objects.filter(path__startswith=path, is_active=True)
        .order_by("path")
        .values("pk", "parent_id", "name", "short_name", "unit_type", "path")
    ]
    in_tree = Q(unit__path__startswith=path) | Q(place_unit__path__startswith=path)

    # 2. open disputes grouped by place × risk (tiles and map)
    disputes = policy.disputes_visible_to(user).filter(in_tree, state__in=OPEN_DISPUTE)
    grouped = (
        disputes.values("place_unit_id", "risk_level")
        .annotate(
            n=Count("id"),
            overdue=Count("id", filter=Q(due_on__lt=today)),
        )
        .order_by()
    )
    by_risk: dict[str, int] = {str(level): 0 for level in RISKS}
    overdue = 0
    place_risk: dict[int, tuple[int, int]] = {}
    for row in grouped:
        by_risk[row["risk_level"]] = by_risk.get(row["risk_level"], 0) + row["n"]
        overdue += row["overdue"]
        n, rank = place_risk.get(row["place_unit_id"], (0, -1))
        place_risk[row["place_unit_id"]] = (
            n + row["n"],
            max(rank, RISK_RANK.get(row["risk_level"], -1)),
        )
    open_total = sum(by_risk.values())

    # 3. 销号 awaiting my decision
    cond = _pending_for_me(user)
    pending_mine = 0
    if cond is not None:
        pending_mine = (
            disputes.filter(cond, state=DisputeState.PENDING).exclude(requested_by=user).count()
        )

    # 4. screening rounds
    rounds = _screening(user, root, today)

    # 5. urgent informant reports still open
    reports = (
        policy.informant_reports_visible_to(user)
        .filter(unit__path__startswith=path, urgency=Urgency.URGENT, state__in=OPEN_REPORT)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    urgent = {row["state"]: row["n"] for row in reports}

    # 6. open alerts by unit × severity
    alert_rows = (
        policy.alerts_visible_to(user)
        .filter(unit__path__startswith=path, state__in=OPEN_ALERT)
        .values("unit_id", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_severity: dict[str, int] = {str(sev): 0 for sev in SEVERITIES}
    unit_alerts: dict[int, tuple[int, int]] = {}
    for row in alert_rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["n"]
        n, rank = unit_alerts.get(row["unit_id"], (0, -1))
        unit_alerts[row["unit_id"]] = (n + row["n"], max(rank, SEV_RANK.get(row["severity"], -1)))

    # 7. key persons / groups (only for those who use the register)
    keys: dict[str, Any] | None = None
    if policy.may_use_key_register(user):
        key_filter = Q(unit__path__startswith=path)
        if root.parent_id is None:
            key_filter |= Q(unit__isnull=True)
        kp = (
            policy.key_persons_visible_to(user)
            .filter(key_filter, removed_at__isnull=True)
            .aggregate(
                n=Count("id"),
                overdue=Count("id", filter=Q(review_on__lt=today)),
            )
        )
        kg = (
            policy.key_groups_visible_to(user)
            .filter(unit__path__startswith=path, removed_at__isnull=True)
            .aggregate(
                n=Count("id"),
                overdue=Count("id", filter=Q(review_on__lt=today)),
            )
        )
        keys = {
            "persons": kp["n"],
            "persons_overdue": kp["overdue"],
            "groups": kg["n"],
            "groups_overdue": kg["overdue"],
        }

    # 8. top lists
    top_disputes = list(
        disputes.annotate(risk_rank=RISK_ORDER_EXPR)
        .select_related("unit", "place_unit")
        .order_by("-risk_rank", "due_on", "pk")[:10]
    )
    newest_alerts = list(
        policy.alerts_visible_to(user)
        .filter(unit__path__startswith=path, state__in=OPEN_ALERT)
        .select_related("unit")
        .order_by("-raised_at", "-pk")[:10]
    )

    tree = build_tree(units, root.pk, place_risk, unit_alerts)
    tiles = _tiles(
        root,
        with_unit,
        by_risk,
        open_total,
        overdue,
        pending_mine,
        urgent,
        by_severity,
        keys,
    )
    return {
        "unit": root,
        "today": today,
        "open_total": open_total,
        "by_risk": by_risk,
        "overdue": overdue,
        "pending_mine": pending_mine,
        "rounds": rounds,
        "urgent_new": urgent.get(InformantReportState.NEW, 0),
        "urgent_ack": urgent.get(InformantReportState.ACKNOWLEDGED, 0),
        "alerts_total": sum(by_severity.values()),
        "by_severity": by_severity,
        "keys": keys,
        "top_disputes": top_disputes,
        "newest_alerts": newest_alerts,
        "tree": tree,
        "tiles": tiles,
    }


def _tiles(
    root: Unit,
    with_unit: bool,
    by_risk: dict[str, int],
    open_total: int,
    overdue: int,
    pending_mine: int,
    urgent: dict[str, int],
    by_severity: dict[str, int],
    keys: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The tiles: label, count, link (the filtered list), tone."""
    u = root.pk if with_unit else ""
    risk_labels = dict(RiskLevel.choices)
    tiles: list[dict[str, Any]] = [
        {
            "label": "在办矛盾纠纷",
            "count": open_total,
            "url": link(DISPUTES_URL, state="active", unit=u),
            "tone": "",
            "sub": [
                {
                    "label": f"{risk_labels[level]}风险",
                    "count": by_risk.get(level, 0),
                    "url": link(DISPUTES_URL, state="active", risk=level, unit=u),
                    "level": level,
                }
                for level in RISKS
            ],
        },
        {
            "label": "逾期未化解",
            "count": overdue,
            "url": link(DISPUTES_URL, state="overdue", unit=u),
            "tone": "bad" if overdue else "",
        },
        {
            "label": "待我审核销号",
            "count": pending_mine,
            "url": link(DISPUTES_URL, state="pending", unit=u),
            "tone": "warn" if pending_mine else "",
        },
        {
            "label": "紧急报告待确认",
            "count": urgent.get(InformantReportState.NEW, 0),
            "url": link(REPORTS_URL, urgency="urgent", state="new", unit=u),
            "tone": "bad" if urgent.get(InformantReportState.NEW) else "",
        },
        {
            "label": "紧急报告处置中",
            "count": urgent.get(InformantReportState.ACKNOWLEDGED, 0),
            "url": link(REPORTS_URL, urgency="urgent", state="acknowledged", unit=u),
            "tone": "",
        },
        {
            "label": "未办结预警",
            "count": sum(by_severity.values()),
            "url": link(ALERTS_URL, state="active", unit=u),
            "tone": "warn" if by_severity.get(Severity.RED) else "",
            "sub": [
                {
                    "label": dict(Severity.choices)[sev].split("（")[0],
                    "count": by_severity.get(sev, 0),
                    "url": link(ALERTS_URL, state="active", severity=sev, unit=u),
                    "level": sev,
                }
                for sev in SEVERITIES
            ],
        },
    ]
    if keys is not None:
        tiles.append(
            {
                "label": "重点人员",
                "count": keys["persons"],
                "url": link(KEYS_URL, unit=u),
                "tone": "",
            }
        )
        tiles.append(
            {
                "label": "重点群体",
                "count": keys["groups"],
                "url": link(KEYS_URL, tab="group", unit=u),
                "tone": "",
            }
        )
        late = keys["persons_overdue"] + keys["groups_overdue"]
        tiles.append(
            {
                "label": "评估逾期（人员/群体）",
                "count": late,
                "url": link(KEYS_URL, review="overdue", unit=u),
                "tone": "warn" if late else "",
            }
        )
    return tiles


def build_tree(
    units: list[dict[str, Any]],
    root_id: int,
    place_risk: dict[int, tuple[int, int]],
    unit_alerts: dict[int, tuple[int, int]],
) -> Node | None:
    """Root → children → grandchildren; anything deeper is folded into its grandchild. Each
    node carries the counts and the highest level of its whole subtree."""
    by_id = {u["pk"]: u for u in units}
    if root_id not in by_id:
        return None
    root_path = by_id[root_id]["path"]
    root_depth = root_path.count(".")
    nodes: dict[int, Node] = {}
    for u in units:
        depth = u["path"].count(".") - root_depth
        if depth <= 2:
            nodes[u["pk"]] = Node(u["pk"], u["name"], _short(u), depth, u["unit_type"])
    # attach each unit's own counts to its node, or to the depth-2 ancestor it folds into
    for u in units:
        parts = [int(p) for p in u["path"].split(".") if p]
        depth = len(parts) - root_depth
        owner_id = u["pk"] if depth <= 2 else parts[root_depth + 1]
        target = nodes.get(owner_id)
        if target is None:
            continue
        n, rank = place_risk.get(u["pk"], (0, -1))
        a, sev = unit_alerts.get(u["pk"], (0, -1))
        target.disputes += n
        target.risk = max(target.risk, rank)
        target.alerts += a
        target.severity = max(target.severity, sev)
    # link children (units are ordered by path: parents first)
    for u in units:
        node = nodes.get(u["pk"])
        if node is None or node.depth == 0:
            continue
        parent = nodes.get(u["parent_id"])
        if parent is not None:
            parent.children.append(node)
    root = nodes[root_id]

    # roll the counts up: grandchildren → children → root
    def roll(node: Node) -> None:
        for child in node.children:
            roll(child)
            node.disputes += child.disputes
            node.alerts += child.alerts
            node.risk = max(node.risk, child.risk)
            node.severity = max(node.severity, child.severity)

    roll(root)
    return root


# --- the SVG map ----------------------------------------------------------------------------

COL_W = 176
COL_GAP = 14
NODE_H = 50
ROW_GAP = 10
TOP_H = 64
PAD = 12
MAX_ROWS = 12
LEGEND_W = 200
MIN_W = 660


def _node_svg(node: Node, x: int, y: int, w: int, h: int, href: str) -> str:
    label, fill, ink = LEVEL_BY_RANK[node.level]
    level_text = LEVEL_SHORT[node.level]
    title = f"{node.name}：在办纠纷{node.disputes}件，未办结预警{node.alerts}条，最高等级：{label}"
    if node.more:
        title = f"其余{node.more}个单位：在办纠纷{node.disputes}件，未办结预警{node.alerts}条"
    stroke = "#1f2328" if node.level >= 2 else "#8c959f"
    width = 2 if node.level >= 2 else 1
    name = node.short if not node.more else f"其余{node.more}个"
    counts = f"纠纷{node.disputes} 预警{node.alerts}"
    body = (
        f"<title>{escape(title)}</title>"
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
        f'<text x="{x + 8}" y="{y + 20}" fill="{ink}" font-size="14" font-weight="600">'
        f"{escape(name)}</text>"
        f'<text x="{x + 8}" y="{y + 40}" fill="{ink}" font-size="12">{escape(counts)}</text>'
        f'<text x="{x + w - 8}" y="{y + 20}" fill="{ink}" font-size="12" '
        f'text-anchor="end">{escape(level_text)}</text>'
    )
    if not href:
        return f'<g class="map-node" data-level="{node.level}">{body}</g>'
    return f'<a href="{escape(href)}" class="map-node" data-level="{node.level}">{body}</a>'


def _href(node: Node, root: Node) -> str:
    if node.more:
        return ""
    if node.children and node.pk != root.pk:
        return link(DASHBOARD_URL, unit=node.pk)
    return link(DISPUTES_URL, state="active", place=node.pk)


def render_map(root: Node, *, standalone: bool = False) -> str:
    """The SVG (a string of valid XML): the root across the top, its children as columns, their
    children stacked below; colours by level with the legend and text on each node."""
    columns = root.children or []
    ncols = max(1, len(columns))
    content_w = ncols * COL_W + (ncols - 1) * COL_GAP
    width = max(MIN_W, PAD * 2 + content_w)
    x0 = (width - content_w) // 2
    per_row = max(1, (width - PAD * 2 - 44) // LEGEND_W)
    legend_h = 12 + 24 * -(-len(LEVELS) // per_row)
    rows = 0
    for col in columns:
        rows = max(rows, min(len(col.children), MAX_ROWS))
    body_h = TOP_H + PAD + NODE_H + (ROW_GAP + NODE_H) * rows
    height = PAD + body_h + PAD + legend_h
    parts: list[str] = []
    ns = ' xmlns="http://www.w3.org/2000/svg"'
    parts.append(
        f'<svg{ns} class="unit-map" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="map-title map-desc" '
        f'font-family="sans-serif">'
    )
    parts.append(f'<title id="map-title">{escape(root.name)}单位分布图</title>')
    parts.append(
        f'<desc id="map-desc">{escape(root.name)}及其下属单位的在办矛盾纠纷和未办结预警，'
        f"按子树内最高风险/预警等级着色；共在办纠纷{root.disputes}件，"
        f"未办结预警{root.alerts}条。每个方框标注单位简称、件数和最高等级。</desc>"
    )
    # root
    root_w = min(width - 2 * PAD, 360)
    rx = (width - root_w) // 2
    parts.append(_node_svg(root, rx, PAD, root_w, NODE_H, _href(root, root)))
    # connectors + columns
    y0 = PAD + TOP_H + PAD
    for i, col in enumerate(columns):
        x = x0 + i * (COL_W + COL_GAP)
        cx = x + COL_W // 2
        parts.append(
            f'<line x1="{width // 2}" y1="{PAD + NODE_H}" x2="{cx}" y2="{y0}" '
            f'stroke="#8c959f" stroke-width="1"/>'
        )
        parts.append(_node_svg(col, x, y0, COL_W, NODE_H, _href(col, root)))
        kids = col.children
        shown = kids if len(kids) <= MAX_ROWS else kids[: MAX_ROWS - 1]
        if len(kids) > MAX_ROWS:
            rest = kids[MAX_ROWS - 1 :]
            extra = Node(0, "", "", 2, "", more=len(rest))
            for k in rest:
                extra.disputes += k.disputes
                extra.alerts += k.alerts
                extra.risk = max(extra.risk, k.risk)
                extra.severity = max(extra.severity, k.severity)
            shown = [*shown, extra]
        for j, kid in enumerate(shown):
            ky = y0 + (NODE_H + ROW_GAP) * (j + 1)
            parts.append(
                f'<line x1="{x + 10}" y1="{ky - ROW_GAP}" x2="{x + 10}" y2="{ky}" '
                f'stroke="#8c959f" stroke-width="1"/>'
            )
            parts.append(_node_svg(kid, x + 16, ky, COL_W - 16, NODE_H, _href(kid, root)))
    # legend: one entry per level, wrapped into rows
    lx0 = PAD + 44
    per_row = max(1, (width - lx0 - PAD) // LEGEND_W)
    ly = height - legend_h + 6
    parts.append(
        f'<g class="map-legend"><text x="{PAD}" y="{ly + 14}" font-size="12">图例：</text>'
    )
    for i, (rank, label, fill, _ink) in enumerate(LEVELS):
        lx = lx0 + (i % per_row) * LEGEND_W
        y = ly + (i // per_row) * 24
        parts.append(
            f'<rect x="{lx}" y="{y}" width="18" height="18" rx="3" fill="{fill}" '
            f'stroke="#8c959f"/><text x="{lx + 24}" y="{y + 14}" font-size="12">'
            f"{escape(LEVEL_SHORT[rank])}：{escape(label)}</text>"
        )
    parts.append("</g></svg>")
    svg = "".join(parts)
    if standalone:
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + svg
    return svg


def as_json(data: dict[str, Any]) -> dict[str, Any]:
    """The API shape of ``summary``."""

    def node_json(node: Node | None) -> dict[str, Any] | None:
        if node is None:
            return None
        return {
            "unit_id": node.pk,
            "name": node.name,
            "disputes": node.disputes,
            "alerts": node.alerts,
            "risk": LEVEL_SHORT[node.risk],
            "level": node.level,
            "children": [node_json(c) for c in node.children],
        }

    keys = data["keys"]
    return {
        "unit_id": data["unit"].pk,
        "unit": data["unit"].name,
        "as_of": data["today"],
        "disputes_open": data["open_total"],
        "disputes_by_risk": {str(k): v for k, v in data["by_risk"].items()},
        "disputes_overdue": data["overdue"],
        "strike_pending_for_me": data["pending_mine"],
        "urgent_reports_unacknowledged": data["urgent_new"],
        "urgent_reports_acknowledged": data["urgent_ack"],
        "alerts_open": data["alerts_total"],
        "alerts_by_severity": {str(k): v for k, v in data["by_severity"].items()},
        "screening": [
            {
                "label": r["label"],
                "expected": r["expected"],
                "submitted": r["submitted"],
                "completion": r["completion"],
                "late_units": r["late_units"],
            }
            for r in data["rounds"]
        ],
        "key_persons": keys["persons"] if keys else None,
        "key_groups": keys["groups"] if keys else None,
        "key_reviews_overdue": (keys["persons_overdue"] + keys["groups_overdue"]) if keys else None,
        "top_disputes": [
            {
                "id": d.pk,
                "number": d.number,
                "title": d.title,
                "risk_level": d.risk_level,
                "unit": d.unit.name,
                "due_on": d.due_on,
            }
            for d in data["top_disputes"]
        ],
        "newest_alerts": [
            {
                "id": a.pk,
                "title": a.title,
                "severity": a.severity,
                "unit": a.unit.name,
                "raised_at": a.raised_at,
            }
            for a in data["newest_alerts"]
        ],
        "tree": node_json(data["tree"]),
    }
