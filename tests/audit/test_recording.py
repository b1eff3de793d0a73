"""Audit rows are written for every case event, admin change and role grant — in the same
transaction as the change: both commit together, or neither."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client

from tests.conftest import World
from xinfang.audit.models import AuditEntry
from xinfang.audit.selectors import verify_chain
from xinfang.cases import services as S
from xinfang.cases.models import Case, CaseEvent
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role

pytestmark = pytest.mark.django_db


def rows(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("seq"))


def test_registration_and_each_step_are_audited(world: World, register: Any) -> None:
    case = register()
    S.case_assign(case=case, by=world.alice, unit=world.street)
    S.case_sign_in(case=case, by=world.hank)
    S.case_add_note(case=case, by=world.hank, text="已电话联系信访人张三，13812345678")
    audited = rows("case_event")
    events = list(CaseEvent.objects.filter(case=case).order_by("id"))
    assert [r.detail["event_id"] for r in audited] == [e.pk for e in events]
    assert [r.detail["kind"] for r in audited] == ["register", "assign", "sign_in", "note"]
    first, second = audited[0], audited[1]
    assert (first.object_type, first.object_id) == ("case", str(case.pk))
    assert first.summary == f"{case.number} 登记"
    assert first.actor_name == "芮塔" and first.actor_id == world.rita.pk
    assert second.detail == {
        "event_id": events[1].pk,
        "case_number": case.number,
        "kind": "assign",
        "from": "registered",
        "to": "assigned",
        "actor_unit_id": world.office.pk,
    }
    assert second.actor_name == "艾丽"
    assert verify_chain().ok


def test_no_petition_content_or_personal_data_in_audit_rows(world: World, register: Any) -> None:
    case = register()
    S.case_add_note(case=case, by=world.alice, text="信访人张三称身份证11010519491231002X")
    dumped = json.dumps(
        list(AuditEntry.objects.values("summary", "detail", "object_id", "actor_name")),
        ensure_ascii=False,
    )
    for secret in ("张三", "13812345678", "11010519491231002X", "物业", case.summary):
        assert secret not in dumped


def test_rolled_back_change_leaves_no_audit_row(world: World, register: Any) -> None:
    case = register()
    before = AuditEntry.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        S.case_assign(case=Case.objects.get(pk=case.pk), by=world.alice, unit=world.street)
        assert AuditEntry.objects.count() == before + 1  # written inside the change
        raise RuntimeError("boom after the change")
    assert AuditEntry.objects.count() == before
    assert not CaseEvent.objects.filter(case=case, kind="assign").exists()
    # The chain continues without a gap from where it was.
    S.case_assign(case=Case.objects.get(pk=case.pk), by=world.alice, unit=world.street)
    assert AuditEntry.objects.order_by("-seq").first().seq == before + 1  # type: ignore[union-attr]
    assert verify_chain().ok


def test_failing_audit_write_rolls_the_change_back(
    world: World, register: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other direction: when the audit row cannot be written, the change does not happen."""
    case = register()
    from xinfang.audit import signals

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("审计写入失败")

    monkeypatch.setattr(signals, "audit_record", broken)
    with pytest.raises(RuntimeError, match="审计写入失败"):
        S.case_assign(case=case, by=world.alice, unit=world.street)
    case.refresh_from_db()
    assert case.status == "registered"
    assert not CaseEvent.objects.filter(case=case, kind="assign").exists()


def test_role_grant_change_and_revoke(world: World) -> None:
    auditor_role = Role.objects.get(code=R.AUDITOR)
    m = Membership.objects.create(user=world.bob, unit=world.district, role=auditor_role)
    grant = rows("role_grant")[-1]
    assert grant.summary == "授予 bob 在「示范区」的「审计员」角色"
    assert (grant.object_type, grant.object_id) == ("membership", str(m.pk))
    assert grant.detail["role"] == R.AUDITOR and grant.detail["user_id"] == world.bob.pk
    m.unit = world.sibling
    m.save()
    change = rows("role_change")[-1]
    assert change.summary == (
        "岗位由 bob 在「示范区」的「审计员」角色 改为 bob 在「西山街道」的「审计员」角色"
    )
    m.save()  # no change, no row
    assert len(rows("role_change")) == 1
    m.delete()
    revoke = rows("role_revoke")[-1]
    assert revoke.summary == "撤销 bob 在「西山街道」的「审计员」角色"
    assert verify_chain().ok


def test_deleting_a_user_revokes_their_roles_in_the_log(world: World) -> None:
    world.bob.delete()
    revoke = rows("role_revoke")[-1]
    assert revoke.summary == "撤销 bob 在「西山街道」的「承办人」角色"


def _admin_client(user: Any, settings: Any) -> Client:
    """An admin session for a 系统管理员/安全管理员 post (the second factor is not under test)."""
    settings.ACCOUNTS_OTP_ENFORCED = False
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secadmin(world: World) -> Any:
    from tests.conftest import make_user

    return make_user("sec", world.district, R.SECADMIN, "塞克")


def test_admin_add_change_delete_are_audited_with_the_actor(
    world: World, secadmin: Any, settings: Any
) -> None:
    admin = secadmin
    client = _admin_client(secadmin, settings)
    role = Role.objects.get(code=R.LEADER)
    response = client.post(
        "/admin/org/membership/add/",
        {"user": world.bob.pk, "unit": world.district.pk, "role": role.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    m = Membership.objects.get(user=world.bob, role=role)
    added = rows("admin_add")[-1]
    assert added.object_type == "org.membership" and added.object_id == str(m.pk)
    assert added.actor_id == admin.pk
    assert added.summary.startswith("岗位「bob · 示范区 · 领导」")
    grant = rows("role_grant")[-1]
    assert grant.actor_id == admin.pk  # the request's user, through the middleware
    assert grant.ip == "127.0.0.1"

    response = _admin_client(world.sam, settings).post(
        f"/admin/org/unit/{world.sibling.pk}/change/",
        {
            "name": "西山街道办事处",
            "unit_type": "street",
            "parent": world.district.pk,
            "division_code": "110105002",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    changed = rows("admin_change")[-1]
    assert changed.object_type == "org.unit" and changed.object_id == str(world.sibling.pk)
    assert changed.actor_id == world.sam.pk
    assert "西山街道办事处" in changed.summary and "修改" in changed.summary

    client = _admin_client(secadmin, settings)
    response = client.post(f"/admin/org/membership/{m.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = rows("admin_delete")[-1]
    assert deleted.object_id == str(m.pk) and deleted.actor_id == admin.pk
    assert rows("role_revoke")[-1].object_id == str(m.pk)
    assert verify_chain().ok


def test_admin_bulk_delete_audits_every_object(world: World, secadmin: Any, settings: Any) -> None:
    client = _admin_client(secadmin, settings)
    role = Role.objects.get(code=R.SUPERVISOR)
    ms = [
        Membership.objects.create(user=u, unit=world.district, role=role)
        for u in (world.bob, world.hank, world.uma)
    ]
    response = client.post(
        "/admin/org/membership/",
        {
            "action": "delete_selected",
            "_selected_action": [m.pk for m in ms],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    deleted = {r.object_id for r in rows("admin_delete")}
    assert deleted == {str(m.pk) for m in ms}


def test_log_entry_for_personal_data_hides_the_repr(world: World) -> None:
    from xinfang.audit.signals import record_admin_entry

    entry = LogEntry(
        user=world.sam,
        content_type=ContentType.objects.get(app_label="people", model="petitioner"),
        object_id="7",
        object_repr="张三",
        action_flag=ADDITION,
        change_message="",
    )
    record_admin_entry(entry)
    row = rows("admin_add")[-1]
    assert "张三" not in row.summary and "张三" not in json.dumps(row.detail, ensure_ascii=False)
    assert row.object_type == "people.petitioner" and row.object_id == "7"
