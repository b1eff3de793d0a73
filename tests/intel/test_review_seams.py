"""Seams between the intelligence features found in review: confidentiality of 检举控告 cases in
the near-duplicate panel and timeline data, and the registration path's receivers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World
from tests.intel.test_neardup import BASE, EDIT, reg  # noqa: F401  (fixture)
from xinfang.cases.models import CaseEvent

pytestmark = pytest.mark.django_db


def test_confidential_copy_is_no_text_match_for_a_reader_outside_the_desk(
    reg: Any,  # noqa: F811
    world: World,
    client: Any,
) -> None:
    """leo (领导 of the district, not accused) may see a 检举控告 case by number, but a search —
    and a near-duplicate link is a text match — must not tell him what it says
    (confidential.py rule 4): the panel of the public copy does not list it, the confidential
    case's own panel lists nothing, and its timeline data names no matched case or group."""
    from tests.api.conftest import token_client

    a = reg(BASE)
    b = reg(EDIT, people=[2])
    d = reg(
        BASE + "请纪检部门调查。",
        people=[3],
        purpose="accusation",
        accused_person_ids=[world.bob.pk],
    )
    client.force_login(world.leo)
    page = client.get(f"/cases/{a.pk}/").content.decode()
    assert b.number in page and d.number not in page
    assert "2</strong> 件" in page
    page = client.get(f"/cases/{d.pk}/").content.decode()
    assert "疑似重复/群发</h2>" not in page
    assert a.number not in page and b.number not in page
    ev = CaseEvent.objects.get(case=d, kind="near_duplicate")
    assert f"#{ev.data['group_id']}" not in ev.text
    data = next(
        e
        for e in token_client(world.leo).get(f"/cases/{d.pk}").json()["events"]
        if e["kind"] == "near_duplicate"
    )["data"]
    assert data["matched_number"] is None and data["group_id"] is None
    # The registering office's case officer may match texts of its own 检举控告 cases.
    client.force_login(world.alice)
    page = client.get(f"/cases/{d.pk}/").content.decode()
    assert a.number in page and b.number in page
    data = next(
        e
        for e in token_client(world.alice).get(f"/cases/{d.pk}").json()["events"]
        if e["kind"] == "near_duplicate"
    )["data"]
    assert data["matched_number"] == a.number


def test_suggestion_event_never_commits_without_its_audit_row(
    world: World, register: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """The receiver runs after the registration committed, outside any transaction: the
    ``intel_suggest`` row and its audit row (``audit.signals``) must still be one transaction —
    a failing audit write leaves no unaudited timeline row behind (and the registration stands)."""
    from types import SimpleNamespace

    from tests.intel.conftest import fixture_records
    from xinfang.audit import signals as audit_signals
    from xinfang.intel import suggest
    from xinfang.intel.classifier import train

    model = train(fixture_records())
    monkeypatch.setattr(suggest, "_active", lambda: (model, SimpleNamespace(version="v-test")))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = register(summary="拖欠工资", content="公司拖欠农民工工资三个月。")

    def broken(**kw: Any) -> None:
        raise RuntimeError("audit chain unavailable")

    monkeypatch.setattr(audit_signals, "audit_record", broken)
    for callback in callbacks:
        callback()  # the receivers' failures are logged, never raised
    assert not CaseEvent.objects.filter(case=case, kind="intel_suggest").exists()
    assert CaseEvent.objects.filter(case=case, kind="register").exists()
