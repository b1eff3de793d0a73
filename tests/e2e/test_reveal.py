"""The audited reveal in a browser: the masked ID number and phone on the case page, one click
on 显示 swaps in the full value (HTMX, CSP-clean) and writes one audit row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import VALID_ID
from tests.e2e.conftest import login
from xinfang.audit.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reveal_id_number_and_phone(page: Any, live_server: Any, world: Any, register: Any) -> None:
    case = register()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert VALID_ID not in page.content()
    cells = page.locator("td:has(button.reveal)")
    assert cells.count() == 2
    cells.nth(0).locator("button.reveal").click()
    page.wait_for_selector(f"span.revealed:has-text('{VALID_ID}')")
    cells = page.locator("td:has(button.reveal)")
    cells.nth(0).locator("button.reveal").click()
    page.wait_for_selector("span.revealed:has-text('13812345678')")
    fields = list(
        AuditEntry.objects.filter(action="reveal").order_by("seq").values_list("detail", flat=True)
    )
    assert fields == [
        {"field": "id_number", "case": case.number},
        {"field": "phone", "case": case.number},
    ]
    assert not [e for e in errors if "Content Security Policy" in e], errors
