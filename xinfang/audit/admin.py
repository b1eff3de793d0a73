"""The audit log in the Django admin: strictly read-only, and only for those holding
``audit.view_auditentry`` (审计员, through accounts.policy). Nobody may add, change or delete
an entry here — the database triggers would refuse it anyway."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from xinfang.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "at", "actor_name", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "actor_name", "object_id"]
    date_hierarchy = "at"
    ordering = ["-seq"]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
