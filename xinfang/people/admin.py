"""People are personal data: no admin list of petitioners (masked views and audited reveals
live in the app). 重点人员 flags have a minimal admin (ids and dates only, no names; the
person is picked by id), for corrections; the desk sees the flag on the lookup card."""

from django.contrib import admin

from xinfang.people.models import KeyPerson


@admin.register(KeyPerson)
class KeyPersonAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "petitioner_id", "since", "created_at", "removed_at")
    list_filter = ("removed_at",)
    raw_id_fields = ("petitioner", "added_by", "removed_by")
    readonly_fields = ("created_at",)
