"""In a browser: a 检举控告 case is masked in the list, revealed on one click (audited), absent
for the accused; the 审计员 sees the reveal in /audit/ and the chain verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.e2e.conftest import login
from xinfang.org import roles as R
from xinfang.people.services import PetitionerInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "挪用扶贫款"


def test_accusation_masked_revealed_and_audited(
    page: Any, live_server: Any, world: Any, register: Any, shot: Any, settings: Any
) -> None:
    settings.ACCOUNTS_OTP_ENFORCED = False  # the second factor has its own browser test
    make_user("shenji", world.district, R.AUDITOR, "沈计")
    case = register(
        purpose="accusation",
        summary=f"检举西山街道干部{SECRET}",
        content=f"西山街道副主任王某{SECRET}二十万元。",
        petitioners=[PetitionerInput(name="钱多多", phone="13900001111")],
        accused_unit_ids=[world.sibling.pk],
        received_at=timezone.now() - dt.timedelta(hours=2),
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The office clerk: masked in the list, revealed on the detail page.
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/cases/")
    row = page.locator(f"tr:has-text('{case.number}')")
    assert "【检举控告件，内容保密】" in row.inner_text()
    assert SECRET not in page.content() and "钱多多" not in page.content()
    shot("01-list-masked")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert SECRET not in page.content()
    page.click("button:has-text('查看检举内容')")
    page.wait_for_selector(f"text={SECRET}")
    assert "钱多多" in page.content()
    shot("02-revealed")

    # The accused unit's handler: the case does not exist for him.
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/cases/?q={SECRET}")
    assert case.number not in page.content()
    response = page.goto(f"{live_server.url}/cases/{case.pk}/")
    assert response is not None and response.status == 404

    # The auditor: the reveal is in the log, and the chain verifies.
    login(page, live_server, "shenji")
    page.goto(f"{live_server.url}/audit/?action=reveal")
    assert page.locator("table tbody tr").count() >= 1
    assert SECRET not in page.content() and "钱多多" not in page.content()
    page.click("button:has-text('校验')")
    page.wait_for_selector("text=审计日志校验通过")
    shot("03-audit")
    assert not [e for e in errors if "Content Security Policy" in e], errors
