"""考核 permissions: an assessed unit's own 办案员/领导 can neither revoke the 一票否决 recorded
against it nor rewrite the district-wide scheme that ranks it (review finding)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import make_user
from xinfang.core.errors import DomainError
from xinfang.org import roles as R
from xinfang.stats import kpi


def test_street_officer_cannot_revoke_veto_on_own_street(world: Any) -> None:
    scheme = kpi.ensure_default_scheme()
    flag = kpi.veto_add(
        scheme=scheme,
        by=world.leo,
        unit=world.street,
        code="mass_incident",
        start=dt.date(2026, 1, 1),
        end=dt.date(2026, 12, 31),
        reason="发生因信访问题引发的重大群体性事件，经区委认定",
    )
    street_officer = make_user("sto", world.street, R.CASE_OFFICER, "街道办案员")
    with pytest.raises(DomainError):  # PermissionDenied is a DomainError
        kpi.veto_revoke(flag=flag, by=street_officer, reason="本街道认为不应否决")
    flag.refresh_from_db()
    assert flag.revoked_at is None


def test_street_leader_cannot_change_district_scheme(world: Any) -> None:
    kpi.ensure_default_scheme()
    street_leader = make_user("stl", world.street, R.LEADER, "街道领导")
    c = __import__("django.test", fromlist=["Client"]).Client()
    c.force_login(street_leader)
    r = c.get("/api/stats/kpi/scheme")
    body = r.json()
    body["weights"] = {"timely_accept": 100}
    r = c.put("/api/stats/kpi/scheme", data=body, content_type="application/json")
    assert r.status_code == 403, (r.status_code, r.content[:300])
