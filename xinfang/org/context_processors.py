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


def _second_factor_done(request: HttpRequest, user: Any) -> bool:
    from xinfang.accounts import sessions as S
    from xinfang.accounts.policy import otp_required

    if user.is_verified():
        return True
    return not (request.session.get(S.HAS_OTP) or otp_required(user))


def nav(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    held = role_codes(user)
    return {
        "nav": {
            "cases": bool(held & R.CASE_READERS),
            "register": bool(held & R.OFFICE_STAFF),
            # 接待台 (today's desk, lookup) and 领导接待日 (xinfang.reception).
            "reception": bool(held & R.OFFICE_STAFF),
            "leader_days": bool(held & (R.OFFICE_STAFF | {R.LEADER})),
            "admin": bool(held & ADMIN_ROLES),
            "audit": R.AUDITOR in held,
            # 热点发现: office staff, leaders, supervisors (intel.hotspots.may_view_hotspots).
            "hotspots": bool(held & (R.OFFICE_STAFF | {R.LEADER, R.SUPERVISOR})),
            # 回访 and the 不满意 review tasks are the petition office's work (leaders and
            # supervisors follow them); units answer from their own workbench.
            "followup": bool(held & (R.OFFICE_STAFF | {R.LEADER, R.SUPERVISOR})),
            # 预防排查 (xinfang.prevention): every case reader; 信息员 get their phone page.
            "prevention": bool(held & R.CASE_READERS),
            "informant": R.INFORMANT in held,
            # 统计考核 (xinfang.stats.policy.STAT_READERS)
            "stats": bool(held & {R.LEADER, R.CASE_OFFICER, R.SUPERVISOR, R.UNIT_HEAD}),
            # 分类模型: registry.may_manage_models (one query only for heads/leaders).
            "models": bool(held & {R.SYSADMIN, R.UNIT_HEAD, R.LEADER}) and may_manage_models(user),
            # 消息 (its badge loads by HTMX): not while the two-factor step is pending — the
            # middleware would answer the badge with HX-Redirect and reload the setup page.
            "inbox": _second_factor_done(request, user),
        }
    }
