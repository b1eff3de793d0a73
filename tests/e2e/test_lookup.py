"""The desk lookup as the receptionist uses it: type part of a name → the card appears →
reveal the phone (audited) → "为此人登记新来访" opens the registration form with ?person=."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import VALID_ID
from tests.e2e.conftest import login
from xinfang.audit.models import AuditEntry
from xinfang.people.models import KeyPerson, Petitioner
from xinfang.people.services import PetitionerInput

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lookup_card_reveal_and_register(page, live_server, world, register, shot):
    case = register(
        petitioners=[
            PetitionerInput(
                name="欧阳明", id_number=VALID_ID, phone="13812345678", address="东湖街道幸福路88号"
            )
        ]
    )
    person = Petitioner.objects.get(name="欧阳明")
    KeyPerson.objects.create(
        petitioner=person, reason="多次越级走访", since=dt.date(2026, 1, 5), added_by=world.alice
    )
    login(page, live_server, "rita")
    page.goto(f"{live_server.url}/people/lookup/")
    box = page.locator("input[name=q]")
    assert box.evaluate("el => el === document.activeElement")  # autofocus
    box.press_sequentially("欧阳", delay=40)
    card = page.locator(f"#person-{person.pk}")
    card.wait_for()
    assert "重点人员" in card.inner_text()
    assert "110105********002X" in card.inner_text()
    assert case.number in card.inner_text()
    shot("card")
    before = AuditEntry.objects.filter(action="reveal").count()
    card.locator(".lookup-phone button.reveal").click()
    card.locator(".lookup-phone .revealed").wait_for()
    assert "13812345678" in card.locator(".lookup-phone").inner_text()
    assert AuditEntry.objects.filter(action="reveal").count() == before + 1
    shot("revealed")
    # "/" focuses the box from anywhere on the page; a bad input shows a hint
    page.locator("h1").click()
    page.keyboard.press("/")
    box.fill("")
    box.press_sequentially("12345", delay=40)
    page.locator(".lookup-hint").wait_for()
    assert "身份证后6位" in page.locator(".lookup-hint").inner_text()
    # Enter opens the first result: the registration form prefilled with the person
    box.fill("")
    box.press_sequentially("oym", delay=40)
    card.wait_for()
    page.wait_for_function("() => document.querySelector('.lookup-results').dataset.q === 'oym'")
    box.press("Enter")
    page.wait_for_url(f"**/cases/new/?person={person.pk}&related={case.pk}")
    assert page.locator("form").count() >= 1
    shot("register")
