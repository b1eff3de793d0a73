"""SIGKILL fault test: the real app under gunicorn, killed (-9, the whole process group) again
and again during an intake load; clients retry every unacknowledged request with the same
``Idempotency-Key`` until it is acknowledged. Afterwards: every acknowledged case stored exactly
once, nothing half-written, numbers gap-free, the SQLite file sound.

    .venv/bin/python bench/bench_killtest.py [--db sqlite|postgres] [--kills 20] [--requests 1000]
        [--clients 4] [--workers 2]

Loopback only (127.0.0.1). ``tests/durability/test_killtest.py`` runs the same harness small.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

SETUP = """
from xinfang.org import roles as R
from xinfang.org.models import ApiToken, Membership, Role, Unit, UnitType
from django.contrib.auth.models import User
district = Unit.objects.create(name="示范区", unit_type=UnitType.DISTRICT, division_code="110105")
office = Unit.objects.create(name="区信访局", unit_type=UnitType.DEPARTMENT, parent=district,
                             is_petition_office=True)
user = User.objects.create_user("rita", password="Xf-kill-test-1", first_name="芮塔")
Membership.objects.create(user=user, unit=office, role=Role.objects.get(code=R.RECEPTIONIST))
_, raw = ApiToken.issue(user=user, name="killtest")
print(json.dumps({"token": raw, "office": office.pk}))
"""

CHECK = """
from django.db import connection
from xinfang.cases.models import Case, CaseCounter, CaseEvent, CasePetitioner, Deadline
cases = list(Case.objects.values("id", "number", "idempotency_key", "summary"))
linked = set(CasePetitioner.objects.values_list("case_id", flat=True))
registered = set(CaseEvent.objects.filter(kind="register").values_list("case_id", flat=True))
routed = set(Deadline.objects.filter(kind="route").values_list("case_id", flat=True))
integrity = "n/a"
if connection.vendor == "sqlite":
    with connection.cursor() as c:
        c.execute("PRAGMA integrity_check")
        integrity = c.fetchone()[0]
print(json.dumps({
    "cases": cases,
    "half": [c["id"] for c in cases
             if c["id"] not in linked or c["id"] not in registered or c["id"] not in routed],
    "counters": list(CaseCounter.objects.values("code", "year", "last")),
    "integrity": integrity,
}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def shell(env: dict[str, str], code: str) -> Any:
    out = manage(env, "shell", "-c", "import json\n" + code)
    return json.loads(out.strip().splitlines()[-1])


@dataclass
class Result:
    kills: int = 0
    requests: int = 0
    attempts: int = 0
    acked: dict[str, str] = field(default_factory=dict)  # key → case number
    stored: int = 0
    duplicates: int = 0
    lost: list[str] = field(default_factory=list)
    wrong_number: list[str] = field(default_factory=list)
    half_written: int = 0
    gaps: list[str] = field(default_factory=list)
    integrity: str = ""
    elapsed: float = 0.0
    restarts_ms: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            len(self.acked) == self.requests
            and self.stored == self.requests
            and not self.duplicates
            and not self.lost
            and not self.wrong_number
            and not self.half_written
            and not self.gaps
            and self.integrity in {"ok", "n/a"}
        )

    def table(self) -> str:
        rows = [
            ("kills (SIGKILL to the process group)", self.kills),
            ("requests (distinct keys)", self.requests),
            ("HTTP attempts (with retries)", self.attempts),
            ("acked", len(self.acked)),
            ("stored", self.stored),
            ("duplicates", self.duplicates),
            ("lost (acked, not stored)", len(self.lost)),
            ("acked number ≠ stored number", len(self.wrong_number)),
            ("half-written", self.half_written),
            ("number gaps", len(self.gaps)),
            ("integrity_check", self.integrity),
            ("elapsed s", f"{self.elapsed:.1f}"),
            (
                "restart to ready, median ms",
                f"{sorted(self.restarts_ms)[len(self.restarts_ms) // 2]:.0f}"
                if self.restarts_ms
                else "—",
            ),
        ]
        lines = ["| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in rows]
        return "\n".join(lines)


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "xinfang.wsgi",
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
                "--preload",
                "--timeout",
                "30",
                "--graceful-timeout",
                "1",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,  # its own process group: kill -9 reaches master + workers
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return (time.perf_counter() - started) * 1000
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not come up")

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def run(
    *,
    database_url: str = "",
    kills: int = 5,
    requests: int = 200,
    clients: int = 4,
    workers: int = 2,
    seed: int | None = None,
) -> Result:
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="xf-killtest-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        XINFANG_ALLOW_DEV_SECRET="1",
        XINFANG_SQLITE_PATH=str(tmp / "db.sqlite3"),
        XINFANG_MEDIA_ROOT=str(tmp / "media"),
        XINFANG_LOG_LEVEL="ERROR",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    manage(env, "migrate", "--noinput", "-v", "0")
    setup = shell(env, SETUP)
    port = free_port()
    server = Server(env, port, workers)
    result = Result(requests=requests)
    server.start()
    lock = threading.Lock()
    todo = list(range(requests))
    done = threading.Event()
    run_id = secrets.token_hex(3)

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            key = f"kill-{run_id}-{i:05d}"
            body = json.dumps(
                {
                    "office_unit_id": setup["office"],
                    "channel": "visit",
                    "purpose": "appeal",
                    "summary": f"压力登记第{i}件：{key}",
                    "petitioners": [{"name": f"来访人{i}", "phone": "13812345678"}],
                    "received_at": "2026-01-05T09:30:00+08:00",
                }
            ).encode()
            while True:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/cases",
                    data=body,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        "Authorization": f"Bearer {setup['token']}",
                        "Idempotency-Key": key,
                    },
                )
                with lock:
                    result.attempts += 1
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        if response.status in (200, 201):
                            number = json.loads(response.read())["number"]
                            with lock:
                                result.acked[key] = number
                            break
                except urllib.error.HTTPError as exc:
                    if exc.code not in (502, 503, 504):
                        raise RuntimeError(f"{key}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
                except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
                    # Connection refused/reset, or the body cut off mid-response (IncompleteRead):
                    # not acknowledged, send again with the same key.
                    pass
                time.sleep(0.02)

    def killer() -> None:
        for _ in range(kills):
            if done.wait(rng.uniform(0.1, 0.8)):
                return
            server.kill()
            result.kills += 1
            result.restarts_ms.append(server.start())

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    kthread = threading.Thread(target=killer)
    for t in threads:
        t.start()
    kthread.start()
    for t in threads:
        t.join()
    done.set()
    kthread.join()
    result.elapsed = time.perf_counter() - started
    server.stop()

    state = shell(env, CHECK)
    by_key: dict[str, list[dict[str, Any]]] = {}
    by_summary: dict[str, int] = {}
    for case in state["cases"]:
        by_key.setdefault(case["idempotency_key"] or "", []).append(case)
        by_summary[case["summary"]] = by_summary.get(case["summary"], 0) + 1
    result.stored = len(state["cases"])
    result.duplicates = sum(n - 1 for n in by_summary.values() if n > 1)
    for key, number in result.acked.items():
        found = by_key.get(key, [])
        if not found:
            result.lost.append(key)
        elif found[0]["number"] != number:
            result.wrong_number.append(key)
    result.half_written = len(state["half"])
    seqs = sorted(int(c["number"].rsplit("-", 1)[1]) for c in state["cases"])
    last = max((c["last"] for c in state["counters"]), default=0)
    if seqs != list(range(1, len(seqs) + 1)) or last != len(seqs):
        result.gaps = [f"numbers {seqs[:5]}… counter {last}"]
    result.integrity = state["integrity"]
    return result


def _pg_database(base: str) -> tuple[str, Any]:
    """A fresh database on the server of ``base``; returns its URL and a drop function."""
    import psycopg

    name = f"xf_killtest_{secrets.token_hex(4)}"
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    url, drop = "", None
    if args.db == "postgres":
        url, drop = _pg_database(
            os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        )
    try:
        result = run(
            database_url=url,
            kills=args.kills,
            requests=args.requests,
            clients=args.clients,
            workers=args.workers,
            seed=args.seed,
        )
    finally:
        if drop is not None:
            drop()
    print(f"## kill -9 during intake ({args.db}, {args.clients} clients, {args.workers} workers)\n")
    print(result.table())
    print("\nresult:", "OK" if result.ok else "FAILED")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
