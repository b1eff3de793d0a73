"""Writing the audit log: ``audit_record`` in the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from xinfang.audit.chain import GENESIS, entry_hash
from xinfang.audit.context import current_request
from xinfang.audit.models import AuditEntry, AuditHead

# Actions, as stored in ``AuditEntry.action``; labels for the viewer.
ACTIONS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "logout_all": "退出全部会话",
    "lockout": "账号锁定",
    "unlock": "解除锁定",
    "otp_setup": "绑定双因素认证",
    "otp_failed": "双因素验证失败",
    "otp_recovery": "使用恢复码",
    "password_change": "修改密码",
    "reveal": "查看完整信息",
    "export": "导出",
    "assessment_change": "变更考核方案/一票否决",
    "case_event": "事项动态",
    "admin_add": "后台新增",
    "admin_change": "后台修改",
    "admin_delete": "后台删除",
    "role_grant": "授予角色",
    "role_change": "变更岗位",
    "role_revoke": "撤销角色",
    "download": "下载附件",
    "document_print": "打印公文",
    "document_download": "下载公文",
    "backup": "备份",
    "restore": "恢复",
    "key_rotate": "密钥轮换",
    "model_retrain_requested": "申请训练分类模型",
    "model_retrain_finished": "分类模型训练结束",
    "model_activate": "切换分类模型版本",
    "keyperson_view": "查看重点人员/群体",
    "keyperson_change": "变更重点人员/群体",
}


def client_ip(request: HttpRequest | None) -> str:
    """The caller's address: the request's, else the one being served (signal receivers)."""
    request = request if request is not None else current_request()
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    ip: str = "",
) -> AuditEntry:
    """Append one row to the chain, inside the caller's transaction.

    The head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE
    transactions already serialise writers), so concurrent writers get consecutive ``seq``.
    If the caller's transaction rolls back, the audit row goes with it: the log records what
    happened, never what did not.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or obj.pk
    user_id = getattr(actor, "pk", None) if actor is not None else None
    actor_name = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_name = actor.get_full_name() or actor.get_username()
    elif isinstance(actor, str):
        actor_name = actor
    # No savepoint of its own: if the row cannot be written, the caller's whole transaction
    # must fail (a change never commits without its audit row); outside one, it is one.
    with transaction.atomic(savepoint=False):
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = AuditHead.objects.create(pk=1, seq=0, hash=GENESIS)
            head = AuditHead.objects.select_for_update().get(pk=1)
        now = timezone.now()
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "at": now,
            "actor_id": user_id,
            "actor_name": actor_name[:150],
            "action": action,
            "object_type": str(object_type)[:40],
            "object_id": str(object_id)[:64],
            "summary": summary[:300],
            "detail": detail or {},
            "ip": (ip or client_ip(request))[:45],
            "prev_hash": head.hash,
        }
        entry = AuditEntry(**fields, hash=entry_hash(**fields))
        entry.save(force_insert=True)
        AuditHead.objects.filter(pk=1).update(seq=entry.seq, hash=entry.hash, updated_at=now)
        return entry
