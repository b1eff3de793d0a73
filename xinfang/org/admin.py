from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from xinfang.org.models import ApiToken, Membership, Role, Unit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "unit_type",
        "parent",
        "division_code",
        "is_petition_office",
        "is_active",
    ]
    list_filter = ["unit_type", "is_petition_office", "is_active"]
    search_fields = ["name", "short_name", "division_code"]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "description"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "unit__name"]
    autocomplete_fields = ["user", "unit"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]


class GuardedUserAdmin(UserAdmin):
    """系统管理员 manages accounts but cannot make anyone (itself included) a superuser or hand
    out permissions: those fields are read-only unless the editor is already a superuser (none
    exist in production — separation of duties)."""

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields


admin.site.unregister(User)
admin.site.register(User, GuardedUserAdmin)
