"""Receivers that write the audit row in the same transaction as the change they record.

- every ``CaseEvent`` (registration, each lifecycle step, note, attachment, merge) →
  ``case_event``: the case number, the event kind and the states only — never the petition's
  content or anyone's personal data (审计员 read the log and must not read cases);
- Django admin's ``LogEntry`` → ``admin_add`` / ``admin_change`` / ``admin_delete`` with the
  object's repr and the change message (the admin writes its log inside the transaction of the
  change; bulk deletions, which ``bulk_create`` their log rows without signals, are caught by
  the wrapper ``install_admin_bulk_hook`` puts around ``LogEntryManager.log_actions``);
- ``Membership`` saves and deletes → ``role_grant`` / ``role_change`` / ``role_revoke``.

Raw saves (``loaddata``, fixtures, a restore) are not recorded: they replay rows, they are no
new change.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry, LogEntryManager
from django.contrib.auth import get_user_model

from xinfang.audit.context import current_user
from xinfang.audit.services import audit_record

ADMIN_ACTIONS = {ADDITION: "admin_add", CHANGE: "admin_change", DELETION: "admin_delete"}

# Models whose repr may carry personal data or petition content: the admin row keeps the type
# and id, not the repr.
SENSITIVE_APPS = frozenset({"people"})
SENSITIVE_MODELS = frozenset(
    {"cases.case", "cases.casepetitioner", "cases.caseevent", "cases.attachment"}
)
HIDDEN = "（含个人信息，已隐去）"


# --- case timeline ---------------------------------------------------------------------------


def case_event_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    if not created or raw:
        return
    from xinfang.cases.transitions import EVENT_LABELS

    label = EVENT_LABELS.get(instance.kind, instance.kind)
    number = instance.case.number
    audit_record(
        action="case_event",
        actor=instance.actor if instance.actor_id else current_user(),
        object_type="case",
        object_id=instance.case_id,
        summary=f"{number} {label}",
        detail={
            "event_id": instance.pk,
            "case_number": number,
            "kind": instance.kind,
            "from": instance.from_status,
            "to": instance.to_status,
            "actor_unit_id": instance.actor_unit_id,
        },
    )


# --- Django admin ----------------------------------------------------------------------------


def record_admin_entry(entry: LogEntry) -> None:
    action = ADMIN_ACTIONS.get(entry.action_flag)
    if action is None:
        return
    ct = entry.content_type
    object_type = f"{ct.app_label}.{ct.model}" if ct is not None else ""
    sensitive = ct is not None and (
        ct.app_label in SENSITIVE_APPS or object_type in SENSITIVE_MODELS
    )
    model = ct.model_class() if ct is not None else None
    type_label = str(model._meta.verbose_name) if model is not None else object_type
    shown = HIDDEN if sensitive else entry.object_repr
    message = "" if sensitive else str(entry.get_change_message())
    summary = f"{type_label}「{shown}」" + (f"：{message}" if message else "")
    audit_record(
        action=action,
        actor=entry.user,
        object_type=object_type,
        object_id=entry.object_id or "",
        summary=summary,
        detail={
            "log_entry_id": entry.pk,
            "content_type": object_type,
            "object_repr": shown,
            "change_message": message,
        },
    )


def admin_logged(
    sender: Any, instance: LogEntry, created: bool, raw: bool = False, **kw: Any
) -> None:
    if created and not raw:
        record_admin_entry(instance)


def install_admin_bulk_hook() -> None:
    """``log_actions`` saves one log row (post_save fires) but ``bulk_create``s several (no
    signal): record those here, still inside the admin's transaction."""
    original = LogEntryManager.log_actions
    if getattr(original, "_xf_audited", False):
        return

    def log_actions(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if isinstance(result, list) and len(result) > 1:
            for entry in result:
                record_admin_entry(entry)
        return result

    log_actions._xf_audited = True  # type: ignore[attr-defined]
    LogEntryManager.log_actions = log_actions  # type: ignore[method-assign]


# --- role grants -----------------------------------------------------------------------------


def _username(user_id: int) -> str:
    user = get_user_model().objects.filter(pk=user_id).first()
    return user.get_username() if user is not None else f"#{user_id}"


def _post(instance: Any) -> dict[str, Any]:
    from xinfang.org.models import Role, Unit

    unit = Unit.objects.filter(pk=instance.unit_id).only("name").first()
    role = Role.objects.filter(pk=instance.role_id).only("code", "name").first()
    return {
        "user_id": instance.user_id,
        "username": _username(instance.user_id),
        "unit_id": instance.unit_id,
        "unit": unit.name if unit else "",
        "role": role.code if role else "",
        "role_name": role.name if role else "",
    }


def membership_pre_save(sender: Any, instance: Any, raw: bool = False, **kw: Any) -> None:
    instance._xf_audit_before = None
    if raw or instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).first()
    if before is not None:
        instance._xf_audit_before = _post(before)


def _describe(post: dict[str, Any]) -> str:
    return f"{post['username']} 在「{post['unit']}」的「{post['role_name']}」角色"


def membership_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw:
        return
    after = _post(instance)
    before = getattr(instance, "_xf_audit_before", None)
    text = _describe(after)
    if created or before is None:
        audit_record(
            action="role_grant",
            actor=current_user(),
            obj=instance,
            object_type="membership",
            summary=f"授予 {text}",
            detail=after,
        )
    elif before != after:
        audit_record(
            action="role_change",
            actor=current_user(),
            obj=instance,
            object_type="membership",
            summary=f"岗位由 {_describe(before)} 改为 {text}",
            detail={"before": before, "after": after},
        )


def membership_deleted(sender: Any, instance: Any, **kw: Any) -> None:
    post = _post(instance)
    audit_record(
        action="role_revoke",
        actor=current_user(),
        obj=instance,
        object_type="membership",
        summary=f"撤销 {_describe(post)}",
        detail=post,
    )


def connect() -> None:
    from django.db.models.signals import post_delete, post_save, pre_save

    from xinfang.cases.models import CaseEvent
    from xinfang.org.models import Membership

    post_save.connect(case_event_saved, sender=CaseEvent, dispatch_uid="audit_case_event")
    post_save.connect(admin_logged, sender=LogEntry, dispatch_uid="audit_admin_log")
    pre_save.connect(membership_pre_save, sender=Membership, dispatch_uid="audit_membership_pre")
    post_save.connect(membership_saved, sender=Membership, dispatch_uid="audit_membership")
    post_delete.connect(membership_deleted, sender=Membership, dispatch_uid="audit_membership_del")
    install_admin_bulk_hook()
