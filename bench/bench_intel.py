"""Routing classifier: 5-fold CV figures, training time, per-message latency, model size, load time
and peak RSS, for a labelled JSON-lines file (default: the Teddy Cup 2020 C training file).

    .venv/bin/python bench/bench_intel.py [--data FILE.jsonl] [--folds 5] [--latency-n 1000]

No database. Prints markdown tables (the same as ``manage.py intel_eval``) plus a latency row for
the bad inputs (empty, 50,000 characters, …). Nothing is asserted: the numbers are for
docs/intel.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The checkout sits beside the team's shared/ folder (../shared/data/teddy2020).
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "teddy2020" / "train.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--latency-n", type=int, default=1000)
    args = ap.parse_args()
    if not args.data.exists():
        print(f"数据文件不存在，跳过：{args.data}（用 --data 指定 train.jsonl）")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    os.environ.setdefault("XINFANG_ALLOW_DEV_SECRET", "1")
    import django

    django.setup()
    from xinfang.intel.evaluate import cross_validate, measure_cost
    from xinfang.intel.jsonl import read_jsonl

    with args.data.open("rb") as f:
        records = read_jsonl(f)
    print(f"# Routing classifier — {args.data} ({len(records)} records)\n")
    t0 = time.perf_counter()
    report = cross_validate(records, folds=args.folds)
    cv_seconds = time.perf_counter() - t0
    model = measure_cost(records, report, latency_n=args.latency_n)
    print(report.markdown())
    print(f"CV wall time ({args.folds} trainings): {cv_seconds:.1f} s\n")
    # Wall-clock latency includes waiting for a core on a shared machine; CPU time of this
    # thread is what the prediction itself costs. Both, for the same single-message calls.
    cpu = []
    for i in range(args.latency_n):
        s = time.thread_time()
        model.predict_matrix([records[i % len(records)]])
        cpu.append((time.thread_time() - s) * 1000)
    cpu.sort()
    p50, p95 = cpu[len(cpu) // 2], cpu[int(len(cpu) * 0.95)]
    load = os.getloadavg()[0]
    print("| latency (CPU time of the thread) | p50 | p95 | max | load average |")
    print("|---|---:|---:|---:|---:|")
    row = f"{p50:.3f} ms | {p95:.3f} ms | {cpu[-1]:.3f} ms | {load:.1f}"
    print(f"| one message per call | {row} |\n")

    bad: list[dict[str, object]] = [
        {"id": "empty", "title": "", "text": ""},
        {"id": "punct", "title": "？？", "text": "！！！……。。。"},
        {"id": "50k", "title": "噪音", "text": "小区楼下烧烤店深夜噪音扰民，" * 3572},
        {"id": "trad", "title": "關於小區垃圾處理的問題", "text": "環境衛生很差，請相關部門處理。"},
        {"id": "english", "title": "Road repair", "text": "The road near the school is broken"},
        {"id": "emoji", "title": "😡", "text": "🚧🚧 路坏了 🙏"},
        {"id": "no-title", "text": "孩子上学的学区划分不合理"},
    ]
    print("## Bad input (one message per call)\n")
    print("| input | label | top score | latency |")
    print("|---|---|---:|---:|")
    for rec in bad:
        s = time.perf_counter()
        row = model.predict_matrix([rec])[0]
        ms = (time.perf_counter() - s) * 1000
        print(
            f"| {rec['id']} | {model.labels[int(row.argmax())]} | {row.max():.2f} | {ms:.2f} ms |"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS: {rss:.0f} MiB · model version {model.version}")
    print("Model meta:", json.dumps(model.meta.get("config"), ensure_ascii=False))


if __name__ == "__main__":
    main()
