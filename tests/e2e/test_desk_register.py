"""The desk's registration in the browser (xinfang.cases.desk): (a) a returning petitioner with
a finalised matter is registered from the lookup card and told 已终结，不再受理; (b) a collective
visit of 7 with 5 representatives ticked (a 6th tick refused)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.test_desk_register import OPINION, final_case, person_of
from tests.e2e.conftest import login
from xinfang.cases.models import Case, Category, PetitionerRole, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_returning_petitioner_with_a_final_matter_is_informed(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    cat = Category.objects.filter(level=3).first()
    assert cat is not None
    final = final_case(world, cat.pk)
    person = person_of(final)
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/?person={person.pk}&related={final.pk}&channel=visit")
    page.wait_for_selector("#desk-final:has-text('已终结，不再受理')")
    assert OPINION in page.inner_text("#desk-final")
    assert page.is_checked("#id_final_inform")
    assert person.id_masked in page.inner_text("#desk-known")
    page.fill("#id_summary", "再次反映物业费上涨问题")
    shot("01-final-guidance")
    page.press("#id_summary", "Control+Enter")
    page.wait_for_url(lambda url: "/cases/new/" not in url)
    page.wait_for_selector(".status-informed")
    body = page.inner_text("#case-main")
    assert "告知（不予受理）" in body and "已终结事项再次信访" in body
    shot("02-informed")
    case = Case.objects.exclude(pk=final.pk).get()
    assert case.status == Status.INFORMED and case.related_to_id == final.pk
    assert case.events.filter(kind="final_repeat").exists()


def test_collective_visit_with_five_representatives(
    page: Any, live_server: Any, world: Any, shot: Any
) -> None:
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/cases/new/?channel=collective_visit")
    page.fill("#id_headcount", "7")
    page.fill("#id_group_name", "东湖小区业主")
    for _ in range(6):
        page.click("button[data-add-row=p]")
    for i in range(7):
        page.fill(f"input[name='p-{i}-name']", f"业主{i + 1}")
    for i in range(5):
        page.check(f"input[name='p-{i}-rep']")
    page.click("input[name='p-5-rep']")
    page.wait_for_selector("#desk-rep-alert:has-text('集体访最多登记5名代表（当前6名）')")
    assert not page.is_checked("input[name='p-5-rep']")
    page.check("#desk-visitor input[value=collective]")
    page.wait_for_selector("#desk-guidance:has-text('推选代表')")
    page.fill("#id_summary", "集体反映小区停车位问题")
    shot("01-sixth-refused")
    page.press("#id_summary", "Control+Enter")  # keyboard: no layout shift under the pointer
    page.wait_for_url(lambda url: "/cases/new/" not in url)
    page.wait_for_selector("text=集体")
    shot("02-collective-case")
    case = Case.objects.get()
    roles = list(case.parties.values_list("role", flat=True))
    assert roles.count(PetitionerRole.REPRESENTATIVE) == 5
    assert roles.count(PetitionerRole.PARTICIPANT) == 2
    assert case.headcount == 7 and case.is_collective
    cells = page.locator("#case-main td", has_text="代表")
    assert cells.count() == 5
