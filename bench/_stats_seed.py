"""The statistics bench fixture: N cases **with their events and deadlines**, written set-based.

Used by ``bench_stats.py`` and by ``tests/stats/test_bench_smoke.py`` (which checks that the
rollups rebuilt from these rows equal the recomputation — the set-based writer and the Python
rules agree).

How it is written, per chunk of case numbers ``lo..hi`` (bounded memory at any N):

1. ``bench_raw``: 12 uniform random integers in [0, 1,000,000) per case — PostgreSQL
   ``INSERT … SELECT floor(random()*1e6) … FROM generate_series``, SQLite ``executemany`` in
   batches from Python's ``random`` (the only vendor-specific step besides time conversion).
2. ``bench_life``: one portable ``INSERT … SELECT`` turns them into the case's attributes and
   its lifecycle as integer epoch seconds (each step NULL when it never happens or lies after
   "now"): received → 交办/转送 (62 % / 30 %) or 告知 (8 %) → 签收 → 受理 (93 %) or 不予受理 →
   答复 (never — stuck, overdue, 积案 — for 3 % of the last 180 days' cases, 1 % of the year
   before and 0.1 % of older ones: old stuck cases get resolved in the end) → 评价 (75 %:
   满意 70 / 基本满意 20 / 不满意 10) → 办结
   → 复查申请 (4 %) → 复查决定 → 办结 again. Shares of late steps: routing 5 %, acceptance 5 %
   (16–30 days against 15), reply 8 % (61–90 days against 60).
3. Cases (explicit ids), ``CaseEvent`` rows (one ``INSERT … SELECT`` per kind) and the
   ``Deadline`` rows (route, accept, handle, review_request, review_decide) with met times, so
   open, overdue and 积案 cases are real.

Received dates: uniform over ``years`` × 365 days ending today, 08:00–18:00 local. Channels,
purposes, headcounts (个人/群体/集体), 重复 12 %, 越级 4 %; place: a community (90 %), a street
code (7 %) or none (3 %); the real (migrated) level-3 categories, skewed (the first ones
drawn most: P(k) ∝ 1/√k, as a few topics dominate in life); registered at the district
office (75 %) or the place's street; handled by the place's street (70 %) or a department.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DAY = 86400
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no DST
RAW_COLS = [f"r{k}" for k in range(12)]


@dataclass
class Tree:
    district: Any
    office: Any
    streets: list[Any]
    communities: list[Any]
    departments: list[Any]
    clerk: Any  # 办案员 @ office
    desk: Any  # 接待员 @ office
    leader: Any = None  # 领导 @ district
    handlers: dict[int, Any] = field(default_factory=dict)  # unit id → 承办人


def build_tree(streets: int = 20, communities: int = 10, departments: int = 40) -> Tree:
    """示范区 (110105) → 区信访局 + ``streets`` streets (petition offices, codes 110105SSS) with
    ``communities`` communities each (codes 110105SSSCCC) + ``departments`` departments."""
    from django.contrib.auth.models import User

    from xinfang.org import roles as R
    from xinfang.org.models import Membership, Role, Unit, UnitType

    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    st, cm, dp = [], [], []
    for s in range(1, streets + 1):
        street = Unit.objects.create(
            name=f"第{s}街道",
            unit_type=UnitType.STREET,
            parent=district,
            division_code=f"110105{s:03d}",
            is_petition_office=True,
        )
        st.append(street)
        for c in range(1, communities + 1):
            cm.append(
                Unit.objects.create(
                    name=f"第{s}街道第{c}社区",
                    unit_type=UnitType.COMMUNITY,
                    parent=street,
                    division_code=f"110105{s:03d}{c:03d}",
                )
            )
    for d in range(1, departments + 1):
        dp.append(
            Unit.objects.create(name=f"区直部门{d}", unit_type=UnitType.DEPARTMENT, parent=district)
        )
    roles = {r.code: r for r in Role.objects.all()}

    def user(name: str, unit: Any, role: str) -> Any:
        u = User.objects.create_user(name, password="Xf-bench-pass-1")
        Membership.objects.create(user=u, unit=unit, role=roles[role])
        return u

    tree = Tree(
        district,
        office,
        st,
        cm,
        dp,
        clerk=user("bench_clerk", office, R.CASE_OFFICER),
        desk=user("bench_desk", office, R.RECEPTIONIST),
    )
    tree.leader = user("bench_leader", district, R.LEADER)
    return tree


def load_tree() -> Tree:
    """The tree ``build_tree`` wrote, read back from a kept database (``--reuse``)."""
    from django.contrib.auth.models import User

    from xinfang.org.models import Unit, UnitType

    district = Unit.objects.get(division_code="110105", unit_type=UnitType.DISTRICT)
    kids = Unit.objects.filter(parent=district).order_by("id")
    streets = list(kids.filter(unit_type=UnitType.STREET))
    return Tree(
        district,
        Unit.objects.get(parent=district, name="区信访局"),
        streets,
        list(Unit.objects.filter(parent__in=streets).order_by("id")),
        list(kids.filter(name__startswith="区直部门")),
        clerk=User.objects.get(username="bench_clerk"),
        desk=User.objects.get(username="bench_desk"),
        leader=User.objects.get(username="bench_leader"),
    )


# --- SQL dialect ---------------------------------------------------------------------------


class Dialect:
    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def ts(self, x: str) -> str:
        return f"to_timestamp({x})" if self.pg else f"datetime({x}, 'unixepoch')"

    def day(self, x: str, plus: int = 0) -> str:
        """The local date of epoch ``x`` (+ ``plus`` days)."""
        if self.pg:
            return f"((to_timestamp({x}) AT TIME ZONE 'Asia/Shanghai')::date + {plus})"
        return f"date({x} + {LOCAL_OFFSET + plus * DAY}, 'unixepoch')"

    def json(self, x: str) -> str:
        return f"({x})::jsonb" if self.pg else x

    def text(self, x: str) -> str:
        return f"CAST({x} AS TEXT)" if self.pg else x


def _exec(sql: str, params: list[Any] | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or None)  # no params: a literal '%' (modulo) stays as is
        return int(cur.rowcount or 0)


def _reference_tables(tree: Tree) -> dict[str, int]:
    """Small lookup tables the life SQL joins: categories, places, departments."""
    from xinfang.cases.models import Category

    for t in ("bench_cat", "bench_place", "bench_dept", "bench_raw", "bench_life"):
        _exec(f"DROP TABLE IF EXISTS {t}")
    _exec("CREATE TABLE bench_cat (k integer PRIMARY KEY, cat_id integer NOT NULL)")
    _exec(
        "CREATE TABLE bench_place (k integer PRIMARY KEY, code varchar(12) NOT NULL, "
        "street_id integer NOT NULL)"
    )
    _exec("CREATE TABLE bench_dept (k integer PRIMARY KEY, unit_id integer NOT NULL)")
    _exec(
        "CREATE TABLE bench_raw (i bigint PRIMARY KEY, "
        + ", ".join(f"{c} integer NOT NULL" for c in RAW_COLS)
        + ")"
    )
    cats = list(Category.objects.filter(level=3).order_by("id").values_list("id", flat=True))
    if not cats:
        cats = list(Category.objects.order_by("id").values_list("id", flat=True))
    cats = cats[:1000]
    from django.db import connection

    with connection.cursor() as cur:
        cur.executemany("INSERT INTO bench_cat (k, cat_id) VALUES (%s, %s)", list(enumerate(cats)))
        places: list[tuple[str, int]] = []
        by_street = {s.pk: s for s in tree.streets}
        for c in tree.communities:
            places.append((c.division_code, c.parent_id))
        n_comm = len(places)
        # 7 % street codes, 3 % none: appended as a tail the draw reaches with those shares
        extra_street = max(1, round(n_comm * 0.07 / 0.90))
        extra_none = max(1, round(n_comm * 0.03 / 0.90))
        streets = list(by_street.values())
        for j in range(extra_street):
            s = streets[j % len(streets)]
            places.append((s.division_code, s.pk))
        for j in range(extra_none):
            places.append(("", streets[j % len(streets)].pk))
        cur.executemany(
            "INSERT INTO bench_place (k, code, street_id) VALUES (%s, %s, %s)",
            [(k, code, sid) for k, (code, sid) in enumerate(places)],
        )
        cur.executemany(
            "INSERT INTO bench_dept (k, unit_id) VALUES (%s, %s)",
            [(k, d.pk) for k, d in enumerate(tree.departments)],
        )
    return {"cats": len(cats), "places": len(places), "depts": len(tree.departments)}


# Channel by a draw u in 0..999 (cumulative thresholds).
CHANNELS = [
    ("visit", 300),
    ("collective_visit", 330),
    ("leader_day", 340),
    ("field_visit", 350),
    ("letter", 500),
    ("phone", 700),
    ("online", 950),
    ("email", 970),
    ("fax", 980),
    ("from_above", 1000),
]
PURPOSES = [("appeal", 800), ("suggestion", 920), ("accusation", 1000)]


def _case_when(u: str, table: list[tuple[str, int]]) -> str:
    parts = " ".join(f"WHEN {u} < {limit} THEN '{code}'" for code, limit in table[:-1])
    return f"CASE {parts} ELSE '{table[-1][0]}' END"


def _life_sql(
    start: int, now: int, days: int, n_place: int, n_cat: int, n_dept: int, office: int
) -> str:
    """bench_raw → bench_life (portable SQL: integer arithmetic, CASE, joins)."""
    u = {k: f"r.r{k}" for k in range(12)}

    def lo(k: int) -> str:  # first draw of raw k: 0..999
        return f"({u[k]} % 1000)"

    def hi(k: int) -> str:  # second, independent draw: 0..999
        return f"({u[k]} / 1000)"

    recv = f"({start} + ({u[0]} % {days}) * {DAY} + ({u[1]} % 600) * 60)"
    chan_u = hi(1)
    head_u = hi(2)
    visit_like = "('visit', 'leader_day', 'field_visit')"
    # stage 1: attributes and the step times without the "now" cut-off
    s1 = f"""
    SELECT r.i AS i, {recv} AS recv,
      {_case_when(chan_u, CHANNELS)} AS channel,
      {_case_when(lo(2), PURPOSES)} AS purpose,
      {head_u} AS head_u,
      ({u[3]} % {n_place}) AS place_k,
      ({hi(3)} * {hi(3)} / 1000 * {n_cat} / 1000) AS cat_k,
      CASE WHEN {lo(4)} < 120 THEN 1 ELSE 0 END AS rep,
      CASE WHEN {hi(4)} < 40 THEN 1 ELSE 0 END AS skip,
      CASE WHEN {lo(5)} < 250 THEN 1 ELSE 0 END AS at_street,
      CASE WHEN {hi(5)} < 80 THEN 'inform' WHEN {hi(5)} < 700 THEN 'assign'
           ELSE 'forward' END AS route,
      CASE WHEN {lo(6)} < 300 THEN 1 ELSE 0 END AS to_dept, ({hi(6)} % {n_dept}) AS dept_k,
      CASE WHEN {lo(7)} < 950 THEN {lo(7)} % 4 ELSE 6 + {lo(7)} % 15 END AS d_route,
      ({hi(7)} % 3) AS d_sign,
      CASE WHEN {lo(8)} < 70 THEN 1 ELSE 0 END AS refuse,
      CASE WHEN {hi(8)} < 950 THEN 1 + {hi(8)} % 10 ELSE 16 + {hi(8)} % 15 END AS d_dec,
      CASE WHEN {recv} > {now} - 180 * {DAY} THEN (CASE WHEN {hi(9)} < 30 THEN 1 ELSE 0 END)
           WHEN {recv} > {now} - 365 * {DAY} THEN (CASE WHEN {hi(9)} < 10 THEN 1 ELSE 0 END)
           ELSE (CASE WHEN {hi(9)} < 1 THEN 1 ELSE 0 END) END AS stuck,
      CASE WHEN {lo(9)} < 920 THEN 10 + {lo(9)} % 46 ELSE 61 + {lo(9)} % 30 END AS d_reply,
      CASE WHEN {lo(10)} < 750 THEN 1 + {lo(10)} % 10 ELSE 0 END AS d_eval,
      CASE WHEN {hi(10)} < 700 THEN 'satisfied' WHEN {hi(10)} < 900 THEN 'basically'
           ELSE 'unsatisfied' END AS ev,
      (1 + {lo(11)} % 5) AS d_close,
      CASE WHEN {hi(11)} < 40 THEN 10 + {lo(11)} % 15 ELSE 0 END AS d_rr,
      (30 + {hi(11)} % 30) AS d_rd
    FROM bench_raw r
    """
    # stage 2: chained times (NULL when the step does not happen)
    route_t = f"(a.recv + a.d_route * {DAY} + 3600)"
    sign_t = f"CASE WHEN a.route <> 'inform' THEN {route_t} + a.d_sign * {DAY} + 1800 END"
    dec_t = f"({sign_t} + a.d_dec * {DAY} + 1800)"
    reply_t = f"CASE WHEN a.refuse = 0 AND a.stuck = 0 THEN {dec_t} + a.d_reply * {DAY} + 1800 END"
    eval_t = f"CASE WHEN a.d_eval > 0 THEN {reply_t} + a.d_eval * {DAY} + 600 END"
    close_t = (
        f"CASE WHEN a.route = 'inform' THEN {route_t} + a.d_close * {DAY} "
        f"WHEN a.refuse = 1 THEN {dec_t} + a.d_close * {DAY} "
        f"ELSE COALESCE({eval_t}, {reply_t}) + a.d_close * {DAY} END"
    )
    rr_t = f"CASE WHEN a.d_rr > 0 THEN {close_t} + a.d_rr * {DAY} END"
    rd_t = f"({rr_t} + a.d_rd * {DAY})"
    s2 = f"""
    SELECT a.*, {route_t} AS t_route, {sign_t} AS t_sign, {dec_t} AS t_dec,
      {reply_t} AS t_reply, {eval_t} AS t_eval, {close_t} AS t_close,
      {rr_t} AS t_rr, {rd_t} AS t_rd, ({rd_t} + 2 * {DAY}) AS t_close2
    FROM ({s1}) a
    """

    def cut(col: str) -> str:
        return f"CASE WHEN b.{col} <= {now} THEN b.{col} END"

    steps = [
        "t_route",
        "t_sign",
        "t_dec",
        "t_reply",
        "t_eval",
        "t_close",
        "t_rr",
        "t_rd",
        "t_close2",
    ]
    cuts = ", ".join(f"{cut(c)} AS {c}" for c in steps)
    head = (
        "CASE WHEN b.channel = 'collective_visit' THEN 5 + b.head_u % 56 "
        f"WHEN b.channel IN {visit_like} THEN "
        "(CASE WHEN b.head_u < 850 THEN 1 WHEN b.head_u < 950 THEN 2 + b.head_u % 3 "
        "ELSE 5 + b.head_u % 26 END) "
        "ELSE (CASE WHEN b.head_u < 950 THEN 1 ELSE 2 + b.head_u % 3 END) END"
    )
    return f"""
    INSERT INTO bench_life
    SELECT b.i, b.recv, b.channel, b.purpose, {head}, p.code, c.cat_id,
      CASE WHEN b.at_street = 1 THEN p.street_id ELSE {office} END,
      CASE WHEN b.route = 'inform' THEN NULL WHEN b.to_dept = 1 THEN d.unit_id
           ELSE p.street_id END,
      b.route, b.refuse, b.ev, b.rep, b.skip, {cuts}
    FROM ({s2}) b
    JOIN bench_place p ON p.k = b.place_k
    JOIN bench_cat c ON c.k = b.cat_k
    JOIN bench_dept d ON d.k = b.dept_k
    """


LIFE_COLS = (
    "i bigint PRIMARY KEY, recv bigint, channel varchar(20), purpose varchar(12), "
    "headcount integer, place_code varchar(12), category_id integer, office_id integer, "
    "hunit_id integer, route varchar(10), refuse integer, ev varchar(12), rep integer, "
    "skip integer, t_route bigint, t_sign bigint, t_dec bigint, t_reply bigint, "
    "t_eval bigint, t_close bigint, t_rr bigint, t_rd bigint, t_close2 bigint"
)


def _insert_select(model: Any, explicit: dict[str, str], source: str, params: list[Any]) -> int:
    """INSERT INTO model (every column but the auto id unless given) SELECT expressions /
    defaults FROM source (as bench_warning's, for both vendors)."""
    from django.db import connection
    from django.utils import timezone

    cols: list[str] = []
    exprs: list[str] = []
    values: list[Any] = []
    for f in model._meta.concrete_fields:
        col = f.column
        if f.primary_key and col not in explicit:
            continue
        cols.append(connection.ops.quote_name(col))
        if col in explicit:
            exprs.append(explicit[col])
        elif f.has_default() or (not f.null and f.empty_strings_allowed):
            exprs.append("%s")
            values.append(f.get_db_prep_save(f.get_default(), connection))
        elif f.null:
            exprs.append("NULL")
        elif f.get_internal_type() == "DateTimeField":
            exprs.append("%s")
            values.append(f.get_db_prep_save(timezone.now(), connection))
        else:
            raise SystemExit(f"_stats_seed: no value for {model._meta.db_table}.{col}")
    t = connection.ops.quote_name(model._meta.db_table)
    return _exec(
        f"INSERT INTO {t} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {source}",
        values + params,
    )


def _raw_chunk(lo: int, hi: int, pg: bool, rng: random.Random) -> None:
    if pg:
        draws = ", ".join("floor(random() * 1000000)::int" for _ in RAW_COLS)
        _exec(
            f"INSERT INTO bench_raw SELECT i, {draws} FROM generate_series(%s, %s) AS s(i)",
            [lo, hi],
        )
        return
    from django.db import connection

    sql = f"INSERT INTO bench_raw (i, {', '.join(RAW_COLS)}) VALUES ({', '.join(['%s'] * 13)})"
    with connection.cursor() as cur:
        step = 20_000
        for a in range(lo, hi + 1, step):
            b = min(hi, a + step - 1)
            cur.executemany(
                sql,
                [(i, *(rng.randrange(1_000_000) for _ in RAW_COLS)) for i in range(a, b + 1)],
            )


def _write_chunk(d: Dialect, id0: int, tree: Tree) -> dict[str, int]:
    """bench_life → cases, events, deadlines."""
    from xinfang.cases.models import Case, CaseEvent, Deadline

    n: dict[str, int] = {}
    L = "bench_life l"
    status = (
        "CASE WHEN l.t_close2 IS NOT NULL THEN 'closed' WHEN l.t_rd IS NOT NULL THEN 'reviewed' "
        "WHEN l.t_rr IS NOT NULL THEN 'review_requested' WHEN l.t_close IS NOT NULL THEN 'closed' "
        "WHEN l.t_eval IS NOT NULL THEN 'evaluated' WHEN l.t_reply IS NOT NULL THEN 'replied' "
        "WHEN l.t_dec IS NOT NULL THEN (CASE WHEN l.refuse = 1 THEN 'refused' ELSE 'accepted' END) "
        "WHEN l.t_sign IS NOT NULL THEN 'signed' "
        "WHEN l.t_route IS NOT NULL THEN (CASE l.route WHEN 'inform' THEN 'informed' "
        "WHEN 'assign' THEN 'assigned' ELSE 'forwarded' END) ELSE 'registered' END"
    )
    routed = "(l.route <> 'inform' AND l.t_route IS NOT NULL)"
    n["cases"] = _insert_select(
        Case,
        {
            "id": f"l.i + {id0}",
            "number": "'SB-' || " + d.text("l.i"),
            "query_code": "'SQ' || " + d.text("l.i"),
            "channel": "l.channel",
            "purpose": "l.purpose",
            "category_id": "l.category_id",
            "place_code": "l.place_code",
            "summary": "'统计基准事项'",
            "received_at": d.ts("l.recv"),
            "registered_at": d.ts("l.recv + 600"),
            "updated_at": d.ts("l.recv + 600"),
            "headcount": "l.headcount",
            "is_repeat": "(l.rep = 1)",
            "is_skip_level": "(l.skip = 1)",
            "is_collective": "(l.headcount >= 5)",
            "status": status,
            "office_unit_id": "l.office_id",
            "handling_unit_id": f"CASE WHEN {routed} THEN l.hunit_id END",
            "registered_by_id": str(tree.clerk.pk),
            "evaluation": "CASE WHEN l.t_eval IS NOT NULL THEN l.ev ELSE '' END",
            "served_at": f"CASE WHEN l.t_reply IS NOT NULL THEN {d.day('l.t_reply')} END",
            "closed_at": f"CASE WHEN l.t_close2 IS NOT NULL THEN {d.ts('l.t_close2')} "
            f"WHEN l.t_close IS NOT NULL THEN {d.ts('l.t_close')} END",
        },
        L,
        [],
    )
    clerk = tree.clerk.pk

    def event(kind: str, t: str, frm: str, to: str, unit: str, data: str, where: str) -> int:
        return _insert_select(
            CaseEvent,
            {
                "case_id": f"l.i + {id0}",
                "kind": f"'{kind}'",
                "actor_id": str(clerk),
                "actor_unit_id": unit,
                "at": d.ts(t),
                "from_status": frm,
                "to_status": f"'{to}'",
                "text": "''",
                "data": d.json(data),
            },
            f"{L} WHERE {where}",
            [],
        )

    office = "l.office_id"
    hunit = "l.hunit_id"
    n["events"] = sum(
        [
            event(
                "register",
                "l.recv + 600",
                "''",
                "registered",
                office,
                "'{\"headcount\": ' || " + d.text("l.headcount") + " || '}'",
                "1 = 1",
            ),
            event(
                "inform",
                "l.t_route",
                "'registered'",
                "informed",
                office,
                "'{}'",
                "l.route = 'inform' AND l.t_route IS NOT NULL",
            ),
            event(
                "assign",
                "l.t_route",
                "'registered'",
                "assigned",
                office,
                "'{\"unit_id\": ' || " + d.text("l.hunit_id") + " || '}'",
                f"l.route = 'assign' AND {routed}",
            ),
            event(
                "forward",
                "l.t_route",
                "'registered'",
                "forwarded",
                office,
                "'{\"unit_id\": ' || " + d.text("l.hunit_id") + " || '}'",
                f"l.route = 'forward' AND {routed}",
            ),
            event(
                "sign_in",
                "l.t_sign",
                "CASE l.route WHEN 'assign' THEN 'assigned' ELSE 'forwarded' END",
                "signed",
                hunit,
                "'{}'",
                "l.t_sign IS NOT NULL",
            ),
            event(
                "accept",
                "l.t_dec",
                "'signed'",
                "accepted",
                hunit,
                "'{}'",
                "l.t_dec IS NOT NULL AND l.refuse = 0",
            ),
            event(
                "refuse",
                "l.t_dec",
                "'signed'",
                "refused",
                hunit,
                "'{}'",
                "l.t_dec IS NOT NULL AND l.refuse = 1",
            ),
            event(
                "reply",
                "l.t_reply",
                "'accepted'",
                "replied",
                hunit,
                "'{}'",
                "l.t_reply IS NOT NULL",
            ),
            event(
                "evaluate",
                "l.t_eval",
                "'replied'",
                "evaluated",
                office,
                '\'{"evaluation": "\' || l.ev || \'", "channel": "phone"}\'',
                "l.t_eval IS NOT NULL",
            ),
            event(
                "close",
                "l.t_close",
                "CASE WHEN l.route = 'inform' THEN 'informed' WHEN l.refuse = 1 THEN 'refused' "
                "WHEN l.t_eval IS NOT NULL THEN 'evaluated' ELSE 'replied' END",
                "closed",
                office,
                "'{}'",
                "l.t_close IS NOT NULL",
            ),
            event(
                "request_review",
                "l.t_rr",
                "'closed'",
                "review_requested",
                office,
                "'{}'",
                "l.t_rr IS NOT NULL",
            ),
            event(
                "decide_review",
                "l.t_rd",
                "'review_requested'",
                "reviewed",
                office,
                "'{}'",
                "l.t_rd IS NOT NULL",
            ),
            event(
                "close",
                "l.t_close2",
                "'reviewed'",
                "closed",
                office,
                "'{}'",
                "l.t_close2 IS NOT NULL",
            ),
        ]
    )

    def deadline(kind: str, start: str, days: int, met: str, where: str) -> int:
        return _insert_select(
            Deadline,
            {
                "case_id": f"l.i + {id0}",
                "kind": f"'{kind}'",
                "started_on": d.day(start),
                "due_on": d.day(start, days),
                "met_at": f"CASE WHEN {met} IS NOT NULL THEN {d.ts(met)} END",
                "cancelled_at": "NULL",
                "paused": "(1 = 0)",
            },
            f"{L} WHERE {where}",
            [],
        )

    n["deadlines"] = sum(
        [
            deadline("route", "l.recv", 15, "l.t_route", "1 = 1"),
            deadline("accept", "l.t_route", 15, "l.t_dec", routed),
            deadline("handle", "l.t_dec", 60, "l.t_reply", "l.t_dec IS NOT NULL AND l.refuse = 0"),
            deadline("review_request", "l.t_reply", 30, "l.t_rr", "l.t_reply IS NOT NULL"),
            deadline("review_decide", "l.t_rr", 60, "l.t_rd", "l.t_rr IS NOT NULL"),
        ]
    )
    return n


def seed(
    tree: Tree,
    n: int,
    *,
    years: int = 5,
    chunk: int | None = None,
    seed_value: int = 20261127,
    today: dt.date | None = None,
    progress: Callable[[str], Any] = print,
    skip_fk_checks: bool = False,
) -> dict[str, Any]:
    """Write ``n`` cases with events and deadlines (see the module doc). Returns counts and
    seconds. Rollups are NOT built here (``rollup.rebuild()`` after)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from xinfang.cases.models import Case

    t0 = time.perf_counter()
    d = Dialect(connection.vendor)
    rng = random.Random(seed_value)
    if d.pg:
        _exec("SELECT setseed(%s)", [(seed_value % 1000) / 1000])
    ref = _reference_tables(tree)
    _exec(f"CREATE TABLE bench_life ({LIFE_COLS})")
    today = today or timezone.localdate()
    days = years * 365
    first = today - dt.timedelta(days=days - 1)
    start = int(
        dt.datetime.combine(first, dt.time(0), tzinfo=dt.UTC).timestamp()
    )  # 00:00 UTC = 08:00 local
    now = int(timezone.now().timestamp())
    life = _life_sql(start, now, days, ref["places"], ref["cats"], ref["depts"], tree.office.pk)
    id0 = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1_000_000
    chunk = chunk or (500_000 if d.pg else 50_000)
    totals = {"cases": 0, "events": 0, "deadlines": 0}
    done = 0
    while done < n:
        lo, hi = done + 1, min(n, done + chunk)
        with transaction.atomic():
            if d.pg and skip_fk_checks:
                # The rows are written consistent by construction (tests/stats/test_bench_smoke
                # seeds with the checks on); at 10 M the deferred foreign-key triggers at COMMIT
                # cost more than the inserts. A bench database only: a superuser skips them for
                # this transaction.
                _exec("SET LOCAL session_replication_role = replica")
            _raw_chunk(lo, hi, d.pg, rng)
            _exec(life)
            for k, v in _write_chunk(d, id0, tree).items():
                totals[k] += v
            _exec("DELETE FROM bench_raw")
            _exec("DELETE FROM bench_life")
        done = hi
        progress(
            f"  seeded {done:,}/{n:,} cases, {totals['events']:,} events "
            f"({time.perf_counter() - t0:.0f} s)"
        )
    if d.pg:
        _exec(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
            "(SELECT max(id) FROM cases_case))"
        )
    for t in ("bench_raw", "bench_life", "bench_cat", "bench_place", "bench_dept"):
        _exec(f"DROP TABLE IF EXISTS {t}")
    # the tables the triggers of cases.openstate keep (open deadlines, open-case counts): the
    # triggers do not fire for the chunks written with session_replication_role = replica
    from xinfang.cases import openstate

    openstate.rebuild()
    from django.db import connection

    # PostgreSQL: VACUUM as autovacuum would in steady state (the visibility map lets counts
    # over an index skip the table: the dashboard's 在办 count); not inside a transaction
    _exec("VACUUM (ANALYZE)" if d.pg and not connection.in_atomic_block else "ANALYZE")
    return {**totals, "seconds": time.perf_counter() - t0, "first_day": first, "id0": id0}


if __name__ == "__main__":
    print("bench/_stats_seed.py: the fixture of bench_stats.py; nothing to run.")
