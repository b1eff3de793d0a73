from django.contrib import admin

from xinfang.reception.models import CaseOwnership, DutyRoster, ReceptionDay


@admin.register(DutyRoster)
class DutyRosterAdmin(admin.ModelAdmin):
    list_display = ("day", "office", "leader", "note")
    list_filter = ("office",)
    date_hierarchy = "day"
    raw_id_fields = ("leader", "office")


@admin.register(ReceptionDay)
class ReceptionDayAdmin(admin.ModelAdmin):
    list_display = ("date", "office", "leader", "place", "capacity", "state")
    list_filter = ("state", "office")
    date_hierarchy = "date"
    raw_id_fields = ("leader", "office", "created_by")


@admin.register(CaseOwnership)
class CaseOwnershipAdmin(admin.ModelAdmin):
    list_display = ("case", "leader", "since", "ended_at")
    raw_id_fields = ("case", "leader", "assigned_by", "ended_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # through case_assign_owner (event + notification)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
