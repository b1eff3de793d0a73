"""The demo jurisdiction: units, users in every role, and (via ``demo_cases``) a year of cases.

Used by ``manage.py load_demo`` (which ``make run`` calls) and by the tests. Everything is
fictional: 示范区 has the well-formed but unused division code 110199; streets and townships
have 9-digit and communities/villages 12-digit statistical codes below it.

Separation of duties: no superuser is created. The 系统管理员 (``xitong``) may use Django admin
for reference data (units, users, categories, deadline rules, the calendar) but has no model
permission on cases or petitioners; the 安全管理员 (``anquan``) grants posts (memberships).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction

from xinfang.org import demo_text as T
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role, Unit, UnitType

DEMO_PASSWORD = "Demo-2026"
DISTRICT_NAME = "示范区"
DISTRICT_CODE = "110199"
HOURS = "周一至周五 8:30—12:00，13:30—17:30（法定节假日除外）"
OFFICE_HOURS = "周一至周五 8:30—17:30（午间不间断）；每周三为领导接待日"


@dataclass(frozen=True)
class UnitSpec:
    key: str
    name: str
    unit_type: str
    parent: str | None
    code: str = ""
    office: bool = False
    address: str = ""
    short: str = ""
    hours: str = HOURS


@dataclass(frozen=True)
class Place:
    """Where a matter arises (问题属地): a community or village of a street/township."""

    key: str
    street: str
    name: str
    code: str
    rural: bool
    estates: tuple[str, ...]  # residential compounds (小区) or the village itself


# street key, name, type, code, address, [(community, rural, estates)]
STREETS: list[tuple[str, str, str, str, str, list[tuple[str, bool, tuple[str, ...]]]]] = [
    (
        "dh",
        "东湖街道",
        UnitType.STREET,
        "110199001",
        "示范区东湖路18号",
        [
            ("东湖社区", False, ("东湖小区", "湖畔花园")),
            ("幸福里社区", False, ("幸福家园", "幸福里小区")),
            ("翠湖社区", False, ("翠湖名苑", "锦绣华庭")),
            ("建设路社区", False, ("建设路12号院", "金地华府")),
            ("文化苑社区", False, ("文化苑", "书香门第")),
        ],
    ),
    (
        "xs",
        "西山街道",
        UnitType.STREET,
        "110199002",
        "示范区西山大街66号",
        [
            ("西山社区", False, ("西山小区", "御景湾")),
            ("和平里社区", False, ("和平里", "康乐园")),
            ("锦绣社区", False, ("锦绣家园", "阳光花园")),
            ("滨河社区", False, ("滨河湾", "绿城桂花园")),
            ("长青社区", False, ("长青苑", "中央公馆")),
        ],
    ),
    (
        "ny",
        "南苑街道",
        UnitType.STREET,
        "110199003",
        "示范区南苑路9号",
        [
            ("南苑社区", False, ("南苑小区", "紫荆花园")),
            ("光明社区", False, ("光明里", "丽景苑")),
            ("康乐社区", False, ("康乐小区", "龙湖名都")),
            ("阳光社区", False, ("阳光100", "南湖人家")),
            ("紫荆社区", False, ("紫荆苑", "金色家园")),
        ],
    ),
    (
        "bc",
        "北辰街道",
        UnitType.STREET,
        "110199004",
        "示范区北辰路200号",
        [
            ("北辰社区", False, ("北辰小区", "北辰新城")),
            ("金地社区", False, ("金地名京", "华润橡树湾")),
            ("丽景社区", False, ("丽景湾", "碧水云天")),
            ("书香社区", False, ("书香苑", "学府花园")),
            ("御景社区", False, ("御景华庭", "天悦府")),
        ],
    ),
    (
        "qs",
        "青石镇",
        UnitType.STREET,
        "110199100",
        "示范区青石镇政府街1号",
        [
            ("青石村", True, ("青石村",)),
            ("马家庄村", True, ("马家庄村",)),
            ("李家湾村", True, ("李家湾村",)),
            ("石桥村", True, ("石桥村",)),
            ("青石镇社区", False, ("青石家园", "镇中心小区")),
        ],
    ),
    (
        "lh",
        "柳河乡",
        UnitType.STREET,
        "110199200",
        "示范区柳河乡柳河大街3号",
        [
            ("柳河村", True, ("柳河村",)),
            ("前营村", True, ("前营村",)),
            ("后营村", True, ("后营村",)),
            ("王家坟村", True, ("王家坟村",)),
            ("河西村", True, ("河西村",)),
        ],
    ),
]
# key, name, short name, unit type
DEPARTMENTS: list[tuple[str, str, str, str]] = [
    ("zj", "区住房和城乡建设局", "区住建局", UnitType.DEPARTMENT),
    ("rs", "区人力资源和社会保障局", "区人社局", UnitType.DEPARTMENT),
    ("hb", "区生态环境局", "区环境局", UnitType.DEPARTMENT),
    ("jy", "区教育局", "区教育局", UnitType.DEPARTMENT),
    ("wj", "区卫生健康委员会", "区卫健委", UnitType.DEPARTMENT),
    ("sj", "区市场监督管理局", "区市场监管局", UnitType.DEPARTMENT),
    ("ga", "区公安分局", "公安分局", UnitType.DEPARTMENT),
    ("jt", "区交通运输局", "区交通局", UnitType.DEPARTMENT),
    ("mz", "区民政局", "区民政局", UnitType.DEPARTMENT),
    ("cg", "区城市管理综合行政执法局", "区城管局", UnitType.DEPARTMENT),
    ("zr", "区自然资源局", "区自然资源局", UnitType.DEPARTMENT),
    ("cz", "区财政局", "区财政局", UnitType.DEPARTMENT),
    ("jw", "区纪委监委", "区纪委监委", UnitType.OTHER),
]


def unit_specs() -> list[UnitSpec]:
    specs = [
        UnitSpec(
            "district",
            DISTRICT_NAME,
            UnitType.DISTRICT,
            None,
            DISTRICT_CODE,
            address="示范区人民路1号",
            short="示范区",
        ),
        UnitSpec(
            "office",
            "区信访局",
            UnitType.DEPARTMENT,
            "district",
            office=True,
            address="示范区人民路1号区政务服务中心一层",
            hours=OFFICE_HOURS,
        ),
    ]
    for i, (key, name, short, utype) in enumerate(DEPARTMENTS, start=2):
        specs.append(
            UnitSpec(key, name, utype, "district", address=f"示范区行政中心{i}号楼", short=short)
        )
    streets = {}
    for key, name, utype, code, address, _communities in STREETS:
        specs.append(UnitSpec(key, name, utype, "district", code, office=True, address=address))
        streets[key] = name
    for p in places():
        address = f"示范区{streets[p.street]}{p.name}党群服务中心"
        specs.append(UnitSpec(p.key, p.name, UnitType.COMMUNITY, p.street, p.code, address=address))
    for parent, n in (("dh1", 3), ("qs1", 2)):
        for k in range(1, n + 1):
            specs.append(UnitSpec(f"{parent}g{k}", f"第{k}网格", UnitType.GRID, parent))
    specs += [
        UnitSpec(
            "ct",
            "示范区城市发展集团有限公司",
            UnitType.GROUP,
            "district",
            address="示范区金融街9号",
            short="城发集团",
        ),
        UnitSpec(
            "ctjs",
            "城发建设工程有限公司",
            UnitType.COMPANY,
            "ct",
            address="示范区金融街9号B座",
            short="城发建设",
        ),
        UnitSpec("ctjs1", "第一项目部", UnitType.WORKSHOP, "ctjs", address="滨河路改造工程现场"),
    ]
    return specs


def places() -> list[Place]:
    out = []
    for key, _name, _t, code, _addr, communities in STREETS:
        for j, (cname, rural, estates) in enumerate(communities, start=1):
            ccode = f"{code}{(200 + j) if rural else j:03d}"
            out.append(Place(f"{key}{j}", key, cname, ccode, rural, estates))
    return out


def _staff_names() -> Callable[[], str]:
    rng = random.Random(2026)  # stable names, whatever --seed the cases use

    def name() -> str:
        surname = rng.choices(T.SURNAMES, weights=T.SURNAME_WEIGHTS)[0]
        return surname + rng.choice(T.GIVEN_MALE + T.GIVEN_FEMALE)

    return name


def user_specs() -> list[tuple[str, str, str]]:
    """(username, unit key, role code) in the order the login table shows them."""
    specs = [
        ("jiedai", "office", R.RECEPTIONIST),
        ("jiedai2", "office", R.RECEPTIONIST),
        ("banan", "office", R.CASE_OFFICER),
        ("banan2", "office", R.CASE_OFFICER),
        ("lingdao", "district", R.LEADER),
        ("ducha", "district", R.SUPERVISOR),
        ("xinxi", "dh1", R.INFORMANT),
        ("xinxi_qs", "qs1", R.INFORMANT),
        ("xitong", "district", R.SYSADMIN),
        ("anquan", "district", R.SECADMIN),
        ("shenji", "district", R.AUDITOR),
        ("jiedai_dh", "dh", R.RECEPTIONIST),
        ("banan_dh", "dh", R.CASE_OFFICER),
        ("jiedai_qs", "qs", R.RECEPTIONIST),
        ("banan_qs", "qs", R.CASE_OFFICER),
        ("lingdao_dh", "dh", R.LEADER),
    ]
    handling = [s[0] for s in STREETS] + [d[0] for d in DEPARTMENTS] + ["ctjs"]
    for key in handling:
        specs.append((f"chengban_{key}", key, R.HANDLER))
        specs.append((f"fuze_{key}", key, R.UNIT_HEAD))
    return specs


# The admin-role users also get is_staff (Django's flag for "may log in to an admin"); what
# they may do there comes from their role alone (accounts.policy.ROLE_PERMISSIONS, 三权分立).
STAFF_USERS = {"xitong", "anquan", "shenji"}


@dataclass
class DemoOrg:
    units: dict[str, Unit]
    users: dict[str, User]
    places: list[Place]
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)

    def user(self, username: str) -> User:
        return self.users[username]


@transaction.atomic
def load_org() -> DemoOrg:
    """Create (or find) the demo units and users. Idempotent: safe to run again."""
    units: dict[str, Unit] = {}
    for spec in unit_specs():
        parent = units[spec.parent] if spec.parent else None
        phone = f"010-6999{len(units) + 1000:04d}"
        unit = Unit.objects.filter(name=spec.name, parent=parent).first()
        if unit is None:
            unit = Unit.objects.create(
                name=spec.name,
                short_name=spec.short,
                unit_type=spec.unit_type,
                parent=parent,
                division_code=spec.code,
                is_petition_office=spec.office,
                address=spec.address,
                phone=phone,
                office_hours=spec.hours if spec.unit_type != UnitType.GRID else "",
                contact_person="值班室" if spec.office else "办公室",
            )
        units[spec.key] = unit
    roles = {r.code: r for r in Role.objects.all()}
    password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 is slow by design
    names = _staff_names()
    users: dict[str, User] = {}
    logins = []
    for username, unit_key, role in user_specs():
        full_name = names()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create(
                username=username,
                first_name=full_name,
                password=password,
                is_staff=username in STAFF_USERS,
            )
        Membership.objects.get_or_create(user=user, unit=units[unit_key], role=roles[role])
        users[username] = user
        logins.append((username, user.first_name, units[unit_key].name, roles[role].name))
    return DemoOrg(units=units, users=users, places=places(), logins=logins)


def existing_logins() -> list[tuple[str, str, str, str]]:
    """The login table rows of demo users already in the database (for ``--if-empty``)."""
    posts = {
        (m.user.username, m.role.code): m
        for m in Membership.objects.filter(
            user__username__in=[u for u, _k, _r in user_specs()]
        ).select_related("user", "unit", "role")
    }
    rows = []
    for username, _unit_key, role in user_specs():
        m = posts.get((username, role))
        if m is not None:
            rows.append((username, m.user.first_name, m.unit.name, m.role.name))
    return rows


def login_table(logins: list[tuple[str, str, str, str]]) -> str:
    """The demo logins as a fixed-width table (CJK characters count double)."""

    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    head = ("用户名", "姓名", "单位", "角色")
    rows = [head, *logins]
    widths = [max(width(r[i]) for r in rows) for i in range(4)]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(r)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(head), rule, *(line(r) for r in logins)]
    return "\n".join(
        [
            *body,
            "",
            f"所有演示账号的密码：{DEMO_PASSWORD}",
            "系统管理员、安全管理员、审计员（xitong、anquan、shenji）首次登录须用手机身份验证器"
            "扫码绑定双因素认证，此后每次登录输入动态验证码。",
        ]
    )


def load_demo(
    *, cases: int = 5000, seed: int = 42, progress: Callable[[str], Any] | None = None
) -> tuple[DemoOrg, dict[str, Any]]:
    """Load the whole demo; returns the org and a summary of what was generated."""
    from xinfang.org.demo_cases import load_cases

    org = load_org()
    from xinfang.directory.demo import load_organs

    load_organs(org.units)  # 办事指南 (xinfang.directory)
    summary = load_cases(org, n=cases, seed=seed, progress=progress) if cases > 0 else {}
    from xinfang.people.demo import load_key_persons

    load_key_persons(org)  # 重点人员 on the lookup cards (xinfang.people.lookup)
    if cases > 0:
        from xinfang.reception.demo import load_reception

        load_reception(org)  # 值班领导, a 领导接待日 with bookings, a 包案 case (xinfang.reception)
        from xinfang.prevention.demo import load_prevention

        load_prevention(org)  # 预防排查: informants, register, rounds, alerts
    return org, summary
