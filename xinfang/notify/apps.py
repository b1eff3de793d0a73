from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "xinfang.notify"
    verbose_name = "消息通知"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.notify import receivers

        receivers.connect()
