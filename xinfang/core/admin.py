"""Admin for the editable working calendar (see xinfang.core.models for why it exists)."""

from __future__ import annotations

from django.contrib import admin

from xinfang.core.models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Single-day overrides; the list is browsed by month when entering a year's arrangement."""

    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)
    ordering = ("date",)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """Years whose full arrangement has been entered, so their deadlines are not provisional."""

    list_display = ("year", "note")
    ordering = ("year",)


_original_index = admin.site.index


def _index_with_calendar_warning(request, extra_context=None):  # type: ignore[no-untyped-def]
    """The admin dashboard warns when a year has no holiday data (deadlines fall back)."""
    from django.contrib import messages

    from xinfang.core.workcalendar import calendar_warning

    warning = calendar_warning()
    if warning:
        messages.warning(request, warning)
    return _original_index(request, extra_context)


admin.site.index = _index_with_calendar_warning  # type: ignore[method-assign]
