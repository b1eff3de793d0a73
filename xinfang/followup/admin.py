from django.contrib import admin

from xinfang.followup.models import HearingMember


@admin.register(HearingMember)
class HearingMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "affiliation", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "affiliation"]
