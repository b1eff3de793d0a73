"""HTTP security headers: CSP on every page (no inline script or style anywhere in the
templates), HSTS/HTTPS in production settings, and ``manage.py check --deploy`` clean."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def _policy(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def _assert_headers(response: Any) -> None:
    csp = _policy(response["Content-Security-Policy"])
    for directive, value in POLICY.items():
        assert csp.get(directive) == value, (directive, csp)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_every_main_page_carries_the_policy(client: Client, world: Any, register: Any) -> None:
    case = register()
    _assert_headers(client.get(reverse("login")))
    client.force_login(world.rita)
    for url in (
        reverse("home"),
        reverse("case_list"),
        reverse("case_register"),
        reverse("case_detail", args=[case.pk]),
        "/api/docs",
        f"/api/cases/{case.pk}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_headers(response)


def test_not_found_page_carries_the_policy(client: Client, world: Any) -> None:
    client.force_login(world.rita)
    response = client.get("/cases/999999/")
    assert response.status_code == 404
    _assert_headers(response)


TEMPLATE_DIRS = [ROOT / "templates", *(ROOT / "xinfang").glob("*/templates")]
INLINE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on (needs eval)"),
]


def test_templates_have_no_inline_script_or_style() -> None:
    """CSP blocks them; the behaviour lives in static/js, the looks in static/css."""
    problems = []
    for directory in TEMPLATE_DIRS:
        for path in directory.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for pattern, what in INLINE:
                for m in pattern.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "\n".join(problems)


def test_htmx_is_configured_for_csp(client: Client, world: Any) -> None:
    client.force_login(world.rita)
    html = client.get(reverse("home")).content.decode()
    assert '"includeIndicatorStyles": false' in html and '"allowEval": false' in html
    css = (ROOT / "static/css/app.css").read_text(encoding="utf-8")
    assert ".htmx-request .htmx-indicator" in css


def test_hsts_and_https_redirect_when_enabled(client: Client, settings: Any, db: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert client.get("/healthz").status_code in (200, 503)  # probes stay on plain HTTP
    secure = client.get(reverse("login"), secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_proxy_header_makes_forwarded_https_secure(client: Client, settings: Any, db: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"}).status_code == 200


# --- production settings in a fresh process -------------------------------------------------


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XINFANG_")
        and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="xinfang.settings",
        XINFANG_SECRET_KEY=secrets.token_urlsafe(64),
        XINFANG_ALLOWED_HOSTS="xinfang.example.gov.cn",
        XINFANG_CSRF_TRUSTED_ORIGINS="https://xinfang.example.gov.cn",
        XINFANG_DATA_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        XINFANG_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        XINFANG_SQLITE_PATH=str(tmp_path / "prod.sqlite3"),
        XINFANG_MEDIA_ROOT=str(tmp_path / "media"),
    )
    env.update(extra)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _run(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_check_deploy_complains_about_a_weak_setup(tmp_path: Path) -> None:
    """The test above can fail: turning HSTS off is reported."""
    env = production_env(tmp_path, XINFANG_HSTS_SECONDS="0", XINFANG_SSL_REDIRECT="0")
    result = _run(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def test_production_settings_values(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_PROXY_SSL_HEADER, s.DEBUG)"
    )
    env = production_env(
        tmp_path, XINFANG_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https", XINFANG_HSTS_PRELOAD="1"
    )
    result = _run(env, "shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == (
        "True 31536000 True True True True ('HTTP_X_FORWARDED_PROTO', 'https') False"
    )
    bad = _run(production_env(tmp_path, XINFANG_PROXY_SSL_HEADER="https"), "check")
    assert bad.returncode != 0 and "XINFANG_PROXY_SSL_HEADER" in bad.stderr
