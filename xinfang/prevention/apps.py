from django.apps import AppConfig


class PreventionConfig(AppConfig):
    name = "xinfang.prevention"
    verbose_name = "预防排查"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.prevention import receivers  # noqa: F401  (signal receivers)
