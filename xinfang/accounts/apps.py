from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xinfang.accounts"
    label = "accounts"
    verbose_name = "账号与会话"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.accounts import signals

        signals.connect()
