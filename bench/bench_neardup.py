"""Near-duplicates (MinHash-LSH): evaluation tables, signature throughput, and candidate lookup
latency against 100k / 1M stored signatures on a real database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xf_bench_dup \\
        .venv/bin/python bench/bench_neardup.py [--sizes 100000,1000000] [--db postgres|sqlite]
        [--no-eval] [--queries 500]

* Evaluation: ``neardup_eval.report`` on the Teddy 2020 train/replies/hot texts (tables as in
  docs/intel.md).
* Scale: the 538 real originals are stored as cases (through ``neardup.case_link``), then filler
  cases up to each size: texts made of 3–8 random sentences of the real corpus (so fillers share
  sentences with each other and with the originals, as real messages on common topics do) plus a
  random street/number. Case rows are cloned from one template row with SQL; signatures and band
  keys are computed with the product's functions and written with COPY (PostgreSQL) or
  ``bulk_create`` (SQLite). Beyond ``--text-fill`` (default 100,000) signatures, fillers get
  uniformly random signatures (PostgreSQL only; computing 900k text signatures does not fit a
  bench run on this shared machine): the bucket index reaches its full size, but collisions
  with the queries come only from the first 100k, so candidates/query is a lower bound there.
  Queries are ``light`` perturbations of the real originals.
* Measured per query: the lookup (candidates by band keys + signatures + estimates, the read path
  of ``case_link``) and the full ``case_link`` of a new case (locks, writes, event) in a
  transaction that is rolled back. Recall/false links at scale are printed beside the latency.

The database is the bench database of ``_benchdb`` (``XINFANG_BENCH_DB``, default
``xf_bench_dup`` here), created and dropped by the script. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xinfang.intel.minhash import Fingerprint

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "teddy2020"
FILES = ("train.jsonl", "replies.jsonl", "hot.jsonl")


def load_records(data: Path) -> list[dict]:
    records: list[dict] = []
    for name in FILES:
        path = data / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                rec["_source"] = path.stem
                records.append(rec)
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--db", default="postgres", choices=["postgres", "sqlite"])
    ap.add_argument("--sizes", default="100000", help="e.g. 100000,1000000 for the issue's figure")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--seed", type=int, default=20200)
    ap.add_argument(
        "--text-fill",
        type=int,
        default=100_000,
        help="up to this many signatures fillers are real-text collages; above, random signatures",
    )
    args = ap.parse_args()
    records = load_records(args.data)
    if not records:
        print(f"数据文件不存在，跳过：{args.data}")
        return
    os.environ.setdefault("XINFANG_BENCH_DB", "xf_bench_dup")
    import _benchdb

    label = _benchdb.setup(args.db)
    from xinfang.intel import neardup_eval

    print(f"# Near-duplicates — {label}\n")
    if not args.no_eval:
        print("## Evaluation (no database)\n")
        es = neardup_eval.report(records, seed=args.seed)
    else:
        es = neardup_eval.build_set(records, seed=args.seed, types=("light",))
    sizes = [int(s) for s in args.sizes.split(",") if s]
    scale(es, sizes, args.queries, args.seed, args.text_fill)


def _template_case():  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User
    from django.utils import timezone

    from xinfang.cases.models import Case
    from xinfang.org.models import Unit, UnitType

    unit = Unit.objects.create(
        name="基准区信访局", unit_type=UnitType.DISTRICT, division_code="990000"
    )
    user = User.objects.create_user("bench_dup")
    now = timezone.now()
    return Case.objects.create(
        number="BENCH-T",
        query_code="BENCHT",
        channel="online",
        purpose="appeal",
        summary="基准",
        content="",
        received_at=now,
        office_unit=unit,
        registered_by=user,
        registered_at=now,
    )


def _clone_cases(template_id: int, start: int, count: int) -> list[int]:
    """``count`` new case rows copied from the template, numbered from ``start``."""
    from django.db import connection

    from xinfang.cases.models import Case

    cols = [
        f.column
        for f in Case._meta.concrete_fields
        if f.column not in ("id", "number", "query_code", "idempotency_key")
    ]
    col_sql = ", ".join(f'"{c}"' for c in cols)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f'INSERT INTO cases_case ({col_sql}, "number", "query_code") '
                f"SELECT {col_sql}, 'BN-' || g, 'BQ' || g FROM cases_case, "
                f"generate_series(%s, %s) AS g WHERE id = %s RETURNING id",
                [start, start + count - 1, template_id],
            )
        else:
            cur.execute(
                f'INSERT INTO cases_case ({col_sql}, "number", "query_code") '
                f"WITH RECURSIVE s(g) AS (SELECT %s UNION ALL SELECT g + 1 FROM s WHERE g < %s) "
                f"SELECT {col_sql}, 'BN-' || g, 'BQ' || g FROM cases_case, s WHERE id = %s "
                f"RETURNING id",
                [start, start + count - 1, template_id],
            )
        return sorted(r[0] for r in cur.fetchall())


def _write_signatures(rows: list[tuple[int, Fingerprint]]) -> None:
    """(case id, Fingerprint) → CaseSignature + LshBucket rows (COPY on PostgreSQL)."""
    from django.db import connection
    from django.utils import timezone

    from xinfang.intel import minhash
    from xinfang.intel.models import CaseSignature, LshBucket
    from xinfang.intel.neardup import MIN_SHINGLES

    now = timezone.now()
    if connection.vendor == "postgresql":
        # COPY text format, built as whole buffers (write_row per row was the bottleneck).
        stamp = now.isoformat()
        sig_buf = "".join(
            f"{cid}\t{minhash.PARAMS_TAG}\t\\\\x{minhash.to_bytes(fp.sig).hex()}\t"
            f"{fp.n_shingles}\t{stamp}\n"
            for cid, fp in rows
        )
        bucket_buf = "".join(
            f"{k}\t{cid}\n"
            for cid, fp in rows
            if fp.n_shingles >= MIN_SHINGLES
            for k in fp.keys.tolist()
        )
        with connection.cursor() as cur:
            raw = cur.connection
            with raw.cursor().copy(
                "COPY intel_casesignature (case_id, params, signature, n_shingles, computed_at)"
                " FROM STDIN"
            ) as copy:
                copy.write(sig_buf)
            with raw.cursor().copy("COPY intel_lshbucket (key, case_id) FROM STDIN") as copy:
                copy.write(bucket_buf)
        return
    CaseSignature.objects.bulk_create(
        [
            CaseSignature(
                case_id=cid,
                params=minhash.PARAMS_TAG,
                signature=minhash.to_bytes(fp.sig),
                n_shingles=fp.n_shingles,
                computed_at=now,
            )
            for cid, fp in rows
        ],
        batch_size=2000,
    )
    LshBucket.objects.bulk_create(
        [
            LshBucket(key=k, case_id=cid)
            for cid, fp in rows
            if fp.n_shingles >= MIN_SHINGLES
            for k in fp.keys.tolist()
        ],
        batch_size=5000,
    )


def _random_fill(template_id: int, start_no: int, n: int, seed: int) -> None:
    """``n`` cases with uniformly random signatures (PostgreSQL, binary COPY): the index grows to
    its full size cheaply; candidate collisions with the queries are underestimated (see doc)."""
    import struct

    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from xinfang.intel import minhash

    rng = np.random.default_rng(seed)
    stamp = timezone.now().isoformat()
    bucket_dt = np.dtype([("n", ">i2"), ("l1", ">i4"), ("k", ">i8"), ("l2", ">i4"), ("c", ">i8")])
    done = 0
    while done < n:
        m = min(50_000, n - done)
        with transaction.atomic():
            ids = np.array(_clone_cases(template_id, start_no + done, m), dtype=np.int64)
            sigs = rng.integers(0, 2**32, size=(m, minhash.NUM_PERM), dtype=np.uint64).astype(
                np.uint32
            )
            keys = minhash.band_keys_batch(sigs)
            sig_buf = "".join(
                f"{cid}\t{minhash.PARAMS_TAG}\t\\\\x{row.astype('<u4').tobytes().hex()}\t100\t{stamp}\n"
                for cid, row in zip(ids.tolist(), sigs, strict=True)
            )
            arr = np.empty(m * minhash.BANDS, dtype=bucket_dt)
            arr["n"], arr["l1"], arr["l2"] = 2, 8, 8
            arr["k"] = keys.ravel()
            arr["c"] = np.repeat(ids, minhash.BANDS)
            payload = (
                b"PGCOPY\n\xff\r\n\x00"
                + struct.pack(">ii", 0, 0)
                + arr.tobytes()
                + struct.pack(">h", -1)
            )
            with connection.cursor() as cur:
                raw = cur.connection
                with raw.cursor().copy(
                    "COPY intel_casesignature (case_id, params, signature, n_shingles,"
                    " computed_at) FROM STDIN"
                ) as copy:
                    copy.write(sig_buf)
                with raw.cursor().copy(
                    "COPY intel_lshbucket (key, case_id) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(payload)
        done += m
        print(f"\r  random-filled {done:,}/{n:,}", end="", file=sys.stderr, flush=True)


def _filler_texts(originals: list[str], rnd: random.Random):  # type: ignore[no-untyped-def]
    import re

    sentences = [
        s for t in originals for s in re.split(r"(?<=[。！？!?；;])", t) if 8 <= len(s) <= 200
    ]
    streets = ["东湖街道", "西山街道", "南塘镇", "北岭乡", "梅溪湖", "桂花坪", "洋湖", "望城"]
    while True:
        parts = rnd.sample(sentences, rnd.randint(3, 8))
        yield f"{rnd.choice(streets)}{rnd.randint(1, 999)}号" + "".join(parts)


def scale(es, sizes: list[int], n_queries: int, seed: int, text_fill: int) -> None:  # type: ignore[no-untyped-def]
    from _benchdb import summary_ms, table
    from django.db import connection, transaction

    from xinfang.cases.models import Case
    from xinfang.intel import minhash, neardup
    from xinfang.intel.models import CaseSignature, LshBucket

    rnd = random.Random(seed)
    template = _template_case()
    # The real originals first, through the product's own linking.
    orig_ids = _clone_cases(template.pk, 1, len(es.originals))
    id_of = dict(zip(range(len(es.originals)), orig_ids, strict=True))
    for i, text in enumerate(es.originals):
        Case.objects.filter(pk=id_of[i]).update(content=text)
        neardup.case_link(Case.objects.get(pk=id_of[i]), record_event=False)
    queries = [(src, text) for kind, src, text in es.queries if kind == "light"]
    rnd.shuffle(queries)
    queries = queries[:n_queries]
    fillers = _filler_texts(es.originals, rnd)
    stored = len(orig_ids)
    next_no = stored + 1
    headers = [
        "signatures",
        "bucket rows",
        "lookup p50 ms",
        "lookup p95 ms",
        "lookup p99 ms",
        "case_link p50 ms",
        "case_link p95 ms",
        "candidates/query",
        "found source",
        "false links",
        "filler signatures/s",
        "seed s (step)",
    ]
    print(f"\n## Lookup at scale ({connection.vendor}, {len(queries)} light-edit queries)\n")
    print(table(headers, []), flush=True)
    for size in sizes:
        t0 = time.perf_counter()
        sig_seconds = 0.0
        step_start = stored
        # A big step loads faster without the key index; it is rebuilt before measuring.
        rebuild_index = connection.vendor == "postgresql" and size - stored > 200_000
        if rebuild_index:
            with connection.cursor() as cur:
                cur.execute("DROP INDEX intel_lsh_key")
        if stored < size and stored >= text_fill and connection.vendor == "postgresql":
            _random_fill(template.pk, next_no, size - stored, seed + size)
            next_no += size - stored
            stored = size
        while stored < size:
            n = min(20_000, size - stored)
            ids = _clone_cases(template.pk, next_no, n)
            next_no += n
            t1 = time.perf_counter()
            fps = [(cid, minhash.fingerprint([next(fillers)])) for cid in ids]
            sig_seconds += time.perf_counter() - t1
            with transaction.atomic():
                _write_signatures(fps)
            stored += n
            print(f"\r  seeded {stored:,}/{size:,}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if rebuild_index:
            with connection.cursor() as cur:
                cur.execute("CREATE INDEX intel_lsh_key ON intel_lshbucket (key)")
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE intel_lshbucket; ANALYZE intel_casesignature")
        seed_s = time.perf_counter() - t0
        # Lookup: the read path of case_link.
        lookups, n_cand, hits, false_links = [], 0, 0, 0
        for src, text in queries:
            fp = minhash.fingerprint([text])
            t1 = time.perf_counter()
            best = neardup._best_match(-1, fp)
            lookups.append(time.perf_counter() - t1)
            n_cand += len(neardup._candidate_signatures(-1, [int(k) for k in fp.keys]))
            if best is not None:
                if best[0] == id_of[src] or any(
                    best[0] == id_of[d] for d in es.dup_of.get(src, ())
                ):
                    hits += 1
                else:
                    false_links += 1
        # Full case_link of a new case (rolled back, so the size stays as stated).
        links: list[float] = []
        for _src, text in queries[:100]:
            with transaction.atomic():
                (cid,) = _clone_cases(template.pk, 10_000_000 + len(links), 1)
                Case.objects.filter(pk=cid).update(content=text)
                case = Case.objects.get(pk=cid)
                t1 = time.perf_counter()
                neardup.case_link(case)
                links.append(time.perf_counter() - t1)
                transaction.set_rollback(True)
        lk, ln = summary_ms(lookups), summary_ms(links)
        n_sigs = CaseSignature.objects.count()
        row = [
            f"{n_sigs:,}",
            f"{LshBucket.objects.count():,}",
            round(lk["p50"], 2),
            round(lk["p95"], 2),
            round(lk["p99"], 2),
            round(ln["p50"], 2),
            round(ln["p95"], 2),
            round(n_cand / len(queries), 1),
            f"{hits}/{len(queries)}",
            false_links,
            round((stored - step_start) / sig_seconds) if sig_seconds else "—",
            round(seed_s),
        ]
        print(table(headers, [row]).splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
