from django.contrib import admin

from xinfang.directory.models import Organ


@admin.register(Organ)
class OrganAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "phone", "legal_route", "is_active", "sort"]
    list_filter = ["kind", "legal_route", "is_active"]
    search_fields = ["name", "address", "notes"]
    autocomplete_fields = ["unit"]
    filter_horizontal = ["categories"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "unit", "is_active", "sort"]}),
        ("管辖范围", {"fields": ["categories", "place_codes"]}),
        ("联系方式", {"fields": ["address", "phone", "hours", "website", "notes"]}),
        ("涉法涉诉", {"fields": ["legal_route", "remedy"]}),
    ]
