"""Admin for the escalation rules (reference data). Steps and runs are read-only records."""

from django.contrib import admin

from xinfang.supervision.models import EscalationRule, SweepRun


@admin.register(EscalationRule)
class EscalationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "stage",
        "kinds",
        "offset_days",
        "working_days",
        "recipients",
        "issues_document",
        "email",
        "active",
        "order",
    ]
    list_editable = ["offset_days", "working_days", "issues_document", "email", "active"]
    list_filter = ["stage", "active"]


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "state", "today", "started_at", "finished_at", "examined", "created"]
    readonly_fields = [f.name for f in SweepRun._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
