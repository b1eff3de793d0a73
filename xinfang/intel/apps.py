from django.apps import AppConfig


class IntelConfig(AppConfig):
    name = "xinfang.intel"
    verbose_name = "智能辅助"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.intel import receivers

        receivers.connect()
