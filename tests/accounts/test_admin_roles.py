"""三权分立 in the Django admin: what each role can and cannot do; no superuser shortcut."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_user
from xinfang.org import roles as R
from xinfang.org.models import Membership, Role


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sysadmin_manages_users_and_settings_but_not_roles_or_cases(world, admins):
    c = _as(admins["sam"])
    alice = world.alice.pk
    assert c.get("/admin/").status_code == 200
    assert c.get("/admin/auth/user/").status_code == 200
    assert c.get("/admin/auth/user/add/").status_code == 200
    assert c.get(f"/admin/auth/user/{alice}/password/").status_code == 200
    assert c.get("/admin/org/unit/add/").status_code == 200
    assert c.get("/admin/cases/category/").status_code == 200
    assert c.get("/admin/org/membership/add/").status_code == 403
    role = Role.objects.get(code=R.CASE_OFFICER)
    assert c.post(f"/admin/org/role/{role.pk}/change/", {"name": "x"}).status_code == 403
    page = c.get(f"/admin/auth/user/{admins['sam'].pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    sam = admins["sam"]
    assert not sam.has_perm("cases.view_case") and not sam.has_perm("audit.view_auditentry")
    assert c.get("/cases/").status_code == 200  # the list page exists but shows nothing
    assert c.get("/admin/audit/auditentry/").status_code in (403, 404)


def test_secadmin_manages_roles_but_not_users_or_passwords(world, admins):
    c = _as(admins["sec"])
    alice = world.alice.pk
    assert c.get("/admin/org/membership/add/").status_code == 200
    assert c.get("/admin/org/membership/").status_code == 200
    assert c.get(f"/admin/auth/user/{alice}/password/").status_code == 403
    assert c.get("/admin/auth/user/add/").status_code == 403
    assert c.post(f"/admin/auth/user/{alice}/change/", {"username": "x"}).status_code == 403
    assert c.get("/admin/org/unit/add/").status_code == 403
    assert c.get("/admin/cases/deadlinerule/").status_code == 403
    # Grants a role through the admin.
    role = Role.objects.get(code=R.SUPERVISOR)
    response = c.post(
        "/admin/org/membership/add/",
        {"user": world.bob.pk, "unit": world.sibling.pk, "role": role.pk},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.bob, role=role).exists()


def test_auditor_can_do_nothing_else_in_the_admin(world, admins):
    c = _as(admins["aud"])
    for path in [
        "/admin/auth/user/",
        "/admin/org/unit/",
        "/admin/org/membership/",
        "/admin/org/role/",
        "/admin/org/apitoken/",
        "/admin/cases/category/",
        "/admin/core/calendarday/",
        "/admin/axes/accessattempt/",
    ]:
        assert c.get(path).status_code == 403, path
    perms = admins["aud"].get_all_permissions()
    assert perms == {"audit.view_auditentry"}


@pytest.mark.parametrize("who", ["alice", "leo", "hank"])
def test_case_staff_have_no_admin(world, who):
    user = getattr(world, who)
    user.is_staff = True  # the flag alone opens nothing
    user.save()
    c = _as(user)
    response = c.get("/admin/", follow=True)
    assert response.status_code == 403


def test_superuser_without_roles_gets_nothing_in_production(world, settings):
    settings.ACCOUNTS_SUPERUSER_SHORTCUT = False
    root = User.objects.create_superuser("root", password="Xf-Root-pass-9")
    from xinfang.accounts.backends import RolePermissionBackend

    assert RolePermissionBackend().get_all_permissions(root) == set()
    c = _as(root)
    assert c.get("/admin/", follow=True).status_code == 403
    assert c.get("/admin/auth/user/", follow=True).status_code == 403


def test_superuser_with_sysadmin_role_is_only_a_sysadmin_in_production(world, settings):
    settings.ACCOUNTS_SUPERUSER_SHORTCUT = False
    root = User.objects.create_superuser("root", password="Xf-Root-pass-9")
    Membership.objects.create(
        user=root, unit=world.district, role=Role.objects.get(code=R.SYSADMIN)
    )
    c = _as(root)
    assert c.get("/admin/auth/user/").status_code == 200
    assert c.get("/admin/org/membership/add/").status_code == 403
    page = c.get(f"/admin/auth/user/{root.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    root.refresh_from_db()
    assert root.is_superuser  # nothing was written, the flag is just ignored


def test_superuser_shortcut_only_in_debug(world, settings):
    settings.ACCOUNTS_SUPERUSER_SHORTCUT = True
    root = User.objects.create_superuser("root", password="Xf-Root-pass-9")
    c = _as(root)
    assert c.get("/admin/org/membership/add/").status_code == 200


def test_role_backend_ignores_groups_and_direct_grants(world):
    from django.contrib.auth.models import Permission

    bob = world.bob
    bob.user_permissions.add(Permission.objects.get(codename="change_user"))
    bob = User.objects.get(pk=bob.pk)
    assert not bob.has_perm("auth.change_user")
    sec = make_user("sec2", world.district, R.SECADMIN)
    assert sec.has_perm("org.add_membership") and not sec.has_perm("auth.change_user")
