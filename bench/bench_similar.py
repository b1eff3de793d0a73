"""Similar cases (相似案件) at scale: ``similar_cases`` end to end over up to 1,000,000 cases.

    .venv/bin/python bench/bench_similar.py [--db sqlite|postgres] [--rows 100000]
        [--queries 1000] [--data /work/shared/data/teddy2020] [--keep] [--reuse] [--profile N]

    # the issue's figure (≈ 30 min on this machine):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xf_bench_sim \
        .venv/bin/python bench/bench_similar.py --db postgres --rows 1000000 --keep

Fixture (bulk_create, not the services — a million registrations would take hours): a
district with a petition office and 6 streets (a handler in each), categories, rows/5
petitioners (1,000 of them share 5 % of the cases), ``--rows`` cases whose texts are the real
citizen messages of ``--data`` (train/replies/hot ``.jsonl``) recombined: sentences dropped,
reordered and spliced from other messages of the same label, place names, dates and numbers
replaced. 10 % of the real messages are held out of the fixture. About 30 % of the cases have a
``reply`` event (texts of the real official replies). Database: ``DATABASE_URL``'s server,
database ``xf_bench_sim`` (``XINFANG_BENCH_DB``), dropped at exit unless ``--keep``;
``--reuse`` runs the queries on a kept database.

Measured: fixture time; vector fill (``vectors_fill``: tokenise + persist, rows/s); index load
(in-memory index from the persisted vectors, rows/s, its memory); then ``--queries`` queries —
real held-out messages verbatim and fresh variants of indexed ones (never an indexed text),
half with petitioner/place/category — as the district office desk (sees everything) and 20 % as
a street handler (sees a sixth): latency of ``similar_cases`` end to end (index catch-up query,
candidate search, visibility filter with vectors, exact re-rank, cases and replies), of the
index search alone, throughput, and process RSS. Target: p95 ≤ 50 ms at 1,000,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchdb as B

DATA = Path("/work/shared/data/teddy2020")
BATCH = 5000
STREETS = ["东湖街道", "西山街道", "南岭镇", "北关街道", "青石乡", "滨江街道"]
PLACES = ["景蓉华苑", "桂花坪", "金色家园", "梅溪湖", "星城花园", "望月湖", "枫林小区", "石门村"]
SENT_RE = re.compile(r"(?<=[。！？；!?;])")
TARGET_MS = 50.0


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_messages(data: Path) -> tuple[list[dict[str, Any]], list[str]]:
    messages, replies = [], []
    for name in ("train.jsonl", "replies.jsonl", "hot.jsonl"):
        path = data / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            text = (rec.get("text") or "").strip()
            if len(text) >= 10:
                messages.append(
                    {
                        "title": (rec.get("title") or "").strip(),
                        "text": text,
                        "label": rec.get("label") or "其他",
                    }
                )
            if rec.get("reply"):
                replies.append(str(rec["reply"])[:600])
    if not messages:
        raise SystemExit(f"no messages under {data}")
    return messages, replies or ["经调查核实，已责成相关单位依法处理，并将结果告知信访人。"]


class Variator:
    """Recombines real messages into new, realistic ones (never a verbatim copy)."""

    def __init__(self, messages: list[dict[str, Any]], rng: random.Random) -> None:
        self.rng = rng
        self.messages = messages
        self.sentences = [[s for s in SENT_RE.split(m["text"]) if s.strip()] for m in messages]
        self.by_label: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            self.by_label.setdefault(m["label"], []).append(i)

    def _swap(self, text: str) -> str:
        rng = self.rng
        text = re.sub(r"A\d*区|A市", lambda _: rng.choice(STREETS), text)
        text = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", lambda _: self.date(), text)
        text = re.sub(r"\d+(?:\.\d+)?", lambda _: str(rng.randint(2, 980)), text)
        return text.replace(rng.choice(PLACES), rng.choice(PLACES))

    def date(self) -> str:
        r = self.rng
        return f"{r.randint(2019, 2026)}年{r.randint(1, 12)}月{r.randint(1, 28)}日"

    def make(self, base: int) -> tuple[str, str, str]:
        rng = self.rng
        msg = self.messages[base]
        sents = list(self.sentences[base]) or [msg["text"]]
        if len(sents) > 2 and rng.random() < 0.6:
            sents.pop(rng.randrange(len(sents)))
        if len(sents) > 2 and rng.random() < 0.3:
            i = rng.randrange(len(sents) - 1)
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
        if rng.random() < 0.5:
            other = rng.choice(self.by_label[msg["label"]])
            extra = self.sentences[other]
            if extra:
                sents.insert(rng.randrange(len(sents) + 1), rng.choice(extra))
        lead = f"{rng.choice(STREETS)}{rng.choice(PLACES)}居民反映：" if rng.random() < 0.5 else ""
        text = self._swap(lead + "".join(sents))
        title = self._swap(msg["title"] or text[:20])[:280]
        return title, text, msg["label"]


def build_org() -> dict[str, Any]:
    from django.contrib.auth.models import User

    from xinfang.cases.models import Category
    from xinfang.org import roles as R
    from xinfang.org.models import Membership, Role, Unit, UnitType

    district = Unit.objects.create(
        name="示范区", unit_type=UnitType.DISTRICT, division_code="110105"
    )
    office = Unit.objects.create(
        name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district, is_petition_office=True
    )
    streets = [
        Unit.objects.create(
            name=name,
            unit_type=UnitType.STREET,
            parent=district,
            division_code=f"110105{i + 1:03d}",
        )
        for i, name in enumerate(STREETS)
    ]

    def user(name: str, unit: Any, role: str) -> Any:
        u = User.objects.create_user(name, password="Bench-pass-1")
        Membership.objects.create(user=u, unit=unit, role=Role.objects.get(code=role))
        return u

    desk = user("desk", office, R.RECEPTIONIST)
    handlers = [user(f"handler{i}", s, R.HANDLER) for i, s in enumerate(streets)]
    cats: dict[str, list[int]] = {}
    for label in [
        "交通运输",
        "劳动和社会保障",
        "卫生计生",
        "商贸旅游",
        "城乡建设",
        "教育文体",
        "环境保护",
        "其他",
    ]:
        top = Category.objects.create(name=label, level=1, full_name=label)
        mids = [
            Category.objects.create(
                name=f"{label}{j}", parent=top, level=2, full_name=f"{label}/{j}"
            )
            for j in range(3)
        ]
        cats[label] = [
            Category.objects.create(
                name=f"{m.name}-{k}", parent=m, level=3, full_name=f"{m.full_name}/{k}"
            ).pk
            for m in mids
            for k in range(3)
        ]
    return {"office": office, "streets": streets, "desk": desk, "handlers": handlers, "cats": cats}


def seed(org: dict[str, Any], n: int, var: Variator, bases: list[int], replies: list[str]) -> None:
    from django.db import transaction
    from django.utils import timezone

    from xinfang.cases.models import Case, CaseEvent, CasePetitioner
    from xinfang.people.models import Petitioner

    rng = var.rng
    now = timezone.now()
    # About five cases per person on average; 1,000 上访老户 share 5 % of all cases.
    pool = max(1000, n // 5)
    people = Petitioner.objects.bulk_create(
        [Petitioner(name=f"信访人{i}") for i in range(pool)], batch_size=BATCH
    )
    person_ids = [p.pk for p in people]
    frequent = person_ids[:1000]
    desk, office, streets = org["desk"], org["office"], org["streets"]
    started = time.monotonic()
    made = 0
    while made < n:
        size = min(BATCH, n - made)
        cases, links, events = [], [], []
        for i in range(size):
            seq = made + i + 1
            title, text, label = var.make(rng.choice(bases))
            s = rng.randrange(len(streets))
            received = now - dt.timedelta(days=rng.uniform(1, 1500))
            routed = rng.random() < 0.8
            cases.append(
                Case(
                    number=f"XF-110105-B-{seq:07d}",
                    query_code=f"B{seq:09d}",
                    channel=rng.choice(["visit", "letter", "online", "phone"]),
                    purpose="appeal" if rng.random() < 0.97 else "accusation",
                    category_id=rng.choice(org["cats"].get(label) or org["cats"]["其他"]),
                    place_code=f"110105{s + 1:03d}{rng.randint(1, 20):03d}",
                    place_name=f"{STREETS[s]}{rng.choice(PLACES)}",
                    summary=title[:300],
                    content=text,
                    received_at=received,
                    status="closed" if routed else "registered",
                    office_unit=office,
                    handling_unit=streets[s] if routed else None,
                    registered_by=desk,
                    registered_at=received,
                )
            )
        with transaction.atomic():
            Case.objects.bulk_create(cases, batch_size=1000)
            for case in cases:
                pid = rng.choice(frequent if rng.random() < 0.05 else person_ids)
                links.append(CasePetitioner(case=case, petitioner_id=pid))
                if case.status == "closed" and rng.random() < 0.37:
                    events.append(
                        CaseEvent(
                            case=case,
                            kind="reply",
                            at=case.received_at + dt.timedelta(days=rng.uniform(10, 60)),
                            from_status="accepted",
                            to_status="replied",
                            text=rng.choice(replies),
                        )
                    )
            CasePetitioner.objects.bulk_create(links, batch_size=1000)
            CaseEvent.objects.bulk_create(events, batch_size=1000)
        made += size
        rate = made / max(time.monotonic() - started, 1e-9)
        print(f"\r  seeded {made:,}/{n:,} cases ({rate:,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)


def queries(
    var: Variator, held_out: list[int], bases: list[int], count: int, org: dict[str, Any]
) -> list[dict[str, Any]]:
    """Query specs: held-out real messages verbatim, and fresh variants of indexed ones."""
    from xinfang.cases.models import CasePetitioner

    rng = random.Random(99)
    var.rng = rng
    sample_links = list(
        CasePetitioner.objects.order_by("?").values_list("petitioner_id", flat=True)[:2000]
        if count
        else []
    )
    out = []
    for i in range(count):
        if i % 2 == 0 and held_out:
            m = var.messages[rng.choice(held_out)]
            title, text, label = m["title"], m["text"], m["label"]
        else:
            title, text, label = var.make(rng.choice(bases))
        spec: dict[str, Any] = {"title": title, "text": text}
        if i % 4 in (1, 2):
            s = rng.randrange(len(STREETS))
            spec["place_code"] = f"110105{s + 1:03d}{rng.randint(1, 20):03d}"
            spec["category_id"] = rng.choice(org["cats"].get(label) or org["cats"]["其他"])
            if sample_links:
                spec["petitioner_ids"] = [rng.choice(sample_links)]
        spec["user"] = "handler" if i % 5 == 4 else "desk"
        out.append(spec)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="sqlite")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--keep", action="store_true", help="leave the database behind")
    ap.add_argument("--reuse", action="store_true", help="query a kept PostgreSQL database")
    ap.add_argument("--profile", type=int, default=0, help="cProfile this many queries at the end")
    args = ap.parse_args()
    os.environ.setdefault("XINFANG_BENCH_DB", "xf_bench_sim")

    messages, replies = load_messages(args.data)
    rng = random.Random(20260)
    order = list(range(len(messages)))
    rng.shuffle(order)
    held_out = order[: len(order) // 10]
    bases = order[len(order) // 10 :]
    var = Variator(messages, rng)

    timings: dict[str, float] = {}
    if args.reuse:
        if args.db != "postgres":
            raise SystemExit("--reuse needs --db postgres")
        sys.path.insert(0, str(B.ROOT))
        os.environ["XINFANG_ALLOW_DEV_SECRET"] = "1"
        os.environ["DJANGO_SETTINGS_MODULE"] = "xinfang.settings"
        os.environ["DATABASE_URL"] = B._pg_url()[0]
        import django

        django.setup()
        label = "PostgreSQL (reused database)"
    else:
        label = B.setup(args.db, keep=args.keep)

    from django.contrib.auth.models import User

    from xinfang.cases.models import Case
    from xinfang.intel import similar
    from xinfang.intel.similar_index import get_index, reset_index
    from xinfang.org.models import Unit

    org: dict[str, Any]
    if args.reuse:
        org = {
            "desk": User.objects.get(username="desk"),
            "handlers": list(User.objects.filter(username__startswith="handler").order_by("id")),
            "cats": {},
        }
        from xinfang.cases.models import Category

        for c in Category.objects.filter(level=3).select_related("parent__parent"):
            top = c.parent.parent if c.parent else None
            org["cats"].setdefault(top.name if top else "其他", []).append(c.pk)
        org["streets"] = list(Unit.objects.filter(unit_type="street").order_by("id"))
        rows = Case.objects.count()
    else:
        t = time.monotonic()
        org = build_org()
        seed(org, args.rows, var, bases, replies)
        timings["fixture"] = time.monotonic() - t
        rows = args.rows
        t = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 5 or done == total:
                last[0] = time.monotonic()
                rate = done / max(time.monotonic() - t, 1e-9)
                print(f"\r  vectors {done:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr)

        similar.vectors_fill(batch=2000, progress=progress)
        print(file=sys.stderr)
        timings["fill"] = time.monotonic() - t
        from django.db import connection

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load

    reset_index()
    rss_before = rss_mib()[0]
    t = time.monotonic()
    index = get_index()
    index.build()
    timings["load"] = time.monotonic() - t
    rss_after = rss_mib()[0]
    stats = index.stats()

    # Steady state: the catch-up re-reads (narrowly) vectors written in the last OVERLAP
    # seconds; right after a bulk fill that is thousands of rows, so wait it out once.
    from xinfang.intel.similar_index import OVERLAP

    time.sleep(max(0.0, OVERLAP.total_seconds() - timings["load"]) + 1)
    index.catch_up()
    specs = queries(var, held_out, bases, args.queries, org)
    desk = org["desk"]
    handler = org["handlers"][0]
    # Warm-up (first query caches per-user policy data, imports); not measured.
    for spec in specs[:5]:
        similar.similar_cases(desk, title=spec["title"], text=spec["text"])
    e2e: dict[str, list[float]] = {"desk": [], "handler": []}
    idx_only: list[float] = []
    hits_n: list[int] = []
    empty = 0
    started = time.monotonic()
    for spec in specs:
        user = handler if spec["user"] == "handler" else desk
        # A fresh user object per query: nothing cached from the previous request.
        user = User.objects.get(pk=user.pk)
        kwargs = {k: v for k, v in spec.items() if k != "user"}
        t0 = time.perf_counter()
        hits = similar.similar_cases(user, **kwargs)
        e2e[spec["user"]].append(time.perf_counter() - t0)
        hits_n.append(len(hits))
        empty += not hits
    wall = time.monotonic() - started
    from xinfang.intel import vectors as V

    for spec in specs:
        t0 = time.perf_counter()
        terms, counts = V.text_terms(spec["title"], spec["text"])
        index.search(terms, index.query_weights(terms, counts), similar.CANDIDATES)
        idx_only.append(time.perf_counter() - t0)

    # Index maintenance on registration: store a vector, then the next query catches it up.
    new_case = Case.objects.order_by("-pk").first()
    store_t, catch_t = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        similar.case_vector_store(new_case)  # type: ignore[arg-type]
        store_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.catch_up()
        catch_t.append(time.perf_counter() - t0)

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for spec in specs[: args.profile]:
            kwargs = {k: v for k, v in spec.items() if k != "user"}
            similar.similar_cases(User.objects.get(pk=desk.pk), **kwargs)
        prof.disable()
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(30)

    cur, peak = rss_mib()
    print(f"\n## Similar cases — {label}, {rows:,} cases, {len(specs):,} queries\n")
    build_rows = [["fixture (bulk_create)", timings.get("fixture", float("nan")), ""]]
    if "fill" in timings:
        build_rows.append(
            ["vector fill (tokenise + persist)", timings["fill"], f"{rows / timings['fill']:,.0f}"]
        )
    build_rows.append(
        ["index load (from vectors)", timings["load"], f"{rows / timings['load']:,.0f}"]
    )
    print(B.table(["step", "seconds", "rows/s"], build_rows))
    print()
    print(
        B.table(
            [
                "index rows",
                "postings",
                "stop terms",
                "index MiB",
                "RSS before load MiB",
                "RSS after load MiB",
            ],
            [
                [
                    stats["rows"],
                    stats["postings"],
                    stats["stop_terms"],
                    stats["bytes"] / 2**20,
                    rss_before,
                    rss_after,
                ]
            ],
        )
    )
    print()
    lat_rows = []
    for name, values in (
        ("similar_cases, desk (sees all)", e2e["desk"]),
        ("similar_cases, street handler", e2e["handler"]),
        ("similar_cases, all", e2e["desk"] + e2e["handler"]),
        ("index only (tokenise + search)", idx_only),
        ("registration: store vector", store_t),
        ("catch-up of 1 new vector", catch_t),
    ):
        s = B.summary_ms(values)
        lat_rows.append([name, len(values), s["p50"], s["p95"], s["p99"], s["max"]])
    print(B.table(["latency (ms)", "n", "p50", "p95", "p99", "max"], lat_rows))
    all_e2e = e2e["desk"] + e2e["handler"]
    p95 = B.summary_ms(all_e2e)["p95"]
    print()
    print(
        B.table(
            [
                "throughput (queries/s, 1 thread)",
                "mean hits",
                "queries with no hit",
                "RSS now MiB",
                "peak RSS MiB",
                f"p95 ≤ {TARGET_MS:.0f} ms",
            ],
            [
                [
                    len(all_e2e) / wall,
                    sum(hits_n) / max(1, len(hits_n)),
                    empty,
                    cur,
                    peak,
                    "yes" if p95 <= TARGET_MS else "NO",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
