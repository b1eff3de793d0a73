"""Personal-data encryption: AES-GCM encrypt/decrypt and HMAC blind indexes per second, and
exact lookup latency through the blind indexes with many petitioners on the table.

    .venv/bin/python bench/bench_crypto.py [--db sqlite|postgres] [--people 100000] [--lookups 2000]

Prints markdown tables. Nothing is asserted: the numbers are for docs/security.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchdb as B


def _rate(fn: Any, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - started)


def _id_number(i: int) -> str:
    from xinfang.core.idcard import id_check_digit

    k = i // 1000  # distinct for every i: 1000 sequence numbers per birth date
    birth = f"{1940 + k // 336}{k // 28 % 12 + 1:02d}{k % 28 + 1:02d}"
    first17 = f"110105{birth}{i % 1000:03d}"
    return first17 + id_check_digit(first17)


def _person(name: str, id_number: str, phone: str) -> Any:
    from xinfang.people.models import Petitioner

    person = Petitioner(name=name)
    person.id_number = id_number or None  # the properties encrypt and index
    person.phone = phone
    return person


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    label = B.setup(args.db)

    from xinfang.core import crypto
    from xinfang.people import pii
    from xinfang.people.models import Petitioner
    from xinfang.people.selectors import with_id_number, with_id_tail, with_phone

    n = 20_000
    value = "11010519491231002X"
    token = crypto.encrypt(value, context=pii.ID_CONTEXT)
    rows = [
        [
            "encrypt (AES-256-GCM, 18 chars)",
            _rate(lambda i: crypto.encrypt(value, context=pii.ID_CONTEXT), n),
        ],
        ["decrypt", _rate(lambda i: crypto.decrypt(token, context=pii.ID_CONTEXT), n)],
        [
            "blind index (HMAC-SHA256)",
            _rate(lambda i: crypto.blind_index(pii.ID_PURPOSE, value), n),
        ],
        [
            "new person: 1 encrypt ID + 1 phone, 3 indexes",
            _rate(lambda i: _person("x", value, "13812345678"), n),
        ],
    ]
    print(f"\n### Crypto operations ({n:,} each, one core)\n")
    print(B.table(["operation", "per second"], rows))

    rng = random.Random(7)
    started = time.perf_counter()
    batch: list[Any] = []
    ids: list[str] = []
    phones: list[str] = []
    for i in range(args.people):
        number = _id_number(i) if i % 10 else ""  # one in ten without an ID number
        phone = f"13{rng.randint(0, 999_999_999):09d}"
        batch.append(_person(f"人{i}", number, phone))
        if number:
            ids.append(number)
        phones.append(phone)
        if len(batch) == 5000:
            Petitioner.objects.bulk_create(batch)
            batch = []
    Petitioner.objects.bulk_create(batch)
    seed_s = time.perf_counter() - started
    total = Petitioner.objects.count()

    def timed(make_qs: Any, values: list[str]) -> dict[str, float]:
        latencies = []
        for v in rng.sample(values, min(args.lookups, len(values))):
            t = time.perf_counter()
            list(make_qs(v)[:5])
            latencies.append(time.perf_counter() - t)
        return B.summary_ms(latencies)

    results = [
        ("exact ID number", timed(with_id_number, ids)),
        ("ID number, last 6", timed(lambda v: with_id_tail(v[-6:]), ids)),
        (
            "phone (typed with spaces)",
            timed(lambda v: with_phone(f"{v[:3]} {v[3:7]} {v[7:]}"), phones),
        ),
    ]
    page = list(Petitioner.objects.order_by("-id")[:50])
    started = time.perf_counter()
    for _ in range(20):
        for p in page:
            p.__dict__.pop("_pii_plain", None)
            _ = (p.id_masked, p.phone_masked)
    page_ms = (time.perf_counter() - started) * 1000 / 20
    print(
        f"\n### Lookups through the blind indexes — {label}, {total:,} petitioners "
        f"(seeded in {seed_s:.1f} s), {args.lookups:,} lookups each\n"
    )
    print(
        B.table(
            ["lookup", "p50 ms", "p95 ms", "p99 ms", "max ms"],
            [[k, r["p50"], r["p95"], r["p99"], r["max"]] for k, r in results],
        )
    )
    print(f"\nDecrypt and mask a 50-row page (ID + phone each): {page_ms:.2f} ms")


if __name__ == "__main__":
    main()
