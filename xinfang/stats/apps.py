from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "xinfang.stats"
    verbose_name = "统计考核"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.stats import receivers  # noqa: F401  (rollups follow the case events)
