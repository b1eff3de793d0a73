"""Load on the public portal: concurrent citizens submitting and tracking through the real UI
(CSRF cookies, the submit → review → confirm → done flow, the tracking form → case page)
against gunicorn + PostgreSQL in production settings, on 127.0.0.1 only.

    .venv/bin/python bench/bench_portal.py [--duration 120] [--submitters 50] [--trackers 200]
        [--workers 4] [--cases 2000] [--demo-cases 5000] [--database-url URL] [--keep]

Steps: a fresh database (default ``postgres://postgres@127.0.0.1:5432/xf_bench_portal``,
dropped and created; dropped at exit unless ``--keep``), migrate, ``manage.py load_demo``,
``--cases`` online cases registered through ``case_register_online`` with known query codes
and phones (the trackers' targets), then ``gunicorn xinfang.wsgi -w N`` with
``XINFANG_DEBUG=0``, a random secret key and data keys, HTTP cookies (``XINFANG_SECURE_COOKIES=0``,
no SSL redirect, no HSTS) and every ``XINFANG_RATE_*`` limit switched off — one client address
sends everything, so the per-address limits would answer 429 at once; the limits themselves
are tested in tests/portal. Then for ``--duration`` seconds:

* each submitter thread loops GET form → POST form → GET review → POST confirm → GET done (its
  own cookie jar per flow; the form's fields are read from the HTML and filled by name);
* each tracker thread loops POST track (query code + phone of a random pre-created case) →
  GET case page, one cookie jar per thread (CSRF token from the pages it reads).

Afterwards: every acknowledged submission (its done page seen, its case number read there) is in
the database exactly once, and no other online cases exist beyond the pre-created ones.
Printed: per-step requests, errors, 5xx, 429, p50/p95/p99/max; flows and throughput; the
server's RSS (master + workers; peak and end). The load generator is Python threads on the
same machine: it competes with gunicorn and PostgreSQL for the CPU (the VM has 2 cores), so
the latencies are upper bounds for a server with the machine to itself.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _benchdb import summary_ms, table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/xf_bench_portal"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RATE_NAMES = [
    "portal_track_ip",
    "portal_track_code",
    "portal_submit_ip",
    "portal_submit_phone",
    "portal_pending_ip",
    "portal_login_ip",
    "portal_login_phone",
    "portal_sms_phone",
    "portal_sms_ip",
    "portal_act_ip",
]


def rate_names() -> list[str]:
    """Every rule of settings._RATE_DEFAULTS (read from the file: a rule added later is switched
    off too), plus the names known when this was written."""
    text = (ROOT / "xinfang" / "settings.py").read_text(encoding="utf-8")
    block = re.search(r"_RATE_DEFAULTS = \{(.*?)\n\}", text, re.S)
    found = re.findall(r'"(\w+)":', block.group(1)) if block else []
    return sorted(set(found) | set(RATE_NAMES))


NUMBER_RE = re.compile(r"[A-Z]{1,6}-\d{6}-\d{4}-\d{4,}")
SUBMIT_STEPS = [
    "submit: GET form",
    "submit: POST form",
    "submit: GET review",
    "submit: POST confirm",
    "submit: GET done",
]
TRACK_STEPS = ["track: GET form", "track: POST track", "track: GET case"]

PRECREATE = r"""
import json
from django.utils import timezone
from xinfang.cases.registration import Registration, case_register_online
from xinfang.people.services import PetitionerInput
from xinfang.portal import services as P
n, run, out = int(ARGS[0]), ARGS[1], ARGS[2]
by, office = P.portal_user(), P.portal_office()
rows = []
for i in range(n):
    phone = "137%08d" % i
    reg = Registration(
        channel="online", purpose="appeal", summary=f"压测查询目标{i}：小区停车位收费问题",
        content="小区停车位收费标准不明确，请有关部门核查。",
        petitioners=[PetitionerInput(name=f"查询人{i}", phone=phone, address="示范区东湖路1号")],
        received_at=timezone.now(),
    )
    case = case_register_online(by=by, office=office, reg=reg, idempotency_key=f"bench:{run}:{i}")
    rows.append({"id": case.pk, "number": case.number, "code": case.query_code, "phone": phone})
with open(out, "w") as fh:
    json.dump(rows, fh)
print(json.dumps({"created": len(rows)}))
"""

CHECK = r"""
import json
from xinfang.cases.models import Case
from xinfang.portal.models import PortalSubmission
online = list(Case.objects.filter(channel="online").values("number", "summary"))
portal = list(PortalSubmission.objects.values_list("case__number", flat=True))
print(json.dumps({"online": online, "portal": portal}))
"""


# --- set-up ----------------------------------------------------------------------------------


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"bench_portal 只对本机运行：数据库主机 {host!r} 不是 127.0.0.1")


def pg_admin(url: str, sql: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"database name {name!r}: letters, digits and _ only")
    pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_admin(url, f'CREATE DATABASE "{name}"')
    return name


def production_env(url: str, media: Path) -> dict[str, str]:
    """Production mode (no XINFANG_ALLOW_DEV_SECRET, DEBUG off) over plain HTTP on 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINFANG_")}
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="xinfang.settings",
        XINFANG_DEBUG="0",
        XINFANG_SECRET_KEY=secrets.token_urlsafe(48),
        XINFANG_DATA_KEYS=f"bench:{key}",
        XINFANG_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        XINFANG_ALLOWED_HOSTS="127.0.0.1",
        XINFANG_SECURE_COOKIES="0",
        XINFANG_SSL_REDIRECT="0",
        XINFANG_HSTS_SECONDS="0",
        XINFANG_MEDIA_ROOT=str(media),
        XINFANG_LOG_LEVEL="ERROR",
        XINFANG_PUBLIC_URL="http://127.0.0.1",
    )
    for name in rate_names():
        env[f"XINFANG_RATE_{name.upper()}"] = "0"  # "0" disables the rule
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 3600) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def shell(env: dict[str, str], code: str, *args: str) -> Any:
    prelude = f"ARGS = {list(args)!r}\n"
    out = manage(env, "shell", "-c", prelude + code)
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path) -> None:
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "xinfang.wsgi",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),  # a file: an unread pipe fills up and blocks the workers
        )
        deadline = time.monotonic() + 180  # a loaded 2-core machine imports slowly
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"{self.url}/portal/", timeout=5)
            except requests.RequestException as exc:
                last = repr(exc)
            else:
                if answer.status_code == 200:
                    return
                last = f"HTTP {answer.status_code}: {answer.text[:300]!r}"
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not come up ({last})")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids = [self.proc.pid]
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- reading and filling forms ---------------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    inputs: list[dict[str, str]] = field(default_factory=list)
    selects: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    textareas: dict[str, str] = field(default_factory=dict)
    buttons: list[dict[str, str]] = field(default_factory=list)

    def names(self) -> set[str]:
        return {i.get("name", "") for i in self.inputs} | set(self.selects) | set(self.textareas)


class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._form.inputs.append(a | {"type": a.get("type", "text").lower()})
        elif tag == "select":
            self._select = a.get("name", "")
            self._form.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self._form.selects[self._select].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea = a.get("name", "")
            self._form.textareas[self._textarea] = ""
        elif tag == "button":
            self._form.buttons.append(a | {"type": a.get("type", "submit").lower()})

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.textareas[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


def main_post_form(html: str, must_have: str = "") -> Form:
    """The page's POST form with the most fields (optionally one with the field ``must_have``)."""
    candidates = [f for f in forms_of(html) if f.method == "post"]
    if must_have:
        candidates = [f for f in candidates if must_have in f.names()]
    if not candidates:
        raise ValueError(f"no POST form{' with ' + must_have if must_have else ''} on the page")
    return max(candidates, key=lambda f: len(f.names()))


def valid_id_number(rng: random.Random) -> str:
    """An 18-digit 居民身份证号 with a correct GB 11643 check digit (area 110105)."""
    birth = f"{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"110105{birth}{rng.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def fill_submit(form: Form, rng: random.Random, tag: str, phone: str) -> dict[str, str]:
    """Every field of the submit form by its name: plausible values for the principal and the
    matter, the consent ticked, the honeypot and the co-signer rows left empty."""
    values = {
        "name": "压测市民",
        "id_number": valid_id_number(rng),
        "phone": phone,
        "address": "示范区东湖路18号",
        "summary": f"{tag} 小区门口路灯损坏",
        "content": f"{tag}：东湖路18号小区门口路灯损坏已两个月，夜间出行不便，请尽快修复。",
        "place_detail": "东湖路18号小区门口",
        "place_name": "东湖路18号",
    }
    data: dict[str, str] = {}
    radios: dict[str, list[str]] = defaultdict(list)
    for i in form.inputs:
        name, kind = i.get("name", ""), i["type"]
        if not name or "__prefix__" in name or kind in ("submit", "button", "file", "image"):
            continue
        if kind == "hidden":
            data[name] = i.get("value", "")
        elif kind == "radio":
            radios[name].append(i.get("value", ""))
        elif kind == "checkbox":
            if name == "consent" or "consent" in name or "agree" in name:
                data[name] = i.get("value") or "on"
        elif name == "hp" or re.match(r"^c-\d+-", name):
            data[name] = ""  # the honeypot, and no co-signer
        elif name in values:
            data[name] = values[name]
        else:
            data[name] = i.get("value", "") or ("13900000000" if kind == "tel" else "压测")
    for name, options in radios.items():
        data[name] = "appeal" if "appeal" in options else options[0]
    for name, choices in form.selects.items():
        if "__prefix__" in name:
            continue
        if re.match(r"^c-\d+-", name):
            data[name] = next((v for v, sel in choices if sel), choices[0][0] if choices else "")
            continue
        picked = [v for v, sel in choices if sel and v]
        usable = [v for v, _ in choices if v]
        data[name] = picked[0] if picked else (usable[0] if usable else "")
    for name in form.textareas:
        if "__prefix__" in name:
            continue
        data[name] = values.get(name, "") if name != "accused_text" else ""
    return data


# --- the load --------------------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    acked: dict[str, str] = field(default_factory=dict)  # tag → case number
    flows: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def record(self, step: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times[step].append(seconds)
            self.codes[step][status] += 1

    def error(self, step: str, why: str) -> None:
        with self.lock:
            self.errors[step] += 1
            if len(self.error_samples) < 12:
                self.error_samples.append(f"{step}: {why[:200]}")


def timed(stats: Stats, step: str, call: Any, *args: Any, **kwargs: Any) -> requests.Response:
    started = time.perf_counter()
    response: requests.Response = call(*args, allow_redirects=False, timeout=60, **kwargs)
    stats.record(step, time.perf_counter() - started, response.status_code)
    return response


def expect(stats: Stats, step: str, response: requests.Response, *codes: int) -> bool:
    if response.status_code in codes:
        return True
    stats.error(step, f"HTTP {response.status_code} {response.text[:120]!r}")
    return False


def pause(rng: random.Random, think: float) -> None:
    """A person's pause between two steps (exponential, mean ``think`` s; 0: none)."""
    if think > 0:
        time.sleep(min(rng.expovariate(1 / think), think * 5))


def submitter(
    base: str, stats: Stats, stop: threading.Event, n: int, run: str, think: float = 0
) -> None:
    rng = random.Random(f"{run}-{n}")
    if think > 0:  # people arrive spread out, not all in the first second
        time.sleep(rng.uniform(0, 2 * think))
    i = 0
    while not stop.is_set():
        i += 1
        tag = f"压测{run}-{n:03d}-{i:05d}"
        phone = f"138{rng.randint(0, 99_999_999):08d}"
        http = requests.Session()
        started = time.perf_counter()
        try:
            r = timed(stats, SUBMIT_STEPS[0], http.get, f"{base}/portal/submit/")
            if not expect(stats, SUBMIT_STEPS[0], r, 200):
                continue
            form = main_post_form(r.text, "summary")
            data = fill_submit(form, rng, tag, phone)
            url = urljoin(r.url, form.action or r.url)
            files = {"attachments": ("", b"", "application/octet-stream")}
            pause(rng, think)
            r = timed(
                stats,
                SUBMIT_STEPS[1],
                http.post,
                url,
                data=data,
                files=files,
                headers={"Referer": r.url},
            )
            if not expect(stats, SUBMIT_STEPS[1], r, 302, 303):
                continue
            review_url = urljoin(url, r.headers["Location"])
            pause(rng, think / 5)  # the browser follows the redirect at once
            r = timed(stats, SUBMIT_STEPS[2], http.get, review_url)
            if not expect(stats, SUBMIT_STEPS[2], r, 200):
                continue
            confirm = main_post_form(r.text)
            data = {i["name"]: i.get("value", "") for i in confirm.inputs if i.get("name")}
            url = urljoin(review_url, confirm.action or review_url)
            pause(rng, think)
            r = timed(
                stats, SUBMIT_STEPS[3], http.post, url, data=data, headers={"Referer": review_url}
            )
            if not expect(stats, SUBMIT_STEPS[3], r, 302, 303):
                continue
            done_url = urljoin(url, r.headers["Location"])
            pause(rng, think / 5)
            r = timed(stats, SUBMIT_STEPS[4], http.get, done_url)
            if not expect(stats, SUBMIT_STEPS[4], r, 200):
                continue
            found = NUMBER_RE.search(r.text)
            if found is None:
                stats.error(SUBMIT_STEPS[4], "no case number on the done page")
                continue
            with stats.lock:
                stats.acked[tag] = found.group(0)
                stats.times["submit: end to end"].append(time.perf_counter() - started)
                stats.flows["submit"] += 1
        except (requests.RequestException, ValueError, KeyError) as exc:
            stats.error("submit: transport", repr(exc))
        finally:
            http.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return found.group(1) if found else ""


def tracker(
    base: str,
    stats: Stats,
    stop: threading.Event,
    n: int,
    targets: list[dict[str, Any]],
    think: float = 0,
) -> None:
    rng = random.Random(n)
    if think > 0:
        time.sleep(rng.uniform(0, 2 * think))
    http = requests.Session()
    token = ""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if not token:
                r = timed(stats, TRACK_STEPS[0], http.get, f"{base}/portal/track/")
                if not expect(stats, TRACK_STEPS[0], r, 200):
                    continue
                token = csrf_of(r.text)
            target = rng.choice(targets)
            pause(rng, think)
            data = {"csrfmiddlewaretoken": token, "code": target["code"], "secret": target["phone"]}
            r = timed(
                stats,
                TRACK_STEPS[1],
                http.post,
                f"{base}/portal/track/",
                data=data,
                headers={"Referer": f"{base}/portal/track/"},
            )
            if not expect(stats, TRACK_STEPS[1], r, 302, 303):
                token = ""
                continue
            case_url = urljoin(f"{base}/portal/track/", r.headers["Location"])
            if f"/cases/{target['id']}/" not in case_url:
                stats.error(TRACK_STEPS[1], f"redirected to {case_url}")
                continue
            pause(rng, think / 5)
            r = timed(stats, TRACK_STEPS[2], http.get, case_url)
            if not expect(stats, TRACK_STEPS[2], r, 200):
                continue
            if target["number"] not in r.text:
                stats.error(TRACK_STEPS[2], "case number missing on the case page")
            token = csrf_of(r.text) or ""
            with stats.lock:
                stats.times["track: end to end"].append(time.perf_counter() - started)
                stats.flows["track"] += 1
        except (requests.RequestException, ValueError, KeyError) as exc:
            stats.error("track: transport", repr(exc))
            token = ""
    http.close()


# --- the run ---------------------------------------------------------------------------------


STATE_FILE = ROOT / "var" / "bench" / "bench_portal_state.json"


def set_up(
    args: argparse.Namespace, tmp: Path
) -> tuple[dict[str, str], list[dict[str, Any]], dict[str, float]]:
    """A fresh database with the demo and the tracking targets; or, with ``--reuse``, the one a
    ``--keep`` run left (its keys and targets are in var/bench/bench_portal_state.json)."""
    stamps: dict[str, float] = {}
    if args.reuse:
        state = json.loads(STATE_FILE.read_text())
        if state["database_url"] != args.database_url:
            raise SystemExit(f"--reuse: the kept database is {state['database_url']}")
        env = production_env(args.database_url, tmp / "media")
        env.update(state["keys"])
        args.demo_cases, args.cases = state["demo_cases"], len(state["targets"])
        return env, state["targets"], {"migrate": 0.0, "load_demo": 0.0, "pre-create": 0.0}
    fresh_database(args.database_url)
    env = production_env(args.database_url, tmp / "media")
    t = time.perf_counter()
    manage(env, "migrate", "--noinput", "-v", "0")
    stamps["migrate"] = time.perf_counter() - t
    t = time.perf_counter()
    manage(env, "load_demo", "--cases", str(args.demo_cases))
    stamps["load_demo"] = time.perf_counter() - t
    t = time.perf_counter()
    targets_file = tmp / "targets.json"
    shell(env, PRECREATE, str(args.cases), secrets.token_hex(3), str(targets_file))
    targets = json.loads(targets_file.read_text())
    stamps["pre-create"] = time.perf_counter() - t
    if args.keep:
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        keys = {k: env[k] for k in ("XINFANG_SECRET_KEY", "XINFANG_DATA_KEYS", "XINFANG_INDEX_KEY")}
        state = {
            "database_url": args.database_url,
            "keys": keys,
            "targets": targets,
            "demo_cases": args.demo_cases,
        }
        STATE_FILE.write_text(json.dumps(state))
        STATE_FILE.chmod(0o600)  # throwaway keys of a bench database, still not for others
    return env, targets, stamps


def load(
    server: Server,
    run_id: str,
    targets: list[dict[str, Any]],
    *,
    submitters: int,
    trackers: int,
    seconds: float,
    think: float,
) -> tuple[Stats, float, float]:
    """``submitters`` + ``trackers`` threads for ``seconds``; then every flow under way
    finishes (a submission's done page is its acknowledgement). Returns stats, elapsed s and
    the server's peak RSS."""
    stats = Stats()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=submitter, args=(server.url, stats, stop, i, run_id, think), daemon=True
        )
        for i in range(submitters)
    ] + [
        threading.Thread(
            target=tracker, args=(server.url, stats, stop, i, targets, think), daemon=True
        )
        for i in range(trackers)
    ]
    peak = server.rss_mb()
    started = time.perf_counter()
    for th in threads:
        th.start()
    while time.perf_counter() - started < seconds:
        time.sleep(1)
        peak = max(peak, server.rss_mb())
    stop.set()
    for th in threads:
        th.join(timeout=120)
    return stats, time.perf_counter() - started, peak


def run(args: argparse.Namespace) -> int:
    check_loopback(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="xf-bench-portal-"))
    name = urlsplit(args.database_url).path.lstrip("/")
    server: Server | None = None
    try:
        env, targets, stamps = set_up(args, tmp)
        # Online cases before the load: the demo's 网上 cases and the pre-created targets.
        before = {c["number"] for c in shell(env, CHECK)["online"]}
        server = Server(env, free_port(), args.workers, tmp / "gunicorn.log")
        server.start()
        rss_start = server.rss_mb()
        run_id = secrets.token_hex(3)
        base_stats = None
        if args.baseline > 0:
            print(
                f"bench_portal: baseline, 1 submitter + 1 tracker for {args.baseline}s…",
                file=sys.stderr,
            )
            base_stats, base_elapsed, _ = load(
                server,
                f"{run_id}b",
                targets,
                submitters=1,
                trackers=1,
                seconds=args.baseline,
                think=0,
            )
        print(
            f"bench_portal: {args.submitters} submitters + {args.trackers} trackers for "
            f"{args.duration}s against {server.url} ({args.workers} gunicorn workers, "
            f"think {args.think}s)…",
            file=sys.stderr,
        )
        stats, elapsed, rss_peak = load(
            server,
            run_id,
            targets,
            submitters=args.submitters,
            trackers=args.trackers,
            seconds=args.duration,
            think=args.think,
        )
        rss_end = server.rss_mb()
        server.stop()
        server_log = server.log_tail()
        server = None

        acked = dict(stats.acked) | (base_stats.acked if base_stats else {})
        state = shell(env, CHECK)
        bench_rows = [c for c in state["online"] if c["number"] not in before]
        by_tag: dict[str, list[str]] = defaultdict(list)
        for c in bench_rows:
            by_tag[c["summary"].split(" ", 1)[0]].append(c["number"])
        missing = [t for t in acked if t not in by_tag]
        twice = [t for t in acked if len(by_tag.get(t, [])) > 1]
        wrong = [t for t, num in acked.items() if by_tag.get(t) and by_tag[t][0] != num]
        unacked = [t for t in by_tag if t not in acked]
        portal_missing = len(set(acked.values()) - set(state["portal"]))

        print(report(args, stats, elapsed, stamps, rss_start, rss_peak, rss_end))
        if base_stats is not None:
            print(
                f"\n### Unloaded baseline (1 submitter + 1 tracker, {base_elapsed:.0f} s, "
                "before the load): the cost of one request\n"
            )
            print(step_table(base_stats, base_elapsed))
        integrity = [
            ("acknowledged submissions (done page seen)", len(acked)),
            ("online cases created during the run", len(bench_rows)),
            ("acknowledged, not in the database", len(missing)),
            ("acknowledged, stored more than once", len(twice)),
            ("acknowledged number ≠ stored number", len(wrong)),
            ("stored, never acknowledged", len(unacked)),
            ("acknowledged without a PortalSubmission row", portal_missing),
            (
                "online cases before the run (demo + pre-created), still there",
                len(before & {c["number"] for c in state["online"]}),
            ),
        ]
        print("\n### Afterwards: every acknowledged submission exactly once\n")
        print(table(["check", "count"], [list(r) for r in integrity]))
        all_stats = [stats] + ([base_stats] if base_stats else [])
        server_errors = sum(
            n
            for st in all_stats
            for codes in st.codes.values()
            for code, n in codes.items()
            if code >= 500
        )
        ok = not missing and not twice and not wrong and not server_errors and not unacked
        ok = ok and portal_missing == 0 and bool(stats.acked)
        if not ok and server_log.strip():
            print(f"\nserver log (end of {tmp / 'gunicorn.log'}):\n{server_log}")
        print("\nresult:", "OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()
        if args.keep or args.reuse:
            print(f"(keeping the database: {args.database_url}; rerun with --reuse)")
        else:
            pg_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def step_table(stats: Stats, elapsed: float) -> str:
    rows = []
    for step in [*SUBMIT_STEPS, "submit: end to end", *TRACK_STEPS, "track: end to end"]:
        times = stats.times.get(step, [])
        codes = stats.codes.get(step, Counter())
        s = summary_ms(times)
        fives = sum(n for c, n in codes.items() if c >= 500)
        rows.append(
            [
                step,
                len(times),
                stats.errors.get(step, 0),
                fives,
                codes.get(429, 0),
                s["p50"],
                s["p95"],
                s["p99"],
                s["max"],
                len(times) / elapsed,
            ]
        )
    for step in ("submit: transport", "track: transport"):
        if stats.errors.get(step):
            rows.append([step, 0, stats.errors[step], 0, 0, *[float("nan")] * 4, 0.0])
    headers = ["step", "requests", "errors", "5xx", "429", "p50", "p95", "p99", "max", "per s"]
    return table(headers, rows)


def report(
    args: argparse.Namespace,
    stats: Stats,
    elapsed: float,
    stamps: dict[str, float],
    rss_start: float,
    rss_peak: float,
    rss_end: float,
) -> str:
    out = [
        f"## Portal load: {args.submitters} submitters + {args.trackers} trackers, "
        f"{elapsed:.0f} s, gunicorn -w {args.workers}, PostgreSQL\n"
    ]
    made = "kept from an earlier --keep run" if args.reuse else "fresh"
    setup = [
        ("database", f"{args.database_url} ({made}; demo {args.demo_cases} cases)"),
        ("pre-created online cases (tracking targets)", f"{args.cases:,}"),
        (
            "set-up s (migrate / load_demo / pre-create)",
            " / ".join(f"{stamps[k]:.0f}" for k in ("migrate", "load_demo", "pre-create")),
        ),
        (
            "settings",
            "XINFANG_DEBUG=0, random secret + data keys, SECURE_COOKIES=0, SSL_REDIRECT=0, HSTS 0",
        ),
        ("rate limits", "all XINFANG_RATE_* = 0 (off): one client address sends everything"),
        (
            "think time",
            f"{args.think} s mean between a person's steps, arrivals spread over the first "
            f"{2 * args.think:g} s; end to end includes it (0: back to back, a closed loop "
            "that measures saturation)",
        ),
        (
            "load generator",
            f"{args.submitters + args.trackers} Python threads (requests) on the "
            f"same {os.cpu_count()}-core machine: it competes with the server",
        ),
    ]
    out.append(table(["setting", "value"], [list(r) for r in setup]))
    out.append("\n### Latency per step (ms) and throughput\n")
    out.append(step_table(stats, elapsed))
    total = sum(len(v) for k, v in stats.times.items() if "end to end" not in k)
    flows = [
        ("HTTP requests", total, total / elapsed),
        ("submissions acknowledged", stats.flows["submit"], stats.flows["submit"] / elapsed),
        ("tracking flows", stats.flows["track"], stats.flows["track"] / elapsed),
    ]
    out.append("\n### Throughput\n")
    out.append(table(["what", "count", "per s"], [list(r) for r in flows]))
    out.append("\n### Server memory (gunicorn master + workers, RSS MB)\n")
    out.append(table(["start", "peak", "end"], [[rss_start, rss_peak, rss_end]]))
    if stats.error_samples:
        out.append("\nerror samples:\n" + "\n".join(f"- {e}" for e in stats.error_samples))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (120)")
    parser.add_argument("--submitters", type=int, default=50)
    parser.add_argument("--trackers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4)")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause in s between a person's steps (0: back to back)",
    )
    parser.add_argument(
        "--baseline",
        type=float,
        default=10.0,
        help="s of 1 submitter + 1 tracker before the load (0: skip)",
    )
    parser.add_argument("--cases", type=int, default=2000, help="pre-created tracking targets")
    parser.add_argument("--demo-cases", type=int, default=5000, help="load_demo --cases (5000)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the database (and var/bench/bench_portal_state.json) behind",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the database a --keep run left: no set-up (it stays)",
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
