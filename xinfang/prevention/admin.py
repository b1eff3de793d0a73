"""Admin: the rules are data (排查周期, 预警规则). The register, reports, informants, key groups
and alerts are worked on the 预防排查 pages, never in the admin (their services keep the
timeline and the audit trail)."""

from django.contrib import admin

from xinfang.prevention.models import ScreeningRule, WarningRule


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "cadence",
        "unit_types",
        "petition_office_only",
        "priority",
        "due_workdays",
        "is_active",
    )
    list_editable = ("is_active",)


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "severity", "is_active")
    readonly_fields = ("code",)
