"""Authentication with Django's password check; permissions from role memberships only."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from xinfang.accounts.policy import role_permissions, superuser_shortcut, user_roles


class RolePermissionBackend(ModelBackend):
    """``ModelBackend`` for username/password, but ``has_perm`` answers from
    ``policy.ROLE_PERMISSIONS`` over the user's posts. Groups and per-user grants count for
    nothing; a superuser gets every permission only when ``ACCOUNTS_SUPERUSER_SHORTCUT`` is on
    (debug mode)."""

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached = getattr(user_obj, "_xf_role_perms", None)
        if cached is None:
            if superuser_shortcut() and user_obj.is_superuser:
                cached = {
                    f"{app}.{codename}"
                    for app, codename in Permission.objects.values_list(
                        "content_type__app_label", "codename"
                    )
                }
            else:
                cached = role_permissions(user_roles(user_obj))
            user_obj._xf_role_perms = cached
        return set(cached)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return user_obj.is_active and any(
            p.startswith(app_label + ".") for p in self.get_all_permissions(user_obj)
        )
