"""Registration throughput: ``case_register`` end to end (petitioners resolved or created, the
gap-free number, flags, the routing deadline and the ``register`` event), one transaction and
one commit per case, as a clerk's form submission does it — and, after the commit, what the
intel receivers do (suggestion event with an active routing model, similarity vector, MinHash
signature and grouping, hotspot terms).

    .venv/bin/python bench/bench_register.py [--db sqlite|postgres|both] [--n 2000] [--threads 2]

Sequential: one process, one connection. Concurrent: ``--threads`` threads, each with its own
connection, registering at the same petition office at once; afterwards every office's numbers
must be unique and gap-free (1..n per number prefix and year). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchdb as B


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _register_all(
    org: Any, plans: list[Any], office_key: str | None = None
) -> tuple[list[float], list[str]]:
    """Register each plan at its own office (or ``office_key``); latencies and errors."""
    from xinfang.cases.registration import case_register

    latencies: list[float] = []
    errors: list[str] = []
    for plan in plans:
        key = office_key or plan.office
        by = org.user("jiedai" if key == "office" else f"jiedai_{key}")
        t0 = time.perf_counter()
        try:
            case_register(by=by, office=org.units[key], reg=plan.reg)
        except Exception as exc:  # counted and reported, the run goes on
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - t0)
    return latencies, errors


def _concurrent(
    org: Any, plans: list[Any], threads: int, offices: list[str]
) -> tuple[float, list[float], list[str]]:
    """``threads`` threads at once, thread i registering at ``offices[i % len(offices)]``."""
    from django.db import connection

    chunks = [plans[i::threads] for i in range(threads)]
    results: list[tuple[list[float], list[str]]] = [([], []) for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = _register_all(org, chunks[i], offices[i % len(offices)])
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    return wall, [x for r in results for x in r[0]], [x for r in results for x in r[1]]


def _row(run: str, n: int, wall: float, latencies: list[float], errors: list[str]) -> list[Any]:
    s = B.summary_ms(latencies)
    return [run, n, wall, n / wall, s["p50"], s["p95"], s["p99"], _peak_rss_mb(), len(errors)]


def _numbers_ok() -> tuple[bool, str]:
    """Every (number prefix, year) numbered 1..n without gaps or duplicates, counters agree.
    Offices without a division code of their own share their ancestor's prefix and sequence."""
    from collections import defaultdict

    from xinfang.cases.models import Case, CaseCounter

    seqs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number in Case.objects.values_list("number", flat=True):
        _xf, code, year, seq = number.rsplit("-", 3)
        seqs[(code, year)].append(int(seq))
    counters = {(c.code, str(c.year)): c.last for c in CaseCounter.objects.all()}
    for key, found in seqs.items():
        if sorted(found) != list(range(1, len(found) + 1)) or counters.get(key) != len(found):
            return (
                False,
                f"prefix {key[0]} year {key[1]}: {len(found)} cases, counter {counters.get(key)}",
            )
    return True, f"{len(seqs)} prefix-years, {sum(len(v) for v in seqs.values())} numbers"


def _with_model() -> str:
    """The active routing model, as in production: every registration then also records the
    model's suggestion (``intel_suggest``) besides indexing the text (after the commit, timed).
    Trained on the bundled data into a temporary directory before anything is timed."""
    import tempfile

    from django.conf import settings

    from xinfang.intel import registry

    settings.INTEL_MODEL_DIR = Path(tempfile.mkdtemp(prefix="xinfang-bench-models-"))
    t0 = time.perf_counter()
    registry.bootstrap()
    loaded = registry.active_model()
    if loaded is None:
        return "no routing model"
    return f"routing model {loaded[1].version[:12]} trained in {time.perf_counter() - t0:.0f} s"


def run(db: str, n: int, threads: int, n_concurrent: int, seed: int) -> None:
    label = B.setup(db)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from xinfang.cases.models import Case
    from xinfang.org.demo import load_org
    from xinfang.org.demo_cases import make_plans

    org = load_org()
    model = _with_model()
    t0 = time.perf_counter()
    plans = make_plans(org, n + n_concurrent + 20, seed, timezone.now())
    print(f"\n### Registration — {label}\n")
    print(
        f"(org: {len(org.units)} units, {len(org.users)} users; {len(plans)} registrations "
        f"planned in {time.perf_counter() - t0:.1f} s, not timed; {model})\n"
    )
    seq_plans, conc_plans, probe = plans[:n], plans[n : n + n_concurrent], plans[-20:]

    t0 = time.perf_counter()
    latencies, errors = _register_all(org, seq_plans)
    rows = [_row("sequential, 1 connection", n, time.perf_counter() - t0, latencies, errors)]
    half = len(conc_plans) // 2
    variants = [
        (f"{threads} threads, same office", conc_plans[:half], ["office"]),
        (f"{threads} threads, different offices", conc_plans[half:], ["office", "dh", "qs"]),
    ]
    for name, chunk, offices in variants if n_concurrent else []:
        wall, lat, errs = _concurrent(org, chunk, threads, offices)
        rows.append(_row(name, len(chunk), wall, lat, errs))
        errors += errs
    with CaptureQueriesContext(connection) as ctx:
        _register_all(org, probe)
    print(
        B.table(
            [
                "run",
                "registrations",
                "total s",
                "cases/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "peak RSS MB",
                "errors",
            ],
            rows,
        )
    )
    ok, detail = _numbers_ok()
    print(
        f"\nSQL statements per registration: {len(ctx.captured_queries) / len(probe):.1f}; "
        f"cases in the database: {Case.objects.count():,}"
    )
    print(f"Numbers unique and gap-free per prefix and year: {'yes' if ok else 'NO'} ({detail})")
    for e in errors[:10]:
        print(f"  error: {e}")
    if not ok or errors:
        sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--n", type=int, default=2000, help="sequential registrations (2000)")
    ap.add_argument("--threads", type=int, default=2, help="threads in the concurrent run (2)")
    ap.add_argument(
        "--n-concurrent",
        type=int,
        default=2000,
        help="registrations in the concurrent runs (half each), 0 to skip (2000)",
    )
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if args.db == "both":
        for db in ("sqlite", "postgres"):
            cmd = [
                sys.executable,
                __file__,
                "--db",
                db,
                "--n",
                str(args.n),
                "--threads",
                str(args.threads),
                "--n-concurrent",
                str(args.n_concurrent),
                "--seed",
                str(args.seed),
            ]
            subprocess.run(cmd, check=True)
        return
    run(args.db, args.n, args.threads, args.n_concurrent, args.seed)


if __name__ == "__main__":
    main()
