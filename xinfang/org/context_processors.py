"""What the top bar offers: links by the roles the user holds (the views check again)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinfang.org import roles as R
from xinfang.org.policy import role_codes

ADMIN_ROLES = frozenset({R.SYSADMIN, R.SECADMIN, R.AUDITOR})


def may_manage_models(user: Any) -> bool:
    from xinfang.intel.registry import may_manage_models as rule  # intel imports org: lazy

    return rule(user)


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    held = role_codes(user)
    return {
        "nav": {
            "cases": bool(held & R.CASE_READERS),
            "register": bool(held & R.OFFICE_STAFF),
            "admin": bool(held & ADMIN_ROLES),
            "audit": R.AUDITOR in held,
            # 热点发现: office staff, leaders, supervisors (intel.hotspots.may_view_hotspots).
            "hotspots": bool(held & (R.OFFICE_STAFF | {R.LEADER, R.SUPERVISOR})),
            # 分类模型: registry.may_manage_models (one query only for heads/leaders).
            "models": bool(held & {R.SYSADMIN, R.UNIT_HEAD, R.LEADER}) and may_manage_models(user),
        }
    }
