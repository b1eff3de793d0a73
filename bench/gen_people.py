"""Generator of the desk-lookup bench database: N persons and M cases, written fast and resumable.

Used by ``bench_lookup.py`` (run that). It fills a *separate, kept* database — SQLite
``var/bench/lookup.sqlite3`` or PostgreSQL ``xf_bench_lookup`` on the ``DATABASE_URL`` server —
with:

* persons: Chinese names (weighted surnames incl. 欧阳/司马, minority names with "·"), pinyin
  initials, **valid** resident ID numbers (GB 11643 checksum; a bijection of the person index, so
  unique and re-computable), mobiles, addresses (demo streets/communities + road + number), 90 %
  with an ID, 95 % with a phone. ID and phone are **really** encrypted (AES-GCM) with real blind
  indexes (``people.pii``), ≈ 31 µs per person;
* cases: numbers ``XF-<office>-<year>-<seq>``, unique query codes (a bijection of the case index),
  channel/purpose (3 % 检举控告)/category/status by age (as ``_bulkseed.py``), registering office
  (区信访局 or one of 6 street offices), handling unit; each with one or two ``CasePetitioner``
  links (15 % of cases go to a pool of 5 % "frequent" persons), one open obligation
  ``Deadline`` for open cases, a ``reply`` event for replied ones;
* a unit tree (示范区 › 区信访局, 6 streets) and two users: ``bench_office`` (办案员, sees all)
  and ``bench_street`` (承办人 at the first street, sees that street's cases).

Rows are inserted in chunks of ``CHUNK`` in one transaction each, with explicit ids derived from
the chunk number (random streams seeded by chunk): an interrupted run continues after the last
complete chunk. SQLite: ``executemany``; PostgreSQL: ``COPY``. Then ``ANALYZE``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

CHUNK = 50_000
ID_SPACE_DAYS = 24_000  # birth dates 1940-01-01 + 0..23999 days
ID_SPACE = 10 * ID_SPACE_DAYS * 1000  # regions × days × sequence
ID_MULT = 48271  # prime, coprime with ID_SPACE: index → unique ID
QC_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
QC_SPACE = 32**10
QC_MULT = 0x5DEECE66D | 1  # odd: a bijection modulo 2**50
QC_ADD = 0x2545F4914F6CDD1D % QC_SPACE
REGIONS = [
    "110105",
    "110101",
    "110102",
    "110106",
    "110107",
    "110108",
    "130102",
    "370102",
    "410105",
    "510104",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方"]
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文华秀珍玉兰萍红海燕鹏辉"
    "淑珍丹婷雪梅宇浩然子涵欣怡梓轩一诺晨阳佳琪思远春生德胜永福金凤桂芝凤英玉梅玉珍秀云丽华"
)
MINORITY = ["阿依古丽·买买提", "热依拉·艾力", "买买提·吐尔逊", "古丽娜·阿不都", "艾力·肉孜"]
STREETS = [
    ("东湖街道", ["东湖社区", "建设路社区", "幸福里社区", "湖滨社区", "金地华府"]),
    ("西山街道", ["西山社区", "翠微社区", "石景社区", "林场村"]),
    ("南苑街道", ["南苑社区", "花园社区", "和平里社区"]),
    ("北辰街道", ["北辰社区", "北苑社区", "育新社区"]),
    ("青松镇", ["青松村", "红旗村", "前进村", "青松社区"]),
    ("滨河乡", ["滨河村", "柳树屯村", "河西村"]),
]
ROADS = [
    "幸福路",
    "建设路",
    "人民路",
    "解放路",
    "和平路",
    "东湖路",
    "南苑路",
    "北辰路",
    "滨河路",
    "中山路",
    "青年路",
    "光明街",
    "文化街",
    "学府路",
    "花园路",
    "胜利街",
    "工农路",
    "新华街",
    "长安路",
    "朝阳路",
    "西山大道",
    "金水路",
    "翠微路",
    "育新街",
    "体育场路",
    "红旗路",
    "前进路",
    "友谊路",
    "团结路",
    "振兴路",
]
CHANNELS = [
    ("visit", 30),
    ("letter", 12),
    ("phone", 15),
    ("online", 35),
    ("collective_visit", 2),
    ("leader_day", 1),
    ("email", 3),
    ("from_above", 2),
]
SUMMARIES = [
    "反映小区物业费上涨问题",
    "反映拖欠工资问题",
    "反映道路积水问题",
    "反映噪声扰民问题",
    "反映征地补偿问题",
    "反映房屋漏水维修问题",
    "反映低保待遇问题",
    "反映违章建筑问题",
    "建议增设公交线路",
    "反映学校入学问题",
]
OPEN = {"registered", "assigned", "forwarded", "signed", "accepted", "returned"}
REPLY_STATES = {
    "replied",
    "evaluated",
    "review_requested",
    "reviewed",
    "rereview_requested",
    "final",
}


def id_number(index: int) -> str:
    """A valid 18-character resident ID, unique per index (< ID_SPACE)."""
    from xinfang.core.idcard import id_check_digit

    x = (index * ID_MULT) % ID_SPACE
    region = REGIONS[x // (ID_SPACE_DAYS * 1000)]
    day = dt.date(1940, 1, 1) + dt.timedelta(days=(x // 1000) % ID_SPACE_DAYS)
    body = f"{region}{day:%Y%m%d}{x % 1000:03d}"
    return body + id_check_digit(body)


def phone(index: int) -> str:
    prefix = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "186", "189")
    return prefix[index % len(prefix)] + f"{(index * 7919 + 12345) % 100_000_000:08d}"


def query_code(index: int) -> str:
    x = (index * QC_MULT + QC_ADD) % QC_SPACE
    out = []
    for _ in range(10):
        out.append(QC_ALPHABET[x & 31])
        x >>= 5
    return "".join(out)


def person_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.002:
        return rng.choice(MINORITY)
    surname = (
        rng.choice(COMPOUND) if r < 0.01 else SURNAMES[int(len(SURNAMES) * rng.random() ** 1.6)]
    )
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return surname + given


def address(rng: random.Random) -> str:
    street, places = rng.choice(STREETS)
    return (
        f"示范区{street}{rng.choice(places)}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
        f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    )


class Writer:
    """Bulk rows into a table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.pg = connection.vendor == "postgresql"

    def when(self, moment: dt.datetime) -> Any:
        # SQLite stores naive UTC text; PostgreSQL takes the aware value.
        return moment if self.pg else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(self, d: dt.date | None) -> Any:
        return d if (self.pg or d is None) else d.isoformat()

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        quoted = ", ".join(f'"{c}"' for c in columns)
        with self.connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor
                with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', list(rows))


def defaults(model: Any, given: set[str]) -> tuple[list[str], list[Any]]:
    """Columns of ``model`` the generator does not set, with their defaults (fields other
    helpers add later get their default, so the generator keeps working)."""
    from django.db import connection

    cols, values = [], []
    for f in model._meta.concrete_fields:
        if f.column in given or f.primary_key:
            continue
        value = f.get_default()
        if value is None and not f.null:
            value = ""
        prep = f.get_db_prep_save(value, connection)
        cols.append(f.column)
        values.append(prep)
    return cols, values


def ensure_org() -> dict[str, Any]:
    """The unit tree and the two bench users (idempotent)."""
    from django.contrib.auth.models import User

    from xinfang.org import roles as R
    from xinfang.org.models import Membership, Role, Unit, UnitType

    def unit(name: str, kind: str, parent: Any, code: str = "", office: bool = False) -> Any:
        found = Unit.objects.filter(name=name, parent=parent).first()
        return found or Unit.objects.create(
            name=name,
            unit_type=kind,
            parent=parent,
            division_code=code,
            is_petition_office=office,
        )

    district = unit("示范区", UnitType.DISTRICT, None, "110105")
    office = unit("区信访局", UnitType.DEPARTMENT, district, office=True)
    streets = [
        unit(name, UnitType.STREET, district, f"110105{i + 1:03d}", office=True)
        for i, (name, _) in enumerate(STREETS)
    ]
    depts = [unit(n, UnitType.DEPARTMENT, district) for n in ("区住房和城乡建设局", "区人社局")]

    def user(username: str, at: Any, role: str) -> Any:
        found = User.objects.filter(username=username).first()
        if found:
            return found
        u = User.objects.create_user(username, password="Xf-bench-1")
        Membership.objects.create(user=u, unit=at, role=Role.objects.get(code=role))
        return u

    return {
        "district": district,
        "office": office,
        "streets": streets,
        "depts": depts,
        "office_user": user("bench_office", office, R.CASE_OFFICER),
        "street_user": user("bench_street", streets[0], R.HANDLER),
    }


def _initials_map() -> dict[str, str]:
    from pypinyin import Style, lazy_pinyin

    chars = set(SURNAMES + GIVEN + "".join(COMPOUND) + "".join(MINORITY))
    return {c: lazy_pinyin(c, style=Style.FIRST_LETTER)[0].lower() for c in chars}


def generate(
    persons: int, cases: int, *, progress: Callable[[str], Any] = print
) -> dict[str, float]:
    """Fill up to ``persons`` persons and ``cases`` cases (continuing a partial run)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from xinfang.cases.models import Case, CaseEvent, CasePetitioner, Category, Deadline
    from xinfang.people import pii
    from xinfang.people.models import Petitioner

    org = ensure_org()
    w = Writer()
    initials = _initials_map()
    timings: dict[str, float] = {}

    # --- persons -------------------------------------------------------------------------
    have = Petitioner.objects.count()
    started = time.monotonic()
    p_cols = [
        "id",
        "name",
        "name_initials",
        "id_type",
        "id_number_enc",
        "id_number_bidx",
        "id_tail_bidx",
        "sex",
        "birth_date",
        "age_band",
        "phone_enc",
        "phone_bidx",
        "address",
        "education",
        "occupation",
        "ethnic_group",
        "created_at",
    ]
    extra_cols, extra_vals = defaults(Petitioner, set(p_cols))
    now = timezone.now()
    for chunk in range(have // CHUNK, (persons + CHUNK - 1) // CHUNK):
        rng = random.Random(1000 + chunk)
        rows = []
        for i in range(chunk * CHUNK, min(persons, (chunk + 1) * CHUNK)):
            name = person_name(rng)
            ini = "".join(initials.get(c, "") for c in name if c != "·")[:20]
            number = id_number(i) if rng.random() < 0.9 else None
            tel = phone(i) if rng.random() < 0.95 else ""
            idc = pii.id_columns(number)
            phc = pii.phone_columns(tel)
            birth = (
                dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
                if number
                else None
            )
            sex = ("M" if int(number[16]) % 2 else "F") if number else ""
            rows.append(
                (
                    i + 1,
                    name,
                    ini,
                    "resident",
                    idc["id_number_enc"],
                    idc["id_number_bidx"],
                    idc["id_tail_bidx"],
                    sex,
                    w.day(birth),
                    "",
                    phc["phone_enc"],
                    phc["phone_bidx"],
                    address(rng),
                    "",
                    "",
                    "汉族",
                    w.when(now),
                    *extra_vals,
                )
            )
        with transaction.atomic():
            w.write(Petitioner._meta.db_table, p_cols + extra_cols, rows)
        progress(
            f"  persons {min(persons, (chunk + 1) * CHUNK):,}/{persons:,} "
            f"({time.monotonic() - started:.0f} s)"
        )
    timings["persons_s"] = time.monotonic() - started

    # --- cases, links, deadlines, events ----------------------------------------------------
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _bulkseed import BY_AGE, ROUTED

    n_persons = Petitioner.objects.count()
    frequent = max(1, n_persons // 20)
    level3 = list(Category.objects.filter(level=3).values_list("id", flat=True)) or [None]
    offices = [org["office"], *org["streets"]]
    prefixes = [o.effective_division_code() for o in offices]
    handlers = org["streets"] + org["depts"]
    registrar = org["office_user"].pk
    c_cols = [
        "id",
        "number",
        "query_code",
        "channel",
        "purpose",
        "category_id",
        "place_code",
        "place_name",
        "summary",
        "content",
        "received_at",
        "status",
        "office_unit_id",
        "handling_unit_id",
        "registered_by_id",
        "registered_at",
        "closed_at",
        "updated_at",
        "accused_text",
    ]
    c_extra_cols, c_extra_vals = defaults(Case, set(c_cols))
    l_cols = ["id", "case_id", "petitioner_id", "role", "order"]
    d_cols = ["id", "case_id", "kind", "started_on", "due_on", "met_at", "cancelled_at", "paused"]
    e_cols = [
        "id",
        "case_id",
        "kind",
        "actor_id",
        "actor_unit_id",
        "at",
        "from_status",
        "to_status",
        "text",
        "data",
    ]
    have = Case.objects.count()
    started = time.monotonic()
    span_days = 3 * 365
    for chunk in range(have // CHUNK, (cases + CHUNK - 1) // CHUNK):
        rng = random.Random(5000 + chunk)
        crow, lrow, drow, erow = [], [], [], []
        for i in range(chunk * CHUNK, min(cases, (chunk + 1) * CHUNK)):
            cid = i + 1
            # numbers unique per office prefix: the sequence is the case index / offices
            # (gap-free per prefix and year is the registration service's job, not needed here)
            office = offices[i % len(offices)]
            age = span_days * (1 - rng.random() ** 0.8)
            received = now - dt.timedelta(days=age, minutes=rng.randint(0, 600))
            year = received.year
            number = f"XF-{prefixes[i % len(offices)]}-{year}-{i // len(offices) + 1:06d}"
            status = rng.choices(
                *zip(*next(ws for lim, ws in BY_AGE if age <= lim).items(), strict=True)
            )[0]
            handling = rng.choice(handlers) if status in ROUTED else None
            purpose = (
                "accusation"
                if rng.random() < 0.03
                else rng.choice(["appeal", "appeal", "suggestion"])
            )
            channel = rng.choices([c for c, _ in CHANNELS], [w_ for _, w_ in CHANNELS])[0]
            street, places = rng.choice(STREETS)
            crow.append(
                (
                    cid,
                    number,
                    query_code(i),
                    channel,
                    purpose,
                    rng.choice(level3),
                    "110105",
                    f"{street}{rng.choice(places)}",
                    rng.choice(SUMMARIES),
                    "",
                    w.when(received),
                    status,
                    office.pk,
                    handling.pk if handling else None,
                    registrar,
                    w.when(received),
                    w.when(received + dt.timedelta(days=40))
                    if status in ("closed", "final")
                    else None,
                    w.when(now),
                    "",
                    *c_extra_vals,
                )
            )
            first = (
                rng.randrange(frequent) if rng.random() < 0.15 else rng.randrange(n_persons)
            ) + 1
            lrow.append((len(lrow) + chunk * CHUNK * 2 + 1, cid, first, "principal", 0))
            if rng.random() < 0.1:
                second = rng.randrange(n_persons) + 1
                if second != first:
                    lrow.append((len(lrow) + chunk * CHUNK * 2 + 1, cid, second, "cosigner", 1))
            if status in OPEN:
                start = received.date()
                kind = "route" if status in ("registered", "returned") else "handle"
                due = start + dt.timedelta(days=15 if kind == "route" else 60)
                drow.append(
                    (
                        chunk * CHUNK + len(drow) + 1,
                        cid,
                        kind,
                        w.day(start),
                        w.day(due),
                        None,
                        None,
                        False,
                    )
                )
            if status in REPLY_STATES or (status == "closed" and rng.random() < 0.2):
                at = received + dt.timedelta(days=rng.randint(20, 55))
                erow.append(
                    (
                        chunk * CHUNK + len(erow) + 1,
                        cid,
                        "reply",
                        registrar,
                        handling.pk if handling else office.pk,
                        w.when(at),
                        "accepted",
                        "replied",
                        f"经调查核实，{rng.choice(SUMMARIES)[2:]}已按政策处理，答复如下：……",
                        "{}",
                    )
                )
        with transaction.atomic():
            w.write(Case._meta.db_table, c_cols + c_extra_cols, crow)
            w.write(CasePetitioner._meta.db_table, l_cols, lrow)
            w.write(Deadline._meta.db_table, d_cols, drow)
            w.write(CaseEvent._meta.db_table, e_cols, erow)
        progress(
            f"  cases {min(cases, (chunk + 1) * CHUNK):,}/{cases:,} "
            f"({time.monotonic() - started:.0f} s)"
        )
    timings["cases_s"] = time.monotonic() - started
    from xinfang.cases.models import CaseCounter

    for code in prefixes:  # the counters registration keeps (the lookup reads their codes)
        for year in range(now.year - 3, now.year + 1):
            CaseCounter.objects.update_or_create(
                code=code, year=year, defaults={"last": cases // len(offices) + 1}
            )
    started = time.monotonic()
    with connection.cursor() as cursor:
        if w.pg:
            for model in (Petitioner, Case, CasePetitioner, Deadline, CaseEvent):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
                )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    timings["analyze_s"] = time.monotonic() - started
    return timings


if __name__ == "__main__":
    print("bench/gen_people.py: the data generator of bench_lookup.py; nothing to run.")
