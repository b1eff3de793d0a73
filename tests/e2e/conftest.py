"""Playwright on Debian's chromium against pytest-django's live server."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("XINFANG_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("XINFANG_SCREENSHOTS", "test-output/screenshots"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"浏览器测试需要 {CHROMIUM}（apt-get install chromium）")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def shot(page: Any, request: Any):  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    vendor = (os.environ.get("DATABASE_URL", "") and "pg") or "sqlite"

    def _shot(name: str) -> Path:
        path = SHOTS / f"{request.node.name}-{vendor}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def login(page: Any, live_server: Any, username: str) -> None:
    """Log in as ``username`` in this page's browser context, replacing whoever was logged in.

    The previous page is left first (about:blank): its HTMX requests still in flight (badges,
    panels, the desk board's refresh) were sent with the old session cookie, and a response
    arriving after the cookies were cleared would set that session again — over the login
    page's, whose CSRF token then no longer matches ("CSRF token from POST incorrect"). If a
    response still lands in between, the login page answers 403 and is loaded once more."""
    page.goto("about:blank")
    for attempt in (1, 2):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "Xf-test-pass-1")
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        response = navigation.value
        if response is not None and response.status == 403 and attempt == 1:
            continue  # a stale cookie won the race: fresh login page, fresh token
        break
    # Staff land on the workbench; roles that read no cases on their own start page.
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/login/" not in url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Iterator[Any]:
    """On a failed browser test, keep a screenshot of what the person would have seen."""
    outcome: Any = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and page is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        # A hung page must not turn one failure into an aborted run.
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SHOTS / f"{item.name}-FAILED.png"), full_page=True)
