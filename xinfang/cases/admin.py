"""Admin for reference data only. Cases are not edited here: every change is a service call
with its event (and system administrators may not read cases at all)."""

from django.contrib import admin

from xinfang.cases.models import Category, DeadlineRule


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "days", "working_days", "roll_to_workday", "warn_days", "basis"]
    list_editable = ["days", "working_days", "roll_to_workday", "warn_days"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "full_name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["full_name", "level"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.level = obj.parent.level + 1 if obj.parent else 1
        obj.full_name = f"{obj.parent.full_name}/{obj.name}" if obj.parent else obj.name
        super().save_model(request, obj, form, change)
