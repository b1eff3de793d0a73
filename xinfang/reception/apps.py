from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "xinfang.reception"
    verbose_name = "接待台与领导接待"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.reception import receivers  # noqa: F401  (connects the signal receivers)
